//! Invitations to join an org, and the outbox that stands in for e-mail.

use super::keys::{hash_secret, random_secret};
use super::users::{RoleChange, apply_role_change, lock_org};
use super::{MetaStore, User, now, split_list};
use crate::{Error, Result};
use hangar_core::roles::Role;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub name: String,
    pub message: String,
    /// Roles with the team they are for (`None`: org scope).
    pub roles: Vec<(Role, Option<String>)>,
    pub invited_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub org_id: i64,
    pub email: String,
    pub name: String,
    pub message: String,
    pub roles: Vec<(Role, Option<String>)>,
    pub invited_by: Option<i64>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
}

fn encode_roles(roles: &[(Role, Option<String>)]) -> String {
    let items: Vec<String> = roles
        .iter()
        .map(|(role, team)| match team {
            Some(team) => format!("{role}@{team}"),
            None => role.to_string(),
        })
        .collect();
    items.join(",")
}

fn decode_roles(value: &str) -> Result<Vec<(Role, Option<String>)>> {
    split_list(value)
        .map(|item| {
            let (role, team) = match item.split_once('@') {
                Some((role, team)) => (role, Some(team.to_string())),
                None => (item, None),
            };
            let role = role
                .parse()
                .map_err(|e: hangar_core::Error| Error::Invalid(e.to_string()))?;
            Ok((role, team))
        })
        .collect()
}

fn invitation_row(row: AnyRow) -> Result<Invitation> {
    let roles: String = row.try_get("roles")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        message: row.try_get("message")?,
        roles: decode_roles(&roles)?,
        invited_by: row.try_get("invited_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        accepted_at: row.try_get("accepted_at")?,
    })
}

impl MetaStore {
    /// Records the invitation and its mail (built by `mail` from the one-time token) in one
    /// transaction, and returns the invitation with its token.
    pub async fn create_invitation(
        &self,
        new: &NewInvitation,
        mail: impl FnOnce(&str) -> (String, String),
    ) -> Result<(Invitation, String)> {
        let token = random_secret("hginv-");
        let (subject, body) = mail(&token);
        let t = now();
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO invitations (org_id, email, name, message, roles, token_hash, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(new.org_id)
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.message)
        .bind(encode_roles(&new.roles))
        .bind(hash_secret(&token))
        .bind(new.invited_by)
        .bind(t)
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        queue_mail(&mut tx, &(new.email.clone(), subject, body), t).await?;
        tx.commit().await?;
        let invitation = Invitation {
            id,
            org_id: new.org_id,
            email: new.email.clone(),
            name: new.name.clone(),
            message: new.message.clone(),
            roles: new.roles.clone(),
            invited_by: new.invited_by,
            created_at: t,
            expires_at: new.expires_at,
            accepted_at: None,
        };
        Ok((invitation, token))
    }

