//! `hangar registry image list|info|update|remove|set-latest`: the registry's metadata through
//! NGC's image API (`{OT}/repos/…`, `{OT}` = `/v2/org/{org}[/team/{team}]`) and its search API
//! (`/v2/search/…/resources/CONTAINER`), printed as `ngc` prints them (`display`). Without an
//! API key, `list` and `info` read public repositories as a guest, like `ngc`'s guest mode.

use super::super::Ctx;
use super::super::http::{Api, seg};
use super::super::output::Report;
use super::super::prompt::confirm_remove;
use super::super::views::{field, without_status};
use super::display::{self, Column};
use super::target::{Pattern, Repo, glob_match, is_glob};
use anyhow::{Context, Result, bail};
use clap::Args;
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Tags asked for per page of `…/images`.
const IMAGES_PAGE_SIZE: usize = 1000;
/// Hits asked for per page of a search.
const SEARCH_PAGE_SIZE: usize = 100;
/// A guard against pagination that never ends.
const MAX_PAGES: usize = 10_000;

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

/// Reads as the configured user, or as a guest when there is no API key: then only public
/// repositories, through the public paths.
struct Reader {
    api: Api,
    guest: bool,
}

impl Reader {
    fn new(ctx: &Ctx) -> Result<Reader> {
        Ok(Reader {
            api: ctx.api()?,
            guest: ctx.settings.api_key.is_none(),
        })
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        if !self.guest {
            return self.api.get(path, query).await.map(without_status);
        }
        let mut full = path.to_string();
        for (i, (key, value)) in query.iter().enumerate() {
            full.push(if i == 0 { '?' } else { '&' });
            full.push_str(&format!("{key}={}", seg(value)));
        }
        self.api
            .call_anonymous(Method::GET, &full, None)
            .await
            .map(without_status)
    }

    /// `{OT}/repos/{repo}`, or for a guest `/v2/repos/{org}[/{team}]/{repo}`.
    fn repo_path(&self, repo: &Repo) -> String {
        if self.guest { repo.public_path() } else { repo.path() }
    }
}

pub async fn list(ctx: &Ctx, args: ListArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let pattern = match &args.pattern {
        Some(text) => Pattern::parse(text)?,
        None => Pattern::everything(),
    };
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
        let repos = search(&reader, space, &matcher, args.signed).await?;
        return Ok(Report::new()
            .table(display::list_table(&repos, &columns))
            .json_list(repos));
    }
    let columns = display::list_columns(&args.columns, &display::TAG_COLUMNS, ("tag", "Tag"))?;
    let repo = Repo::from_pattern(pattern, ctx)?;
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
async fn all_images(reader: &Reader, repo: &Repo) -> Result<Vec<Value>> {
    let path = format!("{}/images", reader.repo_path(repo));
    let mut images = Vec::new();
    for page in 0..MAX_PAGES {
        let query = [
            ("page-size", IMAGES_PAGE_SIZE.to_string()),
            ("page-number", page.to_string()),
        ];
        let body = reader.get(&path, &query).await?;
        let batch = body
            .get("images")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let empty = batch.is_empty();
        images.extend(batch);
        let info = body.get("paginationInfo");
        let number = |name: &str| info.and_then(|i| i.get(name)).and_then(Value::as_u64);
        let more = match (number("totalPages"), number("totalResults")) {
            (Some(pages), _) => (page as u64) + 1 < pages,
            (None, Some(total)) => (images.len() as u64) < total,
            (None, None) => false,
        };
        if empty || !more {
            break;
        }
    }
    Ok(images)
}

/// The org (and team) whose private repositories a search covers: those of the pattern, else
/// the configured ones; none for a guest. A wildcard org or team is no org or team.
fn search_space(ctx: &Ctx, pattern: &Pattern, guest: bool) -> Option<(String, Option<String>)> {
    if guest {
        return None;
    }
    let concrete = |part: &Option<String>| part.clone().filter(|p| !is_glob(p));
    let configured_org = ctx.org().ok().map(str::to_string);
    match (concrete(&pattern.org), pattern.org.is_some()) {
        // `acme/vision/*`, `acme/*`: that org, and the team when one is named.
        (Some(org), _) => {
            let team = match &pattern.team {
                Some(team) => concrete(&Some(team.clone())),
                // The configured team belongs to the configured org only.
                None if Some(&org) == configured_org.as_ref() => ctx.team().map(str::to_string),
                None => None,
            };
            Some((org, team))
        }
        // `*/web`: every org the caller is in is not searchable at once; the configured one is.
        (None, true) => configured_org.map(|org| (org, None)),
        // `*web*`: the configured org and team.
        (None, false) => configured_org.map(|org| (org, ctx.team().map(str::to_string))),
    }
}

/// The search request's `q`: `ngc`'s search parameters for one page.
fn search_query(matcher: &str, signed: bool, page: usize) -> String {
    let filters = if signed {
        json!([{"field": "signedImages", "value": true}])
    } else {
        json!([])
    };
    json!({
        "fields": [
            "attributes", "createdBy", "dateCreated", "dateModified", "description", "displayName",
            "guestAccess", "isPublic", "labels", "latestVersionId", "name", "orgName",
            "sharedWithOrgs", "sharedWithTeams", "teamName"
        ],
        "filters": filters,
        "orderBy": [{"field": "score", "value": "ASC"}],
        "page": page,
        "pageSize": SEARCH_PAGE_SIZE,
        "query": format!("resourceId:{matcher}"),
        "queryFields": ["name", "displayName", "description", "all"],
    })
    .to_string()
}

