//! `create`, `update`, `info`, `list` and `remove` of charts, through `{OT}/helm-charts/…` and
//! the search API, printed as the Private Registry guide §6.4 shows them. Without an API key,
//! `info` and `list` read public charts as a guest.

use super::metadata::{CreateArgs, UpdateArgs};
use super::{CHART, display};
use crate::client::Ctx;
use crate::client::output::Report;
use crate::client::prompt::confirm_remove;
use crate::client::search::{Reader, Wanted};
use crate::client::target::Target;
use crate::client::versioned::{InfoArgs, Listing, RemoveArgs, Shown};
use anyhow::{Result, bail};
use clap::Args;
use serde_json::Value;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Charts: <org>/[<team>/]<name> with `*` and `?` wildcards [default: every one]; or the
    /// versions of one chart: <org>/[<team>/]<name>:<version pattern>.
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
    #[command(flatten)]
    pub wanted: Wanted,
}

/// The chart of a response (`{"artifact": …}`).
fn chart_of(body: &Value) -> Value {
    body.get(CHART.key).cloned().unwrap_or(Value::Null)
}

/// A chart without a version: what create and update act on.
fn chart_target(text: &str, ctx: &Ctx, what: &str) -> Result<Target> {
    let target = Target::resolve(text, ctx)?;
    if target.tag.is_some() {
        bail!("{what} takes <org>/[<team>/]<name> without a version: a chart version has no metadata of its own.");
    }
    Ok(target)
}

pub async fn create(ctx: &Ctx, args: CreateArgs) -> Result<Report> {
    let target = chart_target(&args.target, ctx, "Create")?;
    let body = args.body(&target.name)?;
    let path = format!("{}/{}", target.space(), CHART.segment);
    let chart = chart_of(&ctx.api()?.post(&path, &body).await?);
    Ok(Report::new()
        .text(format!("Successfully created chart '{}'.", target.full_name()))
        .block(display::chart_block(&chart))
        .json(chart))
}

pub async fn update(ctx: &Ctx, args: UpdateArgs) -> Result<Report> {
    let target = chart_target(&args.target, ctx, "Update")?;
    let api = ctx.api()?;
    let path = target.path(CHART.segment);
    let current = if args.edits_labels() {
        chart_of(&api.get(&path, &[("resolve-labels", "false".into())]).await?)
    } else {
        Value::Null
    };
    let body = args.body(&current)?;
    let chart = chart_of(&api.patch(&path, &[], Some(&body)).await?);
    Ok(Report::new()
        .text(format!("Successfully updated chart '{}'.", target.full_name()))
        .block(display::chart_block(&chart))
        .json(chart))
}

pub async fn info(ctx: &Ctx, args: InfoArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let target = Target::resolve(&args.target, ctx)?;
    Ok(match CHART.info(&reader, &target, args.files).await? {
        Shown::Entity(chart) => Report::new().block(display::chart_block(&chart)).json(chart),
        Shown::Version(v, files) => Report::new()
            .block(display::version_block(&v, files.as_deref()))
            .json(display::version_json(v, files.unwrap_or_default())),
    })
}

pub async fn list(ctx: &Ctx, args: ListArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    Ok(
        match CHART.list(ctx, &reader, args.pattern.as_deref(), args.wanted).await? {
            Listing::Entities(charts) => Report::new().table(display::charts_table(&charts)).json_list(charts),
            Listing::Versions(versions) => Report::new()
                .table(display::versions_table(&versions))
                .json_list(versions),
        },
    )
}

/// A version, or the chart with every version: the server removes them all with the chart, and
/// each is reported as the guide shows (§6.4.7).
pub async fn remove(ctx: &Ctx, args: RemoveArgs) -> Result<Report> {
    let api = ctx.api()?;
    let target = Target::resolve(&args.target, ctx)?;
    let name = target.full_name();
    if let Some(version) = &target.tag {
        let what = format!("{name}:{version}");
        confirm_remove(&what, args.yes)?;
        api.delete(&CHART.version_path(&target, version), &[]).await?;
        return Ok(Report::new().text(format!("Successfully removed chart version '{what}'.")));
    }
    confirm_remove(&name, args.yes)?;
    let versions = CHART.version_names(&api, &target).await?;
    api.delete(&target.path(CHART.segment), &[]).await?;
    let report = versions.iter().fold(Report::new(), |report, version| {
        report.text(format!("Successfully removed chart version '{name}:{version}'."))
    });
    Ok(report.text(format!("Successfully removed chart '{name}'.")))
}
