//! Charts pushed with `helm push oci://…`: stored by the registry like any artifact, and also
//! recorded as a version of the chart of the same name, so that they are in the catalog, the
//! REST API and `index.yaml` too. The archive is the manifest's layer, already in the blob
//! store; nothing is copied.

use super::publish::{read_archive, record};
use crate::auth::Caller;
use crate::catalog::error::{DomainError, DomainResult};
use crate::catalog::space::Space;
use crate::state::AppState;
use futures::TryStreamExt;
use hangar_store::blob::Digest;

/// The config media type of a Helm chart manifest.
pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
/// The media type of the chart archive layer.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// Records the chart of a Helm manifest just pushed to `repository` as `tag`. Failing here does
/// not fail the push, which the registry has accepted: the reason is logged.
pub async fn record_pushed_chart(state: &AppState, caller: &Caller, repository: &str, tag: &str, layer: (&str, i64)) {
    match record_chart(state, caller, repository, tag, layer).await {
        Ok(()) => tracing::info!(%repository, %tag, "chart recorded from an OCI push"),
        Err(DomainError::Conflict(_)) => {}
        Err(e) => tracing::warn!(%repository, %tag, error = %e, "OCI chart push not recorded as a chart version"),
    }
}

async fn record_chart(
    state: &AppState,
    caller: &Caller,
    repository: &str,
    tag: &str,
    (layer, size): (&str, i64),
) -> DomainResult<()> {
    let parts: Vec<&str> = repository.split('/').collect();
    let (org, team) = match parts.as_slice() {
        [org, _] => (*org, None),
        [org, team, _] => (*org, Some(*team)),
        _ => return Err(DomainError::Invalid("charts live at org/[team/]name".into())),
    };
    let size = u64::try_from(size).unwrap_or(u64::MAX);
    if size > state.settings.max_chart_bytes {
        return Err(DomainError::TooLarge("the chart archive is too large".into()));
    }
    let space = Space::find(state, org, team).await?;
    let digest: Digest = layer
        .parse()
        .map_err(|e: hangar_core::Error| DomainError::Invalid(e.to_string()))?;
    let stream = state.blobs.get(&digest, None).await?;
    let reader =
        tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream.map_err(std::io::Error::other)));
    let contents = read_archive(std::io::BufReader::new(reader)).await?;
    // `helm push` tags a version with `+` as `_`, which tags cannot hold.
    let name = parts.last().copied().unwrap_or_default();
    if contents.name != name || contents.version.replace('+', "_") != tag {
        return Err(DomainError::Invalid(format!(
            "the archive is {}:{}, not {name}:{tag}",
            contents.name, contents.version
        )));
    }
    record(state, caller, &space, &contents, &digest, size, None).await?;
    Ok(())
}
