//! Models, resources and Helm charts (ngc-api.md §4, §6, §7): entities with catalog metadata
//! and their versions, at `/v2/org/{org}[/team/{team}]/models|resources|helm-charts…`. File
//! transfer is separate; chart versions come from the Helm repository (`crate::helm`).

pub mod entity;
mod guest;
mod signatures;
mod transfer;
pub mod views;

use super::extract::{Json, Path, Query};
use super::offer::{OFFER_FIELDS, offer_change};
use super::views::success;
use crate::auth::Caller;
use crate::catalog::access::{entity_key, guarded, may_artifact};
use crate::catalog::entities::{Found, find_version, latest_of, remove_version_of, require_remove};
use crate::catalog::kinds::{CHART, COLLECTION, Kind, MODEL, RESOURCE};
use crate::catalog::offer;
use crate::catalog::publishing;
use crate::catalog::space::{Space, SpacePath};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{MethodRouter, get, post};
use axum::{Extension, Router};
use entity::{Entity, Named, See};
use hangar_core::access::AccessLevel;
use hangar_core::policy::ArtifactOp;
use hangar_core::versions::latest_first;
use hangar_store::meta::{ArtifactVersion, UPLOAD_COMPLETE};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Where entities live: an org, or a team of it.
const SPACES: [&str; 2] = ["/v2/org/{org}", "/v2/org/{org}/team/{team}"];

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for space in SPACES {
        router = router
            .route(
                &format!("{space}/files/multipart"),
                post(transfer::start_upload).put(transfer::complete_upload),
            )
            .route(&format!("{space}/files/commit"), post(transfer::commit));
    }
    for kind in [&MODEL, &RESOURCE, &CHART, &COLLECTION] {
        router = router.merge(kind_routes(kind));
    }
    router
        .route("/v2/catalog/models/public-key", get(signatures::public_key))
        .route("/v2/catalog/resources/public-key", get(signatures::public_key))
}

/// Every route of one kind; its handlers learn the kind from the `Extension`.
fn kind_routes(kind: &'static Kind) -> Router<AppState> {
    let mut router = Router::new();
    // A collection's guest paths are `api::collections`'.
    if kind.has_versions() {
        router = router.route(&format!("/v2/{}/{{*rest}}", kind.wire.segment), get(guest::read));
    }
    for space in SPACES {
        let base = format!("{space}/{}", kind.wire.segment);
        for (suffix, methods) in entity_routes(kind) {
            router = router.route(&format!("{base}{suffix}"), methods);
        }
    }
    router.route_layer(Extension(kind))
}

/// The routes under `{OT}/{kind}`: path suffix and methods. Charts get their versions from
/// pushed archives, so they have no version creation and no file transfer; collections have
/// no versions.
fn entity_routes(kind: &Kind) -> Vec<(&'static str, MethodRouter<AppState>)> {
    let versions_route = get(versions);
    let mut table = vec![
        ("", get(list).post(create)),
        ("/{name}", get(info).patch(update).delete(remove)),
    ];
    if !kind.has_versions() {
        return table;
    }
    table.extend([
        (
            "/{name}/versions/{version}",
            get(version_info).patch(update_version).delete(remove_version),
        ),
        ("/{name}/versions/{version}/files", get(transfer::list_files)),
    ]);
    if !kind.has_file_uploads() {
        table.push(("/{name}/versions", versions_route));
        return table;
    }
    table.extend([
        (
            "/{name}/versions/{version}/signature",
            get(signatures::signature_url).put(signatures::sign),
        ),
        ("/{name}/versions", versions_route.post(create_version)),
        ("/{name}/files", post(transfer::dedupe)),
        ("/{name}/versions/{version}/files/{*path}", get(transfer::download_file)),
        ("/{name}/versions/{version}/zip", get(transfer::download_zip)),
        ("/{name}/{version}/files", get(transfer::file_urls)),
    ]);
    table
}

#[derive(Debug, Deserialize)]
pub struct LatestParam {
    #[serde(rename = "set-latest", default)]
    set_latest: bool,
}

/// The entity as NGC's JSON.
pub async fn entity_json(
    state: &AppState,
    kind: &Kind,
    found: &Found,
    latest: Option<&ArtifactVersion>,
) -> ApiResult<Value> {
    let products = state.meta.entity_products(entity_key(&found.artifact)).await?;
    let place = (found.space.org.name.as_str(), found.space.team_name());
    let mut view = views::entity(kind, &found.artifact, &products, place, latest);
    if kind.has_file_uploads() {
        view["hasSignedVersion"] = json!(state.meta.has_signed_version(found.artifact.id).await?);
    }
    Ok(view)
}

