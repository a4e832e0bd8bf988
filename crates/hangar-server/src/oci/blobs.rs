//! `HEAD|GET|DELETE /v2/<name>/blobs/<digest>`, with ranged reads.

use super::auth::{DELETE, PULL, RegistryCaller};
use super::repo::{digest, existing};
use crate::error::{ApiResult, RegistryCode, registry};
use crate::state::AppState;
use axum::body::Body;
use axum::http::header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hangar_store::blob::Digest;

pub const DIGEST_HEADER: &str = "Docker-Content-Digest";

pub async fn read(
    state: &AppState,
    rc: &RegistryCaller,
    method: &Method,
    headers: &HeaderMap,
    name: &str,
    d: &str,
) -> ApiResult<Response> {
    let repo = existing(state, rc, name, PULL).await?;
    let d = digest(d)?;
    let size = state
        .meta
        .linked_blob(repo.id, d.as_str())
        .await?
        .ok_or_else(|| registry(RegistryCode::BlobUnknown, format!("blob {d} is not in '{name}'")))?
        as u64;
    let range = match headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) => Some(parse_range(value, size)?),
        None => None,
    };
    let builder = Response::builder().header(DIGEST_HEADER, d.as_str());
    blob_response(state, builder, method, &d, size, range).await
}

/// A blob's bytes (none for HEAD), whole or the half-open `range`, with its length headers.
pub async fn blob_response(
    state: &AppState,
    builder: axum::http::response::Builder,
    method: &Method,
    d: &Digest,
    size: u64,
    range: Option<(u64, u64)>,
) -> ApiResult<Response> {
    let (status, start, end) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end),
        None => (StatusCode::OK, 0, size),
    };
    let mut builder = builder
        .status(status)
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_LENGTH, end - start)
        .header(ACCEPT_RANGES, "bytes");
    if range.is_some() {
        builder = builder.header(CONTENT_RANGE, format!("bytes {start}-{}/{size}", end.saturating_sub(1)));
    }
    let body = if *method == Method::HEAD || end == start {
        Body::empty()
    } else {
        Body::from_stream(state.blobs.get(d, Some((start, Some(end)))).await?)
    };
    builder.body(body).map_err(|e| crate::ApiError::Internal(e.to_string()))
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` as a half-open range within `size`.
pub fn parse_range(value: &str, size: u64) -> ApiResult<(u64, u64)> {
    let bad = || {
        registry(
            RegistryCode::RangeInvalid,
            format!("unsatisfiable range '{value}' for {size} bytes"),
        )
    };
    let spec = value.trim().strip_prefix("bytes=").ok_or_else(bad)?;
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| bad())?;
            (size.saturating_sub(n), size)
        }
        (a, "") => (a.parse().map_err(|_| bad())?, size),
        (a, b) => {
            let a: u64 = a.parse().map_err(|_| bad())?;
            let b: u64 = b.parse().map_err(|_| bad())?;
            (a, b.saturating_add(1).min(size))
        }
    };
    if start >= size.max(1) || start > end {
        return Err(bad());
    }
    Ok((start, end))
}

pub async fn delete(state: &AppState, rc: &RegistryCaller, name: &str, d: &str) -> ApiResult<Response> {
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

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), (0, 10));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), (90, 100));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), (90, 100));
        assert_eq!(parse_range("bytes=95-200", 100).unwrap(), (95, 100));
        assert!(parse_range("bytes=100-", 100).is_err());
        assert!(parse_range("bytes=5-2", 100).is_err());
        assert!(parse_range("items=0-1", 100).is_err());
    }
}