    /// Open invitations of an org (not accepted, not expired); with `team`, those that give a
    /// role in that team.
    pub async fn pending_invitations(&self, org_id: i64, team: Option<&str>) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(
            "SELECT * FROM invitations WHERE org_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY id",
        )
        .bind(org_id)
        .bind(now())
        .fetch_all(&self.pool)
        .await?;
        let all = rows.into_iter().map(invitation_row).collect::<Result<Vec<_>>>()?;
        Ok(all
            .into_iter()
            .filter(|i| team.is_none() || i.roles.iter().any(|(_, t)| t.as_deref() == team))
            .collect())
    }

    /// Withdraws the open invitations of `email` in the org; returns how many there were.
    pub async fn delete_invitations(&self, org_id: i64, email: &str) -> Result<u64> {
        let gone = sqlx::query("DELETE FROM invitations WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL")
            .bind(org_id)
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(gone.rows_affected())
    }

    /// Sends an open invitation again: a new one-time token (the old link stops working), a new
    /// expiry, and its mail (built by `mail` from the token), in one transaction.
    pub async fn renew_invitation(
        &self,
        org_id: i64,
        id: i64,
        expires_at: i64,
        mail: impl FnOnce(&Invitation, &str) -> (String, String),
    ) -> Result<Invitation> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT * FROM invitations WHERE id = $1 AND org_id = $2 AND accepted_at IS NULL AND expires_at > $3",
        )
        .bind(id)
        .bind(org_id)
        .bind(t)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::NotFound("open invitation".into()))?;
        let invitation = Invitation {
            expires_at,
            ..invitation_row(row)?
        };
        let token = random_secret("hginv-");
        sqlx::query("UPDATE invitations SET token_hash = $1, expires_at = $2 WHERE id = $3")
            .bind(hash_secret(&token))
            .bind(expires_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let (subject, body) = mail(&invitation, &token);
        queue_mail(&mut tx, &(invitation.email.clone(), subject, body), t).await?;
        tx.commit().await?;
        Ok(invitation)
    }

    /// The invitation a token names, open or not.
    pub async fn invitation_by_token(&self, token: &str) -> Result<Option<Invitation>> {
        let row = sqlx::query("SELECT * FROM invitations WHERE token_hash = $1")
            .bind(hash_secret(token))
            .fetch_optional(&self.pool)
            .await?;
        row.map(invitation_row).transpose()
    }

    /// Accepts an invitation: in one transaction, claims it (once, before expiry), creates the
    /// user if the e-mail is new, grants the invited roles, and records what the accepting
    /// page set up: a first password (only for an account that has none) and accepted terms.
    pub async fn accept_invitation(
        &self,
        token: &str,
        name: Option<&str>,
        first_password_hash: Option<&str>,
        accept_terms: bool,
    ) -> Result<(Invitation, User)> {
        let invitation = self
            .invitation_by_token(token)
            .await?
            .ok_or_else(|| Error::NotFound("invitation".into()))?;
        let t = now();
        let mut tx = lock_org(&self.pool, invitation.org_id).await?;
        let claimed = sqlx::query(
            "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL AND expires_at > $1",
        )
        .bind(t)
        .bind(invitation.id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Err(Error::Invalid("the invitation was already used or has expired".into()));
        }
        let user_id: i64 = match sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(&invitation.email)
            .fetch_optional(&mut *tx)
            .await?
        {
            Some(id) => id,
            None => {
                let display = name.filter(|n| !n.trim().is_empty()).unwrap_or(&invitation.name);
                sqlx::query_scalar(
                    "INSERT INTO users (email, name, starfleet_id, platform_admin, created_at, updated_at) \
                     VALUES ($1, $2, $3, 0, $4, $4) RETURNING id",
                )
                .bind(&invitation.email)
                .bind(display)
                .bind(uuid::Uuid::new_v4().simple().to_string())
                .bind(t)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        if let Some(hash) = first_password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash IS NULL")
                .bind(hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        if accept_terms {
            sqlx::query("UPDATE users SET terms_accepted_at = $1 WHERE id = $2 AND terms_accepted_at IS NULL")
                .bind(t)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        // One change per scope, so the scope is checked with all its invited roles at once.
        let mut scopes: Vec<(Option<String>, Vec<Role>)> = Vec::new();
        for (role, team) in &invitation.roles {
            match scopes.iter_mut().find(|(t, _)| t == team) {
                Some((_, roles)) => roles.push(*role),
                None => scopes.push((team.clone(), vec![*role])),
            }
        }
        for (team, roles) in &scopes {
            let team_id: Option<i64> = match team {
                Some(team) => Some(
                    sqlx::query_scalar("SELECT id FROM teams WHERE org_id = $1 AND name = $2")
                        .bind(invitation.org_id)
                        .bind(team)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| Error::NotFound(format!("team '{team}'")))?,
                ),
                None => None,
            };
            apply_role_change(&mut tx, user_id, invitation.org_id, team_id, RoleChange::Add(roles)).await?;
        }
        tx.commit().await?;
        let user = self
            .user(user_id)
            .await?
            .ok_or_else(|| Error::NotFound("user".into()))?;
        Ok((
            Invitation {
                accepted_at: Some(t),
                ..invitation
            },
            user,
        ))
    }

    /// The newest mails first.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMail>> {
        let rows = sqlx::query("SELECT * FROM outbox ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(OutboxMail {
                    id: row.try_get("id")?,
                    recipient: row.try_get("recipient")?,
                    subject: row.try_get("subject")?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// Writes a mail (recipient, subject, body) to the outbox within `tx`.
pub(super) async fn queue_mail(tx: &mut Transaction<'_, Any>, mail: &(String, String, String), at: i64) -> Result<()> {
    let (recipient, subject, body) = mail;
    sqlx::query("INSERT INTO outbox (recipient, subject, body, created_at) VALUES ($1, $2, $3, $4)")
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
