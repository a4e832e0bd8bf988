//! `hangar registry model|resource …`: models and resources (NGC's "recipes"), versioned file
//! sets with metadata, through NGC's REST API (ngc-api.md §4–§6). One set of commands serves
//! both; a [`Kind`] says what differs on the wire.
//!
//! Layout: `metadata` (the flags of create, update and upload-version, as request bodies),
//! `display` (`ngc`'s info blocks and list tables), `catalog` (create, info, list, update,
//! remove), `files` (walking a source folder, hashing, safe local paths), `summary` (progress
//! bars and the transfer summary), then `upload` and `download`.

mod catalog;
mod display;
mod download;
mod files;
mod metadata;
mod summary;
mod upload;

use super::Ctx;
use super::output::Report;
use anyhow::Result;
use clap::Subcommand;

/// What differs between models and resources on the wire and on screen.
pub struct Kind {
    /// `models` or `resources`: the path segment and the transfer `artifactType`.
    pub segment: &'static str,
    /// The search resource type.
    pub search: &'static str,
    /// JSON keys of an entity, a version, the version list and the file list.
    pub key: &'static str,
    pub version_key: &'static str,
    pub versions_key: &'static str,
    pub files_key: &'static str,
    /// `model` or `resource`, and with a capital.
    pub noun: &'static str,
    pub title: &'static str,
    /// The entity field that holds the framework.
    pub framework_field: &'static str,
    /// The search filter of `list --signed`.
    pub signed_filter: &'static str,
}

pub const MODEL: Kind = Kind {
    segment: "models",
    search: "MODEL",
    key: "model",
    version_key: "modelVersion",
    versions_key: "modelVersions",
    files_key: "modelFiles",
    noun: "model",
    title: "Model",
    framework_field: "framework",
    signed_filter: "signedModels",
};

pub const RESOURCE: Kind = Kind {
    segment: "resources",
    search: "RECIPE",
    key: "recipe",
    version_key: "recipeVersion",
    versions_key: "recipeVersions",
    files_key: "recipeFiles",
    noun: "resource",
    title: "Resource",
    framework_field: "trainingFramework",
    signed_filter: "signedResources",
};

#[derive(Subcommand)]
pub enum ArtifactCommand {
    /// Create a model or resource (no files yet: those come with upload-version).
    Create(Box<metadata::CreateArgs>),
    /// Show an entity's metadata, or a version's (`--files`: with its file list).
    Info(catalog::InfoArgs),
    /// List entities (`*` and `?` wildcards; default: all), or the versions of one
    /// (`org/name:*`, `org/name:1.*`).
    List(catalog::ListArgs),
    /// Update an entity's metadata, or a version's (`org/name:version`).
    Update(Box<metadata::UpdateArgs>),
    /// Remove a version, or the whole entity with every version (confirmed unless -y).
    Remove(catalog::RemoveArgs),
    /// Upload a folder or a file as a new version (resumes an interrupted upload of the same
    /// version).
    UploadVersion(Box<upload::UploadArgs>),
    /// Download a version into `<dest>/<name>_v<version>/`.
    DownloadVersion(download::DownloadArgs),
}

impl ArtifactCommand {
    pub fn supports_csv(&self) -> bool {
        matches!(self, ArtifactCommand::List(_))
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
    }
}
