//! What `helm repo add` and `helm pull` read: `index.yaml` and the chart archives.

use super::surface::{HelmCaller, HelmError, Path};
use crate::auth::Caller;
use crate::catalog::access::guarded;
use crate::catalog::charts::index::{IndexedName, render};
use crate::catalog::reveal::{Guarded, may, reveal};
use crate::catalog::space::{Space, SpacePath};
use crate::catalog::standing::standing;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hangar_core::policy::{Action, ArtifactKind, ArtifactOp, Target};
use hangar_store::blob::Digest;
use hangar_store::meta::{Artifact, ArtifactType, ArtifactVersion, EntityKey, HolderKind, IndexedChart};
use serde::Deserialize;

/// `GET …/{org}[/{team}]/index.yaml`: every complete version the caller may see.
pub async fn index(
    State(state): State<AppState>,
    HelmCaller(caller): HelmCaller,
    Path(path): Path<SpacePath>,
) -> Result<Response, HelmError> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let started = std::time::Instant::now();
    let rows = state
        .meta
        .chart_index(space.org.id, space.team.as_ref().map(|t| t.id))
        .await?;
    let read = started.elapsed();
    let mut visible = Vec::with_capacity(rows.len());
    for row in &rows {
        if lists(&state, &caller, &space, row).await? {
            visible.push(row);
        }
    }
    if visible.is_empty() {
        refuse_unseen(&caller, &space)?;
    }
    let names: Vec<IndexedName<'_>> = visible
        .iter()
        .map(|row| IndexedName {
            name: &row.name,
            entries: &row.entries_yaml,
        })
        .collect();
    let generated = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = render(&names, &generated);
    tracing::debug!(
        space = %space.namespace(),
        versions = visible.iter().map(|row| row.versions).sum::<i64>(),
        read_ms = read.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "index.yaml built"
    );
    Ok(([(header::CONTENT_TYPE, "application/x-yaml")], body).into_response())
}

async fn lists(state: &AppState, caller: &Caller, space: &Space, row: &IndexedChart) -> Result<bool, ApiError> {
    let key = EntityKey {
        kind: HolderKind::Artifact(ArtifactType::Chart),
        id: row.id,
    };
    let chart = Guarded {
        kind: ArtifactKind::Chart,
        target: Target {
            org: &space.org.name,
            team: space.team_name(),
            entity: Some(&row.path),
        },
        access: row.access,
        standing: standing(state, caller, key, row.access).await?,
    };
    Ok(may(caller, &chart, ArtifactOp::List))
}

/// An empty index is only given to callers who may see the space's charts.
fn refuse_unseen(caller: &Caller, space: &Space) -> Result<(), ApiError> {
    if caller.is_guest() {
        return Err(ApiError::unauthenticated());
    }
    let target = Target::team(&space.org.name, space.team_name());
    if caller.allowed(Action::Artifact(ArtifactKind::Chart, ArtifactOp::List), &target) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "you may not see the charts of '{}'",
        space.namespace()
    )))
}

#[derive(Debug, Deserialize)]
pub struct ArchivePath {
    org: String,
    team: Option<String>,
    file: String,
}

/// `GET …/{org}[/{team}]/charts/{name}-{version}.tgz`.
pub async fn archive(
    State(state): State<AppState>,
    HelmCaller(caller): HelmCaller,
    Path(path): Path<ArchivePath>,
) -> Result<Response, HelmError> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let not_found = || ApiError::NotFound(format!("chart archive '{}' not found", path.file));
    let stem = path.file.strip_suffix(".tgz").ok_or_else(not_found)?;
    let (artifact, version) = find_archive(&state, &space, stem).await?.ok_or_else(not_found)?;
    reveal(
        &caller,
        &guarded(&state, &caller, &artifact).await?,
        ArtifactOp::Download,
    )
    .or_refuse(
        || format!("chart archive '{}' not found", path.file),
        || format!("you may not download chart '{}'", artifact.path),
    )?;
    let stored = state.meta.chart_archive(version.id).await?.ok_or_else(not_found)?;
    let digest: Digest = stored
        .digest
        .parse()
        .map_err(|e: hangar_core::Error| ApiError::Internal(e.to_string()))?;
    let stream = state.blobs.get(&digest, None).await?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/gzip"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(stored.size));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", digest.hex())) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}

/// The chart and version a file name `{name}-{version}` names: chart names and versions may
/// both hold `-`, so every split where a version could start is tried.
async fn find_archive(
    state: &AppState,
    space: &Space,
    stem: &str,
) -> Result<Option<(Artifact, ArtifactVersion)>, ApiError> {
    for (i, _) in stem.match_indices('-') {
        let (name, version) = (&stem[..i], &stem[i + 1..]);
        if !version.starts_with(|c: char| c.is_ascii_digit() || c == 'v') {
            continue;
        }
        let Some(artifact) = state.meta.artifact(ArtifactType::Chart, &space.full_name(name)).await? else {
            continue;
        };
        if let Some(found) = state.meta.version(artifact.id, version).await? {
            return Ok(Some((artifact, found)));
        }
    }
    Ok(None)
}
