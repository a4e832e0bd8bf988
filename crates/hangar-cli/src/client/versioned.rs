//! What models, resources and charts have in common: an entity at `{OT}/{segment}/{name}` with
//! versions at `…/versions/{version}` and their files at `…/files` (ngc-api.md §4.2, §4.3, §7).
//! Reads go as the configured user, or as a guest through the public paths; `list` with a
//! wildcard in the name searches, without one it lists the versions of one entity.

use super::Ctx;
use super::http::{Api, seg};
use super::search::{Reader, Search, Wanted, search_entity, search_space};
use super::target::{Pattern, Target, glob_match, is_glob};
use super::views::field;
use anyhow::{Result, bail};
use clap::Args;
use hangar_core::wire::Wire;
use serde_json::Value;

/// Versions (and files) asked for per page.
pub const PAGE_SIZE: usize = 1000;

/// One kind of versioned entity, by its names on the wire (shared with the server).
pub struct Versioned(pub &'static Wire);

impl std::ops::Deref for Versioned {
    type Target = Wire;

    fn deref(&self) -> &Wire {
        self.0
    }
}

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
pub struct RemoveArgs {
    /// <org>/[<team>/]<name> (every version) or <org>/[<team>/]<name>:<version>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// What `info` found.
pub enum Shown {
    Entity(Value),
    /// A version, with its files when they were asked for.
    Version(Value, Option<Vec<Value>>),
}

/// What `list` found.
pub enum Listing {
    /// Search hits, as entities (a wildcard in the name).
    Entities(Vec<Value>),
    /// The versions of one entity, newest first, those matching the version pattern.
    Versions(Vec<Value>),
}

impl Versioned {
    /// `{OT}/{segment}/{name}/versions/{version}`, as the configured user.
    pub fn version_path(&self, target: &Target, version: &str) -> String {
        format!("{}/versions/{}", target.path(self.segment), seg(version))
    }

    /// The entity or version path the reader reads.
    fn read_path(&self, reader: &Reader, target: &Target, version: Option<&str>) -> String {
        let entity = reader.path(target, self.segment);
        match version {
            Some(v) => format!("{entity}/versions/{}", seg(v)),
            None => entity,
        }
    }

    pub async fn entity(&self, reader: &Reader, target: &Target) -> Result<Value> {
        let path = self.read_path(reader, target, None);
        let body = reader.get(&path, &[("resolve-labels", "false".into())]).await?;
        Ok(body.get(self.key).cloned().unwrap_or(Value::Null))
    }

    pub async fn version(&self, reader: &Reader, target: &Target, version: &str) -> Result<Value> {
        let body = reader.get(&self.read_path(reader, target, Some(version)), &[]).await?;
        Ok(body.get(self.version_key).cloned().unwrap_or(Value::Null))
    }

    pub async fn files(&self, reader: &Reader, target: &Target, version: &str) -> Result<Vec<Value>> {
        let path = format!("{}/files", self.read_path(reader, target, Some(version)));
        reader.get_all(&path, &[], self.files_key, PAGE_SIZE).await
    }

    /// `info <name>` or `info <name>:<version> [--files]`.
    pub async fn info(&self, reader: &Reader, target: &Target, files: bool) -> Result<Shown> {
        let Some(version) = &target.tag else {
            if files {
                bail!("--files needs a version: <org>/[<team>/]<name>:<version>.");
            }
            return Ok(Shown::Entity(self.entity(reader, target).await?));
        };
        let v = self.version(reader, target, version).await?;
        let files = if files {
            Some(self.files(reader, target, version).await?)
        } else {
            None
        };
        Ok(Shown::Version(v, files))
    }

    /// `list [PATTERN]`: entities when the name has a wildcard (searched for `wanted`), else the
    /// versions of the one entity.
    pub async fn list(&self, ctx: &Ctx, reader: &Reader, pattern: Option<&str>, wanted: Wanted) -> Result<Listing> {
        let pattern = Pattern::parse_or_everything(pattern)?;
        let matcher = pattern.matcher();
        if is_glob(&matcher) {
            if pattern.tag.is_some() {
                bail!(
                    "A version pattern cannot be used when the name contains a glob. \
                     Specify a concrete {} (e.g. org/team/name) to list versions.",
                    self.noun
                );
            }
            let search = Search {
                resource_type: self.search,
                matcher: &matcher,
                text: wanted.query.as_deref(),
                filters: wanted.filters,
            };
            let space = search_space(ctx, &pattern, reader.guest);
            let hits = search.run(reader, space).await?;
            return Ok(Listing::Entities(hits.iter().map(search_entity).collect()));
        }
        wanted.require_search()?;
        let target = Target::from_pattern(pattern, ctx)?;
        let path = format!("{}/versions", self.read_path(reader, &target, None));
        let query = [("sort-order", "SEMVER_DESC".to_string())];
        let mut versions = reader.get_all(&path, &query, self.versions_key, PAGE_SIZE).await?;
        if let Some(wanted) = &target.tag {
            versions.retain(|v| glob_match(wanted, &field(v, self.version_id)));
        }
        Ok(Listing::Versions(versions))
    }

    /// The names of every version of the entity, as the configured user.
    pub async fn version_names(&self, api: &Api, target: &Target) -> Result<Vec<String>> {
        let path = format!("{}/versions", target.path(self.segment));
        let versions = api.get_all_as(false, &path, &[], self.versions_key, PAGE_SIZE).await?;
        Ok(versions.iter().map(|v| field(v, self.version_id)).collect())
    }

    /// The version a download fetches: the target's, else the entity's latest. Refused unless
    /// its upload is complete.
    pub async fn complete_version(&self, reader: &Reader, target: &Target) -> Result<String> {
        let version = match &target.tag {
            Some(v) => v.clone(),
            None => {
                let latest = field(&self.entity(reader, target).await?, "latestVersionIdStr");
                if latest.is_empty() {
                    bail!("{} '{}' has no version to download.", self.title, target.full_name());
                }
                latest
            }
        };
        let status = field(&self.version(reader, target, &version).await?, "status");
        if status != "UPLOAD_COMPLETE" {
            bail!(
                "{} '{}:{version}' is not complete ({}); it cannot be downloaded yet.",
                self.title,
                target.full_name(),
                if status.is_empty() { "unknown status" } else { &status }
            );
        }
        Ok(version)
    }
}
