//! Signed images in cosign's format (the `sha256-<digest>.sig` attachments skopeo, podman and
//! cosign push): each signature is checked when it arrives against the keys the org trusts, and
//! only a verified one makes an image "signed". The server signs too, with the org's
//! server-held key; and an org, team or repository can require a verified signature for pulls.

use super::document::{Descriptor, Document};
use super::error::{DomainError, DomainResult};
use super::trust::{self, Verifier};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use hangar_core::cosign;
use hangar_store::blob::{Algorithm, Digest, Hasher};
use hangar_store::meta::{ImageSignature, NewManifest, Org, Reference, Repository, RequirementKind};
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};

/// The media type of a cosign signature's payload layer (a "simple signing" document).
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation that carries the signature (base64 of a DER ECDSA signature).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// A payload larger than this is not read (real ones are a few hundred bytes).
const MAX_PAYLOAD: i64 = 64 * 1024;
/// Signatures of one signature manifest beyond this many are not read (each is a blob read and
/// an ECDSA check while the push waits).
const MAX_SIGNATURES: usize = 32;

/// One layer of a pushed manifest, as far as signatures care.
pub struct SignatureLayer<'a> {
    pub media_type: Option<&'a str>,
    pub digest: &'a str,
    pub size: i64,
    pub signature: Option<&'a str>,
}

impl<'a> SignatureLayer<'a> {
    /// A manifest's layer, with the cosign signature annotation it carries.
    pub fn of(layer: &'a Descriptor) -> Self {
        SignatureLayer {
            media_type: layer.media_type.as_deref(),
            digest: &layer.digest,
            size: layer.size,
            signature: layer
                .annotations
                .as_ref()
                .and_then(|a| a.get(SIGNATURE_ANNOTATION))
                .and_then(|v| v.as_str()),
        }
    }
}

/// The digest a cosign signature tag (`sha256-<hex>.sig`) signs.
pub fn signed_by_tag(tag: &str) -> Option<String> {
    let hex = tag.strip_suffix(".sig")?.strip_prefix("sha256-")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

/// cosign's tag for the signature of `digest`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// Whether a `docker-reference` names `repository`: its path (tag and digest left out) is the
/// repository, after at most one registry host (org names have no dots, so a host is the one
/// component more).
fn names_repository(reference: &str, repository: &str) -> bool {
    let reference = reference.split('@').next().unwrap_or_default();
    let path = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => reference,
    };
    path == repository
        || path
            .strip_suffix(repository)
            .and_then(|host| host.strip_suffix('/'))
            .is_some_and(|host| !host.is_empty() && !host.contains('/'))
}

/// The verdict on one signature: the name of the org key that verifies it, or why none does.
fn verdict(
    verifiers: &[Verifier],
    repository: &str,
    subject: &str,
    payload: &[u8],
    signature: &str,
) -> Result<String, String> {
    let doc: Value = serde_json::from_slice(payload).map_err(|_| "its payload is not JSON".to_string())?;
    let critical = &doc["critical"];
    let signs = critical["image"]["docker-manifest-digest"].as_str().unwrap_or_default();
    if signs != subject {
        return Err(format!("its payload signs '{signs}', not {subject}"));
    }
    let named = critical["identity"]["docker-reference"].as_str().unwrap_or_default();
    if !names_repository(named, repository) {
        return Err(format!("its payload names '{named}', not the repository {repository}"));
    }
    verifiers
        .iter()
        .find(|v| cosign::verifies(&v.key, payload, signature))
        .map(|v| v.name.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = verifiers.iter().map(|v| v.name.as_str()).collect();
            if names.is_empty() {
                "the org trusts no signing key yet".to_string()
            } else {
                format!("no key the org trusts verifies it (trusted: {})", names.join(", "))
            }
        })
}

fn judged(mut s: ImageSignature, outcome: Result<String, String>) -> ImageSignature {
    (s.verified_by, s.problem) = match outcome {
        Ok(key) => (Some(key), None),
        Err(why) => (None, Some(why)),
    };
    s
}

