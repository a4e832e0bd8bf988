//! Users and the roles they hold in orgs and teams.

use super::{MetaStore, conflict, now};
use crate::{Error, Result};
use hangar_core::policy::Grant;
use hangar_core::roles::{MAX_ORG_OWNERS, Role};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// The stable external id NGC clients send back as `NV-actor-ID`.
    pub starfleet_id: String,
    pub platform_admin: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user with the roles they hold in one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: User,
    pub grants: Vec<Grant>,
}

pub(crate) fn user_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        starfleet_id: row.try_get("starfleet_id")?,
        platform_admin: row.try_get::<i64, _>("platform_admin")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn grant_row(row: &AnyRow) -> Result<Grant> {
    let role: String = row.try_get("role")?;
    Ok(Grant {
        org: row.try_get("org_name")?,
        team: row.try_get("team_name")?,
        role: role
            .parse()
            .map_err(|e: hangar_core::Error| Error::Invalid(e.to_string()))?,
    })
}

/// How a role change applies to one scope (an org, or one team in it).
#[derive(Debug, Clone, Copy)]
pub enum RoleChange<'a> {
    Add(&'a [Role]),
    Remove(&'a [Role]),
    Replace(&'a [Role]),
}

impl MetaStore {
    pub async fn create_user(&self, email: &str, name: &str, platform_admin: bool) -> Result<User> {
        let t = now();
        let starfleet_id = uuid::Uuid::new_v4().simple().to_string();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, name, starfleet_id, platform_admin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(email)
        .bind(name)
        .bind(&starfleet_id)
        .bind(i64::from(platform_admin))
        .bind(t)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(format!("user '{email}'")))?;
        Ok(User {
            id,
            email: email.into(),
            name: name.into(),
            starfleet_id,
            platform_admin,
            created_at: t,
            updated_at: t,
        })
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    pub async fn set_user_name(&self, id: i64, name: &str) -> Result<()> {
        sqlx::query("UPDATE users SET name = $1, updated_at = $2 WHERE id = $3")
            .bind(name)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_platform_admin(&self, id: i64, on: bool) -> Result<()> {
        sqlx::query("UPDATE users SET platform_admin = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(on))
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every role the user holds, in every org.
    pub async fn grants_of_user(&self, user_id: i64) -> Result<Vec<Grant>> {
        let rows = sqlx::query(
            "SELECT o.name AS org_name, t.name AS team_name, m.role FROM memberships m \
             JOIN orgs o ON o.id = m.org_id LEFT JOIN teams t ON t.id = m.team_id \
             WHERE m.user_id = $1 ORDER BY o.name, COALESCE(t.name, ''), m.role",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(grant_row).collect()
    }

    /// Users holding any role in the org (or, with `team_id`, in that team), ordered by id, each
    /// with all their roles in the org.
    pub async fn members(&self, org_id: i64, team_id: Option<i64>) -> Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT u.*, o.name AS org_name, t.name AS team_name, m.role FROM users u \
             JOIN memberships m ON m.user_id = u.id JOIN orgs o ON o.id = m.org_id \
             LEFT JOIN teams t ON t.id = m.team_id \
             WHERE m.org_id = $1 AND u.id IN (SELECT user_id FROM memberships \
                 WHERE org_id = $1 AND ($2 IS NULL OR team_id = $2)) \
             ORDER BY u.id, COALESCE(t.name, ''), m.role",
        )
        .bind(org_id)
        .bind(team_id)
        .fetch_all(&self.pool)
        .await?;
        let mut members: Vec<Member> = Vec::new();
        for row in &rows {
            let user = user_row(row)?;
            let grant = grant_row(row)?;
            match members.last_mut() {
                Some(last) if last.user.id == user.id => last.grants.push(grant),
                _ => members.push(Member {
                    user,
                    grants: vec![grant],
                }),
            }
        }
        Ok(members)
    }

    /// Applies a role change at one scope in one transaction and checks the org's rules after
    /// it: at most two owners, at least one, and a member's roles at a scope must include a
    /// registry role or USER_ADMIN.
    pub async fn change_roles(
        &self,
        user_id: i64,
        org_id: i64,
        team_id: Option<i64>,
        change: RoleChange<'_>,
    ) -> Result<()> {
        let mut tx = lock_org(&self.pool, org_id).await?;
        apply_role_change(&mut tx, user_id, org_id, team_id, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes every role the user holds in the org, in any team, and revokes their personal keys
    /// for the org (and with them every token those keys obtained).
    pub async fn remove_from_org(&self, user_id: i64, org_id: i64) -> Result<()> {
        let mut tx = lock_org(&self.pool, org_id).await?;
        let owners_before = count_owners(&mut tx, org_id).await?;
        let gone = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND org_id = $2")
            .bind(user_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound("user in this org".into()));
        }
        sqlx::query("DELETE FROM api_keys WHERE kind = 'PERSONAL' AND user_id = $1 AND org_id = $2")
            .bind(user_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        check_owner_count(&mut tx, org_id, owners_before).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes every role the user holds in one team.
    pub async fn remove_from_team(&self, user_id: i64, org_id: i64, team_id: i64) -> Result<()> {
        let gone = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND org_id = $2 AND team_id = $3")
            .bind(user_id)
            .bind(org_id)
            .bind(team_id)
            .execute(&self.pool)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound("user in this team".into()));
        }
        Ok(())
    }
}

/// One role change inside the caller's org-locked transaction, followed by the org's checks.
pub(crate) async fn apply_role_change(
    tx: &mut Transaction<'static, Any>,
    user_id: i64,
    org_id: i64,
    team_id: Option<i64>,
    change: RoleChange<'_>,
) -> Result<()> {
    let owners_before = count_owners(tx, org_id).await?;
    let (add, remove_all_first, remove): (&[Role], bool, &[Role]) = match change {
        RoleChange::Add(roles) => (roles, false, &[]),
        RoleChange::Remove(roles) => (&[], false, roles),
        RoleChange::Replace(roles) => (roles, true, &[]),
    };
    if remove_all_first {
        sqlx::query(
            "DELETE FROM memberships WHERE user_id = $1 AND org_id = $2 AND COALESCE(team_id, 0) = COALESCE($3, 0)",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(team_id)
        .execute(&mut **tx)
        .await?;
    }
    for role in remove {
        sqlx::query(
            "DELETE FROM memberships WHERE user_id = $1 AND org_id = $2 AND COALESCE(team_id, 0) = COALESCE($3, 0) AND role = $4",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(team_id)
        .bind(role.name())
        .execute(&mut **tx)
        .await?;
    }
    for role in add {
        if team_id.is_some() && !role.allowed_in_team() {
            return Err(Error::Invalid(format!("{role} can only be held at org scope")));
        }
        sqlx::query(
            "INSERT INTO memberships (user_id, org_id, team_id, role, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(team_id)
        .bind(role.name())
        .bind(now())
        .execute(&mut **tx)
        .await?;
    }
    check_owner_count(tx, org_id, owners_before).await?;
    check_scope_roles(tx, user_id, org_id, team_id).await
}

/// Starts a transaction whose first statement write-locks the org's row, so that concurrent
/// changes to the org's members and keys run one after another (SQLite and PostgreSQL alike),
/// and limits counted inside the transaction stay true.
pub(crate) async fn lock_org(pool: &sqlx::AnyPool, org_id: i64) -> Result<Transaction<'static, Any>> {
    let mut tx = pool.begin().await?;
    let locked = sqlx::query("UPDATE orgs SET updated_at = updated_at WHERE id = $1")
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(Error::NotFound("org".into()));
    }
    Ok(tx)
}

async fn count_owners(tx: &mut Transaction<'static, Any>, org_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'ORG_OWNER'")
            .bind(org_id)
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// At most two owners, and a change may not take away the last one.
async fn check_owner_count(tx: &mut Transaction<'static, Any>, org_id: i64, owners_before: i64) -> Result<()> {
    let owners = count_owners(tx, org_id).await?;
    if owners as usize > MAX_ORG_OWNERS {
        return Err(Error::Limit(format!("an org can have at most {MAX_ORG_OWNERS} owners")));
    }
    if owners == 0 && owners_before > 0 {
        return Err(Error::Invalid("an org must keep at least one owner".into()));
    }
    Ok(())
}

async fn check_scope_roles(
    tx: &mut Transaction<'static, Any>,
    user_id: i64,
    org_id: i64,
    team_id: Option<i64>,
) -> Result<()> {
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT role FROM memberships WHERE user_id = $1 AND org_id = $2 AND COALESCE(team_id, 0) = COALESCE($3, 0)",
    )
    .bind(user_id)
    .bind(org_id)
    .bind(team_id)
    .fetch_all(&mut **tx)
    .await?;
    let confers = roles
        .iter()
        .any(|r| r.parse::<Role>().is_ok_and(|r| r.confers_membership()));
    if !roles.is_empty() && !confers {
        return Err(Error::Invalid(
            "a member needs REGISTRY_READ, REGISTRY_USER, REGISTRY_ADMIN, USER_ADMIN or ORG_OWNER".into(),
        ));
    }
    Ok(())
}
