//! The container registry's metadata: repositories, linked blobs, manifests, tags, uploads.

use super::catalog::{RepositoryInfo, repository_info};
use super::gc::claim_blobs;
use super::{MetaStore, conflict, now};
use crate::{Error, Result};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub id: i64,
    pub org_id: i64,
    pub team_id: Option<i64>,
    /// The full name, `org/[team/]repo`.
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub info: RepositoryInfo,
}

/// A stored manifest, with its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub subject: Option<String>,
    /// The manifest's `annotations` object as JSON text.
    pub annotations: Option<String>,
    pub content: Vec<u8>,
    pub created_at: i64,
}

/// What a manifest refers to: a blob (config, layer) or another manifest (an index's child).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference<'a> {
    /// A blob linked into the manifest's repository: it holds the bytes against garbage
    /// collection.
    Blob(&'a str),
    /// A layer of a sparse manifest, not (yet) in the repository. It holds nothing — naming a
    /// digest claims no bytes — until the blob is linked into the repository, which makes it a
    /// `Blob` reference in the same transaction.
    Absent(&'a str),
    Manifest(&'a str),
}

#[derive(Debug, Clone)]
pub struct NewManifest<'a> {
    pub digest: &'a str,
    pub media_type: &'a str,
    pub artifact_type: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub annotations: Option<String>,
    pub content: &'a [u8],
    pub references: Vec<Reference<'a>>,
}

/// A chunked upload: its repository and its chunks so far, in order (digest, size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    pub repository_id: i64,
    pub chunks: Vec<(String, i64)>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Upload {
    pub fn size(&self) -> i64 {
        self.chunks.iter().map(|(_, size)| size).sum()
    }
}

pub(super) fn repository_row(row: AnyRow) -> Result<Repository> {
    Ok(Repository {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        team_id: row.try_get("team_id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        info: repository_info(&row)?,
    })
}

pub(super) fn manifest_row(row: AnyRow) -> Result<Manifest> {
    Ok(Manifest {
        digest: row.try_get("digest")?,
        media_type: row.try_get("media_type")?,
        artifact_type: row.try_get("artifact_type")?,
        subject: row.try_get("subject")?,
        annotations: row.try_get("annotations")?,
        content: row.try_get("content")?,
        created_at: row.try_get("created_at")?,
    })
}

async fn linked_size<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    repository_id: i64,
    digest: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT size FROM repository_blobs WHERE repository_id = $1 AND digest = $2")
            .bind(repository_id)
            .bind(digest)
            .fetch_optional(db)
            .await?,
    )
}

