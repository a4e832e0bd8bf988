//! The JSON of models, resources, charts, collections and versions, in NGC's shapes (ngc-api.md §4,
//! §6, §7).

use crate::api::views::{date, offer};
use crate::catalog::kinds::Kind;
use hangar_store::meta::{Artifact, ArtifactVersion};
use serde_json::{Value, json};

/// An entity: its stored fields plus what Hangar keeps itself. `labels` is a list of strings.
pub fn entity(
    kind: &Kind,
    a: &Artifact,
    products: &[String],
    (org, team): (&str, Option<&str>),
    latest: Option<&ArtifactVersion>,
) -> Value {
    let mut out = a.metadata.as_object().cloned().unwrap_or_default();
    let labels = out.get("labelsV2").cloned().unwrap_or_else(|| json!([]));
    let extra = json!({
        "name": a.name,
        "orgName": org,
        "teamName": team,
        "labels": labels,
        "createdDate": date(a.created_at),
        "updatedDate": date(a.updated_at),
    });
    if let Some(extra) = extra.as_object() {
        out.extend(extra.clone());
    }
    out.extend(offer(a.access, products));
    if !kind.has_versions() {
        return Value::Object(out);
    }
    out.insert("latestVersionIdStr".into(), json!(a.latest_version));
    out.insert("latestVersionSizeInBytes".into(), json!(latest.map(|v| v.total_bytes)));
    out.insert("latestVersionFileCount".into(), json!(latest.map(|v| v.file_count)));
    if !kind.has_file_uploads() {
        // A chart's (NGC's `Artifact`) latest version is a string.
        out.insert("latestVersionId".into(), json!(a.latest_version));
        out.insert("artifactType".into(), json!(kind.wire.search));
        out.insert("isReadOnly".into(), json!(false));
    }
    if kind.wire.framework_field != "framework"
        && let Some(framework) = out.get(kind.wire.framework_field).cloned()
    {
        out.insert("framework".into(), framework);
    }
    Value::Object(out)
}

pub fn version(kind: &Kind, v: &ArtifactVersion) -> Value {
    let mut out = v.metadata.as_object().cloned().unwrap_or_default();
    if !kind.has_file_uploads() {
        // A chart's version (NGC's `ArtifactVersion`) names itself by `id`; ngc reads a model
        // version's `id` as a number, so only charts have it.
        out.insert("id".into(), json!(v.version));
    }
    let extra = json!({
        "versionId": v.version,
        "status": v.status,
        "createdDate": date(v.created_at),
        "updatedDate": date(v.updated_at),
        "totalFileCount": v.file_count,
        "totalSizeInBytes": v.total_bytes,
        "storageVersion": "V2",
        "isSigned": false,
    });
    if let Some(extra) = extra.as_object() {
        out.extend(extra.clone());
    }
    Value::Object(out)
}
