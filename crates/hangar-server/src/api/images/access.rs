//! Which repository a catalog request is about, and whether the caller may do it: through the
//! one policy, plus read access for everyone to public repositories.

use crate::auth::Caller;
use crate::catalog::repositories::repository_key;
use crate::catalog::reveal::{Guarded, reveal};
use crate::catalog::space::Space;
use crate::catalog::standing::standing;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use hangar_core::names::validate_repository;
use hangar_core::policy::{ArtifactKind, ArtifactOp, Target};
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

/// What the verdict is about for a repository of `space`.
pub async fn guarded<'a>(
    state: &AppState,
    caller: &Caller,
    space: &'a Space,
    repo: &'a Repository,
) -> ApiResult<Guarded<'a>> {
    Ok(Guarded {
        kind: ArtifactKind::Container,
        target: Target {
            org: &space.org.name,
            team: space.team_name(),
            entity: Some(&repo.name),
        },
        access: repo.info.access,
        standing: standing(state, caller, repository_key(repo), repo.info.access).await?,
    })
}

/// Whether the caller may do `op` to the repository.
pub async fn may(
    state: &AppState,
    space: &Space,
    caller: &Caller,
    op: ArtifactOp,
    repo: &Repository,
) -> ApiResult<bool> {
    Ok(crate::catalog::reveal::may(
        caller,
        &guarded(state, caller, space, repo).await?,
        op,
    ))
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
    let missing = || format!("repository '{name}' not found");
    let repo = state
        .meta
        .repository(&name)
        .await?
        .ok_or_else(|| ApiError::NotFound(missing()))?;
    reveal(caller, &guarded(state, caller, &space, &repo).await?, op)
        .or_refuse(missing, || format!("you may not {} repository '{name}'", verb(op)))?;
    Ok((space, repo))
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
