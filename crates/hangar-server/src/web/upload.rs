//! Upload a model or resource version from the browser (Private Registry guide §4.4, §5.4) and
//! clone a version (§4.7): the page with the form, the picked files and their progress. The
//! bytes never pass through this page: its script (`upload.js`) uses the REST API and the data
//! plane with `ngc`'s multipart protocol, under the same verdicts; this page only offers it to
//! those who may upload, and names the unfinished versions it can resume.

use super::entity::size;
use super::error::{WebError, WebResult};
use super::explore::caller_of;
use super::forms::query;
use super::publish::{Editing, editing};
use super::render::page;
use super::visitor::Visitor;
use crate::catalog::fields::{MAX_METRIC_PAIRS, MAX_METRIC_TABLES};
use crate::catalog::limits::PART_SIZE;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use hangar_core::policy::ArtifactOp;
use hangar_core::versions::latest_first;
use hangar_pages::{Choice, FileRow, UploadPage};
use hangar_store::meta::{UPLOAD_COMPLETE, UPLOAD_PENDING};
use serde::Deserialize;

#[derive(Deserialize, Default)]
struct Asked {
    /// The version to start from (clone).
    clone: Option<String>,
}

/// `GET /upload/{models|resources}/{org}[/{team}]/{name}[?clone=version]`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((segment, rest)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    visitor.signed_in()?;
    let asked: Asked = query(raw.as_deref())?;
    if segment != "models" && segment != "resources" {
        return Err(WebError::NotFound(format!("{segment} have no file uploads")));
    }
    let caller = caller_of(&state, &visitor).await?;
    let Editing::Entity(kind, found) = editing(&state, &caller, &segment, &rest, ArtifactOp::Upload).await? else {
        return Err(WebError::NotFound(format!("{segment} have no file uploads")));
    };
    let mut versions = state.meta.versions(found.artifact.id).await?;
    versions.sort_by(|a, b| latest_first(&a.version, &b.version));
    let chosen = asked.clone.unwrap_or_default();
    let base = versions
        .iter()
        .find(|v| v.version == chosen && v.status == UPLOAD_COMPLETE);
    if !chosen.is_empty() && base.is_none() {
        return Err(WebError::NotFound(format!(
            "'{}' has no complete version '{chosen}' to start from",
            found.artifact.path
        )));
    }
    let base_files = match base {
        Some(v) => state
            .meta
            .version_files(v.id)
            .await?
            .into_iter()
            .map(|f| FileRow {
                name: f.path,
                size: size(f.size),
                href: String::new(),
                wget: String::new(),
                curl: String::new(),
            })
            .collect(),
        None => vec![],
    };
    let space_api = match found.space.team_name() {
        Some(team) => format!("/v2/org/{}/team/{team}", found.space.org.name),
        None => format!("/v2/org/{}", found.space.org.name),
    };
    let template = UploadPage {
        chrome: visitor.chrome(&state).await?,
        kind: kind.wire.noun.to_string(),
        path: found.artifact.path.clone(),
        page: format!("/catalog/{segment}/{}", found.artifact.path),
        entity_api: format!("{space_api}/{}/{}", kind.wire.segment, found.artifact.name),
        space_api,
        artifact_type: kind.wire.segment.to_string(),
        version_key: kind.wire.version_key.to_string(),
        name: found.artifact.name.clone(),
        part_size: PART_SIZE,
        pending: versions
            .iter()
            .filter(|v| v.status == UPLOAD_PENDING)
            .map(|v| v.version.clone())
            .collect(),
        bases: versions
            .iter()
            .filter(|v| v.status == UPLOAD_COMPLETE)
            .map(|v| Choice {
                value: v.version.clone(),
                label: format!("{} ({} files, {})", v.version, v.file_count, size(v.total_bytes)),
                selected: v.version == chosen,
            })
            .collect(),
        base_files,
        metric_tables: MAX_METRIC_TABLES,
        metric_pairs: MAX_METRIC_PAIRS,
    };
    Ok(visitor.respond(page(&template)))
}
