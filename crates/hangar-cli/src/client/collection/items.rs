//! The items of a collection: the flags that name them (`--add-model acme/detector`, …), their
//! paths `{OT}/collections/{name}/artifacts/org/{o}[/team/{t}]/{segment}/{item}`, and the item
//! lists of each kind (`…/artifacts/{segment}`).

use crate::client::Ctx;
use crate::client::http::{Api, seg};
use crate::client::search::Reader;
use crate::client::target::Target;
use anyhow::{Result, anyhow};
use clap::{Args, ValueEnum};
use hangar_core::wire::{MEMBERS, Member};
use reqwest::Method;
use serde_json::Value;

/// Items asked for per page.
const PAGE_SIZE: usize = 1000;

/// A kind of item, as `add` and `remove-item` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ItemKind {
    Image,
    Chart,
    Model,
    Resource,
}

impl ItemKind {
    /// Its names on the wire.
    pub fn member(self) -> &'static Member {
        let noun = match self {
            ItemKind::Image => "image",
            ItemKind::Chart => "chart",
            ItemKind::Model => "model",
            ItemKind::Resource => "resource",
        };
        MEMBERS.iter().find(|m| m.noun == noun).expect("every kind is a member")
    }
}

/// `--add-image`, `--add-chart`, `--add-model`, `--add-resource` of `create` and `update`.
#[derive(Debug, Clone, Default, Args)]
pub struct NewItems {
    /// Add a container image repository: <org>/[<team>/]<name>; repeat for more.
    #[arg(long = "add-image", value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Add a Helm chart; repeat for more.
    #[arg(long = "add-chart", value_name = "CHART")]
    pub charts: Vec<String>,
    /// Add a model; repeat for more.
    #[arg(long = "add-model", value_name = "MODEL")]
    pub models: Vec<String>,
    /// Add a resource; repeat for more.
    #[arg(long = "add-resource", value_name = "RESOURCE")]
    pub resources: Vec<String>,
}

/// `--remove-image`, `--remove-chart`, `--remove-model`, `--remove-resource` of `update`.
#[derive(Debug, Clone, Default, Args)]
pub struct RemovedItems {
    /// Take a container image repository out; repeat for more.
    #[arg(long = "remove-image", value_name = "IMAGE")]
    pub remove_images: Vec<String>,
    /// Take a Helm chart out; repeat for more.
    #[arg(long = "remove-chart", value_name = "CHART")]
    pub remove_charts: Vec<String>,
    /// Take a model out; repeat for more.
    #[arg(long = "remove-model", value_name = "MODEL")]
    pub remove_models: Vec<String>,
    /// Take a resource out; repeat for more.
    #[arg(long = "remove-resource", value_name = "RESOURCE")]
    pub remove_resources: Vec<String>,
}

/// The items named by flags, by kind, in `ngc`'s order.
fn by_kind<'a>(
    images: &'a [String],
    charts: &'a [String],
    models: &'a [String],
    resources: &'a [String],
) -> Vec<(ItemKind, &'a [String])> {
    vec![
        (ItemKind::Image, images),
        (ItemKind::Chart, charts),
        (ItemKind::Model, models),
        (ItemKind::Resource, resources),
    ]
}

impl NewItems {
    pub fn by_kind(&self) -> Vec<(ItemKind, &[String])> {
        by_kind(&self.images, &self.charts, &self.models, &self.resources)
    }
}

impl RemovedItems {
    pub fn by_kind(&self) -> Vec<(ItemKind, &[String])> {
        by_kind(
            &self.remove_images,
            &self.remove_charts,
            &self.remove_models,
            &self.remove_resources,
        )
    }
}

/// Whether an item is added or taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Add,
    Remove,
}

/// Adds (appends) or removes each item, in order; the first refusal stops with a message that
/// names the item.
pub async fn edit(
    ctx: &Ctx,
    api: &Api,
    collection: &Target,
    edit: Edit,
    items: &[(ItemKind, &[String])],
) -> Result<()> {
    for (kind, names) in items {
        let member = kind.member();
        for name in *names {
            let item = Target::resolve(name, ctx)?;
            if item.tag.is_some() {
                return Err(anyhow!(
                    "Invalid {} '{name}': give <org>/[<team>/]<name> without a tag or version.",
                    member.noun
                ));
            }
            let path = format!(
                "{}/artifacts/{}/{}/{}",
                collection.path("collections"),
                item.scope(),
                member.segment,
                seg(&item.name)
            );
            let (method, words) = match edit {
                Edit::Add => (Method::PUT, ("add", "to")),
                Edit::Remove => (Method::DELETE, ("remove", "from")),
            };
            api.call(method, &path, &[], None).await.map_err(|e| {
                anyhow!(
                    "Cannot {} {} '{}' {} collection '{}': {e}",
                    words.0,
                    member.noun,
                    item.full_name(),
                    words.1,
                    collection.full_name()
                )
            })?;
        }
    }
    Ok(())
}

/// The items of a collection the reader may see, by kind in `ngc`'s order (Images, Charts,
/// Models, Resources), each kind in the collection's order.
pub async fn listed(reader: &Reader, collection: &Target) -> Result<Vec<(&'static Member, Vec<Value>)>> {
    let base = reader.path(collection, "collections");
    let mut out = Vec::new();
    for member in &MEMBERS {
        let path = format!("{base}/artifacts/{}", member.segment);
        out.push((member, reader.get_all(&path, &[], "artifacts", PAGE_SIZE).await?));
    }
    Ok(out)
}

/// `ngc`'s heading of a kind of item: `Images`, `Charts`, `Models`, `Resources`.
pub fn heading(member: &Member) -> String {
    let mut chars = member.noun.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
    first.chain(chars).chain(std::iter::once('s')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_headings() {
        assert_eq!(ItemKind::Resource.member().segment, "recipes");
        assert_eq!(ItemKind::Image.member().segment, "repositories");
        let headings: Vec<String> = MEMBERS.iter().map(heading).collect();
        assert_eq!(headings, ["Images", "Charts", "Models", "Resources"]);
    }
}
