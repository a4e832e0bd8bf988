//! Hangar's HTTP server: the NGC-shaped REST API, the token service, TLS.

pub mod api;
pub mod auth;
pub mod cache;
pub mod catalog;
mod connection;
pub mod data;
mod error;
pub mod gc;
pub mod helm;
pub mod identity;
mod linger;
pub mod oci;
pub mod server;
pub mod state;
pub mod web;

pub use error::{ApiError, ApiResult};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::HOST;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use state::AppState;
use thiserror::Error;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// Largest JSON body the API reads.
pub const MAX_API_BODY: usize = 1024 * 1024;

/// Why the server could not start or stopped with an error.
#[derive(Debug, Error)]
pub enum ServerError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] hangar_store::Error),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Identity(#[from] identity::error::IdentityError),
    #[error(transparent)]
    Domain(#[from] catalog::error::DomainError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .merge(api::routes())
        .nest(helm::PREFIX, helm::routes())
        // The Catalog guide's `helm repo add <name> https://<host>/<org>[/<team>]` on any host:
        // these exact suffixes collide with no other surface (DESIGN.md, "Surfaces").
        .merge(helm::routes())
        .merge(oci::routes())
        .merge(data::routes())
        .merge(web::routes())
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_API_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            retire_cache_on_write,
        ))
        .layer(axum::middleware::from_fn(connection::keep_usable))
        .layer(axum::middleware::map_request(host_from_authority))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());
    // Host routing changes the path, so it wraps the router: layers of a router run after routing.
    let helm_hosts = axum::middleware::from_fn_with_state(state, helm::route_helm_hosts);
    Router::new().fallback_service(tower::Layer::layer(&helm_hosts, app))
}

/// Any request that may change something retires this replica's read cache once it is
/// answered, so the next read sees the change; only responses marked [`cache::Unchanged`]
/// are known not to.
async fn retire_cache_on_write(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(request).await;
    if writes && response.extensions().get::<cache::Unchanged>().is_none() {
        state.cache.retire();
    }
    response
}

/// HTTP/2 requests name their host in the `:authority` pseudo-header, which becomes the URI's
/// authority rather than a `Host` header; handlers that build URLs from the host read `Host`.
async fn host_from_authority(mut request: axum::extract::Request) -> axum::extract::Request {
    if !request.headers().contains_key(HOST)
        && let Some(value) = request
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        request.headers_mut().insert(HOST, value);
    }
    request
}

/// No route: a browser asking for a page gets one; every client of a protocol its JSON.
pub(crate) async fn not_found(method: Method, uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let wants_page = matches!(method, Method::GET | Method::HEAD)
        && !uri.path().starts_with("/v2/")
        && headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        return web::not_found_page();
    }
    no_such_endpoint()
}

/// The protocols' answer for a path nobody serves.
pub(crate) fn no_such_endpoint() -> Response {
    ApiError::NotFound("no such endpoint".into()).into_response()
}

async fn method_not_allowed() -> Response {
    let mut response = ApiError::Unsupported("method not allowed on this endpoint".into()).into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}
