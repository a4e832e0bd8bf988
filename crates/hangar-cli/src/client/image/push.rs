//! `hangar registry image push <org>/[<team>/]<repo>[:<tag>] --source <path>`: an OCI image
//! layout folder, an OCI archive (a tarred layout) or a `docker save` tarball, pushed blob by
//! blob (skipping those the registry has), then child manifests by digest, then the tag.

use super::media::Platform;
use super::progress::{Progress, Totals};
use super::reference::ImageRef;
use super::registry::{Registry, Uploaded};
use super::store::{Plan, Store, TarIndex};
use super::{archive, layout};
use crate::client::Ctx;
use crate::client::output::Report;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Blobs sent at the same time.
const PARALLEL: usize = 3;

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The image: <org>/[<team>/]<repository>[:<tag>] (default tag: latest; a bare
    /// <repository> is in the current org and team).
    #[arg(value_name = "IMAGE")]
    image: String,
    /// An OCI image layout folder, an OCI archive (.tar of a layout) or a `docker save`
    /// tarball. In a layout the image is the `index.json` entry named <tag>, or the only one.
    #[arg(long, value_name = "PATH")]
    source: PathBuf,
    /// Push only this platform of a multi-platform image (os/arch[/variant], e.g. linux/amd64).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
}

/// Reads the source into a push plan (blocking).
fn plan(source: &Path, tag: &str, platform: Option<&Platform>, progress: &Progress) -> Result<Plan> {
    let meta = match std::fs::metadata(source) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("The source {} does not exist.", source.display())
        }
        Err(e) => return Err(e).with_context(|| format!("Cannot read {}", source.display())),
    };
    if meta.is_dir() {
        return layout::plan(&Store::Dir(source.to_path_buf()), tag, platform, "oci-layout");
    }
    let index = TarIndex::open(source)?;
    if index.contains("manifest.json") {
        if platform.is_some() {
            bail!("--platform applies to multi-platform images; a docker-archive holds single-platform images.");
        }
        return archive::plan(&index, tag, progress);
    }
    if index.contains("oci-layout") {
        return layout::plan(&Store::Tar(index), tag, platform, "oci-archive");
    }
    bail!(
        "{} is neither a docker-archive (no manifest.json) nor an OCI archive (no oci-layout).",
        source.display()
    )
}

pub async fn run(ctx: &Ctx, args: PushArgs) -> Result<Report> {
    let image = ImageRef::parse(&args.image, ctx.org().ok(), ctx.team())?;
    let tag = image.require_tag()?.to_string();
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let progress = std::sync::Arc::new(Progress::new());
    let plan = {
        let (source, tag, platform, progress) = (args.source.clone(), tag.clone(), platform.clone(), progress.clone());
        tokio::task::spawn_blocking(move || plan(&source, &tag, platform.as_ref(), &progress))
            .await
            .map_err(|e| anyhow!("internal error: {e}"))??
    };
    let registry = Registry::new(&ctx.settings, &image.name, true)?;
    registry.login().await?;

    let blobs = plan.root.blobs();
    let results: Vec<(u64, Uploaded)> = futures::stream::iter(blobs.iter())
        .map(|blob| {
            let (registry, plan, progress) = (&registry, &plan, &progress);
            async move {
                let digest = blob.parsed_digest()?;
                let location = plan
                    .locations
                    .get(digest.as_str())
                    .ok_or_else(|| anyhow!("internal error: no location for blob {digest}"))?;
                let bar = progress.bar(&blob.digest, blob.size, "pushing");
                let outcome = registry.upload(&digest, location, &bar).await;
                match &outcome {
                    Ok(Uploaded::Present) => bar.finish_with_message("exists"),
                    Ok(Uploaded::Mounted) => bar.finish_with_message("mounted"),
                    Ok(Uploaded::Sent) => bar.finish_with_message("pushed"),
                    Err(_) => bar.abandon_with_message("failed"),
                }
                Ok::<_, anyhow::Error>((blob.size, outcome?))
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    progress.done();
    let mut totals = Totals::default();
    for (size, outcome) in results {
        totals.add(size, outcome == Uploaded::Sent);
    }

    let manifests = plan.root.manifests();
    for node in &manifests {
        let is_root = std::ptr::eq(*node, &plan.root);
        let reference = if is_root { tag.as_str() } else { node.digest.as_str() };
        let stored = registry.put_manifest(reference, &node.media_type, &node.bytes).await?;
        if let Some(stored) = stored
            && stored != node.digest.as_str()
        {
            bail!(
                "The registry stored manifest {} as {stored}; it should be the same digest.",
                node.digest
            );
        }
    }

    let pushed = format!("{}:{tag}", image.name);
    let platforms = plan.root.platforms();
    let summary = json!({
        "reference": pushed,
        "digest": plan.root.digest.to_string(),
        "mediaType": plan.root.media_type,
        "source": args.source.display().to_string(),
        "sourceFormat": plan.format,
        "manifests": manifests.len(),
        "platforms": platforms,
        "blobs": totals.blobs,
        "bytes": totals.bytes,
        "alreadyPresent": totals.present,
        "uploadedBytes": totals.transferred,
    });
    Ok(Report::new()
        .text(format!("Pushed {pushed} ({}), {}", plan.root.digest, totals.text()))
        .json(summary))
}
