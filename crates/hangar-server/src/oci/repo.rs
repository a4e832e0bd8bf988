//! Finding the repository a request is about, after its permission check.

use super::auth::{Need, RegistryCaller};
use crate::error::{ApiResult, RegistryCode, registry};
use crate::state::AppState;
use hangar_store::blob::Digest;
use hangar_store::meta::Repository;

/// An existing repository the caller may use for `need`.
pub async fn existing(state: &AppState, rc: &RegistryCaller, name: &str, need: Need) -> ApiResult<Repository> {
    rc.require(state, name, need).await?;
    state
        .meta
        .repository(name)
        .await?
        .ok_or_else(|| registry(RegistryCode::NameUnknown, format!("repository '{name}' is not known")))
}

/// The repository to push into, created on first push.
pub async fn for_push(state: &AppState, rc: &RegistryCaller, name: &str, need: Need) -> ApiResult<Repository> {
    let (org, team) = rc.require(state, name, need).await?;
    let org = state.meta.require_org(&org).await?;
    let team_id = match team {
        Some(team) => Some(state.meta.require_team(&org, &team).await?.id),
        None => None,
    };
    Ok(state.meta.ensure_repository(org.id, team_id, name).await?)
}

pub fn digest(text: &str) -> ApiResult<Digest> {
    text.parse()
        .map_err(|_| registry(RegistryCode::DigestInvalid, format!("invalid digest '{text}'")))
}
