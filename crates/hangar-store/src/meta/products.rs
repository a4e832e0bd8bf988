//! Products (what platform admins sell or grant: `nv-ai-enterprise`) and orgs' subscriptions
//! to them, each until an optional expiry.

use super::{MetaStore, conflict, now, placeholders};
use crate::{Error, Result};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub created_at: i64,
}

/// An org's subscription to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub org: String,
    pub product: Product,
    /// Unix seconds; `None`: no end.
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

const PRODUCT_COLUMNS: &str = "p.id, p.name, p.display_name, p.description, p.created_at";

fn product_row(row: &AnyRow) -> Result<Product> {
    Ok(Product {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
    })
}

fn subscription_row(row: AnyRow) -> Result<Subscription> {
    Ok(Subscription {
        org: row.try_get("org_name")?,
        product: product_row(&row)?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("subscribed_at")?,
    })
}

fn missing(name: &str) -> Error {
    Error::NotFound(format!("product '{name}'"))
}

impl MetaStore {
    pub async fn create_product(&self, name: &str, display_name: &str, description: &str) -> Result<Product> {
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO products (name, display_name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(display_name)
        .bind(description)
        .bind(t)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(format!("product '{name}'")))?;
        Ok(Product {
            id,
            name: name.into(),
            display_name: display_name.into(),
            description: description.into(),
            created_at: t,
        })
    }

    /// Every product, by name.
    pub async fn products(&self) -> Result<Vec<Product>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p ORDER BY p.name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(product_row).collect()
    }

    /// The product named `name`; `NotFound` if there is none.
    pub async fn require_product(&self, name: &str) -> Result<Product> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.name = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(product_row).transpose()?.ok_or_else(|| missing(name))
    }

    /// Changes the fields given; `NotFound` if there is no such product.
    pub async fn update_product(
        &self,
        name: &str,
        display_name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Product> {
        let product = self.require_product(name).await?;
        sqlx::query("UPDATE products SET display_name = $1, description = $2 WHERE id = $3")
            .bind(display_name.unwrap_or(&product.display_name))
            .bind(description.unwrap_or(&product.description))
            .bind(product.id)
            .execute(&self.pool)
            .await?;
        self.require_product(name).await
    }

    /// Deletes the product with its subscriptions and its place on entities.
    pub async fn delete_product(&self, name: &str) -> Result<()> {
        let gone = sqlx::query("DELETE FROM products WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(missing(name));
        }
        Ok(())
    }

    /// Subscribes the org to the product until `expires_at` (`None`: no end), or changes the
    /// expiry of its subscription.
    pub async fn subscribe(&self, org_id: i64, product_id: i64, expires_at: Option<i64>) -> Result<()> {
        sqlx::query(
            "INSERT INTO subscriptions (org_id, product_id, expires_at, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, product_id) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(org_id)
        .bind(product_id)
        .bind(expires_at)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends the org's subscription to the product; `NotFound` if it had none.
    pub async fn unsubscribe(&self, org_id: i64, product_id: i64) -> Result<()> {
        let gone = sqlx::query("DELETE FROM subscriptions WHERE org_id = $1 AND product_id = $2")
            .bind(org_id)
            .bind(product_id)
            .execute(&self.pool)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound("subscription".into()));
        }
        Ok(())
    }

    /// The subscriptions of one org (or of every org), expired ones included, by org and product.
    pub async fn subscriptions(&self, org_id: Option<i64>) -> Result<Vec<Subscription>> {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS}, o.name AS org_name, s.expires_at, s.created_at AS subscribed_at \
             FROM subscriptions s JOIN products p ON p.id = s.product_id JOIN orgs o ON o.id = s.org_id \
             WHERE ($1 IS NULL OR s.org_id = $1) ORDER BY o.name, p.name"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(subscription_row).collect()
    }

    /// The products one of `orgs` holds an unexpired subscription to, each with the latest of
    /// their expiries (`None`: no end), by name.
    pub async fn subscribed_products(&self, orgs: &[&str]) -> Result<Vec<(Product, Option<i64>)>> {
        if orgs.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS}, o.name AS org_name, s.expires_at, s.created_at AS subscribed_at \
             FROM subscriptions s JOIN products p ON p.id = s.product_id JOIN orgs o ON o.id = s.org_id \
             WHERE (s.expires_at IS NULL OR s.expires_at > $1) AND o.name IN ({}) ORDER BY p.name",
            placeholders(2, orgs.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now());
        for org in orgs {
            query = query.bind(*org);
        }
        let mut held: Vec<(Product, Option<i64>)> = Vec::new();
        for row in query.fetch_all(&self.pool).await? {
            let s = subscription_row(row)?;
            match held.last_mut() {
                Some((product, until)) if product.id == s.product.id => {
                    *until = until.zip(s.expires_at).map(|(a, b)| a.max(b));
                }
                _ => held.push((s.product, s.expires_at)),
            }
        }
        Ok(held)
    }
}
