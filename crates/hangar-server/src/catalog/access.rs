//! What the verdict ([`reveal`]) is about for models, resources and charts, and shorthands for it.

use super::error::DomainResult;
use super::reveal::{Guarded, may};
use super::standing::standing;
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::policy::{ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::{Artifact, ArtifactType, EntityKey, HolderKind};

/// The policy's kind for a stored entity kind.
pub fn policy_kind(stored: ArtifactType) -> ArtifactKind {
    match stored {
        ArtifactType::Model => ArtifactKind::Model,
        ArtifactType::Resource => ArtifactKind::Resource,
        ArtifactType::Chart => ArtifactKind::Chart,
        ArtifactType::Collection => ArtifactKind::Collection,
    }
}

/// What a stored kind is called in messages (`model`, `resource`, `chart`).
pub fn noun(stored: ArtifactType) -> &'static str {
    let wire = match stored {
        ArtifactType::Model => &hangar_core::wire::MODEL,
        ArtifactType::Resource => &hangar_core::wire::RESOURCE,
        ArtifactType::Chart => &hangar_core::wire::CHART,
        ArtifactType::Collection => return "collection",
    };
    wire.noun
}

/// The policy target of an entity path `org/[team/]name` (entity names hold no `/`).
pub fn target_of(path: &str) -> Target<'_> {
    let mut parts = path.splitn(3, '/');
    let org = parts.next().unwrap_or_default();
    let team = match (parts.next(), parts.next()) {
        (Some(team), Some(_)) => Some(team),
        _ => None,
    };
    Target {
        org,
        team,
        entity: Some(path),
    }
}

/// The catalog key of a stored model, resource, chart or collection.
pub fn entity_key(artifact: &Artifact) -> EntityKey {
    EntityKey {
        kind: HolderKind::Artifact(artifact.kind),
        id: artifact.id,
    }
}

/// What the verdict is about for a stored model, resource, chart or collection.
pub async fn guarded<'a>(state: &AppState, caller: &Caller, artifact: &'a Artifact) -> DomainResult<Guarded<'a>> {
    Ok(Guarded {
        kind: policy_kind(artifact.kind),
        target: target_of(&artifact.path),
        access: artifact.access,
        standing: standing(state, caller, entity_key(artifact), artifact.access).await?,
    })
}

/// Whether the caller may do `op` to a stored model, resource, chart or collection.
pub async fn may_artifact(
    state: &AppState,
    caller: &Caller,
    op: ArtifactOp,
    artifact: &Artifact,
) -> DomainResult<bool> {
    Ok(may(caller, &guarded(state, caller, artifact).await?, op))
}

#[cfg(test)]
mod tests {
    use super::target_of;

    #[test]
    fn targets_of_paths() {
        let t = target_of("acme/m");
        assert_eq!((t.org, t.team, t.entity), ("acme", None, Some("acme/m")));
        let t = target_of("acme/vision/m");
        assert_eq!(
            (t.org, t.team, t.entity),
            ("acme", Some("vision"), Some("acme/vision/m"))
        );
    }
}