fn object(body: Value) -> ApiResult<Map<String, Value>> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::BadRequest("the body must be a JSON object".into())),
    }
}

/// The body fields that are not the entity's own NGC fields.
fn skipped_fields() -> Vec<&'static str> {
    let mut skipped = vec!["name", "ownerName"];
    skipped.extend(OFFER_FIELDS);
    skipped
}

/// `POST {OT}/{kind}`: a new entity; 409 when it exists.
async fn create(
    State(state): State<AppState>,
    Extension(kind): Extension<&'static Kind>,
    caller: Caller,
    Path(path): Path<SpacePath>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("'name' is required".into()))?
        .to_string();
    let full = publishing::require_create(&caller, kind, &space, &name)?;
    let metadata = publishing::with_fields(kind.fields, &Value::Null, &body, &skipped_fields())?;
    let offer = offer_change(&body)?;
    offer::permit(&caller, &space.unborn(kind.policy, &full), &offer)?;
    let (access, products) = offer::outcome(&state, None, AccessLevel::Private, &offer).await?;
    let mut found = publishing::create_entity(&state, &caller, kind, space, (&name, &full), &metadata).await?;
    if !offer.is_empty() {
        state
            .meta
            .set_entity_products(entity_key(&found.artifact), &products)
            .await?;
        state
            .meta
            .update_artifact(found.artifact.id, &found.artifact.metadata, access)
            .await?;
        found.artifact.access = access;
    }
    Ok(Json(success(
        json!({ kind.wire.key: entity_json(&state, kind, &found, None).await? }),
    )))
}

/// `GET {OT}/{kind}`: the entities of the org (or team) the caller may see.
async fn list(
    State(state): State<AppState>,
    Extension(kind): Extension<&'static Kind>,
    caller: Caller,
    Path(path): Path<SpacePath>,
) -> ApiResult<Json<Value>> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let team = Some(space.team.as_ref().map(|t| t.id));
    let mut items = vec![];
    for artifact in state.meta.artifacts_of(kind.stored, space.org.id, team).await? {
        if may_artifact(&state, &caller, ArtifactOp::List, &artifact).await? {
            let latest = latest_of(&state, &artifact).await?;
            let (org, team) = (&space.org.name, space.team_name());
            let products = state.meta.entity_products(entity_key(&artifact)).await?;
            items.push(views::entity(kind, &artifact, &products, (org, team), latest.as_ref()));
        }
    }
    Ok(Json(success(json!({ kind.wire.list_key: items }))))
}

/// `GET {OT}/{kind}/{name}`.
pub async fn info(State(state): State<AppState>, Entity { kind, found, .. }: Entity<See>) -> ApiResult<Json<Value>> {
    let latest = latest_of(&state, &found.artifact).await?;
    Ok(Json(success(
        json!({ kind.wire.key: entity_json(&state, kind, &found, latest.as_ref()).await? }),
    )))
}

/// `PATCH {OT}/{kind}/{name}`: the given fields change; `publicDatasetUsed: {}` changes nothing.
async fn update(State(state): State<AppState>, named: Named, Json(body): Json<Value>) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let Entity {
        kind,
        caller,
        mut found,
        ..
    } = named.find(&state, ArtifactOp::Update).await?;
    if body
        .get("name")
        .is_some_and(|n| n.as_str() != Some(found.artifact.name.as_str()))
    {
        return Err(ApiError::BadRequest("the name cannot be changed".into()));
    }
    let metadata = publishing::with_fields(kind.fields, &found.artifact.metadata, &body, &skipped_fields())?;
    let offer = offer_change(&body)?;
    let thing = guarded(&state, &caller, &found.artifact).await?;
    let access = offer::apply(&state, &caller, &thing, entity_key(&found.artifact), &offer).await?;
    found.artifact.metadata = metadata;
    found.artifact.access = access;
    state
        .meta
        .update_artifact(found.artifact.id, &found.artifact.metadata, access)
        .await?;
    let latest = latest_of(&state, &found.artifact).await?;
    Ok(Json(success(
        json!({ kind.wire.key: entity_json(&state, kind, &found, latest.as_ref()).await? }),
    )))
}

