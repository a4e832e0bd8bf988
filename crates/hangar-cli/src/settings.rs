//! Where the server keeps its data, from flags, `HANGAR_*` environment variables and an
//! optional TOML file (in that order of precedence), shared by `serve` and `admin`.

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_DATA_DIR: &str = "./hangar-data";

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// TOML settings file; its keys are the long option names with `_` (e.g. `listen`, `data_dir`).
    #[arg(long, env = "HANGAR_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Folder for the default SQLite database and blob folder.
    #[arg(long, env = "HANGAR_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Metadata database: a SQLite file path or `sqlite://…`, or `postgres://user@host/db`
    /// [default: <data-dir>/hangar.db].
    #[arg(long, env = "HANGAR_DATABASE", global = true)]
    pub database: Option<String>,
}

/// Every setting the TOML file may hold; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub blobs: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub token_ttl: Option<i64>,
    pub init_org: Option<String>,
    pub init_org_display_name: Option<String>,
    pub init_owner_email: Option<String>,
    pub init_owner_name: Option<String>,
    pub registry_service: Option<String>,
    pub invitation_expiry_minutes: Option<i64>,
    pub max_layer_size: Option<u64>,
    pub org_image_soft_limit: Option<u64>,
    pub gc_interval: Option<u64>,
    pub gc_grace: Option<u64>,
    pub read_cache: Option<u64>,
    pub org_artifact_quota: Option<u64>,
    pub upload_expiry: Option<u64>,
    pub max_chart_size: Option<u64>,
    pub helm_hosts: Option<Vec<String>>,
    pub download_url_ttl: Option<u64>,
    pub public_url: Option<String>,
    pub signing_secret_file: Option<std::path::PathBuf>,
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    pub session_idle: Option<u64>,
    pub session_lifetime: Option<u64>,
    pub log: Option<String>,
}

impl StoreArgs {
    pub fn file(&self) -> Result<FileSettings> {
        match &self.config {
            None => Ok(FileSettings::default()),
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("invalid settings file {}", path.display()))
            }
        }
    }

    pub fn data_dir(&self, file: &FileSettings) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    pub fn database(&self, file: &FileSettings) -> String {
        self.database
            .clone()
            .or_else(|| file.database.clone())
            .unwrap_or_else(|| path_text(&self.data_dir(file).join("hangar.db")))
    }
}

pub fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
