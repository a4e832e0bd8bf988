//! The catalog's search (migration 0011): an index entry per entity of every kind, its facet
//! values, free text (SQLite FTS5, PostgreSQL tsvector), and what a viewer may see, all in SQL.
//!
//! Contract of [`MetaStore::search`]: it first brings stale entries up to date (database
//! triggers queue every entity whose rows changed); then it answers with the entries of one
//! kind that match the text or the `resourceId` glob and every filter, that lie in the asked
//! place, and that the viewer may see — and only those: the total, the page and every facet
//! count are over that set alone, so a hidden entity changes no number. Facet counts for a
//! field apply every filter but that field's own. Order is stable (ties broken by entry id).

use super::{MetaStore, now};
use crate::{Error, Result};
use hangar_core::access::AccessLevel;
use serde_json::{Value, json};
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;
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
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// A `*`/`?` glob as a LIKE pattern with `\` escapes.
fn like_pattern(glob: &str) -> String {
    let mut out = String::new();
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out
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
            }
            tx.commit().await?;
            return Ok(());
        };
        let attributes = serde_json::to_string(&fresh.attributes).map_err(|e| Error::Invalid(e.to_string()))?;
        let entry_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO catalog_entries (entity_kind, entity_id, kind, org_id, team_id, org_name, team_name, \
             resource_id, name, display_name, description, publisher, labels, access_level, signed, attributes, \
             created_at, modified_at, indexed_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (entity_kind, entity_id) DO UPDATE SET kind = excluded.kind, org_id = excluded.org_id, \
             team_id = excluded.team_id, org_name = excluded.org_name, team_name = excluded.team_name, \
             resource_id = excluded.resource_id, name = excluded.name, display_name = excluded.display_name, \
             description = excluded.description, publisher = excluded.publisher, labels = excluded.labels, \
             access_level = excluded.access_level, signed = excluded.signed, attributes = excluded.attributes, \
             created_at = excluded.created_at, modified_at = excluded.modified_at, \
             indexed_seq = excluded.indexed_seq WHERE catalog_entries.indexed_seq <= excluded.indexed_seq \
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
        let mut facets: Vec<(&'static str, String)> = vec![
            ("accessLevel", artifact.access.word().to_string()),
            ("signed", "false".into()),
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
            signed: false,
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
        let signed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM tags WHERE repository_id = $1 AND name LIKE 'sha256-%.sig'")
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

    /// Searches the catalog; see the module's contract.
    pub async fn search(&self, request: &SearchRequest) -> Result<SearchPage> {
        self.catch_up_search(2000).await?;
        let mut built = Built::default();
        let (from, rank) = self.matching(request, &mut built);
        // Every filter as a 0/1 column of the candidates: the entry has one of its values.
        let filters: Vec<(String, String)> = request
            .filters
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(field, values)| {
                let field_bind = built.text(field.as_str());
                let values: Vec<String> = values.iter().map(|v| built.text(v.as_str())).collect();
                let values = values.join(", ");
                // The access level is a column of the entry itself: no facet row to look up.
                let exists = if field == "accessLevel" {
                    format!("CASE WHEN e.access_level IN ({values}) THEN 1 ELSE 0 END")
                } else {
                    format!(
                        "CASE WHEN EXISTS (SELECT 1 FROM catalog_facets g WHERE g.entry_id = e.id \
                         AND g.field = {field_bind} AND g.value IN ({values})) THEN 1 ELSE 0 END"
                    )
                };
                (field_bind, exists)
            })
            .collect();
        let n = filters.len();
        let flags: String = filters
            .iter()
            .enumerate()
            .map(|(i, (_, exists))| format!(", {exists} AS p{i}"))
            .collect();
        let passed = if n == 0 {
            "0".to_string()
        } else {
            (0..n).map(|i| format!("c.p{i}")).collect::<Vec<_>>().join(" + ")
        };
        // Facets: each field's counts under every filter but its own. Entries passing every
        // filter count for every field; entries failing exactly one filter count only for that
        // filter's field (read through the (entry, field) index); the rest count for nothing.
        let mut facet_parts = vec![format!(
            "SELECT f.field, f.value FROM c CROSS JOIN catalog_facets f WHERE f.entry_id = c.id AND {passed} = {n}"
        )];
        for (i, (field, _)) in filters.iter().enumerate() {
            facet_parts.push(format!(
                "SELECT f.field, f.value FROM c CROSS JOIN catalog_facets f \
                 WHERE f.entry_id = c.id AND f.field = {field} AND c.p{i} = 0 AND {passed} = {}",
                n - 1
            ));
        }
        let facet_rows = facet_parts.join(" UNION ALL ");
        let order = match request.sort {
            Sort::Relevance if rank != "0" => "c.rank DESC, c.id",
            Sort::Modified => "c.modified_at DESC, c.id",
            Sort::Name => "c.name, c.id",
            _ => "c.resource_id, c.id",
        };
        let size = request.page_size.clamp(1, 1000);
        let limit = built.int(size);
        let offset = built.int(request.page.max(0).saturating_mul(size));
        built.sql = format!(
            "WITH c AS MATERIALIZED (SELECT e.id, e.name, e.resource_id, e.modified_at, {rank} AS rank{flags} \
               FROM {from}) \
             SELECT 'total' AS part, '' AS field, '' AS value, COUNT(*) AS n, 0 AS id, 0 AS position \
               FROM c WHERE {passed} = {n} \
             UNION ALL \
             SELECT 'facet', x.field, x.value, COUNT(*), 0, 0 FROM ({facet_rows}) x GROUP BY x.field, x.value \
             UNION ALL \
             SELECT 'page', '', '', 0, p.id, p.position FROM ( \
               SELECT c.id, ROW_NUMBER() OVER (ORDER BY {order}) AS position FROM c WHERE {passed} = {n} \
               ORDER BY {order} LIMIT {limit} OFFSET {offset}) p"
        );
        let rows = built.query().fetch_all(&self.pool).await?;
        let mut total = 0;
        let mut page: Vec<(i64, i64)> = vec![];
        let mut counts: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        for row in rows {
            let part: String = row.try_get("part")?;
            match part.as_str() {
                "total" => total = row.try_get("n")?,
                "facet" => counts
                    .entry(row.try_get("field")?)
                    .or_default()
                    .push((row.try_get("value")?, row.try_get("n")?)),
                _ => page.push((row.try_get("position")?, row.try_get("id")?)),
            }
        }
        page.sort();
        let facets = FACET_FIELDS
            .iter()
            .filter_map(|field| {
                let mut values = counts.remove(*field)?;
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Some(Facet {
                    field: field.to_string(),
                    values,
                })
            })
            .collect();
        let ids: Vec<i64> = page.into_iter().map(|(_, id)| id).collect();
        Ok(SearchPage {
            total,
            entries: self.entries(&ids).await?,
            facets,
        })
    }

    /// The `FROM … WHERE` of the entries matching the text or glob, the kind, the place and
    /// the viewer, and the rank expression.
    fn matching(&self, request: &SearchRequest, built: &mut Built) -> (String, String) {
        let mut conditions = vec![format!("e.kind = {}", built.text(request.kind.as_str()))];
        let mut from = "catalog_entries e".to_string();
        let mut rank = "0".to_string();
        let words = request.text.as_deref().map(words).unwrap_or_default();
        if !words.is_empty() {
            match self.backend {
                super::Backend::Sqlite => {
                    let terms: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
                    let kind = request.kind.to_lowercase();
                    let query = built.text(format!("kind : \"{kind}\" AND ({})", terms.join(" ")));
                    // CROSS JOIN keeps SQLite's planner from looping over every entry of the
                    // kind and matching the text once per entry: the matches drive.
                    from = format!(
                        "(SELECT rowid AS hit, bm25(catalog_text, 0.0, 10.0, 8.0, 2.0, 4.0, 4.0) AS score \
                         FROM catalog_text WHERE catalog_text MATCH {query}) t CROSS JOIN catalog_entries e"
                    );
                    conditions.push("e.id = t.hit".into());
                    rank = "-t.score".into();
                }
                super::Backend::Postgres => {
                    let query: Vec<String> = words.iter().map(|w| format!("{w}:*")).collect();
                    let query = built.text(query.join(" & "));
                    conditions.push(format!("e.document @@ to_tsquery('simple', {query})"));
                    rank = format!("ts_rank(e.document, to_tsquery('simple', {query}))");
                }
            }
        }
        if let Some(glob) = request.resource_glob.as_deref().filter(|g| !g.is_empty() && *g != "*") {
            let pattern = built.text(like_pattern(glob));
            conditions.push(format!("e.resource_id LIKE {pattern} ESCAPE '\\'"));
        }
        match &request.place {
            Place::Catalog => {}
            Place::Org { org, team } => {
                conditions.push(format!("e.org_name = {}", built.text(org.as_str())));
                if let Some(team) = team {
                    let team = built.text(team.as_str());
                    conditions.push(format!("(e.team_name IS NULL OR e.team_name = {team})"));
                }
            }
            Place::Subscribed => {
                conditions.push("e.access_level IN ('ENTITLED', 'EXCLUSIVE')".into());
                conditions.push(self.subscribed_condition(&request.viewer, built));
            }
        }
        if !request.viewer.everything {
            conditions.push(self.visible_condition(&request.viewer, built));
        }
        (format!("{from} WHERE {}", conditions.join(" AND ")), rank)
    }

    /// The entry belongs to a product one of the viewer's orgs has a live subscription to.
    fn subscribed_condition(&self, viewer: &Viewer, built: &mut Built) -> String {
        if viewer.subscribing_orgs.is_empty() {
            return "1 = 0".into();
        }
        let orgs: Vec<String> = viewer.subscribing_orgs.iter().map(|o| built.text(o.as_str())).collect();
        let now = built.int(now());
        format!(
            "EXISTS (SELECT 1 FROM entity_products p JOIN subscriptions s ON s.product_id = p.product_id \
             JOIN orgs o ON o.id = s.org_id WHERE p.entity_kind = e.entity_kind AND p.entity_id = e.entity_id \
             AND (s.expires_at IS NULL OR s.expires_at > {now}) AND o.name IN ({}))",
            orgs.join(", ")
        )
    }

    /// What the viewer may see: listed levels, exclusive ones it subscribes to, and its scopes.
    fn visible_condition(&self, viewer: &Viewer, built: &mut Built) -> String {
        let mut any = vec!["e.access_level IN ('GUEST', 'AUTHENTICATED', 'ENTITLED', 'APPROVAL')".to_string()];
        let subscribed = self.subscribed_condition(viewer, built);
        any.push(format!("(e.access_level = 'EXCLUSIVE' AND {subscribed})"));
        for scope in &viewer.scopes {
            let mut all = vec![format!("e.org_name = {}", built.text(scope.org.as_str()))];
            if let Some(team) = &scope.team {
                all.push(format!("e.team_name = {}", built.text(team.as_str())));
            }
            if let Some(entity) = &scope.entity {
                all.push(format!("e.resource_id = {}", built.text(entity.as_str())));
            }
            any.push(format!("({})", all.join(" AND ")));
        }
        format!("({})", any.join(" OR "))
    }

    /// The entries `ids`, in that order.
    async fn entries(&self, ids: &[i64]) -> Result<Vec<SearchEntry>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = super::placeholders(1, ids.len());
        let mut entries = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, kind, resource_id, name, org_name, team_name, display_name, description, access_level, \
             signed, attributes, created_at, modified_at FROM catalog_entries WHERE id IN ({list})"
        )));
        let mut facets = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT entry_id, field, value FROM catalog_facets WHERE entry_id IN ({list}) \
             AND field IN ('labels', 'productNames') ORDER BY value"
        )));
        for id in ids {
            entries = entries.bind(*id);
            facets = facets.bind(*id);
        }
        let mut lists: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
        for row in facets.fetch_all(&self.pool).await? {
            lists
                .entry((row.try_get("entry_id")?, row.try_get("field")?))
                .or_default()
                .push(row.try_get("value")?);
        }
        let mut by_id = BTreeMap::new();
        for row in entries.fetch_all(&self.pool).await? {
            let id: i64 = row.try_get("id")?;
            by_id.insert(id, entry_row(&row, &mut lists, id)?);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }
}

