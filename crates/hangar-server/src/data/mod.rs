//! The data plane: file bytes in and out at signed URLs (ngc-api.md §5), which the API hands
//! out to callers it has checked. Part uploads go straight into the blob store, hashed while
//! streaming; downloads stream from it, with ranges.

pub mod signing;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{ETAG, RANGE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use futures::StreamExt;
use hangar_store::blob::Digest;
use serde::Deserialize;

/// How long a data URL stays good.
pub const URL_TTL_SECONDS: i64 = 24 * 60 * 60;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/data/uploads/{id}/{part}", put(put_part))
        .route("/data/files/{digest}/{*name}", get(get_file))
}

#[derive(Deserialize)]
pub struct Signed {
    expires: Option<i64>,
    signature: Option<String>,
}

/// The URL a part of an upload goes to.
pub fn part_url(state: &AppState, base: &str, upload_id: &str, part: i64) -> String {
    let path = format!("/data/uploads/{upload_id}/{part}");
    format!("{base}{}", state.urls.sign("PUT", &path, URL_TTL_SECONDS))
}

/// The URL a stored file is read from; `name` is only for people and logs.
pub fn file_url(state: &AppState, base: &str, digest: &str, name: &str) -> String {
    let name: String = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).collect();
    let path = format!("/data/files/{digest}/{name}");
    format!("{base}{}", state.urls.sign("GET", &path, URL_TTL_SECONDS))
}

/// `PUT /data/uploads/{id}/{part}`: one part of a file upload, exactly its size.
async fn put_part(
    State(state): State<AppState>,
    Path((id, part)): Path<(String, i64)>,
    Query(signed): Query<Signed>,
    body: Body,
) -> ApiResult<Response> {
    let path = format!("/data/uploads/{id}/{part}");
    state
        .urls
        .check("PUT", &path, signed.expires, signed.signature.as_deref())?;
    let upload = state
        .meta
        .file_upload_by_id(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("upload '{id}' is not known (completed or expired)")))?;
    if part < 1 || part > upload.part_count() {
        return Err(ApiError::BadRequest(format!(
            "part {part} is outside 1..={}",
            upload.part_count()
        )));
    }
    let expected = upload.part_len(part) as u64;
    let mut seen = 0u64;
    let stream = body
        .into_data_stream()
        .map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            seen += chunk.len() as u64;
            if seen > expected {
                return Err(std::io::Error::other("the part is longer than announced"));
            }
            Ok(chunk)
        })
        .boxed();
    let info = state.blobs.put_unknown(stream).await.map_err(|e| match e {
        hangar_store::Error::Io(io) => ApiError::BadRequest(format!("part {part}: {io}")),
        other => other.into(),
    })?;
    if info.size != expected {
        return Err(ApiError::BadRequest(format!(
            "part {part} must be {expected} bytes, not {}",
            info.size
        )));
    }
    state
        .meta
        .add_file_part(&upload.id, part, info.digest.as_str(), info.size as i64)
        .await?;
    tracing::debug!(upload = %upload.id, part, bytes = info.size, "file part received");
    Response::builder()
        .status(StatusCode::OK)
        .header(ETAG, format!("\"{}\"", info.digest.hex()))
        .body(Body::empty())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /data/files/{digest}/{name}`: a stored file, whole or a range. A malformed range is
/// ignored, as S3 does (NGC's client asks for an empty file as `bytes=0--1`).
async fn get_file(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((digest, name)): Path<(String, String)>,
    Query(signed): Query<Signed>,
) -> ApiResult<Response> {
    let encoded: String = percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC).collect();
    let path = format!("/data/files/{digest}/{encoded}");
    state
        .urls
        .check("GET", &path, signed.expires, signed.signature.as_deref())?;
    let d: Digest = digest
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("invalid digest '{digest}'")))?;
    let size = state
        .blobs
        .stat(&d)
        .await?
        .ok_or_else(|| ApiError::NotFound("the file is no longer stored".into()))?;
    let range = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::oci::parse_range(v, size).ok());
    crate::oci::blob_response(&state, Response::builder(), &method, &d, size, range).await
}
