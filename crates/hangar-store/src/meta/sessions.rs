//! Sessions: signed-in browsers (the secret is a cookie) and `ngc`'s e-mail logins (the secret
//! is the session key it sends as a bearer). Only SHA-256 hashes of secrets are stored.

use super::keys::{hash_secret, random_secret};
use super::{MetaStore, now};
use crate::{Error, Result};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Browser,
    Device,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "BROWSER",
            SessionKind::Device => "DEVICE",
        }
    }

    /// The prefix of this kind's secret, so a bearer value says which kind it is.
    pub fn secret_prefix(self) -> &'static str {
        match self {
            SessionKind::Browser => "hgsess-",
            SessionKind::Device => "hgdev-",
        }
    }

    fn parse(value: &str) -> Result<Self> {
        match value {
            "BROWSER" => Ok(SessionKind::Browser),
            "DEVICE" => Ok(SessionKind::Device),
            other => Err(Error::Invalid(format!("unknown session kind '{other}'"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub kind: SessionKind,
    /// `None` for a device login nobody has approved yet.
    pub user_id: Option<i64>,
    /// The token every state-changing request of this session must carry.
    pub csrf_token: String,
    pub context_org: Option<String>,
    pub context_team: Option<String>,
    pub device_id: String,
    /// The e-mail a device login was asked for (informational: whoever approves owns it).
    pub requested_email: String,
    pub client_address: String,
    pub user_agent: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Seconds without use after which the session ends; 0: no idle limit.
    pub idle_seconds: i64,
    pub expires_at: i64,
    pub approved_at: Option<i64>,
    /// When a device login was refused on its approval page.
    pub denied_at: Option<i64>,
}

impl Session {
    /// Whether the session is still good at `t` (not past its absolute or idle expiry).
    pub fn live(&self, t: i64) -> bool {
        t < self.expires_at && (self.idle_seconds == 0 || t < self.last_seen_at + self.idle_seconds)
    }
}

fn session_row(row: &AnyRow) -> Result<Session> {
    let kind: String = row.try_get("kind")?;
    Ok(Session {
        id: row.try_get("id")?,
        kind: SessionKind::parse(&kind)?,
        user_id: row.try_get("user_id")?,
        csrf_token: row.try_get("csrf_token")?,
        context_org: row.try_get("context_org")?,
        context_team: row.try_get("context_team")?,
        device_id: row.try_get("device_id")?,
        requested_email: row.try_get("requested_email")?,
        client_address: row.try_get("client_address")?,
        user_agent: row.try_get("user_agent")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        idle_seconds: row.try_get("idle_seconds")?,
        expires_at: row.try_get("expires_at")?,
        approved_at: row.try_get("approved_at")?,
        denied_at: row.try_get("denied_at")?,
    })
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub kind: SessionKind,
    pub user_id: Option<i64>,
    pub context_org: Option<String>,
    pub context_team: Option<String>,
    pub device_id: String,
    pub requested_email: String,
    pub client_address: String,
    pub user_agent: String,
    pub idle_seconds: i64,
    pub expires_at: i64,
}

/// A session just created, with the secrets that exist only now.
#[derive(Debug, Clone)]
pub struct CreatedSession {
    pub session: Session,
    pub secret: String,
    /// For a device login without a user: the code of its approval page.
    pub approval_code: Option<String>,
}

/// A session's last use is written at most this often (seconds), not on every request.
const TOUCH_EVERY: i64 = 60;

impl MetaStore {
    /// Creates a session; sessions past their expiry are deleted on the way.
    pub async fn create_session(&self, new: &NewSession) -> Result<CreatedSession> {
        let t = now();
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(t)
            .execute(&self.pool)
            .await?;
        let secret = random_secret(new.kind.secret_prefix());
        let csrf_token = random_secret("");
        let approval_code = (new.kind == SessionKind::Device && new.user_id.is_none()).then(|| random_secret(""));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sessions (kind, secret_hash, user_id, csrf_token, context_org, context_team, device_id, \
             requested_email, approval_hash, client_address, user_agent, created_at, last_seen_at, idle_seconds, \
             expires_at, approved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15) RETURNING id",
        )
        .bind(new.kind.as_str())
        .bind(hash_secret(&secret))
        .bind(new.user_id)
        .bind(&csrf_token)
        .bind(&new.context_org)
        .bind(&new.context_team)
        .bind(&new.device_id)
        .bind(&new.requested_email)
        .bind(approval_code.as_deref().map(hash_secret))
        .bind(&new.client_address)
        .bind(&new.user_agent)
        .bind(t)
        .bind(new.idle_seconds)
        .bind(new.expires_at)
        .bind(new.user_id.map(|_| t))
        .fetch_one(&self.pool)
        .await?;
        let session = Session {
            id,
            kind: new.kind,
            user_id: new.user_id,
            csrf_token,
            context_org: new.context_org.clone(),
            context_team: new.context_team.clone(),
            device_id: new.device_id.clone(),
            requested_email: new.requested_email.clone(),
            client_address: new.client_address.clone(),
            user_agent: new.user_agent.clone(),
            created_at: t,
            last_seen_at: t,
            idle_seconds: new.idle_seconds,
            expires_at: new.expires_at,
            approved_at: new.user_id.map(|_| t),
            denied_at: None,
        };
        Ok(CreatedSession {
            session,
            secret,
            approval_code,
        })
    }

    /// The session a secret names, live or not (the caller decides what expiry means).
    pub async fn session_by_secret(&self, secret: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE secret_hash = $1")
            .bind(hash_secret(secret))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_row).transpose()
    }

    pub async fn session(&self, id: i64) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_row).transpose()
    }

    /// The device login an approval code names.
    pub async fn session_by_approval(&self, code: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE approval_hash = $1")
            .bind(hash_secret(code))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_row).transpose()
    }

    /// Records a use of the session at `t` (written at most once a minute).
    pub async fn touch_session(&self, id: i64, t: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at <= $3")
            .bind(t)
            .bind(id)
            .bind(t - TOUCH_EVERY)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives a waiting device login to `user_id`, until `expires_at`; false when it was
    /// already approved, denied or has expired.
    pub async fn approve_device_session(&self, id: i64, user_id: i64, expires_at: i64) -> Result<bool> {
        let t = now();
        let done = sqlx::query(
            "UPDATE sessions SET user_id = $1, approved_at = $2, last_seen_at = $2, expires_at = $3, \
             approval_hash = NULL WHERE id = $4 AND user_id IS NULL AND denied_at IS NULL AND expires_at > $2",
        )
        .bind(user_id)
        .bind(t)
        .bind(expires_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Refuses a waiting device login: it can no longer be approved, and its key is known as
    /// refused until the login would have expired anyway. False when it was not waiting.
    pub async fn deny_device_session(&self, id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET denied_at = $1, approval_hash = NULL \
             WHERE id = $2 AND user_id IS NULL AND denied_at IS NULL AND expires_at > $1",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The live sessions of a user, newest first.
    pub async fn sessions_of_user(&self, user_id: i64) -> Result<Vec<Session>> {
        let t = now();
        let rows = sqlx::query("SELECT * FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY id DESC")
            .bind(user_id)
            .bind(t)
            .fetch_all(&self.pool)
            .await?;
        let all = rows.iter().map(session_row).collect::<Result<Vec<_>>>()?;
        Ok(all.into_iter().filter(|s| s.live(t)).collect())
    }

    /// Ends one session; false when there was none with that id.
    pub async fn end_session(&self, id: i64) -> Result<bool> {
        let gone = sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(gone.rows_affected() == 1)
    }

    pub async fn set_session_context(&self, id: i64, org: Option<&str>, team: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE sessions SET context_org = $1, context_team = $2 WHERE id = $3")
            .bind(org)
            .bind(team)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl MetaStore {
    /// Device logins from `address` still waiting for approval.
    pub async fn waiting_device_logins(&self, address: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE kind = 'DEVICE' AND user_id IS NULL AND denied_at IS NULL \
             AND client_address = $1 AND expires_at > $2",
        )
        .bind(address)
        .bind(now())
        .fetch_one(&self.pool)
        .await?)
    }
}
