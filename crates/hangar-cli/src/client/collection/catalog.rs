//! `create`, `info`, `list`, `update`, `remove`, `add` and `remove-item` of collections,
//! through `{OT}/collections/…` and the search API, printed as `ngc` prints them. Without an
//! API key, `info` and `list` read public collections as a guest.

use super::items::{self, Edit};
use super::{CreateArgs, ItemArgs, ListArgs, RemoveArgs, UpdateArgs, display};
use crate::client::Ctx;
use crate::client::fields::put_strings;
use crate::client::output::Report;
use crate::client::prompt::confirm_remove;
use crate::client::search::{Reader, Search, search_entity, search_space};
use crate::client::target::{Pattern, Target};
use anyhow::{Result, bail};
use hangar_core::wire::COLLECTION;
use serde_json::{Map, Value, json};

/// The collection a command acts on: no tag, no wildcards.
fn collection(text: &str, ctx: &Ctx) -> Result<Target> {
    let target = Target::resolve(text, ctx)?;
    if target.tag.is_some() {
        bail!("Invalid collection '{text}': give <org>/[<team>/]<name>; collections have no versions.");
    }
    Ok(target)
}

/// `done` (a line saying what was done, if anything), then the collection and its items as
/// `info` shows them (json: the collection with a list per kind: `images`, `charts`, `models`,
/// `resources`).
async fn shown(ctx: &Ctx, target: &Target, done: Option<String>) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let body = reader.get(&reader.path(target, COLLECTION.segment), &[]).await?;
    let entity = body.get(COLLECTION.key).cloned().unwrap_or(Value::Null);
    let listed = items::listed(&reader, target).await?;
    let block = display::collection_block(&entity, &listed);
    let mut json = entity;
    if let Value::Object(map) = &mut json {
        for (member, items) in listed {
            map.insert(items::heading(member).to_lowercase(), Value::Array(items));
        }
    }
    let report = match done {
        Some(line) => Report::new().text(line),
        None => Report::new(),
    };
    Ok(report.block(block).json(json))
}

pub async fn create(ctx: &Ctx, args: CreateArgs) -> Result<Report> {
    let api = ctx.api()?;
    let target = collection(&args.target, ctx)?;
    let mut body = Map::new();
    body.insert("name".into(), json!(target.name));
    body.insert("shortDescription".into(), json!(args.short_desc));
    body.insert("category".into(), json!(args.category.to_uppercase()));
    if !args.labels.is_empty() {
        body.insert("labelsV2".into(), json!(args.labels));
    }
    args.presentation.fill(&mut body)?;
    api.post(
        &format!("{}/{}", target.space(), COLLECTION.segment),
        &Value::Object(body),
    )
    .await?;
    items::edit(ctx, &api, &target, Edit::Add, &args.items.by_kind()).await?;
    let done = format!("Successfully created collection '{}'.", target.full_name());
    shown(ctx, &target, Some(done)).await
}

pub async fn info(ctx: &Ctx, text: &str) -> Result<Report> {
    let target = collection(text, ctx)?;
    shown(ctx, &target, None).await
}

pub async fn list(ctx: &Ctx, args: ListArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let pattern = Pattern::parse_or_everything(args.pattern.as_deref())?;
    if pattern.tag.is_some() {
        bail!("Collections have no versions: give <org>/[<team>/]<name> with `*` and `?` wildcards.");
    }
    let matcher = pattern.matcher();
    let filters = args
        .access_type
        .iter()
        .map(|access| json!({"field": "accessType", "value": access}))
        .collect();
    let search = Search {
        resource_type: COLLECTION.search,
        matcher: &matcher,
        text: None,
        filters,
    };
    let hits = search.run(&reader, search_space(ctx, &pattern, reader.guest)).await?;
    let collections: Vec<Value> = hits.iter().map(search_entity).collect();
    Ok(Report::new()
        .table(display::collections_table(&collections))
        .json_list(collections))
}

pub async fn update(ctx: &Ctx, args: UpdateArgs) -> Result<Report> {
    let api = ctx.api()?;
    let target = collection(&args.target, ctx)?;
    let path = target.path(COLLECTION.segment);
    let mut body = Map::new();
    let category = args.category.as_ref().map(|c| c.to_uppercase());
    put_strings(
        &mut body,
        &[("shortDescription", &args.short_desc), ("category", &category)],
    );
    args.presentation.fill(&mut body)?;
    args.offer.fill(&mut body)?;
    if !args.labels.is_empty() {
        let current = api.get(&path, &[("resolve-labels", "false".into())]).await?;
        let entity = current.get(COLLECTION.key).unwrap_or(&Value::Null);
        body.insert("labelsV2".into(), json!(args.labels.apply(entity)));
    }
    let adds = args.add.by_kind();
    let removes = args.remove.by_kind();
    let no_items = adds.iter().chain(&removes).all(|(_, names)| names.is_empty());
    if body.is_empty() && no_items {
        bail!("Nothing to update: give a field to change, --access-type, --product, or items to add or remove.");
    }
    if !body.is_empty() {
        api.patch(&path, &[], Some(&Value::Object(body))).await?;
    }
    items::edit(ctx, &api, &target, Edit::Add, &adds).await?;
    items::edit(ctx, &api, &target, Edit::Remove, &removes).await?;
    let done = format!("Successfully updated collection '{}'.", target.full_name());
    shown(ctx, &target, Some(done)).await
}

pub async fn remove(ctx: &Ctx, args: RemoveArgs) -> Result<Report> {
    let target = collection(&args.target, ctx)?;
    let api = ctx.api()?;
    let name = target.full_name();
    confirm_remove(&name, args.yes)?;
    api.delete(&target.path(COLLECTION.segment), &[]).await?;
    Ok(Report::new().text(format!("Successfully removed collection '{name}'.")))
}

/// `add` and `remove-item`.
async fn edit_items(ctx: &Ctx, args: ItemArgs, edit: Edit, (verb, preposition): (&str, &str)) -> Result<Report> {
    let api = ctx.api()?;
    let target = collection(&args.target, ctx)?;
    items::edit(ctx, &api, &target, edit, &[(args.kind, &args.items)]).await?;
    let done = format!(
        "Successfully {verb} {} {}(s) {preposition} collection '{}'.",
        args.items.len(),
        args.kind.member().noun,
        target.full_name()
    );
    shown(ctx, &target, Some(done)).await
}

pub async fn add(ctx: &Ctx, args: ItemArgs) -> Result<Report> {
    edit_items(ctx, args, Edit::Add, ("added", "to")).await
}

pub async fn remove_item(ctx: &Ctx, args: ItemArgs) -> Result<Report> {
    edit_items(ctx, args, Edit::Remove, ("removed", "from")).await
}
