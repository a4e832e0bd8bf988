//! The data plane: file bytes in and out at the links the API hands out (ngc-api.md §5;
//! `catalog::links`). Part uploads go straight into the blob store, hashed while streaming;
//! downloads stream from it, with ranges, and whole versions stream as zips. Every use checks
//! the link's signature and that whoever it was handed to may still do what it allows, on a
//! version that still exists.

use crate::catalog::access::may_artifact;
use crate::catalog::blobs::{blob_response, parse_range};
use crate::catalog::links::{LinkQuery, Principal, Resource, verify};
use crate::catalog::zip::zip_body;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, RANGE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use error::{DataError, DataResult};
use futures::StreamExt;
use hangar_core::policy::ArtifactOp;
use hangar_store::blob::Digest;
use hangar_store::meta::{Artifact, ArtifactVersion, UPLOAD_COMPLETE, UPLOAD_PENDING};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

mod error;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/data/uploads/{id}/{part}", put(put_part))
        .route("/data/versions/{version}/files/{*path}", get(get_file))
        .route("/data/versions/{version}/zip", get(get_zip))
        .route("/data/versions/{version}/signature", get(get_signature))
}

/// The version a link is about and its entity, if the link's holder may still do `op` to it:
/// downloads need a complete version, uploads a pending one.
async fn linked_version(
    state: &AppState,
    principal: Principal,
    version_id: i64,
    op: ArtifactOp,
) -> DataResult<(Artifact, ArtifactVersion)> {
    let gone = || DataError::NotFound("this version no longer exists".into());
    let version = state.meta.version_by_id(version_id).await?.ok_or_else(gone)?;
    let artifact = state.meta.artifact_by_id(version.artifact_id).await?.ok_or_else(gone)?;
    let wanted = if op == ArtifactOp::Upload {
        UPLOAD_PENDING
    } else {
        UPLOAD_COMPLETE
    };
    if version.status != wanted {
        return Err(DataError::Conflict(format!(
            "version '{}' of '{}' is {}",
            version.version, artifact.path, version.status
        )));
    }
    let caller = principal.caller(state).await?;
    if !may_artifact(state, &caller, op, &artifact).await? {
        return Err(DataError::Forbidden(format!(
            "whoever this data URL was given to may no longer use '{}'",
            artifact.path
        )));
    }
    Ok((artifact, version))
}

/// `PUT /data/uploads/{id}/{part}`: one part of a file upload, exactly its size.
async fn put_part(
    State(state): State<AppState>,
    Path((id, part)): Path<(String, i64)>,
    Query(query): Query<LinkQuery>,
    body: Body,
) -> DataResult<Response> {
    let principal = verify(&state, Resource::Part { upload: &id, part }, &query)?;
    let upload = state
        .meta
        .file_upload_by_id(&id)
        .await?
        .ok_or_else(|| DataError::NotFound(format!("upload '{id}' is not known (completed or expired)")))?;
    linked_version(&state, principal, upload.version_id, ArtifactOp::Upload).await?;
    if part < 1 || part > upload.part_count() {
        return Err(DataError::Invalid(format!(
            "part {part} is outside 1..={}",
            upload.part_count()
        )));
    }
    let expected = upload.part_len(part) as u64;
    let client_fault = Arc::new(AtomicBool::new(false));
    let fault = client_fault.clone();
    let mut seen = 0u64;
    let stream = body
        .into_data_stream()
        .map(move |chunk| {
            let chunk = chunk.map_err(|e| {
                fault.store(true, Ordering::Relaxed);
                std::io::Error::other(e)
            })?;
            seen += chunk.len() as u64;
            if seen > expected {
                fault.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other("the part is longer than announced"));
            }
            Ok(chunk)
        })
        .boxed();
    let info = state.blobs.put_unknown(stream).await.map_err(|e| {
        // The request's fault (a broken or overlong body) is the client's; anything else is
        // the store's, a 5xx.
        if client_fault.load(Ordering::Relaxed) {
            DataError::Invalid(format!("part {part}: {e}"))
        } else {
            e.into()
        }
    })?;
    if info.size != expected {
        return Err(DataError::Invalid(format!(
            "part {part} must be {expected} bytes, not {}",
            info.size
        )));
    }
    state
        .meta
        .add_file_part(&upload.id, part, info.digest.as_str(), info.size as i64)
        .await?;
    tracing::info!(upload = %upload.id, part, bytes = info.size, "file part received");
    Response::builder()
        .status(StatusCode::OK)
        .header(ETAG, format!("\"{}\"", info.digest.hex()))
        .body(Body::empty())
        .map_err(|e| DataError::Internal(e.to_string()))
}

/// `attachment; filename="…"` for a download saved under `name`.
fn attachment(name: &str) -> String {
    format!("attachment; filename=\"{}\"", name.replace(['"', '\\'], "_"))
}

/// `GET /data/versions/{version}/files/{path}`: a file of a version, whole or a range. A
/// malformed range is ignored, as S3 does (NGC's client asks for an empty file as `bytes=0--1`).
async fn get_file(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((version_id, path)): Path<(i64, String)>,
    Query(query): Query<LinkQuery>,
) -> DataResult<Response> {
    let resource = Resource::File {
        version: version_id,
        path: &path,
    };
    let principal = verify(&state, resource, &query)?;
    let (_, version) = linked_version(&state, principal, version_id, ArtifactOp::Download).await?;
    let file = state
        .meta
        .version_files(version.id)
        .await?
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| DataError::NotFound(format!("no file '{path}' in this version")))?;
    let digest: Digest = file
        .digest
        .parse()
        .map_err(|_| DataError::Internal(format!("stored digest {}", file.digest)))?;
    let size = file.size as u64;
    let range = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, size));
    let name = path.rsplit('/').next().unwrap_or("file");
    let builder = Response::builder().header(CONTENT_DISPOSITION, attachment(name));
    blob_response(&state, builder, &method, &digest, size, range).await
}

/// `GET /data/versions/{version}/zip`: the whole version as one zip, `<name>_v<version>.zip`.
async fn get_zip(
    State(state): State<AppState>,
    Path(version_id): Path<i64>,
    Query(query): Query<LinkQuery>,
) -> DataResult<Response> {
    let principal = verify(&state, Resource::Zip { version: version_id }, &query)?;
    let (artifact, version) = linked_version(&state, principal, version_id, ArtifactOp::Download).await?;
    let files = state.meta.version_files(version.id).await?;
    let name = format!("{}_v{}.zip", artifact.name, version.version);
    Response::builder()
        .header(CONTENT_TYPE, "application/zip")
        .header(CONTENT_DISPOSITION, attachment(&name))
        .body(zip_body(state.blobs.clone(), files))
        .map_err(|e| DataError::Internal(e.to_string()))
}

/// `GET /data/versions/{version}/signature`: the version's signature bundle, as
/// `ngc registry model download-version-signature` saves it (`result.sigstore`).
async fn get_signature(
    State(state): State<AppState>,
    Path(version_id): Path<i64>,
    Query(query): Query<LinkQuery>,
) -> DataResult<Response> {
    let principal = verify(&state, Resource::Signature { version: version_id }, &query)?;
    let (_, version) = linked_version(&state, principal, version_id, ArtifactOp::Download).await?;
    let bundle = state
        .meta
        .version_signature(version.id)
        .await?
        .ok_or_else(|| DataError::NotFound("this version is not signed".into()))?;
    Response::builder()
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_DISPOSITION, attachment("result.sigstore"))
        .body(Body::from(bundle))
        .map_err(|e| DataError::Internal(e.to_string()))
}
