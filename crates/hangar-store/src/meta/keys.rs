//! API keys: stored as SHA-256 of the secret only; the secret is shown once.

use super::users::lock_org;
use super::{MetaStore, conflict, now};
use crate::{Error, Result};
use hangar_core::keys::{KeyKind, MAX_PERSONAL_KEYS_PER_USER_PER_ORG, MAX_SERVICE_KEYS_PER_ORG};
use rand::RngExt;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: i64,
    pub kind: KeyKind,
    pub name: String,
    /// The first characters of the secret, to tell keys apart in listings.
    pub hint: String,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Comma-separated service names (personal keys).
    pub services: String,
    /// Comma-separated scope names (service keys).
    pub scopes: String,
    pub entity_type: String,
    pub entity_value: String,
    pub active: bool,
    pub expires_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ApiKey {
    pub fn expired(&self, at: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= at)
    }
}

#[derive(Debug, Clone)]
pub struct NewKey {
    pub kind: KeyKind,
    pub name: String,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
    pub services: String,
    pub scopes: String,
    pub entity_type: String,
    pub entity_value: String,
    pub expires_at: Option<i64>,
    pub created_by: Option<i64>,
}

/// Fields to change on a key; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct KeyChange {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub services: Option<String>,
    pub scopes: Option<String>,
    pub entity_type: Option<String>,
    pub entity_value: Option<String>,
}

/// A random secret after `prefix`: 43 base-62 characters, about 256 bits of entropy.
pub fn random_secret(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let body: String = (0..43)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{body}")
}

fn new_secret(kind: KeyKind) -> String {
    random_secret(kind.secret_prefix())
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn hint_of(secret: &str) -> String {
    let visible: String = secret.chars().take(12).collect();
    format!("{visible}…")
}

fn key_row(row: AnyRow) -> Result<ApiKey> {
    let kind: String = row.try_get("kind")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        kind: kind
            .parse()
            .map_err(|e: hangar_core::Error| Error::Invalid(e.to_string()))?,
        name: row.try_get("name")?,
        hint: row.try_get("hint")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        services: row.try_get("services")?,
        scopes: row.try_get("scopes")?,
        entity_type: row.try_get("entity_type")?,
        entity_value: row.try_get("entity_value")?,
        active: row.try_get::<i64, _>("active")? != 0,
        expires_at: row.try_get("expires_at")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl MetaStore {
    /// Stores a new key and returns it with its secret, enforcing the per-user and per-org
    /// limits; a new legacy key replaces the user's previous one in the same transaction.
    pub async fn create_key(&self, new: &NewKey) -> Result<(ApiKey, String)> {
        let mut tx = match (new.kind, new.org_id) {
            (KeyKind::Legacy, _) => self.pool.begin().await?,
            (_, Some(org_id)) => lock_org(&self.pool, org_id).await?,
            (_, None) => return Err(Error::Invalid("personal and service keys belong to an org".into())),
        };
        match new.kind {
            KeyKind::Personal => {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM api_keys WHERE kind = 'PERSONAL' AND org_id = $1 AND user_id = $2",
                )
                .bind(new.org_id)
                .bind(new.user_id)
                .fetch_one(&mut *tx)
                .await?;
                if count as usize >= MAX_PERSONAL_KEYS_PER_USER_PER_ORG {
                    return Err(Error::Limit(format!(
                        "a user can have at most {MAX_PERSONAL_KEYS_PER_USER_PER_ORG} personal keys per org"
                    )));
                }
            }
            KeyKind::Service => {
                let count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE kind = 'SERVICE' AND org_id = $1")
                        .bind(new.org_id)
                        .fetch_one(&mut *tx)
                        .await?;
                if count as usize >= MAX_SERVICE_KEYS_PER_ORG {
                    return Err(Error::Limit(format!(
                        "an org can have at most {MAX_SERVICE_KEYS_PER_ORG} service keys"
                    )));
                }
            }
            KeyKind::Legacy => {
                sqlx::query("DELETE FROM api_keys WHERE kind = 'LEGACY' AND user_id = $1")
                    .bind(new.user_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let secret = new_secret(new.kind);
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (kind, name, secret_hash, hint, org_id, user_id, services, scopes, entity_type, \
             entity_value, active, expires_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $13) RETURNING id",
        )
        .bind(new.kind.name())
        .bind(&new.name)
        .bind(hash_secret(&secret))
        .bind(hint_of(&secret))
        .bind(new.org_id)
        .bind(new.user_id)
        .bind(&new.services)
        .bind(&new.scopes)
        .bind(&new.entity_type)
        .bind(&new.entity_value)
        .bind(new.expires_at)
        .bind(new.created_by)
        .bind(t)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict("key"))?;
        tx.commit().await?;
        let key = self.key(id).await?.ok_or_else(|| Error::NotFound("key".into()))?;
        Ok((key, secret))
    }

    pub async fn key(&self, id: i64) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(key_row).transpose()
    }

    /// The key whose secret this is, whatever its state (the caller checks active and expiry).
    pub async fn key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE secret_hash = $1")
            .bind(hash_secret(secret))
            .fetch_optional(&self.pool)
            .await?;
        row.map(key_row).transpose()
    }

    /// Personal and service keys of an org; with `user_id`, only that user's personal keys.
    pub async fn keys_of_org(&self, org_id: i64, user_id: Option<i64>) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query("SELECT * FROM api_keys WHERE org_id = $1 AND ($2 IS NULL OR user_id = $2) ORDER BY id")
            .bind(org_id)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(key_row).collect()
    }

    pub async fn legacy_key_of(&self, user_id: i64) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE kind = 'LEGACY' AND user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(key_row).transpose()
    }

    pub async fn update_key(&self, id: i64, change: &KeyChange) -> Result<()> {
        sqlx::query(
            "UPDATE api_keys SET name = COALESCE($1, name), active = COALESCE($2, active), \
             services = COALESCE($3, services), scopes = COALESCE($4, scopes), \
             entity_type = COALESCE($5, entity_type), entity_value = COALESCE($6, entity_value), updated_at = $7 \
             WHERE id = $8",
        )
        .bind(change.name.as_deref())
        .bind(change.active.map(i64::from))
        .bind(change.services.as_deref())
        .bind(change.scopes.as_deref())
        .bind(change.entity_type.as_deref())
        .bind(change.entity_value.as_deref())
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives the key a new secret; the old one stops working at once.
    pub async fn rotate_key(&self, id: i64) -> Result<String> {
        let key = self.key(id).await?.ok_or_else(|| Error::NotFound("key".into()))?;
        let secret = new_secret(key.kind);
        sqlx::query("UPDATE api_keys SET secret_hash = $1, hint = $2, updated_at = $3 WHERE id = $4")
            .bind(hash_secret(&secret))
            .bind(hint_of(&secret))
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(secret)
    }

    pub async fn delete_key(&self, id: i64) -> Result<()> {
        let gone = sqlx::query("DELETE FROM api_keys WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound("key".into()));
        }
        Ok(())
    }
}