/// The payload of a signature layer, read only if it is in the repository (a sparse manifest
/// may name any digest: never read another repository's bytes through it).
async fn read_payload(state: &AppState, repo: &Repository, layer: &SignatureLayer<'_>) -> Result<Vec<u8>, String> {
    if layer.size > MAX_PAYLOAD {
        return Err(format!("its payload is larger than {MAX_PAYLOAD} bytes"));
    }
    let digest: Digest = layer
        .digest
        .parse()
        .map_err(|_| "its payload digest is invalid".to_string())?;
    match state.meta.linked_blob(repo.id, digest.as_str()).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err("its payload was not pushed".to_string()),
        Err(e) => return Err(format!("its payload cannot be found: {e}")),
    }
    let stream = state
        .blobs
        .get(&digest, None)
        .await
        .map_err(|_| "its payload was not pushed".to_string())?;
    let chunks: Vec<Bytes> = stream
        .take(64)
        .try_collect()
        .await
        .map_err(|e| format!("its payload cannot be read: {e}"))?;
    let bytes: Vec<u8> = chunks.concat();
    if bytes.len() as i64 > MAX_PAYLOAD {
        return Err(format!("its payload is larger than {MAX_PAYLOAD} bytes"));
    }
    Ok(bytes)
}

/// Records and judges the cosign signatures of a manifest the registry has just stored (a
/// `sha256-<digest>.sig` tag, or an artifact whose subject is the signed image). Never fails the
/// push: what goes wrong is logged.
pub async fn manifest_pushed(
    state: &AppState,
    repository: &str,
    manifest_digest: &str,
    subject: Option<String>,
    layers: &[SignatureLayer<'_>],
) {
    let signature_layers: Vec<&SignatureLayer> = layers
        .iter()
        .filter(|l| l.media_type == Some(SIMPLE_SIGNING))
        .take(MAX_SIGNATURES)
        .collect();
    if signature_layers.len() == MAX_SIGNATURES {
        tracing::warn!(%repository, signature = %manifest_digest, "only the first {MAX_SIGNATURES} signatures are read");
    }
    let Some(subject) = subject.filter(|_| !signature_layers.is_empty()) else {
        return;
    };
    if let Err(e) = record(state, repository, manifest_digest, &subject, &signature_layers).await {
        tracing::warn!(%repository, signature = %manifest_digest, "the image signature was not recorded: {e}");
    }
}

async fn record(
    state: &AppState,
    repository: &str,
    manifest_digest: &str,
    subject: &str,
    layers: &[&SignatureLayer<'_>],
) -> DomainResult<()> {
    let repo = state
        .meta
        .repository(repository)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("repository '{repository}' not found")))?;
    let org = state.meta.org_by_id(repo.org_id).await?;
    let verifiers = trust::verifiers(state, &org).await?;
    let mut out = vec![];
    for (index, layer) in layers.iter().enumerate() {
        let payload = read_payload(state, &repo, layer).await;
        let signature = layer.signature.unwrap_or_default().to_string();
        let outcome = match (&payload, layer.signature) {
            (Err(why), _) => Err(why.clone()),
            (_, None) => Err(format!("its layer has no {SIGNATURE_ANNOTATION} annotation")),
            (Ok(payload), Some(sig)) => verdict(&verifiers, repository, subject, payload, sig),
        };
        match &outcome {
            Ok(key) => tracing::info!(%repository, %subject, %key, "image signature verified"),
            Err(why) => tracing::warn!(%repository, %subject, "image signature not verified: {why}"),
        }
        let stored = ImageSignature {
            repository_id: repo.id,
            signature_digest: manifest_digest.to_string(),
            layer: index as i64,
            subject_digest: subject.to_string(),
            payload: payload.unwrap_or_default(),
            signature,
            verified_by: None,
            problem: None,
            created_at: hangar_store::meta::now(),
        };
        out.push(judged(stored, outcome));
    }
    state.meta.put_image_signatures(&out).await?;
    Ok(())
}

/// Works out every stored signature of the org again (after its keys changed).
pub async fn reverify_org(state: &AppState, org: &Org) -> DomainResult<()> {
    let verifiers = trust::verifiers(state, org).await?;
    let mut changed = vec![];
    for (repository, s) in state.meta.org_image_signatures(org.id).await? {
        if s.payload.is_empty() {
            continue; // never read: its verdict says why, whatever the keys
        }
        let outcome = verdict(&verifiers, &repository, &s.subject_digest, &s.payload, &s.signature);
        let again = judged(s.clone(), outcome);
        if again != s {
            changed.push(again);
        }
    }
    state.meta.put_image_signatures(&changed).await?;
    Ok(())
}

