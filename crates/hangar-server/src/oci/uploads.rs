//! Blob uploads: monolithic, chunked and streamed (`POST|PATCH|PUT|GET|DELETE
//! /v2/<name>/blobs/uploads/…`) and cross-repository mounts. Each chunk is stored as a blob of
//! its own; finishing checks the digest over all chunks, so a single-chunk push is never copied.

use super::auth::{PULL, PUSH, RegistryCaller};
use super::blobs::DIGEST_HEADER;
use super::body::{Fault, Watch, limited};
use super::error::{OciError, OciResult, RegistryCode, registry};
use super::repo::{digest, ensure, existing, link_stored};
use crate::state::AppState;
use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, LOCATION, RANGE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hangar_store::blob::Digest;
use hangar_store::meta::{Repository, Upload};
use std::collections::HashMap;

const UUID_HEADER: &str = "Docker-Upload-UUID";

fn response(status: StatusCode, headers: &[(&str, String)]) -> OciResult<Response> {
    let mut builder = Response::builder().status(status).header(CONTENT_LENGTH, 0);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::empty()).map_err(OciError::internal)
}

fn session_headers(name: &str, upload: &Upload) -> Vec<(&'static str, String)> {
    let last = (upload.size() - 1).max(0);
    vec![
        (LOCATION.as_str(), format!("/v2/{name}/blobs/uploads/{}", upload.id)),
        (RANGE.as_str(), format!("0-{last}")),
        (UUID_HEADER, upload.id.clone()),
    ]
}

fn created(name: &str, d: &Digest) -> OciResult<Response> {
    response(
        StatusCode::CREATED,
        &[
            (LOCATION.as_str(), format!("/v2/{name}/blobs/{d}")),
            (DIGEST_HEADER, d.to_string()),
        ],
    )
}

fn too_large(state: &AppState) -> OciError {
    registry(
        RegistryCode::TooLarge,
        format!("a layer may be at most {} bytes", state.settings.max_layer_bytes),
    )
}

/// `POST …/blobs/uploads/`: a mount, a monolithic upload (`?digest=`), or a new session.
pub async fn start(
    state: &AppState,
    rc: &RegistryCaller,
    name: &str,
    query: &HashMap<String, String>,
    body: Body,
) -> OciResult<Response> {
    let located = match (query.get("mount"), query.get("from")) {
        (Some(_), Some(source)) => rc.require_mount(state, name, source).await?,
        _ => rc.require(state, name, PUSH).await?,
    };
    let repo = ensure(state, name, located).await?;
    if let Some(mount) = query.get("mount") {
        let d = digest(mount)?;
        if let Some(size) = mountable(state, rc, &d, query.get("from")).await? {
            // A blob that garbage collection took meanwhile is uploaded instead.
            if link_stored(state, &repo, &d, size as u64).await.is_ok() {
                return created(name, &d);
            }
        }
    } else if let Some(text) = query.get("digest") {
        let d = digest(text)?;
        let watch = Watch::default();
        let stream = limited(body, state.settings.max_layer_bytes, &watch);
        let info = state
            .blobs
            .put(&d, None, stream)
            .await
            .map_err(|e| upload_error(state, e, &watch))?;
        link_stored(state, &repo, &d, info.size).await?;
        return created(name, &d);
    }
    let upload = state.meta.create_upload(repo.id).await?;
    response(StatusCode::ACCEPTED, &session_headers(name, &upload))
}

/// The size of the blob if the caller may mount it: from `from` when given and readable, else
/// from any repository the caller may pull from.
async fn mountable(state: &AppState, rc: &RegistryCaller, d: &Digest, from: Option<&String>) -> OciResult<Option<i64>> {
    for (source, size) in state.meta.repositories_with_blob(d.as_str()).await? {
        if from.is_some_and(|f| *f != source) {
            continue;
        }
        if rc.require(state, &source, PULL).await.is_ok() {
            return Ok(Some(size));
        }
    }
    Ok(None)
}

/// A failed store of a request body: the client's fault when the body was too large or broke
/// off (the store then reports an I/O error too); otherwise the store's answer.
fn upload_error(state: &AppState, e: hangar_store::Error, watch: &Watch) -> OciError {
    match watch.fault() {
        Some(Fault::TooLarge) => return too_large(state),
        Some(broken @ Fault::Broken(_)) => return registry(RegistryCode::BlobUploadInvalid, broken.to_string()),
        None => {}
    }
    match e {
        hangar_store::Error::DigestMismatch { .. } => registry(RegistryCode::DigestInvalid, e.to_string()),
        hangar_store::Error::SizeMismatch { .. } => registry(RegistryCode::SizeInvalid, e.to_string()),
        hangar_store::Error::Invalid(why) => registry(RegistryCode::DigestInvalid, why),
        other => other.into(),
    }
}

async fn session(state: &AppState, repo: &Repository, id: &str) -> OciResult<Upload> {
    state
        .meta
        .upload(id)
        .await?
        .filter(|u| u.repository_id == repo.id)
        .ok_or_else(|| registry(RegistryCode::BlobUploadUnknown, format!("upload '{id}' is not known")))
}

