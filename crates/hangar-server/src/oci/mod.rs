//! The OCI distribution API (v1.1) under `/v2/`, sharing the one blob store and the one
//! policy with the rest of Hangar.

mod auth;
mod blobs;
mod body;
mod error;
mod listing;
mod manifests;
mod path;
mod repo;
mod uploads;

use crate::cache::Unchanged;
use crate::state::AppState;
use auth::RegistryCaller;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use error::{OciError, OciResult, RegistryCode, registry};
use path::Endpoint;
use std::collections::HashMap;

const API_VERSION: (&str, &str) = ("Docker-Distribution-API-Version", "registry/2.0");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/", get(base))
        .route("/v2/{*rest}", any(dispatch))
}

/// `GET /v2/`: 200 for an authenticated caller, the Bearer challenge otherwise.
async fn base(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let rc = RegistryCaller::from_headers(&state, &headers).await?;
        rc.require_login()?;
        Ok::<_, OciError>(())
    }
    .await;
    let response = match result {
        Ok(()) => (StatusCode::OK, axum::Json(serde_json::json!({}))).into_response(),
        Err(e) => e.into_response(),
    };
    with_version(response)
}

fn with_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(API_VERSION.0, axum::http::HeaderValue::from_static(API_VERSION.1));
    response
}

async fn dispatch(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(rest): Path<String>,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Response {
    // Repeated parameters (`?tag=a&tag=b`) are kept as a list; the rest by name.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let tags: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| v.clone())
        .collect();
    let query: HashMap<String, String> = pairs.into_iter().collect();
    let answer = match path::parse(&rest) {
        Ok(Some(endpoint)) => handle(&state, method, &headers, endpoint, &query, &tags, body).await,
        // Not a registry path: the server's own answer for paths it does not know.
        Ok(None) => Ok(crate::no_such_endpoint()),
        Err(e) => Err(e),
    };
    with_version(answer.unwrap_or_else(IntoResponse::into_response))
}

async fn handle(
    state: &AppState,
    method: Method,
    headers: &HeaderMap,
    endpoint: Endpoint,
    query: &HashMap<String, String>,
    tags: &[String],
    body: Body,
) -> OciResult<Response> {
    let rc = RegistryCaller::from_headers(state, headers).await?;
    let m = &method;
    // Blobs are not in the read cache (only the repositories holding them, which no blob
    // request changes or removes).
    let blob = matches!(
        endpoint,
        Endpoint::Blob { .. } | Endpoint::Uploads { .. } | Endpoint::Upload { .. }
    );
    let response = match endpoint {
        Endpoint::Catalog if m == Method::GET => listing::catalog(state, &rc, query).await,
        Endpoint::Tags { name } if m == Method::GET => listing::tags(state, &rc, &name, query).await,
        Endpoint::Referrers { name, digest } if m == Method::GET => {
            listing::referrers(state, &rc, &name, &digest, query).await
        }
        Endpoint::Manifest { name, reference } => match method {
            Method::GET | Method::HEAD => manifests::read(state, &rc, m, &name, &reference).await,
            Method::PUT => manifests::write(state, &rc, headers, &name, &reference, tags, body).await,
            Method::DELETE => manifests::delete(state, &rc, &name, &reference).await,
            _ => unsupported(),
        },
        Endpoint::Blob { name, digest } => match method {
            Method::GET | Method::HEAD => blobs::read(state, &rc, m, headers, &name, &digest).await,
            Method::DELETE => blobs::delete(state, &rc, &name, &digest).await,
            _ => unsupported(),
        },
        Endpoint::Uploads { name } if m == Method::POST => uploads::start(state, &rc, &name, query, body).await,
        Endpoint::Upload { name, id } => match method {
            Method::PATCH => uploads::patch(state, &rc, headers, &name, &id, body).await,
            Method::PUT => uploads::finish(state, &rc, headers, &name, &id, query, body).await,
            Method::GET => uploads::status(state, &rc, &name, &id).await,
            Method::DELETE => uploads::cancel(state, &rc, &name, &id).await,
            _ => unsupported(),
        },
        _ => unsupported(),
    };
    response.map(|mut r| {
        if blob {
            r.extensions_mut().insert(Unchanged);
        }
        r
    })
}

fn unsupported() -> OciResult<Response> {
    Err(registry(RegistryCode::Unsupported, "this method is not supported here"))
}
