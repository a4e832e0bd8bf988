//! Online garbage collection of the blob store, safe with concurrent pushes and replicas.
//!
//! A pass, under the database lease `gc` (one replica at a time):
//!
//! 1. deletes upload sessions idle for longer than the upload expiry (their chunks become
//!    garbage) and the blob store's temporary data older than that;
//! 2. lists the blob store in batches and marks what is referenced — by a manifest, by a chunk of
//!    an upload session, or by a link into a repository younger than the grace period (a push in
//!    progress links its layers before its manifest comes). Unreferenced blobs become candidates
//!    (`gc_candidates`, with when a pass first saw them so);
//! 3. deletes candidates that an earlier pass saw unreferenced at least the grace period ago,
//!    each after marking it `deleting` in a transaction that checks once more that nothing
//!    refers to it and removes its stale links (older than the grace period, needed by no
//!    manifest). Pushes that refer to a blob claim it in their own transactions, so a push and
//!    the deletion of the same blob never both succeed (see `hangar_store::meta::gc`).
//!
//! A blob is thus deleted only when nothing referred to it when it was marked, its links were
//! all more than the grace period old, and a pass at least the grace period earlier found it
//! unreferenced. A pass first finishes deletions that an earlier pass marked and did not
//! complete.
//!
//! Times are whole Unix seconds, cut down, so "more than the grace period ago" is "stamped at or
//! before `seen - grace - 1`" ([`cutoff`]); a link stamped `seen - grace` may be barely more
//! than `grace - 1` seconds old. The mark's own check of the links is what protects a push: a
//! pass reads the references and notes candidates in separate statements, so a push can link a
//! blob in between, and its candidate then looks first seen before the link.

use crate::error::ApiError;
use crate::identity::sessions::FAILURE_WINDOW;
use crate::state::AppState;
use futures::{FutureExt, TryStreamExt};
use hangar_store::blob::{BlobInfo, Digest};
use hangar_store::meta::now;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// The name of GC's lease in `gc_lease`.
pub const LEASE: &str = "gc";
/// How often a replica tries a pass.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// How long a blob stays unreferenced before it is deleted.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60 * 60);
/// How long an upload session may stay idle.
pub const DEFAULT_UPLOAD_EXPIRY: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a lease lasts unless renewed; a pass renews it as it goes.
const LEASE_TTL: Duration = Duration::from_secs(10 * 60);
/// Blobs handled per batch.
const BATCH: usize = 500;
/// The first pass runs this long after the start (or after the interval, if shorter).
const FIRST_PASS_AFTER: Duration = Duration::from_secs(5 * 60);

/// How a pass runs.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// How long a blob must stay unreferenced (and a link unused) before it is deleted.
    pub grace: Duration,
    /// Upload sessions idle for longer are deleted; temporary data older is swept.
    pub upload_expiry: Duration,
    /// After a pass, other replicas skip theirs until this long after its start.
    pub keep_lease: Duration,
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Another replica held the lease; nothing was done.
    pub skipped: bool,
    /// Blobs listed in the blob store.
    pub blobs_seen: u64,
    pub blobs_deleted: u64,
    pub bytes_freed: u64,
    /// Upload sessions deleted for being idle too long.
    pub uploads_expired: u64,
    /// Items of temporary upload data removed.
    pub temp_swept: u64,
    /// Expired sessions, password links and sign-in failure counts deleted.
    pub account_rows_forgotten: u64,
}

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The last whole second surely more than `grace` before `seen` (a pass's `now()`): a time
/// stamped second `t` happened within `[t, t + 1)`, and `seen` itself can be late in its second.
/// Links stamped after the cutoff count as recent; candidates first seen at or before it are due.
pub fn cutoff(seen: i64, grace: Duration) -> i64 {
    let whole = seconds(grace.saturating_add(Duration::from_nanos(999_999_999)));
    seen.saturating_sub(whole).saturating_sub(1)
}

/// One GC pass, if no other replica is running one (then the report says `skipped`).
pub async fn gc_once(state: &AppState, options: &GcOptions) -> Result<GcReport, ApiError> {
    let holder = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    if !state.meta.acquire_lease(LEASE, &holder, seconds(LEASE_TTL)).await? {
        return Ok(GcReport {
            skipped: true,
            ..GcReport::default()
        });
    }
    let started = now();
    let result = pass(state, options, &holder).await;
    let until = match result {
        Ok(_) => started.saturating_add(seconds(options.keep_lease)),
        Err(_) => 0,
    };
    if let Err(e) = state.meta.release_lease(LEASE, &holder, until).await {
        tracing::warn!(error = %e, "could not release the GC lease; it expires by itself");
    }
    result
}

async fn pass(state: &AppState, options: &GcOptions, holder: &str) -> Result<GcReport, ApiError> {
    let started = now();
    let mut report = GcReport {
        uploads_expired: state
            .meta
            .expire_uploads(started.saturating_sub(seconds(options.upload_expiry)))
            .await?,
        temp_swept: state.blobs.sweep_temp(options.upload_expiry).await?,
        // Used and expired links are kept a week, to tell their holder so.
        account_rows_forgotten: state
            .meta
            .forget_expired_accounts_data(started - 7 * 24 * 60 * 60, started - FAILURE_WINDOW)
            .await?,
        ..GcReport::default()
    };
    for digest in state.meta.gc_unfinished().await? {
        if let Some(freed) = delete(state, &digest).await {
            report.blobs_deleted += 1;
            report.bytes_freed += freed;
        }
    }
    let mut renew_at = started + seconds(LEASE_TTL) / 2;
    let mut listing = state.blobs.list();
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let next = listing.try_next().await?;
        let done = next.is_none();
        batch.extend(next);
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            report.blobs_seen += batch.len() as u64;
            sweep(state, options, &batch, &mut report).await?;
            batch.clear();
            if now() >= renew_at {
                if !state.meta.acquire_lease(LEASE, holder, seconds(LEASE_TTL)).await? {
                    return Err(ApiError::Conflict("another replica took the GC lease over".into()));
                }
                renew_at = now() + seconds(LEASE_TTL) / 2;
            }
        }
        if done {
            break;
        }
    }
    // Only after a complete listing: candidates not listed this pass are gone from the store.
    state.meta.gc_forget_unseen(started).await?;
    Ok(report)
}

