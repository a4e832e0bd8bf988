//! `hangar registry image list|info|update|remove|set-latest`: the registry's metadata through
//! NGC's image API (`{OT}/repos/…`, `{OT}` = `/v2/org/{org}[/team/{team}]`) and its search API
//! (`/v2/search/…/resources/CONTAINER`), printed as `ngc` prints them (`display`). Without an
//! API key, `list` and `info` read public repositories as a guest, like `ngc`'s guest mode.

use super::super::Ctx;
use super::super::fields::OfferArgs;
use super::super::http::seg;
use super::super::output::Report;
use super::super::prompt::confirm_remove;
use super::super::search::{Reader, Search, Wanted, search_space};
use super::super::target::{Pattern, Target, glob_match, is_glob};
use super::super::views::{field, without_status};
use super::display::{self, Column};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// Tags asked for per page of `…/images`.
const IMAGES_PAGE_SIZE: usize = 1000;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Repositories to list: <org>/[<team>/]<image> with `*` and `?` wildcards [default: every
    /// repository]; or the tags of one repository: <org>/[<team>/]<image>[:<tag pattern>]
    /// (`*`, `?`, `[1-5]`).
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// Output column as <column>[=<header>]; repeat for more. Columns: created, description,
    /// name, org, permission, shared, size, tag, team, updated, labels, signed. The repository
    /// (for tags: the tag) comes first unless named.
    #[arg(long = "column", value_name = "COLUMN", value_parser = Column::parse)]
    pub columns: Vec<Column>,
    /// Only signed images (repositories with a signed tag; signed tags).
    #[arg(long)]
    pub signed: bool,
    #[command(flatten)]
    pub wanted: Wanted,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// A repository or an image: <org>/[<team>/]<image>[:<tag>].
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Show the overview as well (repositories only).
    #[arg(long)]
    pub details: bool,
    /// Show the layers (images only).
    #[arg(long)]
    pub layers: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The repository: <org>/[<team>/]<image>[:<tag>].
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Short description.
    #[arg(long, value_name = "DESC")]
    pub desc: Option<String>,
    /// Overview: a text or markdown file.
    #[arg(long, value_name = "FILE")]
    pub overview: Option<PathBuf>,
    /// A label; repeat for more. Replaces the repository's labels.
    #[arg(long = "label", value_name = "LABEL")]
    pub label: Vec<String>,
    /// URL of the repository's logo.
    #[arg(long, value_name = "URL")]
    pub logo: Option<String>,
    /// Who publishes the image.
    #[arg(long, value_name = "PUBLISHER")]
    pub publisher: Option<String>,
    /// Who built the image.
    #[arg(long = "built-by", value_name = "NAME")]
    pub built_by: Option<String>,
    /// Display name.
    #[arg(long = "display-name", value_name = "NAME")]
    pub display_name: Option<String>,
    /// Mark the image as supporting multinode.
    #[arg(long, conflicts_with = "no_multinode")]
    pub multinode: bool,
    /// Mark the image as not supporting multinode.
    #[arg(long = "no-multinode")]
    pub no_multinode: bool,
    /// Make the repository public: anyone may see and pull it without a key (registry admins
    /// and org owners).
    #[arg(long, conflicts_with = "no_public")]
    pub public: bool,
    /// Make the repository private again (registry admins and org owners).
    #[arg(long = "no-public")]
    pub no_public: bool,
    #[command(flatten)]
    pub offer: OfferArgs,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// A repository (every tag), one image, or the images whose tags match a pattern:
    /// <org>/[<team>/]<image>[:<tag or tag pattern>].
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct SetLatestArgs {
    /// The tag to make the latest: <org>/[<team>/]<image>:<tag>.
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

pub async fn list(ctx: &Ctx, args: ListArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let pattern = Pattern::parse_or_everything(args.pattern.as_deref())?;
    let matcher = pattern.matcher();
    if is_glob(&matcher) {
        if pattern.tag.is_some() {
            bail!(
                "A tag or version pattern cannot be used when the repository name contains a glob. \
                 Specify a concrete repository (e.g. org/team/repo) to list tags."
            );
        }
        let columns = display::list_columns(
            &args.columns,
            &display::REPOSITORY_COLUMNS,
            ("repository", "Repository"),
        )?;
        let space = search_space(ctx, &pattern, reader.guest);
        let mut filters = args.wanted.filters;
        if args.signed {
            filters.push(json!({"field": "signedImages", "value": true}));
        }
        let search = Search {
            resource_type: "CONTAINER",
            matcher: &matcher,
            text: args.wanted.query.as_deref(),
            filters,
        };
        let repos: Vec<Value> = search
            .run(&reader, space)
            .await?
            .iter()
            .map(display::search_repository)
            .collect();
        return Ok(Report::new()
            .table(display::list_table(&repos, &columns))
            .json_list(repos));
    }
    args.wanted.require_search()?;
    let columns = display::list_columns(&args.columns, &display::TAG_COLUMNS, ("tag", "Tag"))?;
    let repo = Target::from_pattern(pattern, ctx)?;
    let mut images = all_images(&reader, &repo).await?;
    if let Some(tag) = &repo.tag {
        images.retain(|i| glob_match(tag, &field(i, "tag")));
    }
    if args.signed {
        images.retain(|i| i.get("isSigned").and_then(Value::as_bool) == Some(true));
    }
    sort_newest_first(&mut images);
    Ok(Report::new()
        .table(display::list_table(&images, &columns))
        .json_list(images))
}

/// `ngc`'s tag order: by updated date, then tag, newest (greatest) first.
fn sort_newest_first(images: &mut [Value]) {
    images.sort_by_cached_key(|i| std::cmp::Reverse((field(i, "updatedDate"), field(i, "tag"))));
}

/// Every tag of a repository (`…/images`).
async fn all_images(reader: &Reader, repo: &Target) -> Result<Vec<Value>> {
    let path = format!("{}/images", reader.path(repo, "repos"));
    reader.get_all(&path, &[], "images", IMAGES_PAGE_SIZE).await
}

pub async fn info(ctx: &Ctx, args: InfoArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let repo = Target::resolve(&args.image, ctx)?;
    let Some(tag) = &repo.tag else {
        if args.layers {
            bail!("--layers requires an image tag.");
        }
        let body = reader.get(&reader.path(&repo, "repos"), &[]).await?;
        return Ok(Report::new()
            .block(display::repository_block(&body, args.details))
            .json(body));
    };
    if args.details {
        bail!("--details cannot be used with an image tag.");
    }
    let image = reader
        .get(&format!("{}/images/{}", reader.path(&repo, "repos"), seg(tag)), &[])
        .await?;
    let tag_meta = if reader.guest {
        // No public path for `…/tags/{tag}`: the same summary is the tag's entry in `…/images`.
        all_images(&reader, &repo)
            .await?
            .into_iter()
            .find(|i| field(i, "tag") == *tag)
            .unwrap_or_else(|| json!({}))
    } else {
        reader
            .get(&format!("{}/tags/{}", repo.path("repos"), seg(tag)), &[])
            .await?
    };
    Ok(Report::new()
        .block(display::image_block(&tag_meta, &image, args.layers))
        .json(merged_image(&tag_meta, &image)))
}

/// `ngc`'s JSON of an image: the tag's metadata, overlaid with the image's manifest summary,
/// and the architectures as `architectureDetails`.
fn merged_image(tag: &Value, image: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(meta) = tag {
        out.extend(
            meta.iter()
                .filter(|(k, _)| k.as_str() != "architectureVariants")
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    if let Value::Object(manifest) = image {
        out.extend(manifest.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out.insert("scanDetails".into(), json!([]));
    out.insert(
        "architectureDetails".into(),
        tag.get("architectureVariants").cloned().unwrap_or_else(|| json!([])),
    );
    Value::Object(out)
}

impl UpdateArgs {
    /// The PATCH body: only what was given.
    fn body(&self) -> Result<Value> {
        let mut body = Map::new();
        let mut put = |key: &str, value: Option<&String>| {
            if let Some(v) = value {
                body.insert(key.to_string(), Value::String(v.clone()));
            }
        };
        put("shortDescription", self.desc.as_ref());
        put("displayName", self.display_name.as_ref());
        put("logo", self.logo.as_ref());
        put("publisher", self.publisher.as_ref());
        put("builtBy", self.built_by.as_ref());
        if let Some(file) = &self.overview {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("Cannot read the overview file {}", file.display()))?;
            body.insert("description".into(), Value::String(text));
        }
        if !self.label.is_empty() {
            body.insert("labelsV2".into(), json!(self.label));
        }
        for (yes, no, key) in [
            (self.multinode, self.no_multinode, "isMultinodeEnabled"),
            (self.public, self.no_public, "isPublic"),
        ] {
            if yes || no {
                body.insert(key.into(), json!(yes));
            }
        }
        self.offer.fill(&mut body)?;
        Ok(Value::Object(body))
    }
}

pub async fn update(ctx: &Ctx, args: UpdateArgs) -> Result<Report> {
    let api = ctx.api()?;
    let repo = Target::resolve(&args.image, ctx)?;
    let body = args.body()?;
    // Shown before the request, as `ngc` does.
    Report::new().text("Updating repository metadata").print(ctx.format())?;
    let updated = api.patch(&repo.path("repos"), &[], Some(&body)).await?;
    Ok(Report::new()
        .text("Repository metadata updated.")
        .json(without_status(updated)))
}

pub async fn remove(ctx: &Ctx, args: RemoveArgs) -> Result<Report> {
    let api = ctx.api()?;
    let repo = Target::resolve_tag_pattern(&args.image, ctx)?;
    let name = repo.full_name();
    match &repo.tag {
        Some(pattern) if is_glob(pattern) => {
            // Each matching tag, each confirmed and reported as it goes.
            let reader = Reader { api, guest: false };
            let mut images = all_images(&reader, &repo).await?;
            images.retain(|i| glob_match(pattern, &field(i, "tag")));
            if images.is_empty() {
                bail!("No image tags found that matches the pattern '{name}:{pattern}'.");
            }
            sort_newest_first(&mut images);
            for image in images {
                let tag = field(&image, "tag");
                let what = format!("{name}:{tag}");
                confirm_remove(&what, args.yes)?;
                reader
                    .api
                    .delete(&format!("{}/images/{}", repo.path("repos"), seg(&tag)), &[])
                    .await?;
                Report::new()
                    .text(format!("Successfully removed image '{what}'."))
                    .print(ctx.format())?;
            }
            Ok(Report::new())
        }
        Some(tag) => {
            let what = format!("{name}:{tag}");
            confirm_remove(&what, args.yes)?;
            api.delete(&format!("{}/images/{}", repo.path("repos"), seg(tag)), &[])
                .await?;
            Ok(Report::new().text(format!("Successfully removed image '{what}'.")))
        }
        None => {
            confirm_remove(&name, args.yes)?;
            api.delete(&repo.path("repos"), &[]).await?;
            Ok(Report::new().text(format!("Successfully removed image repository '{name}'.")))
        }
    }
}

pub async fn set_latest(ctx: &Ctx, args: SetLatestArgs) -> Result<Report> {
    let api = ctx.api()?;
    let repo = Target::resolve(&args.image, ctx)?;
    let tag = repo.require_tag("set-latest", "an image tag: <org>/[<team>/]<image>:<tag>")?;
    let body = api
        .patch(
            &format!("{}/tags/{}", repo.path("repos"), seg(tag)),
            &[("set-latest", "true".to_string())],
            Some(&json!({})),
        )
        .await?;
    Ok(Report::new()
        .text(format!("Successfully set tag '{}' as latest.", args.image))
        .json(without_status(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_bodies() {
        let args = UpdateArgs {
            image: "acme/web".into(),
            desc: Some("d".into()),
            overview: None,
            label: vec!["a".into(), "b".into()],
            logo: None,
            publisher: None,
            built_by: Some("me".into()),
            display_name: None,
            multinode: false,
            no_multinode: true,
            public: true,
            no_public: false,
            offer: OfferArgs {
                access_type: Some("approval".into()),
                products: vec![],
                no_products: false,
            },
        };
        assert_eq!(
            args.body().unwrap(),
            json!({"shortDescription": "d", "labelsV2": ["a", "b"], "builtBy": "me",
                "isMultinodeEnabled": false, "isPublic": true, "accessType": "APPROVAL"})
        );
    }

    #[test]
    fn tags_sort_newest_first() {
        let mut images = vec![
            json!({"tag": "a", "updatedDate": "2026-01-01T00:00:00.000Z"}),
            json!({"tag": "c", "updatedDate": "2026-01-02T00:00:00.000Z"}),
            json!({"tag": "b", "updatedDate": "2026-01-02T00:00:00.000Z"}),
        ];
        sort_newest_first(&mut images);
        let tags: Vec<String> = images.iter().map(|i| field(i, "tag")).collect();
        assert_eq!(tags, ["c", "b", "a"]);
    }
}