/// What the catalog says about one image's signatures.
#[derive(Debug, Clone, Default)]
pub struct SignatureState {
    /// The keys that verify its signatures.
    pub verified_by: Vec<String>,
    /// Why its other signatures are not verified.
    pub problems: Vec<String>,
}

impl SignatureState {
    pub fn is_signed(&self) -> bool {
        !self.verified_by.is_empty()
    }
}

/// The signature state of every signed digest in the repository.
pub async fn states(
    state: &AppState,
    repo: &Repository,
) -> DomainResult<std::collections::HashMap<String, SignatureState>> {
    let mut out: std::collections::HashMap<String, SignatureState> = Default::default();
    for s in state.meta.image_signatures(repo.id).await? {
        let entry = out.entry(s.subject_digest).or_default();
        match (s.verified_by, s.problem) {
            (Some(key), _) if !entry.verified_by.contains(&key) => entry.verified_by.push(key),
            (None, Some(why)) => entry.problems.push(why),
            _ => {}
        }
    }
    Ok(out)
}

/// The requirement that covers `repo`, if any: its path.
async fn requirement(state: &AppState, repo: &Repository) -> DomainResult<Option<String>> {
    let requirements = state.meta.signature_requirements(repo.org_id).await?;
    if requirements.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = repo.name.split('/').collect();
    let team = (repo.team_id.is_some() && parts.len() == 3).then(|| format!("{}/{}", parts[0], parts[1]));
    Ok(requirements.into_iter().find_map(|(kind, path)| {
        let covers = match kind {
            RequirementKind::Org => path == parts[0],
            RequirementKind::Team => team.as_deref() == Some(path.as_str()),
            RequirementKind::Repository => path == repo.name,
        };
        covers.then_some(path)
    }))
}

/// Whether a stored manifest is a cosign signature, which stays pullable so that clients can
/// verify: recorded as one when it was pushed (as a `.sig` tag or with a subject), and holding
/// nothing but signatures (never an image dressed up as one).
async fn is_signature(state: &AppState, repo: &Repository, digest: &str, content: &[u8]) -> DomainResult<bool> {
    let doc: Value = serde_json::from_slice(content).unwrap_or_default();
    let layers = doc["layers"].as_array().map(Vec::as_slice).unwrap_or_default();
    let only_signatures = !layers.is_empty() && layers.iter().all(|l| l["mediaType"] == SIMPLE_SIGNING);
    Ok(only_signatures && state.meta.is_image_signature(repo.id, digest).await?)
}

/// Refuses the pull of a manifest that is not signed with a key the org trusts, when an org,
/// team or repository requires signatures. Checked on every pull, on every replica (nothing is
/// cached).
pub async fn check_pull(state: &AppState, repo: &Repository, digest: &str, content: &[u8]) -> DomainResult<()> {
    let Some(path) = requirement(state, repo).await? else {
        return Ok(());
    };
    if is_signature(state, repo, digest, content).await? || state.meta.verified_signed(repo.id, digest).await? {
        return Ok(());
    }
    let why = states(state, repo)
        .await?
        .remove(digest)
        .and_then(|s| s.problems.into_iter().next())
        .map_or("it has no signature".to_string(), |p| {
            format!("its signature is not verified: {p}")
        });
    Err(DomainError::Forbidden(format!(
        "{path} requires signed images: {}@{digest} is refused because {why}",
        repo.name
    )))
}

