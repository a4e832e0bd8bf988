//! A small client of the distribution API for tests: Docker token auth with one API key (or
//! none), and helpers that push blobs, manifests and images.

use super::Server;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub const CONFIG: &[u8] = br#"{"architecture":"amd64","os":"linux"}"#;
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

pub fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub struct Registry {
    pub base: String,
    pub http: reqwest::Client,
    pub key: Option<String>,
}

impl Registry {
    pub fn new(server: &Server, key: Option<String>) -> Self {
        Self::with_ca(server, key, None)
    }

    /// A client of a TLS server whose certificate `ca_pem` signed.
    pub fn with_ca(server: &Server, key: Option<String>, ca_pem: Option<&str>) -> Self {
        // A refused request's unread body makes the server close the connection after its
        // answer; a pooled connection could then be reused just as it closes.
        let mut builder = reqwest::Client::builder().pool_max_idle_per_host(0);
        if let Some(pem) = ca_pem {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA PEM"));
        }
        Registry {
            base: server.base.clone(),
            http: builder.build().expect("http client"),
            key,
        }
    }

    /// Sends a request; on a Bearer challenge, gets a token for its scope and retries once.
    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> reqwest::Response {
        let build = |token: Option<&str>| {
            let mut req = self.http.request(method.clone(), format!("{}{path}", self.base));
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.body(body.clone())
        };
        let first = build(None).send().await.expect("request");
        if first.status() != StatusCode::UNAUTHORIZED {
            return first;
        }
        let challenge = first.headers()["www-authenticate"].to_str().unwrap().to_string();
        let field = |k: &str| {
            challenge
                .split(&format!("{k}=\""))
                .nth(1)
                .map(|r| r.split('"').next().unwrap().to_string())
        };
        let realm = field("realm").expect("realm");
        let mut token_req = self
            .http
            .get(&realm)
            .query(&[("service", field("service").unwrap_or_default())]);
        if let Some(scope) = field("scope") {
            token_req = token_req.query(&[("scope", scope)]);
        }
        if let Some(key) = &self.key {
            token_req = token_req.basic_auth("$oauthtoken", Some(key));
        }
        let token: Value = token_req.send().await.expect("token").json().await.expect("token json");
        build(token["token"].as_str()).send().await.expect("request")
    }

    pub async fn push_blob(&self, name: &str, data: &[u8]) -> String {
        let d = sha(data);
        let r = self
            .send(
                Method::POST,
                &format!("/v2/{name}/blobs/uploads/?digest={d}"),
                &[],
                data.to_vec(),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        d
    }

    pub async fn push_manifest(&self, name: &str, reference: &str, media: &str, manifest: &Value) -> reqwest::Response {
        let bytes = serde_json::to_vec(manifest).unwrap();
        self.send(
            Method::PUT,
            &format!("/v2/{name}/manifests/{reference}"),
            &[("content-type", media)],
            bytes,
        )
        .await
    }

    /// Pushes an image of [`CONFIG`] and `layers`, tagged `tag`; returns its manifest and digest.
    pub async fn push_layers(&self, name: &str, tag: &str, layers: &[&[u8]]) -> (Value, String) {
        let config = self.push_blob(name, CONFIG).await;
        let mut descriptors = vec![];
        for layer in layers {
            let d = self.push_blob(name, layer).await;
            descriptors.push((d, layer.len()));
        }
        let refs: Vec<(&str, usize)> = descriptors.iter().map(|(d, s)| (d.as_str(), *s)).collect();
        let manifest = image_manifest(&config, &refs, None);
        let r = self.push_manifest(name, tag, OCI_MANIFEST, &manifest).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let digest = sha(&serde_json::to_vec(&manifest).unwrap());
        (manifest, digest)
    }

    /// A one-platform image whose config names its architecture; returns (manifest digest,
    /// manifest size, image size = config + layer).
    pub async fn push_platform(&self, name: &str, arch: &str, layer: &[u8]) -> (String, usize, usize) {
        let config = format!(r#"{{"architecture":"{arch}","os":"linux"}}"#);
        let config_digest = self.push_blob(name, config.as_bytes()).await;
        let layer_digest = self.push_blob(name, layer).await;
        let mut manifest = image_manifest(&config_digest, &[(&layer_digest, layer.len())], None);
        manifest["config"]["size"] = json!(config.len());
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let digest = sha(&bytes);
        let r = self.push_manifest(name, &digest, OCI_MANIFEST, &manifest).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        (digest, bytes.len(), config.len() + layer.len())
    }

    /// A two-platform index; returns the (digest, image size) of amd64 and of arm64.
    pub async fn push_index(&self, name: &str, tag: &str) -> ((String, usize), (String, usize)) {
        let (amd, amd_len, amd_size) = self.push_platform(name, "amd64", b"amd64 layer, a bit longer").await;
        let (arm, arm_len, arm_size) = self.push_platform(name, "arm64", b"arm64 layer").await;
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": amd, "size": amd_len, "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": OCI_MANIFEST, "digest": arm, "size": arm_len, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            ],
        });
        let r = self.push_manifest(name, tag, OCI_INDEX, &index).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        ((amd, amd_size), (arm, arm_size))
    }

    /// Pushes a small image (config + two layers) and tags it.
    pub async fn push_image(&self, name: &str, tag: &str) -> String {
        let one = format!("layer one of {name}:{tag}");
        self.push_layers(name, tag, &[one.as_bytes(), b"layer two"]).await.1
    }
}

pub fn image_manifest(config: &str, layers: &[(&str, usize)], subject: Option<(&str, usize)>) -> Value {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": CONFIG.len()},
        "layers": layers.iter().map(|(d, s)| json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s})).collect::<Vec<_>>(),
    });
    if let Some((d, s)) = subject {
        m["subject"] = json!({"mediaType": OCI_MANIFEST, "digest": d, "size": s});
    }
    m
}

pub async fn errors_code(r: reqwest::Response) -> String {
    let body: Value = r.json().await.expect("OCI error JSON");
    body["errors"][0]["code"].as_str().unwrap_or_default().to_string()
}

/// `scripts/clients/make-image` into `dir`: returns its JSON description of the tag.
#[allow(dead_code)]
pub fn make_image(dir: &std::path::Path, tag: &str, extra: &[&str]) -> Value {
    let script = super::repo_root().join("scripts/clients/make-image");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir)
        .args(["--tag", tag])
        .args(extra)
        .output()
        .expect("run python3 make-image");
    assert!(
        out.status.success(),
        "make-image: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("make-image JSON")
}
