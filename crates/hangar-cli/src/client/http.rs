//! The REST client: bearer tokens from the token service (cached, renewed once on a 401),
//! JSON requests and responses, and NGC's error documents turned into one-line errors.

use super::settings::Settings;
use super::tokens::{CachedToken, TokenCache, TokenScope};
use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Characters escaped in a path segment: all but RFC 3986's unreserved ones.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// Items asked for per page of a paginated list.
const PAGE_SIZE: usize = 100;
/// A guard against servers whose pagination never ends.
const MAX_PAGES: usize = 10_000;

/// A path segment, percent-encoded (names, e-mail addresses).
pub fn seg(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

pub type Query<'a> = [(&'a str, String)];

/// What the client signs in with.
#[derive(Clone)]
pub enum Secret {
    /// An API key, exchanged at the token service for bearer tokens.
    ApiKey(String),
    /// An e-mail login's session key: a bearer itself, which cannot be renewed.
    Session(String),
}

impl Secret {
    /// The settings' secret: an API key in force wins over a saved e-mail login.
    pub fn of(settings: &Settings) -> Option<Secret> {
        match (&settings.api_key, &settings.session_key) {
            (Some(key), _) => Some(Secret::ApiKey(key.value.clone())),
            (None, Some(session)) => Some(Secret::Session(session.value.clone())),
            (None, None) => None,
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Secret::ApiKey(value) | Secret::Session(value) => value,
        }
    }

    pub fn is_session(&self) -> bool {
        matches!(self, Secret::Session(_))
    }

    /// How a token service takes it: Basic `$oauthtoken:<key>`, or the session key as a bearer.
    pub fn authorization(&self) -> String {
        match self {
            Secret::ApiKey(key) => {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("$oauthtoken:{key}"));
                format!("Basic {basic}")
            }
            Secret::Session(key) => format!("Bearer {key}"),
        }
    }
}

struct Credentials {
    secret: Secret,
    org: Option<String>,
    team: Option<String>,
}

/// What a refused e-mail login tells the user.
pub const SESSION_ENDED: &str = "Your e-mail login has expired or was ended (or your password changed). \
     Run `hangar config set --auth-option email --email <you>` to log in again.";

