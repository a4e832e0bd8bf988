//! What every request handler shares.

use crate::auth::token::TokenService;
use crate::cache::ReadCache;
use crate::catalog::signing::UrlSigner;
use hangar_store::blob::BlobStore;
use hangar_store::meta::MetaStore;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct AppState {
    pub meta: MetaStore,
    pub blobs: Arc<dyn BlobStore>,
    pub tokens: TokenService,
    pub urls: UrlSigner,
    pub settings: Arc<Settings>,
    pub cache: Arc<ReadCache>,
}

/// Run-time settings of the API.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `service` name Docker clients are told to ask the token service for.
    pub registry_service: String,
    /// How long an invitation stays valid when the inviter does not say.
    pub invitation_expiry_minutes: i64,
    /// The largest blob (image layer) a push may upload, in bytes.
    pub max_layer_bytes: u64,
    /// Per-org total image size above which pushes answer with a warning header, in bytes.
    pub org_image_soft_limit_bytes: u64,
    /// Per-org total size of model and resource files (each distinct file once), in bytes; an
    /// upload that would go past it is refused when it starts.
    pub org_artifact_quota_bytes: u64,
    /// The largest chart archive (.tgz) a push may send, in bytes.
    pub max_chart_bytes: u64,
    /// Host names (no port) whose requests are all for the Helm repository, served at the
    /// root: NGC clients send chart bytes to a fixed host such as `helm.ngc.nvidia.com`.
    pub helm_hosts: Vec<String>,
    /// Whether the server speaks HTTPS (for the token realm it advertises).
    pub tls: bool,
    /// How long registry reads may be answered from memory; zero turns the cache off.
    pub read_cache: Duration,
    /// How long a download URL of the data plane stays good (each use also checks that whoever
    /// it was given to may still download).
    pub download_url_ttl: Duration,
    /// The URL people reach this server at (`https://hangar.example.com`), for links in mails
    /// and in the first start's output; without it, links use the host a request named.
    pub public_url: Option<String>,
    /// The secret that encrypts the signing keys the server holds (its model-signing CA and
    /// org certificates) in the database; without it the server signs nothing.
    pub signing_secret: Option<String>,
    /// Load balancers whose `X-Forwarded-For` names the client (for sign-in throttling and the
    /// address shown with sessions); a request from any other address is its own client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A browser session ends after this long without a request.
    pub session_idle: Duration,
    /// A browser session ends this long after sign-in, however much it is used.
    pub session_lifetime: Duration,
}

/// How long a download URL stays good unless `--download-url-ttl` says otherwise: NGC's client
/// fetches the URLs of every file of a version at once and then downloads them (in 512 MiB
/// ranges, each its own request), so the last range of the last file must start within it.
pub const DEFAULT_DOWNLOAD_URL_TTL: Duration = Duration::from_secs(60 * 60);

impl Settings {
    /// `http(s)://<host>` of the host a request named (its `Host` header).
    pub fn request_base(&self, headers: &axum::http::HeaderMap) -> String {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{host}")
    }

    /// Whether cookies are marked `Secure`: the server speaks TLS, or people reach it over
    /// https through a load balancer that ends TLS (`--public-url https://…`).
    pub fn secure_cookies(&self) -> bool {
        self.tls || self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

impl Default for Settings {
    /// The settings of `hangar serve` when no flag, variable or file changes them.
    fn default() -> Self {
        Settings {
            registry_service: "hangar".into(),
            invitation_expiry_minutes: 7 * 24 * 60,
            max_layer_bytes: 10_000_000_000,
            org_image_soft_limit_bytes: 1_000_000_000_000,
            org_artifact_quota_bytes: 5_000_000_000_000,
            max_chart_bytes: 20 << 20,
            helm_hosts: vec![],
            tls: false,
            read_cache: Duration::from_secs(2),
            download_url_ttl: DEFAULT_DOWNLOAD_URL_TTL,
            public_url: None,
            signing_secret: None,
            trusted_proxies: vec![],
            session_idle: Duration::from_secs(12 * 60 * 60),
            session_lifetime: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}
