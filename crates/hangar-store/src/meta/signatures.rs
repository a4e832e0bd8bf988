//! Signatures of model and resource versions (OpenSSF model-signing bundles).

use super::MetaStore;
use crate::Result;

impl MetaStore {
    /// Stores the signature bundle of a version (replacing one it had), and marks its entity's
    /// catalog entry stale so search sees it signed.
    pub async fn set_version_signature(&self, version_id: i64, bundle: &str, signed_by: Option<i64>) -> Result<()> {
        let t = super::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO version_signatures (version_id, bundle, signed_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (version_id) DO UPDATE SET bundle = $2, signed_by = $3, created_at = $4",
        )
        .bind(version_id)
        .bind(bundle)
        .bind(signed_by)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO catalog_stale (entity_kind, entity_id) \
             SELECT a.kind, a.id FROM artifacts a JOIN artifact_versions v ON v.artifact_id = a.id WHERE v.id = $1",
        )
        .bind(version_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The signature bundle of a version, if it is signed.
    pub async fn version_signature(&self, version_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT bundle FROM version_signatures WHERE version_id = $1")
                .bind(version_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Whether any version of the artifact is signed.
    pub async fn has_signed_version(&self, artifact_id: i64) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT s.version_id FROM version_signatures s JOIN artifact_versions v ON v.id = s.version_id \
             WHERE v.artifact_id = $1 LIMIT 1",
        )
        .bind(artifact_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }
}
