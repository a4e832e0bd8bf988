//! `ngc`'s e-mail login (ngc-api.md §2.4): a client asks for a login and gets a session key and
//! a page to open; a signed-in user approves it there; from then on the key is a bearer that
//! acts as that user, with the user's own roles, until it expires or the user ends it.

use super::error::{IdentityError, IdentityResult};
use super::sessions::Client;
use hangar_store::meta::{CreatedSession, MetaStore, NewSession, Session, SessionKind, now};

/// How long an approved device login lasts (`expiresIn`, as NGC answers).
pub const DEVICE_LOGIN_SECONDS: i64 = 24 * 60 * 60;
/// How long a login waits for its approval.
pub const APPROVAL_WINDOW: i64 = 15 * 60;
/// Logins waiting for approval that one address may have at once.
pub const MAX_WAITING_PER_ADDRESS: i64 = 20;

const MAX_DEVICE_ID: usize = 128;
const MAX_EMAIL: usize = 320;

fn printable(what: &str, value: &str, max: usize) -> IdentityResult<()> {
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(IdentityError::Invalid(format!(
            "{what} must be at most {max} printable characters"
        )));
    }
    Ok(())
}

/// Starts a login that waits for approval on the page of its approval code.
pub async fn start(meta: &MetaStore, device_id: &str, email: &str, client: &Client) -> IdentityResult<CreatedSession> {
    printable("deviceId", device_id, MAX_DEVICE_ID)?;
    printable("email", email, MAX_EMAIL)?;
    if meta.waiting_device_logins(&client.address).await? >= MAX_WAITING_PER_ADDRESS {
        return Err(IdentityError::Invalid(format!(
            "too many e-mail logins are waiting for approval from this address; approve them or wait {} minutes",
            APPROVAL_WINDOW / 60
        )));
    }
    let new = NewSession {
        kind: SessionKind::Device,
        user_id: None,
        context_org: None,
        context_team: None,
        device_id: device_id.to_string(),
        requested_email: email.trim().to_lowercase(),
        client_address: client.address.clone(),
        user_agent: client.user_agent.chars().take(300).collect(),
        idle_seconds: 0,
        expires_at: now() + APPROVAL_WINDOW,
    };
    Ok(meta.create_session(&new).await?)
}

/// The login waiting for approval under `code`.
pub async fn waiting(meta: &MetaStore, code: &str) -> IdentityResult<Session> {
    meta.session_by_approval(code)
        .await?
        .filter(|s| s.user_id.is_none() && s.live(now()))
        .ok_or_else(|| {
            IdentityError::Invalid("this login request is unknown, was already answered, or has expired".into())
        })
}

/// Gives the waiting login to `user_id`; it lasts [`DEVICE_LOGIN_SECONDS`] from its start.
pub async fn approve(meta: &MetaStore, code: &str, user_id: i64) -> IdentityResult<Session> {
    let session = waiting(meta, code).await?;
    if !meta
        .approve_device_session(session.id, user_id, session.created_at + DEVICE_LOGIN_SECONDS)
        .await?
    {
        return Err(IdentityError::Invalid(
            "this login request was already answered or has expired".into(),
        ));
    }
    Ok(session)
}

/// Refuses the waiting login: its key never works, and the client waiting for it is told so
/// at once instead of waiting out its time.
pub async fn deny(meta: &MetaStore, code: &str) -> IdentityResult<()> {
    let session = waiting(meta, code).await?;
    meta.deny_device_session(session.id).await?;
    Ok(())
}

/// Whether `secret` is the key of a login refused on its approval page.
pub async fn was_denied(meta: &MetaStore, secret: &str) -> IdentityResult<bool> {
    Ok(meta
        .session_by_secret(secret)
        .await?
        .is_some_and(|s| s.kind == SessionKind::Device && s.denied_at.is_some()))
}
