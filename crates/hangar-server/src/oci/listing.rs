//! Listings: tags (`/tags/list`), referrers (`/referrers/<digest>`) and the catalog.

use super::auth::{LIST, PULL, RegistryCaller};
use super::error::{OciError, OciResult};
use super::manifests::OCI_INDEX;
use super::repo::{digest, existing};
use crate::state::AppState;
use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, LINK};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The most entries one page may hold.
const MAX_PAGE: i64 = 10_000;

fn json_response(body: Value, content_type: &str, extra: &[(&str, String)]) -> OciResult<Response> {
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type);
    for (name, value) in extra {
        builder = builder.header(*name, value);
    }
    builder.body(Body::from(body.to_string())).map_err(OciError::internal)
}

/// `n` (page size; absent means everything up to the cap) and `last` (keyset cursor).
fn page(query: &HashMap<String, String>) -> (i64, String) {
    let n = query
        .get("n")
        .and_then(|n| n.parse::<i64>().ok())
        .map_or(MAX_PAGE, |n| n.clamp(0, MAX_PAGE));
    (n, query.get("last").cloned().unwrap_or_default())
}

fn next_link(path: &str, n: i64, last: Option<&String>) -> Vec<(&'static str, String)> {
    match last {
        Some(last) => vec![(LINK.as_str(), format!("<{path}?n={n}&last={last}>; rel=\"next\""))],
        None => vec![],
    }
}

pub async fn tags(
    state: &AppState,
    rc: &RegistryCaller,
    name: &str,
    query: &HashMap<String, String>,
) -> OciResult<Response> {
    let repo = existing(state, rc, name, LIST).await?;
    let (n, last) = page(query);
    let mut tags = state.meta.tags(repo.id, &last, n + 1).await?;
    let more = tags.len() as i64 > n;
    tags.truncate(n as usize);
    let link = next_link(&format!("/v2/{name}/tags/list"), n, tags.last().filter(|_| more));
    json_response(json!({"name": name, "tags": tags}), "application/json", &link)
}

pub async fn referrers(
    state: &AppState,
    rc: &RegistryCaller,
    name: &str,
    subject: &str,
    query: &HashMap<String, String>,
) -> OciResult<Response> {
    rc.require(state, name, PULL).await?;
    let subject = digest(subject)?;
    let filter = query.get("artifactType").filter(|t| !t.is_empty());
    // A repository with nothing in it yet has no referrers: an empty list, not an error.
    let found = match state.meta.repository(name).await? {
        Some(repo) => state.meta.referrers(repo.id, subject.as_str()).await?,
        None => vec![],
    };
    let manifests: Vec<Value> = found
        .into_iter()
        .filter(|m| filter.is_none_or(|f| m.artifact_type.as_ref() == Some(f)))
        .map(|m| {
            let mut d = json!({"mediaType": m.media_type, "digest": m.digest, "size": m.content.len()});
            if let Some(t) = &m.artifact_type {
                d["artifactType"] = json!(t);
            }
            if let Some(a) = m
                .annotations
                .as_deref()
                .and_then(|a| serde_json::from_str::<Value>(a).ok())
            {
                d["annotations"] = a;
            }
            d
        })
        .collect();
    let extra = match filter {
        Some(_) => vec![("OCI-Filters-Applied", "artifactType".to_string())],
        None => vec![],
    };
    json_response(
        json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}),
        OCI_INDEX,
        &extra,
    )
}

/// `/v2/_catalog`: repositories the caller may list, by name, keyset-paginated.
pub async fn catalog(state: &AppState, rc: &RegistryCaller, query: &HashMap<String, String>) -> OciResult<Response> {
    rc.require_catalog()?;
    let (n, mut cursor) = page(query);
    let mut visible = Vec::new();
    let mut more = false;
    'scan: loop {
        let batch = state.meta.repository_names(&cursor, 500).await?;
        let Some(last) = batch.last().cloned() else { break };
        for name in batch {
            if rc.can_list(state, &name).await? {
                if visible.len() as i64 == n {
                    more = true;
                    break 'scan;
                }
                visible.push(name);
            }
        }
        cursor = last;
    }
    let link = next_link("/v2/_catalog", n, visible.last().filter(|_| more));
    json_response(json!({"repositories": visible}), "application/json", &link)
}
