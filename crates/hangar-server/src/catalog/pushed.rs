//! What the domain does after the registry stored a manifest: artifacts that are more than
//! images (Helm charts) are recorded in the catalog too, and cosign signatures are checked
//! against the org's keys. The registry fires this for every push and knows nothing of what the
//! artifact types mean.

use super::charts::pushed::{HELM_CHART_LAYER, HELM_CONFIG, record_pushed_chart};
use super::image_signatures::{self, SignatureLayer};
use crate::auth::Caller;
use crate::state::AppState;

/// A manifest the registry has just stored.
pub struct PushedManifest<'a> {
    /// `org/[team/]name`.
    pub repository: &'a str,
    pub digest: &'a str,
    /// The tag it was pushed by, if any.
    pub tag: Option<&'a str>,
    /// The manifest it refers to (OCI 1.1 `subject`).
    pub subject: Option<&'a str>,
    /// The artifact type (or config media type) of an image manifest.
    pub artifact_type: Option<&'a str>,
    /// Its layers, with the cosign signature annotation where they carry one.
    pub layers: Vec<SignatureLayer<'a>>,
}

/// Whether every layer of a manifest of `artifact_type` must be in the repository when it is
/// pushed (sparse manifests are taken otherwise): the domain reads them.
pub fn layers_required(artifact_type: Option<&str>) -> bool {
    artifact_type == Some(HELM_CONFIG)
}

/// Records what the pushed manifest adds to the catalog. Never fails the push, which the
/// registry has accepted; what goes wrong is logged.
pub async fn manifest_pushed(state: &AppState, caller: &Caller, pushed: &PushedManifest<'_>) {
    if let (Some(tag), Some(HELM_CONFIG)) = (pushed.tag, pushed.artifact_type)
        && let Some(layer) = pushed.layers.iter().find(|l| l.media_type == Some(HELM_CHART_LAYER))
    {
        record_pushed_chart(state, caller, pushed.repository, tag, (layer.digest, layer.size)).await;
    }
    let signed = pushed
        .tag
        .and_then(image_signatures::signed_by_tag)
        .or_else(|| pushed.subject.map(String::from));
    image_signatures::manifest_pushed(state, pushed.repository, pushed.digest, signed, &pushed.layers).await;
}
