//! Finding models, resources and charts and their versions for a caller, through the one
//! verdict: one the caller may not even see is "not found", as one that does not exist.

use super::access::{guarded, noun};
use super::error::{DomainError, DomainResult};
use super::reveal::reveal;
use super::space::Space;
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::names::{validate_artifact_name, validate_version};
use hangar_core::policy::{ArtifactOp, Target, may_remove};
use hangar_store::meta::{Artifact, ArtifactType, ArtifactVersion};
use serde::Deserialize;

/// `{org}[/team/{team}]/{kind}/{name}[/versions/{version}]` of a request path.
#[derive(Debug, Deserialize)]
pub struct EntityPath {
    pub org: String,
    pub team: Option<String>,
    pub name: String,
    pub version: Option<String>,
}

/// An entity and where it lives.
pub struct Found {
    pub space: Space,
    pub artifact: Artifact,
}

impl Found {
    pub fn target(&self) -> Target<'_> {
        Target {
            org: &self.space.org.name,
            team: self.space.team_name(),
            entity: Some(&self.artifact.path),
        }
    }
}

/// The entity of `path`, if the caller may do `op` to it.
pub async fn find(
    state: &AppState,
    kind: ArtifactType,
    caller: &Caller,
    path: &EntityPath,
    op: ArtifactOp,
) -> DomainResult<Found> {
    let space = Space::find(state, &path.org, path.team.as_deref()).await?;
    validate_artifact_name(&path.name)?;
    let full = space.full_name(&path.name);
    let noun = noun(kind);
    let missing = || format!("{noun} '{full}' could not be found");
    let artifact = state
        .meta
        .artifact(kind, &full)
        .await?
        .ok_or_else(|| DomainError::NotFound(missing()))?;
    let verb = match op {
        ArtifactOp::Get | ArtifactOp::List => "see",
        ArtifactOp::Download => "download",
        ArtifactOp::Upload => "upload to",
        ArtifactOp::Create | ArtifactOp::Update | ArtifactOp::Delete => "change",
    };
    reveal(caller, &guarded(state, caller, &artifact).await?, op)
        .or_refuse(missing, || format!("you may not {verb} {noun} '{full}'"))?;
    Ok(Found { space, artifact })
}

/// The version `path` names of a found entity.
pub async fn find_version(state: &AppState, found: &Found, path: &EntityPath) -> DomainResult<ArtifactVersion> {
    let version = path.version.as_deref().unwrap_or_default();
    validate_version(version)?;
    state.meta.version(found.artifact.id, version).await?.ok_or_else(|| {
        DomainError::NotFound(format!(
            "{} '{}:{version}' could not be found",
            noun(found.artifact.kind),
            found.artifact.path
        ))
    })
}

/// The entity's latest version, if it has one.
pub async fn latest_of(state: &AppState, a: &Artifact) -> DomainResult<Option<ArtifactVersion>> {
    match &a.latest_version {
        Some(v) => Ok(state.meta.version(a.id, v).await?),
        None => Ok(None),
    }
}

/// Removal: registry admins and org owners, or `creators` (of the entity, of the version).
pub fn require_remove(caller: &Caller, found: &Found, creators: &[Option<i64>]) -> DomainResult<()> {
    let me = caller.user.as_ref().map(|u| u.id);
    let creator = me.is_some() && creators.contains(&me);
    let kind = super::access::policy_kind(found.artifact.kind);
    if may_remove(&caller.subject, kind, &found.target(), creator) {
        return Ok(());
    }
    if caller.is_guest() {
        return Err(DomainError::Unauthenticated);
    }
    Err(DomainError::Forbidden(format!(
        "only registry admins, org owners and its creator may remove {} '{}'",
        noun(found.artifact.kind),
        found.artifact.path
    )))
}

/// Removes a version if the caller may.
pub async fn remove_version_of(
    state: &AppState,
    caller: &Caller,
    found: &Found,
    version: &ArtifactVersion,
) -> DomainResult<()> {
    require_remove(caller, found, &[found.artifact.created_by, version.created_by])?;
    state.meta.delete_version(&found.artifact, version).await?;
    Ok(())
}
