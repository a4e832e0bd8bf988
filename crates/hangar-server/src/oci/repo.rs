//! Finding the repository a request is about, after its permission check.

use super::auth::{Need, RegistryCaller};
use super::error::{OciResult, RegistryCode, registry};
use crate::cache::Located;
use crate::state::AppState;
use hangar_store::blob::Digest;
use hangar_store::meta::Repository;

/// An existing repository the caller may use for `need`.
pub async fn existing(state: &AppState, rc: &RegistryCaller, name: &str, need: Need) -> OciResult<Repository> {
    rc.require(state, name, need)
        .await?
        .repo
        .ok_or_else(|| registry(RegistryCode::NameUnknown, format!("repository '{name}' is not known")))
}

/// The repository to push into, created on first push.
pub async fn for_push(state: &AppState, rc: &RegistryCaller, name: &str, need: Need) -> OciResult<Repository> {
    let located = rc.require(state, name, need).await?;
    ensure(state, name, located).await
}

/// The repository `located` stands for, created when it does not exist yet.
pub async fn ensure(state: &AppState, name: &str, located: Located) -> OciResult<Repository> {
    if let Some(repo) = located.repo {
        return Ok(repo);
    }
    let org = state.meta.require_org(&located.org).await?;
    let team_id = match located.team {
        Some(team) => Some(state.meta.require_team(&org, &team).await?.id),
        None => None,
    };
    Ok(state.meta.ensure_repository(org.id, team_id, name).await?)
}

/// Links a blob stored by this request into the repository. The link claims the blob from
/// garbage collection; a pass that finished deleting it between the store and the claim left no
/// trace to claim, so the link is made only if the blob is still there after the claim.
pub async fn link_stored(state: &AppState, repo: &Repository, d: &Digest, size: u64) -> OciResult<()> {
    let still_stored = async { Ok(state.blobs.stat(d).await?.is_some()) };
    state
        .meta
        .link_blob(repo.id, d.as_str(), size as i64, still_stored)
        .await?;
    Ok(())
}

pub fn digest(text: &str) -> OciResult<Digest> {
    text.parse()
        .map_err(|_| registry(RegistryCode::DigestInvalid, format!("invalid digest '{text}'")))
}
