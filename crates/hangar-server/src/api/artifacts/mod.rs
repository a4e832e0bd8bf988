//! Models, resources and Helm charts (ngc-api.md §4, §6, §7): entities with catalog metadata
//! and their versions, at `/v2/org/{org}[/team/{team}]/models|resources|helm-charts…`. File
//! transfer is separate; chart versions come from the Helm repository (`crate::helm`).

mod fields;
mod guest;
pub mod kind;
mod transfer;
mod views;

use super::extract::{Json, Path, Query};
use super::space::{Space, SpacePath};
use super::views::success;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use hangar_core::names::{validate_artifact_name, validate_version};
use hangar_core::policy::{ArtifactOp, Target, may_remove};
pub(crate) use hangar_core::versions::latest_first;
use hangar_store::meta::{Artifact, ArtifactVersion, NewArtifact, UPLOAD_COMPLETE};
use kind::{CHART, Kind, MODEL, RESOURCE};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in ["/v2/org/{org}", "/v2/org/{org}/team/{team}"] {
        router = router
            .route(
                &format!("{prefix}/files/multipart"),
                axum::routing::post(transfer::start_upload).put(transfer::complete_upload),
            )
            .route(&format!("{prefix}/files/commit"), axum::routing::post(transfer::commit));
    }
    for kind in [&MODEL, &RESOURCE, &CHART] {
        router = router.route(
            &format!("/v2/{}/{{*rest}}", kind.wire.segment),
            get(
                move |s: State<AppState>,
                      c: Caller,
                      h: axum::http::HeaderMap,
                      p: Path<String>,
                      q: Query<guest::GuestQuery>| guest::read(kind, s, c, h, p, q),
            ),
        );
        for prefix in ["/v2/org/{org}", "/v2/org/{org}/team/{team}"] {
            let base = format!("{prefix}/{}", kind.wire.segment);
            router = router
                .route(
                    &base,
                    get(move |s: State<AppState>, c: Caller, p: Path<SpacePath>| list(kind, s, c, p)).post(
                        move |s: State<AppState>, c: Caller, p: Path<SpacePath>, b: Json<Value>| {
                            create(kind, s, c, p, b)
                        },
                    ),
                )
                .route(
                    &format!("{base}/{{name}}"),
                    get(move |s: State<AppState>, c: Caller, p: Path<EntityPath>| info(kind, s, c, p))
                        .patch(
                            move |s: State<AppState>, c: Caller, p: Path<EntityPath>, b: Json<Value>| {
                                update(kind, s, c, p, b)
                            },
                        )
                        .delete(move |s: State<AppState>, c: Caller, p: Path<EntityPath>| remove(kind, s, c, p)),
                )
                .route(
                    &format!("{base}/{{name}}/versions/{{version}}/files"),
                    get(move |s: State<AppState>, c: Caller, p: Path<EntityPath>| transfer::list_files(kind, s, c, p)),
                )
                .route(
                    &format!("{base}/{{name}}/versions/{{version}}"),
                    get(move |s: State<AppState>, c: Caller, p: Path<EntityPath>| version_info(kind, s, c, p))
                        .patch(
                            move |s: State<AppState>,
                                  c: Caller,
                                  p: Path<EntityPath>,
                                  q: Query<LatestParam>,
                                  b: Json<Value>| update_version(kind, s, c, p, q, b),
                        )
                        .delete(move |s: State<AppState>, c: Caller, p: Path<EntityPath>| {
                            remove_version(kind, s, c, p)
                        }),
                );
            let versions_route = get(move |s: State<AppState>, c: Caller, p: Path<EntityPath>| versions(kind, s, c, p));
            if !kind.has_file_uploads() {
                router = router.route(&format!("{base}/{{name}}/versions"), versions_route);
                continue;
            }
            router = router
                .route(
                    &format!("{base}/{{name}}/versions"),
                    versions_route.post(
                        move |s: State<AppState>, c: Caller, p: Path<EntityPath>, b: Json<Value>| {
                            create_version(kind, s, c, p, b)
                        },
                    ),
                )
                .route(
                    &format!("{base}/{{name}}/files"),
                    axum::routing::post(
                        move |s: State<AppState>, c: Caller, p: Path<EntityPath>, b: Json<transfer::DedupeRequest>| {
                            transfer::dedupe(kind, s, c, p, b)
                        },
                    ),
                )
                .route(
                    &format!("{base}/{{name}}/versions/{{version}}/files/{{*path}}"),
                    get(
                        move |s: State<AppState>, c: Caller, h: axum::http::HeaderMap, p: Path<transfer::FilePath>| {
                            transfer::download_file(kind, s, c, h, p)
                        },
                    ),
                )
                .route(
                    &format!("{base}/{{name}}/versions/{{version}}/zip"),
                    get(
                        move |s: State<AppState>, c: Caller, h: axum::http::HeaderMap, p: Path<EntityPath>| {
                            transfer::download_zip(kind, s, c, h, p)
                        },
                    ),
                )
                .route(
                    &format!("{base}/{{name}}/{{version}}/files"),
                    get(
                        move |s: State<AppState>,
                              c: Caller,
                              h: axum::http::HeaderMap,
                              p: Path<EntityPath>,
                              q: Query<transfer::FilesQuery>| {
                            transfer::file_urls(kind, s, c, h, p, q)
                        },
                    ),
                );
        }
    }
    router
}

