//! `push`: a packaged chart (`<name>-<version>.tgz`) becomes a version, as `ngc` sends it
//! (ngc-api.md §7). The archive is checked first with the server's own reader (a gzip tar with a
//! `Chart.yaml` naming the target's chart and version), the chart must exist, and the archive is
//! streamed from disk to ChartMuseum's upload API (`POST /helm/api/{org}[/{team}]/charts`,
//! `application/gzip`, with the expected name and version, which the server checks again); the
//! server makes the version from the archive, and it is shown.

use super::{CHART, archive_name, display, helm_charts_path};
use crate::client::Ctx;
use crate::client::http::{Api, read_json};
use crate::client::output::Report;
use crate::client::search::Reader;
use crate::client::target::Target;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use hangar_server::catalog::charts::archive;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::path::{Path, PathBuf};

/// Bytes read from disk at a time while the archive streams.
const READ_CHUNK: usize = 256 * 1024;

#[derive(Debug, Args)]
pub struct PushArgs {
    /// <org>/[<team>/]<name>:<version>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The chart archive, or the folder that holds `<name>-<version>.tgz`.
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub source: PathBuf,
}

/// The archive to send: `source` when it is a file (named `file_name`), else
/// `<source>/<file_name>`.
fn archive_path(source: &Path, file_name: &str, target: &str) -> Result<PathBuf> {
    let meta = std::fs::metadata(source).with_context(|| format!("The path '{}' does not exist.", source.display()))?;
    if meta.is_dir() {
        let path = source.join(file_name);
        if !path.is_file() {
            bail!("File '{}' does not exist.", path.display());
        }
        return Ok(path);
    }
    let given = source.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if given != file_name {
        bail!(
            "Chart file '{given}' does not match expected filename '{file_name}' for target '{target}'. \
             Please check your target specification or file name."
        );
    }
    Ok(source.to_path_buf())
}

/// Reads the archive as the server will, and checks that its Chart.yaml is the target's
/// (blocking).
fn check_archive(path: &Path, name: &str, version: &str) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("Cannot read {}", path.display()))?;
    let contents = archive::read(std::io::BufReader::new(file))
        .map_err(|e| anyhow!("'{}' is not a chart archive: {e}.", path.display()))?;
    if contents.name != name || contents.version != version {
        bail!(
            "The supplied filename and version '{name}:{version}' do not match the contents of the file '{}', \
             which should be '{}:{}'. Please correct this before attempting to push a new version.",
            path.display(),
            contents.name,
            contents.version
        );
    }
    Ok(())
}

pub async fn run(ctx: &Ctx, args: PushArgs) -> Result<Report> {
    let target = Target::resolve(&args.target, ctx)?;
    let version = target
        .require_tag("push", "a version: <org>/[<team>/]<name>:<version>")?
        .to_string();
    let file_name = archive_name(&target.name, &version);
    let tgz = archive_path(&args.source, &file_name, &args.target)?;
    let (checked, name, v) = (tgz.clone(), target.name.clone(), version.clone());
    tokio::task::spawn_blocking(move || check_archive(&checked, &name, &v))
        .await
        .map_err(|e| anyhow!("{e}"))??;
    let api = ctx.api()?;
    // As `ngc` does, the chart must exist; this call also renews a stale token before the upload.
    if api.find(&target.path(CHART.segment), &[]).await?.is_none() {
        bail!(
            "Chart '{}' was not found: create it with `hangar registry chart create` before pushing a version.",
            target.full_name()
        );
    }
    upload(&api, &target, &version, &tgz, &file_name).await?;
    let reader = Reader { api, guest: false };
    let v = CHART.version(&reader, &target, &version).await?;
    Ok(Report::new()
        .text(format!(
            "Successfully pushed chart version '{}:{version}'.",
            target.name
        ))
        .block(display::version_block(&v, None))
        .json(display::version_json(v, vec![])))
}

/// Streams the archive to the upload API, saying which chart version it must be.
async fn upload(api: &Api, target: &Target, version: &str, tgz: &Path, file_name: &str) -> Result<()> {
    let file = tokio::fs::File::open(tgz)
        .await
        .with_context(|| format!("Cannot read {}", tgz.display()))?;
    let len = file.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK));
    let request = api
        .bytes_request(false, Method::POST, &helm_charts_path("/api", target))
        .await?
        .query(&[("name", target.name.as_str()), ("version", version)])
        .header(CONTENT_TYPE, "application/gzip")
        .header(CONTENT_LENGTH, len)
        .body(body);
    let response = api.execute(request).await?;
    if response.status() == StatusCode::CONFLICT {
        bail!("Chart '{file_name}' already exists in the repository.");
    }
    read_json(response).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_found_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = dir.path().join("web-0.1.0.tgz");
        std::fs::write(&tgz, b"apiVersion: v2\n").unwrap();
        assert_eq!(
            archive_path(dir.path(), "web-0.1.0.tgz", "acme/web:0.1.0").unwrap(),
            tgz
        );
        assert_eq!(archive_path(&tgz, "web-0.1.0.tgz", "acme/web:0.1.0").unwrap(), tgz);
        let err = archive_path(&tgz, "web-0.2.0.tgz", "acme/web:0.2.0")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not match expected filename 'web-0.2.0.tgz'"),
            "{err}"
        );
        let err = archive_path(dir.path(), "web-0.2.0.tgz", "acme/web:0.2.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(archive_path(&dir.path().join("nope"), "web-0.1.0.tgz", "x").is_err());
        let err = check_archive(&tgz, "web", "0.1.0").unwrap_err().to_string();
        assert!(err.contains("is not a chart archive") && err.contains("gzip"), "{err}");
    }
}
