//! ChartMuseum's API under `/api/{org}[/{team}]/charts`, as `helm cm-push` and NVIDIA's ngc
//! CLI use it: upload (a raw .tgz body, or a form with a `chart` file), listing, one chart's
//! versions, one version, and delete.

use super::surface::{HelmCaller, HelmError, Path, Query};
use crate::catalog::access::may_artifact;
use crate::catalog::charts::publish::{self, Pushed};
use crate::catalog::entities::{EntityPath, find, find_version, remove_version_of};
use crate::catalog::space::{Space, SpacePath};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use hangar_core::policy::ArtifactOp;
use hangar_core::versions::latest_first;
use hangar_store::meta::{Artifact, ArtifactType};
use serde_json::{Map, Value, json};

/// `POST /api/{org}[/{team}]/charts[?name=…&version=…]`: 201 `{"saved":true}`; 409 when the
/// version exists.
pub async fn upload(
    State(state): State<AppState>,
    HelmCaller(caller): HelmCaller,
    Path(path): Path<SpacePath>,
    Query(expected): Query<publish::Expected>,
    mut request: Request,
) -> Result<Response, HelmError> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    publish::may_push(&caller, &space)?;
    let form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let Pushed { artifact, version } = if form {
        // The archive's bytes are counted against `--max-chart-size` as they come.
        DefaultBodyLimit::disable().apply(&mut request);
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("invalid form: {e}")))?;
        let mut pushed = None;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::BadRequest(format!("invalid form: {e}")))?
        {
            match field.name() {
                Some("chart") if pushed.is_none() => {
                    let body = field.map_err(|e| e.body_text());
                    pushed = Some(publish::push(&state, &caller, &space, &expected, body).await?);
                }
                Some("prov") => {
                    return Err(HelmError(ApiError::BadRequest(
                        "provenance files are not supported; sign charts as OCI artifacts instead".into(),
                    )));
                }
                _ => {}
            }
        }
        pushed.ok_or_else(|| ApiError::BadRequest("the form has no 'chart' file".into()))?
    } else {
        let body = request.into_body().into_data_stream();
        publish::push(&state, &caller, &space, &expected, body).await?
    };
    tracing::info!(chart = %artifact.path, version = %version.version, "chart pushed");
    Ok((StatusCode::CREATED, Json(json!({"saved": true}))).into_response())
}

/// `GET /api/{org}[/{team}]/charts`: `{name: [version, …]}` of what the caller may see.
pub async fn list(
    State(state): State<AppState>,
    HelmCaller(caller): HelmCaller,
    Path(path): Path<SpacePath>,
) -> Result<Json<Value>, HelmError> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let team = Some(space.team.as_ref().map(|t| t.id));
    let mut out = Map::new();
    for artifact in state.meta.artifacts_of(ArtifactType::Chart, space.org.id, team).await? {
        if may_artifact(&state, &caller, ArtifactOp::List, &artifact).await? {
            let versions = entries(&state, &artifact).await?;
            if !versions.is_empty() {
                out.insert(artifact.name.clone(), Value::Array(versions));
            }
        }
    }
    Ok(Json(Value::Object(out)))
}

/// `GET /api/{org}[/{team}]/charts/{name}`: the chart's versions, newest first.
pub async fn versions(
    State(state): State<AppState>,
    HelmCaller(caller): HelmCaller,
    Path(path): Path<EntityPath>,
) -> Result<Json<Value>, HelmError> {
    let found = find(&state, ArtifactType::Chart, &caller, &path, ArtifactOp::Get).await?;
    Ok(Json(Value::Array(entries(&state, &found.artifact).await?)))
}

/// `GET /api/{org}[/{team}]/charts/{name}/{version}`.
pub async fn describe(
    State(state): State<AppState>,
    HelmCaller(caller): HelmCaller,
    Path(path): Path<EntityPath>,
) -> Result<Json<Value>, HelmError> {
    let found = find(&state, ArtifactType::Chart, &caller, &path, ArtifactOp::Get).await?;
    let version = find_version(&state, &found, &path).await?;
    let archive = state.meta.chart_archive(version.id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "chart version '{}:{}' has no archive",
            found.artifact.path, version.version
        ))
    })?;
    Ok(Json(archive.entry))
}

/// `DELETE /api/{org}[/{team}]/charts/{name}/{version}`: `{"deleted":true}`.
pub async fn remove(
    State(state): State<AppState>,
    HelmCaller(caller): HelmCaller,
    Path(path): Path<EntityPath>,
) -> Result<Json<Value>, HelmError> {
    let found = find(&state, ArtifactType::Chart, &caller, &path, ArtifactOp::Get).await?;
    let version = find_version(&state, &found, &path).await?;
    remove_version_of(&state, &caller, &found, &version).await?;
    Ok(Json(json!({"deleted": true})))
}

/// A chart's complete versions as ChartMuseum shows them (their index entries), newest first.
async fn entries(state: &AppState, artifact: &Artifact) -> Result<Vec<Value>, ApiError> {
    let mut all = state.meta.chart_entries(artifact.id).await?;
    all.sort_by(|a, b| latest_first(&a.0.version, &b.0.version));
    Ok(all.into_iter().map(|(_, archive)| archive.entry).collect())
}
