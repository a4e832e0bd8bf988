//! What the domain does after the registry stored a manifest: artifacts that are more than
//! images (Helm charts) are recorded in the catalog too. The registry fires this for every push
//! and knows nothing of what the artifact types mean.

use super::charts::pushed::{HELM_CHART_LAYER, HELM_CONFIG, record_pushed_chart};
use crate::auth::Caller;
use crate::state::AppState;

/// A manifest the registry has just stored.
pub struct PushedManifest<'a> {
    /// `org/[team/]name`.
    pub repository: &'a str,
    /// The tag it was pushed by, if any.
    pub tag: Option<&'a str>,
    /// The artifact type (or config media type) of an image manifest.
    pub artifact_type: Option<&'a str>,
    /// Its layers: media type, digest, size.
    pub layers: Vec<(Option<&'a str>, &'a str, i64)>,
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
        && let Some((_, digest, size)) = pushed
            .layers
            .iter()
            .find(|(media_type, _, _)| *media_type == Some(HELM_CHART_LAYER))
    {
        record_pushed_chart(state, caller, pushed.repository, tag, (digest, *size)).await;
    }
}
