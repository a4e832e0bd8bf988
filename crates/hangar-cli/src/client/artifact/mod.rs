//! `hangar registry model|resource …`: models and resources (NGC's "recipes"), versioned file
//! sets with metadata, through NGC's REST API (ngc-api.md §4–§6). One set of commands serves
//! both; a [`Kind`] says what differs on the wire.
//!
//! Layout: `metadata` (the flags of create, update and upload-version, as request bodies),
//! `display` (`ngc`'s info blocks and list tables), `catalog` (create, info, list, update,
//! remove), `files` (walking a source folder, hashing, safe local paths), `summary` (progress
//! bars and the transfer summary), then `upload`, `download` and `signature`.

mod catalog;
mod display;
mod download;
mod files;
mod metadata;
mod signature;
mod summary;
mod upload;

use super::Ctx;
use super::approvals::{self, AccessCommand};
use super::output::Report;
use super::versioned::{InfoArgs, RemoveArgs, Versioned};
use anyhow::Result;
use clap::Subcommand;
use hangar_core::wire;

/// What differs between models and resources on the wire and on screen.
pub struct Kind {
    pub wire: Versioned,
    /// The search filter of `list --signed`.
    pub signed_filter: &'static str,
}

pub const MODEL: Kind = Kind {
    wire: Versioned(&wire::MODEL),
    signed_filter: "signedModels",
};

pub const RESOURCE: Kind = Kind {
    wire: Versioned(&wire::RESOURCE),
    signed_filter: "signedResources",
};

#[derive(Subcommand)]
pub enum ArtifactCommand {
    /// Create a model or resource (no files yet: those come with upload-version).
    Create(Box<metadata::CreateArgs>),
    /// Show an entity's metadata, or a version's (`--files`: with its file list).
    Info(InfoArgs),
    /// List entities (`*` and `?` wildcards; default: all), or the versions of one
    /// (`org/name:*`, `org/name:1.*`).
    List(catalog::ListArgs),
    /// Update an entity's metadata, or a version's (`org/name:version`).
    Update(Box<metadata::UpdateArgs>),
    /// Remove a version, or the whole entity with every version (confirmed unless -y).
    Remove(RemoveArgs),
    /// Upload a folder or a file as a new version (resumes an interrupted upload of the same
    /// version).
    UploadVersion(Box<upload::UploadArgs>),
    /// Download a version into `<dest>/<name>_v<version>/`.
    DownloadVersion(download::DownloadArgs),
    /// Ask the server to sign a complete version with the org's certificate.
    Sign(signature::SignArgs),
    /// Download a version's signature into `<dest>/<name>_v<version>/result.sigstore`.
    DownloadVersionSignature(signature::SignatureArgs),
    #[command(flatten)]
    Access(AccessCommand),
}

impl ArtifactCommand {
    pub fn supports_csv(&self) -> bool {
        match self {
            ArtifactCommand::Access(c) => c.supports_csv(),
            other => matches!(other, ArtifactCommand::List(_)),
        }
    }
}

pub async fn run(ctx: &Ctx, kind: &'static Kind, cmd: ArtifactCommand) -> Result<Report> {
    match cmd {
        ArtifactCommand::Create(args) => catalog::create(ctx, kind, *args).await,
        ArtifactCommand::Info(args) => catalog::info(ctx, kind, args).await,
        ArtifactCommand::List(args) => catalog::list(ctx, kind, args).await,
        ArtifactCommand::Update(args) => catalog::update(ctx, kind, *args).await,
        ArtifactCommand::Remove(args) => catalog::remove(ctx, kind, args).await,
        ArtifactCommand::UploadVersion(args) => upload::run(ctx, kind, *args).await,
        ArtifactCommand::DownloadVersion(args) => download::run(ctx, kind, args).await,
        ArtifactCommand::Sign(args) => signature::sign(ctx, kind, args).await,
        ArtifactCommand::DownloadVersionSignature(args) => signature::download(ctx, kind, args).await,
        ArtifactCommand::Access(c) => approvals::run(ctx, kind.wire.segment, c).await,
    }
}
