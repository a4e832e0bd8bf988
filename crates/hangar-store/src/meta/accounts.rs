//! What a user signs in with: a password hash, the accepted terms, the org and team they work
//! in, one-time links to set a password, and the count of failed sign-ins per account or
//! address. Hashing and the rules about passwords live in the server; this stores their result.

use super::keys::{hash_secret, random_secret};
use super::users::user_row;
use super::{MetaStore, User, now};
use crate::{Error, Result};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A user with what signing in needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: User,
    /// An argon2id PHC string; `None` until a password is set.
    pub password_hash: Option<String>,
    pub terms_accepted_at: Option<i64>,
    /// The org and team the user last chose to work in.
    pub context_org: Option<String>,
    pub context_team: Option<String>,
}

fn account_row(row: &AnyRow) -> Result<Account> {
    Ok(Account {
        user: user_row(row)?,
        password_hash: row.try_get("password_hash")?,
        terms_accepted_at: row.try_get("terms_accepted_at")?,
        context_org: row.try_get("context_org")?,
        context_team: row.try_get("context_team")?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPurpose {
    /// The first password of the owner created on the first start.
    Setup,
    /// A reset sent by an owner or user admin.
    Reset,
}

impl PasswordPurpose {
    fn as_str(self) -> &'static str {
        match self {
            PasswordPurpose::Setup => "SETUP",
            PasswordPurpose::Reset => "RESET",
        }
    }

    fn parse(value: &str) -> Result<Self> {
        match value {
            "SETUP" => Ok(PasswordPurpose::Setup),
            "RESET" => Ok(PasswordPurpose::Reset),
            other => Err(Error::Invalid(format!("unknown password link purpose '{other}'"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordLink {
    pub id: i64,
    pub user_id: i64,
    pub purpose: PasswordPurpose,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl PasswordLink {
    /// Whether the link may still set a password at `t`.
    pub fn usable(&self, t: i64) -> bool {
        self.used_at.is_none() && t < self.expires_at
    }
}

fn link_row(row: &AnyRow) -> Result<PasswordLink> {
    let purpose: String = row.try_get("purpose")?;
    Ok(PasswordLink {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        purpose: PasswordPurpose::parse(&purpose)?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    })
}

/// What the sign-in throttle made of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInAttempt {
    /// The subject is blocked until then; the attempt was not counted.
    Blocked(i64),
    /// Counted as a failure (until a right password takes it back): the failures in the current
    /// window, and the block this attempt set.
    Counted { failures: i64, blocked_until: Option<i64> },
}

/// A mail to write to the outbox in the same transaction as the link it carries.
pub type MailOf<'a> = Box<dyn FnOnce(&str) -> (String, String) + Send + 'a>;

impl MetaStore {
    pub async fn account(&self, user_id: i64) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_row).transpose()
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_row).transpose()
    }

    /// Sets the user's password hash and ends every session of theirs but `keep` (the one
    /// that changed it), in one transaction.
    pub async fn set_password(&self, user_id: i64, hash: &str, keep: Option<i64>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep.unwrap_or(0))
            .execute(&mut *tx)
            .await?;
        // A link sent before the change must not undo it.
        sqlx::query("DELETE FROM password_links WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn accept_terms(&self, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE users SET terms_accepted_at = $1 WHERE id = $2 AND terms_accepted_at IS NULL")
            .bind(now())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Remembers the org and team the user works in, for their next session.
    pub async fn set_user_context(&self, user_id: i64, org: Option<&str>, team: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE users SET context_org = $1, context_team = $2 WHERE id = $3")
            .bind(org)
            .bind(team)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Creates a one-time link to set the user's password and returns it with its token; with
    /// `mail`, the mail carrying the token goes to the outbox in the same transaction. A new
    /// link of the same purpose replaces the user's unused ones.
    pub async fn create_password_link(
        &self,
        user_id: i64,
        purpose: PasswordPurpose,
        created_by: Option<i64>,
        expires_at: i64,
        mail: Option<MailOf<'_>>,
    ) -> Result<(PasswordLink, String)> {
        let token = random_secret("hgpw-");
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM password_links WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
            .bind(user_id)
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO password_links (user_id, purpose, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(hash_secret(&token))
        .bind(created_by)
        .bind(t)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(mail) = mail {
            let recipient: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            let (subject, body) = mail(&token);
            super::invitations::queue_mail(&mut tx, &(recipient, subject, body), t).await?;
        }
        tx.commit().await?;
        let link = PasswordLink {
            id,
            user_id,
            purpose,
            created_by,
            created_at: t,
            expires_at,
            used_at: None,
        };
        Ok((link, token))
    }

    /// The link a token names, used or not.
    pub async fn password_link(&self, token: &str) -> Result<Option<PasswordLink>> {
        let row = sqlx::query("SELECT * FROM password_links WHERE token_hash = $1")
            .bind(hash_secret(token))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(link_row).transpose()
    }

    /// Sets the password through a link: claims the link (once, before it expires), sets the
    /// hash and ends every session of the user, in one transaction.
    pub async fn use_password_link(&self, token: &str, hash: &str) -> Result<User> {
        let link = self
            .password_link(token)
            .await?
            .ok_or_else(|| Error::NotFound("password link".into()))?;
        let t = now();
        let mut tx = self.pool.begin().await?;
        let claimed =
            sqlx::query("UPDATE password_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1")
                .bind(t)
                .bind(link.id)
                .execute(&mut *tx)
                .await?;
        if claimed.rows_affected() == 0 {
            return Err(Error::Invalid("the link was already used or has expired".into()));
        }
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(t)
            .bind(link.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(link.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM password_links WHERE user_id = $1 AND used_at IS NULL")
            .bind(link.user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.user(link.user_id)
            .await?
            .ok_or_else(|| Error::NotFound("user".into()))
    }

    /// Counts a sign-in attempt of `subject` (`account:<email>` or `address:<ip>`) as a failure
    /// in a window of `window` seconds, before its password is checked, unless the subject is
    /// blocked; when `block` asks for it (given the failures counted), the subject is blocked at
    /// once for that many seconds. Attempts of one subject pass here one at a time, so guesses
    /// sent in parallel cannot all slip in before the first of them blocks the rest. A right
    /// password takes its attempt back ([`MetaStore::take_back_sign_in_attempt`]).
    pub async fn begin_sign_in_attempt(
        &self,
        subject: &str,
        window: i64,
        block: impl FnOnce(i64) -> Option<i64>,
    ) -> Result<SignInAttempt> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        // A write first: it takes the row's lock (SQLite: the database's) for the transaction.
        sqlx::query(
            "INSERT INTO sign_in_failures (subject, failures, window_start, blocked_until) VALUES ($1, 0, $2, 0) \
             ON CONFLICT (subject) DO UPDATE SET failures = sign_in_failures.failures",
        )
        .bind(subject)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT failures, window_start, blocked_until FROM sign_in_failures WHERE subject = $1")
            .bind(subject)
            .fetch_one(&mut *tx)
            .await?;
        let (failures, window_start, blocked_until): (i64, i64, i64) = (
            row.try_get("failures")?,
            row.try_get("window_start")?,
            row.try_get("blocked_until")?,
        );
        if blocked_until > t {
            tx.commit().await?;
            return Ok(SignInAttempt::Blocked(blocked_until));
        }
        let (failures, window_start) = if window_start + window <= t {
            (1, t)
        } else {
            (failures + 1, window_start)
        };
        let blocked_until = block(failures).map(|seconds| t + seconds);
        sqlx::query(
            "UPDATE sign_in_failures SET failures = $1, window_start = $2, blocked_until = $3 WHERE subject = $4",
        )
        .bind(failures)
        .bind(window_start)
        .bind(blocked_until.unwrap_or(0))
        .bind(subject)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SignInAttempt::Counted {
            failures,
            blocked_until,
        })
    }

    /// Takes back a counted attempt whose password was right: one failure fewer, and the block
    /// it set, if any, lifted.
    pub async fn take_back_sign_in_attempt(&self, subject: &str, attempt: SignInAttempt) -> Result<()> {
        let SignInAttempt::Counted { blocked_until, .. } = attempt else {
            return Ok(());
        };
        sqlx::query(
            "UPDATE sign_in_failures SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, \
             blocked_until = CASE WHEN blocked_until = $1 THEN 0 ELSE blocked_until END WHERE subject = $2",
        )
        .bind(blocked_until.unwrap_or(-1))
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the failures of `subject` (after a successful sign-in).
    pub async fn clear_sign_in_failures(&self, subject: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1")
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl MetaStore {
    /// Deletes what the account tables keep past its use: sessions past their expiry (or idle
    /// limit), password links expired before `links_before`, and sign-in failures whose window
    /// started before `failures_before` and whose block is over. Returns the rows deleted.
    pub async fn forget_expired_accounts_data(&self, links_before: i64, failures_before: i64) -> Result<u64> {
        let t = now();
        let sessions = sqlx::query(
            "DELETE FROM sessions WHERE expires_at <= $1 OR (idle_seconds > 0 AND last_seen_at + idle_seconds <= $1)",
        )
        .bind(t)
        .execute(&self.pool)
        .await?;
        let links = sqlx::query("DELETE FROM password_links WHERE expires_at <= $1")
            .bind(links_before)
            .execute(&self.pool)
            .await?;
        let failures = sqlx::query("DELETE FROM sign_in_failures WHERE window_start <= $1 AND blocked_until <= $2")
            .bind(failures_before)
            .bind(t)
            .execute(&self.pool)
            .await?;
        Ok(sessions.rows_affected() + links.rows_affected() + failures.rows_affected())
    }
}
