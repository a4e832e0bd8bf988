//! Accepting an invitation in the browser: a new user creates the account (name, password
//! twice, terms of use); an existing one signs in (or is signed in) and joins. Then "set your
//! organization".

use super::error::{WebError, WebResult};
use super::forms::Form;
use super::render::{message_page, page};
use super::signin::start_session;
use super::visitor::Visitor;
use crate::identity::error::IdentityError;
use crate::identity::mail::when;
use crate::identity::passwords::{check_new_password, hash_password};
use crate::identity::sessions::check_credentials;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hangar_core::names::validate_text;
use hangar_pages::{Invitation as Page, InvitationMode};
use hangar_store::meta::{Account, Invitation, Org, now};
use serde::Deserialize;

/// An invitation that may still be accepted, with its link's token and its org.
struct Opened {
    token: String,
    invitation: Invitation,
    org: Org,
}

/// The open invitation a link names, or the page that says why it cannot be used.
async fn open_invitation(state: &AppState, token: &str) -> WebResult<Result<Opened, Response>> {
    let Some(invitation) = state.meta.invitation_by_token(token).await? else {
        let mut response = message_page(
            "This invitation link is not valid",
            "No invitation has this link. Check that you opened the whole link from the mail, or ask an owner or user admin of the organization to invite you again.",
            Some(("/signin", "Sign in")),
        );
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(Err(response));
    };
    let org = state.meta.org_by_id(invitation.org_id).await?;
    let refusal = if invitation.accepted_at.is_some() {
        Some((
            "This invitation was already used",
            format!(
                "The invitation to {} was accepted on {}. Sign in to work in it.",
                org.display_name,
                when(invitation.accepted_at.unwrap_or_default())
            ),
        ))
    } else if invitation.expires_at <= now() {
        Some((
            "This invitation has expired",
            format!(
                "The invitation to {} expired on {}. Ask an owner or user admin of the organization for a new one.",
                org.display_name,
                when(invitation.expires_at)
            ),
        ))
    } else {
        None
    };
    if let Some((title, text)) = refusal {
        let mut response = message_page(title, &text, Some(("/signin", "Sign in")));
        *response.status_mut() = StatusCode::GONE;
        return Ok(Err(response));
    }
    Ok(Ok(Opened {
        token: token.to_string(),
        invitation,
        org,
    }))
}

fn mode_for(visitor: &Visitor, invitation: &Invitation, account: Option<&Account>) -> InvitationMode {
    let signed_in_as_invited = visitor
        .signed
        .as_ref()
        .is_some_and(|s| s.account.user.email == invitation.email);
    match account {
        _ if signed_in_as_invited => InvitationMode::Join,
        Some(a) if a.password_hash.is_some() => InvitationMode::SignInToJoin,
        _ => InvitationMode::NewAccount,
    }
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    opened: &Opened,
    name: &str,
    error: Option<String>,
    status: StatusCode,
) -> WebResult<Response> {
    let (invitation, org) = (&opened.invitation, &opened.org);
    let account = state.meta.account_by_email(&invitation.email).await?;
    let roles: Vec<String> = invitation
        .roles
        .iter()
        .map(|(role, team)| match team {
            Some(team) => format!("{role} in team {team}"),
            None => role.to_string(),
        })
        .collect();
    let body = Page {
        chrome: visitor.chrome(state).await?,
        token: opened.token.clone(),
        org: org.display_name.clone(),
        email: invitation.email.clone(),
        roles: roles.join(", "),
        expires: when(invitation.expires_at),
        message: invitation.message.clone(),
        mode: mode_for(visitor, invitation, account.as_ref()),
        name: if name.is_empty() {
            invitation.name.clone()
        } else {
            name.to_string()
        },
        signed_in_as: visitor
            .signed
            .as_ref()
            .map(|s| s.account.user.email.clone())
            .filter(|e| *e != invitation.email),
        error,
    };
    let mut response = visitor.respond(page(&body));
    *response.status_mut() = status;
    Ok(response)
}

pub async fn show(State(state): State<AppState>, visitor: Visitor, Path(token): Path<String>) -> WebResult<Response> {
    match open_invitation(&state, &token).await? {
        Ok(opened) => render(&state, &visitor, &opened, "", None, StatusCode::OK).await,
        Err(refusal) => Ok(refusal),
    }
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    terms: String,
}

pub async fn accept(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> WebResult<Response> {
    visitor.check_csrf(&form.csrf)?;
    let opened = match open_invitation(&state, &token).await? {
        Ok(opened) => opened,
        Err(refusal) => return Ok(refusal),
    };
    let (invitation, org) = (&opened.invitation, &opened.org);
    let refuse = |why: String| {
        render(
            &state,
            &visitor,
            &opened,
            &form.name,
            Some(why),
            StatusCode::BAD_REQUEST,
        )
    };
    let account = state.meta.account_by_email(&invitation.email).await?;
    let joined = format!("/account/context?joined={}", super::forms::encode(&org.name));
    match mode_for(&visitor, invitation, account.as_ref()) {
        InvitationMode::Join => {
            accept_claimed(&state, &token, None, None, false).await?;
            Ok(super::forms::see_other(&joined))
        }
        InvitationMode::SignInToJoin => {
            match check_credentials(&state.meta, &invitation.email, &form.password, &visitor.client).await {
                Ok(_) => {}
                Err(e @ (IdentityError::WrongCredentials | IdentityError::Throttled(_))) => {
                    return refuse(format!("Cannot sign in: {e}.")).await;
                }
                Err(e) => return Err(e.into()),
            }
            let account = accept_claimed(&state, &token, None, None, false).await?;
            start_session(&state, &visitor, &account, &joined).await
        }
        InvitationMode::NewAccount => {
            let name = form.name.trim();
            if name.is_empty() {
                return refuse("Enter your name.".into()).await;
            }
            if let Err(e) = validate_text("name", name, 200) {
                return refuse(e.to_string()).await;
            }
            if form.terms != "accept" {
                return refuse("Accept the terms of use to create the account.".into()).await;
            }
            if let Err(IdentityError::Invalid(why)) =
                check_new_password(&form.password, Some(&form.confirm), &invitation.email)
            {
                return refuse(format!("The password was refused: {why}.")).await;
            }
            let hash = hash_password(form.password.clone()).await?;
            let account = accept_claimed(&state, &token, Some(name), Some(&hash), true).await?;
            if account.user.name != name {
                // An account that existed without a password (made by an older invitation).
                state.meta.set_user_name(account.user.id, name).await?;
            }
            start_session(&state, &visitor, &account, &joined).await
        }
    }
}

/// Claims the invitation and returns the account that joined.
async fn accept_claimed(
    state: &AppState,
    token: &str,
    name: Option<&str>,
    hash: Option<&str>,
    terms: bool,
) -> WebResult<Account> {
    let (invitation, user) = state
        .meta
        .accept_invitation(token, name, hash, terms)
        .await
        .map_err(|e| match e {
            hangar_store::Error::Invalid(why) => WebError::BadRequest(why),
            hangar_store::Error::NotFound(what) => WebError::NotFound(format!("{what} not found")),
            other => other.into(),
        })?;
    tracing::info!(user = %user.email, org = invitation.org_id, "invitation accepted in the browser");
    state
        .meta
        .account(user.id)
        .await?
        .ok_or_else(|| WebError::Internal("the account that joined is gone".into()))
}
