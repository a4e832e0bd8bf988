//! `hangar registry image …`: container images. `push` and `pull` move images between the
//! registry and local files without a Docker daemon: OCI image layouts (folders), OCI archives
//! and `docker save` tarballs.
//!
//! `list`, `info`, `update`, `remove` and `set-latest` read and change the registry's metadata
//! through NGC's image and search APIs: `display` (`ngc`'s list columns and info blocks), then
//! `catalog` (the commands); what they act on is the client's `target`.
//!
//! Layout: `reference` (image names), `media` (media types and descriptors), `registry` (the
//! distribution API client with Docker token auth), `store` (reading layouts and tarballs by
//! byte range), `archive` (docker-archive conversion and tar writing), `layout` (writing OCI
//! layouts), `progress` (bars and summaries), then `push` and `pull`.

mod archive;
mod catalog;
mod display;
mod layout;
mod media;
mod progress;
mod pull;
mod push;
mod reference;
mod registry;
mod signing;
mod store;

use super::Ctx;
use super::approvals::{self, AccessCommand};
use super::output::Report;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum ImageCommand {
    /// Push an image from an OCI image layout folder, an OCI archive or a `docker save`
    /// tarball.
    Push(push::PushArgs),
    /// Pull an image into an OCI image layout folder or a `docker load`-able tarball.
    Pull(pull::PullArgs),
    /// List repositories (`*` and `?` wildcards; default: all), or the tags of one repository
    /// (optionally matching a tag pattern).
    List(catalog::ListArgs),
    /// Show a repository's metadata and tags, or an image's architectures, sizes, digests (and
    /// layers).
    Info(catalog::InfoArgs),
    /// Update a repository's metadata: descriptions, overview, labels, logo, publisher, built-by,
    /// display name, multinode, public.
    Update(catalog::UpdateArgs),
    /// Remove a repository with all its tags, one tag, or the tags matching a pattern (each
    /// confirmed unless -y).
    Remove(catalog::RemoveArgs),
    /// Make a tag the latest of its repository.
    SetLatest(catalog::SetLatestArgs),
    /// Have the server sign a tag with the org's server-held key (org owners and registry
    /// admins), as cosign would; podman, skopeo and cosign verify it with the org's public key.
    Sign(signing::SignArgs),
    /// Require a signature verified by a key the org trusts for pulls of a repository, or of
    /// the current team or org (--off: no longer).
    RequireSignatures(signing::RequireArgs),
    #[command(flatten)]
    Access(AccessCommand),
}

impl ImageCommand {
    pub fn supports_csv(&self) -> bool {
        match self {
            ImageCommand::Access(c) => c.supports_csv(),
            other => matches!(other, ImageCommand::List(_)),
        }
    }
}

pub async fn run(ctx: &Ctx, cmd: ImageCommand) -> Result<Report> {
    match cmd {
        ImageCommand::Push(args) => push::run(ctx, args).await,
        ImageCommand::Pull(args) => pull::run(ctx, args).await,
        ImageCommand::List(args) => catalog::list(ctx, args).await,
        ImageCommand::Info(args) => catalog::info(ctx, args).await,
        ImageCommand::Update(args) => catalog::update(ctx, args).await,
        ImageCommand::Remove(args) => catalog::remove(ctx, args).await,
        ImageCommand::SetLatest(args) => catalog::set_latest(ctx, args).await,
        ImageCommand::Sign(args) => signing::sign(ctx, args).await,
        ImageCommand::RequireSignatures(args) => signing::require(ctx, args).await,
        ImageCommand::Access(c) => approvals::run(ctx, "repos", c).await,
    }
}
