//! `docker save` tarballs. Reading: `manifest.json` (Config, RepoTags, Layers) becomes a Docker
//! schema 2 manifest, with digests and compression found by streaming each member once.
//! Writing: a pulled image as a tarball both `docker load` and OCI tools read (`manifest.json`
//! beside `oci-layout`, `index.json` and `blobs/`), streamed into a temporary file that is
//! moved into place once every blob is verified.

use super::layout::temp_path;
use super::media::{
    DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, Descriptor, LAYOUT_VERSION, Node, NodeKind,
    OCI_INDEX, REF_NAME,
};
use super::progress::{Progress, Totals};
use super::registry::Registry;
use super::store::{Location, Plan, TarIndex};
use anyhow::{Context, Result, anyhow, bail};
use hangar_core::digest::{Algorithm, Digest, Hasher};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The most a `manifest.json` may weigh.
const MAX_ARCHIVE_MANIFEST: u64 = 16 * 1024 * 1024;
const BLOCK: u64 = 512;

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveImage {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SchemaTwo<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: &'a Descriptor,
    layers: &'a [Descriptor],
}

/// The tag part of a `RepoTags` entry (`name:tag`, the name may hold a `host:port`).
fn tag_of(repo_tag: &str) -> Option<&str> {
    let last = repo_tag.rsplit('/').next()?;
    last.split_once(':').map(|(_, t)| t)
}

/// The image of the archive to push as `tag`: the only one, else the one tagged `tag`.
fn select<'a>(images: &'a [ArchiveImage], tag: &str, path: &Path) -> Result<&'a ArchiveImage> {
    if let [only] = images {
        return Ok(only);
    }
    let tags_of = |i: &'a ArchiveImage| i.repo_tags.iter().flatten().map(String::as_str);
    let matching: Vec<&ArchiveImage> = images
        .iter()
        .filter(|i| tags_of(i).any(|t| tag_of(t) == Some(tag)))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] if images.is_empty() => bail!("{} holds no image (its manifest.json is empty).", path.display()),
        [] => {
            let all: Vec<&str> = images.iter().flat_map(tags_of).collect();
            bail!(
                "Tag '{tag}' is not in {}; it holds: {}.",
                path.display(),
                if all.is_empty() {
                    "untagged images".to_string()
                } else {
                    all.join(", ")
                }
            )
        }
        _ => bail!("Tag '{tag}' names several images in {}.", path.display()),
    }
}

/// Streams a member once: its SHA-256 and its first bytes (to recognize compression).
fn hash_member(location: &Location, bar: &indicatif::ProgressBar) -> Result<(Digest, [u8; 4])> {
    let mut reader = location.open()?;
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut magic = [0u8; 4];
    let mut seen = 0u64;
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("Cannot read {}", location.path.display()))?;
        if n == 0 {
            break;
        }
        if seen < 4 {
            let take = (4 - seen as usize).min(n);
            magic[seen as usize..seen as usize + take].copy_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
        seen += n as u64;
        bar.inc(n as u64);
    }
    if seen != location.len {
        bail!("{} is truncated", location.path.display());
    }
    let digest = hasher.finish();
    Ok((digest, magic))
}

/// The push plan of a docker-archive: its image for `tag` as a Docker schema 2 manifest
/// (blocking: it reads every layer once to find its digest).
pub fn plan(index: &TarIndex, tag: &str, progress: &Progress) -> Result<Plan> {
    let path = index.path();
    let manifest = index
        .locate("manifest.json")
        .ok_or_else(|| anyhow!("{} is not a docker-archive (no manifest.json).", path.display()))?
        .read_small(MAX_ARCHIVE_MANIFEST, "manifest.json")?;
    let images: Vec<ArchiveImage> = serde_json::from_slice(&manifest)
        .map_err(|e| anyhow!("The manifest.json of {} is invalid: {e}", path.display()))?;
    let image = select(&images, tag, path)?;
    let member = |name: &str| {
        index
            .locate(name)
            .ok_or_else(|| anyhow!("{} lacks {name}, named in its manifest.json.", path.display()))
    };
    let mut locations = HashMap::new();
    let config_loc = member(&image.config)?;
    let bar = progress.transient("config", config_loc.len, "hashing");
    let (config_digest, _) = hash_member(&config_loc, &bar)?;
    bar.finish_and_clear();
    let config = Descriptor::new(DOCKER_CONFIG, &config_digest, config_loc.len);
    locations.insert(config_digest.to_string(), config_loc);
    let mut layers = Vec::new();
    let mut known: HashMap<&str, Descriptor> = HashMap::new();
    for name in &image.layers {
        if let Some(d) = known.get(name.as_str()) {
            layers.push(d.clone());
            continue;
        }
        let loc = member(name)?;
        let bar = progress.transient(name, loc.len, "hashing");
        let (digest, magic) = hash_member(&loc, &bar)?;
        bar.finish_and_clear();
        let media = match magic {
            [0x1f, 0x8b, _, _] => DOCKER_LAYER_GZIP,
            [0x28, 0xb5, 0x2f, 0xfd] => bail!(
                "Layer {name} of {} is zstd-compressed, which Docker schema 2 manifests cannot describe; push it as an OCI layout.",
                path.display()
            ),
            _ => DOCKER_LAYER,
        };
        let d = Descriptor::new(media, &digest, loc.len);
        locations.insert(digest.to_string(), loc);
        known.insert(name, d.clone());
        layers.push(d);
    }
    let bytes = serde_json::to_vec(&SchemaTwo {
        schema_version: 2,
        media_type: DOCKER_MANIFEST,
        config: &config,
        layers: &layers,
    })?;
    let mut blobs = vec![config];
    blobs.extend(layers);
    let root = Node {
        digest: Digest::sha256(&bytes),
        media_type: DOCKER_MANIFEST.to_string(),
        bytes,
        platform: None,
        kind: NodeKind::Image { blobs },
    };
    Ok(Plan {
        root,
        locations,
        format: "docker-archive",
    })
}

