//! Orgs and their teams.

use super::{MetaStore, conflict, now};
use crate::{Error, Result};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn org_row(row: AnyRow) -> Result<Org> {
    Ok(Org {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn team_row(row: AnyRow) -> Result<Team> {
    Ok(Team {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl MetaStore {
    pub async fn create_org(&self, name: &str, display_name: &str, description: &str) -> Result<Org> {
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO orgs (name, display_name, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(name)
        .bind(display_name)
        .bind(description)
        .bind(t)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(format!("org '{name}'")))?;
        Ok(Org {
            id,
            name: name.into(),
            display_name: display_name.into(),
            description: description.into(),
            created_at: t,
            updated_at: t,
        })
    }

    pub async fn org(&self, name: &str) -> Result<Option<Org>> {
        let row =
            sqlx::query("SELECT id, name, display_name, description, created_at, updated_at FROM orgs WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        row.map(org_row).transpose()
    }

    pub async fn org_by_id(&self, id: i64) -> Result<Org> {
        let row =
            sqlx::query("SELECT id, name, display_name, description, created_at, updated_at FROM orgs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(org_row)
            .transpose()?
            .ok_or_else(|| Error::NotFound(format!("org {id}")))
    }

    /// The org, or `NotFound`.
    pub async fn require_org(&self, name: &str) -> Result<Org> {
        self.org(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("org '{name}'")))
    }

    pub async fn count_orgs(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM orgs")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Every org (for platform admins), by name.
    pub async fn all_orgs(&self) -> Result<Vec<Org>> {
        let rows =
            sqlx::query("SELECT id, name, display_name, description, created_at, updated_at FROM orgs ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(org_row).collect()
    }

    /// The orgs where the user holds any role, at org or team scope, by name.
    pub async fn orgs_of_user(&self, user_id: i64) -> Result<Vec<Org>> {
        let rows = sqlx::query(
            "SELECT id, name, display_name, description, created_at, updated_at FROM orgs \
             WHERE id IN (SELECT org_id FROM memberships WHERE user_id = $1) ORDER BY name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(org_row).collect()
    }

    pub async fn update_org(&self, org_id: i64, display_name: Option<&str>, description: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE orgs SET display_name = COALESCE($1, display_name), description = COALESCE($2, description), \
             updated_at = $3 WHERE id = $4",
        )
        .bind(display_name)
        .bind(description)
        .bind(now())
        .bind(org_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn create_team(&self, org_id: i64, name: &str, description: &str) -> Result<Team> {
        let t = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (org_id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(org_id)
        .bind(name)
        .bind(description)
        .bind(t)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(format!("team '{name}'")))?;
        Ok(Team {
            id,
            org_id,
            name: name.into(),
            description: description.into(),
            created_at: t,
            updated_at: t,
        })
    }

    pub async fn team(&self, org_id: i64, name: &str) -> Result<Option<Team>> {
        let row = sqlx::query(
            "SELECT id, org_id, name, description, created_at, updated_at FROM teams WHERE org_id = $1 AND name = $2",
        )
        .bind(org_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(team_row).transpose()
    }

    /// The team, or `NotFound`.
    pub async fn require_team(&self, org: &Org, name: &str) -> Result<Team> {
        self.team(org.id, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("team '{name}' in org '{}'", org.name)))
    }

    pub async fn teams(&self, org_id: i64) -> Result<Vec<Team>> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, description, created_at, updated_at FROM teams WHERE org_id = $1 ORDER BY name",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(team_row).collect()
    }

    pub async fn update_team(&self, team_id: i64, description: &str) -> Result<()> {
        sqlx::query("UPDATE teams SET description = $1, updated_at = $2 WHERE id = $3")
            .bind(description)
            .bind(now())
            .bind(team_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes the team and every role held in it.
    pub async fn delete_team(&self, team_id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM memberships WHERE team_id = $1")
            .bind(team_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM teams WHERE id = $1")
            .bind(team_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