/// `DELETE {OT}/{kind}/{name}`: the entity with every version.
async fn remove(State(state): State<AppState>, Entity { caller, found, .. }: Entity<See>) -> ApiResult<Json<Value>> {
    require_remove(&caller, &found, &[found.artifact.created_by])?;
    state.meta.delete_artifact(found.artifact.id).await?;
    Ok(Json(success(json!({}))))
}

/// A version as NGC's JSON, with whether it is signed.
async fn signed_view(state: &AppState, kind: &Kind, version: &ArtifactVersion) -> ApiResult<Value> {
    let mut view = views::version(kind, version);
    view["isSigned"] = json!(state.meta.version_signature(version.id).await?.is_some());
    Ok(view)
}

/// `GET {OT}/{kind}/{name}/versions`: newest semantic version first.
async fn versions(State(state): State<AppState>, Entity { kind, found, .. }: Entity<See>) -> ApiResult<Json<Value>> {
    let mut all = state.meta.versions(found.artifact.id).await?;
    all.sort_by(|a, b| latest_first(&a.version, &b.version));
    let mut listed: Vec<Value> = Vec::with_capacity(all.len());
    for v in &all {
        listed.push(signed_view(&state, kind, v).await?);
    }
    let total = listed.len();
    Ok(Json(success(json!({
        kind.wire.versions_key: listed,
        kind.wire.key: entity_json(&state, kind, &found, None).await?,
        "paginationInfo": {"index": 0, "size": total.max(1), "totalPages": 1, "totalResults": total},
    }))))
}

/// `POST {OT}/{kind}/{name}/versions`: a new version, `UPLOAD_PENDING`; 409 when it exists.
async fn create_version(
    State(state): State<AppState>,
    named: Named,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let Entity {
        kind, caller, found, ..
    } = named.find(&state, ArtifactOp::Upload).await?;
    let version = body
        .get("versionId")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("'versionId' is required".into()))?;
    let metadata = publishing::with_fields(kind.version_fields, &Value::Null, &body, &["versionId"])?;
    let created = publishing::create_version(&state, &caller, kind, &found, version, &metadata).await?;
    Ok(Json(success(
        json!({ kind.wire.version_key: views::version(kind, &created) }),
    )))
}

/// `GET {OT}/{kind}/{name}/versions/{version}`.
async fn version_info(
    State(state): State<AppState>,
    Entity { kind, path, found, .. }: Entity<See>,
) -> ApiResult<Json<Value>> {
    let version = find_version(&state, &found, &path).await?;
    Ok(Json(success(json!({
        kind.wire.version_key: signed_view(&state, kind, &version).await?,
        kind.wire.key: entity_json(&state, kind, &found, None).await?,
    }))))
}

/// `PATCH {OT}/{kind}/{name}/versions/{version}[?set-latest=true]`: metadata, the commit
/// (`{"status":"UPLOAD_COMPLETE"}`), and making it the latest.
async fn update_version(
    State(state): State<AppState>,
    named: Named,
    Query(query): Query<LatestParam>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let completing = match body.get("status").filter(|v| !v.is_null()) {
        None => false,
        Some(status) if status.as_str() == Some(UPLOAD_COMPLETE) => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "a version's status can only become {UPLOAD_COMPLETE}, not {other}"
            )));
        }
    };
    let op = if completing {
        ArtifactOp::Upload
    } else {
        ArtifactOp::Update
    };
    let Entity {
        kind,
        caller,
        path,
        found,
        ..
    } = named.find(&state, op).await?;
    let version = find_version(&state, &found, &path).await?;
    let metadata = publishing::with_fields(kind.version_fields, &version.metadata, &body, &["status", "versionId"])?;
    state.meta.update_version(version.id, &metadata).await?;
    if completing && version.status != UPLOAD_COMPLETE {
        state.meta.complete_version(&found.artifact, &version).await?;
    }
    if query.set_latest {
        publishing::set_latest(&state, &caller, kind, &found, &version.version).await?;
    }
    let version = find_version(&state, &found, &path).await?;
    Ok(Json(success(
        json!({ kind.wire.version_key: views::version(kind, &version) }),
    )))
}

/// `DELETE {OT}/{kind}/{name}/versions/{version}`.
async fn remove_version(
    State(state): State<AppState>,
    Entity {
        caller, path, found, ..
    }: Entity<See>,
) -> ApiResult<Json<Value>> {
    let version = find_version(&state, &found, &path).await?;
    remove_version_of(&state, &caller, &found, &version).await?;
    Ok(Json(success(json!({}))))
}
