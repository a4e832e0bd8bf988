//! `download-version`: a complete version into `<dest>/<name>_v<version>/`, the way NGC's
//! client fetches it (ngc-api.md §5.5): the file list, signed URLs, then each file streamed to
//! disk, several at a time, hashed as it arrives and checked against the server's SHA-256.
//! A file lands under its name only once whole and verified; an interrupted file is kept as
//! `<name>.partial` and the next run asks only for the bytes after it.

use super::Kind;
use super::files::local_path;
use super::summary::{Direction, Progress, Summary};
use crate::client::Ctx;
use crate::client::http::{data_client, seg};
use crate::client::output::Report;
use crate::client::search::Reader;
use crate::client::target::{Target, glob_match};
use crate::client::views::field;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::io::AsyncWriteExt;

/// Bytes buffered before a write to disk.
const WRITE_BUFFER: usize = 1 << 20;

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// <org>/[<team>/]<name>[:<version>] (default: the latest version).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Folder to download into.
    #[arg(short = 'd', long = "dest", value_name = "DIR", default_value = ".")]
    pub dest: PathBuf,
    /// Only files whose path matches this glob; repeat for more.
    #[arg(long = "file", value_name = "GLOB")]
    pub files: Vec<String>,
    /// Leave out files whose path matches this glob; repeat for more.
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Files fetched at the same time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,
}

/// One file of the version to fetch.
struct Wanted {
    path: String,
    size: u64,
    /// Lowercase hex SHA-256.
    sha256: String,
    url: String,
    local: PathBuf,
}

/// The hex of the list's `sha256` (`sha256:<hex>`, bare hex, or NGC's base64).
fn hex_digest(text: &str) -> Option<String> {
    let text = text.strip_prefix("sha256:").unwrap_or(text);
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(text.to_ascii_lowercase());
    }
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    (bytes.len() == 32).then(|| hex::encode(bytes))
}

pub async fn run(ctx: &Ctx, kind: &'static Kind, args: DownloadArgs) -> Result<Report> {
    let started = chrono::Local::now();
    let clock = Instant::now();
    let reader = Reader::new(ctx)?;
    let target = Target::resolve(&args.target, ctx)?;
    let version = kind.wire.complete_version(&reader, &target).await?;
    let listed = kind.wire.files(&reader, &target, &version).await?;
    let selected: Vec<&Value> = listed
        .iter()
        .filter(|f| {
            let path = field(f, "path");
            (args.files.is_empty() || args.files.iter().any(|g| glob_match(g, &path)))
                && !args.exclude.iter().any(|g| glob_match(g, &path))
        })
        .collect();
    if selected.is_empty() && !listed.is_empty() {
        bail!(
            "No file of '{}:{version}' matches --file/--exclude.",
            target.full_name()
        );
    }
    let urls = file_urls(&reader, kind, &target, &version).await?;
    let root = args.dest.join(format!("{}_v{version}", target.name));
    let wanted: Vec<Wanted> = selected
        .iter()
        .map(|f| {
            let path = field(f, "path");
            let url = urls
                .get(&path)
                .cloned()
                .ok_or_else(|| anyhow!("The server gave no download URL for '{path}'."))?;
            let sha256 =
                hex_digest(&field(f, "sha256")).ok_or_else(|| anyhow!("The server gave no SHA-256 for '{path}'."))?;
            Ok(Wanted {
                local: local_path(&root, &path)?,
                size: f.get("sizeInBytes").and_then(Value::as_u64).unwrap_or(0),
                path,
                sha256,
                url,
            })
        })
        .collect::<Result<_>>()?;
    let total: u64 = wanted.iter().map(|w| w.size).sum();
    let progress = Progress::new(total, wanted.len() as u64, "downloading");
    let http = data_client(&ctx.settings)?;
    let received: Vec<u64> = futures::stream::iter(&wanted)
        .map(|w| fetch(&http, w, &progress))
        .buffer_unordered(args.threads as usize)
        .try_collect()
        .await?;
    progress.finish();
    let summary = Summary {
        direction: Direction::Download,
        transfer_id: format!("{}_v{version}", target.name),
        local_path: std::path::absolute(&root).unwrap_or(root).display().to_string(),
        files: wanted.len() as u64,
        bytes: total,
        transferred: received.iter().sum(),
        started,
        clock,
    };
    Ok(summary.report())
}

