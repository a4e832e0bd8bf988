//! `upload-version`: a folder or a file becomes a version, the way NGC's client moves files
//! (ngc-api.md §5.1): the version is created (or found pending, to resume), every file hashed,
//! files stored already skipped (dedupe), the rest sent in 500,000,000-byte parts to signed
//! URLs — several at a time, each streamed from disk — completed, committed, and the version
//! marked complete. The server remembers the parts it has (`partsReceived`), so a rerun of the
//! same command sends only what is missing.

use super::Kind;
use super::files::{SourceFile, base64_sha256, sha256_file, source_files};
use super::metadata::NewVersionArgs;
use super::summary::{Direction, Progress, Summary};
use crate::client::Ctx;
use crate::client::http::{Api, data_client};
use crate::client::output::Report;
use crate::client::target::Target;
use crate::client::views::field;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::Semaphore;

/// NGC's part size, fixed by the protocol.
const PART_SIZE: u64 = 500_000_000;
/// Files per dedupe request, and per commit.
const DEDUPE_BATCH: usize = 100;
const COMMIT_BATCH: usize = 4000;
/// Attempts per part before the upload fails (a rerun resumes it).
const PART_ATTEMPTS: u32 = 3;
/// Bytes read from disk at a time while a part streams.
const READ_CHUNK: usize = 256 * 1024;

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// <org>/[<team>/]<name>[:<version>]; without a version, the next one after the highest
    /// numeric version (`1` for the first).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The folder (or single file) to upload.
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub source: PathBuf,
    #[command(flatten)]
    pub metadata: NewVersionArgs,
    /// Start from this version's files (no bytes are copied); the source's files are added or
    /// replace files of the same path.
    #[arg(long = "base-version", value_name = "VERSION")]
    pub base_version: Option<String>,
    /// With --base-version: a file of the base version to leave out; repeat for more.
    #[arg(long = "remove-file", value_name = "PATH", requires = "base_version")]
    pub remove_files: Vec<String>,
    /// Leave the version UPLOAD_PENDING (complete it later with another upload-version).
    #[arg(long = "no-commit")]
    pub no_commit: bool,
    /// Show what would be uploaded; change nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Parts sent at the same time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,
}

/// One file with its hash.
struct Hashed {
    file: SourceFile,
    sha256: String,
}

/// Where transfer requests go, and what they name.
struct Session<'a> {
    api: Api,
    http: reqwest::Client,
    kind: &'a Kind,
    target: Target,
    version: String,
}

