//! Models, resources, Helm charts and collections: entities with catalog metadata, and their
//! versions.

use super::{EntityKey, HolderKind};
use super::{MetaStore, conflict, now};
use crate::{Error, Result};
use hangar_core::access::AccessLevel;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Which kind of versioned file set an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactType {
    Model,
    Resource,
    Chart,
    /// A curated group of entities (its items are in `collection_items`; it has no versions).
    Collection,
}

impl ArtifactType {
    pub const ALL: [ArtifactType; 4] = [
        ArtifactType::Model,
        ArtifactType::Resource,
        ArtifactType::Chart,
        ArtifactType::Collection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactType::Model => "model",
            ArtifactType::Resource => "resource",
            ArtifactType::Chart => "chart",
            ArtifactType::Collection => "collection",
        }
    }

    pub(super) fn parse(word: &str) -> Result<Self> {
        ArtifactType::ALL
            .into_iter()
            .find(|t| t.as_str() == word)
            .ok_or_else(|| Error::Invalid(format!("stored artifact kind '{word}'")))
    }
}

pub const UPLOAD_PENDING: &str = "UPLOAD_PENDING";
pub const UPLOAD_COMPLETE: &str = "UPLOAD_COMPLETE";

#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub id: i64,
    pub kind: ArtifactType,
    pub org_id: i64,
    pub team_id: Option<i64>,
    /// `org/[team/]name`.
    pub path: String,
    pub name: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub access: AccessLevel,
    pub latest_version: Option<String>,
    /// The NGC fields shown as they were given (a JSON object).
    pub metadata: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactVersion {
    pub id: i64,
    pub artifact_id: i64,
    pub version: String,
    pub status: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub metadata: Value,
    pub file_count: i64,
    pub total_bytes: i64,
}

/// What a new entity is.
pub struct NewArtifact<'a> {
    pub kind: ArtifactType,
    pub org_id: i64,
    pub team_id: Option<i64>,
    pub path: &'a str,
    pub name: &'a str,
    pub created_by: Option<i64>,
    pub metadata: &'a Value,
}

pub(super) fn json_text(value: &Value) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Invalid(e.to_string()))
}

/// An entity's `access_level` column.
pub(super) fn access_column(row: &AnyRow) -> Result<AccessLevel> {
    let word: String = row.try_get("access_level")?;
    AccessLevel::parse(&word).ok_or_else(|| Error::Invalid(format!("stored access level '{word}'")))
}

pub(super) fn json_column(row: &AnyRow, column: &str) -> Result<Value> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| Error::Invalid(format!("stored {column}: {e}")))
}

pub(super) fn artifact_row(row: AnyRow) -> Result<Artifact> {
    let kind: String = row.try_get("kind")?;
    Ok(Artifact {
        id: row.try_get("id")?,
        kind: ArtifactType::parse(&kind)?,
        org_id: row.try_get("org_id")?,
        team_id: row.try_get("team_id")?,
        path: row.try_get("path")?,
        name: row.try_get("name")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        access: access_column(&row)?,
        latest_version: row.try_get("latest_version")?,
        metadata: json_column(&row, "metadata")?,
    })
}

/// Versions with the count and total size of their files. A chart version's files are those
/// inside its archive, and its size is the archive's.
pub(super) const VERSIONS: &str = "SELECT v.*, \
     (SELECT COUNT(*) FROM artifact_files f WHERE f.version_id = v.id) \
     + (SELECT COUNT(*) FROM chart_files c WHERE c.version_id = v.id) AS file_count, \
     CAST((SELECT COALESCE(SUM(f.size), 0) FROM artifact_files f WHERE f.version_id = v.id) \
     + (SELECT COALESCE(SUM(c.size), 0) FROM chart_archives c WHERE c.version_id = v.id) AS BIGINT) AS total_bytes \
     FROM artifact_versions v";