pub struct Api {
    http: reqwest::Client,
    base: String,
    credentials: Option<Credentials>,
    cache: TokenCache,
    token: tokio::sync::Mutex<Option<String>>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An HTTP client builder for the settings' server: user agent, connect timeout, and the extra
/// CA bundle when one is configured.
pub fn client_builder(settings: &Settings) -> Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("hangar/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30));
    if let Some(bundle) = &settings.ca_bundle {
        let path = &bundle.value;
        let pem = std::fs::read(path).with_context(|| format!("Cannot read the CA bundle {}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| anyhow!("Invalid CA bundle {}: {e}", path.display()))?;
        if certs.is_empty() {
            bail!("The CA bundle {} holds no certificate.", path.display());
        }
        builder = builder.tls_certs_merge(certs);
    }
    Ok(builder)
}

/// A client for the data plane (signed part and file URLs): no overall timeout, since a part
/// is up to 500 MB; a read that stalls for five minutes fails.
pub fn data_client(settings: &Settings) -> Result<reqwest::Client> {
    client_builder(settings)?
        .read_timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| anyhow!("Cannot set up HTTP: {}", describe(&e)))
}

impl Api {
    /// A client for the settings' server, authenticated with their API key, org and team
    /// (when there is a key).
    pub fn new(settings: &Settings, cache: TokenCache) -> Result<Api> {
        let builder = client_builder(settings)?.timeout(Duration::from_secs(300));
        let http = builder
            .build()
            .map_err(|e| anyhow!("Cannot set up HTTP: {}", describe(&e)))?;
        let credentials = Secret::of(settings).map(|secret| Credentials {
            secret,
            org: settings.org.as_ref().map(|o| o.value.clone()),
            team: settings.team.as_ref().map(|t| t.value.clone()),
        });
        Ok(Api {
            http,
            base: settings.base_url.value.clone(),
            credentials,
            cache,
            token: tokio::sync::Mutex::new(None),
        })
    }

    fn scope<'a>(&'a self, c: &'a Credentials) -> TokenScope<'a> {
        TokenScope {
            base_url: &self.base,
            api_key: c.secret.value(),
            org: c.org.as_deref(),
            team: c.team.as_deref(),
        }
    }

    /// A bearer token: this run's, the cached one, or a new one (`renew`: always a new one).
    async fn bearer(&self, renew: bool) -> Result<String> {
        let c = self.credentials.as_ref().ok_or_else(|| {
            anyhow!(
                "No API key configured: give --api-key, set HANGAR_API_KEY, or run `hangar config set --api-key <key> --org <org>` (or `hangar config set --auth-option email --email <you> --org <org>` to log in through the browser)."
            )
        })?;
        if let Secret::Session(key) = &c.secret {
            return Ok(key.clone());
        }
        let scope = self.scope(c);
        let mut slot = self.token.lock().await;
        if renew {
            // A failure to update the cache file only costs a token request later.
            let _ = self.cache.forget(&scope);
        } else if let Some(token) = slot.clone() {
            return Ok(token);
        } else if let Some(token) = self.cache.get(&scope, now()) {
            *slot = Some(token.clone());
            return Ok(token);
        }
        let (token, expires_in) = self.request_token(c).await?;
        if let Some(seconds) = expires_in {
            let cached = CachedToken {
                token: token.clone(),
                expires_at: now() + seconds,
            };
            let _ = self.cache.put(&scope, cached, now());
        }
        *slot = Some(token.clone());
        Ok(token)
    }

    /// `GET /token?service=ngc&scope=group/ngc:{org}[&scope=group/ngc:{org}/{team}]` with
    /// the secret's authorization (`Basic base64("$oauthtoken:" + key)`).
    async fn request_token(&self, c: &Credentials) -> Result<(String, Option<i64>)> {
        let mut query: Vec<(&str, String)> = vec![("service", "ngc".into())];
        if let Some(org) = &c.org {
            query.push(("scope", format!("group/ngc:{org}")));
            if let Some(team) = &c.team {
                query.push(("scope", format!("group/ngc:{org}/{team}")));
            }
        }
        let request = self
            .http
            .get(format!("{}/token", self.base))
            .query(&query)
            .header(reqwest::header::AUTHORIZATION, c.secret.authorization());
        let body = read_json(self.execute(request).await?).await?;
        let token = body
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| anyhow!("The token service at {} returned no token.", self.base))?;
        Ok((token.to_string(), body.get("expires_in").and_then(Value::as_i64)))
    }

    /// Sends a request to this server.
    pub async fn execute(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        request
            .send()
            .await
            .map_err(|e| anyhow!("Cannot reach {}: {}", self.base, describe(&e)))
    }

    fn request(&self, method: Method, path: &str, query: &Query<'_>, body: Option<&Value>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    /// An authenticated call; on a 401 the token is renewed and the call made once more.
    pub async fn call(&self, method: Method, path: &str, query: &Query<'_>, body: Option<&Value>) -> Result<Value> {
        read_json(self.send(method, path, query, body).await?).await
    }

    /// An authenticated GET whose answer is text (a PEM file).
    pub async fn text(&self, path: &str) -> Result<String> {
        let response = self.send(Method::GET, path, &[], None).await?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| anyhow!("Cannot read the response from {}: {}", self.base, describe(&e)))?;
        if !status.is_success() {
            bail!("{}", error_message(status, &bytes));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An authenticated GET of something that may not exist: `None` on a 404.
    pub async fn find(&self, path: &str, query: &Query<'_>) -> Result<Option<Value>> {
        let response = self.send(Method::GET, path, query, None).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        read_json(response).await.map(Some)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &Query<'_>,
        body: Option<&Value>,
    ) -> Result<reqwest::Response> {
        let mut renewed = false;
        loop {
            let token = self.bearer(renewed).await?;
            let request = self.authorized(self.request(method.clone(), path, query, body), token);
            let response = self.execute(request).await?;
            if response.status() == StatusCode::UNAUTHORIZED {
                if self.credentials.as_ref().is_some_and(|c| c.secret.is_session()) {
                    bail!(SESSION_ENDED);
                }
                if !renewed {
                    renewed = true;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    /// The bearer token and the configured org and team (`nv-ngc-org`, `nv-ngc-team`).
    fn authorized(&self, request: reqwest::RequestBuilder, token: String) -> reqwest::RequestBuilder {
        let mut request = request.bearer_auth(token);
        if let Some(c) = &self.credentials
            && let Some(org) = &c.org
        {
            request = request.header("nv-ngc-org", org);
            if let Some(team) = &c.team {
                request = request.header("nv-ngc-team", team);
            }
        }
        request
    }

    /// A request for bytes rather than JSON (the Helm repository), with this run's credentials
    /// unless `guest`; send it with [`Api::execute`]. Unlike JSON calls it is not sent again
    /// after a 401, since a streamed body goes only once: a JSON call made first renews a stale
    /// token.
    pub async fn bytes_request(&self, guest: bool, method: Method, path: &str) -> Result<reqwest::RequestBuilder> {
        let request = self.http.request(method, format!("{}{path}", self.base));
        if guest {
            return Ok(request);
        }
        Ok(self.authorized(request, self.bearer(false).await?))
    }

    /// `HEAD /v2/ping` with `bearer`: how `ngc`'s e-mail login asks whether it was approved.
    pub async fn ping_as(&self, bearer: &str) -> Result<StatusCode> {
        let request = self.http.head(format!("{}/v2/ping", self.base)).bearer_auth(bearer);
        Ok(self.execute(request).await?.status())
    }

    /// Whether this client has credentials (an API key or an e-mail login).
    pub fn signed_in(&self) -> bool {
        self.credentials.is_some()
    }

    /// A call without credentials (accepting an invitation).
    pub async fn call_anonymous(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let response = self.execute(self.request(method, path, &[], body)).await?;
        read_json(response).await
    }

    pub async fn get(&self, path: &str, query: &Query<'_>) -> Result<Value> {
        self.call(Method::GET, path, query, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.call(Method::POST, path, &[], Some(body)).await
    }

    pub async fn patch(&self, path: &str, query: &Query<'_>, body: Option<&Value>) -> Result<Value> {
        self.call(Method::PATCH, path, query, body).await
    }

    pub async fn delete(&self, path: &str, query: &Query<'_>) -> Result<Value> {
        self.call(Method::DELETE, path, query, None).await
    }

    /// A GET as the configured user, or without credentials (`guest`: public paths).
    pub async fn get_as(&self, guest: bool, path: &str, query: &Query<'_>) -> Result<Value> {
        if !guest {
            return self.get(path, query).await;
        }
        let response = self.execute(self.request(Method::GET, path, query, None)).await?;
        read_json(response).await
    }

    /// Every item of a paginated list (`page-size`/`page-number`, `paginationInfo`).
    pub async fn get_all(&self, path: &str, query: &Query<'_>, items_key: &str) -> Result<Vec<Value>> {
        self.get_all_as(false, path, query, items_key, PAGE_SIZE).await
    }

    /// [`Api::get_all`], maybe as a guest, with `page_size` items a page.
    pub async fn get_all_as(
        &self,
        guest: bool,
        path: &str,
        query: &Query<'_>,
        items_key: &str,
        page_size: usize,
    ) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        for page in 0..MAX_PAGES {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("page-size", page_size.to_string()));
            q.push(("page-number", page.to_string()));
            let body = self.get_as(guest, path, &q).await?;
            let batch = body
                .get(items_key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let empty = batch.is_empty();
            items.extend(batch);
            if empty || !more_pages(body.get("paginationInfo"), page, items.len()) {
                break;
            }
        }
        Ok(items)
    }
}

/// Whether a page after `page` (zero-based) exists, with `seen` items read so far.
fn more_pages(info: Option<&Value>, page: usize, seen: usize) -> bool {
    let Some(info) = info else { return false };
    let field = |name: &str| info.get(name).and_then(Value::as_u64).map(|n| n as usize);
    match (field("totalPages"), field("totalResults")) {
        (Some(pages), _) => page + 1 < pages,
        (None, Some(total)) => seen < total,
        (None, None) => false,
    }
}

/// The JSON body of a 2xx response (`{}` when empty), or the server's error as a one-line error.
pub async fn read_json(response: reqwest::Response) -> Result<Value> {
    let status = response.status();
    let url = response.url().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| anyhow!("Cannot read the response from {url}: {}", describe(&e)))?;
    if !status.is_success() {
        bail!("{}", error_message(status, &bytes));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes)
        .map_err(|_| anyhow!("The response from the server was either blank or malformed ({url})."))
}

/// The message of an error response: NGC's `requestStatus.statusDescription`, else the usual
/// `detail`/`message`/`error` fields or the OCI error list, else the text, else the status.
pub fn error_message(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(doc) = serde_json::from_str::<Value>(&text) {
        let candidates = [
            doc.pointer("/requestStatus/statusDescription"),
            doc.get("detail"),
            doc.get("message"),
            doc.get("error"),
            doc.pointer("/errors/0/message"),
        ];
        if let Some(msg) = candidates
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|m| !m.trim().is_empty())
        {
            return one_line(msg);
        }
        if let Some(code) = doc.pointer("/requestStatus/statusCode").and_then(Value::as_str) {
            return format!("{} ({code})", status_text(status));
        }
    }
    let text = text.trim();
    if !text.is_empty() && !text.starts_with('<') && text.len() <= 500 {
        return format!("{}: {}", status_text(status), one_line(text));
    }
    status_text(status)
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An error and its causes on one line, without repeats.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(seg("alice@example.com"), "alice%40example.com");
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(seg("team-1.x_y~"), "team-1.x_y~");
    }

    #[test]
    fn ngc_error_descriptions_win() {
        let body =
            br#"{"requestStatus":{"statusCode":"NOT_FOUND","statusDescription":"team 'x' not found","requestId":"1"}}"#;
        assert_eq!(error_message(StatusCode::NOT_FOUND, body), "team 'x' not found");
        let body = br#"{"requestStatus":{"statusCode":"FORBIDDEN"}}"#;
        assert_eq!(
            error_message(StatusCode::FORBIDDEN, body),
            "HTTP 403 Forbidden (FORBIDDEN)"
        );
        assert_eq!(
            error_message(StatusCode::BAD_REQUEST, br#"{"detail":"bad\nthing"}"#),
            "bad thing"
        );
        assert_eq!(
            error_message(StatusCode::BAD_REQUEST, br#"{"errors":[{"code":"X","message":"oci"}]}"#),
            "oci"
        );
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, b"upstream down"),
            "HTTP 502 Bad Gateway: upstream down"
        );
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, b"<html>x</html>"),
            "HTTP 502 Bad Gateway"
        );
        assert_eq!(
            error_message(StatusCode::INTERNAL_SERVER_ERROR, b""),
            "HTTP 500 Internal Server Error"
        );
    }

    #[test]
    fn pagination_follows_total_pages_then_total_results() {
        let info = json!({"index": 0, "size": 100, "totalResults": 250, "totalPages": 3});
        assert!(more_pages(Some(&info), 0, 100));
        assert!(more_pages(Some(&info), 1, 200));
        assert!(!more_pages(Some(&info), 2, 250));
        let info = json!({"size": 100, "totalResults": 200});
        assert!(more_pages(Some(&info), 0, 100));
        assert!(!more_pages(Some(&info), 1, 200));
        assert!(!more_pages(None, 0, 100));
    }
}
