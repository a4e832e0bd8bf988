//! What a caller holds towards a gated entity: an active subscription of one of its orgs to one
//! of the entity's products, or the publisher's approval of the user. Read at every verdict, so
//! an expiry or a revocation takes effect at once on every replica.

use super::holders::HolderKind;
use super::{MetaStore, now, placeholders};
use crate::{Error, Result};
use sqlx::{Any, Executor, Transaction};

/// One entity of any kind: a container repository, or a model, resource, chart or collection
/// (its `artifacts` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntityKey {
    pub kind: HolderKind,
    pub id: i64,
}

impl EntityKey {
    /// The `entity_kind` word of the catalog tables.
    pub fn kind_word(self) -> &'static str {
        match self.kind {
            HolderKind::Repository => "repository",
            HolderKind::Artifact(kind) => kind.as_str(),
        }
    }
}

impl MetaStore {
    /// Whether one of `orgs` holds a subscription, unexpired now, to one of the entity's
    /// products.
    pub async fn subscribed(&self, entity: EntityKey, orgs: &[&str]) -> Result<bool> {
        if orgs.is_empty() {
            return Ok(false);
        }
        let sql = format!(
            "SELECT COUNT(*) FROM entity_products p JOIN subscriptions s ON s.product_id = p.product_id \
             JOIN orgs o ON o.id = s.org_id \
             WHERE p.entity_kind = $1 AND p.entity_id = $2 AND (s.expires_at IS NULL OR s.expires_at > $3) \
             AND o.name IN ({})",
            placeholders(4, orgs.len())
        );
        let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .bind(entity.kind_word())
            .bind(entity.id)
            .bind(now());
        for org in orgs {
            query = query.bind(*org);
        }
        Ok(query.fetch_one(&self.pool).await? > 0)
    }

    /// Whether the publisher approved `user_id` for the entity (and has not revoked it).
    pub async fn approved(&self, entity: EntityKey, user_id: i64) -> Result<bool> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM access_requests \
             WHERE entity_kind = $1 AND entity_id = $2 AND user_id = $3 AND state = 'APPROVED'",
        )
        .bind(entity.kind_word())
        .bind(entity.id)
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(count > 0)
    }

    /// Makes `products` (names) the entity's products; `Invalid` naming the first unknown one.
    pub async fn set_entity_products(&self, entity: EntityKey, products: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM entity_products WHERE entity_kind = $1 AND entity_id = $2")
            .bind(entity.kind_word())
            .bind(entity.id)
            .execute(&mut *tx)
            .await?;
        for name in products {
            let added = sqlx::query(
                "INSERT INTO entity_products (entity_kind, entity_id, product_id) \
                 SELECT $1, $2, id FROM products WHERE name = $3 ON CONFLICT DO NOTHING",
            )
            .bind(entity.kind_word())
            .bind(entity.id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
            if added.rows_affected() == 0 && !products_named(&mut tx, name).await? {
                return Err(Error::Invalid(format!("there is no product '{name}'")));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The first of `names` that is no product, if any.
    pub async fn unknown_products(&self, names: &[String]) -> Result<Option<String>> {
        for name in names {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?;
            if count == 0 {
                return Ok(Some(name.clone()));
            }
        }
        Ok(None)
    }

    /// The names of the products an entity belongs to, by name.
    pub async fn entity_products(&self, entity: EntityKey) -> Result<Vec<String>> {
        products_of(&self.pool, entity).await
    }
}

/// The names of the products an entity belongs to, by name, read through `executor`.
pub(super) async fn products_of<'c>(
    executor: impl Executor<'c, Database = Any>,
    entity: EntityKey,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT pr.name FROM entity_products p JOIN products pr ON pr.id = p.product_id \
         WHERE p.entity_kind = $1 AND p.entity_id = $2 ORDER BY pr.name",
    )
    .bind(entity.kind_word())
    .bind(entity.id)
    .fetch_all(executor)
    .await?)
}

async fn products_named(tx: &mut Transaction<'_, Any>, name: &str) -> Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE name = $1")
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    Ok(count > 0)
}

/// Removes what the catalog tables say about an entity that is being deleted.
pub(super) async fn forget_entity(tx: &mut Transaction<'_, Any>, entity: EntityKey) -> Result<()> {
    for sql in [
        "DELETE FROM entity_products WHERE entity_kind = $1 AND entity_id = $2",
        "DELETE FROM access_requests WHERE entity_kind = $1 AND entity_id = $2",
        "DELETE FROM collection_items WHERE entity_kind = $1 AND entity_id = $2",
    ] {
        sqlx::query(sql)
            .bind(entity.kind_word())
            .bind(entity.id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
