//! Helm chart versions: the archive each one is, the files inside it, and each chart's part of
//! its repository index.

use super::artifacts::{VERSIONS, json_text, version_row};
use super::gc::claim_blobs;
use super::{MetaStore, conflict, now};
use crate::{Error, Result};
use hangar_core::versions::{latest_first, latest_release_first};
use sqlx::{Any, Row, Transaction};

/// What a pushed archive holds, as checked and read by the server.
pub struct NewChartVersion<'a> {
    pub version: &'a str,
    pub created_by: Option<i64>,
    /// `sha256:<hex>` of the archive, already in the blob store.
    pub digest: &'a str,
    pub size: i64,
    /// The version's index entry as JSON, and as YAML (one list item).
    pub entry: &'a serde_json::Value,
    pub entry_yaml: &'a str,
    pub files: &'a [ChartFile],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    pub path: String,
    pub size: i64,
}

/// The archive of a chart version.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartArchive {
    pub digest: String,
    pub size: i64,
    pub entry: serde_json::Value,
}

/// One chart of a space's repository index: its complete versions' entries, newest first.
#[derive(Debug, Clone)]
pub struct IndexedChart {
    /// `org/[team/]name` of the chart.
    pub path: String,
    pub name: String,
    pub id: i64,
    pub access: hangar_core::access::AccessLevel,
    pub versions: i64,
    pub entries_yaml: String,
}

