//! The catalog's search (migrations 0011 and 0012): an index entry per entity of every kind and its facet
//! values in the database, kept up to date from a queue that triggers fill, and searched in
//! this process's copy of them (`search_index`).
//!
//! Contract of [`MetaStore::search`]: it first brings stale entries up to date (database
//! triggers queue every entity whose rows changed); then it answers with the entries of one
//! kind that match the text or the `resourceId` glob and every filter, that lie in the asked
//! place, and that the viewer may see — and only those: the total, the page and every facet
//! count are over that set alone, so a hidden entity changes no number. Facet counts for a
//! field apply every filter but that field's own. Order is stable (ties broken by entry id).

use super::search_index::{Index, Query, Row as IndexRow, tokens};
use super::{MetaStore, now};
use crate::{Error, Result};
use futures::TryStreamExt;
use hangar_core::access::AccessLevel;
use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// The facet fields every entry may have, in the order they are reported.
pub const FACET_FIELDS: [&str; 13] = [
    "accessLevel",
    "productNames",
    "signed",
    "publisher",
    "labels",
    "application",
    "framework",
    "precision",
    "format",
    "architecture",
    "multinode",
    "industry",
    "language",
];

/// Where a viewer may list entities that are not offered beyond their org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateScope {
    pub org: String,
    /// `None`: the whole org; `Some(team)`: that team's entities only.
    pub team: Option<String>,
    /// `Some(path)`: that one entity only.
    pub entity: Option<String>,
}

/// Who is searching, as far as the index cares.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// Sees everything (platform administrators).
    pub everything: bool,
    /// The orgs whose live subscriptions count for the viewer.
    pub subscribing_orgs: Vec<String>,
    pub scopes: Vec<PrivateScope>,
}

/// Where to look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Everything the viewer may see.
    Catalog,
    /// One org (with a team: the org's own entities and the team's).
    Org { org: String, team: Option<String> },
    /// Product-gated entries of products the viewer's orgs subscribe to.
    Subscribed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best text match first (by path when there is no text).
    Relevance,
    Modified,
    Name,
    /// By `org/[team/]name`.
    #[default]
    Path,
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The entry kind: `CONTAINER`, `MODEL`, `RESOURCE`, `HELM_CHART` or `COLLECTION`.
    pub kind: String,
    /// Free text: every word must match (as a prefix), ranked.
    pub text: Option<String>,
    /// A `*`/`?` glob on `org/[team/]name`.
    pub resource_glob: Option<String>,
    /// Facet field and the values any of which it must have.
    pub filters: Vec<(String, Vec<String>)>,
    pub place: Place,
    pub viewer: Viewer,
    pub sort: Sort,
    pub page: i64,
    pub page_size: i64,
}

/// One entry of a result page.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchEntry {
    pub kind: String,
    pub resource_id: String,
    pub name: String,
    pub org: String,
    pub team: Option<String>,
    pub display_name: String,
    pub description: String,
    pub labels: Vec<String>,
    pub products: Vec<String>,
    pub access: AccessLevel,
    pub signed: bool,
    /// NGC's `attributes`: `[{key, value}]`.
    pub attributes: Value,
    pub created_at: i64,
    pub modified_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub field: String,
    /// Values by count, most first.
    pub values: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub total: i64,
    pub entries: Vec<SearchEntry>,
    pub facets: Vec<Facet>,
}

/// The search index of one process, the lock that lets one search at a time load changes, and
/// the turns searches take to ask the database.
pub(super) struct IndexCell {
    index: std::sync::RwLock<Index>,
    loading: tokio::sync::Mutex<()>,
    /// As many searches ask the database at once as there are cores, the rest wait their turn
    /// in order: a flood of searches neither takes the whole pool from other work nor leaves
    /// the OS to time-slice dozens of busy database backends (at 8 clients on 2 cores that
    /// tripled PostgreSQL's p99).
    asking: tokio::sync::Semaphore,
}

impl Default for IndexCell {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        IndexCell {
            index: Default::default(),
            loading: Default::default(),
            asking: tokio::sync::Semaphore::new(cores.clamp(2, 16)),
        }
    }
}

