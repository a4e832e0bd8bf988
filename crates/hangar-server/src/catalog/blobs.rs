//! Serving stored bytes: a blob whole or a byte range of it, streamed from the blob store.

use super::error::DomainError;
use crate::state::AppState;
use axum::body::Body;
use axum::http::header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use hangar_store::blob::Digest;

/// A blob's bytes (none for HEAD), whole or the half-open `range`, with its length headers;
/// failures in the calling surface's error type.
pub async fn blob_response<E: From<DomainError>>(
    state: &AppState,
    builder: axum::http::response::Builder,
    method: &Method,
    d: &Digest,
    size: u64,
    range: Option<(u64, u64)>,
) -> Result<Response, E> {
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
        Body::from_stream(
            state
                .blobs
                .get(d, Some((start, Some(end))))
                .await
                .map_err(DomainError::from)?,
        )
    };
    builder.body(body).map_err(|e| DomainError::internal(e).into())
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` as a half-open range within `size`; `None` when the
/// value is malformed or the range cannot be satisfied.
pub fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.saturating_sub(n), size)
        }
        (a, "") => (a.parse().ok()?, size),
        (a, b) => {
            let a: u64 = a.parse().ok()?;
            let b: u64 = b.parse().ok()?;
            (a, b.saturating_add(1).min(size))
        }
    };
    if start >= size.max(1) || start > end {
        return None;
    }
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=95-200", 100), Some((95, 100)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-2", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=0--1", 0), None);
    }
}
