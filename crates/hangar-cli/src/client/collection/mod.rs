//! `hangar registry collection …`: collections, ordered groups of images, charts, models and
//! resources with their own access level, in `ngc`'s grammar (ngcsdk 4.37's `registry
//! collection`), through `{OT}/collections/{name}` and its `…/artifacts/…` items.
//!
//! Layout: `items` (which entities the flags name, and adding, removing and reading them),
//! `display` (`ngc`'s info block and list table), `catalog` (the commands).

mod catalog;
mod display;
mod items;

use super::Ctx;
use super::fields::{LabelEdits, OfferArgs, Presentation};
use super::output::Report;
use anyhow::Result;
use clap::{Args, Subcommand};
use items::{ItemKind, NewItems, RemovedItems};

#[derive(Subcommand)]
pub enum CollectionCommand {
    /// Create a collection, maybe with its first items.
    Create(Box<CreateArgs>),
    /// Show a collection and its items, by kind, in order.
    Info(TargetArgs),
    /// List collections (`*` and `?` wildcards; default: all).
    List(ListArgs),
    /// Update a collection's metadata, access type and products; add and remove items.
    Update(Box<UpdateArgs>),
    /// Remove a collection (its items stay; confirmed unless -y).
    Remove(RemoveArgs),
    /// Add items of one kind to a collection, after those it holds.
    Add(ItemArgs),
    /// Take items of one kind out of a collection.
    RemoveItem(ItemArgs),
}

impl CollectionCommand {
    pub fn supports_csv(&self) -> bool {
        matches!(self, CollectionCommand::List(_))
    }
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// <org>/[<team>/]<collection>.
    #[arg(value_name = "TARGET")]
    pub target: String,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// <org>/[<team>/]<collection>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Short description.
    #[arg(long = "short-desc", value_name = "DESC")]
    pub short_desc: String,
    /// Category (e.g. ROBOTICS, HEALTHCARE, DEEP_LEARNING, BEGINNER).
    #[arg(long, value_name = "CATEGORY")]
    pub category: String,
    /// A label; repeat for more.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub presentation: Presentation,
    #[command(flatten)]
    pub items: NewItems,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// <org>/[<team>/]<collection>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Short description.
    #[arg(long = "short-desc", value_name = "DESC")]
    pub short_desc: Option<String>,
    /// Category.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    #[command(flatten)]
    pub labels: LabelEdits,
    #[command(flatten)]
    pub presentation: Presentation,
    #[command(flatten)]
    pub offer: OfferArgs,
    #[command(flatten)]
    pub add: NewItems,
    #[command(flatten)]
    pub remove: RemovedItems,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// <org>/[<team>/]<name> with `*` and `?` wildcards [default: every one].
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// Only collections of this access type (e.g. GUEST, NOT_LISTED).
    #[arg(long = "access-type", value_name = "TYPE")]
    pub access_type: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// <org>/[<team>/]<collection>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ItemArgs {
    /// <org>/[<team>/]<collection>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// What the items are.
    #[arg(value_name = "KIND", value_enum)]
    pub kind: ItemKind,
    /// The items: <org>/[<team>/]<name> each.
    #[arg(value_name = "ITEM", required = true)]
    pub items: Vec<String>,
}

pub async fn run(ctx: &Ctx, cmd: CollectionCommand) -> Result<Report> {
    match cmd {
        CollectionCommand::Create(args) => catalog::create(ctx, *args).await,
        CollectionCommand::Info(args) => catalog::info(ctx, &args.target).await,
        CollectionCommand::List(args) => catalog::list(ctx, args).await,
        CollectionCommand::Update(args) => catalog::update(ctx, *args).await,
        CollectionCommand::Remove(args) => catalog::remove(ctx, args).await,
        CollectionCommand::Add(args) => catalog::add(ctx, args).await,
        CollectionCommand::RemoveItem(args) => catalog::remove_item(ctx, args).await,
    }
}
