//! `create`, `info`, `list`, `update` and `remove` of models and resources, through
//! `{OT}/{models|resources}/…` and the search API, printed as `ngc` prints them. Without an API
//! key, `info` and `list` read public entities as a guest.

use super::Kind;
use super::display;
use super::metadata::{CreateArgs, UpdateArgs};
use crate::client::Ctx;
use crate::client::http::seg;
use crate::client::output::Report;
use crate::client::prompt::confirm_remove;
use crate::client::search::{Reader, Search, search_space};
use crate::client::target::{Pattern, Target, glob_match, is_glob};
use crate::client::views::{field, without_status};
use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

/// Versions (and files) asked for per page.
pub const PAGE_SIZE: usize = 1000;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// <org>/[<team>/]<name>[:<version>].
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// List the version's files as well.
    #[arg(long)]
    pub files: bool,
}

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
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// <org>/[<team>/]<name> (every version) or <org>/[<team>/]<name>:<version>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// `{OT}/{kind}/{name}/versions/{version}`.
pub fn version_path(kind: &Kind, target: &Target, version: &str) -> String {
    format!("{}/versions/{}", target.path(kind.segment), seg(version))
}

pub async fn create(ctx: &Ctx, kind: &Kind, args: CreateArgs) -> Result<Report> {
    let target = Target::resolve(&args.target, ctx)?;
    if target.tag.is_some() {
        bail!("Create takes <org>/[<team>/]<name> without a version; versions come with upload-version.");
    }
    let body = args.body(kind, &target.name)?;
    let created = ctx
        .api()?
        .post(&format!("{}/{}", target.space(), kind.segment), &body)
        .await?;
    let entity = created.get(kind.key).cloned().unwrap_or(Value::Null);
    Ok(Report::new()
        .text(format!("Successfully created {} '{}'.", kind.noun, target.full_name()))
        .block(display::entity_block(kind, &entity))
        .json(entity))
}

pub async fn info(ctx: &Ctx, kind: &Kind, args: InfoArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let target = Target::resolve(&args.target, ctx)?;
    let entity_path = reader.path(&target, kind.segment);
    let Some(version) = &target.tag else {
        if args.files {
            bail!("--files needs a version: <org>/[<team>/]<name>:<version>.");
        }
        let body = reader.get(&entity_path, &[("resolve-labels", "false".into())]).await?;
        let entity = body.get(kind.key).cloned().unwrap_or(Value::Null);
        return Ok(Report::new().block(display::entity_block(kind, &entity)).json(entity));
    };
    let path = format!("{entity_path}/versions/{}", seg(version));
    let body = reader.get(&path, &[]).await?;
    let v = body.get(kind.version_key).cloned().unwrap_or(Value::Null);
    if !args.files {
        return Ok(Report::new().block(display::version_block(kind, &v, None)).json(v));
    }
    let files = reader
        .get_all(&format!("{path}/files"), &[], kind.files_key, PAGE_SIZE)
        .await?;
    Ok(Report::new()
        .block(display::version_block(kind, &v, Some(&files)))
        .json(json!({"version": v, "file_list": files})))
}

pub async fn list(ctx: &Ctx, kind: &Kind, args: ListArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let pattern = Pattern::parse_or_everything(args.pattern.as_deref())?;
    let matcher = pattern.matcher();
    if is_glob(&matcher) {
        if pattern.tag.is_some() {
            bail!(
                "A version pattern cannot be used when the name contains a glob. \
                 Specify a concrete {} (e.g. org/team/name) to list versions.",
                kind.noun
            );
        }
        let mut filters = vec![];
        if args.signed {
            filters.push(json!({"field": kind.signed_filter, "value": true}));
        }
        if let Some(access) = &args.access_type {
            filters.push(json!({"field": "accessType", "value": access}));
        }
        let search = Search {
            resource_type: kind.search,
            matcher: &matcher,
            filters,
        };
        let space = search_space(ctx, &pattern, reader.guest);
        let entities: Vec<Value> = search
            .run(&reader, space)
            .await?
            .iter()
            .map(display::search_entity)
            .collect();
        return Ok(Report::new()
            .table(display::entities_table(&entities))
            .json_list(entities));
    }
    let target = Target::from_pattern(pattern, ctx)?;
    let path = format!("{}/versions", reader.path(&target, kind.segment));
    let mut versions = reader
        .get_all(
            &path,
            &[("sort-order", "SEMVER_DESC".into())],
            kind.versions_key,
            PAGE_SIZE,
        )
        .await?;
    if let Some(wanted) = &target.tag {
        versions.retain(|v| glob_match(wanted, &field(v, "versionId")));
    }
    Ok(Report::new()
        .table(display::versions_table(&versions))
        .json_list(versions))
}

pub async fn update(ctx: &Ctx, kind: &Kind, args: UpdateArgs) -> Result<Report> {
    let api = ctx.api()?;
    let target = Target::resolve(&args.target, ctx)?;
    let entity_path = target.path(kind.segment);
    match &target.tag {
        None => {
            let current = api.get(&entity_path, &[("resolve-labels", "false".into())]).await?;
            let labels: Vec<String> = current
                .pointer(&format!("/{}/labels", kind.key))
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let body = args.entity_body(kind, &labels)?;
            let updated = api.patch(&entity_path, &[], Some(&body)).await?;
            let entity = updated.get(kind.key).cloned().unwrap_or(Value::Null);
            Ok(Report::new()
                .text(format!("Successfully updated {} '{}'.", kind.noun, target.full_name()))
                .json(entity))
        }
        Some(version) => {
            let body = args.version_body(kind)?;
            let query = if args.set_latest {
                vec![("set-latest", "true".to_string())]
            } else {
                vec![]
            };
            let path = version_path(kind, &target, version);
            let updated = api.patch(&path, &query, Some(&body)).await?;
            let v = updated.get(kind.version_key).cloned().unwrap_or(Value::Null);
            Ok(Report::new()
                .text(format!(
                    "Successfully updated {} version '{}:{version}'.",
                    kind.noun,
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
        Some(version) => (format!("{name}:{version}"), version_path(kind, &target, version)),
        None => (name, target.path(kind.segment)),
    };
    confirm_remove(&what, args.yes)?;
    api.delete(&path, &[]).await?;
    Ok(Report::new().text(format!("Successfully removed {} '{what}'.", kind.noun)))
}
