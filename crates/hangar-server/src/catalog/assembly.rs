//! Putting a file upload's parts together into the file's blob, checked against its SHA-256
//! (ngc-api.md §5.1: the client never sends part ETags, so the server assembles the file).
//!
//! One attempt at a time owns an upload's assembly: it claims the upload in the database and
//! renews the claim every [`HEARTBEAT`] while it works, on a task of its own. A claim not renewed
//! for [`STALE_AFTER`] is orphaned — its server died — and the next completion or commit, on any
//! replica, takes it over instead of waiting for it. Whoever finds a live claim waits for its
//! outcome.

use super::error::{DomainError, DomainResult};
use crate::state::AppState;
use hangar_store::blob::Digest;
use hangar_store::meta::{FileUpload, now};
use std::time::Duration;
use tokio::time::Instant;

/// How often a running assembly renews its claim.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a claim stays good without being renewed, in seconds.
pub const STALE_AFTER: i64 = 8;
/// How often a waiting caller looks again.
const POLL: Duration = Duration::from_millis(250);

/// Brings the upload `upload_id` of `path` in version `version_id` (the file `digest`) to its
/// end: puts its parts together unless a live assembly elsewhere is doing that, in which case
/// it waits for it, until `deadline`. `Ok` once the version has received the file.
pub async fn finish(
    state: &AppState,
    upload_id: &str,
    version_id: i64,
    path: &str,
    digest: &str,
    deadline: Instant,
) -> DomainResult<()> {
    loop {
        let Some(upload) = state.meta.file_upload_by_id(upload_id).await? else {
            // Finished (here or elsewhere), or replaced by an upload of other bytes.
            return match state.meta.received_file(version_id, digest).await? {
                Some(_) => Ok(()),
                None => Err(DomainError::Invalid(format!(
                    "the upload of '{path}' is no longer open; upload the file again"
                ))),
            };
        };
        if let Some(n) = upload.missing_part() {
            return Err(DomainError::Invalid(format!(
                "part {n} of '{path}' has not been uploaded"
            )));
        }
        let attempt = uuid::Uuid::new_v4().to_string();
        if state
            .meta
            .claim_assembly(&upload.id, &attempt, now() - STALE_AFTER)
            .await?
        {
            match assemble(state, &upload, &attempt).await {
                Err(Lost) => tracing::info!(path, "another assembly of this file took over; waiting for it"),
                Ok(result) => return result,
            }
        }
        if Instant::now() >= deadline {
            return Err(DomainError::Conflict(format!(
                "'{path}' is still being put together; try again later"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// This attempt lost its claim to another (it was too slow to renew it).
struct Lost;

/// Puts the parts together under the claim of `attempt`, renewing it meanwhile.
async fn assemble(state: &AppState, upload: &FileUpload, attempt: &str) -> Result<DomainResult<()>, Lost> {
    let heartbeat = tokio::spawn(renew(state.clone(), upload.id.clone(), attempt.to_string()));
    let stored = store(state, upload).await;
    heartbeat.abort();
    let recorded = match stored {
        Ok(()) => match state.meta.file_assembled(upload, attempt).await {
            Ok(()) => return Ok(Ok(())),
            Err(hangar_store::Error::NotFound(_)) => return Err(Lost),
            Err(e) => e.into(),
        },
        Err(e) => e,
    };
    if let Err(release) = state.meta.release_assembly(&upload.id, attempt).await {
        tracing::warn!(error = %release, "could not release an assembly claim; it goes stale by itself");
    }
    Ok(Err(recorded))
}

/// Renews the claim of `attempt` every [`HEARTBEAT`] until aborted or the claim is lost.
async fn renew(state: AppState, upload_id: String, attempt: String) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        match state.meta.claim_assembly(&upload_id, &attempt, 0).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(error = %e, "could not renew an assembly claim"),
        }
    }
}

/// Stores the file from its parts, verified against its SHA-256. A single part that is the
/// whole file is already stored. On a mismatch every part is dropped: which one is wrong
/// cannot be told.
async fn store(state: &AppState, upload: &FileUpload) -> DomainResult<()> {
    let expected: Digest = upload
        .digest
        .parse()
        .map_err(|_| DomainError::Internal(format!("stored digest {}", upload.digest)))?;
    if let [(_, only, _)] = upload.parts.as_slice()
        && *only == upload.digest
    {
        return Ok(());
    }
    let parts: Vec<Digest> = upload
        .parts
        .iter()
        .map(|(_, d, _)| {
            d.parse()
                .map_err(|_| DomainError::Internal(format!("stored digest {d}")))
        })
        .collect::<DomainResult<_>>()?;
    let body = hangar_store::blob::concat(state.blobs.clone(), parts);
    match state.blobs.put(&expected, Some(upload.size as u64), body).await {
        Ok(_) => Ok(()),
        Err(e @ (hangar_store::Error::DigestMismatch { .. } | hangar_store::Error::SizeMismatch { .. })) => {
            state.meta.clear_file_parts(&upload.id).await?;
            Err(DomainError::Invalid(format!(
                "'{}': {e}; its parts were dropped, send them all again",
                upload.path
            )))
        }
        Err(other) => Err(other.into()),
    }
}
