//! Turning a page into a response, with the headers every page carries.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use hangar_pages::{Chrome, Message, Template};

/// No script at all, styles only from this server, forms only to this server, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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

/// The middleware: security headers on every web response; pages are never cached (they
/// carry CSRF tokens and personal data), assets with a content hash forever.
pub async fn headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let asset = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
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

/// `GET /static/{file}`: the stylesheet under its hashed name.
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    if format!("/static/{file}") == hangar_pages::stylesheet_url() {
        return ([(CONTENT_TYPE, "text/css; charset=utf-8")], hangar_pages::STYLESHEET).into_response();
    }
    let mut response = message_page("Not found", "There is no such file.", None);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
