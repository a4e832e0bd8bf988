//! The server in-process: the router over a test's stores, called with `oneshot` — no socket,
//! no subprocess — for permission and validation tables with many rows. Identity is made
//! straight in the database; every request goes through the real router and middleware.

use super::files::{StoreView, Target, b64_sha256};
use super::{Auth, Stores};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine;
use hangar_core::roles::Role;
use hangar_server::auth::token::TokenService;
use hangar_server::cache::ReadCache;
use hangar_server::catalog::signing::UrlSigner;
use hangar_server::identity::keys::{
    PersonalKeyRequest, ServiceKeyRequest, issue_legacy_key, issue_personal_key, issue_service_key,
};
use hangar_server::state::{AppState, Settings};
use hangar_store::meta::{Org, RoleChange, User};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// The host name requests are sent to; URLs the server hands out start with `http://` it.
pub const HOST: &str = "hangar.test";

pub struct TestApp {
    pub state: AppState,
    router: axum::Router,
}

/// An answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("non-JSON body with {}: {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// The app over `stores`, with the read cache off and `hangar serve`'s default settings.
    pub async fn new(stores: &Stores) -> TestApp {
        let StoreView { meta, blobs } = StoreView::open(stores).await;
        let tokens = TokenService::load(&meta, 900).await.expect("token service");
        let urls = UrlSigner::load(&meta).await.expect("URL signer");
        let state = AppState {
            meta,
            blobs,
            tokens,
            urls,
            settings: Arc::new(Settings {
                read_cache: Duration::ZERO,
                ..Settings::default()
            }),
            cache: Arc::new(ReadCache::new(Duration::ZERO)),
        };
        TestApp {
            router: hangar_server::router(state.clone()),
            state,
        }
    }

    /// One request; `uri` is a path or a URL this server handed out.
    pub async fn send(&self, method: Method, uri: &str, auth: &Auth, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let path = uri.strip_prefix(&format!("http://{HOST}")).unwrap_or(uri);
        let mut request = Request::builder().method(method).uri(path).header("host", HOST);
        request = match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.header("authorization", format!("Bearer {token}")),
            Auth::Key(key) => {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("$oauthtoken:{key}"));
                request.header("authorization", format!("Basic {basic}"))
            }
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_empty() {
            request = request.header("content-length", body.len());
        }
        let request = request.body(Body::from(body)).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("the router answers");
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.expect("the whole body");
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// A request with a JSON body (or none).
    pub async fn call(&self, method: Method, uri: &str, auth: &Auth, body: Option<Value>) -> Reply {
        match body {
            Some(body) => {
                let bytes = serde_json::to_vec(&body).expect("JSON");
                self.send(method, uri, auth, &[("content-type", "application/json")], bytes)
                    .await
            }
            None => self.send(method, uri, auth, &[], vec![]).await,
        }
    }

    pub async fn org(&self, name: &str) -> Org {
        self.state.meta.create_org(name, name, "").await.expect("create an org")
    }

    pub async fn team(&self, org: &str, name: &str) {
        let org = self.state.meta.require_org(org).await.expect("org");
        self.state
            .meta
            .create_team(org.id, name, "")
            .await
            .expect("create a team");
    }

    /// A new user holding `role` in each of `grants` (org, team), with a legacy key (good in
    /// every org, so it outlives a membership).
    pub async fn user(&self, email: &str, grants: &[(&str, Option<&str>, Role)]) -> (User, Auth) {
        let meta = &self.state.meta;
        let user = meta.create_user(email, email, false).await.expect("create a user");
        for (org, team, role) in grants {
            self.grant(&user, org, *team, *role).await;
        }
        let (_, secret) = issue_legacy_key(meta, &user, None).await.expect("a legacy key");
        (user, Auth::Key(secret))
    }

    pub async fn grant(&self, user: &User, org: &str, team: Option<&str>, role: Role) {
        let meta = &self.state.meta;
        let org = meta.require_org(org).await.expect("org");
        let team_id = match team {
            Some(team) => Some(meta.require_team(&org, team).await.expect("team").id),
            None => None,
        };
        meta.change_roles(user.id, org.id, team_id, RoleChange::Add(&[role]))
            .await
            .expect("grant a role");
    }

    /// Takes every role the user has in `org`.
    pub async fn remove(&self, user: &User, org: &str) {
        let org = self.state.meta.require_org(org).await.expect("org");
        self.state
            .meta
            .remove_from_org(user.id, org.id)
            .await
            .expect("remove from the org");
    }
}

/// Model and resource versions through NGC's transfer protocol, in-process.
impl TestApp {
    /// Creates the entity of `target` unless it exists, and its pending version.
    pub async fn new_version(&self, auth: &Auth, target: &Target<'_>) {
        let created = self
            .call(
                Method::POST,
                &format!("{}/{}", target.space, target.kind),
                auth,
                Some(json!({"name": target.name})),
            )
            .await;
        assert!(
            created.status.is_success() || created.status == 409,
            "{}",
            created.text()
        );
        let version = self
            .call(
                Method::POST,
                &format!("{}/versions", target.entity()),
                auth,
                Some(json!({"versionId": target.version})),
            )
            .await;
        assert!(version.status.is_success(), "{}", version.text());
    }

    /// Starts the upload of `data` as `path`: the answer, with the part links.
    pub async fn start_upload(&self, auth: &Auth, target: &Target<'_>, path: &str, data: &[u8]) -> Value {
        let body = target.start(path, data.len() as u64, &b64_sha256(data));
        let started = self
            .call(
                Method::POST,
                &format!("{}/files/multipart", target.space),
                auth,
                Some(body),
            )
            .await;
        assert!(started.status.is_success(), "{}", started.text());
        started.json()
    }

