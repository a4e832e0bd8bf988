//! What the catalog shows about container repositories: their metadata, their tags with the
//! manifests behind them, and removing tags and whole repositories.

use super::registry::{Manifest, Repository, manifest_row, repository_row};
use super::{MetaStore, now};
use crate::{Error, Result};
use hangar_core::access::AccessLevel;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A repository's catalog metadata (NGC's repository fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepositoryInfo {
    pub display_name: String,
    pub short_description: String,
    /// The overview, markdown.
    pub description: String,
    pub labels: Vec<String>,
    pub logo: String,
    pub publisher: String,
    pub built_by: String,
    pub access: AccessLevel,
    pub is_multinode: bool,
    /// The tag set as latest; `None`: the most recently pushed tag is.
    pub latest_tag: Option<String>,
}

pub(super) fn repository_info(row: &AnyRow) -> Result<RepositoryInfo> {
    let labels: String = row.try_get("labels")?;
    Ok(RepositoryInfo {
        display_name: row.try_get("display_name")?,
        short_description: row.try_get("short_description")?,
        description: row.try_get("description")?,
        labels: serde_json::from_str(&labels).map_err(|e| Error::Invalid(format!("stored labels: {e}")))?,
        logo: row.try_get("logo")?,
        publisher: row.try_get("publisher")?,
        built_by: row.try_get("built_by")?,
        access: super::artifacts::access_column(row)?,
        is_multinode: row.try_get::<i64, _>("is_multinode")? != 0,
        latest_tag: row.try_get("latest_tag")?,
    })
}

/// A tag and the manifest it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedManifest {
    pub tag: String,
    pub updated_at: i64,
    pub manifest: Manifest,
}

