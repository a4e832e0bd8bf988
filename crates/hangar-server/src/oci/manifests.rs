//! `HEAD|GET|PUT|DELETE /v2/<name>/manifests/<tag or digest>`: Docker schema 2 manifests and
//! lists, OCI manifests and indexes (sparse ones too), artifacts with `artifactType` and
//! `subject`.

use super::auth::{DELETE, PULL, PUSH, RegistryCaller};
use super::blobs::DIGEST_HEADER;
use super::body::{Fault, read_whole};
use super::error::{OciError, OciResult, RegistryCode, registry};
use super::repo::{digest, existing, for_push};
use crate::catalog::document::{Descriptor, Document};
use crate::catalog::image_signatures::{SignatureLayer, check_pull};
use crate::catalog::pushed::{PushedManifest, layers_required, manifest_pushed};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use hangar_core::names::validate_tag;
use hangar_store::blob::{Algorithm, Digest, Hasher};
use hangar_store::meta::{Manifest, NewManifest, Reference, Repository};
use std::sync::Arc;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Manifests larger than this are refused (the spec asks registries to take at least 4 MiB).
pub const MAX_MANIFEST: usize = 4 * 1024 * 1024;
/// The most `?tag=` parameters one manifest push may carry.
const MAX_TAG_PARAMS: usize = 100;

fn invalid(message: impl Into<String>) -> OciError {
    registry(RegistryCode::ManifestInvalid, message)
}

fn wrong_size(d: &Descriptor, stored: i64) -> OciError {
    invalid(format!("{} has size {stored}, not {}", d.digest, d.size))
}

/// Layers that registries do not hold: non-distributable and foreign layers with URLs.
fn external(d: &Descriptor) -> bool {
    let media = d.media_type.as_deref().unwrap_or_default();
    !d.urls.is_empty() || media.contains("nondistributable") || media.contains("foreign")
}

fn compute(algorithm: Algorithm, bytes: &[u8]) -> String {
    Hasher::digest(algorithm, bytes).to_string()
}

/// The manifest `reference` (a tag or digest) names in `repo`, from the read cache when fresh.
async fn find(state: &AppState, repo: &Repository, reference: &str) -> OciResult<Arc<Manifest>> {
    let cache_key = (repo.id, reference.to_string());
    if let Some(hit) = state.cache.get(&state.cache.manifests, &cache_key) {
        return Ok(hit);
    }
    let stamp = state.cache.stamp();
    let found = if reference.contains(':') {
        let d = digest(reference)?;
        state.meta.manifest(repo.id, d.as_str()).await?
    } else {
        validate_tag(reference).map_err(|e| registry(RegistryCode::ManifestInvalid, e.to_string()))?;
        state.meta.tagged_manifest(repo.id, reference).await?
    };
    let manifest = Arc::new(found.ok_or_else(|| {
        registry(
            RegistryCode::ManifestUnknown,
            format!("manifest '{reference}' is not in '{}'", repo.name),
        )
    })?);
    state
        .cache
        .put(&state.cache.manifests, cache_key, manifest.clone(), stamp);
    Ok(manifest)
}

pub async fn read(
    state: &AppState,
    rc: &RegistryCaller,
    method: &Method,
    name: &str,
    reference: &str,
) -> OciResult<Response> {
    let repo = existing(state, rc, name, PULL).await?;
    let manifest = find(state, &repo, reference).await?;
    check_pull(state, &repo, &manifest.digest, &manifest.content).await?;
    let builder = Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, &manifest.media_type)
        .header(CONTENT_LENGTH, manifest.content.len())
        .header(DIGEST_HEADER, &manifest.digest)
        .header("ETag", format!("\"{}\"", manifest.digest));
    let body = if *method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(manifest.content.clone())
    };
    builder.body(body).map_err(OciError::internal)
}

