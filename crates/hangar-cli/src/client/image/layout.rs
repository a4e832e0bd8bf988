//! OCI image layouts (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`): reading one (a folder
//! or an OCI archive) into a push plan, and writing pulled images into one.

use super::media::{
    Descriptor, LAYOUT_VERSION, MAX_DEPTH, MAX_MANIFEST, ManifestDoc, Node, NodeKind, OCI_INDEX, Platform, REF_NAME,
    digest_of, select_platform,
};
use super::registry::Registry;
use super::store::{Location, Plan, Store};
use anyhow::{Context, Result, anyhow, bail};
use hangar_core::digest::Digest;
use indicatif::ProgressBar;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

#[derive(Deserialize)]
struct IndexFile {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm().as_str(), digest.hex())
}

/// Checks the `oci-layout` marker of a layout.
pub fn check_marker(store: &Store) -> Result<()> {
    let bytes = match store.locate("oci-layout")? {
        Some(loc) => loc.read_small(64 * 1024, "oci-layout")?,
        None => bail!(
            "{} is not an OCI image layout (it has no oci-layout file).",
            store.describe()
        ),
    };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| {
        anyhow!(
            "{} is not an OCI image layout (invalid oci-layout file).",
            store.describe()
        )
    })?;
    match doc.get("imageLayoutVersion").and_then(Value::as_str) {
        Some(v) if v.starts_with("1.") => Ok(()),
        other => bail!(
            "{}: unsupported OCI image layout version {}.",
            store.describe(),
            other.unwrap_or("(none)")
        ),
    }
}

/// The `index.json` entry for `tag`: the one whose `org.opencontainers.image.ref.name` is the
/// tag (or ends with `:<tag>`), else the only entry.
fn select<'a>(store: &Store, manifests: &'a [Descriptor], tag: &str) -> Result<&'a Descriptor> {
    let suffix = format!(":{tag}");
    let matching: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| d.ref_name().is_some_and(|r| r == tag || r.ends_with(&suffix)))
        .collect();
    match (matching.as_slice(), manifests) {
        ([only], _) => Ok(only),
        ([first, rest @ ..], _) if rest.iter().all(|d| d.digest == first.digest) => Ok(first),
        ([_, ..], _) => bail!("Tag '{tag}' names several images in {}.", store.describe()),
        ([], [only]) => Ok(only),
        ([], []) => bail!("{} holds no image (its index.json is empty).", store.describe()),
        ([], all) => {
            let names: Vec<&str> = all.iter().map(|d| d.ref_name().unwrap_or(d.digest.as_str())).collect();
            bail!(
                "Tag '{tag}' is not in {}; it holds: {}.",
                store.describe(),
                names.join(", ")
            )
        }
    }
}

/// Reads a manifest of the layout and, recursively, the manifests and blobs it refers to.
fn load_node(
    store: &Store,
    descriptor: &Descriptor,
    depth: usize,
    locations: &mut HashMap<String, Location>,
) -> Result<Node> {
    let digest = descriptor.parsed_digest()?;
    let what = format!("manifest {digest}");
    let loc = store
        .locate(&blob_path(&digest))?
        .ok_or_else(|| anyhow!("The {what} is missing from {}.", store.describe()))?;
    let bytes = loc.read_small(MAX_MANIFEST, &what)?;
    if bytes.len() as u64 != descriptor.size || digest_of(digest.algorithm(), &bytes) != digest.as_str() {
        bail!(
            "The {what} in {} is corrupt (its size or digest differs).",
            store.describe()
        );
    }
    let doc = ManifestDoc::parse(&bytes, &what)?;
    let media_type = doc.media_type(descriptor.media_type.as_deref());
    let kind = if doc.is_index(&media_type) {
        if depth >= MAX_DEPTH {
            bail!("The indexes of {} nest too deeply.", store.describe());
        }
        let children = doc
            .manifests
            .iter()
            .flatten()
            .map(|child| load_node(store, child, depth + 1, locations))
            .collect::<Result<Vec<_>>>()?;
        NodeKind::Index { children }
    } else {
        let blobs = doc.blobs(&what)?;
        for blob in &blobs {
            let d = blob.parsed_digest()?;
            let loc = store
                .locate(&blob_path(&d))?
                .ok_or_else(|| anyhow!("Blob {d} of the {what} is missing from {}.", store.describe()))?;
            if loc.len != blob.size {
                bail!(
                    "Blob {d} in {} is {} bytes, but the {what} says {}.",
                    store.describe(),
                    loc.len,
                    blob.size
                );
            }
            locations.insert(d.to_string(), loc);
        }
        NodeKind::Image { blobs }
    };
    Ok(Node {
        digest,
        media_type,
        bytes,
        platform: descriptor.platform.clone(),
        kind,
    })
}

