//! Which repository a catalog request or page is about, and whether the caller may do it:
//! through the one policy, plus read access for everyone to public repositories. Also the
//! metadata a repository's publisher sets, checked.

use super::error::{DomainError, DomainResult};
use super::limits;
use super::repositories::repository_key;
use super::reveal::{Guarded, reveal};
use super::space::Space;
use super::standing::standing;
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::names::{validate_repository, validate_text};
use hangar_core::policy::{ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::{Repository, RepositoryInfo};
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
) -> DomainResult<Guarded<'a>> {
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
) -> DomainResult<bool> {
    Ok(super::reveal::may(
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
) -> DomainResult<(Space, Repository)> {
    let space = Space::find(state, &path.org, path.team.as_deref()).await?;
    let name = space.full_name(&path.repo);
    validate_repository(&name)?;
    let missing = || format!("repository '{name}' not found");
    let repo = state
        .meta
        .repository(&name)
        .await?
        .ok_or_else(|| DomainError::NotFound(missing()))?;
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

/// The metadata a publisher sets on a repository (each only when given); access and products
/// are the offer's (`catalog::offer`).
#[derive(Debug, Default)]
pub struct RepoChange {
    pub display_name: Option<String>,
    pub short_description: Option<String>,
    pub description: Option<String>,
    pub labels: Option<Vec<String>>,
    pub logo: Option<String>,
    pub publisher: Option<String>,
    pub built_by: Option<String>,
    pub is_multinode: Option<bool>,
}

impl RepoChange {
    /// Checks the fields and writes those given into `info`.
    pub fn apply(self, info: &mut RepositoryInfo) -> DomainResult<()> {
        let text = |what: &'static str, value: Option<String>, max: usize, into: &mut String| -> DomainResult<()> {
            if let Some(value) = value {
                validate_text(what, &value, max)?;
                *into = value;
            }
            Ok(())
        };
        text(
            "display name",
            self.display_name,
            limits::DISPLAY_NAME,
            &mut info.display_name,
        )?;
        text(
            "short description",
            self.short_description,
            limits::SHORT_DESCRIPTION,
            &mut info.short_description,
        )?;
        text("overview", self.description, limits::DOCUMENT, &mut info.description)?;
        text("logo", self.logo, limits::URL, &mut info.logo)?;
        text("publisher", self.publisher, limits::SHORT_TEXT, &mut info.publisher)?;
        text("built-by", self.built_by, limits::SHORT_TEXT, &mut info.built_by)?;
        if let Some(labels) = self.labels {
            if labels.len() > limits::LABELS {
                return Err(DomainError::Invalid(format!("at most {} labels", limits::LABELS)));
            }
            for label in &labels {
                validate_text("label", label, limits::LABEL)?;
                if label.trim().is_empty() {
                    return Err(DomainError::Invalid("a label must not be empty".into()));
                }
            }
            info.labels = labels;
        }
        if let Some(multinode) = self.is_multinode {
            info.is_multinode = multinode;
        }
        Ok(())
    }
}

/// The full name of a new repository `short` in `space`, if it is in grammar, the caller may
/// create it there, and it does not exist yet.
pub async fn require_new_repository(
    state: &AppState,
    caller: &Caller,
    space: &Space,
    short: &str,
) -> DomainResult<String> {
    let name = space.full_name(short);
    validate_repository(&name)?;
    if !space.allows(caller, ArtifactKind::Container, ArtifactOp::Create, Some(&name)) {
        if caller.is_guest() {
            return Err(DomainError::Unauthenticated);
        }
        return Err(DomainError::Forbidden(format!(
            "you may not create repository '{name}'"
        )));
    }
    if state.meta.repository(&name).await?.is_some() {
        return Err(DomainError::Conflict(format!("repository '{name}' already exists")));
    }
    Ok(name)
}