/// `PUT …/manifests/<reference>`: reads and checks the document, stores it with its tags,
/// tells the domain, and answers where it is.
pub async fn write(
    state: &AppState,
    rc: &RegistryCaller,
    headers: &HeaderMap,
    name: &str,
    reference: &str,
    tag_params: &[String],
    body: Body,
) -> OciResult<Response> {
    let repo = for_push(state, rc, name, PUSH).await?;
    check_tag_params(tag_params)?;
    let bytes = read_body(body).await?;
    let (digest_text, tag) = identify(reference, &bytes)?;
    let (doc, media_type) = parse(headers, &bytes)?;
    let (references, artifact_type) = check_references(state, &repo, name, &doc, &media_type).await?;
    let subject = doc.subject.as_ref().map(descriptor_digest).transpose()?;
    let new = NewManifest {
        digest: &digest_text,
        media_type: &media_type,
        artifact_type: artifact_type.as_deref(),
        subject: subject.as_ref().map(Digest::as_str),
        annotations: doc
            .annotations
            .as_ref()
            .map(|a| serde_json::Value::Object(a.clone()).to_string()),
        content: &bytes,
        references,
    };
    // A push by tag sets that tag; a push by digest may carry tags as `?tag=` parameters.
    let tags: Vec<&str> = match tag {
        Some(tag) => vec![tag],
        None => tag_params.iter().map(String::as_str).collect(),
    };
    store(state, &repo, &new, &tags).await?;
    let pushed = PushedManifest {
        repository: name,
        digest: &digest_text,
        tag: tag.or_else(|| tags.first().copied()),
        subject: subject.as_ref().map(Digest::as_str),
        artifact_type: artifact_type.as_deref(),
        layers: doc.layers.iter().flatten().map(SignatureLayer::of).collect(),
    };
    manifest_pushed(state, &rc.caller, &pushed).await;
    let stored = Stored {
        name,
        digest: &digest_text,
        subject: subject.as_ref(),
        tag,
        tags: &tags,
    };
    answer(state, &repo, &stored).await
}

fn check_tag_params(tag_params: &[String]) -> OciResult<()> {
    if tag_params.len() > MAX_TAG_PARAMS {
        return Err(registry(
            RegistryCode::TooLarge,
            format!("at most {MAX_TAG_PARAMS} tags per request"),
        ));
    }
    for tag in tag_params {
        validate_tag(tag).map_err(|e| registry(RegistryCode::ManifestInvalid, e.to_string()))?;
    }
    Ok(())
}

async fn read_body(body: Body) -> OciResult<Bytes> {
    read_whole(body, MAX_MANIFEST).await.map_err(|fault| match fault {
        Fault::TooLarge => registry(
            RegistryCode::TooLarge,
            format!("a manifest may be at most {MAX_MANIFEST} bytes"),
        ),
        broken @ Fault::Broken(_) => invalid(broken.to_string()),
    })
}

/// The manifest's digest, checked against a digest reference, and the tag a tag reference names.
fn identify<'r>(reference: &'r str, bytes: &[u8]) -> OciResult<(String, Option<&'r str>)> {
    if reference.contains(':') {
        let expected = digest(reference)?;
        let actual = compute(expected.algorithm(), bytes);
        if actual != expected.as_str() {
            return Err(registry(
                RegistryCode::DigestInvalid,
                format!("the manifest's digest is {actual}, not {expected}"),
            ));
        }
        Ok((actual, None))
    } else {
        validate_tag(reference).map_err(|e| registry(RegistryCode::ManifestInvalid, e.to_string()))?;
        Ok((compute(Algorithm::Sha256, bytes), Some(reference)))
    }
}

/// The document and its media type (from `Content-Type`, which must agree with `mediaType`).
fn parse(headers: &HeaderMap, bytes: &[u8]) -> OciResult<(Document, String)> {
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| invalid(format!("not a manifest: {e}")))?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_string())
        .filter(|v| !v.is_empty() && v != "application/json");
    let media_type = match (&content_type, &doc.media_type) {
        (Some(header), Some(field)) if header != field => {
            return Err(invalid(format!(
                "Content-Type {header} does not match mediaType {field}"
            )));
        }
        (Some(header), _) => header.clone(),
        (None, Some(field)) => field.clone(),
        (None, None) if doc.manifests.is_some() => OCI_INDEX.to_string(),
        (None, None) => OCI_MANIFEST.to_string(),
    };
    if doc.schema_version != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    Ok((doc, media_type))
}