/// Puts a chart's part of the repository index together again from its versions' entries, and
/// makes its newest release the latest (a pre-release only when there is nothing else), in the
/// transaction that changed them (which holds the chart's row, so concurrent pushes to one chart
/// take turns).
pub(super) async fn rebuild_chart_index(tx: &mut Transaction<'_, Any>, artifact_id: i64) -> Result<()> {
    let rows = sqlx::query(
        "SELECT v.version, c.entry_yaml FROM chart_archives c JOIN artifact_versions v ON v.id = c.version_id \
         WHERE v.artifact_id = $1 AND v.status = $2",
    )
    .bind(artifact_id)
    .bind(super::UPLOAD_COMPLETE)
    .fetch_all(&mut **tx)
    .await?;
    let mut entries = rows
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<String, _>("version")?,
                row.try_get::<String, _>("entry_yaml")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    entries.sort_by(|a, b| latest_first(&a.0, &b.0));
    let yaml: String = entries.iter().map(|(_, entry)| entry.as_str()).collect();
    let latest = entries
        .iter()
        .map(|(version, _)| version)
        .min_by(|a, b| latest_release_first(a, b));
    sqlx::query("UPDATE artifacts SET latest_version = $1 WHERE id = $2")
        .bind(latest)
        .bind(artifact_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO chart_indexes (artifact_id, versions, entries_yaml) VALUES ($1, $2, $3) \
         ON CONFLICT (artifact_id) DO UPDATE SET versions = excluded.versions, entries_yaml = excluded.entries_yaml",
    )
    .bind(artifact_id)
    .bind(entries.len() as i64)
    .bind(yaml)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rows per INSERT of a version's file list.
const FILES_PER_INSERT: usize = 200;

impl MetaStore {
    /// Records a complete chart version from its archive, in one transaction: the version, the
    /// archive (claimed from garbage collection first), its files, the chart's index and latest.
    /// `Conflict` when the version exists.
    pub async fn create_chart_version(
        &self,
        artifact: &super::Artifact,
        new: &NewChartVersion<'_>,
    ) -> Result<super::ArtifactVersion> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        claim_blobs(&mut tx, &[new.digest]).await?;
        // First, so that concurrent pushes to this chart wait for each other (row lock).
        sqlx::query("UPDATE artifacts SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(artifact.id)
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO artifact_versions (artifact_id, version, status, created_by, created_at, updated_at, metadata) \
             VALUES ($1, $2, $3, $4, $5, $5, '{}') RETURNING id",
        )
        .bind(artifact.id)
        .bind(new.version)
        .bind(super::UPLOAD_COMPLETE)
        .bind(new.created_by)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict(format!(
            "version '{}' of '{}' already exists",
            new.version, artifact.path
        )))?;
        sqlx::query(
            "INSERT INTO chart_archives (version_id, digest, size, entry, entry_yaml) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(new.digest)
        .bind(new.size)
        .bind(json_text(new.entry)?)
        .bind(new.entry_yaml)
        .execute(&mut *tx)
        .await?;
        for batch in new.files.chunks(FILES_PER_INSERT) {
            let rows: Vec<String> = (0..batch.len())
                .map(|i| format!("($1, ${}, ${})", 2 + 2 * i, 3 + 2 * i))
                .collect();
            let sql = format!(
                "INSERT INTO chart_files (version_id, path, size) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
            for file in batch {
                query = query.bind(&file.path).bind(file.size);
            }
            query.execute(&mut *tx).await?;
        }
        rebuild_chart_index(&mut tx, artifact.id).await?;
        tx.commit().await?;
        self.version(artifact.id, new.version)
            .await?
            .ok_or_else(|| Error::NotFound(new.version.to_string()))
    }

    /// The archive of a chart version, if it has one.
    pub async fn chart_archive(&self, version_id: i64) -> Result<Option<ChartArchive>> {
        let row = sqlx::query("SELECT digest, size, entry FROM chart_archives WHERE version_id = $1")
            .bind(version_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(ChartArchive {
                digest: row.try_get("digest")?,
                size: row.try_get("size")?,
                entry: super::artifacts::json_column(&row, "entry")?,
            })
        })
        .transpose()
    }

    /// The files inside a chart version's archive, by path.
    pub async fn chart_files(&self, version_id: i64) -> Result<Vec<ChartFile>> {
        let rows = sqlx::query("SELECT path, size FROM chart_files WHERE version_id = $1 ORDER BY path")
            .bind(version_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(ChartFile {
                    path: row.try_get("path")?,
                    size: row.try_get("size")?,
                })
            })
            .collect()
    }

    /// The charts of one space that have complete versions, by name: the org's own charts
    /// (`team: None`) or one team's.
    pub async fn chart_index(&self, org_id: i64, team: Option<i64>) -> Result<Vec<IndexedChart>> {
        let rows = sqlx::query(
            "SELECT a.id, a.path, a.name, a.access_level, i.versions, i.entries_yaml FROM chart_indexes i \
             JOIN artifacts a ON a.id = i.artifact_id \
             WHERE a.kind = 'chart' AND a.org_id = $1 AND (($2 IS NULL AND a.team_id IS NULL) OR a.team_id = $2) \
             AND i.versions > 0 ORDER BY a.name",
        )
        .bind(org_id)
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(IndexedChart {
                    path: row.try_get("path")?,
                    name: row.try_get("name")?,
                    id: row.try_get("id")?,
                    access: super::artifacts::access_column(&row)?,
                    versions: row.try_get("versions")?,
                    entries_yaml: row.try_get("entries_yaml")?,
                })
            })
            .collect()
    }

    /// The complete versions of a chart with their archives' entries, for ChartMuseum's API.
    pub async fn chart_entries(&self, artifact_id: i64) -> Result<Vec<(super::ArtifactVersion, ChartArchive)>> {
        let sql = format!(
            "SELECT x.*, c.digest, c.size, c.entry FROM ({VERSIONS} WHERE v.artifact_id = $1 AND v.status = $2) x \
             JOIN chart_archives c ON c.version_id = x.id ORDER BY x.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(artifact_id)
            .bind(super::UPLOAD_COMPLETE)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                let archive = ChartArchive {
                    digest: row.try_get("digest")?,
                    size: row.try_get("size")?,
                    entry: super::artifacts::json_column(&row, "entry")?,
                };
                Ok((version_row(row)?, archive))
            })
            .collect()
    }
}