impl Session<'_> {
    fn body(&self, extra: Value) -> Value {
        let mut body = json!({
            "name": self.target.name,
            "version": self.version,
            "artifactType": self.kind.wire.segment,
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        body
    }

    fn multipart_path(&self) -> String {
        format!("{}/files/multipart", self.target.space())
    }
}

/// The version after the highest `1`, `1.2`, `1.2.3`-style one: its last number plus one.
fn next_version(existing: &[String]) -> String {
    let numbers = |v: &str| -> Option<Vec<u64>> { v.split('.').map(|p| p.parse().ok()).collect() };
    match existing.iter().filter_map(|v| numbers(v)).max() {
        Some(mut highest) => {
            if let Some(last) = highest.last_mut() {
                *last += 1;
            }
            highest.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
        }
        None => "1".into(),
    }
}

pub async fn run(ctx: &Ctx, kind: &'static Kind, args: UploadArgs) -> Result<Report> {
    let started = chrono::Local::now();
    let clock = Instant::now();
    let api = ctx.api()?;
    let mut target = Target::resolve(&args.target, ctx)?;
    let version = match target.tag.take() {
        Some(v) => v,
        None => next_version(&kind.wire.version_names(&api, &target).await?),
    };
    let files = source_files(&args.source)?;
    let total: u64 = files.iter().map(|f| f.size).sum();
    if args.dry_run {
        let lines: Vec<String> = files
            .iter()
            .map(|f| format!("  {} ({} bytes)", f.path, f.size))
            .collect();
        return Ok(Report::new().text(format!(
            "Would upload {} file(s), {total} bytes, as {}:{version}:\n{}",
            files.len(),
            target.full_name(),
            lines.join("\n")
        )));
    }
    let body = args.metadata.body(kind, &version)?;
    let session = Session {
        api,
        http: data_client(&ctx.settings)?,
        kind,
        target,
        version,
    };
    let vpath = kind.wire.version_path(&session.target, &session.version);
    match session.api.find(&vpath, &[]).await? {
        Some(existing) => {
            let status = existing.pointer(&format!("/{}/status", kind.wire.version_key));
            if status.and_then(Value::as_str) != Some("UPLOAD_PENDING") {
                bail!(
                    "Target '{}:{}' already exists.",
                    session.target.full_name(),
                    session.version
                );
            }
        }
        None => {
            let create = format!("{}/versions", session.target.path(kind.wire.segment));
            session.api.post(&create, &body).await?;
        }
    }

    let progress = Progress::new(total, files.len() as u64, "hashing");
    let hashed = hash_all(files, args.threads as usize, &progress.bytes).await?;
    progress.bytes.reset();
    progress.bytes.set_message("uploading");
    let stored = dedupe(&session, &hashed).await?;
    // Each content is sent once, whatever the number of paths that hold it; what the server
    // has already is not sent at all.
    let mut wanted = HashSet::new();
    let mut missing = Vec::new();
    for h in &hashed {
        if stored.contains(&h.sha256) || !wanted.insert(h.sha256.as_str()) {
            progress.bytes.inc(h.file.size);
            progress.files.inc(1);
        } else {
            missing.push(h);
        }
    }
    let parts = Semaphore::new(args.threads as usize);
    let sent: Vec<u64> = futures::stream::iter(missing)
        .map(|h| upload_file(&session, h, &parts, &progress))
        .buffer_unordered(args.threads as usize)
        .try_collect()
        .await?;
    progress.finish();

    commit(&session, &hashed, args.base_version.as_deref(), &args.remove_files).await?;
    if !args.no_commit {
        session
            .api
            .patch(&vpath, &[], Some(&json!({"status": "UPLOAD_COMPLETE"})))
            .await?;
    }
    let summary = Summary {
        direction: Direction::Upload,
        transfer_id: format!("{}[version={}]", session.target.name, session.version),
        local_path: std::path::absolute(&args.source)
            .unwrap_or(args.source.clone())
            .display()
            .to_string(),
        files: hashed.len() as u64,
        bytes: total,
        transferred: sent.iter().sum(),
        started,
        clock,
    };
    Ok(summary.report())
}

/// Hashes every file, `threads` at a time, off the async runtime.
async fn hash_all(files: Vec<SourceFile>, threads: usize, bar: &ProgressBar) -> Result<Vec<Hashed>> {
    futures::stream::iter(files)
        .map(|file| {
            let bar = bar.clone();
            async move {
                let local = file.local.clone();
                let digest = tokio::task::spawn_blocking(move || sha256_file(&local, |n| bar.inc(n)))
                    .await
                    .map_err(|e| anyhow!("hashing stopped: {e}"))??;
                Ok::<_, anyhow::Error>(Hashed {
                    file,
                    sha256: base64_sha256(&digest),
                })
            }
        })
        .buffered(threads.min(4))
        .try_collect()
        .await
}

/// The hashes the server stores already (in any entity).
async fn dedupe(session: &Session<'_>, hashed: &[Hashed]) -> Result<HashSet<String>> {
    let path = format!("{}/files", session.target.path(session.kind.wire.segment));
    let mut stored = HashSet::new();
    for batch in hashed.chunks(DEDUPE_BATCH) {
        let files: Vec<Value> = batch.iter().map(|h| json!({"sha256": h.sha256})).collect();
        let answer = session.api.post(&path, &json!({"files": files})).await?;
        for f in answer.get("files").and_then(Value::as_array).into_iter().flatten() {
            if f.get("exists").and_then(Value::as_bool) == Some(true) {
                stored.insert(field(f, "sha256"));
            }
        }
    }
    Ok(stored)
}

/// Sends the parts of one file the server does not have, then completes it. Returns the bytes
/// sent.
async fn upload_file(session: &Session<'_>, h: &Hashed, parts: &Semaphore, progress: &Progress) -> Result<u64> {
    let start = session.body(json!({
        "filePath": h.file.path,
        "size": h.file.size,
        "sha256": h.sha256,
    }));
    let answer = session.api.post(&session.multipart_path(), &start).await?;
    let upload_id = field(&answer, "uploadID");
    let urls: Vec<String> = answer
        .get("urls")
        .and_then(Value::as_array)
        .map(|u| u.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let received: HashSet<u64> = answer
        .get("partsReceived")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let count = h.file.size.div_ceil(PART_SIZE).max(1);
    if upload_id.is_empty() || urls.len() as u64 != count {
        bail!(
            "The server gave {} part URLs for '{}', expected {count}.",
            urls.len(),
            h.file.path
        );
    }
    let received = &received;
    let sent: Vec<u64> = futures::stream::iter(urls.iter().enumerate())
        .map(|(i, url)| {
            let number = i as u64 + 1;
            let offset = i as u64 * PART_SIZE;
            let len = (h.file.size - offset).min(PART_SIZE);
            async move {
                if received.contains(&number) {
                    progress.bytes.inc(len);
                    return Ok(0);
                }
                let _permit = parts.acquire().await.map_err(|e| anyhow!("{e}"))?;
                put_part(&session.http, url, &h.file, offset, len, &progress.bytes)
                    .await
                    .with_context(|| {
                        format!(
                            "Part {number} of '{}' failed; run the command again to resume",
                            h.file.path
                        )
                    })?;
                Ok::<_, anyhow::Error>(len)
            }
        })
        .buffer_unordered(count as usize)
        .try_collect()
        .await?;
    let complete = session.body(json!({
        "filePath": h.file.path,
        "uploadID": upload_id,
        "sha256": h.sha256,
    }));
    let done = session
        .api
        .call(reqwest::Method::PUT, &session.multipart_path(), &[], Some(&complete))
        .await?;
    // A long completion answers 200 at once and sends its outcome at the end of the body.
    let status = done.pointer("/requestStatus/statusCode").and_then(Value::as_str);
    if status.is_some_and(|s| s != "SUCCESS") {
        let why = done
            .pointer("/requestStatus/statusDescription")
            .and_then(Value::as_str)
            .unwrap_or("the server could not put the file together");
        bail!("'{}': {why}", h.file.path);
    }
    progress.files.inc(1);
    Ok(sent.iter().sum())
}

/// PUTs `len` bytes of `file` from `offset`, streamed from disk; retried with backoff. On a
/// failed attempt the bar gives back what that attempt counted.
async fn put_part(
    http: &reqwest::Client,
    url: &str,
    file: &SourceFile,
    offset: u64,
    len: u64,
    bar: &ProgressBar,
) -> Result<()> {
    let mut last = None;
    for attempt in 0..PART_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
        let mut reader = tokio::fs::File::open(&file.local)
            .await
            .with_context(|| format!("Cannot open {}", file.local.display()))?;
        reader.seek(SeekFrom::Start(offset)).await?;
        let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (bar2, counted2) = (bar.clone(), counted.clone());
        let stream =
            tokio_util::io::ReaderStream::with_capacity(reader.take(len), READ_CHUNK).inspect_ok(move |chunk| {
                bar2.inc(chunk.len() as u64);
                counted2.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
            });
        let result = http
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, len)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await;
        let error = match result {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => {
                let status = r.status();
                let text = r.bytes().await.unwrap_or_default();
                anyhow!("{}", crate::client::http::error_message(status, &text))
            }
            Err(e) => anyhow!("{e}"),
        };
        bar.dec(counted.load(std::sync::atomic::Ordering::Relaxed));
        last = Some(error);
    }
    Err(last.unwrap_or_else(|| anyhow!("no attempt was made")))
}

/// Sets the version's files: the base version's first (when given), then every file of the
/// source (uploaded or found stored), then the removals.
async fn commit(session: &Session<'_>, hashed: &[Hashed], base: Option<&str>, remove: &[String]) -> Result<()> {
    let path = format!("{}/files/commit", session.target.space());
    if let Some(base) = base {
        session
            .api
            .post(&path, &session.body(json!({"files": [], "baseVersion": base})))
            .await?;
    }
    let mut changes: Vec<Value> = hashed
        .iter()
        .map(|h| json!({"commitType": "ADDITION", "filePath": h.file.path, "sha256": h.sha256}))
        .collect();
    changes.extend(remove.iter().map(|p| json!({"commitType": "DELETION", "filePath": p})));
    for batch in changes.chunks(COMMIT_BATCH) {
        session.api.post(&path, &session.body(json!({"files": batch}))).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_versions() {
        let v = |list: &[&str]| next_version(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(v(&[]), "1");
        assert_eq!(v(&["1", "3", "2"]), "4");
        assert_eq!(v(&["1.9", "1.10", "beta"]), "1.11");
        assert_eq!(v(&["beta"]), "1");
    }
}
