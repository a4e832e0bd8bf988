//! Signing in: checking a password under the sign-in throttle, opening a browser session, and
//! finding the live session a cookie or bearer names.

use super::error::{IdentityError, IdentityResult};
use super::passwords::verify_password;
use crate::state::Settings;
use hangar_core::names::normalize_email;
use hangar_store::meta::{Account, CreatedSession, MetaStore, NewSession, Session, SessionKind, SignInAttempt, now};
use std::net::IpAddr;

/// The cookie that carries a browser session's secret.
pub const SESSION_COOKIE: &str = "hangar_session";
/// The header a signed-in browser's state-changing API calls carry the CSRF token in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Compares a presented secret with the expected one in constant time.
pub fn same_secret(presented: &str, expected: &str) -> bool {
    !expected.is_empty()
        && presented.len() == expected.len()
        && aws_lc_rs::constant_time::verify_slices_are_equal(presented.as_bytes(), expected.as_bytes()).is_ok()
}

/// Failed sign-ins counted per account, and per client address, within this many seconds.
pub const FAILURE_WINDOW: i64 = 15 * 60;
/// Failures of one account in the window after which it is blocked for a while.
pub const ACCOUNT_FAILURES: i64 = 5;
/// Failures from one address (any accounts) in the window after which it is blocked.
pub const ADDRESS_FAILURES: i64 = 20;
/// The first block lasts this long; each further failure doubles it, up to [`MAX_BLOCK`].
const FIRST_BLOCK: i64 = 30;
const MAX_BLOCK: i64 = 15 * 60;

/// Where a request came from, as recorded with its session.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub address: String,
    pub user_agent: String,
}

impl Client {
    /// The client of a request: its address and its `User-Agent`. The address is the
    /// connection's, unless that is one of `trusted_proxies` (a load balancer): then it is the
    /// last address in `X-Forwarded-For` that is not a trusted proxy itself.
    pub fn of(parts: &axum::http::request::Parts, trusted_proxies: &[IpAddr]) -> Client {
        let peer = parts.extensions.get::<crate::server::Peer>().map(|p| p.0.ip());
        let address = match peer {
            Some(ip) if trusted_proxies.contains(&ip) => forwarded_for(parts, trusted_proxies).unwrap_or(ip),
            Some(ip) => ip,
            None => return Client::described(parts, "unknown".into()),
        };
        Client::described(parts, address.to_string())
    }

    fn described(parts: &axum::http::request::Parts, address: String) -> Client {
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Client { address, user_agent }
    }
}

/// The nearest address in `X-Forwarded-For` (read from the right) that is not a trusted proxy.
fn forwarded_for(parts: &axum::http::request::Parts, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let header = parts.headers.get_all("x-forwarded-for");
    let hops: Vec<IpAddr> = header
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter().rev().find(|ip| !trusted_proxies.contains(ip))
}

fn block_for(failures: i64, limit: i64) -> Option<i64> {
    let extra = failures - limit;
    (extra >= 0).then(|| (FIRST_BLOCK << extra.min(10)).min(MAX_BLOCK))
}

/// Checks an e-mail and password. Unknown e-mails and wrong passwords get the same answer in
/// the same time; after repeated failures the account or address is blocked for a while, and
/// while blocked not even a right password gets in. Each attempt counts as a failure before its
/// password is checked and a right one takes it back, so guesses sent in parallel get no more
/// answers than the limits allow.
pub async fn check_credentials(
    meta: &MetaStore,
    email: &str,
    password: &str,
    client: &Client,
) -> IdentityResult<Account> {
    let email = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    let account_subject = format!("account:{email}");
    let address_subject = format!("address:{}", client.address);
    let throttled = |until: i64| IdentityError::Throttled((until - now()).max(1));
    let by_account = meta
        .begin_sign_in_attempt(&account_subject, FAILURE_WINDOW, |f| block_for(f, ACCOUNT_FAILURES))
        .await?;
    if let SignInAttempt::Blocked(until) = by_account {
        return Err(throttled(until));
    }
    let by_address = meta
        .begin_sign_in_attempt(&address_subject, FAILURE_WINDOW, |f| block_for(f, ADDRESS_FAILURES))
        .await?;
    if let SignInAttempt::Blocked(until) = by_address {
        meta.take_back_sign_in_attempt(&account_subject, by_account).await?;
        return Err(throttled(until));
    }
    let account = meta.account_by_email(&email).await?;
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    if !verify_password(password.to_string(), hash).await {
        tracing::info!(address = %client.address, "sign-in refused: wrong e-mail or password");
        return Err(IdentityError::WrongCredentials);
    }
    meta.clear_sign_in_failures(&account_subject).await?;
    meta.take_back_sign_in_attempt(&address_subject, by_address).await?;
    account.ok_or(IdentityError::WrongCredentials)
}

