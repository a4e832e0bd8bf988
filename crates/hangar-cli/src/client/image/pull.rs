//! `hangar registry image pull <org>/[<team>/]<repo>[:<tag>|@<digest>] --dest <path>`: into an
//! OCI image layout folder (all platforms of an index, or one), or into a `docker load`-able
//! tarball (one platform). Every blob is hashed as it streams and checked before it is kept.

use super::media::{ManifestDoc, Node, NodeKind, Platform, select_platform};
use super::progress::{Progress, Totals};
use super::reference::ImageRef;
use super::registry::Registry;
use super::{archive, layout};
use crate::client::Ctx;
use crate::client::output::Report;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use futures::{StreamExt, TryStreamExt};
use hangar_core::digest::Digest;
use serde_json::json;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// Blobs fetched at the same time (into a folder; a tarball is written in order).
const PARALLEL: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullFormat {
    /// An OCI image layout folder.
    Oci,
    /// A `docker save` tarball, for `docker load`.
    DockerArchive,
}

impl PullFormat {
    fn name(self) -> &'static str {
        match self {
            PullFormat::Oci => "oci",
            PullFormat::DockerArchive => "docker-archive",
        }
    }
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The image: <org>/[<team>/]<repository>[:<tag>|@<digest>] (default tag: latest).
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Where to put it: a folder (an OCI image layout, created or added to) or a .tar file.
    #[arg(long, value_name = "PATH")]
    dest: PathBuf,
    /// oci or docker-archive [default: docker-archive for a PATH ending in .tar that is not a
    /// folder, else oci].
    #[arg(long, value_enum, value_name = "FORMAT", hide_possible_values = true)]
    format: Option<PullFormat>,
    /// Pull only this platform of a multi-platform image (os/arch[/variant]) [default: all
    /// into a folder; this machine's, linux/<arch>, into a docker-archive].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
}

fn default_format(dest: &Path) -> PullFormat {
    let is_dir = std::fs::metadata(dest).is_ok_and(|m| m.is_dir());
    let tar = dest
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tar"));
    if tar && !is_dir {
        PullFormat::DockerArchive
    } else {
        PullFormat::Oci
    }
}

/// Fetches a manifest and, for an index, its children (recursively).
fn fetch<'a>(
    registry: &'a Registry,
    reference: &'a str,
    expected: Option<&'a Digest>,
    descriptor: Option<&'a super::media::Descriptor>,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<Node>> + 'a>> {
    Box::pin(async move {
        let fetched = registry.get_manifest(reference, expected).await?;
        let what = format!("manifest {}", fetched.digest);
        let doc = ManifestDoc::parse(&fetched.bytes, &what)?;
        let announced = fetched
            .media_type
            .as_deref()
            .or(descriptor.and_then(|d| d.media_type.as_deref()));
        let media_type = doc.media_type(announced);
        let kind = if doc.is_index(&media_type) {
            if depth >= super::media::MAX_DEPTH {
                bail!("The indexes of {reference} nest too deeply.");
            }
            let mut children = Vec::new();
            for child in doc.manifests.iter().flatten() {
                let d = child.parsed_digest()?;
                children.push(fetch(registry, d.as_str(), Some(&d), Some(child), depth + 1).await?);
            }
            NodeKind::Index { children }
        } else {
            NodeKind::Image {
                blobs: doc.blobs(&what)?,
            }
        };
        Ok(Node {
            digest: fetched.digest,
            media_type,
            bytes: fetched.bytes,
            platform: descriptor.and_then(|d| d.platform.clone()),
            kind,
        })
    })
}

pub async fn run(ctx: &Ctx, args: PullArgs) -> Result<Report> {
    let image = ImageRef::parse(&args.image, ctx.org().ok(), ctx.team())?;
    let format = args.format.unwrap_or_else(|| default_format(&args.dest));
    let mut platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let registry = Registry::new(&ctx.settings, &image.name, false)?;
    registry.login().await?;
    let expected = match &image.target {
        super::reference::Target::Digest(d) => Some(d),
        super::reference::Target::Tag(_) => None,
    };
    let mut root = fetch(&registry, image.reference(), expected, None, 0).await?;
    let top_digest = root.digest.clone();
    if let NodeKind::Index { children } = &root.kind {
        if platform.is_none() && format == PullFormat::DockerArchive {
            platform = Some(Platform::host());
        }
        if let Some(wanted) = &platform {
            root = select_platform(children.clone(), wanted)?;
            if let NodeKind::Index { .. } = root.kind {
                bail!("The {wanted} variant of {image} is itself an index; pull it into a folder.");
            }
        }
    } else if let (Some(wanted), Some(p)) = (&platform, &root.platform)
        && !wanted.selects(p)
    {
        bail!("{image} is for {p}, not {wanted}.");
    }

    let progress = Progress::new();
    let totals = match format {
        PullFormat::Oci => to_layout(&args.dest, &registry, &root, image.tag(), &progress).await?,
        PullFormat::DockerArchive => {
            let repo_tag = image.tag().map(|t| format!("{}/{}:{t}", registry.host(), image.name));
            archive::write(&args.dest, &registry, &root, repo_tag, image.tag(), &progress).await?
        }
    };

    progress.done();
    let mut summary = json!({
        "reference": image.to_string(),
        "digest": root.digest.to_string(),
        "mediaType": root.media_type,
        "destination": args.dest.display().to_string(),
        "format": format.name(),
        "manifests": root.manifests().len(),
        "platforms": root.platforms(),
        "blobs": totals.blobs,
        "bytes": totals.bytes,
        "alreadyPresent": totals.present,
        "downloadedBytes": totals.transferred,
    });
    if top_digest != root.digest {
        summary["indexDigest"] = json!(top_digest.to_string());
    }
    Ok(Report::new()
        .text(format!(
            "Pulled {image} ({}) to {}, {}",
            root.digest,
            args.dest.display(),
            totals.text()
        ))
        .json(summary))
}

/// Pulls the tree into an OCI image layout folder and names its root `tag` in `index.json`.
async fn to_layout(
    dest: &Path,
    registry: &Registry,
    root: &Node,
    tag: Option<&str>,
    progress: &Progress,
) -> Result<Totals> {
    let writer = layout::LayoutWriter::open(dest).await?;
    let blobs = root.blobs();
    let results: Vec<(u64, bool)> = futures::stream::iter(blobs.iter())
        .map(|blob| {
            let writer = &writer;
            async move {
                if writer.has(blob).await? {
                    return Ok::<_, anyhow::Error>((blob.size, false));
                }
                let bar = progress.bar(&blob.digest, blob.size, "pulling");
                match writer.download(registry, blob, &bar).await {
                    Ok(()) => bar.finish_with_message("pulled"),
                    Err(e) => {
                        bar.abandon_with_message("failed");
                        return Err(e);
                    }
                }
                Ok((blob.size, true))
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    let mut totals = Totals::default();
    for (size, sent) in results {
        totals.add(size, sent);
    }
    for node in root.manifests() {
        writer.put_manifest(node).await?;
    }
    writer.name(root.descriptor(), tag).await?;
    Ok(totals)
}
