//! Who may read or change a model, resource or chart: the caller's roles through the one
//! policy, and everyone for the reads of a public one.

use crate::auth::Caller;
use hangar_core::policy::{Action, ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::{Artifact, ArtifactType};

/// The policy's kind for a stored entity kind.
pub fn policy_kind(stored: ArtifactType) -> ArtifactKind {
    match stored {
        ArtifactType::Model => ArtifactKind::Model,
        ArtifactType::Resource => ArtifactKind::Resource,
        ArtifactType::Chart => ArtifactKind::Chart,
    }
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

/// Whether the caller may do `op` to an entity of `kind` at `target`: by role, or as anyone for
/// reads of a public one.
pub fn may(caller: &Caller, kind: ArtifactKind, op: ArtifactOp, target: &Target, is_public: bool) -> bool {
    caller.allowed(Action::Artifact(kind, op), target) || (op.reads() && is_public)
}

/// [`may`] for a stored model, resource or chart.
pub fn may_artifact(caller: &Caller, op: ArtifactOp, artifact: &Artifact) -> bool {
    may(
        caller,
        policy_kind(artifact.kind),
        op,
        &target_of(&artifact.path),
        artifact.is_public,
    )
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
