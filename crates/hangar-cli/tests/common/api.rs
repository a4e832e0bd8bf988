//! A small HTTP client for the tests: JSON in and out, every credential form.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Clone, Debug)]
pub enum Auth {
    None,
    /// `Authorization: Bearer <token or nvapi key>`.
    Bearer(String),
    /// `Authorization: Basic $oauthtoken:<key>`.
    Key(String),
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, ca_pem: Option<&[u8]>) -> Api {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = ca_pem {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem).expect("CA PEM"));
        }
        Api {
            base: base.trim_end_matches('/').to_string(),
            client: builder.build().expect("http client"),
        }
    }

    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        req = match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Key(k) => req.basic_auth("$oauthtoken", Some(k)),
        };
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(req).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body with {status}: {text}"));
        (status, json)
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> (StatusCode, Value) {
        self.call(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    pub async fn patch(&self, path: &str, auth: &Auth, body: Option<Value>) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, auth, body).await
    }

    pub async fn delete(&self, path: &str, auth: &Auth) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, auth, None).await
    }

    /// A bearer token from the token service for `key`, with NGC scopes for `org`.
    pub async fn token(&self, key: &str, org: &str) -> String {
        let (status, body) = self
            .get(
                &format!("/token?service=ngc&scope=group/ngc:{org}"),
                &Auth::Key(key.to_string()),
            )
            .await;
        assert_eq!(status, 200, "token request failed: {body}");
        body["token"].as_str().expect("token").to_string()
    }
}

/// The decoded claims of a JWT, without checking it.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("claims JSON")
}

/// The `field` of every item of a JSON list (such as the names of orgs).
pub fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v[field].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The NGC error text of a response body.
pub fn error_text(body: &Value) -> &str {
    body["requestStatus"]["statusDescription"].as_str().unwrap_or("")
}
