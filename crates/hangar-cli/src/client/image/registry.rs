//! A client of the OCI distribution API for one repository: Docker token auth (the Bearer
//! challenge of `/v2/`, a token from its realm with Basic `$oauthtoken:<key>` or an e-mail
//! login's session key as a bearer, renewed before it expires and once on a 401), blob
//! existence checks, streamed uploads (monolithic for small blobs; else POST, one streamed
//! PATCH, PUT `?digest=`) and streamed, verified downloads.

use super::media::{Descriptor, MANIFEST_ACCEPT, MAX_MANIFEST};
use super::store::Location;
use crate::client::http::{SESSION_ENDED, Secret, describe, error_message};
use crate::client::settings::Settings;
use anyhow::{Context, Result, anyhow, bail};
use futures::TryStreamExt;
use hangar_core::digest::{Algorithm, Digest, Hasher};
use indicatif::ProgressBar;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Blobs up to this size are sent in one `POST ?digest=`; larger ones in a session.
pub const MONOLITHIC_MAX: u64 = 4 * 1024 * 1024;
/// A token is renewed when it has less than this left.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);
/// How long a token lives when the token service does not say (the spec's default).
const DEFAULT_TOKEN_SECONDS: u64 = 60;
const READ_CHUNK: usize = 256 * 1024;
const DIGEST_HEADER: &str = "docker-content-digest";

#[derive(Clone)]
enum Auth {
    /// The registry asked for no credentials.
    Open,
    /// `Authorization: Basic …` on every request.
    Basic(String),
    Bearer {
        realm: String,
        service: Option<String>,
        token: String,
        renew_at: Instant,
    },
}

/// How a blob got into the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uploaded {
    /// It was there already.
    Present,
    /// Mounted from another repository of the registry, without sending it.
    Mounted,
    /// Sent.
    Sent,
}

/// A manifest as the registry served it.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: Option<String>,
    pub digest: Digest,
}

pub struct Registry {
    http: reqwest::Client,
    base: String,
    pub name: String,
    secret: Option<Secret>,
    /// The Docker token actions asked for: `pull` or `pull,push`.
    actions: &'static str,
    auth: tokio::sync::Mutex<Option<Auth>>,
}

/// The message of an error response: the OCI error list as `CODE: message`, else the usual
/// NGC and HTTP forms.
pub fn registry_error(status: StatusCode, body: &[u8]) -> String {
    if let Ok(doc) = serde_json::from_slice::<Value>(body)
        && let Some(errors) = doc.get("errors").and_then(Value::as_array)
    {
        let parts: Vec<String> = errors
            .iter()
            .filter_map(|e| {
                let code = e.get("code").and_then(Value::as_str).unwrap_or_default();
                let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
                let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
                match (code.is_empty(), message.is_empty()) {
                    (true, true) => None,
                    (false, true) => Some(code.to_string()),
                    (true, false) => Some(message),
                    (false, false) => Some(format!("{code}: {message}")),
                }
            })
            .collect();
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    error_message(status, body)
}

/// The parameters of a `WWW-Authenticate` challenge: scheme (lowercase) and `key="value"` pairs.
pub fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, mut rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((key, value));
        rest = next;
    }
    (scheme.to_ascii_lowercase(), params)
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

