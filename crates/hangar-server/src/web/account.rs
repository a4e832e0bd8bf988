//! The signed-in user's own pages: who am I (orgs, teams, roles, sessions), changing the
//! password, choosing the org and team to work in, ending a session.

use super::error::{WebError, WebResult};
use super::forms::{Form, local_target, see_other};
use super::render::page;
use super::signin::CsrfOnly;
use super::visitor::{Visitor, context_value};
use crate::identity::contexts::contexts_of;
use crate::identity::error::IdentityError;
use crate::identity::mail::when;
use crate::identity::passwords::{check_new_password, hash_password};
use crate::identity::sessions::check_credentials;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use hangar_pages::{Account, Choice, Context, MembershipRow, SessionRow};
use hangar_store::meta::{Session, SessionKind};
use serde::Deserialize;

fn session_row(s: &Session, current: i64) -> SessionRow {
    let (kind, detail) = match s.kind {
        SessionKind::Browser => ("Browser", format!("{} · {}", s.client_address, s.user_agent)),
        SessionKind::Device => (
            "ngc e-mail login",
            format!("device {} · {}", s.device_id, s.client_address),
        ),
    };
    SessionRow {
        id: s.id,
        kind: kind.into(),
        detail: detail.chars().take(160).collect(),
        created: when(s.created_at),
        last_seen: when(s.last_seen_at),
        expires: when(s.expires_at),
        current: s.id == current,
    }
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    done: String,
}

async fn account_page(
    state: &AppState,
    visitor: &Visitor,
    notice: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    let user = &signed.account.user;
    let mut grants = state.meta.grants_of_user(user.id).await?;
    grants.sort_by(|a, b| (&a.org, &a.team).cmp(&(&b.org, &b.team)));
    let mut memberships: Vec<MembershipRow> = Vec::new();
    for g in grants {
        let team = g.team.clone().unwrap_or_default();
        match memberships.last_mut() {
            Some(row) if row.org == g.org && row.team == team => {
                row.roles = format!("{}, {}", row.roles, g.role);
            }
            _ => memberships.push(MembershipRow {
                org: g.org,
                team,
                roles: g.role.to_string(),
            }),
        }
    }
    let sessions = state.meta.sessions_of_user(user.id).await?;
    let body = Account {
        chrome: visitor.chrome(state).await?,
        name: user.name.clone(),
        email: user.email.clone(),
        member_since: when(user.created_at),
        terms_accepted: signed.account.terms_accepted_at.map(when).unwrap_or_default(),
        context: context_value(signed).map(|c| c.replace('/', " / ")).unwrap_or_default(),
        memberships,
        sessions: sessions.iter().map(|s| session_row(s, signed.session.id)).collect(),
        notice,
        error,
    };
    let mut response = page(&body);
    if body.error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

pub async fn show(State(state): State<AppState>, visitor: Visitor, Query(q): Query<Notice>) -> WebResult<Response> {
    let notice = match q.done.as_str() {
        "password" => Some("Your password is changed. Your other sessions are signed out.".to_string()),
        "context" => Some("Switched.".to_string()),
        "ended" => Some("The session is ended.".to_string()),
        "device" => Some("The ngc login is approved. You can go back to your terminal.".to_string()),
        "denied" => Some("The ngc login was refused.".to_string()),
        _ => None,
    };
    account_page(&state, &visitor, notice, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<PasswordForm>,
) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    visitor.check_csrf(&form.csrf)?;
    let account = &signed.account;
    // Counted like sign-ins: a borrowed session must not be a way to guess the password.
    match check_credentials(&state.meta, &account.user.email, &form.current, &visitor.client).await {
        Ok(_) => {}
        Err(IdentityError::WrongCredentials) => {
            let why = "The current password is wrong.".to_string();
            return account_page(&state, &visitor, None, Some(why)).await;
        }
        Err(e @ IdentityError::Throttled(_)) => {
            return account_page(&state, &visitor, None, Some(format!("Not changed: {e}."))).await;
        }
        Err(e) => return Err(e.into()),
    }
    if let Err(IdentityError::Invalid(why)) =
        check_new_password(&form.password, Some(&form.confirm), &account.user.email)
    {
        return account_page(
            &state,
            &visitor,
            None,
            Some(format!("The new password was refused: {why}.")),
        )
        .await;
    }
    let hash = hash_password(form.password).await?;
    state
        .meta
        .set_password(account.user.id, &hash, Some(signed.session.id))
        .await?;
    tracing::info!(user = %account.user.email, "password changed; other sessions ended");
    Ok(see_other("/account?done=password"))
}

#[derive(Deserialize, Default)]
pub struct Welcome {
    /// The org just joined.
    #[serde(default)]
    joined: String,
}

/// "Set your organization": the full-page form of the switcher.
pub async fn context_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Welcome>,
) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    let current = context_value(signed);
    let preferred = if q.joined.is_empty() {
        current
    } else {
        Some(q.joined.clone())
    };
    let choices = contexts_of(&state.meta, signed.account.user.id)
        .await?
        .into_iter()
        .map(|c| Choice {
            selected: preferred.as_deref() == Some(c.value().as_str()),
            value: c.value(),
            label: c.label(),
        })
        .collect();
    let welcome = (!q.joined.is_empty()).then(|| format!("Welcome! You joined {}.", q.joined));
    Ok(page(&Context {
        chrome: visitor.chrome(&state).await?,
        choices,
        welcome,
    }))
}

#[derive(Deserialize)]
pub struct ContextForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    next: String,
}

pub async fn set_context(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ContextForm>,
) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    visitor.check_csrf(&form.csrf)?;
    let user_id = signed.account.user.id;
    let chosen = contexts_of(&state.meta, user_id)
        .await?
        .into_iter()
        .find(|c| c.value() == form.context)
        .ok_or_else(|| WebError::BadRequest(format!("you are not a member of '{}'", form.context)))?;
    let team = chosen.team.as_deref();
    state
        .meta
        .set_session_context(signed.session.id, Some(&chosen.org), team)
        .await?;
    state.meta.set_user_context(user_id, Some(&chosen.org), team).await?;
    let next = local_target(&form.next);
    let sep = if next.contains('?') { '&' } else { '?' };
    Ok(see_other(&format!("{next}{sep}done=context")))
}

pub async fn end_session(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    visitor.check_csrf(&form.csrf)?;
    let own = state
        .meta
        .session(id)
        .await?
        .is_some_and(|s| s.user_id == Some(signed.account.user.id));
    if !own {
        return Err(WebError::NotFound("you have no such session".into()));
    }
    state.meta.end_session(id).await?;
    Ok(see_other("/account?done=ended"))
}