/// One version of an artifact, read through `executor`.
pub(super) async fn version_of<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    artifact_id: i64,
    version: &str,
) -> Result<Option<ArtifactVersion>> {
    let sql = format!("{VERSIONS} WHERE v.artifact_id = $1 AND v.version = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(artifact_id)
        .bind(version)
        .fetch_optional(executor)
        .await?;
    row.map(version_row).transpose()
}

pub(super) fn version_row(row: AnyRow) -> Result<ArtifactVersion> {
    Ok(ArtifactVersion {
        id: row.try_get("id")?,
        artifact_id: row.try_get("artifact_id")?,
        version: row.try_get("version")?,
        status: row.try_get("status")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        metadata: json_column(&row, "metadata")?,
        file_count: row.try_get("file_count")?,
        total_bytes: row.try_get("total_bytes")?,
    })
}

impl MetaStore {
    /// Creates an entity; `Conflict` when one of that kind and path exists.
    pub async fn create_artifact(&self, new: &NewArtifact<'_>) -> Result<Artifact> {
        let at = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO artifacts (kind, org_id, team_id, path, name, created_by, created_at, updated_at, metadata) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
        )
        .bind(new.kind.as_str())
        .bind(new.org_id)
        .bind(new.team_id)
        .bind(new.path)
        .bind(new.name)
        .bind(new.created_by)
        .bind(at)
        .bind(json_text(new.metadata)?)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(format!("{} '{}' already exists", new.kind.as_str(), new.path)))?;
        self.artifact_by_id(id)
            .await?
            .ok_or_else(|| Error::NotFound(new.path.to_string()))
    }

    pub async fn artifact_by_id(&self, id: i64) -> Result<Option<Artifact>> {
        let row = sqlx::query("SELECT * FROM artifacts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(artifact_row).transpose()
    }

    pub async fn artifact(&self, kind: ArtifactType, path: &str) -> Result<Option<Artifact>> {
        let row = sqlx::query("SELECT * FROM artifacts WHERE kind = $1 AND path = $2")
            .bind(kind.as_str())
            .bind(path)
            .fetch_optional(&self.pool)
            .await?;
        row.map(artifact_row).transpose()
    }

    /// Entities of an org: all of them (`team: None`), only the org-level ones
    /// (`Some(None)`), or one team's (`Some(Some(id))`).
    pub async fn artifacts_of(
        &self,
        kind: ArtifactType,
        org_id: i64,
        team: Option<Option<i64>>,
    ) -> Result<Vec<Artifact>> {
        let rows = sqlx::query(
            "SELECT * FROM artifacts WHERE kind = $1 AND org_id = $2 \
             AND ($3 = 0 OR ($4 IS NULL AND team_id IS NULL) OR team_id = $4) ORDER BY path",
        )
        .bind(kind.as_str())
        .bind(org_id)
        .bind(i64::from(team.is_some()))
        .bind(team.flatten())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(artifact_row).collect()
    }

    /// Entities of every org that are offered beyond their org (any level but private).
    pub async fn public_artifacts(&self, kind: ArtifactType) -> Result<Vec<Artifact>> {
        let rows = sqlx::query("SELECT * FROM artifacts WHERE kind = $1 AND access_level <> 'PRIVATE' ORDER BY path")
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(artifact_row).collect()
    }

    pub async fn update_artifact(&self, id: i64, metadata: &Value, access: AccessLevel) -> Result<()> {
        sqlx::query("UPDATE artifacts SET metadata = $1, access_level = $2, updated_at = $3 WHERE id = $4")
            .bind(json_text(metadata)?)
            .bind(access.word())
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes an entity with its versions and their file lists (the bytes go with GC).
    pub async fn delete_artifact(&self, id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // A write first: on SQLite a transaction that reads first cannot wait for another
        // writer (such as a search refreshing its index) and fails at once.
        let kind: Option<String> = sqlx::query_scalar("DELETE FROM artifacts WHERE id = $1 RETURNING kind")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(kind) = kind {
            let entity = EntityKey {
                kind: HolderKind::Artifact(ArtifactType::parse(&kind)?),
                id,
            };
            super::entitlements::forget_entity(&mut tx, entity).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates a version, `UPLOAD_PENDING`; `Conflict` when it exists.
    pub async fn create_version(
        &self,
        artifact: &Artifact,
        version: &str,
        created_by: Option<i64>,
        metadata: &Value,
    ) -> Result<ArtifactVersion> {
        let at = now();
        sqlx::query(
            "INSERT INTO artifact_versions (artifact_id, version, status, created_by, created_at, updated_at, metadata) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(artifact.id)
        .bind(version)
        .bind(UPLOAD_PENDING)
        .bind(created_by)
        .bind(at)
        .bind(json_text(metadata)?)
        .execute(&self.pool)
        .await
        .map_err(conflict(format!("version '{version}' of '{}' already exists", artifact.path)))?;
        self.version(artifact.id, version)
            .await?
            .ok_or_else(|| Error::NotFound(version.to_string()))
    }

    pub async fn version(&self, artifact_id: i64, version: &str) -> Result<Option<ArtifactVersion>> {
        version_of(&self.pool, artifact_id, version).await
    }

    pub async fn version_by_id(&self, id: i64) -> Result<Option<ArtifactVersion>> {
        let sql = format!("{VERSIONS} WHERE v.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(version_row).transpose()
    }

    /// Every version of an entity, oldest first.
    pub async fn versions(&self, artifact_id: i64) -> Result<Vec<ArtifactVersion>> {
        let sql = format!("{VERSIONS} WHERE v.artifact_id = $1 ORDER BY v.created_at, v.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(artifact_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(version_row).collect()
    }

    pub async fn update_version(&self, id: i64, metadata: &Value) -> Result<()> {
        sqlx::query("UPDATE artifact_versions SET metadata = $1, updated_at = $2 WHERE id = $3")
            .bind(json_text(metadata)?)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a version complete and makes it the entity's latest.
    pub async fn complete_version(&self, artifact: &Artifact, version: &ArtifactVersion) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE artifact_versions SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(UPLOAD_COMPLETE)
            .bind(now())
            .bind(version.id)
            .execute(&mut *tx)
            .await?;
        // Its files are committed: what it received while pending is no longer needed.
        sqlx::query("DELETE FROM received_files WHERE version_id = $1")
            .bind(version.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE artifacts SET latest_version = $1, updated_at = $2 WHERE id = $3")
            .bind(&version.version)
            .bind(now())
            .bind(artifact.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a complete version the entity's latest; `NotFound` for any other.
    pub async fn set_latest_version(&self, artifact_id: i64, version: &str) -> Result<()> {
        let set = sqlx::query(
            "UPDATE artifacts SET latest_version = $1 WHERE id = $2 AND EXISTS \
             (SELECT 1 FROM artifact_versions WHERE artifact_id = $2 AND version = $1 AND status = $3)",
        )
        .bind(version)
        .bind(artifact_id)
        .bind(UPLOAD_COMPLETE)
        .execute(&self.pool)
        .await?;
        if set.rows_affected() == 0 {
            return Err(Error::NotFound(format!("no complete version '{version}'")));
        }
        Ok(())
    }

    /// Removes a version; if it was the latest, the most recent other complete version becomes
    /// the latest.
    pub async fn delete_version(&self, artifact: &Artifact, version: &ArtifactVersion) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // First, so that changes to this entity's versions take turns (row lock).
        sqlx::query("UPDATE artifacts SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(artifact.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM artifact_versions WHERE id = $1")
            .bind(version.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE artifacts SET updated_at = $1, latest_version = (SELECT v.version FROM artifact_versions v \
             WHERE v.artifact_id = $2 AND v.status = $3 ORDER BY v.updated_at DESC, v.id DESC LIMIT 1) \
             WHERE id = $2 AND latest_version = $4",
        )
        .bind(now())
        .bind(artifact.id)
        .bind(UPLOAD_COMPLETE)
        .bind(&version.version)
        .execute(&mut *tx)
        .await?;
        if artifact.kind == ArtifactType::Chart {
            super::charts::rebuild_chart_index(&mut tx, artifact.id).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
