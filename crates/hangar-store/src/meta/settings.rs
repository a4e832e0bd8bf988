//! Installation-wide values that every replica must agree on.

use super::MetaStore;
use crate::Result;

impl MetaStore {
    /// The stored value of `name`; on first use stores `initial()` — if several replicas race,
    /// the first insert wins and all of them return that value.
    pub async fn setting_or_init(&self, name: &str, initial: impl FnOnce() -> String) -> Result<String> {
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(initial())
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?)
    }

    /// The stored value of `name`, if any.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }
}