impl MetaStore {
    /// Replaces a repository's metadata (except the latest tag, see [`MetaStore::set_latest_tag`]).
    pub async fn update_repository_info(&self, repository_id: i64, info: &RepositoryInfo) -> Result<()> {
        let labels = serde_json::to_string(&info.labels).map_err(|e| Error::Invalid(e.to_string()))?;
        sqlx::query(
            "UPDATE repositories SET display_name = $1, short_description = $2, description = $3, labels = $4, \
             logo = $5, publisher = $6, built_by = $7, access_level = $8, is_multinode = $9, updated_at = $10 \
             WHERE id = $11",
        )
        .bind(&info.display_name)
        .bind(&info.short_description)
        .bind(&info.description)
        .bind(labels)
        .bind(&info.logo)
        .bind(&info.publisher)
        .bind(&info.built_by)
        .bind(info.access.word())
        .bind(i64::from(info.is_multinode))
        .bind(now())
        .bind(repository_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Makes `tag` the repository's latest; `NotFound` when there is no such tag.
    pub async fn set_latest_tag(&self, repository_id: i64, tag: &str) -> Result<()> {
        let set = sqlx::query(
            "UPDATE repositories SET latest_tag = $1 WHERE id = $2 \
             AND EXISTS (SELECT 1 FROM tags WHERE repository_id = $2 AND name = $1)",
        )
        .bind(tag)
        .bind(repository_id)
        .execute(&self.pool)
        .await?;
        if set.rows_affected() == 0 {
            return Err(Error::NotFound(format!("tag '{tag}'")));
        }
        Ok(())
    }

    /// The repositories of an org (of one team with `Some(team)`; org-level ones with
    /// `Some(None)`; all with `None`), by name.
    pub async fn repositories_of(&self, org_id: i64, team_id: Option<Option<i64>>) -> Result<Vec<Repository>> {
        let rows = match team_id {
            None => {
                sqlx::query("SELECT * FROM repositories WHERE org_id = $1 ORDER BY name")
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(None) => {
                sqlx::query("SELECT * FROM repositories WHERE org_id = $1 AND team_id IS NULL ORDER BY name")
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(Some(team)) => {
                sqlx::query("SELECT * FROM repositories WHERE org_id = $1 AND team_id = $2 ORDER BY name")
                    .bind(org_id)
                    .bind(team)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter().map(repository_row).collect()
    }

    /// Public repositories of every org, by name.
    pub async fn public_repositories(&self) -> Result<Vec<Repository>> {
        let rows = sqlx::query("SELECT * FROM repositories WHERE access_level <> 'PRIVATE' ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(repository_row).collect()
    }

    /// The repository's tags with their manifests, most recently updated first.
    pub async fn tagged_manifests(&self, repository_id: i64) -> Result<Vec<TaggedManifest>> {
        let rows = sqlx::query(
            "SELECT t.name AS tag, t.updated_at AS tag_updated_at, m.* FROM tags t \
             JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest \
             WHERE t.repository_id = $1 ORDER BY t.updated_at DESC, m.id DESC, t.name",
        )
        .bind(repository_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(TaggedManifest {
                    tag: row.try_get("tag")?,
                    updated_at: row.try_get("tag_updated_at")?,
                    manifest: manifest_row(row)?,
                })
            })
            .collect()
    }

    /// Manifests of the repository with these digests (an index's children), in no order.
    pub async fn manifests_by_digest(&self, repository_id: i64, digests: &[&str]) -> Result<Vec<Manifest>> {
        let mut found = Vec::with_capacity(digests.len());
        for digest in digests {
            found.extend(self.manifest(repository_id, digest).await?);
        }
        Ok(found)
    }

    /// Removes a tag, and the manifest it pointed at when nothing else in the repository needs
    /// it (no other tag, no index that lists it). `NotFound` when there is no such tag.
    pub async fn remove_image(&self, repository_id: i64, tag: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let digest: Option<String> =
            sqlx::query_scalar("DELETE FROM tags WHERE repository_id = $1 AND name = $2 RETURNING digest")
                .bind(repository_id)
                .bind(tag)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(digest) = digest else {
            return Err(Error::NotFound(format!("tag '{tag}'")));
        };
        let unused = "repository_id = $1 AND digest = $2 \
             AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = $1 AND t.digest = $2) \
             AND NOT EXISTS (SELECT 1 FROM manifest_references r JOIN manifests p ON p.id = r.manifest_id \
                             WHERE p.repository_id = $1 AND r.digest = $2 AND r.kind = 'manifest')";
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM manifest_references WHERE manifest_id IN (SELECT id FROM manifests WHERE {unused})"
        )))
        .bind(repository_id)
        .bind(&digest)
        .execute(&mut *tx)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM manifests WHERE {unused}")))
            .bind(repository_id)
            .bind(&digest)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE repositories SET latest_tag = NULL, updated_at = $3 WHERE id = $1 AND latest_tag = $2")
            .bind(repository_id)
            .bind(tag)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a repository with its tags, manifests, links and upload sessions (their blobs are
    /// left to garbage collection).
    pub async fn delete_repository(&self, repository_id: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // Children first: a SQLite database without enforced foreign keys must not keep them.
        for sql in [
            "DELETE FROM manifest_references WHERE manifest_id IN (SELECT id FROM manifests WHERE repository_id = $1)",
            "DELETE FROM tags WHERE repository_id = $1",
            "DELETE FROM manifests WHERE repository_id = $1",
            "DELETE FROM repository_blobs WHERE repository_id = $1",
            "DELETE FROM upload_chunks WHERE upload_id IN (SELECT id FROM uploads WHERE repository_id = $1)",
            "DELETE FROM uploads WHERE repository_id = $1",
        ] {
            sqlx::query(sql).bind(repository_id).execute(&mut *tx).await?;
        }
        let entity = super::EntityKey {
            kind: super::HolderKind::Repository,
            id: repository_id,
        };
        super::entitlements::forget_entity(&mut tx, entity).await?;
        let gone = sqlx::query("DELETE FROM repositories WHERE id = $1")
            .bind(repository_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(gone.rows_affected() > 0)
    }
}
