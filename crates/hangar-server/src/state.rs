//! What every request handler shares.

use crate::auth::token::TokenService;
use crate::cache::ReadCache;
use crate::data::signing::UrlSigner;
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
}