/// The push plan for `tag` of a layout: the selected image or index (or one platform of it).
pub fn plan(store: &Store, tag: &str, platform: Option<&Platform>, format: &'static str) -> Result<Plan> {
    check_marker(store)?;
    let bytes = store.read_small("index.json", MAX_MANIFEST)?;
    let index: IndexFile = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow!("The index.json of {} is invalid: {e}", store.describe()))?;
    let selected = select(store, &index.manifests, tag)?;
    let mut locations = HashMap::new();
    let mut root = load_node(store, selected, 0, &mut locations)?;
    if let Some(wanted) = platform {
        root = match root.kind {
            NodeKind::Index { children } => select_platform(children, wanted)?,
            NodeKind::Image { .. } => match &root.platform {
                Some(p) if !wanted.selects(p) => bail!("The image is for {p}, not {wanted}."),
                _ => root,
            },
        };
        let keep: std::collections::HashSet<String> = root.blobs().into_iter().map(|b| b.digest).collect();
        locations.retain(|d, _| keep.contains(d));
    }
    Ok(Plan {
        root,
        locations,
        format,
    })
}

/// A folder being filled with pulled images.
pub struct LayoutWriter {
    root: PathBuf,
}

impl LayoutWriter {
    /// Opens an existing layout, or makes one in a new or empty folder.
    pub async fn open(root: &Path) -> Result<LayoutWriter> {
        match tokio::fs::metadata(root).await {
            Ok(meta) if !meta.is_dir() => bail!("{} exists and is not a folder.", root.display()),
            Ok(_) => {
                let store = Store::Dir(root.to_path_buf());
                if store.locate("oci-layout")?.is_some() {
                    check_marker(&store)?;
                } else {
                    let mut entries = tokio::fs::read_dir(root)
                        .await
                        .with_context(|| format!("Cannot read {}", root.display()))?;
                    if entries.next_entry().await?.is_some() {
                        bail!(
                            "{} is not empty and not an OCI image layout: give a new or empty folder.",
                            root.display()
                        );
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("Cannot read {}", root.display())),
        }
        tokio::fs::create_dir_all(root)
            .await
            .with_context(|| format!("Cannot create {}", root.display()))?;
        let marker = root.join("oci-layout");
        if !tokio::fs::try_exists(&marker).await.unwrap_or(false) {
            let text = json!({"imageLayoutVersion": LAYOUT_VERSION}).to_string();
            write_atomic(&marker, text.as_bytes()).await?;
        }
        Ok(LayoutWriter {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join(blob_path(digest))
    }

    /// Whether the layout holds the blob already, checked by size and digest.
    pub async fn has(&self, descriptor: &Descriptor) -> Result<bool> {
        let digest = descriptor.parsed_digest()?;
        let path = self.path(&digest);
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() && meta.len() == descriptor.size => {}
            _ => return Ok(false),
        }
        let mut file = tokio::fs::File::open(&path)
            .await
            .with_context(|| format!("Cannot read {}", path.display()))?;
        let mut hasher = hangar_core::digest::Hasher::new(digest.algorithm());
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hasher.finish().as_str() == digest.as_str())
    }

    /// Downloads a blob into the layout: into a temporary file, moved into place once its size
    /// and digest are checked.
    pub async fn download(&self, registry: &Registry, descriptor: &Descriptor, bar: &ProgressBar) -> Result<()> {
        let digest = descriptor.parsed_digest()?;
        let path = self.path(&digest);
        let tmp = temp_path(&path);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("Cannot create {}", dir.display()))?;
        }
        let result = async {
            let file = tokio::fs::File::create(&tmp)
                .await
                .with_context(|| format!("Cannot create {}", tmp.display()))?;
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
            registry.download(descriptor, &mut out, bar).await?;
            let file = out.into_inner();
            file.sync_all().await.context("Cannot write the download")?;
            drop(file);
            tokio::fs::rename(&tmp, &path)
                .await
                .with_context(|| format!("Cannot move the download to {}", path.display()))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    /// Stores a manifest (already verified) as a blob.
    pub async fn put_manifest(&self, node: &Node) -> Result<()> {
        let path = self.path(&node.digest);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("Cannot create {}", dir.display()))?;
        }
        write_atomic(&path, &node.bytes).await
    }

    /// Names `descriptor` in `index.json`: it replaces any entry with the same tag (or, without
    /// a tag, the same untagged digest).
    pub async fn name(&self, mut descriptor: Descriptor, tag: Option<&str>) -> Result<()> {
        let path = self.root.join("index.json");
        let mut doc: Value = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| anyhow!("The index.json of {} is invalid: {e}", self.root.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
            }
            Err(e) => return Err(e).with_context(|| format!("Cannot read {}", path.display())),
        };
        let mut manifests: Vec<Descriptor> = match doc.get("manifests") {
            Some(list) => serde_json::from_value(list.clone())
                .map_err(|e| anyhow!("The index.json of {} is invalid: {e}", self.root.display()))?,
            None => Vec::new(),
        };
        match tag {
            Some(tag) => {
                manifests.retain(|d| d.ref_name() != Some(tag));
                descriptor
                    .annotations
                    .insert(REF_NAME.into(), Value::String(tag.into()));
            }
            None => manifests.retain(|d| !(d.ref_name().is_none() && d.digest == descriptor.digest)),
        }
        manifests.push(descriptor);
        doc["manifests"] = serde_json::to_value(&manifests)?;
        let text = serde_json::to_vec_pretty(&doc)?;
        write_atomic(&path, &text).await
    }
}

/// A temporary name beside `path`, unique to this process.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!(".{name}.{}.partial", std::process::id()))
}

/// Writes a file through a temporary name, so it appears whole or not at all.
pub async fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let result = async {
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result.with_context(|| format!("Cannot write {}", path.display()))
}
