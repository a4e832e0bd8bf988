//! Media types, descriptors, manifests and platforms of OCI and Docker schema 2 images, and
//! digests computed while bytes stream by.

use anyhow::{Result, anyhow, bail};
use hangar_core::digest::{Algorithm, Digest, Hasher};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// The `Accept` header of a manifest request: every kind this client understands.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";
/// The annotation naming a manifest in an image layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const LAYOUT_VERSION: &str = "1.0.0";
/// The largest manifest read (what registries must accept, at least).
pub const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
/// How deep indexes may nest (an index of indexes of manifests is 2).
pub const MAX_DEPTH: usize = 3;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Platform {
    /// `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Platform> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        match parts.as_slice() {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: parts.get(2).filter(|v| !v.is_empty()).map(|v| v.to_string()),
                extra: Map::new(),
            }),
            _ => bail!("Invalid platform '{text}': use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8."),
        }
    }

    /// Whether this (wanted) platform selects `other`; a wanted platform without a variant
    /// takes any variant.
    pub fn selects(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || self.variant == other.variant)
    }

    /// The platform this program runs on, in OCI's words.
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "powerpc64" => "ppc64",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: arch.into(),
            variant: None,
            extra: Map::new(),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or = |s: &str| {
            if s.is_empty() {
                "unknown".to_string()
            } else {
                s.to_string()
            }
        };
        write!(f, "{}/{}", or(&self.os), or(&self.architecture))?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A content descriptor; fields this client does not use are kept as they came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: Some(media_type.to_string()),
            digest: digest.to_string(),
            size,
            urls: Vec::new(),
            platform: None,
            annotations: Map::new(),
            extra: Map::new(),
        }
    }

    /// The digest, validated (so its hex part is safe in a file path).
    pub fn parsed_digest(&self) -> Result<Digest> {
        self.digest
            .parse()
            .map_err(|e| anyhow!("Invalid digest '{}' in a descriptor: {e}", self.digest))
    }

    pub fn media(&self) -> &str {
        self.media_type.as_deref().unwrap_or_default()
    }

    /// Layers a registry does not hold: foreign or non-distributable, or with external URLs.
    pub fn is_external(&self) -> bool {
        let media = self.media();
        !self.urls.is_empty() || media.contains("nondistributable") || media.contains("foreign")
    }

    pub fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).and_then(Value::as_str)
    }
}

/// The parts of any manifest or index this client walks.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestDoc {
    pub media_type: Option<String>,
    pub config: Option<Descriptor>,
    pub layers: Option<Vec<Descriptor>>,
    pub manifests: Option<Vec<Descriptor>>,
}

impl ManifestDoc {
    pub fn parse(bytes: &[u8], what: &str) -> Result<ManifestDoc> {
        serde_json::from_slice(bytes).map_err(|e| anyhow!("{what} is not a valid manifest: {e}"))
    }

    /// The media type: the document's own field, else the descriptor's, else guessed.
    pub fn media_type(&self, descriptor: Option<&str>) -> String {
        match (self.media_type.as_deref(), descriptor) {
            (Some(m), _) if !m.is_empty() => m.to_string(),
            (_, Some(d)) if !d.is_empty() => d.to_string(),
            _ if self.manifests.is_some() => OCI_INDEX.to_string(),
            _ => OCI_MANIFEST.to_string(),
        }
    }

    pub fn is_index(&self, media_type: &str) -> bool {
        media_type == OCI_INDEX || media_type == DOCKER_LIST || (self.manifests.is_some() && self.layers.is_none())
    }

    /// The blobs of an image manifest that a registry holds: the config, then the layers.
    pub fn blobs(&self, what: &str) -> Result<Vec<Descriptor>> {
        let config = self.config.clone().ok_or_else(|| anyhow!("{what} has no config"))?;
        let mut out = vec![config];
        out.extend(self.layers.iter().flatten().filter(|d| !d.is_external()).cloned());
        Ok(out)
    }
}

/// A manifest and what it refers to: the blobs of an image, or the manifests of an index.
#[derive(Debug, Clone)]
pub struct Node {
    pub digest: Digest,
    pub media_type: String,
    /// The manifest exactly as stored (its digest is over these bytes).
    pub bytes: Vec<u8>,
    /// The platform an index gave this manifest, if any.
    pub platform: Option<Platform>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Image { blobs: Vec<Descriptor> },
    Index { children: Vec<Node> },
}