    /// Uploads `data` as `path`, in one part, and completes the upload.
    pub async fn upload(&self, auth: &Auth, target: &Target<'_>, path: &str, data: &[u8]) {
        let started = self.start_upload(auth, target, path, data).await;
        let part = self
            .send(
                Method::PUT,
                started["urls"][0].as_str().unwrap(),
                &Auth::None,
                &[],
                data.to_vec(),
            )
            .await;
        assert!(part.status.is_success(), "{}", part.text());
        let body = target.complete(path, &started["uploadID"], &b64_sha256(data));
        let completed = self
            .call(
                Method::PUT,
                &format!("{}/files/multipart", target.space),
                auth,
                Some(body),
            )
            .await;
        assert!(completed.status.is_success(), "{}", completed.text());
    }

    /// Commits `files` (path, bytes) into the pending version, on top of `base`.
    pub async fn commit(&self, auth: &Auth, target: &Target<'_>, base: Option<&str>, files: &[(&str, &[u8])]) -> Reply {
        let shas: Vec<(&str, String)> = files.iter().map(|(p, d)| (*p, b64_sha256(d))).collect();
        let named: Vec<(&str, &str)> = shas.iter().map(|(p, s)| (*p, s.as_str())).collect();
        let mut body = target.commit(&named);
        body["baseVersion"] = json!(base);
        self.call(
            Method::POST,
            &format!("{}/files/commit", target.space),
            auth,
            Some(body),
        )
        .await
    }

    /// Marks the pending version complete.
    pub async fn complete_version(&self, auth: &Auth, target: &Target<'_>) {
        let done = self
            .call(
                Method::PATCH,
                &format!("{}/versions/{}", target.entity(), target.version),
                auth,
                Some(json!({"status": "UPLOAD_COMPLETE"})),
            )
            .await;
        assert!(done.status.is_success(), "{}", done.text());
    }

    /// A complete version holding `files`, uploaded.
    pub async fn version_with(&self, auth: &Auth, target: &Target<'_>, files: &[(&str, &[u8])]) {
        self.new_version(auth, target).await;
        for (path, data) in files {
            self.upload(auth, target, path, data).await;
        }
        let committed = self.commit(auth, target, None, files).await;
        assert!(committed.status.is_success(), "{}", committed.text());
        self.complete_version(auth, target).await;
    }
}

/// Keys of every kind, made straight in the database.
impl TestApp {
    /// A personal key of `user` for `org` with `services` (`None`: all their roles allow).
    pub async fn personal_key(&self, user: &User, org: &str, services: Option<&[&str]>) -> Auth {
        let meta = &self.state.meta;
        let org = meta.require_org(org).await.expect("org");
        let request = PersonalKeyRequest {
            name: "matrix".into(),
            expiry: None,
            services: services.map(|s| s.iter().map(|s| s.to_string()).collect()),
        };
        let (_, secret) = issue_personal_key(meta, user, &org, &request, None)
            .await
            .expect("a personal key");
        Auth::Key(secret)
    }

    /// A service key of `org` with `scopes` on `entity` (entity type, and value when specific).
    pub async fn service_key(&self, org: &str, scopes: &[&str], entity: (&str, Option<&str>)) -> Auth {
        let meta = &self.state.meta;
        let org = meta.require_org(org).await.expect("org");
        let request = ServiceKeyRequest {
            name: "matrix".into(),
            expiry: None,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            entity_type: Some(entity.0.into()),
            entity_value: entity.1.map(str::to_string),
        };
        let (_, secret) = issue_service_key(meta, &org, &request, None)
            .await
            .expect("a service key");
        Auth::Key(secret)
    }

    /// The id of the key a credential carries, as data-plane links name it.
    pub async fn key_id(&self, auth: &Auth) -> Option<i64> {
        let Auth::Key(secret) = auth else { return None };
        let key = self.state.meta.key_by_secret(secret).await.expect("read a key");
        key.map(|k| k.id)
    }
}

/// Container images through the registry API, in-process.
impl TestApp {
    /// Uploads `data` into `repo` in one request; its digest (`sha256:…`).
    pub async fn push_blob(&self, auth: &Auth, repo: &str, data: &[u8]) -> Reply {
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)));
        self.send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            auth,
            &[("content-type", "application/octet-stream")],
            data.to_vec(),
        )
        .await
    }

    /// Pushes a one-layer image as `repo:tag`; `salt` makes its manifest unique. Its manifest's
    /// and its layer's digests.
    pub async fn push_image(&self, auth: &Auth, repo: &str, tag: &str, salt: &str) -> (String, String) {
        let sha = |data: &[u8]| format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)));
        let config = br#"{"architecture":"amd64","os":"linux"}"#;
        let layer = format!("the one layer of {repo}").into_bytes();
        for blob in [&config[..], &layer] {
            let pushed = self.push_blob(auth, repo, blob).await;
            assert_eq!(pushed.status, 201, "{}", pushed.text());
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha(config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": sha(&layer), "size": layer.len()}],
            "annotations": {"salt": salt},
        });
        let body = serde_json::to_vec(&manifest).expect("JSON");
        let put = self
            .send(
                Method::PUT,
                &format!("/v2/{repo}/manifests/{tag}"),
                auth,
                &[("content-type", "application/vnd.oci.image.manifest.v1+json")],
                body.clone(),
            )
            .await;
        assert_eq!(put.status, 201, "{}", put.text());
        (sha(&body), sha(&layer))
    }
}
