//! The files of model and resource versions, and the multipart uploads that bring them.

use super::gc::claim_blobs;
use super::{MetaStore, now};
use crate::{Error, Result};
use sqlx::Row;
use sqlx::any::AnyRow;

/// One file of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFile {
    pub path: String,
    pub digest: String,
    pub size: i64,
}

/// A multipart upload of one file of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpload {
    pub id: String,
    pub version_id: i64,
    pub path: String,
    pub size: i64,
    pub digest: String,
    pub part_size: i64,
    /// The parts received so far: (1-based part number, blob digest, size).
    pub parts: Vec<(i64, String, i64)>,
    /// The assembly attempt putting the parts together, if one claimed it, and when it last
    /// renewed its claim (Unix seconds).
    pub assembler: Option<(String, i64)>,
}

impl FileUpload {
    /// How many parts the file has (an empty file has one, empty).
    pub fn part_count(&self) -> i64 {
        ((self.size + self.part_size - 1) / self.part_size).max(1)
    }

    /// The first part not here at its size; none: the upload can be completed.
    pub fn missing_part(&self) -> Option<i64> {
        (1..=self.part_count()).find(|n| {
            !self
                .parts
                .iter()
                .any(|(p, _, size)| p == n && *size == self.part_len(*n))
        })
    }

    /// The size part `n` (1-based) must have.
    pub fn part_len(&self, n: i64) -> i64 {
        (self.size - (n - 1) * self.part_size).clamp(0, self.part_size)
    }
}

/// How one commit changes a version's files.
pub enum FileChange {
    /// Adds or replaces the file at a path with a stored blob.
    Add(VersionFile),
    Remove(String),
}

fn file_row(row: AnyRow) -> Result<VersionFile> {
    Ok(VersionFile {
        path: row.try_get("path")?,
        digest: row.try_get("digest")?,
        size: row.try_get("size")?,
    })
}