/// Signs the image `digest` of `repo` with the org's server-held key, as cosign would: a
/// simple-signing payload naming `registry_host/repo`, pushed as a layer of the image's
/// `sha256-<digest>.sig` manifest (next to the signatures it already has).
pub async fn sign(
    state: &AppState,
    org: &Org,
    repo: &Repository,
    digest: &str,
    registry_host: &str,
) -> DomainResult<()> {
    if state.meta.manifest(repo.id, digest).await?.is_none() {
        return Err(DomainError::NotFound(format!("{digest} is not in '{}'", repo.name)));
    }
    let (key, _) = super::model_signing::org_signing_key(state, org).await?;
    let payload = serde_json::to_vec(&json!({
        "critical": {
            "identity": {"docker-reference": format!("{registry_host}/{}", repo.name)},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": {"creator": "hangar"},
    }))
    .map_err(DomainError::internal)?;
    let signature: Signature = key.sign(&payload);
    let signature = STANDARD.encode(signature.to_der().as_bytes());
    let payload_digest = put_blob(state, repo, payload.clone()).await?;
    let tag = signature_tag(digest);
    let mut layers: Vec<Value> = match state.meta.tagged_manifest(repo.id, &tag).await? {
        Some(existing) => serde_json::from_slice::<Value>(&existing.content).unwrap_or_default()["layers"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        None => vec![],
    };
    layers.retain(|l| l["mediaType"] == SIMPLE_SIGNING);
    layers.push(json!({
        "mediaType": SIMPLE_SIGNING,
        "size": payload.len(),
        "digest": payload_digest,
        "annotations": {SIGNATURE_ANNOTATION: signature},
    }));
    let diff_ids: Vec<&Value> = layers.iter().map(|l| &l["digest"]).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "", "os": "", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .map_err(DomainError::internal)?;
    let config_size = config.len();
    let config_digest = put_blob(state, repo, config).await?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": config_size, "digest": config_digest},
        "layers": layers,
    }))
    .map_err(DomainError::internal)?;
    let manifest_digest = Hasher::digest(Algorithm::Sha256, &manifest).to_string();
    let layer_digests: Vec<String> = layers
        .iter()
        .filter_map(|l| l["digest"].as_str().map(String::from))
        .collect();
    let mut references = vec![Reference::Blob(&config_digest)];
    for d in &layer_digests {
        references.push(if state.meta.linked_blob(repo.id, d).await?.is_some() {
            Reference::Blob(d)
        } else {
            Reference::Absent(d)
        });
    }
    let new = NewManifest {
        digest: &manifest_digest,
        media_type: OCI_MANIFEST,
        artifact_type: Some(OCI_CONFIG),
        subject: None,
        annotations: None,
        content: &manifest,
        references,
    };
    state.meta.put_manifest(repo.id, &new, &[&tag]).await?;
    let doc: Document = serde_json::from_slice(&manifest).map_err(DomainError::internal)?;
    let signature_layers: Vec<SignatureLayer> = doc.layers.iter().flatten().map(SignatureLayer::of).collect();
    let refs: Vec<&SignatureLayer> = signature_layers.iter().collect();
    record(state, &repo.name, &manifest_digest, digest, &refs).await
}

/// Stores a small blob the server made and links it into the repository; its digest.
async fn put_blob(state: &AppState, repo: &Repository, bytes: Vec<u8>) -> DomainResult<String> {
    let digest = Hasher::digest(Algorithm::Sha256, &bytes);
    let size = bytes.len() as u64;
    let body = futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
    state.blobs.put(&digest, Some(size), body).await?;
    let still_stored = async { Ok(state.blobs.stat(&digest).await?.is_some()) };
    state
        .meta
        .link_blob(repo.id, digest.as_str(), size as i64, still_stored)
        .await?;
    Ok(digest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_its_repository_after_at_most_one_host() {
        assert!(names_repository("127.0.0.1:5000/acme/web:v1", "acme/web"));
        assert!(names_repository(
            "registry.example.com/acme/vision/web",
            "acme/vision/web"
        ));
        assert!(names_repository("localhost/acme/web@sha256:ab", "acme/web"));
        assert!(names_repository("hangar/acme/web", "acme/web"));
        assert!(names_repository("acme/web:v1", "acme/web"));
        assert!(!names_repository("host/other/acme/web", "acme/web"));
        assert!(!names_repository("host/acme/webapp", "acme/web"));
        assert!(!names_repository("host/xacme/web", "acme/web"));
        assert!(!names_repository("acme/vision/web", "acme/web"));
    }

    #[test]
    fn signature_tags_name_the_digest_they_sign() {
        let hex = "a".repeat(64);
        assert_eq!(
            signed_by_tag(&format!("sha256-{hex}.sig")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(signature_tag(&format!("sha256:{hex}")), format!("sha256-{hex}.sig"));
        assert_eq!(signed_by_tag("v1.sig"), None);
        assert_eq!(signed_by_tag(&format!("sha256-{hex}.att")), None);
    }
}
