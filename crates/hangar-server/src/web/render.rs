//! Turning a page into a response, with the headers every page carries.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use hangar_pages::{Chrome, Message, Template};

/// Scripts, styles and requests from scripts only from this server's own files (no inline code,
/// no `eval`), forms only to this server, never framed. Images also from https (entity logos,
/// URLs their publishers set): an image runs no script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn page(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

pub fn message_page(title: &str, text: &str, link: Option<(&str, &str)>) -> Response {
    page(&Message {
        chrome: Chrome::default(),
        title: title.into(),
        text: text.into(),
        link: link.map(|(href, label)| (href.into(), label.into())),
    })
}

/// The middleware: security headers on every web response ([`secured`]).
pub async fn headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let asset = request.uri().path().starts_with("/static/");
    secured(next.run(request).await, asset)
}

/// `response` with the headers every web response carries: the Content-Security-Policy and
/// friends; pages never cached (they carry CSRF tokens and personal data), assets with a
/// content hash forever.
pub fn secured(mut response: Response, asset: bool) -> Response {
    let cache = if asset && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    let h = response.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if !h.contains_key(CONTENT_TYPE) {
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    }
    response
}

/// `GET /static/{file}`: a static file under its hashed name.
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    if let Some(asset) = hangar_pages::asset_at(&format!("/static/{file}")) {
        return ([(CONTENT_TYPE, asset.content_type)], asset.body).into_response();
    }
    let mut response = message_page("Not found", "There is no such file.", None);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
