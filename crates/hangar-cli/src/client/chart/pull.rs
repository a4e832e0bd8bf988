//! `pull`: a chart version's archive from the Helm repository
//! (`GET /helm/{org}[/{team}]/charts/{name}-{version}.tgz`, ngc-api.md §7), streamed into a
//! temporary file in the destination, then given its name: `<name>-<version>.tgz`, or, as `ngc`
//! does when that file exists already, the first free name after it (`<name>-<version>.tgz-1`,
//! …). Nothing is overwritten; an interrupted pull leaves no file behind.

use super::{CHART, archive_name, helm_charts_path};
use crate::client::Ctx;
use crate::client::http::{error_message, seg};
use crate::client::output::Report;
use crate::client::search::Reader;
use crate::client::target::Target;
use anyhow::{Context, Result, bail};
use clap::Args;
use futures::StreamExt;
use reqwest::Method;
use serde_json::json;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Bytes buffered before a write to disk.
const WRITE_BUFFER: usize = 1 << 20;

#[derive(Debug, Args)]
pub struct PullArgs {
    /// <org>/[<team>/]<name>[:<version>] (default: the latest version).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Folder to save the chart in.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dest: PathBuf,
}

/// `ngc`'s `get_incremented_filename`: `name` in `dir` when it is free, else the first free
/// `<stem>-<n>.<ext>` for a name with one period, `<name>-<n>` for any other.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let numbered = |n: u64| match name.split_once('.') {
        Some((stem, ext)) if !ext.contains('.') => format!("{stem}-{n}.{ext}"),
        _ => format!("{name}-{n}"),
    };
    std::iter::once(name.to_string())
        .chain((1..).map(numbered))
        .map(|candidate| dir.join(candidate))
        .find(|path| path.symlink_metadata().is_err())
        .unwrap_or_else(|| dir.join(name))
}

pub async fn run(ctx: &Ctx, args: PullArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let target = Target::resolve(&args.target, ctx)?;
    let version = CHART.complete_version(&reader, &target).await?;
    let mut report = Report::new();
    if target.tag.is_none() {
        report = report.text(format!("No version specified; downloading latest version: {version}."));
    }
    let file_name = archive_name(&target.name, &version);
    let path = format!("{}/{}", helm_charts_path("", &target), seg(&file_name));
    let request = reader.api.bytes_request(reader.guest, Method::GET, &path).await?;
    let response = reader.api.execute(request).await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.bytes().await.unwrap_or_default();
        bail!("Cannot pull '{file_name}': {}", error_message(status, &body));
    }
    tokio::fs::create_dir_all(&args.dest)
        .await
        .with_context(|| format!("Cannot create {}", args.dest.display()))?;
    let partial = args.dest.join(format!(".{file_name}.{}.partial", std::process::id()));
    let saved = save(response, &partial).await.and_then(|()| {
        let path = free_path(&args.dest, &file_name);
        std::fs::rename(&partial, &path).with_context(|| format!("Cannot write {}", path.display()))?;
        Ok(path)
    });
    if saved.is_err() {
        // Nothing half-written stays; a partial file that cannot be removed is harmless.
        let _ = std::fs::remove_file(&partial);
    }
    let saved = saved?;
    let shown = std::path::absolute(&saved).unwrap_or(saved).display().to_string();
    Ok(report
        .text(format!("Successfully pulled chart version '{shown}'."))
        .json(json!({"local_path": shown, "version": version})))
}

/// Writes the response body into `partial`.
async fn save(response: reqwest::Response, partial: &Path) -> Result<()> {
    let file = tokio::fs::File::create(partial)
        .await
        .with_context(|| format!("Cannot write {}", partial.display()))?;
    let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.context("The chart archive was cut off; run the command again")?;
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_names_are_incremented_as_ngc_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(free_path(d, "web-0.1.0.tgz"), d.join("web-0.1.0.tgz"));
        std::fs::write(d.join("web-0.1.0.tgz"), b"").unwrap();
        assert_eq!(free_path(d, "web-0.1.0.tgz"), d.join("web-0.1.0.tgz-1"));
        std::fs::write(d.join("web-0.1.0.tgz-1"), b"").unwrap();
        assert_eq!(free_path(d, "web-0.1.0.tgz"), d.join("web-0.1.0.tgz-2"));
        std::fs::write(d.join("web-1.tgz"), b"").unwrap();
        assert_eq!(free_path(d, "web-1.tgz"), d.join("web-1-1.tgz"));
    }
}