impl MetaStore {
    /// The files of a version, by path.
    pub async fn version_files(&self, version_id: i64) -> Result<Vec<VersionFile>> {
        let rows = sqlx::query("SELECT path, digest, size FROM artifact_files WHERE version_id = $1 ORDER BY path")
            .bind(version_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(file_row).collect()
    }

    /// Applies `changes` to a version's files in one transaction; added files claim their blobs
    /// from garbage collection first ([`Error::Collected`] if one is being deleted).
    pub async fn commit_files(&self, version_id: i64, changes: &[FileChange]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let added: Vec<&str> = changes
            .iter()
            .filter_map(|c| match c {
                FileChange::Add(f) => Some(f.digest.as_str()),
                FileChange::Remove(_) => None,
            })
            .collect();
        claim_blobs(&mut tx, &added).await?;
        for change in changes {
            let path = match change {
                FileChange::Add(f) => &f.path,
                FileChange::Remove(path) => path,
            };
            sqlx::query("DELETE FROM artifact_files WHERE version_id = $1 AND path = $2")
                .bind(version_id)
                .bind(path)
                .execute(&mut *tx)
                .await?;
            if let FileChange::Add(f) = change {
                sqlx::query("INSERT INTO artifact_files (version_id, path, digest, size) VALUES ($1, $2, $3, $4)")
                    .bind(version_id)
                    .bind(&f.path)
                    .bind(&f.digest)
                    .bind(f.size)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE artifact_versions SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(version_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Copies the file list of version `from` into version `to` (a base version: no bytes move).
    pub async fn copy_files(&self, from: i64, to: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO artifact_files (version_id, path, digest, size) \
             SELECT $1, path, digest, size FROM artifact_files WHERE version_id = $2 \
             ON CONFLICT (version_id, path) DO NOTHING",
        )
        .bind(to)
        .bind(from)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the org's models or resources hold a file with this digest already (so storing it
    /// again costs the org nothing).
    pub async fn org_stores_file(&self, org_id: i64, digest: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id \
             JOIN artifacts a ON a.id = v.artifact_id WHERE f.digest = $1 AND a.org_id = $2 LIMIT 1",
        )
        .bind(digest)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// The bytes an org's models and resources hold, each distinct file counted once (as stored).
    pub async fn org_artifact_bytes(&self, org_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM (SELECT DISTINCT f.digest, f.size \
             FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id \
             JOIN artifacts a ON a.id = v.artifact_id WHERE a.org_id = $1) AS stored",
        )
        .bind(org_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The upload of `path` in a version, started if there is none (or if the file announced
    /// differs from the one being uploaded, which then starts over).
    pub async fn file_upload(
        &self,
        version_id: i64,
        path: &str,
        size: i64,
        digest: &str,
        part_size: i64,
    ) -> Result<FileUpload> {
        if let Some(existing) = self.file_upload_at(version_id, path).await? {
            if existing.size == size && existing.digest == digest && existing.part_size == part_size {
                return Ok(existing);
            }
            self.delete_file_upload(&existing.id).await?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let at = now();
        sqlx::query(
            "INSERT INTO file_uploads (id, version_id, path, size, digest, part_size, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (version_id, path) DO NOTHING",
        )
        .bind(&id)
        .bind(version_id)
        .bind(path)
        .bind(size)
        .bind(digest)
        .bind(part_size)
        .bind(at)
        .execute(&self.pool)
        .await?;
        // Whoever inserted first, that upload is the one.
        self.file_upload_at(version_id, path)
            .await?
            .ok_or_else(|| Error::NotFound(path.to_string()))
    }

    /// The open upload of `path` in a version, if any.
    pub async fn file_upload_at(&self, version_id: i64, path: &str) -> Result<Option<FileUpload>> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM file_uploads WHERE version_id = $1 AND path = $2")
            .bind(version_id)
            .bind(path)
            .fetch_optional(&self.pool)
            .await?;
        match id {
            Some(id) => self.file_upload_by_id(&id).await,
            None => Ok(None),
        }
    }

    pub async fn file_upload_by_id(&self, id: &str) -> Result<Option<FileUpload>> {
        let Some(row) = sqlx::query("SELECT * FROM file_uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let parts = sqlx::query("SELECT part, digest, size FROM file_upload_parts WHERE upload_id = $1 ORDER BY part")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| Ok((r.try_get("part")?, r.try_get("digest")?, r.try_get("size")?)))
            .collect::<Result<Vec<_>>>()?;
        let assembler: Option<String> = row.try_get("assembler")?;
        let seen: Option<i64> = row.try_get("assembler_seen")?;
        Ok(Some(FileUpload {
            id: row.try_get("id")?,
            version_id: row.try_get("version_id")?,
            path: row.try_get("path")?,
            size: row.try_get("size")?,
            digest: row.try_get("digest")?,
            part_size: row.try_get("part_size")?,
            parts,
            assembler: assembler.map(|a| (a, seen.unwrap_or(0))),
        }))
    }

    /// Records a received part (a stored blob), replacing an earlier copy of it; claims the
    /// blob from garbage collection.
    pub async fn add_file_part(&self, upload_id: &str, part: i64, digest: &str, size: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        claim_blobs(&mut tx, &[digest]).await?;
        sqlx::query("DELETE FROM file_upload_parts WHERE upload_id = $1 AND part = $2")
            .bind(upload_id)
            .bind(part)
            .execute(&mut *tx)
            .await?;
        let added = sqlx::query(
            "INSERT INTO file_upload_parts (upload_id, part, digest, size) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM file_uploads WHERE id = $1)",
        )
        .bind(upload_id)
        .bind(part)
        .bind(digest)
        .bind(size)
        .execute(&mut *tx)
        .await?;
        if added.rows_affected() == 0 {
            return Err(Error::NotFound(format!("upload '{upload_id}'")));
        }
        sqlx::query("UPDATE file_uploads SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(upload_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the parts received for an upload (their blobs are left to garbage collection):
    /// they must all come again.
    pub async fn clear_file_parts(&self, upload_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM file_upload_parts WHERE upload_id = $1")
            .bind(upload_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_file_upload(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM file_uploads WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Claims the assembly of an upload for `holder`: when nobody has claimed it, when the last
    /// claim was not renewed since `stale_before` (its server died), or when `holder` has it.
    /// `false` when a live assembly of someone else's runs, or the upload is gone.
    pub async fn claim_assembly(&self, upload_id: &str, holder: &str, stale_before: i64) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE file_uploads SET assembler = $2, assembler_seen = $3 WHERE id = $1 \
             AND (assembler IS NULL OR assembler = $2 OR assembler_seen < $4)",
        )
        .bind(upload_id)
        .bind(holder)
        .bind(now())
        .bind(stale_before)
        .execute(&self.pool)
        .await?;
        Ok(claimed.rows_affected() > 0)
    }

    /// Gives up `holder`'s claim on an upload's assembly (it failed; another may try).
    pub async fn release_assembly(&self, upload_id: &str, holder: &str) -> Result<()> {
        sqlx::query("UPDATE file_uploads SET assembler = NULL, assembler_seen = NULL WHERE id = $1 AND assembler = $2")
            .bind(upload_id)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends an upload whose file `holder` put together and stored: the version has received
    /// that file (its blob claimed from garbage collection), and the upload is gone, in one
    /// transaction. `NotFound` when `holder` no longer had the upload (it was replaced, expired,
    /// or taken over): then nothing changes.
    pub async fn file_assembled(&self, upload: &FileUpload, holder: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        claim_blobs(&mut tx, &[upload.digest.as_str()]).await?;
        let gone = sqlx::query("DELETE FROM file_uploads WHERE id = $1 AND assembler = $2")
            .bind(&upload.id)
            .bind(holder)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound(format!("upload '{}'", upload.id)));
        }
        sqlx::query(
            "INSERT INTO received_files (version_id, digest, size, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (version_id, digest) DO NOTHING",
        )
        .bind(upload.version_id)
        .bind(&upload.digest)
        .bind(upload.size)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The size of the file `digest` if the version received it through an upload.
    pub async fn received_file(&self, version_id: i64, digest: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT size FROM received_files WHERE version_id = $1 AND digest = $2")
                .bind(version_id)
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