/// Stores the body as the session's next chunk. A `Content-Range` must start where the
/// session ends (416 otherwise) and match the body's length.
async fn append(state: &AppState, upload: &mut Upload, headers: &HeaderMap, body: Body) -> OciResult<()> {
    let offset = upload.size() as u64;
    let range = headers
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            parse_content_range(v)
                .ok_or_else(|| registry(RegistryCode::RangeInvalid, format!("invalid Content-Range '{v}'")))
        })
        .transpose()?;
    if let Some((start, _)) = range
        && start != offset
    {
        return Err(registry(
            RegistryCode::RangeInvalid,
            format!("chunk starts at {start}, the upload is at {offset}"),
        ));
    }
    let room = state.settings.max_layer_bytes.saturating_sub(offset);
    let watch = Watch::default();
    let info = state
        .blobs
        .put_unknown(limited(body, room, &watch))
        .await
        .map_err(|e| upload_error(state, e, &watch))?;
    if let Some((start, end)) = range
        && end + 1 - start != info.size
    {
        return Err(registry(
            RegistryCode::SizeInvalid,
            format!(
                "Content-Range says {} bytes, the body had {}",
                end + 1 - start,
                info.size
            ),
        ));
    }
    if info.size == 0 {
        return Ok(());
    }
    let seq = upload.chunks.len() as i64;
    state
        .meta
        .add_upload_chunk(&upload.id, seq, info.digest.as_str(), info.size as i64)
        .await
        .map_err(|e| match e {
            hangar_store::Error::Conflict(_) => {
                registry(RegistryCode::RangeInvalid, "another chunk was appended first")
            }
            other => other.into(),
        })?;
    // As for links (`link_stored`): the chunk's blob may have gone before the claim.
    if state.blobs.stat(&info.digest).await?.is_none() {
        return Err(hangar_store::Error::Collected(info.digest.to_string()).into());
    }
    upload.chunks.push((info.digest.to_string(), info.size as i64));
    Ok(())
}

/// `start-end` (inclusive), with or without a `bytes ` prefix.
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let v = value.trim().trim_start_matches("bytes").trim_start_matches(['=', ' ']);
    let v = v.split('/').next()?;
    let (a, b) = v.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some((a, b))
}

/// `PATCH …/blobs/uploads/<id>`: one more chunk (or the whole stream).
pub async fn patch(
    state: &AppState,
    rc: &RegistryCaller,
    headers: &HeaderMap,
    name: &str,
    id: &str,
    body: Body,
) -> OciResult<Response> {
    let repo = existing(state, rc, name, PUSH).await?;
    let mut upload = session(state, &repo, id).await?;
    append(state, &mut upload, headers, body).await?;
    response(StatusCode::ACCEPTED, &session_headers(name, &upload))
}

/// `PUT …/blobs/uploads/<id>?digest=`: the last chunk, if any, then the digest check over all.
pub async fn finish(
    state: &AppState,
    rc: &RegistryCaller,
    headers: &HeaderMap,
    name: &str,
    id: &str,
    query: &HashMap<String, String>,
    body: Body,
) -> OciResult<Response> {
    let repo = existing(state, rc, name, PUSH).await?;
    let mut upload = session(state, &repo, id).await?;
    let d = digest(query.get("digest").map(String::as_str).unwrap_or_default())?;
    append(state, &mut upload, headers, body).await?;
    let parts: Vec<Digest> = upload.chunks.iter().map(|(p, _)| digest(p)).collect::<OciResult<_>>()?;
    let size = match parts.as_slice() {
        [only] if *only == d => upload.size() as u64,
        _ => {
            concat(state, &d, parts)
                .await
                .map_err(|e| upload_error(state, e, &Watch::default()))?
                .size
        }
    };
    link_stored(state, &repo, &d, size).await?;
    state.meta.delete_upload(&upload.id).await?;
    created(name, &d)
}

/// Streams the chunks in order into one verified blob.
async fn concat(
    state: &AppState,
    d: &Digest,
    parts: Vec<Digest>,
) -> hangar_store::Result<hangar_store::blob::BlobInfo> {
    let body = hangar_store::blob::concat(state.blobs.clone(), parts);
    state.blobs.put(d, None, body).await
}

pub async fn status(state: &AppState, rc: &RegistryCaller, name: &str, id: &str) -> OciResult<Response> {
    let repo = existing(state, rc, name, PUSH).await?;
    let upload = session(state, &repo, id).await?;
    response(StatusCode::NO_CONTENT, &session_headers(name, &upload))
}

/// `DELETE …/blobs/uploads/<id>`: abandons the upload.
pub async fn cancel(state: &AppState, rc: &RegistryCaller, name: &str, id: &str) -> OciResult<Response> {
    let repo = existing(state, rc, name, PUSH).await?;
    let upload = session(state, &repo, id).await?;
    state.meta.delete_upload(&upload.id).await?;
    response(StatusCode::NO_CONTENT, &[])
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("0-99"), Some((0, 99)));
        assert_eq!(parse_content_range("bytes 100-199/*"), Some((100, 199)));
        assert_eq!(parse_content_range("bytes=5-5"), Some((5, 5)));
        assert_eq!(parse_content_range("9-1"), None);
        assert_eq!(parse_content_range("x"), None);
    }
}
