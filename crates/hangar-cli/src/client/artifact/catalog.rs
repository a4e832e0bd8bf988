//! `create`, `info`, `list`, `update` and `remove` of models and resources, through
//! `{OT}/{models|resources}/…` and the search API, printed as `ngc` prints them. Without an API
//! key, `info` and `list` read public entities as a guest.

use super::Kind;
use super::display;
use super::metadata::{CreateArgs, UpdateArgs};
use crate::client::Ctx;
use crate::client::output::Report;
use crate::client::prompt::confirm_remove;
use crate::client::search::{Reader, Wanted};
use crate::client::target::Target;
use crate::client::versioned::{InfoArgs, Listing, RemoveArgs, Shown};
use crate::client::views::without_status;
use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Entities: <org>/[<team>/]<name> with `*` and `?` wildcards [default: every one]; or the
    /// versions of one entity: <org>/[<team>/]<name>:<version pattern>.
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// Only entities with a signed version.
    #[arg(long)]
    pub signed: bool,
    /// Only entities of this access type (e.g. GUEST, NOT_LISTED).
    #[arg(long = "access-type", value_name = "TYPE")]
    pub access_type: Option<String>,
    #[command(flatten)]
    pub wanted: Wanted,
}

pub async fn create(ctx: &Ctx, kind: &Kind, args: CreateArgs) -> Result<Report> {
    let target = Target::resolve(&args.target, ctx)?;
    if target.tag.is_some() {
        bail!("Create takes <org>/[<team>/]<name> without a version; versions come with upload-version.");
    }
    let body = args.body(kind, &target.name)?;
    let created = ctx
        .api()?
        .post(&format!("{}/{}", target.space(), kind.wire.segment), &body)
        .await?;
    let entity = created.get(kind.wire.key).cloned().unwrap_or(Value::Null);
    Ok(Report::new()
        .text(format!(
            "Successfully created {} '{}'.",
            kind.wire.noun,
            target.full_name()
        ))
        .block(display::entity_block(kind, &entity))
        .json(entity))
}

pub async fn info(ctx: &Ctx, kind: &Kind, args: InfoArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let target = Target::resolve(&args.target, ctx)?;
    Ok(match kind.wire.info(&reader, &target, args.files).await? {
        Shown::Entity(entity) => Report::new().block(display::entity_block(kind, &entity)).json(entity),
        Shown::Version(v, None) => Report::new().block(display::version_block(kind, &v, None)).json(v),
        Shown::Version(v, Some(files)) => Report::new()
            .block(display::version_block(kind, &v, Some(&files)))
            .json(json!({"version": v, "file_list": files})),
    })
}

pub async fn list(ctx: &Ctx, kind: &Kind, args: ListArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let mut wanted = args.wanted;
    if args.signed {
        wanted.filters.push(json!({"field": kind.signed_filter, "value": true}));
    }
    if let Some(access) = &args.access_type {
        wanted.filters.push(json!({"field": "accessType", "value": access}));
    }
    Ok(
        match kind.wire.list(ctx, &reader, args.pattern.as_deref(), wanted).await? {
            Listing::Entities(entities) => Report::new()
                .table(display::entities_table(&entities))
                .json_list(entities),
            Listing::Versions(versions) => Report::new()
                .table(display::versions_table(&versions))
                .json_list(versions),
        },
    )
}

pub async fn update(ctx: &Ctx, kind: &Kind, args: UpdateArgs) -> Result<Report> {
    let api = ctx.api()?;
    let target = Target::resolve(&args.target, ctx)?;
    let entity_path = target.path(kind.wire.segment);
    match &target.tag {
        None => {
            let current = api.get(&entity_path, &[("resolve-labels", "false".into())]).await?;
            let body = args.entity_body(kind, current.get(kind.wire.key).unwrap_or(&Value::Null))?;
            let updated = api.patch(&entity_path, &[], Some(&body)).await?;
            let entity = updated.get(kind.wire.key).cloned().unwrap_or(Value::Null);
            Ok(Report::new()
                .text(format!(
                    "Successfully updated {} '{}'.",
                    kind.wire.noun,
                    target.full_name()
                ))
                .json(entity))
        }
        Some(version) => {
            let body = args.version_body(kind)?;
            let query = if args.set_latest {
                vec![("set-latest", "true".to_string())]
            } else {
                vec![]
            };
            let path = kind.wire.version_path(&target, version);
            let updated = api.patch(&path, &query, Some(&body)).await?;
            let v = updated.get(kind.wire.version_key).cloned().unwrap_or(Value::Null);
            Ok(Report::new()
                .text(format!(
                    "Successfully updated {} version '{}:{version}'.",
                    kind.wire.noun,
                    target.full_name()
                ))
                .json(without_status(v)))
        }
    }
}

pub async fn remove(ctx: &Ctx, kind: &Kind, args: RemoveArgs) -> Result<Report> {
    let api = ctx.api()?;
    let target = Target::resolve(&args.target, ctx)?;
    let name = target.full_name();
    let (what, path) = match &target.tag {
        Some(version) => (format!("{name}:{version}"), kind.wire.version_path(&target, version)),
        None => (name, target.path(kind.wire.segment)),
    };
    confirm_remove(&what, args.yes)?;
    api.delete(&path, &[]).await?;
    Ok(Report::new().text(format!("Successfully removed {} '{what}'.", kind.wire.noun)))
}
