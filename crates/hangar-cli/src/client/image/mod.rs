//! `hangar registry image …`: container images. `push` and `pull` move images between the
//! registry and local files without a Docker daemon: OCI image layouts (folders), OCI archives
//! and `docker save` tarballs.
//!
//! Layout: `reference` (image names), `media` (media types and descriptors), `registry` (the
//! distribution API client with Docker token auth), `store` (reading layouts and tarballs by
//! byte range), `archive` (docker-archive conversion and tar writing), `layout` (writing OCI
//! layouts), `progress` (bars and summaries), then `push` and `pull`.

mod archive;
mod layout;
mod media;
mod progress;
mod pull;
mod push;
mod reference;
mod registry;
mod store;

use super::Ctx;
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
}

impl ImageCommand {
    pub fn supports_csv(&self) -> bool {
        false
    }
}

pub async fn run(ctx: &Ctx, cmd: ImageCommand) -> Result<Report> {
    match cmd {
        ImageCommand::Push(args) => push::run(ctx, args).await,
        ImageCommand::Pull(args) => pull::run(ctx, args).await,
    }
}