/// Opens a browser session for the account, starting in the org and team it last worked in.
pub async fn open_browser_session(
    meta: &MetaStore,
    settings: &Settings,
    account: &Account,
    client: &Client,
) -> IdentityResult<CreatedSession> {
    let new = NewSession {
        kind: SessionKind::Browser,
        user_id: Some(account.user.id),
        context_org: account.context_org.clone(),
        context_team: account.context_team.clone(),
        device_id: String::new(),
        requested_email: String::new(),
        client_address: client.address.clone(),
        user_agent: client.user_agent.chars().take(300).collect(),
        idle_seconds: settings.session_idle.as_secs() as i64,
        expires_at: now() + settings.session_lifetime.as_secs() as i64,
    };
    tracing::info!(user = %account.user.email, address = %client.address, "signed in");
    Ok(meta.create_session(&new).await?)
}

/// A live, approved session with its account.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub account: Account,
}

/// The live session of `kind` that `secret` names, with its user; `None` for an unknown,
/// expired or not yet approved one. Records the use (for the idle expiry).
pub async fn resolve(meta: &MetaStore, secret: &str, kind: SessionKind) -> IdentityResult<Option<SignedIn>> {
    if !secret.starts_with(kind.secret_prefix()) {
        return Ok(None);
    }
    let Some(session) = meta.session_by_secret(secret).await? else {
        return Ok(None);
    };
    let t = now();
    let Some(user_id) = session.user_id.filter(|_| session.kind == kind && session.live(t)) else {
        return Ok(None);
    };
    let Some(account) = meta.account(user_id).await? else {
        return Ok(None);
    };
    meta.touch_session(session.id, t).await?;
    Ok(Some(SignedIn { session, account }))
}

#[cfg(test)]
mod tests {
    use super::{Client, block_for};
    use crate::server::Peer;

    fn client(peer: &str, forwarded: &[&str], trusted: &[&str]) -> String {
        let mut request = axum::http::Request::builder();
        for value in forwarded {
            request = request.header("x-forwarded-for", *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts.extensions.insert(Peer(format!("{peer}:5000").parse().unwrap()));
        let trusted: Vec<_> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        Client::of(&parts, &trusted).address
    }

    #[test]
    fn client_address_comes_from_trusted_proxies_only() {
        // Anyone can send the header: from an untrusted peer it is ignored.
        assert_eq!(client("203.0.113.9", &["198.51.100.1"], &[]), "203.0.113.9");
        assert_eq!(client("10.0.0.2", &["198.51.100.1"], &["10.0.0.2"]), "198.51.100.1");
        // A client-chosen first entry does not win over what the proxy appended.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4, 198.51.100.1"], &["10.0.0.2"]),
            "198.51.100.1"
        );
        // Chained trusted proxies are skipped; several header lines read as one list.
        assert_eq!(
            client("10.0.0.2", &["198.51.100.1", "10.0.0.3"], &["10.0.0.2", "10.0.0.3"]),
            "198.51.100.1"
        );
        // A trusted proxy that sent no usable header is the client.
        assert_eq!(client("10.0.0.2", &["garbage"], &["10.0.0.2"]), "10.0.0.2");
    }

    #[test]
    fn blocks_grow_and_stop_growing() {
        assert_eq!(block_for(4, 5), None);
        assert_eq!(block_for(5, 5), Some(30));
        assert_eq!(block_for(6, 5), Some(60));
        assert_eq!(block_for(9, 5), Some(480));
        assert_eq!(block_for(10, 5), Some(900));
        assert_eq!(block_for(1000, 5), Some(900));
    }
}
