//! Remove and set latest (Private Registry guide §3.5, §4.6, §6.3.4): a whole entity or
//! repository, one version or tag, each only with the box that names it ticked; and which
//! version or tag is the latest. The same domain calls and verdicts as the REST API's DELETE
//! and `?set-latest=true`.

use super::error::{WebError, WebResult};
use super::forms::{Fields, encode, see_other};
use super::publish::{Editing, editing};
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::catalog::entities::{Found, remove_version_of, require_remove};
use crate::catalog::error::DomainError;
use crate::catalog::publishing;
use crate::catalog::reveal::{Guarded, Verdict, reveal};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use hangar_core::names::{validate_tag, validate_version};
use hangar_core::policy::ArtifactOp;
use hangar_pages::Manage;
use hangar_store::meta::ArtifactType;

/// `POST /remove/{kind}/{org}[/{team}]/{name}`: with `version` (or `tag`), that one; without,
/// the whole entity or repository. `confirm` must name what goes: `org/name` or `org/name:version`.
pub async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((segment, rest)): Path<(String, String)>,
    fields: Fields,
) -> WebResult<Response> {
    let caller = visitor.acting(&state, &fields.get("csrf")).await?;
    let one = Some(fields.get("version"))
        .filter(|v| !v.is_empty())
        .or(Some(fields.get("tag")).filter(|t| !t.is_empty()));
    let named = match &one {
        Some(v) => format!("{rest}:{v}"),
        None => rest.clone(),
    };
    if fields.get("confirm") != named {
        return Err(WebError::BadRequest(format!(
            "Nothing was removed: tick the box that names {named} to remove it."
        )));
    }
    let page = format!("/catalog/{segment}/{rest}");
    // Removing needs the Delete right or being the creator: the entity is found for reading,
    // then the removal is checked (as the REST API does).
    let op = if segment == "containers" {
        ArtifactOp::Delete
    } else {
        ArtifactOp::Get
    };
    let done = match (editing(&state, &caller, &segment, &rest, op).await?, one) {
        (Editing::Entity(_, found), None) => {
            require_remove(&caller, &found, &[found.artifact.created_by])?;
            state.meta.delete_artifact(found.artifact.id).await?;
            format!("/orgs/{}/{segment}?done=removed", found.space.org.name)
        }
        (Editing::Entity(_, found), Some(version)) => {
            validate_version(&version)?;
            let stored =
                state.meta.version(found.artifact.id, &version).await?.ok_or_else(|| {
                    WebError::NotFound(format!("'{}' has no version '{version}'", found.artifact.path))
                })?;
            remove_version_of(&state, &caller, &found, &stored).await?;
            format!("{page}?section=versions&done=removed")
        }
        (Editing::Repository(repo), None) => {
            state.meta.delete_repository(repo.id).await?;
            let org = rest.split('/').next().unwrap_or_default();
            format!("/orgs/{org}/containers?done=removed")
        }
        (Editing::Repository(repo), Some(tag)) => {
            validate_tag(&tag)?;
            state.meta.remove_image(repo.id, &tag).await?;
            format!("{page}?section=tags&done=removed")
        }
    };
    Ok(see_other(&done))
}

/// `POST /latest/{kind}/{org}[/{team}]/{name}`: `version` (or `tag`) becomes the latest.
pub async fn set_latest(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((segment, rest)): Path<(String, String)>,
    fields: Fields,
) -> WebResult<Response> {
    let caller = visitor.acting(&state, &fields.get("csrf")).await?;
    let page = format!("/catalog/{segment}/{rest}");
    match editing(&state, &caller, &segment, &rest, ArtifactOp::Update).await? {
        Editing::Entity(kind, found) => {
            let version = fields.get("version");
            validate_version(&version)?;
            publishing::set_latest(&state, &caller, kind, &found, &version).await?;
            Ok(see_other(&format!(
                "{page}?section=versions&version={}&done=latest",
                encode(&version)
            )))
        }
        Editing::Repository(repo) => {
            let tag = fields.get("tag");
            validate_tag(&tag)?;
            state.meta.set_latest_tag(repo.id, &tag).await.map_err(|e| match e {
                hangar_store::Error::NotFound(_) => {
                    DomainError::NotFound(format!("'{}' has no tag '{tag}'", repo.name))
                }
                other => other.into(),
            })?;
            Ok(see_other(&format!("{page}?section=tags&done=latest")))
        }
    }
}

/// What a change says on the page it returns to (`?done=…`).
pub(super) fn notice_of(done: Option<&str>) -> String {
    match done {
        Some("saved") => "Saved.",
        Some("removed") => "Removed.",
        Some("latest") => "The latest is changed.",
        Some("created") => "Created.",
        _ => "",
    }
    .to_string()
}

/// The controls an entity page shows the caller: each only when the verdict allows it.
pub(super) fn entity_manage(caller: &Caller, found: &Found, segment: &str) -> Manage {
    let path = &found.artifact.path;
    let policy = crate::catalog::access::policy_kind(found.artifact.kind);
    let may_update = found.space.allows(caller, policy, ArtifactOp::Update, Some(path));
    let may_remove = require_remove(caller, found, &[found.artifact.created_by]).is_ok();
    let may_upload = matches!(found.artifact.kind, ArtifactType::Model | ArtifactType::Resource)
        && found.space.allows(caller, policy, ArtifactOp::Upload, Some(path));
    let when = |allowed: bool, href: String| if allowed { href } else { String::new() };
    Manage {
        edit: when(may_update, format!("/edit/{segment}/{path}")),
        remove: when(may_remove, format!("/remove/{segment}/{path}")),
        confirm: path.clone(),
        latest: when(may_update, format!("/latest/{segment}/{path}")),
        remove_version: when(may_remove, format!("/remove/{segment}/{path}")),
        upload: when(may_upload, format!("/upload/{segment}/{path}")),
        clone: when(may_upload, format!("/upload/{segment}/{path}")),
    }
}

/// The controls a container page shows the caller.
pub(super) fn repository_manage(caller: &Caller, thing: &Guarded<'_>, name: &str) -> Manage {
    let allowed = |op| reveal(caller, thing, op) == Verdict::Allowed;
    let when = |allowed: bool, href: String| if allowed { href } else { String::new() };
    Manage {
        edit: when(allowed(ArtifactOp::Update), format!("/edit/containers/{name}")),
        remove: when(allowed(ArtifactOp::Delete), format!("/remove/containers/{name}")),
        confirm: name.to_string(),
        latest: when(allowed(ArtifactOp::Update), format!("/latest/containers/{name}")),
        remove_version: when(allowed(ArtifactOp::Delete), format!("/remove/containers/{name}")),
        ..Manage::default()
    }
}