/// A ustar header block.
fn header(path: &str, size: u64, dir: bool) -> Result<[u8; 512]> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)
        .with_context(|| format!("Cannot name {path} in a tarball"))?;
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    if dir {
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
    } else {
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
    }
    h.set_cksum();
    Ok(*h.as_bytes())
}

fn padding(size: u64) -> usize {
    ((BLOCK - size % BLOCK) % BLOCK) as usize
}

async fn put_file(out: &mut (impl AsyncWrite + Unpin), path: &str, bytes: &[u8]) -> Result<()> {
    out.write_all(&header(path, bytes.len() as u64, false)?).await?;
    out.write_all(bytes).await?;
    out.write_all(&vec![0u8; padding(bytes.len() as u64)]).await?;
    Ok(())
}

fn member_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm().as_str(), digest.hex())
}

/// Writes `image` (an image manifest, not an index) as a docker-archive at `dest`, named
/// `repo_tag` for `docker load` and `tag` in `index.json`.
pub async fn write(
    dest: &Path,
    registry: &Registry,
    image: &Node,
    repo_tag: Option<String>,
    tag: Option<&str>,
    progress: &Progress,
) -> Result<Totals> {
    let NodeKind::Image { blobs } = &image.kind else {
        bail!("A docker-archive holds one image: choose a platform with --platform.");
    };
    if tokio::fs::metadata(dest).await.is_ok_and(|m| m.is_dir()) {
        bail!("{} is a folder: give a file name for the tarball.", dest.display());
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir)
            .await
            .with_context(|| format!("Cannot create {}", dir.display()))?;
    }
    let tmp = temp_path(dest);
    let result = async {
        let file = tokio::fs::File::create(&tmp)
            .await
            .with_context(|| format!("Cannot create {}", tmp.display()))?;
        let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let totals = write_members(&mut out, registry, image, blobs, repo_tag, tag, progress).await?;
        out.flush().await?;
        let file = out.into_inner();
        file.sync_all().await.context("Cannot write the tarball")?;
        drop(file);
        tokio::fs::rename(&tmp, dest)
            .await
            .with_context(|| format!("Cannot move the tarball to {}", dest.display()))?;
        Ok(totals)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

async fn write_members(
    out: &mut (impl AsyncWrite + Unpin),
    registry: &Registry,
    image: &Node,
    blobs: &[Descriptor],
    repo_tag: Option<String>,
    tag: Option<&str>,
    progress: &Progress,
) -> Result<Totals> {
    let mut totals = Totals::default();
    let mut dirs: Vec<String> = vec!["blobs/".into()];
    for d in blobs
        .iter()
        .map(|b| b.parsed_digest())
        .chain([Ok(image.digest.clone())])
    {
        let dir = format!("blobs/{}/", d?.algorithm().as_str());
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in &dirs {
        out.write_all(&header(dir, 0, true)?).await?;
    }
    let mut names = Vec::new();
    for blob in blobs {
        let digest = blob.parsed_digest()?;
        let name = member_path(&digest);
        let written = names.contains(&name);
        names.push(name.clone());
        if written {
            // A layer used twice is stored once and named twice in manifest.json.
            continue;
        }
        out.write_all(&header(&name, blob.size, false)?).await?;
        let bar = progress.bar(&blob.digest, blob.size, "pulling");
        registry.download(blob, out, &bar).await?;
        bar.finish_with_message("pulled");
        out.write_all(&vec![0u8; padding(blob.size)]).await?;
        totals.add(blob.size, true);
    }
    put_file(out, &member_path(&image.digest), &image.bytes).await?;
    put_file(
        out,
        "oci-layout",
        json!({"imageLayoutVersion": LAYOUT_VERSION}).to_string().as_bytes(),
    )
    .await?;
    let mut descriptor = image.descriptor();
    if let Some(tag) = tag {
        descriptor
            .annotations
            .insert(REF_NAME.into(), Value::String(tag.into()));
    }
    if let Some(name) = &repo_tag {
        descriptor
            .annotations
            .insert("io.containerd.image.name".into(), Value::String(name.clone()));
    }
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]});
    put_file(out, "index.json", &serde_json::to_vec(&index)?).await?;
    let (config, layers) = names.split_first().ok_or_else(|| anyhow!("The image has no config."))?;
    let manifest = vec![ArchiveImage {
        config: config.clone(),
        repo_tags: Some(repo_tag.into_iter().collect()),
        layers: layers.to_vec(),
    }];
    put_file(out, "manifest.json", &serde_json::to_vec(&manifest)?).await?;
    out.write_all(&[0u8; 2 * BLOCK as usize]).await?;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_tags() {
        assert_eq!(tag_of("nginx:latest"), Some("latest"));
        assert_eq!(tag_of("localhost:5000/acme/web:v1"), Some("v1"));
        assert_eq!(tag_of("localhost:5000/acme/web"), None);
    }

    #[test]
    fn padding_fills_blocks() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
        assert_eq!(padding(513), 511);
    }
}