impl IndexCell {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What an entry holds, computed from the entity's rows.
struct Fresh {
    kind: &'static str,
    org_id: i64,
    team_id: Option<i64>,
    org_name: String,
    team_name: Option<String>,
    resource_id: String,
    name: String,
    display_name: String,
    description: String,
    publisher: String,
    labels: Vec<String>,
    access: String,
    signed: bool,
    attributes: Value,
    created_at: i64,
    modified_at: i64,
    facets: Vec<(&'static str, String)>,
}

/// A bound value of a built query.
enum Bind {
    Text(String),
    Int(i64),
}

/// A query being built: its SQL and its bound values, `$n` numbered in order.
#[derive(Default)]
struct Built {
    sql: String,
    binds: Vec<Bind>,
}

impl Built {
    fn text(&mut self, value: impl Into<String>) -> String {
        self.binds.push(Bind::Text(value.into()));
        format!("${}", self.binds.len())
    }

    fn int(&mut self, value: i64) -> String {
        self.binds.push(Bind::Int(value));
        format!("${}", self.binds.len())
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql.as_str()));
        for bind in &self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(n) => query.bind(*n),
            };
        }
        query
    }
}

/// Words of free text, letters and digits only (so no query syntax gets through).
fn words(text: &str) -> Vec<String> {
    tokens(text).take(8).collect()
}

