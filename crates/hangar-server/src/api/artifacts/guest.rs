//! The read paths NGC's catalog gives public models, resources and charts (ngc-api.md §10;
//! Catalog guide §16.4, §17.4), which work with no key at all:
//!
//! - `/v2/{kind}/{org}[/{team}]/{name}[/versions[/{version}[/files[/{path}]|/zip]]]`
//! - `/v2/{kind}/org/{org}[/team/{team}]/{name}/{version}/files[?path=…]`: the download URLs,
//!   or with `path` and `redirect=true` a redirect to the file itself (`wget --content-disposition`).
//!
//! Each is answered by the same handler as the `/v2/org/…` path, so the same rights apply.

use super::kind::Kind;
use super::transfer::{FilesQuery, download_zip, file_urls, list_files, redirect_to_file};
use super::{info, version_info, versions};
use crate::api::extract::{Path, Query};
use crate::auth::Caller;
use crate::catalog::entities::EntityPath;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct GuestQuery {
    path: Option<String>,
    #[serde(default)]
    redirect: bool,
}

fn entity(org: &str, team: Option<&str>, name: &str, version: Option<&str>) -> EntityPath {
    EntityPath {
        org: org.to_string(),
        team: team.map(str::to_string),
        name: name.to_string(),
        version: version.map(str::to_string),
    }
}

pub async fn read(
    kind: &'static Kind,
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(rest): Path<String>,
    Query(query): Query<GuestQuery>,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound(format!("no such path: /v2/{}/{rest}", kind.wire.segment));
    let parts: Vec<&str> = rest.split('/').collect();
    // A chart's bytes are its archive, served by the Helm repository.
    if let ["org", org, tail @ ..] = parts.as_slice()
        && kind.has_file_uploads()
    {
        let (team, tail) = match tail {
            ["team", team, tail @ ..] => (Some(*team), tail),
            _ => (None, tail),
        };
        let [name, version, "files"] = tail else {
            return Err(not_found());
        };
        let path = entity(org, team, name, Some(version));
        if let (Some(file), true) = (&query.path, query.redirect) {
            return redirect_to_file(&state, kind, &caller, &headers, &path, file).await;
        }
        let files = FilesQuery { path: query.path };
        return Ok(file_urls(kind, State(state), caller, headers, Path(path), Query(files))
            .await?
            .into_response());
    }
    let marker = parts.iter().position(|p| *p == "versions").unwrap_or(parts.len());
    let (org, team, name) = match &parts[..marker] {
        [org, name] => (*org, None, *name),
        [org, team, name] => (*org, Some(*team), *name),
        _ => return Err(not_found()),
    };
    let after = parts.get(marker + 1..).unwrap_or_default();
    let path = |version: Option<&str>| entity(org, team, name, version);
    let response = match after {
        [] if marker == parts.len() => info(kind, State(state), caller, Path(path(None)))
            .await?
            .into_response(),
        [] => versions(kind, State(state), caller, Path(path(None)))
            .await?
            .into_response(),
        [version] => version_info(kind, State(state), caller, Path(path(Some(version))))
            .await?
            .into_response(),
        [version, "files"] => list_files(kind, State(state), caller, Path(path(Some(version))))
            .await?
            .into_response(),
        [_, "zip"] | [_, "files", ..] if !kind.has_file_uploads() => return Err(not_found()),
        [version, "zip"] => download_zip(kind, State(state), caller, headers, Path(path(Some(version)))).await?,
        [version, "files", file @ ..] if !file.is_empty() => {
            redirect_to_file(&state, kind, &caller, &headers, &path(Some(version)), &file.join("/")).await?
        }
        _ => return Err(not_found()),
    };
    Ok(response)
}
