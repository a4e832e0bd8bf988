//! Creating and changing models, resources, Helm charts and collections and their versions:
//! the checks (name grammar, the permission verdict, the kind's metadata fields) and the
//! writes, shared by the REST API and the web pages. Offers (access level, products) are
//! `catalog::offer`'s.

use super::entities::Found;
use super::error::{DomainError, DomainResult};
use super::fields::{self, Spec};
use super::kinds::Kind;
use super::space::Space;
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::names::{validate_artifact_name, validate_version};
use hangar_core::policy::ArtifactOp;
use hangar_store::meta::{ArtifactVersion, NewArtifact};
use serde_json::{Map, Value};

/// The full name (`org/[team/]name`) of a new `kind` entity `name` in `space`, if the name is
/// in grammar and the caller may create it there.
pub fn require_create(caller: &Caller, kind: &Kind, space: &Space, name: &str) -> DomainResult<String> {
    validate_artifact_name(name)?;
    let full = space.full_name(name);
    if !space.allows(caller, kind.policy, ArtifactOp::Create, Some(&full)) {
        return Err(if caller.is_guest() {
            DomainError::Unauthenticated
        } else {
            DomainError::Forbidden(format!(
                "you may not create {}s in '{}'",
                kind.wire.noun,
                space.namespace()
            ))
        });
    }
    Ok(full)
}

/// `current` metadata with the fields of `body` the kind's `spec` takes checked and applied
/// (`skip`: body keys that are not metadata).
pub fn with_fields(spec: Spec, current: &Value, body: &Map<String, Value>, skip: &[&str]) -> DomainResult<Value> {
    let mut metadata = current.as_object().cloned().unwrap_or_default();
    fields::apply(spec, body, skip, &mut metadata)?;
    Ok(Value::Object(metadata))
}

/// Creates the entity `full` (from [`require_create`]) with `metadata` (from [`with_fields`]);
/// a conflict says the entity exists.
pub async fn create_entity(
    state: &AppState,
    caller: &Caller,
    kind: &Kind,
    space: Space,
    (name, full): (&str, &str),
    metadata: &Value,
) -> DomainResult<Found> {
    let created = state
        .meta
        .create_artifact(&NewArtifact {
            kind: kind.stored,
            org_id: space.org.id,
            team_id: space.team.as_ref().map(|t| t.id),
            path: full,
            name,
            created_by: caller.user.as_ref().map(|u| u.id),
            metadata,
        })
        .await
        .map_err(|e| match e {
            hangar_store::Error::Conflict(_) => {
                DomainError::Conflict(format!("{} '{full}' already exists.", kind.wire.noun))
            }
            other => other.into(),
        })?;
    Ok(Found {
        space,
        artifact: created,
    })
}

/// A new version, `UPLOAD_PENDING`, with `metadata` (from [`with_fields`] over the kind's
/// version fields); a conflict says the version exists. The caller's right to upload was
/// checked when the entity was found.
pub async fn create_version(
    state: &AppState,
    caller: &Caller,
    kind: &Kind,
    found: &Found,
    version: &str,
    metadata: &Value,
) -> DomainResult<ArtifactVersion> {
    validate_version(version)?;
    state
        .meta
        .create_version(&found.artifact, version, caller.user.as_ref().map(|u| u.id), metadata)
        .await
        .map_err(|e| match e {
            hangar_store::Error::Conflict(_) => DomainError::Conflict(format!(
                "version '{version}' of {} '{}' already exists",
                kind.wire.noun, found.artifact.path
            )),
            other => other.into(),
        })
}

/// Makes `version` the entity's latest, if the caller may change the entity.
pub async fn set_latest(
    state: &AppState,
    caller: &Caller,
    kind: &Kind,
    found: &Found,
    version: &str,
) -> DomainResult<()> {
    if !found
        .space
        .allows(caller, kind.policy, ArtifactOp::Update, Some(&found.artifact.path))
    {
        return Err(DomainError::Forbidden(format!(
            "you may not change {} '{}'",
            kind.wire.noun, found.artifact.path
        )));
    }
    state
        .meta
        .set_latest_version(found.artifact.id, version)
        .await
        .map_err(|e| match e {
            hangar_store::Error::NotFound(_) => {
                DomainError::Invalid("only a complete version can be the latest".into())
            }
            other => other.into(),
        })
}
