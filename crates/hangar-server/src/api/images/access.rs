//! Which repository a catalog request is about, and whether the caller may do it: through the
//! one policy, plus read access for everyone to public repositories.

use crate::api::space::Space;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use hangar_core::names::validate_repository;
use hangar_core::policy::{ArtifactKind, ArtifactOp};
use hangar_store::meta::Repository;
use serde::Deserialize;

/// `{org}[/team/{team}]/repos/{repo}[/…/{tag}]` of a request path.
#[derive(Debug, Deserialize)]
pub struct RepoPath {
    pub org: String,
    pub team: Option<String>,
    pub repo: String,
    pub tag: Option<String>,
}

/// Whether the caller may do `op` to the repository: by the policy, or as a read of a public one.
pub fn may(space: &Space, caller: &Caller, op: ArtifactOp, repo: &Repository) -> bool {
    space.allows(caller, ArtifactKind::Container, op, Some(&repo.name)) || (op.reads() && repo.info.is_public)
}

/// The repository of `path`, if the caller may do `op` to it. A repository the caller may not
/// even see is "not found", as one that does not exist.
pub async fn repository(
    state: &AppState,
    caller: &Caller,
    path: &RepoPath,
    op: ArtifactOp,
) -> ApiResult<(Space, Repository)> {
    let space = Space::find(state, &path.org, path.team.as_deref()).await?;
    let name = space.full_name(&path.repo);
    validate_repository(&name)?;
    let not_found = || ApiError::NotFound(format!("repository '{name}' not found"));
    let repo = state.meta.repository(&name).await?.ok_or_else(not_found)?;
    if may(&space, caller, op, &repo) {
        return Ok((space, repo));
    }
    if caller.is_guest() {
        return Err(ApiError::unauthenticated());
    }
    if !may(&space, caller, ArtifactOp::List, &repo) {
        return Err(not_found());
    }
    Err(ApiError::Forbidden(format!(
        "you may not {} repository '{name}'",
        verb(op)
    )))
}

fn verb(op: ArtifactOp) -> &'static str {
    match op {
        ArtifactOp::Get | ArtifactOp::List => "see",
        ArtifactOp::Download => "pull from",
        ArtifactOp::Create => "create",
        ArtifactOp::Update => "update",
        ArtifactOp::Upload => "push to",
        ArtifactOp::Delete => "delete",
    }
}
