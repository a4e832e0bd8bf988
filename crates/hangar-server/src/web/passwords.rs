//! Setting a password through a one-time link: the owner's first password, or a reset an
//! owner or user admin sent.

use super::error::WebResult;
use super::forms::{Form, see_other};
use super::render::{message_page, page};
use super::visitor::Visitor;
use crate::identity::error::IdentityError;
use crate::identity::passwords::{check_new_password, hash_password};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hangar_pages::PasswordLink as Page;
use hangar_store::meta::{Account, PasswordLink, PasswordPurpose, now};
use serde::Deserialize;

async fn usable_link(state: &AppState, token: &str) -> WebResult<Result<(PasswordLink, Account), Response>> {
    let link = state.meta.password_link(token).await?;
    let account = match &link {
        Some(link) => state.meta.account(link.user_id).await?,
        None => None,
    };
    match (link, account) {
        (Some(link), Some(account)) if link.usable(now()) => Ok(Ok((link, account))),
        (Some(_), Some(_)) => {
            let mut response = message_page(
                "This link was used or has expired",
                "A password link works once and for a limited time. Ask an owner or user admin of your organization to send a new one.",
                Some(("/signin", "Sign in")),
            );
            *response.status_mut() = StatusCode::GONE;
            Ok(Err(response))
        }
        _ => {
            let mut response = message_page(
                "This link is not valid",
                "No password link has this address. Check that you opened the whole link.",
                Some(("/signin", "Sign in")),
            );
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok(Err(response))
        }
    }
}

fn with_terms(link: &PasswordLink, account: &Account) -> bool {
    link.purpose == PasswordPurpose::Setup || account.terms_accepted_at.is_none()
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
    link: &PasswordLink,
    account: &Account,
    error: Option<String>,
) -> WebResult<Response> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = Page {
        chrome: visitor.chrome(state).await?,
        token: token.to_string(),
        email: account.user.email.clone(),
        with_terms: with_terms(link, account),
        error,
    };
    let mut response = visitor.respond(page(&body));
    *response.status_mut() = status;
    Ok(response)
}

pub async fn show(State(state): State<AppState>, visitor: Visitor, Path(token): Path<String>) -> WebResult<Response> {
    match usable_link(&state, &token).await? {
        Ok((link, account)) => render(&state, &visitor, &token, &link, &account, None).await,
        Err(refusal) => Ok(refusal),
    }
}

#[derive(Deserialize)]
pub struct SetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    terms: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    Form(form): Form<SetForm>,
) -> WebResult<Response> {
    visitor.check_csrf(&form.csrf)?;
    let (link, account) = match usable_link(&state, &token).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    let terms = with_terms(&link, &account);
    if terms && form.terms != "accept" {
        let why = "Accept the terms of use to continue.".to_string();
        return render(&state, &visitor, &token, &link, &account, Some(why)).await;
    }
    if let Err(IdentityError::Invalid(why)) =
        check_new_password(&form.password, Some(&form.confirm), &account.user.email)
    {
        let why = format!("The password was refused: {why}.");
        return render(&state, &visitor, &token, &link, &account, Some(why)).await;
    }
    let hash = hash_password(form.password).await?;
    let user = match state.meta.use_password_link(&token, &hash).await {
        Ok(user) => user,
        Err(hangar_store::Error::Invalid(_) | hangar_store::Error::NotFound(_)) => {
            return Ok(usable_link(&state, &token)
                .await?
                .err()
                .unwrap_or_else(|| see_other("/signin")));
        }
        Err(e) => return Err(e.into()),
    };
    if terms {
        state.meta.accept_terms(user.id).await?;
    }
    tracing::info!(user = %user.email, "password set through a link; all sessions ended");
    Ok(see_other("/signin?done=password"))
}
