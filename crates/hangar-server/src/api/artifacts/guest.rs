//! The read paths NGC's catalog gives public models, resources and charts (ngc-api.md §10;
//! Catalog guide §16.4, §17.4), which work with no key at all:
//!
//! - `/v2/{kind}/{org}[/{team}]/{name}[/versions[/{version}[/files[/{path}]|/zip]]]`
//! - `/v2/{kind}/org/{org}[/team/{team}]/{name}/{version}/files[?path=…]`: the download URLs,
//!   or with `path` and `redirect=true` a redirect to the file itself (`wget --content-disposition`).
//!
//! Each is answered by the same handler as the `/v2/org/…` path, so the same rights apply.

use super::entity::Named;
use super::transfer::{FilesQuery, download_zip, file_urls, list_files, redirect_to_file};
use super::{info, version_info, versions};
use crate::api::extract::{Path, Query};
use crate::auth::Caller;
use crate::catalog::entities::EntityPath;
use crate::catalog::kinds::Kind;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Extension;
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
    State(state): State<AppState>,
    Extension(kind): Extension<&'static Kind>,
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
        let named = Named {
            kind,
            caller,
            path: entity(org, team, name, Some(version)),
        };
        if let (Some(file), true) = (&query.path, query.redirect) {
            let entity = named.load(&state).await?;
            return redirect_to_file(&state, &headers, &entity, file).await;
        }
        let files = FilesQuery { path: query.path };
        return Ok(file_urls(State(state), headers, named, Query(files))
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
    let named = |version: Option<&str>| Named {
        kind,
        caller,
        path: entity(org, team, name, version),
    };
    let response = match after {
        [] if marker == parts.len() => {
            let found = named(None).load(&state).await?;
            info(State(state), found).await?.into_response()
        }
        [] => {
            let found = named(None).load(&state).await?;
            versions(State(state), found).await?.into_response()
        }
        [version] => {
            let found = named(Some(version)).load(&state).await?;
            version_info(State(state), found).await?.into_response()
        }
        [version, "files"] => {
            let found = named(Some(version)).load(&state).await?;
            list_files(State(state), found).await?.into_response()
        }
        [_, "zip"] | [_, "files", ..] if !kind.has_file_uploads() => return Err(not_found()),
        [version, "zip"] => {
            let found = named(Some(version)).load(&state).await?;
            download_zip(State(state), headers, found).await?
        }
        [version, "files", file @ ..] if !file.is_empty() => {
            let found = named(Some(version)).load(&state).await?;
            redirect_to_file(&state, &headers, &found, &file.join("/")).await?
        }
        _ => return Err(not_found()),
    };
    Ok(response)
}
