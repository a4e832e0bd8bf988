//! Signing in and out.

use super::error::WebResult;
use super::forms::{Form, local_target, see_other};
use super::render::page;
use super::visitor::Visitor;
use crate::identity::error::IdentityError;
use crate::identity::sessions::{SESSION_COOKIE, check_credentials, open_browser_session};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use hangar_pages::SignIn;
use hangar_store::meta::Account;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
    /// Why the visitor is here: `password` after setting a password.
    #[serde(default)]
    done: String,
}

pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<SignInQuery>,
) -> WebResult<Response> {
    if visitor.signed.is_some() {
        return Ok(see_other(&local_target(&q.next)));
    }
    let notice = match q.done.as_str() {
        "password" => Some("Your password is set. Sign in with it.".to_string()),
        "signout" => Some("You are signed out.".to_string()),
        _ => None,
    };
    let body = SignIn {
        chrome: visitor.chrome(&state).await?,
        email: String::new(),
        next: q.next,
        error: None,
        notice,
    };
    Ok(visitor.respond(page(&body)))
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<SignInForm>,
) -> WebResult<Response> {
    visitor.check_csrf(&form.csrf)?;
    match check_credentials(&state.meta, &form.email, &form.password, &visitor.client).await {
        Ok(account) => start_session(&state, &visitor, &account, &local_target(&form.next)).await,
        Err(e @ (IdentityError::WrongCredentials | IdentityError::Throttled(_))) => {
            let status = match e {
                IdentityError::Throttled(_) => axum::http::StatusCode::TOO_MANY_REQUESTS,
                _ => axum::http::StatusCode::UNAUTHORIZED,
            };
            let body = SignIn {
                chrome: visitor.chrome(&state).await?,
                email: form.email,
                next: form.next,
                error: Some(capitalized(&e.to_string())),
                notice: None,
            };
            let mut response = visitor.respond(page(&body));
            *response.status_mut() = status;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Opens a browser session for `account`, sets its cookie and goes to `next`.
pub async fn start_session(state: &AppState, visitor: &Visitor, account: &Account, next: &str) -> WebResult<Response> {
    // A new session id at every sign-in; whoever this browser was signed in as before is
    // signed out.
    if let Some(previous) = &visitor.signed {
        state.meta.end_session(previous.session.id).await?;
    }
    let created = open_browser_session(&state.meta, &state.settings, account, &visitor.client).await?;
    let cookie = Cookie::build((SESSION_COOKIE, created.secret))
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(time_of(state.settings.session_lifetime));
    Ok((CookieJar::new().add(cookie), see_other(next)).into_response())
}

fn time_of(d: std::time::Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(d.as_secs() as i64)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CsrfOnly>,
) -> WebResult<Response> {
    let Some(signed) = &visitor.signed else {
        return Ok(see_other("/signin"));
    };
    visitor.check_csrf(&form.csrf)?;
    state.meta.end_session(signed.session.id).await?;
    let gone = Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .max_age(time_of(std::time::Duration::ZERO));
    Ok((CookieJar::new().add(gone), see_other("/signin?done=signout")).into_response())
}