/// `{org}[/team/{team}]/{kind}/{name}[/versions/{version}]` of a request path.
#[derive(Debug, Deserialize)]
pub struct EntityPath {
    org: String,
    team: Option<String>,
    name: String,
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LatestParam {
    #[serde(rename = "set-latest", default)]
    set_latest: bool,
}

/// An entity and where it lives.
pub(crate) struct Found {
    pub space: Space,
    pub artifact: Artifact,
}

impl Found {
    fn target(&self) -> Target<'_> {
        Target {
            org: &self.space.org.name,
            team: self.space.team_name(),
            entity: Some(&self.artifact.path),
        }
    }

    fn json(&self, kind: &Kind, latest: Option<&ArtifactVersion>) -> Value {
        views::entity(
            kind,
            &self.artifact,
            &self.space.org.name,
            self.space.team_name(),
            latest,
        )
    }
}

/// Whether the caller may do `op` to entity `a` of `space`: by role, or as anyone for reads of a
/// public one.
pub(crate) fn may(kind: &Kind, space: &Space, caller: &Caller, op: ArtifactOp, a: &Artifact) -> bool {
    let target = Target {
        org: &space.org.name,
        team: space.team_name(),
        entity: Some(&a.path),
    };
    crate::catalog::access::may(caller, kind.policy, op, &target, a.is_public)
}

/// The entity of `path`, if the caller may do `op` to it. One the caller may not even see (list
/// or read in any way) is "not found", as one that does not exist.
pub(crate) async fn find(
    state: &AppState,
    kind: &Kind,
    caller: &Caller,
    path: &EntityPath,
    op: ArtifactOp,
) -> ApiResult<Found> {
    let space = Space::find(state, &path.org, path.team.as_deref()).await?;
    validate_artifact_name(&path.name)?;
    let full = space.full_name(&path.name);
    let not_found = || ApiError::NotFound(format!("{} '{full}' could not be found", kind.wire.noun));
    let artifact = state.meta.artifact(kind.stored, &full).await?.ok_or_else(not_found)?;
    if may(kind, &space, caller, op, &artifact) {
        return Ok(Found { space, artifact });
    }
    if caller.is_guest() {
        return Err(ApiError::unauthenticated());
    }
    let visible = ArtifactOp::ALL
        .into_iter()
        .filter(|op| op.reads())
        .any(|op| may(kind, &space, caller, op, &artifact));
    if !visible {
        return Err(not_found());
    }
    let verb = match op {
        ArtifactOp::Get | ArtifactOp::List => "see",
        ArtifactOp::Download => "download",
        ArtifactOp::Upload => "upload to",
        ArtifactOp::Create | ArtifactOp::Update | ArtifactOp::Delete => "change",
    };
    Err(ApiError::Forbidden(format!(
        "you may not {verb} {} '{full}'",
        kind.wire.noun
    )))
}

pub(crate) async fn find_version(
    state: &AppState,
    kind: &Kind,
    found: &Found,
    path: &EntityPath,
) -> ApiResult<ArtifactVersion> {
    let version = path.version.as_deref().unwrap_or_default();
    validate_version(version)?;
    state.meta.version(found.artifact.id, version).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "{} '{}:{version}' could not be found",
            kind.wire.noun, found.artifact.path
        ))
    })
}

fn object(body: Value) -> ApiResult<Map<String, Value>> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::BadRequest("the body must be a JSON object".into())),
    }
}

async fn latest_of(state: &AppState, a: &Artifact) -> ApiResult<Option<ArtifactVersion>> {
    match &a.latest_version {
        Some(v) => Ok(state.meta.version(a.id, v).await?),
        None => Ok(None),
    }
}

/// Changing `isPublic` is the registry admin's (as for repositories).
fn public_flag(
    kind: &Kind,
    space: &Space,
    caller: &Caller,
    path: &str,
    body: &Map<String, Value>,
) -> ApiResult<Option<bool>> {
    let Some(value) = body.get("isPublic").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let public = value
        .as_bool()
        .ok_or_else(|| ApiError::BadRequest("'isPublic' must be true or false".into()))?;
    if !space.allows(caller, kind.policy, ArtifactOp::Delete, Some(path)) {
        return Err(ApiError::Forbidden(
            "only registry admins and org owners may change who can see it".into(),
        ));
    }
    Ok(Some(public))
}

