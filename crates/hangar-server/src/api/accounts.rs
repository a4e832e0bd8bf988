//! A user's own sessions (browsers and `ngc` e-mail logins), and the password reset an owner or
//! user admin sends a member.

use super::extract::{Json, Path};
use super::orgs::visible_org;
use super::users::find_member;
use super::views::{self, success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::identity::mail::{self, RESET_LINK_SECONDS, link_base};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use hangar_core::policy::{Action, Target};
use hangar_store::meta::{PasswordPurpose, Session, SessionKind, now};
use serde_json::{Value, json};

fn session_json(s: &Session, current: Option<i64>) -> Value {
    json!({
        "id": s.id,
        "type": match s.kind { SessionKind::Browser => "BROWSER", SessionKind::Device => "DEVICE" },
        "deviceId": s.device_id,
        "clientAddress": s.client_address,
        "userAgent": s.user_agent,
        "createdDate": views::date(s.created_at),
        "lastUsedDate": views::date(s.last_seen_at),
        "expiresDate": views::date(s.expires_at),
        "current": Some(s.id) == current,
    })
}

/// `GET /v2/users/me/sessions`.
pub async fn list_sessions(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let user = caller.user()?;
    let sessions = state.meta.sessions_of_user(user.id).await?;
    let items: Vec<Value> = sessions.iter().map(|s| session_json(s, caller.session)).collect();
    Ok(Json(success(json!({"sessions": items}))))
}

/// `DELETE /v2/users/me/sessions/{id}`: ends one of the caller's own sessions.
pub async fn end_session(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    let user = caller.user()?;
    let own = state
        .meta
        .session(id)
        .await?
        .is_some_and(|s| s.user_id == Some(user.id));
    if !own {
        return Err(ApiError::NotFound(format!("you have no session {id}")));
    }
    state.meta.end_session(id).await?;
    Ok(Json(success(json!({}))))
}

/// `POST /v2/org/{org}/users/{user}/password-reset`: mails the member a one-time link to set
/// a new password. The link goes only to the member's own address, never to the caller.
pub async fn send_password_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    caller.require(Action::ManageUsers, &Target::org(&org.name))?;
    let member = find_member(&state, &org, None, &user).await?;
    let by = caller.user.as_ref().map_or_else(
        || format!("An admin of {}", org.display_name),
        |u| format!("{} ({})", u.name, u.email),
    );
    let expires_at = now() + RESET_LINK_SECONDS;
    let base = link_base(&state.settings, &headers);
    state
        .meta
        .create_password_link(
            member.user.id,
            PasswordPurpose::Reset,
            caller.user.as_ref().map(|u| u.id),
            expires_at,
            Some(Box::new(|token: &str| {
                mail::password_reset(&base, token, expires_at, &by)
            })),
        )
        .await?;
    tracing::info!(to = %member.user.email, org = %org.name, "password reset mail written to the outbox");
    Ok(Json(success(
        json!({"email": member.user.email, "expiresDate": views::date(expires_at)}),
    )))
}
