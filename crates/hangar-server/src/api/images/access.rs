//! Which repository a catalog request is about, and whether the caller may do it: through the
//! one policy, plus read access for everyone to public repositories.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use hangar_core::names::validate_repository;
use hangar_core::policy::{Action, ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::{Org, Repository, Team};
use serde::Deserialize;

/// `{org}[/team/{team}]` of a request path.
#[derive(Debug, Deserialize)]
pub struct SpacePath {
    pub org: String,
    pub team: Option<String>,
}

/// `{org}[/team/{team}]/repos/{repo}[/…/{tag}]` of a request path.
#[derive(Debug, Deserialize)]
pub struct RepoPath {
    pub org: String,
    pub team: Option<String>,
    pub repo: String,
    pub tag: Option<String>,
}

/// An org, or a team in it: where repositories live.
pub struct Space {
    pub org: Org,
    pub team: Option<Team>,
}

impl Space {
    pub async fn find(state: &AppState, org: &str, team: Option<&str>) -> ApiResult<Space> {
        let org = state.meta.require_org(org).await?;
        let team = match team {
            Some(name) => Some(state.meta.require_team(&org, name).await?),
            None => None,
        };
        Ok(Space { org, team })
    }

    pub fn team_name(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.name.as_str())
    }

    /// `org[/team]`.
    pub fn namespace(&self) -> String {
        match self.team_name() {
            Some(team) => format!("{}/{team}", self.org.name),
            None => self.org.name.clone(),
        }
    }

    pub fn full_name(&self, repo: &str) -> String {
        format!("{}/{repo}", self.namespace())
    }

    pub fn allows(&self, caller: &Caller, op: ArtifactOp, full_name: Option<&str>) -> bool {
        let target = Target {
            org: &self.org.name,
            team: self.team_name(),
            entity: full_name,
        };
        caller.allowed(Action::Artifact(ArtifactKind::Container, op), &target)
    }
}

/// Whether the caller may do `op` to the repository: by the policy, or as a read of a public one.
pub fn may(space: &Space, caller: &Caller, op: ArtifactOp, repo: &Repository) -> bool {
    space.allows(caller, op, Some(&repo.name)) || (op.reads() && repo.info.is_public)
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
        return Err(ApiError::Unauthorized(
            "authentication required: send an API key or a token".into(),
        ));
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