/// Marks one batch of listed blobs and deletes those due.
async fn sweep(
    state: &AppState,
    options: &GcOptions,
    batch: &[BlobInfo],
    report: &mut GcReport,
) -> Result<(), ApiError> {
    let meta = &state.meta;
    let seen = now();
    let cutoff = cutoff(seen, options.grace);
    let digests: Vec<&str> = batch.iter().map(|b| b.digest.as_str()).collect();
    let referenced = meta.gc_referenced(&digests, cutoff).await?;
    let (used, unused): (Vec<&str>, Vec<&str>) = digests.iter().partition(|d| referenced.contains(**d));
    let earlier = meta.gc_note(&used, &unused, seen).await?;
    let due: Vec<&BlobInfo> = batch
        .iter()
        .filter(|b| earlier.get(b.digest.as_str()).is_some_and(|first| *first <= cutoff))
        .collect();
    for blob in due {
        let digest = blob.digest.as_str();
        if !meta.gc_mark_deleting(digest, cutoff).await? {
            tracing::debug!(%digest, "GC: the blob is referenced again; kept");
            continue;
        }
        if let Some(freed) = delete(state, digest).await {
            report.blobs_deleted += 1;
            report.bytes_freed += freed;
        }
    }
    Ok(())
}

/// Deletes a blob marked `deleting` and forgets it; its size, or `None` when the blob store
/// failed (the mark stays, and the next pass tries again).
async fn delete(state: &AppState, digest: &str) -> Option<u64> {
    let result = async {
        let d: Digest = digest
            .parse()
            .map_err(|_| ApiError::Internal(format!("GC candidate {digest} is not a digest")))?;
        let size = state.blobs.stat(&d).await?.unwrap_or(0);
        state.blobs.delete(&d).await?;
        state.meta.gc_forget(digest).await?;
        Ok::<_, ApiError>(size)
    };
    match result.await {
        Ok(size) => {
            tracing::debug!(%digest, size, "GC: deleted an unreferenced blob");
            Some(size)
        }
        Err(e) => {
            tracing::warn!(%digest, error = %e, "GC: could not delete the blob; the next pass tries again");
            None
        }
    }
}

/// Runs a pass every `every` (the first one a few minutes after the start), forever; a pass
/// that fails or panics is logged, and the next one runs as planned. Other replicas skip their
/// passes for half the interval after one ran.
pub async fn run_gc_loop(state: AppState, every: Duration, grace: Duration, upload_expiry: Duration) {
    let every = every.max(Duration::from_secs(1));
    let options = GcOptions {
        grace,
        upload_expiry,
        keep_lease: every / 2,
    };
    let mut ticks = tokio::time::interval_at(Instant::now() + every.min(FIRST_PASS_AFTER), every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match AssertUnwindSafe(gc_once(&state, &options)).catch_unwind().await {
            Ok(Ok(report)) if report.skipped => tracing::debug!("GC: another replica holds the lease; skipped"),
            Ok(Ok(report)) => tracing::info!(
                blobs_seen = report.blobs_seen,
                blobs_deleted = report.blobs_deleted,
                bytes_freed = report.bytes_freed,
                uploads_expired = report.uploads_expired,
                temp_swept = report.temp_swept,
                "GC pass done"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "GC pass failed"),
            Err(_) => tracing::error!("GC pass panicked"),
        }
    }
}

/// When and how GC runs in `hangar serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcConfig {
    /// `None`: no GC in this process.
    pub every: Option<Duration>,
    pub grace: Duration,
    pub upload_expiry: Duration,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            every: Some(DEFAULT_INTERVAL),
            grace: DEFAULT_GRACE,
            upload_expiry: DEFAULT_UPLOAD_EXPIRY,
        }
    }
}

/// The GC loop of a server; stopped when dropped.
pub struct GcTask(Option<JoinHandle<()>>);

impl Drop for GcTask {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Starts the GC loop, unless `config` turns it off.
pub fn spawn(state: AppState, config: &GcConfig) -> GcTask {
    GcTask(
        config
            .every
            .map(|every| tokio::spawn(run_gc_loop(state, every, config.grace, config.upload_expiry))),
    )
}
