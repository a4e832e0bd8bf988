//! The mails Hangar writes (to the outbox until SMTP is configured) and the links in them.

use crate::state::Settings;
use axum::http::HeaderMap;
use hangar_store::meta::Org;

/// How long a password reset link stays good.
pub const RESET_LINK_SECONDS: i64 = 24 * 60 * 60;
/// How long the first start's password link stays good.
pub const SETUP_LINK_SECONDS: i64 = 7 * 24 * 60 * 60;

/// The start of links to this server: `--public-url`, or else the host the request named.
pub fn link_base(settings: &Settings, headers: &HeaderMap) -> String {
    match &settings.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => settings.request_base(headers),
    }
}

/// A time as people read it in mails and on pages: `2026-12-04 23:19 UTC`.
pub fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub fn invitation_link(base: &str, token: &str) -> String {
    format!("{base}/invitations/{token}")
}

pub fn password_link(base: &str, token: &str) -> String {
    format!("{base}/password/{token}")
}

/// Subject and body of an invitation.
pub fn invitation(org: &Org, base: &str, token: &str, expires_at: i64, message: &str) -> (String, String) {
    let subject = format!("You are invited to join {} on Hangar", org.display_name);
    let note = if message.is_empty() {
        String::new()
    } else {
        format!("\n\n{message}")
    };
    let body = format!(
        "You have been invited to the Hangar org '{}'.{note}\n\nAccept in your browser (create your account, or sign in):\n  {}\n\n\
         or from a terminal:\n  hangar invitation accept {token}\n\nThis invitation expires at {}.",
        org.name,
        invitation_link(base, token),
        when(expires_at)
    );
    (subject, body)
}

/// Subject and body of a password reset sent by `by`.
pub fn password_reset(base: &str, token: &str, expires_at: i64, by: &str) -> (String, String) {
    let subject = "Set a new Hangar password".to_string();
    let body = format!(
        "{by} sent you a link to set a new password for Hangar:\n  {}\n\n\
         Setting it signs out all your sessions. The link works once, until {}.\n\
         If you did not expect this, ignore this mail: your password stays as it is.",
        password_link(base, token),
        when(expires_at)
    );
    (subject, body)
}

/// Subject and body of a user's request for access, to the publisher's admins.
pub fn access_requested(what: &str, user: &str, note: &str, answer: &str) -> (String, String) {
    let subject = format!("{user} asks for access to {what}");
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("\n\nTheir note:\n  {note}")
    };
    let body = format!(
        "{user} asks to download {what}, which needs your approval.{note}\n\n\
         Answer from a terminal:\n  {answer} --user {user}\n\nor deny it with `deny` in place of `approve`."
    );
    (subject, body)
}

/// Subject and body of the publisher's answer (`APPROVED`, `DENIED`, `REVOKED`) to a user.
pub fn access_answered(what: &str, state: &str) -> (String, String) {
    let (verb, more) = match state {
        "APPROVED" => ("approved", "You may download it now."),
        "DENIED" => ("denied", "You may not download it."),
        _ => ("revoked", "You may no longer download it."),
    };
    (
        format!("Your access to {what} was {verb}"),
        format!("The publisher {verb} your access to {what}. {more}"),
    )
}
