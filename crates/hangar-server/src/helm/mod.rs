//! The Helm repository: `index.yaml` and chart archives per org and team, and ChartMuseum's API
//! for pushing (`helm cm-push`, NVIDIA's ngc CLI). It answers at the root of every host
//! (`/{org}[/{team}]/index.yaml`, `…/charts/{file}`, `/api/{org}[/{team}]/charts…`, as the
//! Catalog guide's `helm repo add` URLs have it) and under `/helm`; under the host names
//! configured as Helm hosts every path is the Helm repository's, as NGC clients expect of
//! `helm.ngc.nvidia.com`.

mod museum;
mod repo;
mod surface;

pub use surface::HelmError;

use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;

/// The path prefix of the Helm repository under the server's own host names.
pub const PREFIX: &str = "/helm";

/// The Helm routes, at the root.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for space in ["/{org}", "/{org}/{team}"] {
        router = router
            .route(&format!("{space}/index.yaml"), get(repo::index))
            .route(&format!("{space}/charts/{{file}}"), get(repo::archive))
            .route(&format!("/api{space}/charts"), get(museum::list).post(museum::upload))
            .route(&format!("/api{space}/charts/{{name}}"), get(museum::versions))
            .route(
                &format!("/api{space}/charts/{{name}}/{{version}}"),
                get(museum::describe).delete(museum::remove),
            );
    }
    router
}

/// Sends a request whose Host is one of the configured Helm hosts to the Helm routes at the
/// root, by giving its path the prefix they have under every other name.
pub async fn route_helm_hosts(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if is_helm_host(&state, &request) {
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
            .to_string();
        let prefixed = format!("{PREFIX}{path_and_query}");
        if let Ok(uri) = prefixed.parse() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

fn is_helm_host(state: &AppState, request: &Request) -> bool {
    if state.settings.helm_hosts.is_empty() {
        return false;
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host())
        .unwrap_or_default();
    // `name:port` or `[v6]:port`: only the name counts.
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => host,
    };
    state.settings.helm_hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
}