/// `POST {OT}/{kind}`: a new entity; 409 when it exists.
async fn create(
    kind: &'static Kind,
    State(state): State<AppState>,
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
    validate_artifact_name(&name)?;
    let full = space.full_name(&name);
    if !space.allows(&caller, kind.policy, ArtifactOp::Create, Some(&full)) {
        return Err(if caller.is_guest() {
            ApiError::unauthenticated()
        } else {
            ApiError::Forbidden(format!(
                "you may not create {}s in '{}'",
                kind.wire.noun,
                space.namespace()
            ))
        });
    }
    let mut metadata = Map::new();
    fields::apply(kind.fields, &body, &["name", "isPublic", "ownerName"], &mut metadata)?;
    let public = public_flag(kind, &space, &caller, &full, &body)?;
    let created = state
        .meta
        .create_artifact(&NewArtifact {
            kind: kind.stored,
            org_id: space.org.id,
            team_id: space.team.as_ref().map(|t| t.id),
            path: &full,
            name: &name,
            created_by: caller.user.as_ref().map(|u| u.id),
            metadata: &Value::Object(metadata.clone()),
        })
        .await
        .map_err(|e| match e {
            hangar_store::Error::Conflict(_) => {
                ApiError::Conflict(format!("{} '{full}' already exists.", kind.wire.noun))
            }
            other => other.into(),
        })?;
    let mut found = Found {
        space,
        artifact: created,
    };
    if let Some(public) = public {
        state
            .meta
            .update_artifact(found.artifact.id, &found.artifact.metadata, public)
            .await?;
        found.artifact.is_public = public;
    }
    Ok(Json(success(json!({ kind.wire.key: found.json(kind, None) }))))
}

/// `GET {OT}/{kind}`: the entities of the org (or team) the caller may see.
async fn list(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SpacePath>,
) -> ApiResult<Json<Value>> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let team = Some(space.team.as_ref().map(|t| t.id));
    let mut items = vec![];
    for artifact in state.meta.artifacts_of(kind.stored, space.org.id, team).await? {
        if may(kind, &space, &caller, ArtifactOp::List, &artifact) {
            let latest = latest_of(&state, &artifact).await?;
            let (org, team) = (&space.org.name, space.team_name());
            items.push(views::entity(kind, &artifact, org, team, latest.as_ref()));
        }
    }
    Ok(Json(success(json!({ kind.wire.list_key: items }))))
}

/// `GET {OT}/{kind}/{name}`.
async fn info(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
) -> ApiResult<Json<Value>> {
    let found = find(&state, kind, &caller, &path, ArtifactOp::Get).await?;
    let latest = latest_of(&state, &found.artifact).await?;
    Ok(Json(success(
        json!({ kind.wire.key: found.json(kind, latest.as_ref()) }),
    )))
}

/// `PATCH {OT}/{kind}/{name}`: the given fields change; `publicDatasetUsed: {}` changes nothing.
async fn update(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let mut found = find(&state, kind, &caller, &path, ArtifactOp::Update).await?;
    if body
        .get("name")
        .is_some_and(|n| n.as_str() != Some(found.artifact.name.as_str()))
    {
        return Err(ApiError::BadRequest("the name cannot be changed".into()));
    }
    let mut metadata = found.artifact.metadata.as_object().cloned().unwrap_or_default();
    fields::apply(kind.fields, &body, &["name", "isPublic", "ownerName"], &mut metadata)?;
    let public = public_flag(kind, &found.space, &caller, &found.artifact.path, &body)?;
    found.artifact.metadata = Value::Object(metadata);
    found.artifact.is_public = public.unwrap_or(found.artifact.is_public);
    state
        .meta
        .update_artifact(found.artifact.id, &found.artifact.metadata, found.artifact.is_public)
        .await?;
    let latest = latest_of(&state, &found.artifact).await?;
    Ok(Json(success(
        json!({ kind.wire.key: found.json(kind, latest.as_ref()) }),
    )))
}

/// Removal: registry admins and org owners, or `creators` (of the entity, of the version).
fn require_remove(kind: &Kind, caller: &Caller, found: &Found, creators: &[Option<i64>]) -> ApiResult<()> {
    let me = caller.user.as_ref().map(|u| u.id);
    let creator = me.is_some() && creators.contains(&me);
    if may_remove(&caller.subject, kind.policy, &found.target(), creator) {
        return Ok(());
    }
    if caller.is_guest() {
        return Err(ApiError::unauthenticated());
    }
    Err(ApiError::Forbidden(format!(
        "only registry admins, org owners and its creator may remove {} '{}'",
        kind.wire.noun, found.artifact.path
    )))
}

