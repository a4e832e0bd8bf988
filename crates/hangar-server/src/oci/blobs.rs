//! `HEAD|GET|DELETE /v2/<name>/blobs/<digest>`, with ranged reads.

use super::auth::{DELETE, PULL, RegistryCaller};
use super::error::{OciResult, RegistryCode, registry};
use super::repo::{digest, existing};
use crate::catalog::blobs::{blob_response, parse_range};
use crate::state::AppState;
use axum::http::header::RANGE;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

pub const DIGEST_HEADER: &str = "Docker-Content-Digest";

pub async fn read(
    state: &AppState,
    rc: &RegistryCaller,
    method: &Method,
    headers: &HeaderMap,
    name: &str,
    d: &str,
) -> OciResult<Response> {
    let repo = existing(state, rc, name, PULL).await?;
    let d = digest(d)?;
    let size = state
        .meta
        .linked_blob(repo.id, d.as_str())
        .await?
        .ok_or_else(|| registry(RegistryCode::BlobUnknown, format!("blob {d} is not in '{name}'")))?
        as u64;
    let range = match headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) => Some(parse_range(value, size).ok_or_else(|| {
            registry(
                RegistryCode::RangeInvalid,
                format!("unsatisfiable range '{value}' for {size} bytes"),
            )
        })?),
        None => None,
    };
    let builder = Response::builder().header(DIGEST_HEADER, d.as_str());
    blob_response(state, builder, method, &d, size, range).await
}

pub async fn delete(state: &AppState, rc: &RegistryCaller, name: &str, d: &str) -> OciResult<Response> {
    let repo = existing(state, rc, name, DELETE).await?;
    let d = digest(d)?;
    if !state.meta.unlink_blob(repo.id, d.as_str()).await? {
        return Err(registry(
            RegistryCode::BlobUnknown,
            format!("blob {d} is not in '{name}'"),
        ));
    }
    Ok(StatusCode::ACCEPTED.into_response())
}
