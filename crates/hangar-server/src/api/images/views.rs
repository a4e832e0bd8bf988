//! The JSON shapes of NGC's image API (ngc-api.md §8): repositories and tags.

use crate::api::views::date;
use crate::catalog::images::{TagSummary, Variant, latest};
use hangar_store::meta::Repository;
use serde_json::{Value, json};

fn variant(v: &Variant, created: i64) -> Value {
    json!({
        "os": v.os,
        "architecture": v.architecture,
        "digest": v.digest,
        "compressedSize": v.compressed_size,
        "createdDate": date(created),
    })
}

/// One tag of a repository (`…/images` items, `…/tags/{tag}`).
pub fn tag(t: &TagSummary) -> Value {
    json!({
        "tag": t.tag,
        "size": t.size,
        "digest": t.digest,
        "mediaType": t.media_type,
        "updatedDate": date(t.updated_at),
        "pushedDate": date(t.updated_at),
        "isSigned": t.is_signed,
        "signedBy": t.signature.verified_by,
        "signatureProblems": t.signature.problems,
        "architectureVariants": t.variants.iter().map(|v| variant(v, t.updated_at)).collect::<Vec<_>>(),
    })
}

/// A repository with its tags (names, most recently pushed first).
pub fn repository(
    repo: &Repository,
    products: &[String],
    (namespace, team): (&str, Option<&str>),
    tags: &[TagSummary],
) -> Value {
    let info = &repo.info;
    let short = repo.name.strip_prefix(&format!("{namespace}/")).unwrap_or(&repo.name);
    let newest = latest(repo, tags);
    let mut out = json!({
        "name": short,
        "namespace": namespace,
        "resourceId": repo.name,
        "orgName": repo.name.split('/').next().unwrap_or_default(),
        "teamName": team,
        "displayName": info.display_name,
        "shortDescription": info.short_description,
        "description": info.description,
        "labels": info.labels,
        "logo": info.logo,
        "publisher": info.publisher,
        "builtBy": info.built_by,
        "isMultinodeEnabled": info.is_multinode,
        "isMultiArchitecture": newest.is_some_and(|t| t.is_index),
        "hasSignedTag": tags.iter().any(|t| t.is_signed),
        "latestTag": newest.map(|t| t.tag.clone()),
        "latestImageSize": newest.map_or(0, |t| t.size),
        "latestImageDigest": newest.map(|t| t.digest.clone()),
        "createdDate": date(repo.created_at),
        "updatedDate": date(repo.updated_at.max(tags.first().map_or(0, |t| t.updated_at))),
        "tags": tags.iter().map(|t| t.tag.clone()).collect::<Vec<_>>(),
    });
    if let Some(fields) = out.as_object_mut() {
        fields.extend(crate::api::views::offer(info.access, products));
    }
    out
}

/// `…/images/{tag}`: the image's manifest as NGC describes it.
pub fn image(short_name: &str, t: &TagSummary) -> Value {
    let architectures: Vec<&str> = t.variants.iter().map(|v| v.architecture.as_str()).collect();
    json!({
        "name": short_name,
        "tag": t.tag,
        "architecture": architectures.join(", "),
        "schemaVersion": t.schema_version,
        "mediaType": t.media_type,
        "digest": t.digest,
        "fsLayers": t.layers.iter().map(|d| json!({"blobSum": d})).collect::<Vec<_>>(),
        "history": [],
        "isSigned": t.is_signed,
        "signedBy": t.signature.verified_by,
        "signatureProblems": t.signature.problems,
    })
}