/// `DELETE {OT}/{kind}/{name}`: the entity with every version.
async fn remove(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
) -> ApiResult<Json<Value>> {
    let found = find(&state, kind, &caller, &path, ArtifactOp::Get).await?;
    require_remove(kind, &caller, &found, &[found.artifact.created_by])?;
    state.meta.delete_artifact(found.artifact.id).await?;
    Ok(Json(success(json!({}))))
}

/// `GET {OT}/{kind}/{name}/versions`: newest semantic version first.
async fn versions(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
) -> ApiResult<Json<Value>> {
    let found = find(&state, kind, &caller, &path, ArtifactOp::Get).await?;
    let mut all = state.meta.versions(found.artifact.id).await?;
    all.sort_by(|a, b| latest_first(&a.version, &b.version));
    let listed: Vec<Value> = all.iter().map(|v| views::version(kind, v)).collect();
    let total = listed.len();
    Ok(Json(success(json!({
        kind.wire.versions_key: listed,
        kind.wire.key: found.json(kind, None),
        "paginationInfo": {"index": 0, "size": total.max(1), "totalPages": 1, "totalResults": total},
    }))))
}

/// `POST {OT}/{kind}/{name}/versions`: a new version, `UPLOAD_PENDING`; 409 when it exists.
async fn create_version(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
    Json(body): Json<Value>,
) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let found = find(&state, kind, &caller, &path, ArtifactOp::Upload).await?;
    let version = body
        .get("versionId")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("'versionId' is required".into()))?;
    validate_version(version)?;
    let mut metadata = Map::new();
    fields::apply(kind.version_fields, &body, &["versionId"], &mut metadata)?;
    let created = state
        .meta
        .create_version(
            &found.artifact,
            version,
            caller.user.as_ref().map(|u| u.id),
            &Value::Object(metadata),
        )
        .await
        .map_err(|e| match e {
            hangar_store::Error::Conflict(_) => ApiError::Conflict(format!(
                "version '{version}' of {} '{}' already exists",
                kind.wire.noun, found.artifact.path
            )),
            other => other.into(),
        })?;
    Ok(Json(success(
        json!({ kind.wire.version_key: views::version(kind, &created) }),
    )))
}

/// `GET {OT}/{kind}/{name}/versions/{version}`.
async fn version_info(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
) -> ApiResult<Json<Value>> {
    let found = find(&state, kind, &caller, &path, ArtifactOp::Get).await?;
    let version = find_version(&state, kind, &found, &path).await?;
    Ok(Json(success(json!({
        kind.wire.version_key: views::version(kind, &version),
        kind.wire.key: found.json(kind, None),
    }))))
}

/// `PATCH {OT}/{kind}/{name}/versions/{version}[?set-latest=true]`: metadata, the commit
/// (`{"status":"UPLOAD_COMPLETE"}`), and making it the latest.
async fn update_version(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
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
    let found = find(&state, kind, &caller, &path, op).await?;
    let version = find_version(&state, kind, &found, &path).await?;
    let mut metadata = version.metadata.as_object().cloned().unwrap_or_default();
    fields::apply(kind.version_fields, &body, &["status", "versionId"], &mut metadata)?;
    state.meta.update_version(version.id, &Value::Object(metadata)).await?;
    if completing && version.status != UPLOAD_COMPLETE {
        state.meta.complete_version(&found.artifact, &version).await?;
    }
    if query.set_latest {
        if !found
            .space
            .allows(&caller, kind.policy, ArtifactOp::Update, Some(&found.artifact.path))
        {
            return Err(ApiError::forbidden());
        }
        state
            .meta
            .set_latest_version(found.artifact.id, &version.version)
            .await
            .map_err(|e| match e {
                hangar_store::Error::NotFound(_) => {
                    ApiError::BadRequest("only a complete version can be the latest".into())
                }
                other => other.into(),
            })?;
    }
    let version = find_version(&state, kind, &found, &path).await?;
    Ok(Json(success(
        json!({ kind.wire.version_key: views::version(kind, &version) }),
    )))
}

/// `DELETE {OT}/{kind}/{name}/versions/{version}`.
async fn remove_version(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EntityPath>,
) -> ApiResult<Json<Value>> {
    let found = find(&state, kind, &caller, &path, ArtifactOp::Get).await?;
    let version = find_version(&state, kind, &found, &path).await?;
    remove_version_of(&state, kind, &caller, &found, &version).await?;
    Ok(Json(success(json!({}))))
}

/// Removes a version if the caller may.
pub(crate) async fn remove_version_of(
    state: &AppState,
    kind: &Kind,
    caller: &Caller,
    found: &Found,
    version: &ArtifactVersion,
) -> ApiResult<()> {
    require_remove(kind, caller, found, &[found.artifact.created_by, version.created_by])?;
    state.meta.delete_version(&found.artifact, version).await?;
    Ok(())
}