impl Node {
    /// The descriptor of this manifest (for an index or `index.json`).
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::new(&self.media_type, &self.digest, self.bytes.len() as u64);
        d.platform = self.platform.clone();
        d
    }

    /// Every distinct blob of the tree, in order of first use.
    pub fn blobs(&self) -> Vec<Descriptor> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        self.walk(&mut |node| {
            if let NodeKind::Image { blobs } = &node.kind {
                for b in blobs {
                    if seen.insert(b.digest.clone()) {
                        out.push(b.clone());
                    }
                }
            }
        });
        out
    }

    /// Every manifest of the tree, children before their index.
    pub fn manifests(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        fn post<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
            if let NodeKind::Index { children } = &node.kind {
                for c in children {
                    post(c, out);
                }
            }
            out.push(node);
        }
        post(self, &mut out);
        out
    }

    /// The platforms of the image manifests of the tree (`os/arch[/variant]`).
    pub fn platforms(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |node| {
            if let (NodeKind::Image { .. }, Some(p)) = (&node.kind, &node.platform) {
                out.push(p.to_string());
            }
        });
        out
    }

    fn walk(&self, f: &mut dyn FnMut(&Node)) {
        f(self);
        if let NodeKind::Index { children } = &self.kind {
            for c in children {
                c.walk(f);
            }
        }
    }
}

/// The child of an index whose platform `wanted` selects.
pub fn select_platform(children: Vec<Node>, wanted: &Platform) -> Result<Node> {
    let available: Vec<String> = children
        .iter()
        .filter_map(|c| c.platform.as_ref().map(Platform::to_string))
        .collect();
    children
        .into_iter()
        .find(|c| c.platform.as_ref().is_some_and(|p| wanted.selects(p)))
        .ok_or_else(|| {
            anyhow!(
                "The image has no {wanted} variant; it has: {}.",
                if available.is_empty() {
                    "no platforms".to_string()
                } else {
                    available.join(", ")
                }
            )
        })
}

/// The digest of `bytes` with `algorithm`.
pub fn digest_of(algorithm: Algorithm, bytes: &[u8]) -> String {
    Hasher::digest(algorithm, bytes).to_string()
}

/// Bytes as decimal megabytes with two decimals.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        let any_variant = Platform::parse("linux/arm64").unwrap();
        assert!(any_variant.selects(&p));
        assert!(!p.selects(&any_variant));
        assert!(!Platform::parse("linux/amd64").unwrap().selects(&p));
        for bad in ["linux", "/amd64", "a/b/c/d", ""] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptors_keep_unknown_fields() {
        let text = r#"{"mediaType":"m","digest":"sha256:00","size":3,"artifactType":"x","annotations":{"org.opencontainers.image.ref.name":"v1"},"platform":{"os":"linux","architecture":"amd64","os.version":"1"}}"#;
        let d: Descriptor = serde_json::from_str(text).unwrap();
        assert_eq!(d.ref_name(), Some("v1"));
        assert_eq!(d.platform.as_ref().unwrap().to_string(), "linux/amd64");
        let back: Value = serde_json::to_value(&d).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn manifest_kinds() {
        let index = ManifestDoc::parse(br#"{"schemaVersion":2,"manifests":[]}"#, "x").unwrap();
        assert_eq!(index.media_type(None), OCI_INDEX);
        assert!(index.is_index(&index.media_type(None)));
        let m = ManifestDoc::parse(
            br#"{"schemaVersion":2,"config":{"digest":"sha256:00","size":1},"layers":[{"digest":"sha256:11","size":2},{"digest":"sha256:22","size":2,"urls":["http://x"]}]}"#,
            "x",
        )
        .unwrap();
        assert_eq!(m.media_type(Some(DOCKER_MANIFEST)), DOCKER_MANIFEST);
        assert_eq!(m.blobs("x").unwrap().len(), 2);
        assert!(ManifestDoc::parse(b"[]", "x").is_err());
    }

    #[test]
    fn digests_and_sizes() {
        assert_eq!(
            digest_of(Algorithm::Sha256, b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(digest_of(Algorithm::Sha512, b"").starts_with("sha512:cf83e1357eefb8bd"));
        assert_eq!(megabytes(1_234_567), "1.23 MB");
    }
}
