//! Form bodies and redirects of the web pages.

use super::error::WebError;
use axum::extract::FromRequest;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// A url-encoded form; a malformed one is a 400 page.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(WebError))]
pub struct Form<T>(pub T);

impl From<axum::extract::rejection::FormRejection> for WebError {
    fn from(e: axum::extract::rejection::FormRejection) -> Self {
        WebError::BadRequest(format!("the form could not be read: {}", e.body_text()))
    }
}

/// A url-encoded form read as its fields in order, for forms that repeat a field (checkboxes
/// named alike).
pub struct Fields(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = WebError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, WebError> {
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, state).await?;
        Ok(Fields(fields))
    }
}

impl Fields {
    /// The first value of `name`, or empty.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A page's query string, read into `T`; one that cannot be read is a 400 page.
pub fn query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Result<T, WebError> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| WebError::BadRequest("this address's query could not be read".into()))
}

/// What a page answers for an entity the visitor may not see, the same as for one that does
/// not exist.
pub fn not_visible(signed_in: bool, noun: &str, path: &str) -> WebError {
    WebError::NotFound(format!(
        "There is no {noun} '{path}', or you may not see it.{}",
        if signed_in { "" } else { " Signing in may show it." }
    ))
}

/// Everything but RFC 3986's unreserved characters, which stay as they are (`1.0`, not `1%2E0`).
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `value` percent-encoded for a path segment or a query value.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, RESERVED).to_string()
}

/// A path on this site to go to after a form, or `/account`: never another site. Browsers
/// drop tabs and line breaks from a URL before reading it (`/<tab>/evil.example` is
/// `//evil.example`), so a path with any control character is not taken.
pub fn local_target(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control);
    if local {
        next.to_string()
    } else {
        "/account".to_string()
    }
}

/// 303 See Other: after a form POST, the browser GETs `to`.
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

#[cfg(test)]
mod tests {
    use super::local_target;

    #[test]
    fn only_local_targets() {
        assert_eq!(local_target("/device?code=x"), "/device?code=x");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "javascript:alert(1)",
            "/a\r\nSet-Cookie: x",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\\evil.example",
            "/\u{0}/evil.example",
        ] {
            assert_eq!(local_target(bad), "/account", "{bad}");
        }
    }
}