fn text_of(metadata: &Value, field: &str) -> String {
    metadata
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl MetaStore {
    /// Refreshes up to `limit` stale entries; how many entities it refreshed.
    pub async fn catch_up_search(&self, limit: i64) -> Result<usize> {
        let rows = sqlx::query("SELECT seq, entity_kind, entity_id FROM catalog_stale ORDER BY seq LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut seqs = vec![];
        let mut entities = BTreeMap::new();
        for row in rows {
            let seq: i64 = row.try_get("seq")?;
            seqs.push(seq);
            let entity = (
                row.try_get::<String, _>("entity_kind")?,
                row.try_get::<i64, _>("entity_id")?,
            );
            entities.insert(entity, seq);
        }
        for ((kind, id), seq) in &entities {
            self.refresh_entry(kind, *id, *seq).await?;
        }
        for chunk in seqs.chunks(500) {
            let sql = format!(
                "DELETE FROM catalog_stale WHERE seq IN ({})",
                super::placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for seq in chunk {
                query = query.bind(*seq);
            }
            query.execute(&self.pool).await?;
        }
        Ok(entities.len())
    }

    /// Refreshes every stale entry.
    pub async fn catch_up_search_fully(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let done = self.catch_up_search(1000).await?;
            if done == 0 {
                return Ok(total);
            }
            total += done;
        }
    }

    /// Makes the entry of one entity match its rows (or removes it, the entity gone), as of
    /// queue entry `seq` or later. Two refreshes racing cannot leave the older state behind:
    /// an entry only takes a refresh that accounts for a newer queue entry than it already has.
    async fn refresh_entry(&self, entity_kind: &str, id: i64, seq: i64) -> Result<()> {
        // One refresh of an entity at a time, reading its rows under that lock, so the last one
        // to write read the newest rows: a deleted entity never comes back from a slower refresh
        // that read it before the delete. SQLite: the write lock from the start (a deferred
        // transaction that reads first fails at once when it must wait to write); PostgreSQL: a
        // lock per entity for the transaction.
        let mut tx = match self.backend {
            super::Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            super::Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || CAST($2 AS TEXT), 0))) l",
                )
                .bind(entity_kind)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx
            }
        };
        let fresh = if entity_kind == "repository" {
            self.repository_entry(&mut tx, id).await?
        } else {
            self.artifact_entry(&mut tx, id).await?
        };
        // The next catalog version, taken last so the counter's row lock is held briefly.
        let version: i64 =
            sqlx::query_scalar("UPDATE catalog_version SET version = version + 1 WHERE id = 1 RETURNING version")
                .fetch_one(&mut *tx)
                .await?;
        let Some(fresh) = fresh else {
            // The entry first, then its facets: rows locked in the same order as an update's.
            let gone: Option<i64> = sqlx::query_scalar(
                "DELETE FROM catalog_entries WHERE entity_kind = $1 AND entity_id = $2 RETURNING id",
            )
            .bind(entity_kind)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(entry) = gone {
                sqlx::query("DELETE FROM catalog_facets WHERE entry_id = $1")
                    .bind(entry)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO catalog_removed (entry_id, change_version) VALUES ($1, $2) \
                     ON CONFLICT (entry_id) DO UPDATE SET change_version = excluded.change_version",
                )
                .bind(entry)
                .bind(version)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            return Ok(());
        };
        let attributes = serde_json::to_string(&fresh.attributes).map_err(|e| Error::Invalid(e.to_string()))?;
        let entry_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO catalog_entries (entity_kind, entity_id, kind, org_id, team_id, org_name, team_name, \
             resource_id, name, display_name, description, publisher, labels, access_level, signed, attributes, \
             created_at, modified_at, indexed_seq, change_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
             ON CONFLICT (entity_kind, entity_id) DO UPDATE SET kind = excluded.kind, org_id = excluded.org_id, \
             team_id = excluded.team_id, org_name = excluded.org_name, team_name = excluded.team_name, \
             resource_id = excluded.resource_id, name = excluded.name, display_name = excluded.display_name, \
             description = excluded.description, publisher = excluded.publisher, labels = excluded.labels, \
             access_level = excluded.access_level, signed = excluded.signed, attributes = excluded.attributes, \
             created_at = excluded.created_at, modified_at = excluded.modified_at, \
             indexed_seq = excluded.indexed_seq, change_version = excluded.change_version WHERE catalog_entries.indexed_seq <= excluded.indexed_seq \
             RETURNING id",
        )
        .bind(entity_kind)
        .bind(id)
        .bind(fresh.kind)
        .bind(fresh.org_id)
        .bind(fresh.team_id)
        .bind(&fresh.org_name)
        .bind(&fresh.team_name)
        .bind(&fresh.resource_id)
        .bind(&fresh.name)
        .bind(&fresh.display_name)
        .bind(&fresh.description)
        .bind(&fresh.publisher)
        .bind(fresh.labels.join(" "))
        .bind(&fresh.access)
        .bind(i64::from(fresh.signed))
        .bind(attributes)
        .bind(fresh.created_at)
        .bind(fresh.modified_at)
        .bind(seq)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(entry_id) = entry_id else {
            return Ok(()); // a newer refresh got there first
        };
        sqlx::query("DELETE FROM catalog_facets WHERE entry_id = $1")
            .bind(entry_id)
            .execute(&mut *tx)
            .await?;
        let facets: BTreeSet<(&str, String)> = fresh
            .facets
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .collect();
        if !facets.is_empty() {
            let mut built = Built::default();
            let mut rows = vec![];
            for (field, value) in facets {
                let (e, f, v) = (built.int(entry_id), built.text(field), built.text(value));
                rows.push(format!("({e}, {f}, {v})"));
            }
            built.sql = format!(
                "INSERT INTO catalog_facets (entry_id, field, value) VALUES {}",
                rows.join(", ")
            );
            built.query().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What the entry of artifact `id` holds, read through `conn`; `None`: it is gone.
    async fn artifact_entry(&self, conn: &mut AnyConnection, id: i64) -> Result<Option<Fresh>> {
        let row = sqlx::query(
            "SELECT a.*, o.name AS org_name, t.name AS team_name FROM artifacts a \
             JOIN orgs o ON o.id = a.org_id LEFT JOIN teams t ON t.id = a.team_id WHERE a.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let artifact = super::artifacts::artifact_row(row.clone())?;
        let kind = match artifact.kind {
            super::ArtifactType::Model => "MODEL",
            super::ArtifactType::Resource => "RESOURCE",
            super::ArtifactType::Chart => "HELM_CHART",
            super::ArtifactType::Collection => "COLLECTION",
        };
        let latest = match &artifact.latest_version {
            Some(v) => super::artifacts::version_of(&mut *conn, artifact.id, v).await?,
            None => None,
        };
        let meta = &artifact.metadata;
        let labels: Vec<String> = meta
            .get("labelsV2")
            .or_else(|| meta.get("labels"))
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let framework = [text_of(meta, "framework"), text_of(meta, "trainingFramework")]
            .into_iter()
            .find(|f| !f.is_empty())
            .unwrap_or_default();
        let key = super::EntityKey {
            kind: super::HolderKind::Artifact(artifact.kind),
            id,
        };
        let products = super::entitlements::products_of(&mut *conn, key).await?;
        let signed_versions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM version_signatures s JOIN artifact_versions v ON v.id = s.version_id \
             WHERE v.artifact_id = $1",
        )
        .bind(artifact.id)
        .fetch_one(&mut *conn)
        .await?;
        let signed = signed_versions > 0;
        let mut facets: Vec<(&'static str, String)> = vec![
            ("accessLevel", artifact.access.word().to_string()),
            ("signed", signed.to_string()),
            ("publisher", text_of(meta, "publisher")),
            ("application", text_of(meta, "application")),
            ("framework", framework.clone()),
            ("precision", text_of(meta, "precision")),
            ("format", text_of(meta, "modelFormat")),
            ("industry", text_of(meta, "industry")),
            ("language", text_of(meta, "language")),
        ];
        facets.extend(labels.iter().map(|l| ("labels", l.clone())));
        facets.extend(products.iter().map(|p| ("productNames", p.clone())));
        let attributes = json!([
            {"key": "latestVersionIdStr", "value": artifact.latest_version},
            {"key": "latestVersionSizeInBytes", "value": latest.as_ref().map_or(0, |v| v.total_bytes)},
            {"key": "application", "value": meta.get("application")},
            {"key": "framework", "value": framework},
            {"key": "precision", "value": meta.get("precision")},
            {"key": "format", "value": meta.get("modelFormat")},
            {"key": "builtBy", "value": meta.get("builtBy")},
            {"key": "publisher", "value": meta.get("publisher")},
            {"key": "hasSignedVersion", "value": signed},
        ]);
        Ok(Some(Fresh {
            kind,
            org_id: artifact.org_id,
            team_id: artifact.team_id,
            org_name: row.try_get("org_name")?,
            team_name: row.try_get("team_name")?,
            resource_id: artifact.path.clone(),
            name: artifact.name.clone(),
            display_name: text_of(meta, "displayName"),
            description: text_of(meta, "shortDescription"),
            publisher: text_of(meta, "publisher"),
            labels,
            access: artifact.access.word().to_string(),
            signed,
            attributes,
            created_at: artifact.created_at,
            modified_at: artifact.updated_at,
            facets,
        }))
    }

    /// What the entry of repository `id` holds, read through `conn`; `None`: it is gone.
    async fn repository_entry(&self, conn: &mut AnyConnection, id: i64) -> Result<Option<Fresh>> {
        let row = sqlx::query(
            "SELECT r.*, o.name AS org_name, t.name AS team_name FROM repositories r \
             JOIN orgs o ON o.id = r.org_id LEFT JOIN teams t ON t.id = r.team_id WHERE r.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let repo = super::registry::repository_row(row.clone())?;
        // The latest tag: the one set, else the newest that is not a signature or attestation.
        let newest = sqlx::query(
            "SELECT t.name, t.updated_at, m.media_type, m.content FROM tags t \
             JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest \
             WHERE t.repository_id = $1 AND (t.name = $2 OR ($2 IS NULL AND t.name NOT LIKE 'sha256-%')) \
             ORDER BY t.updated_at DESC, m.id DESC, t.name LIMIT 1",
        )
        .bind(id)
        .bind(&repo.info.latest_tag)
        .fetch_optional(&mut *conn)
        .await?;
        let (latest_tag, tag_time, multi_arch, size) = match newest {
            Some(tag) => {
                let content: Vec<u8> = tag.try_get("content")?;
                let doc: Value = serde_json::from_slice(&content).unwrap_or_default();
                let media: String = tag.try_get("media_type")?;
                let multi_arch = doc.get("manifests").is_some();
                let size = self.image_size(id, &doc).await?;
                (
                    Some(tag.try_get::<String, _>("name")?),
                    tag.try_get::<i64, _>("updated_at")?,
                    multi_arch || media.contains("index") || media.contains("list"),
                    size,
                )
            }
            None => (None, 0, false, 0),
        };
        let signed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM image_signatures s JOIN manifests m \
                 ON m.repository_id = s.repository_id AND m.digest = s.signature_digest \
                 WHERE s.repository_id = $1 AND s.verified_by IS NOT NULL",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let signed = signed > 0;
        let key = super::EntityKey {
            kind: super::HolderKind::Repository,
            id,
        };
        let products = super::entitlements::products_of(&mut *conn, key).await?;
        let info = &repo.info;
        let mut facets: Vec<(&'static str, String)> = vec![
            ("accessLevel", info.access.word().to_string()),
            ("signed", signed.to_string()),
            ("publisher", info.publisher.clone()),
            ("multinode", info.is_multinode.to_string()),
            ("architecture", if multi_arch { "multi" } else { "single" }.to_string()),
        ];
        facets.extend(info.labels.iter().map(|l| ("labels", l.clone())));
        facets.extend(products.iter().map(|p| ("productNames", p.clone())));
        let name = repo.name.rsplit('/').next().unwrap_or_default().to_string();
        Ok(Some(Fresh {
            kind: "CONTAINER",
            org_id: repo.org_id,
            team_id: repo.team_id,
            org_name: row.try_get("org_name")?,
            team_name: row.try_get("team_name")?,
            resource_id: repo.name.clone(),
            name,
            display_name: info.display_name.clone(),
            description: info.short_description.clone(),
            publisher: info.publisher.clone(),
            labels: info.labels.clone(),
            access: info.access.word().to_string(),
            signed,
            attributes: json!([
                {"key": "latestTag", "value": latest_tag},
                {"key": "size", "value": size},
                {"key": "hasSignedTag", "value": signed},
                {"key": "isMultiArchitecture", "value": multi_arch},
            ]),
            created_at: repo.created_at,
            modified_at: repo.updated_at.max(tag_time),
            facets,
        }))
    }

    /// An image's size as NGC shows it: its config and layers; an index's, its first
    /// platform image's (build attestations, platform `unknown`, are not platforms).
    async fn image_size(&self, repository_id: i64, doc: &Value) -> Result<i64> {
        let sum = |doc: &Value| {
            let config = doc["config"]["size"].as_i64().unwrap_or(0);
            let layers: i64 = doc["layers"]
                .as_array()
                .map_or(0, |l| l.iter().filter_map(|l| l["size"].as_i64()).sum());
            config + layers
        };
        let Some(children) = doc.get("manifests").and_then(Value::as_array) else {
            return Ok(sum(doc));
        };
        let Some(first) = children
            .iter()
            .find(|c| c["platform"]["os"].as_str().is_some_and(|os| os != "unknown"))
            .and_then(|c| c["digest"].as_str())
        else {
            return Ok(0);
        };
        let content: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT content FROM manifests WHERE repository_id = $1 AND digest = $2")
                .bind(repository_id)
                .bind(first)
                .fetch_optional(&self.pool)
                .await?;
        Ok(content
            .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
            .map_or(0, |child| sum(&child)))
    }

    /// Searches the catalog; see the module's contract. One database round trip when nothing
    /// changed since the last search: the catalog version and the viewer's live products.
    pub async fn search(&self, request: &SearchRequest) -> Result<SearchPage> {
        let (current, subscribed) = {
            // Never closed, so a permit always comes.
            let _turn = self.search_index.asking.acquire().await.ok();
            self.search_state(&request.viewer.subscribing_orgs).await?
        };
        self.load_search_index(current).await?;
        let words = request.text.as_deref().map(words).unwrap_or_default();
        let size = request.page_size.clamp(1, 1000);
        let offset = request.page.max(0).saturating_mul(size);
        let query = Query {
            kind: &request.kind,
            words: &words,
            glob: request.resource_glob.as_deref().filter(|g| !g.is_empty() && *g != "*"),
            filters: &request.filters,
            place: &request.place,
            viewer: &request.viewer,
            subscribed: &subscribed,
            sort: request.sort,
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            limit: size as usize,
        };
        let answer = self.search_index.read().search(&query);
        Ok(SearchPage {
            total: answer.total as i64,
            entries: answer.entries,
            facets: answer.facets,
        })
    }

    /// Brings search up to date — every stale entry refreshed and this process's copy of the
    /// index loaded — and answers how many entries the copy holds.
    pub async fn prepare_search(&self) -> Result<usize> {
        self.catch_up_search_fully().await?;
        let (current, _) = self.search_state(&[]).await?;
        self.load_search_index(current).await?;
        Ok(self.search_index.read().len())
    }

    /// The catalog version (after refreshing the stale entries if there are any) and the
    /// products that `orgs` have live subscriptions to, in one query.
    async fn search_state(&self, orgs: &[String]) -> Result<(i64, Vec<String>)> {
        let mut sql = String::from(
            "SELECT version, CAST(CASE WHEN EXISTS (SELECT 1 FROM catalog_stale) THEN 1 ELSE 0 END AS BIGINT) \
             AS stale, CAST(NULL AS TEXT) AS product FROM catalog_version WHERE id = 1",
        );
        if !orgs.is_empty() {
            sql.push_str(&format!(
                " UNION ALL SELECT DISTINCT CAST(0 AS BIGINT), CAST(0 AS BIGINT), p.name FROM subscriptions s \
                 JOIN orgs o ON o.id = s.org_id JOIN products p ON p.id = s.product_id \
                 WHERE (s.expires_at IS NULL OR s.expires_at > $1) AND o.name IN ({})",
                super::placeholders(2, orgs.len())
            ));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if !orgs.is_empty() {
            query = query.bind(now());
            for org in orgs {
                query = query.bind(org.as_str());
            }
        }
        let (mut version, mut stale, mut products) = (0, false, vec![]);
        for row in query.fetch_all(&self.pool).await? {
            match row.try_get::<Option<String>, _>("product")? {
                Some(product) => products.push(product),
                None => {
                    version = row.try_get("version")?;
                    stale = row.try_get::<i64, _>("stale")? != 0;
                }
            }
        }
        if stale {
            self.catch_up_search(2000).await?;
            version = sqlx::query_scalar("SELECT version FROM catalog_version WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        }
        Ok((version, products))
    }

    /// Brings this process's search index up to `current` at least: the entries written and
    /// removed since the version it holds, read in one snapshot, a batch of entries at a time.
    async fn load_search_index(&self, current: i64) -> Result<()> {
        if current <= self.search_index.read().version {
            return Ok(());
        }
        let _loading = self.search_index.loading.lock().await;
        let since = self.search_index.read().version;
        if current <= since {
            return Ok(()); // another search loaded it meanwhile
        }
        let mut tx = self.pool.begin().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let version: i64 = sqlx::query_scalar("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, kind, org_name, team_name, resource_id, name, display_name, description, publisher, \
                 labels, access_level, signed, attributes, created_at, modified_at FROM catalog_entries \
                 WHERE change_version > $1 AND id > $2 ORDER BY id LIMIT 2000",
            )
            .bind(since)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            let last: i64 = last.try_get("id")?;
            let mut facets: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
            let mut found = sqlx::query(
                "SELECT f.entry_id, f.field, f.value FROM catalog_facets f \
                 JOIN catalog_entries e ON e.id = f.entry_id \
                 WHERE f.entry_id > $1 AND f.entry_id <= $2 AND e.change_version > $3",
            )
            .bind(after)
            .bind(last)
            .bind(since)
            .fetch(&mut *tx);
            while let Some(row) = found.try_next().await? {
                facets
                    .entry(row.try_get("entry_id")?)
                    .or_default()
                    .push((row.try_get("field")?, row.try_get("value")?));
            }
            drop(found);
            let mut written = Vec::with_capacity(rows.len());
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let access: String = row.try_get("access_level")?;
                let attributes: String = row.try_get("attributes")?;
                serde_json::from_str::<Value>(&attributes)
                    .map_err(|e| Error::Invalid(format!("stored attributes of entry {id}: {e}")))?;
                written.push(IndexRow {
                    id,
                    kind: row.try_get("kind")?,
                    org: row.try_get("org_name")?,
                    team: row.try_get("team_name")?,
                    resource_id: row.try_get("resource_id")?,
                    name: row.try_get("name")?,
                    display_name: row.try_get("display_name")?,
                    description: row.try_get("description")?,
                    publisher: row.try_get("publisher")?,
                    labels: row.try_get("labels")?,
                    access: AccessLevel::parse(&access)
                        .ok_or_else(|| Error::Invalid(format!("stored access level '{access}'")))?,
                    signed: row.try_get::<i64, _>("signed")? != 0,
                    attributes,
                    created_at: row.try_get("created_at")?,
                    modified_at: row.try_get("modified_at")?,
                    facets: facets.remove(&id).unwrap_or_default(),
                });
            }
            self.search_index.write().write(written);
            after = last;
        }
        let removed: Vec<i64> = if since > 0 {
            sqlx::query_scalar("SELECT entry_id FROM catalog_removed WHERE change_version > $1")
                .bind(since)
                .fetch_all(&mut *tx)
                .await?
        } else {
            vec![]
        };
        tx.commit().await?;
        self.search_index.write().finish(&removed, version);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_free_text() {
        assert_eq!(words("Speech-to-text \"x\" OR*"), ["speech", "to", "text", "x", "or"]);
    }
}