impl MetaStore {
    pub async fn repository(&self, name: &str) -> Result<Option<Repository>> {
        let row = sqlx::query("SELECT * FROM repositories WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(repository_row).transpose()
    }

    /// The repository, created on first use.
    pub async fn ensure_repository(&self, org_id: i64, team_id: Option<i64>, name: &str) -> Result<Repository> {
        if let Some(repo) = self.repository(name).await? {
            return Ok(repo);
        }
        let t = now();
        let inserted = sqlx::query(
            "INSERT INTO repositories (org_id, team_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(org_id)
        .bind(team_id)
        .bind(name)
        .bind(t)
        .execute(&self.pool)
        .await;
        inserted.map_err(conflict(format!("repository '{name}'")))?;
        self.repository(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("repository '{name}'")))
    }

    /// Repository names after `last`, in order, that hold at least one manifest.
    pub async fn repository_names(&self, after: &str, limit: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT r.name FROM repositories r WHERE r.name > $1 \
             AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) ORDER BY r.name LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Links a stored blob into the repository (a link made again is renewed). Claims the blob
    /// from garbage collection first: `Error::Collected` when a pass is deleting it. A pass that
    /// finished deleting it before the claim left nothing to claim, so `still_stored` (awaited
    /// after the claim, inside the transaction) looks in the blob store: when the blob is gone,
    /// `Error::Collected` too, and nothing changes — a link that another push made with bytes it
    /// stored again stays as it was.
    pub async fn link_blob(
        &self,
        repository_id: i64,
        digest: &str,
        size: i64,
        still_stored: impl Future<Output = Result<bool>>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        claim_blobs(&mut tx, &[digest]).await?;
        if !still_stored.await? {
            return Err(Error::Collected(digest.to_string()));
        }
        sqlx::query(
            "INSERT INTO repository_blobs (repository_id, digest, size, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = excluded.created_at",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(size)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE manifest_references SET kind = 'blob' WHERE kind = 'absent' AND digest = $2 \
             AND manifest_id IN (SELECT id FROM manifests WHERE repository_id = $1)",
        )
        .bind(repository_id)
        .bind(digest)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The size of a blob linked into the repository. Whoever finds it may rely on it next (a
    /// push that finds a layer by HEAD skips its upload and sends the manifest), so a link to a
    /// blob that garbage collection has noted unreferenced is renewed, claiming the blob as a new
    /// link does; `None` when a pass is deleting the blob or has deleted it.
    pub async fn linked_blob(&self, repository_id: i64, digest: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT b.size, c.first_seen FROM repository_blobs b LEFT JOIN gc_candidates c ON c.digest = b.digest \
             WHERE b.repository_id = $1 AND b.digest = $2",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<Option<i64>, _>("first_seen")?.is_none() {
            return Ok(Some(row.try_get("size")?));
        }
        let mut tx = self.pool.begin().await?;
        match claim_blobs(&mut tx, &[digest]).await {
            Err(Error::Collected(_)) => return Ok(None),
            claimed => claimed?,
        }
        // The pass that marks a blob removes its links in the same transaction: a link still
        // here after the claim is to bytes that stay.
        let size = sqlx::query_scalar(
            "UPDATE repository_blobs SET created_at = $3 WHERE repository_id = $1 AND digest = $2 RETURNING size",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(size)
    }

    pub async fn unlink_blob(&self, repository_id: i64, digest: &str) -> Result<bool> {
        let gone = sqlx::query("DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2")
            .bind(repository_id)
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(gone.rows_affected() > 0)
    }

    /// Names of the repositories a blob is linked into (for cross-repository mounts).
    pub async fn repositories_with_blob(&self, digest: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT r.name, b.size FROM repository_blobs b JOIN repositories r ON r.id = b.repository_id \
             WHERE b.digest = $1 ORDER BY r.name LIMIT 100",
        )
        .bind(digest)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| Ok((row.try_get("name")?, row.try_get("size")?)))
            .collect()
    }

    pub async fn create_upload(&self, repository_id: i64) -> Result<Upload> {
        let id = uuid::Uuid::new_v4().to_string();
        let t = now();
        sqlx::query("INSERT INTO uploads (id, repository_id, created_at, updated_at) VALUES ($1, $2, $3, $3)")
            .bind(&id)
            .bind(repository_id)
            .bind(t)
            .execute(&self.pool)
            .await?;
        Ok(Upload {
            id,
            repository_id,
            chunks: vec![],
            created_at: t,
            updated_at: t,
        })
    }

    pub async fn upload(&self, id: &str) -> Result<Option<Upload>> {
        let Some(row) = sqlx::query("SELECT * FROM uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let chunks = sqlx::query("SELECT digest, size FROM upload_chunks WHERE upload_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| Ok((r.try_get("digest")?, r.try_get("size")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Upload {
            id: row.try_get("id")?,
            repository_id: row.try_get("repository_id")?,
            chunks,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    /// Appends a chunk (a stored blob) as number `seq`; `Conflict` when another request appended
    /// it first, `Collected` when garbage collection is deleting that blob.
    pub async fn add_upload_chunk(&self, id: &str, seq: i64, digest: &str, size: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        claim_blobs(&mut tx, &[digest]).await?;
        sqlx::query("INSERT INTO upload_chunks (upload_id, seq, digest, size) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(seq)
            .bind(digest)
            .bind(size)
            .execute(&mut *tx)
            .await
            .map_err(conflict("upload chunk"))?;
        sqlx::query("UPDATE uploads SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_upload(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM upload_chunks WHERE upload_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(gone.rows_affected() > 0)
    }

    /// Stores a manifest (once per digest) with what it refers to and points `tags` at it — in
    /// one transaction, which claims the manifest's blobs from garbage collection and checks
    /// that they are linked into the repository (`NotFound` names the first that is not).
    pub async fn put_manifest(&self, repository_id: i64, m: &NewManifest<'_>, tags: &[&str]) -> Result<()> {
        let t = now();
        let mut blobs: Vec<&str> = m
            .references
            .iter()
            .filter_map(|r| match r {
                Reference::Blob(d) => Some(*d),
                Reference::Absent(_) | Reference::Manifest(_) => None,
            })
            .collect();
        blobs.sort_unstable();
        blobs.dedup();
        let mut tx = self.pool.begin().await?;
        claim_blobs(&mut tx, &blobs).await?;
        for digest in &blobs {
            if linked_size(&mut *tx, repository_id, digest).await?.is_none() {
                return Err(Error::NotFound(format!("blob {digest}")));
            }
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, annotations, content, \
             size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(repository_id)
        .bind(m.digest)
        .bind(m.media_type)
        .bind(m.artifact_type)
        .bind(m.subject)
        .bind(m.annotations.as_deref())
        .bind(m.content)
        .bind(m.content.len() as i64)
        .bind(t)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            for reference in &m.references {
                let (digest, kind) = match reference {
                    Reference::Blob(d) => (d, "blob"),
                    Reference::Absent(d) => (d, "absent"),
                    Reference::Manifest(d) => (d, "manifest"),
                };
                sqlx::query("INSERT INTO manifest_references (manifest_id, digest, kind) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(*digest)
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for tag in tags {
            sqlx::query(
                "INSERT INTO tags (repository_id, name, digest, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
            )
            .bind(repository_id)
            .bind(tag)
            .bind(m.digest)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE repositories SET updated_at = $1 WHERE id = $2")
            .bind(t)
            .bind(repository_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn manifest(&self, repository_id: i64, digest: &str) -> Result<Option<Manifest>> {
        let row = sqlx::query("SELECT * FROM manifests WHERE repository_id = $1 AND digest = $2")
            .bind(repository_id)
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        row.map(manifest_row).transpose()
    }

    /// The manifest a tag points at.
    pub async fn tagged_manifest(&self, repository_id: i64, tag: &str) -> Result<Option<Manifest>> {
        let row = sqlx::query(
            "SELECT m.* FROM tags t JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest \
             WHERE t.repository_id = $1 AND t.name = $2",
        )
        .bind(repository_id)
        .bind(tag)
        .fetch_optional(&self.pool)
        .await?;
        row.map(manifest_row).transpose()
    }

    /// Deletes a manifest and the tags that point at it.
    pub async fn delete_manifest(&self, repository_id: i64, digest: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tags WHERE repository_id = $1 AND digest = $2")
            .bind(repository_id)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM manifest_references WHERE manifest_id IN \
             (SELECT id FROM manifests WHERE repository_id = $1 AND digest = $2)",
        )
        .bind(repository_id)
        .bind(digest)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query("DELETE FROM manifests WHERE repository_id = $1 AND digest = $2")
            .bind(repository_id)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(gone.rows_affected() > 0)
    }

    pub async fn delete_tag(&self, repository_id: i64, tag: &str) -> Result<bool> {
        let gone = sqlx::query("DELETE FROM tags WHERE repository_id = $1 AND name = $2")
            .bind(repository_id)
            .bind(tag)
            .execute(&self.pool)
            .await?;
        Ok(gone.rows_affected() > 0)
    }

    /// Tag names after `after`, in order.
    pub async fn tags(&self, repository_id: i64, after: &str, limit: i64) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3")
                .bind(repository_id)
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Bytes of image content stored for an org: every distinct blob linked into its
    /// repositories, counted once (the blob store keeps each digest once).
    pub async fn org_image_bytes(&self, org_id: i64) -> Result<i64> {
        let total: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(size) AS BIGINT) FROM (SELECT DISTINCT b.digest, b.size FROM repository_blobs b \
             JOIN repositories r ON r.id = b.repository_id WHERE r.org_id = $1) AS blobs",
        )
        .bind(org_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(total.unwrap_or(0))
    }

    /// Manifests in the repository whose subject is `digest`, oldest first.
    pub async fn referrers(&self, repository_id: i64, digest: &str) -> Result<Vec<Manifest>> {
        let rows = sqlx::query("SELECT * FROM manifests WHERE repository_id = $1 AND subject = $2 ORDER BY id")
            .bind(repository_id)
            .bind(digest)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(manifest_row).collect()
    }
}
