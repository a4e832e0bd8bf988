//! `hangar registry chart …`: Helm charts, as NVIDIA's `ngc registry chart` handles them
//! (ngc-api.md §7, Private Registry guide §6.4). Metadata goes through NGC's REST API
//! (`{OT}/helm-charts/…`, JSON keys `artifact…`); chart archives go through the server's Helm
//! repository under `/helm`, with the same credentials.
//!
//! Layout: `metadata` (the flags of create and update, as request bodies), `display` (`ngc`'s
//! info blocks and list tables), `catalog` (create, update, info, list, remove), `push`, `pull`.

mod catalog;
mod display;
mod metadata;
mod pull;
mod push;

use super::Ctx;
use super::approvals::{self, AccessCommand};
use super::http::seg;
use super::output::Report;
use super::target::Target;
use super::versioned::{InfoArgs, RemoveArgs, Versioned};
use anyhow::Result;
use clap::Subcommand;

/// Charts on the wire: `ngc` names a chart version by its `id`.
pub const CHART: Versioned = Versioned(&hangar_core::wire::CHART);

#[derive(Subcommand)]
pub enum ChartCommand {
    /// Create a chart's metadata (its versions come with push).
    Create(Box<metadata::CreateArgs>),
    /// Update a chart's metadata.
    Update(Box<metadata::UpdateArgs>),
    /// Show a chart's metadata, or a version's (`--files`: with the files in its archive).
    Info(InfoArgs),
    /// List charts (`*` and `?` wildcards; default: all), or the versions of one
    /// (`org/name:*`, `org/name:1.*`).
    List(catalog::ListArgs),
    /// Push a packaged chart (`<name>-<version>.tgz`) as a new version.
    Push(push::PushArgs),
    /// Pull a chart version into `<dest>/<name>-<version>.tgz`.
    Pull(pull::PullArgs),
    /// Remove a version, or the whole chart with every version (confirmed unless -y).
    Remove(RemoveArgs),
    #[command(flatten)]
    Access(AccessCommand),
}

impl ChartCommand {
    pub fn supports_csv(&self) -> bool {
        match self {
            ChartCommand::Access(c) => c.supports_csv(),
            other => matches!(other, ChartCommand::List(_)),
        }
    }
}

pub async fn run(ctx: &Ctx, cmd: ChartCommand) -> Result<Report> {
    match cmd {
        ChartCommand::Create(args) => catalog::create(ctx, *args).await,
        ChartCommand::Update(args) => catalog::update(ctx, *args).await,
        ChartCommand::Info(args) => catalog::info(ctx, args).await,
        ChartCommand::List(args) => catalog::list(ctx, args).await,
        ChartCommand::Push(args) => push::run(ctx, args).await,
        ChartCommand::Pull(args) => pull::run(ctx, args).await,
        ChartCommand::Remove(args) => catalog::remove(ctx, args).await,
        ChartCommand::Access(c) => approvals::run(ctx, CHART.segment, c).await,
    }
}

/// A chart archive's file name (`ngc`'s `helm_format`).
fn archive_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.tgz")
}

/// A path of the Helm repository for the target's org and team: `/helm{api}/{org}[/{team}]/charts`
/// (`api`: `/api` for ChartMuseum's upload API, empty for the repository itself).
fn helm_charts_path(api: &str, target: &Target) -> String {
    let team = target.team.as_ref().map(|t| format!("/{}", seg(t))).unwrap_or_default();
    format!("/helm{api}/{}{team}/charts", seg(&target.org))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_paths() {
        let target = Target {
            org: "acme".into(),
            team: Some("vision".into()),
            name: "web".into(),
            tag: Some("0.1.0".into()),
        };
        assert_eq!(helm_charts_path("/api", &target), "/helm/api/acme/vision/charts");
        let target = Target { team: None, ..target };
        assert_eq!(helm_charts_path("", &target), "/helm/acme/charts");
        assert_eq!(archive_name("web", "0.1.0"), "web-0.1.0.tgz");
    }
}