/// Signed download URLs by path: `{OT}/{kind}/{name}/{version}/files`, or the catalog's path
/// for a guest.
async fn file_urls(reader: &Reader, kind: &Kind, target: &Target, version: &str) -> Result<HashMap<String, String>> {
    let path = if reader.guest {
        let team = target
            .team
            .as_ref()
            .map(|t| format!("/team/{}", seg(t)))
            .unwrap_or_default();
        format!(
            "/v2/{}/org/{}{team}/{}/{}/files",
            kind.wire.segment,
            seg(&target.org),
            seg(&target.name),
            seg(version)
        )
    } else {
        format!("{}/{}/files", target.path(kind.wire.segment), seg(version))
    };
    let body = reader.get(&path, &[]).await?;
    let strings = |key: &str| -> Vec<String> {
        body.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    Ok(strings("filepath").into_iter().zip(strings("urls")).collect())
}

fn partial_path(local: &Path) -> PathBuf {
    let mut name = local.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    local.with_file_name(name)
}

/// The SHA-256 state over what `partial` holds already, and its length (blocking).
fn resume_state(partial: &Path) -> Result<(Sha256, u64)> {
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    let Ok(mut file) = std::fs::File::open(partial) else {
        return Ok((hasher, 0));
    };
    let mut buf = vec![0u8; WRITE_BUFFER];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("Cannot read {}", partial.display()))?;
        if n == 0 {
            return Ok((hasher, len));
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

/// Fetches one file (the rest of it, after an interrupted run), verifies it, and moves it into
/// place. Returns the bytes received.
async fn fetch(http: &reqwest::Client, w: &Wanted, progress: &Progress) -> Result<u64> {
    if let Some(parent) = w.local.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .with_context(|| format!("Cannot create {}", parent.display()))?;
    }
    let partial = partial_path(&w.local);
    let resume_from = partial.clone();
    let (mut hasher, mut have) = tokio::task::spawn_blocking(move || resume_state(&resume_from))
        .await
        .map_err(|e| anyhow!("{e}"))??;
    if have > w.size {
        tokio::fs::remove_file(&partial).await?;
        (hasher, have) = (Sha256::new(), 0);
    }
    progress.bytes.inc(have);
    let received = if have < w.size {
        stream_into(http, w, &partial, have, &mut hasher, &progress.bytes).await?
    } else {
        // An empty file, or one whose bytes all arrived before an interruption.
        tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)
            .await?;
        0
    };
    let digest = hex::encode(hasher.finalize());
    if digest != w.sha256 {
        tokio::fs::remove_file(&partial).await?;
        bail!(
            "'{}' arrived with SHA-256 {digest}, not {}; it was not kept. Run the command again.",
            w.path,
            w.sha256
        );
    }
    tokio::fs::rename(&partial, &w.local)
        .await
        .with_context(|| format!("Cannot write {}", w.local.display()))?;
    progress.files.inc(1);
    Ok(received)
}

/// Appends bytes `from..` of the file to `partial`, hashing them.
async fn stream_into(
    http: &reqwest::Client,
    w: &Wanted,
    partial: &Path,
    from: u64,
    hasher: &mut Sha256,
    bar: &ProgressBar,
) -> Result<u64> {
    let response = http
        .get(&w.url)
        .header(reqwest::header::RANGE, format!("bytes={from}-{}", w.size - 1))
        .send()
        .await
        .with_context(|| format!("Cannot fetch '{}'", w.path))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.bytes().await.unwrap_or_default();
        bail!("'{}': {}", w.path, crate::client::http::error_message(status, &text));
    }
    if from > 0 && status != reqwest::StatusCode::PARTIAL_CONTENT {
        bail!(
            "'{}': the server ignored the range; remove {} and retry.",
            w.path,
            partial.display()
        );
    }
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(partial)
        .await
        .with_context(|| format!("Cannot write {}", partial.display()))?;
    let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut body = response.bytes_stream();
    let mut received = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| format!("'{}' was cut off; run the command again to resume", w.path))?;
        received += chunk.len() as u64;
        if from + received > w.size {
            bail!("'{}' is longer than its listed {} bytes.", w.path, w.size);
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    out.flush().await?;
    if from + received != w.size {
        bail!(
            "'{}' was cut off at {} of {} bytes; run the command again to resume.",
            w.path,
            from + received,
            w.size
        );
    }
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_every_form() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(hex_digest(&format!("sha256:{hex}")).as_deref(), Some(hex));
        assert_eq!(hex_digest(&hex.to_uppercase()).as_deref(), Some(hex));
        assert_eq!(
            hex_digest("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").as_deref(),
            Some(hex)
        );
        assert_eq!(hex_digest("nope"), None);
    }

    #[test]
    fn partial_names() {
        assert_eq!(partial_path(Path::new("/d/a.bin")), Path::new("/d/a.bin.partial"));
    }
}