fn entry_row(row: &AnyRow, lists: &mut BTreeMap<(i64, String), Vec<String>>, id: i64) -> Result<SearchEntry> {
    let access: String = row.try_get("access_level")?;
    let attributes: String = row.try_get("attributes")?;
    Ok(SearchEntry {
        kind: row.try_get("kind")?,
        resource_id: row.try_get("resource_id")?,
        name: row.try_get("name")?,
        org: row.try_get("org_name")?,
        team: row.try_get("team_name")?,
        display_name: row.try_get("display_name")?,
        description: row.try_get("description")?,
        labels: lists.remove(&(id, "labels".into())).unwrap_or_default(),
        products: lists.remove(&(id, "productNames".into())).unwrap_or_default(),
        access: AccessLevel::parse(&access).ok_or_else(|| Error::Invalid(format!("stored access level '{access}'")))?,
        signed: row.try_get::<i64, _>("signed")? != 0,
        attributes: serde_json::from_str(&attributes).map_err(|e| Error::Invalid(format!("stored attributes: {e}")))?,
        created_at: row.try_get("created_at")?,
        modified_at: row.try_get("modified_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_globs() {
        assert_eq!(words("Speech-to-text \"x\" OR*"), ["speech", "to", "text", "x", "or"]);
        assert_eq!(like_pattern("acme/*_v?"), "acme/%\\_v_");
    }
}
