//! Where a container repository lives (its org and team, from the name), and what the verdict
//! is about for it.

use super::error::DomainResult;
use super::reveal::Guarded;
use super::standing::standing;
use crate::auth::Caller;
use crate::cache::Located;
use crate::identity::names::entity_scope;
use crate::state::AppState;
use hangar_core::access::{AccessLevel, Standing};
use hangar_core::policy::{ArtifactKind, Target};
use hangar_store::meta::{EntityKey, HolderKind, Repository};

/// The org, team and (once it exists) repository of a name; `None` when the org does not
/// exist. Found repositories are kept in the read cache.
pub async fn locate(state: &AppState, name: &str) -> DomainResult<Option<Located>> {
    if let Some(hit) = state.cache.get(&state.cache.repositories, &name.to_string()) {
        return Ok(Some(hit));
    }
    let stamp = state.cache.stamp();
    let Some((org, team)) = entity_scope(&state.meta, name).await? else {
        return Ok(None);
    };
    let located = Located {
        org,
        team,
        repo: state.meta.repository(name).await?,
    };
    if located.repo.is_some() {
        state
            .cache
            .put(&state.cache.repositories, name.to_string(), located.clone(), stamp);
    }
    Ok(Some(located))
}

/// The repository `name` where it was located, for the verdict (private until it exists).
pub async fn guarded<'a>(
    state: &AppState,
    caller: &Caller,
    located: &'a Located,
    name: &'a str,
) -> DomainResult<Guarded<'a>> {
    let (access, standing) = match &located.repo {
        Some(repo) => (
            repo.info.access,
            standing(state, caller, repository_key(repo), repo.info.access).await?,
        ),
        None => (AccessLevel::Private, Standing::default()),
    };
    Ok(Guarded {
        kind: ArtifactKind::Container,
        target: Target {
            org: &located.org,
            team: located.team.as_deref(),
            entity: Some(name),
        },
        access,
        standing,
    })
}

/// The catalog key of a container repository.
pub fn repository_key(repo: &Repository) -> EntityKey {
    EntityKey {
        kind: HolderKind::Repository,
        id: repo.id,
    }
}
