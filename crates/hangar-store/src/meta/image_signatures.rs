//! Signed images: the keys an org trusts, the cosign signatures pushed to its repositories with
//! their verdicts, and where pulls need a verified signature.

use super::{MetaStore, conflict};
use crate::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A public key an org trusts to sign its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub public_pem: String,
    /// `sha256:<hex>` of the key's DER (SubjectPublicKeyInfo).
    pub fingerprint: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// One cosign signature (a layer of a `sha256-<digest>.sig` manifest) and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSignature {
    pub repository_id: i64,
    pub signature_digest: String,
    pub layer: i64,
    pub subject_digest: String,
    pub payload: Vec<u8>,
    pub signature: String,
    /// The key that verifies it; `None`: no key of the org does.
    pub verified_by: Option<String>,
    /// Why it is not verified.
    pub problem: Option<String>,
    pub created_at: i64,
}

/// Where a pull needs a verified signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementKind {
    Org,
    Team,
    Repository,
}

impl RequirementKind {
    pub fn word(self) -> &'static str {
        match self {
            RequirementKind::Org => "org",
            RequirementKind::Team => "team",
            RequirementKind::Repository => "repository",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        [Self::Org, Self::Team, Self::Repository]
            .into_iter()
            .find(|k| k.word() == word)
    }
}

fn key_row(row: AnyRow) -> Result<TrustedKey> {
    Ok(TrustedKey {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        public_pem: row.try_get("public_pem")?,
        fingerprint: row.try_get("fingerprint")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn signature_row(row: AnyRow) -> Result<ImageSignature> {
    Ok(ImageSignature {
        repository_id: row.try_get("repository_id")?,
        signature_digest: row.try_get("signature_digest")?,
        layer: row.try_get("layer")?,
        subject_digest: row.try_get("subject_digest")?,
        payload: row.try_get("payload")?,
        signature: row.try_get("signature")?,
        verified_by: row.try_get("verified_by")?,
        problem: row.try_get("problem")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Signatures whose signature manifest is still in the repository.
macro_rules! live_signatures {
    () => {
        "SELECT s.* FROM image_signatures s JOIN manifests m \
         ON m.repository_id = s.repository_id AND m.digest = s.signature_digest"
    };
}

impl MetaStore {
    pub async fn trusted_keys(&self, org_id: i64) -> Result<Vec<TrustedKey>> {
        let rows = sqlx::query("SELECT * FROM trusted_keys WHERE org_id = $1 ORDER BY name")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(key_row).collect()
    }

    /// Registers a trusted key; a name or key the org already has is a conflict.
    pub async fn add_trusted_key(
        &self,
        org_id: i64,
        name: &str,
        public_pem: &str,
        fingerprint: &str,
        created_by: Option<i64>,
    ) -> Result<TrustedKey> {
        let row = sqlx::query(
            "INSERT INTO trusted_keys (org_id, name, public_pem, fingerprint, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(org_id)
        .bind(name)
        .bind(public_pem)
        .bind(fingerprint)
        .bind(created_by)
        .bind(super::now())
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(format!(
            "the org already trusts a key named '{name}' or this key ({fingerprint})"
        )))?;
        key_row(row)
    }

    /// Removes a trusted key; false if the org has none of that name.
    pub async fn remove_trusted_key(&self, org_id: i64, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM trusted_keys WHERE org_id = $1 AND name = $2")
            .bind(org_id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores signatures (replacing what they had: a signature manifest pushed again, or new
    /// verdicts after the org's keys changed), and marks their repositories' catalog entries
    /// stale so search sees them signed or not.
    pub async fn put_image_signatures(&self, signatures: &[ImageSignature]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for s in signatures {
            sqlx::query(
                "INSERT INTO image_signatures (repository_id, signature_digest, layer, subject_digest, payload, \
                 signature, verified_by, problem, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (repository_id, signature_digest, layer) DO UPDATE SET subject_digest = $4, \
                 payload = $5, signature = $6, verified_by = $7, problem = $8",
            )
            .bind(s.repository_id)
            .bind(&s.signature_digest)
            .bind(s.layer)
            .bind(&s.subject_digest)
            .bind(&s.payload)
            .bind(&s.signature)
            .bind(&s.verified_by)
            .bind(&s.problem)
            .bind(s.created_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO catalog_stale (entity_kind, entity_id) VALUES ('repository', $1)")
                .bind(s.repository_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The signatures in a repository whose signature manifests are still there.
    pub async fn image_signatures(&self, repository_id: i64) -> Result<Vec<ImageSignature>> {
        let rows = sqlx::query(concat!(
            live_signatures!(),
            " WHERE s.repository_id = $1 ORDER BY s.created_at, s.signature_digest, s.layer"
        ))
        .bind(repository_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(signature_row).collect()
    }

    /// Every signature stored in the org's repositories, with the repository's name (to work
    /// their verdicts out again).
    pub async fn org_image_signatures(&self, org_id: i64) -> Result<Vec<(String, ImageSignature)>> {
        let rows = sqlx::query(
            "SELECT s.*, r.name AS repository_name FROM image_signatures s \
             JOIN repositories r ON r.id = s.repository_id WHERE r.org_id = $1",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| Ok((row.try_get("repository_name")?, signature_row(row)?)))
            .collect()
    }

    /// Whether a verified signature in the repository signs `digest`, or an index there that
    /// lists it (a platform image is pulled by the digest its signed index names).
    pub async fn verified_signed(&self, repository_id: i64, digest: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(concat!(
            "SELECT s.layer FROM (",
            live_signatures!(),
            " WHERE s.repository_id = $1 AND s.verified_by IS NOT NULL) s \
             WHERE s.subject_digest = $2 OR s.subject_digest IN (SELECT p.digest FROM manifests p \
             JOIN manifest_references r ON r.manifest_id = p.id \
             WHERE p.repository_id = $1 AND r.kind = 'manifest' AND r.digest = $2) LIMIT 1"
        ))
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Whether `digest` in the repository is itself a stored signature.
    pub async fn is_image_signature(&self, repository_id: i64, digest: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT layer FROM image_signatures WHERE repository_id = $1 AND signature_digest = $2 LIMIT 1",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// Turns the need for verified signatures at `path` on or off.
    pub async fn set_signature_requirement(
        &self,
        org_id: i64,
        kind: RequirementKind,
        path: &str,
        required: bool,
        by: Option<i64>,
    ) -> Result<()> {
        if required {
            sqlx::query(
                "INSERT INTO signature_requirements (org_id, kind, path, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(org_id)
            .bind(kind.word())
            .bind(path)
            .bind(by)
            .bind(super::now())
            .execute(&self.pool)
            .await?;
        } else {
            sqlx::query("DELETE FROM signature_requirements WHERE org_id = $1 AND kind = $2 AND path = $3")
                .bind(org_id)
                .bind(kind.word())
                .bind(path)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The org's requirements: (kind, path).
    pub async fn signature_requirements(&self, org_id: i64) -> Result<Vec<(RequirementKind, String)>> {
        let rows = sqlx::query("SELECT kind, path FROM signature_requirements WHERE org_id = $1 ORDER BY kind, path")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?;
        let mut out = vec![];
        for row in rows {
            let word: String = row.try_get("kind")?;
            if let Some(kind) = RequirementKind::parse(&word) {
                out.push((kind, row.try_get("path")?));
            }
        }
        Ok(out)
    }
}