/// What the manifest refers to, checked against the repository, and its artifact type.
async fn check_references<'d>(
    state: &AppState,
    repo: &Repository,
    name: &str,
    doc: &'d Document,
    media_type: &str,
) -> OciResult<(Vec<Reference<'d>>, Option<String>)> {
    let mut references = Vec::new();
    let mut missing = Vec::new();
    let artifact_type = match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let config = doc
                .config
                .as_ref()
                .ok_or_else(|| invalid("an image manifest needs a config"))?;
            let layers = doc
                .layers
                .as_ref()
                .ok_or_else(|| invalid("an image manifest needs layers"))?;
            // Sparse image manifests (OCI allows them): a layer not in the repository is
            // recorded as absent — it holds nothing and reads nothing, since naming a digest
            // claims no bytes — and becomes a reference once it is pushed. The config must be
            // here: it describes the image; so must a Helm chart's layers, which are read to
            // record the chart.
            let artifact_type = doc.artifact_type.clone().or_else(|| config.media_type.clone());
            let sparse = !layers_required(artifact_type.as_deref());
            let config_digest = descriptor_digest(config)?;
            match state.meta.linked_blob(repo.id, config_digest.as_str()).await? {
                Some(size) if size == config.size => references.push(Reference::Blob(config.digest.as_str())),
                Some(size) => return Err(wrong_size(config, size)),
                None => missing.push(config.digest.clone()),
            }
            for d in layers.iter().filter(|d| !external(d)) {
                let blob = descriptor_digest(d)?;
                match state.meta.linked_blob(repo.id, blob.as_str()).await? {
                    Some(size) if size == d.size => references.push(Reference::Blob(d.digest.as_str())),
                    Some(size) => return Err(wrong_size(d, size)),
                    None if sparse => references.push(Reference::Absent(d.digest.as_str())),
                    None => missing.push(d.digest.clone()),
                }
            }
            artifact_type
        }
        OCI_INDEX | DOCKER_LIST => {
            let children = doc
                .manifests
                .as_ref()
                .ok_or_else(|| invalid("an index needs manifests"))?;
            // A sparse index (OCI allows them): children not pushed yet are served once pushed.
            for d in children {
                descriptor_digest(d)?;
                references.push(Reference::Manifest(d.digest.as_str()));
            }
            doc.artifact_type.clone()
        }
        other => return Err(invalid(format!("unsupported manifest media type '{other}'"))),
    };
    if !missing.is_empty() {
        return Err(registry(
            RegistryCode::ManifestBlobUnknown,
            format!("not in '{name}': {}", missing.join(", ")),
        ));
    }
    Ok((references, artifact_type))
}

/// Stores the manifest and its tags. The links were checked before; this finds those that went
/// since (garbage collection).
async fn store(state: &AppState, repo: &Repository, new: &NewManifest<'_>, tags: &[&str]) -> OciResult<()> {
    state.meta.put_manifest(repo.id, new, tags).await.map_err(|e| match e {
        hangar_store::Error::NotFound(what) => {
            registry(RegistryCode::ManifestBlobUnknown, format!("{what} is not known"))
        }
        other => other.into(),
    })
}

/// A stored manifest, as the answer to its push names it.
struct Stored<'a> {
    name: &'a str,
    digest: &'a str,
    subject: Option<&'a Digest>,
    /// The tag it was pushed by.
    tag: Option<&'a str>,
    /// Every tag it got.
    tags: &'a [&'a str],
}

/// 201 with where the manifest is, its subject, the `?tag=` parameters taken, and a warning
/// when the org is above its soft limit.
async fn answer(state: &AppState, repo: &Repository, stored: &Stored<'_>) -> OciResult<Response> {
    let name = stored.name;
    let used = state.meta.org_image_bytes(repo.org_id).await?;
    let mut builder = Response::builder()
        .status(StatusCode::CREATED)
        .header(LOCATION, format!("/v2/{name}/manifests/{}", stored.digest))
        .header(DIGEST_HEADER, stored.digest)
        .header(CONTENT_LENGTH, 0);
    if let Some(subject) = stored.subject {
        builder = builder.header("OCI-Subject", subject.as_str());
    }
    if stored.tag.is_none() {
        for accepted in stored.tags {
            builder = builder.header("OCI-Tag", *accepted);
        }
    }
    let soft_limit = state.settings.org_image_soft_limit_bytes;
    if used as u64 > soft_limit {
        let warning = format!("the org stores {used} bytes of images, above its soft limit of {soft_limit}");
        tracing::warn!(repository = %name, "{warning}");
        builder = builder.header("Warning", format!("299 - \"{warning}\""));
    }
    builder.body(Body::empty()).map_err(OciError::internal)
}

fn descriptor_digest(d: &Descriptor) -> OciResult<Digest> {
    if d.size < 0 {
        return Err(invalid(format!("descriptor {} has a negative size", d.digest)));
    }
    d.digest
        .parse()
        .map_err(|_| invalid(format!("invalid digest '{}' in the manifest", d.digest)))
}

pub async fn delete(state: &AppState, rc: &RegistryCaller, name: &str, reference: &str) -> OciResult<Response> {
    let repo = existing(state, rc, name, DELETE).await?;
    let gone = if reference.contains(':') {
        let d = digest(reference)?;
        state.meta.delete_manifest(repo.id, d.as_str()).await?
    } else {
        validate_tag(reference).map_err(|e| registry(RegistryCode::ManifestInvalid, e.to_string()))?;
        state.meta.delete_tag(repo.id, reference).await?
    };
    if !gone {
        return Err(registry(
            RegistryCode::ManifestUnknown,
            format!("manifest '{reference}' is not in '{name}'"),
        ));
    }
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .header(CONTENT_LENGTH, 0)
        .body(Body::empty())
        .map_err(OciError::internal)
}