async fn read_limited(response: Response, limit: u64, what: &str) -> Result<Vec<u8>> {
    if response.content_length().is_some_and(|n| n > limit) {
        bail!("{what} is larger than {limit} bytes");
    }
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| anyhow!("Cannot read {what}: {}", describe(&e)))?
    {
        if bytes.len() as u64 + chunk.len() as u64 > limit {
            bail!("{what} is larger than {limit} bytes");
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn header(response: &Response, name: impl reqwest::header::AsHeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

impl Registry {
    /// A client for repository `name` on the settings' server; `push` asks for push rights too.
    pub fn new(settings: &Settings, name: &str, push: bool) -> Result<Registry> {
        // No overall timeout: a layer may take long. A stalled connection fails.
        let builder = super::super::http::client_builder(settings)?.read_timeout(Duration::from_secs(300));
        let http = builder
            .build()
            .map_err(|e| anyhow!("Cannot set up HTTP: {}", describe(&e)))?;
        Ok(Registry {
            http,
            base: settings.base_url.value.clone(),
            name: name.to_string(),
            secret: Secret::of(settings),
            actions: if push { "pull,push" } else { "pull" },
            auth: tokio::sync::Mutex::new(None),
        })
    }

    /// The host (and port) of the registry, as Docker names its images.
    pub fn host(&self) -> String {
        Url::parse(&self.base)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_string();
                Some(match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.name)
    }

    fn unreachable(&self, e: &reqwest::Error) -> anyhow::Error {
        anyhow!("Cannot reach {}: {}", self.base, describe(e))
    }

    /// Finds out how the registry wants to be spoken to (`GET /v2/`) and gets a token.
    pub async fn login(&self) -> Result<()> {
        let mut slot = self.auth.lock().await;
        let response = self
            .http
            .get(format!("{}/v2/", self.base))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let auth = if status.is_success() {
            Auth::Open
        } else if status == StatusCode::UNAUTHORIZED {
            let challenge = header(&response, WWW_AUTHENTICATE).unwrap_or_default().to_string();
            let (scheme, params) = parse_challenge(&challenge);
            match scheme.as_str() {
                "bearer" => {
                    let realm = param(&params, "realm").ok_or_else(|| {
                        anyhow!("The registry at {} sent a Bearer challenge without a realm.", self.base)
                    })?;
                    let realm = Url::parse(&self.base)
                        .and_then(|b| b.join(realm))
                        .map(String::from)
                        .unwrap_or_else(|_| realm.to_string());
                    self.token(realm, param(&params, "service").map(str::to_string)).await?
                }
                "basic" => Auth::Basic(self.credentials()?),
                _ => bail!(
                    "The registry at {} asks for an unsupported authentication ({challenge}).",
                    self.base
                ),
            }
        } else {
            let body = response.bytes().await.unwrap_or_default();
            bail!(
                "No container registry at {}/v2/: {}",
                self.base,
                registry_error(status, &body)
            );
        };
        *slot = Some(auth);
        Ok(())
    }

    /// The `Authorization` this client's secret goes in (to the token service, or to a registry
    /// that asks for Basic credentials).
    fn credentials(&self) -> Result<String> {
        let secret = self.secret.as_ref().ok_or_else(|| self.no_key())?;
        Ok(secret.authorization())
    }

    /// A 401 for an e-mail login means it is over: say so rather than what the server said.
    fn session_ended(&self) -> bool {
        self.secret.as_ref().is_some_and(Secret::is_session)
    }

    fn no_key(&self) -> anyhow::Error {
        anyhow!(
            "UNAUTHORIZED: the registry needs an API key: give --api-key, set HANGAR_API_KEY, or run `hangar config set --api-key <key>` (or log in with `hangar config set --auth-option email`)."
        )
    }

    /// A token for this repository from the token service at `realm`.
    async fn token(&self, realm: String, service: Option<String>) -> Result<Auth> {
        let mut query = vec![("scope", format!("repository:{}:{}", self.name, self.actions))];
        if let Some(service) = &service {
            query.push(("service", service.clone()));
        }
        let mut request = self.http.get(&realm).query(&query);
        if self.secret.is_some() {
            request = request.header(AUTHORIZATION, self.credentials()?);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED && self.session_ended() {
            bail!(SESSION_ENDED);
        }
        let body = read_limited(response, 1024 * 1024, "the token").await?;
        if !status.is_success() {
            bail!(
                "Cannot log in to the registry at {}: {}",
                self.base,
                registry_error(status, &body)
            );
        }
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|_| anyhow!("The token service at {realm} returned no JSON document."))?;
        let token = ["token", "access_token"]
            .iter()
            .find_map(|k| doc.get(*k).and_then(Value::as_str).filter(|t| !t.is_empty()))
            .ok_or_else(|| anyhow!("The token service at {realm} returned no token."))?;
        let seconds = doc
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_TOKEN_SECONDS);
        let lifetime = Duration::from_secs(seconds).saturating_sub(TOKEN_MARGIN);
        Ok(Auth::Bearer {
            realm,
            service,
            token: token.to_string(),
            renew_at: Instant::now() + lifetime,
        })
    }

    /// The `Authorization` value to send now, renewing an old token (`force`: always).
    async fn authorization(&self, force: bool) -> Result<Option<String>> {
        let mut slot = self.auth.lock().await;
        let auth = slot
            .clone()
            .ok_or_else(|| anyhow!("internal error: the registry client is not logged in"))?;
        Ok(match auth {
            Auth::Open => None,
            Auth::Basic(value) => Some(value),
            Auth::Bearer {
                realm,
                service,
                token,
                renew_at,
            } => {
                if force || Instant::now() >= renew_at {
                    let fresh = self.token(realm, service).await?;
                    let value = match &fresh {
                        Auth::Bearer { token, .. } => format!("Bearer {token}"),
                        _ => unreachable!("token() returns a bearer token"),
                    };
                    *slot = Some(fresh);
                    Some(value)
                } else {
                    Some(format!("Bearer {token}"))
                }
            }
        })
    }

    /// Sends the request `build` makes, with credentials. On a 401 the token is renewed and
    /// the request built and sent once more; a 401 for lack of scope is an access error.
    async fn send(&self, build: &(dyn Fn() -> Result<RequestBuilder> + Sync)) -> Result<Response> {
        let mut renewed = false;
        loop {
            let mut request = build()?;
            if let Some(value) = self.authorization(renewed).await? {
                request = request.header(AUTHORIZATION, value);
            }
            let response = request.send().await.map_err(|e| self.unreachable(&e))?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            let challenge = header(&response, WWW_AUTHENTICATE).unwrap_or_default().to_string();
            let (scheme, params) = parse_challenge(&challenge);
            if param(&params, "error") == Some("insufficient_scope") {
                return Err(self.denied(param(&params, "scope")));
            }
            if !renewed && scheme == "bearer" {
                renewed = true;
                continue;
            }
            if self.secret.is_none() {
                return Err(self.no_key());
            }
            if self.session_ended() {
                bail!(SESSION_ENDED);
            }
            let body = response.bytes().await.unwrap_or_default();
            bail!("{}", registry_error(StatusCode::UNAUTHORIZED, &body));
        }
    }

    fn denied(&self, scope: Option<&str>) -> anyhow::Error {
        let action = scope
            .and_then(|s| s.rsplit(':').next())
            .map(str::to_string)
            .unwrap_or_else(|| self.actions.to_string());
        let who = match &self.secret {
            Some(Secret::ApiKey(_)) => "your API key",
            Some(Secret::Session(_)) => "your e-mail login",
            None => "an anonymous user (no API key given)",
        };
        let verb = if action.contains("push") {
            "push to"
        } else {
            "pull from"
        };
        anyhow!("DENIED: {who} may not {verb} '{}'.", self.name)
    }

    async fn failure(response: Response, what: &str) -> anyhow::Error {
        let status = response.status();
        let body = read_limited(response, 64 * 1024, "the error").await.unwrap_or_default();
        anyhow!("{what}: {}", registry_error(status, &body))
    }

    fn location(&self, response: &Response) -> Result<Url> {
        let text =
            header(response, LOCATION).ok_or_else(|| anyhow!("The registry started an upload without a Location."))?;
        Url::parse(&self.base)
            .and_then(|b| b.join(text))
            .map_err(|e| anyhow!("The registry sent an invalid upload Location '{text}': {e}"))
    }

    /// The size of a blob in the repository, or `None` when it is not there.
    pub async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>> {
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send(&|| Ok(self.http.head(&url))).await?;
        match response.status() {
            s if s.is_success() => Ok(Some(
                header(&response, CONTENT_LENGTH)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_default(),
            )),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(Self::failure(response, &format!("Cannot check blob {digest}")).await),
        }
    }

    /// A streamed request body of `location`'s bytes, counted on `bar`.
    fn file_body(location: &Location, bar: &ProgressBar) -> Result<reqwest::Body> {
        bar.set_position(0);
        let reader = tokio::fs::File::from_std(location.open()?.into_inner());
        use tokio::io::AsyncReadExt;
        let reader = reader.take(location.len);
        let bar = bar.clone();
        let stream = tokio_util::io::ReaderStream::with_capacity(reader, READ_CHUNK).inspect_ok(move |chunk| {
            bar.inc(chunk.len() as u64);
        });
        Ok(reqwest::Body::wrap_stream(stream))
    }

    /// Uploads the blob at `location` unless the repository has it.
    pub async fn upload(&self, digest: &Digest, location: &Location, bar: &ProgressBar) -> Result<Uploaded> {
        if self.blob_size(digest).await?.is_some() {
            return Ok(Uploaded::Present);
        }
        let what = format!("Cannot upload blob {digest}");
        let uploads = self.url("blobs/uploads/");
        let stream = |method: Method, url: Url| {
            let file = location.clone();
            move || -> Result<RequestBuilder> {
                Ok(self
                    .http
                    .request(method.clone(), url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header(CONTENT_LENGTH, file.len)
                    .body(Self::file_body(&file, bar)?))
            }
        };
        let with_digest = |mut url: Url| {
            url.query_pairs_mut().append_pair("digest", digest.as_str());
            url
        };
        let base_uploads = Url::parse(&uploads).map_err(|e| anyhow!("Invalid registry URL {uploads}: {e}"))?;
        if location.len <= MONOLITHIC_MAX {
            let response = self.send(&stream(Method::POST, with_digest(base_uploads))).await?;
            return match response.status() {
                StatusCode::CREATED => Ok(Uploaded::Sent),
                // A registry without monolithic POST opens a session instead: finish it in one PUT.
                StatusCode::ACCEPTED => {
                    let session = self.location(&response)?;
                    let response = self.send(&stream(Method::PUT, with_digest(session))).await?;
                    match response.status() {
                        StatusCode::CREATED => Ok(Uploaded::Sent),
                        _ => Err(Self::failure(response, &what).await),
                    }
                }
                _ => Err(Self::failure(response, &what).await),
            };
        }
        // A mount when the registry can (201), else a new session (202).
        let mut start = base_uploads;
        start.query_pairs_mut().append_pair("mount", digest.as_str());
        let response = self
            .send(&|| Ok(self.http.post(start.clone()).header(CONTENT_LENGTH, 0)))
            .await?;
        let session = match response.status() {
            StatusCode::CREATED => {
                bar.set_position(location.len);
                return Ok(Uploaded::Mounted);
            }
            StatusCode::ACCEPTED => self.location(&response)?,
            _ => return Err(Self::failure(response, &what).await),
        };
        let response = self.send(&stream(Method::PATCH, session)).await?;
        if response.status() != StatusCode::ACCEPTED && response.status() != StatusCode::NO_CONTENT {
            return Err(Self::failure(response, &what).await);
        }
        let session = with_digest(self.location(&response)?);
        let response = self
            .send(&|| Ok(self.http.put(session.clone()).header(CONTENT_LENGTH, 0)))
            .await?;
        match response.status() {
            StatusCode::CREATED => Ok(Uploaded::Sent),
            _ => Err(Self::failure(response, &what).await),
        }
    }

    /// Stores a manifest under a tag or its digest; returns the digest the registry gives it.
    pub async fn put_manifest(&self, reference: &str, media_type: &str, bytes: &[u8]) -> Result<Option<String>> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self
            .send(&|| {
                Ok(self
                    .http
                    .put(&url)
                    .header(CONTENT_TYPE, media_type)
                    .body(bytes.to_vec()))
            })
            .await?;
        if response.status() != StatusCode::CREATED && !response.status().is_success() {
            return Err(Self::failure(response, &format!("Cannot push manifest {}:{reference}", self.name)).await);
        }
        Ok(header(&response, DIGEST_HEADER).map(str::to_string))
    }

    /// A manifest by tag or digest, checked against its digest.
    pub async fn get_manifest(&self, reference: &str, expected: Option<&Digest>) -> Result<Fetched> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self
            .send(&|| Ok(self.http.get(&url).header(ACCEPT, MANIFEST_ACCEPT)))
            .await?;
        if !response.status().is_success() {
            return Err(Self::failure(response, &format!("Cannot get {}:{reference}", self.name)).await);
        }
        let media_type = header(&response, CONTENT_TYPE)
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_string())
            .filter(|v| !v.is_empty() && v != "application/json" && v != "text/plain");
        let announced = header(&response, DIGEST_HEADER).and_then(|v| v.parse::<Digest>().ok());
        let bytes = read_limited(response, MAX_MANIFEST, &format!("the manifest {reference}")).await?;
        let algorithm = expected
            .or(announced.as_ref())
            .map(|d| d.algorithm())
            .unwrap_or(Algorithm::Sha256);
        let actual: Digest = super::media::digest_of(algorithm, &bytes)
            .parse()
            .map_err(|e| anyhow!("{e}"))?;
        for claimed in [expected, announced.as_ref()].into_iter().flatten() {
            if claimed.algorithm() == algorithm && *claimed != actual {
                bail!("The registry sent manifest {reference} with digest {actual}, not {claimed}: refusing it.");
            }
        }
        Ok(Fetched {
            bytes,
            media_type,
            digest: actual,
        })
    }

    /// Streams a blob into `out`, verifying its size and digest; returns nothing on success.
    /// The caller must not keep what was written when this fails.
    pub async fn download(
        &self,
        descriptor: &Descriptor,
        out: &mut (impl AsyncWrite + Unpin),
        bar: &ProgressBar,
    ) -> Result<()> {
        let digest = descriptor.parsed_digest()?;
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send(&|| Ok(self.http.get(&url))).await?;
        if !response.status().is_success() {
            return Err(Self::failure(response, &format!("Cannot download blob {digest}")).await);
        }
        let mut hasher = Hasher::new(digest.algorithm());
        let mut seen = 0u64;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| anyhow!("Download of blob {digest} failed: {}", describe(&e)))?
        {
            seen += chunk.len() as u64;
            if seen > descriptor.size {
                bail!(
                    "The registry sent more than the {} bytes of blob {digest}: refusing it.",
                    descriptor.size
                );
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await.context("Cannot write the download")?;
            bar.inc(chunk.len() as u64);
        }
        if seen != descriptor.size {
            bail!(
                "The registry sent {seen} bytes of blob {digest}, not {}: refusing it.",
                descriptor.size
            );
        }
        let actual = hasher.finish();
        if actual.as_str() != digest.as_str() {
            bail!("Blob {digest} arrived with digest {actual}: refusing it.");
        }
        out.flush().await.context("Cannot write the download")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="http://h:1/token",service="hangar",scope="repository:a/b:pull,push",error="insufficient_scope""#,
        );
        assert_eq!(scheme, "bearer");
        assert_eq!(param(&params, "realm"), Some("http://h:1/token"));
        assert_eq!(param(&params, "scope"), Some("repository:a/b:pull,push"));
        assert_eq!(param(&params, "error"), Some("insufficient_scope"));
        let (scheme, params) = parse_challenge(r#"Basic realm="x \"y\"", charset=UTF-8"#);
        assert_eq!(scheme, "basic");
        assert_eq!(param(&params, "realm"), Some("x \"y\""));
        assert_eq!(param(&params, "charset"), Some("UTF-8"));
        assert_eq!(parse_challenge("Bearer").1, vec![]);
    }

    #[test]
    fn oci_errors_show_code_and_message() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest 'x' is\nnot here","detail":{}}]}"#;
        assert_eq!(
            registry_error(StatusCode::NOT_FOUND, body),
            "MANIFEST_UNKNOWN: manifest 'x' is not here"
        );
        let two = br#"{"errors":[{"code":"A","message":"a"},{"code":"B"}]}"#;
        assert_eq!(registry_error(StatusCode::BAD_REQUEST, two), "A: a; B");
        assert_eq!(registry_error(StatusCode::NOT_FOUND, b""), "HTTP 404 Not Found");
        let ngc = br#"{"requestStatus":{"statusCode":"UNAUTHORIZED","statusDescription":"invalid API key"}}"#;
        assert_eq!(registry_error(StatusCode::UNAUTHORIZED, ngc), "invalid API key");
    }
}
