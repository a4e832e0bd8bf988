//! What the catalog says about a tagged image: its size, its architectures and whether it is
//! signed, worked out from the stored manifests (and, for an image's architecture, its config).

use super::error::DomainResult;
use super::image_signatures::{self, SignatureState};
use crate::catalog::document::Document;
use crate::state::AppState;
use futures::TryStreamExt;
use hangar_store::blob::Digest;
use hangar_store::meta::{Manifest, Repository, TaggedManifest};
use std::collections::HashMap;

/// Artifact types of signatures that refer to the image they sign (OCI 1.1 referrers).
pub const SIGNATURE_TYPES: &[&str] = &[
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.cncf.notary.signature",
];
/// Configs larger than this are not read for their architecture.
const MAX_CONFIG: usize = 1 << 20;

/// One platform of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub os: String,
    /// `arch[/variant]`.
    pub architecture: String,
    pub digest: String,
    /// Config plus layers, as stored (compressed).
    pub compressed_size: i64,
}

#[derive(Debug, Clone)]
pub struct TagSummary {
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    pub updated_at: i64,
    /// The image's size; for a multi-platform index, that of its first platform.
    pub size: i64,
    pub variants: Vec<Variant>,
    pub is_index: bool,
    /// Signed with a key the org trusts.
    pub is_signed: bool,
    /// Its signatures: the keys that verify them, and why the others are not verified.
    pub signature: SignatureState,
    pub layers: Vec<String>,
    pub schema_version: i64,
}

fn parse(m: &Manifest) -> Option<Document> {
    serde_json::from_slice(&m.content).ok()
}

fn image_size(doc: &Document) -> i64 {
    doc.config.as_ref().map_or(0, |c| c.size) + doc.layers.iter().flatten().map(|l| l.size).sum::<i64>()
}

/// Tags that name signatures, attestations or SBOMs of another manifest rather than an image.
pub fn is_attachment_tag(tag: &str) -> bool {
    [".sig", ".att", ".sbom"].iter().any(|suffix| {
        tag.strip_suffix(suffix)
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(algorithm, hex)| {
                matches!(algorithm, "sha256" | "sha512") && hex.bytes().all(|b| b.is_ascii_hexdigit())
            })
    })
}

/// The image tags of a repository (attachments left out), most recently updated first.
pub async fn summaries(state: &AppState, repo: &Repository, with_config: bool) -> DomainResult<Vec<TagSummary>> {
    let tagged = state.meta.tagged_manifests(repo.id).await?;
    let signatures = image_signatures::states(state, repo).await?;
    let mut out = vec![];
    for t in tagged.iter().filter(|t| !is_attachment_tag(&t.tag)) {
        let signature = signatures.get(&t.manifest.digest).cloned().unwrap_or_default();
        out.push(summarize(state, repo, t, signature, with_config).await?);
    }
    Ok(out)
}

async fn summarize(
    state: &AppState,
    repo: &Repository,
    t: &TaggedManifest,
    signature: SignatureState,
    with_config: bool,
) -> DomainResult<TagSummary> {
    let m = &t.manifest;
    let doc = parse(m);
    let mut summary = TagSummary {
        tag: t.tag.clone(),
        digest: m.digest.clone(),
        media_type: m.media_type.clone(),
        updated_at: t.updated_at,
        size: 0,
        variants: vec![],
        is_index: false,
        is_signed: signature.is_signed(),
        signature,
        layers: vec![],
        schema_version: doc.as_ref().and_then(|d| d.schema_version).unwrap_or(2),
    };
    let Some(doc) = doc else { return Ok(summary) };
    if let Some(children) = &doc.manifests {
        summary.is_index = true;
        let digests: Vec<&str> = children.iter().map(|c| c.digest.as_str()).collect();
        let stored: HashMap<String, Manifest> = state
            .meta
            .manifests_by_digest(repo.id, &digests)
            .await?
            .into_iter()
            .map(|m| (m.digest.clone(), m))
            .collect();
        for child in children {
            // Build attestations are index entries for the platform "unknown/unknown".
            let Some(platform) = child.platform.as_ref().filter(|p| p.os != "unknown") else {
                continue;
            };
            let size = stored.get(&child.digest).and_then(parse).map_or(0, |d| image_size(&d));
            let arch = platform.name();
            summary.variants.push(Variant {
                os: platform.os.clone(),
                architecture: arch.split_once('/').map_or(arch.clone(), |(_, a)| a.to_string()),
                digest: child.digest.clone(),
                compressed_size: size,
            });
        }
        summary.size = summary.variants.first().map_or(0, |v| v.compressed_size);
        return Ok(summary);
    }
    summary.size = image_size(&doc);
    summary.layers = doc.layers.iter().flatten().map(|l| l.digest.clone()).collect();
    if with_config && let Some(config) = &doc.config {
        let (os, architecture) = platform_of_config(state, &config.digest, config.size).await;
        summary.variants.push(Variant {
            os,
            architecture,
            digest: m.digest.clone(),
            compressed_size: summary.size,
        });
    }
    Ok(summary)
}

/// The os and architecture an image config names; empty when it names none or cannot be read.
async fn platform_of_config(state: &AppState, digest: &str, size: i64) -> (String, String) {
    #[derive(serde::Deserialize, Default)]
    struct Config {
        #[serde(default)]
        os: String,
        #[serde(default)]
        architecture: String,
        variant: Option<String>,
    }
    let read = async {
        let d: Digest = digest.parse().ok()?;
        if size < 0 || size as usize > MAX_CONFIG {
            return None;
        }
        let stream = state.blobs.get(&d, None).await.ok()?;
        let chunks: Vec<_> = stream.try_collect().await.ok()?;
        let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).take(MAX_CONFIG).collect();
        serde_json::from_slice::<Config>(&bytes).ok()
    };
    let config = read.await.unwrap_or_default();
    let arch = match config.variant {
        Some(v) => format!("{}/{v}", config.architecture),
        None => config.architecture,
    };
    (config.os, arch)
}

/// The tag shown as latest: the one set as latest, else the most recently pushed.
pub fn latest<'a>(repo: &Repository, tags: &'a [TagSummary]) -> Option<&'a TagSummary> {
    repo.info
        .latest_tag
        .as_deref()
        .and_then(|name| tags.iter().find(|t| t.tag == name))
        .or_else(|| tags.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_tags() {
        let hex = "a".repeat(64);
        assert!(is_attachment_tag(&format!("sha256-{hex}.sig")));
        assert!(is_attachment_tag(&format!("sha256-{hex}.att")));
        assert!(!is_attachment_tag("v1.sig"));
        assert!(!is_attachment_tag("sha256-xyz.sig"));
        assert!(!is_attachment_tag("latest"));
    }
}