/// Every hit of one search endpoint, page by page.
async fn search_pages(reader: &Reader, path: &str, matcher: &str, signed: bool) -> Result<Vec<Value>> {
    let mut hits = Vec::new();
    for page in 0..MAX_PAGES {
        let body = reader.get(path, &[("q", search_query(matcher, signed, page))]).await?;
        for group in body.get("results").and_then(Value::as_array).into_iter().flatten() {
            if group
                .get("groupValue")
                .and_then(Value::as_str)
                .is_some_and(|g| g != "CONTAINER")
            {
                continue;
            }
            hits.extend(
                group
                    .get("resources")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        let pages = body.get("resultPageTotal").and_then(Value::as_u64).unwrap_or(0);
        if (page as u64) + 1 >= pages {
            break;
        }
    }
    Ok(hits)
}

/// The repositories matching `matcher` in the org (or team) and in the public catalog, each
/// once (by resource id), in resource id order.
async fn search(
    reader: &Reader,
    space: Option<(String, Option<String>)>,
    matcher: &str,
    signed: bool,
) -> Result<Vec<Value>> {
    let mut paths = Vec::new();
    if let Some((org, team)) = space {
        paths.push(match team {
            Some(team) => format!("/v2/search/org/{}/team/{}/resources/CONTAINER", seg(&org), seg(&team)),
            None => format!("/v2/search/org/{}/resources/CONTAINER", seg(&org)),
        });
    }
    paths.push("/v2/search/catalog/resources/CONTAINER".to_string());
    let mut found: BTreeMap<String, Value> = BTreeMap::new();
    for path in paths {
        for hit in search_pages(reader, &path, matcher, signed).await? {
            let id = field(&hit, "resourceId");
            found.entry(id).or_insert_with(|| display::search_repository(&hit));
        }
    }
    Ok(found.into_values().collect())
}

pub async fn info(ctx: &Ctx, args: InfoArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let repo = Repo::resolve(&args.image, ctx)?;
    let Some(tag) = &repo.tag else {
        if args.layers {
            bail!("--layers requires an image tag.");
        }
        let body = reader.get(&reader.repo_path(&repo), &[]).await?;
        return Ok(Report::new()
            .block(display::repository_block(&body, args.details))
            .json(body));
    };
    if args.details {
        bail!("--details cannot be used with an image tag.");
    }
    let image = reader
        .get(&format!("{}/images/{}", reader.repo_path(&repo), seg(tag)), &[])
        .await?;
    let tag_meta = if reader.guest {
        // No public path for `…/tags/{tag}`: the same summary is the tag's entry in `…/images`.
        all_images(&reader, &repo)
            .await?
            .into_iter()
            .find(|i| field(i, "tag") == *tag)
            .unwrap_or_else(|| json!({}))
    } else {
        reader.get(&format!("{}/tags/{}", repo.path(), seg(tag)), &[]).await?
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
        Ok(Value::Object(body))
    }
}

pub async fn update(ctx: &Ctx, args: UpdateArgs) -> Result<Report> {
    let api = ctx.api()?;
    let repo = Repo::resolve(&args.image, ctx)?;
    let body = args.body()?;
    // Shown before the request, as `ngc` does.
    Report::new().text("Updating repository metadata").print(ctx.format())?;
    let updated = api.patch(&repo.path(), &[], Some(&body)).await?;
    Ok(Report::new()
        .text("Repository metadata updated.")
        .json(without_status(updated)))
}

pub async fn remove(ctx: &Ctx, args: RemoveArgs) -> Result<Report> {
    let api = ctx.api()?;
    let repo = Repo::resolve_tag_pattern(&args.image, ctx)?;
    let name = repo.name();
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
                    .delete(&format!("{}/images/{}", repo.path(), seg(&tag)), &[])
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
            api.delete(&format!("{}/images/{}", repo.path(), seg(tag)), &[]).await?;
            Ok(Report::new().text(format!("Successfully removed image '{what}'.")))
        }
        None => {
            confirm_remove(&name, args.yes)?;
            api.delete(&repo.path(), &[]).await?;
            Ok(Report::new().text(format!("Successfully removed image repository '{name}'.")))
        }
    }
}

pub async fn set_latest(ctx: &Ctx, args: SetLatestArgs) -> Result<Report> {
    let api = ctx.api()?;
    let repo = Repo::resolve(&args.image, ctx)?;
    let tag = repo.require_tag("set-latest")?;
    let body = api
        .patch(
            &format!("{}/tags/{}", repo.path(), seg(tag)),
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
        };
        assert_eq!(
            args.body().unwrap(),
            json!({"shortDescription": "d", "labelsV2": ["a", "b"], "builtBy": "me",
                "isMultinodeEnabled": false, "isPublic": true})
        );
    }

    #[test]
    fn search_q_is_ngc_json() {
        let q: Value = serde_json::from_str(&search_query("*we*", false, 2)).unwrap();
        assert_eq!(q["query"], "resourceId:*we*");
        assert_eq!((q["page"].as_u64(), q["pageSize"].as_u64()), (Some(2), Some(100)));
        assert_eq!(q["filters"], json!([]));
        let q: Value = serde_json::from_str(&search_query("*", true, 0)).unwrap();
        assert_eq!(q["filters"], json!([{"field": "signedImages", "value": true}]));
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
