//! Where a container repository lives (its org and team, from the name), and what the verdict
//! is about for it.

use super::error::DomainResult;
use super::reveal::Guarded;
use crate::cache::Located;
use crate::identity::names::entity_scope;
use crate::state::AppState;
use hangar_core::policy::{ArtifactKind, Target};

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

/// The repository `name` where it was located, for the verdict (public once it exists and is).
pub fn guarded<'a>(located: &'a Located, name: &'a str) -> Guarded<'a> {
    Guarded {
        kind: ArtifactKind::Container,
        target: Target {
            org: &located.org,
            team: located.team.as_deref(),
            entity: Some(name),
        },
        is_public: located.repo.as_ref().is_some_and(|r| r.info.is_public),
    }
}
