//! Inviting people to an org or team, and accepting an invitation.

use super::extract::{Json, Page, Path, Query};
use super::orgs::{visible_org, visible_team};
use super::views::{self, success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::identity::error::IdentityError;
use crate::identity::keys::{PersonalKeyRequest, issue_personal_key};
use crate::identity::mail::{self, link_base};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use hangar_core::names::{normalize_email, validate_text};
use hangar_core::policy::{Action, Target, can_grant};
use hangar_core::roles::Role;
use hangar_store::meta::{NewInvitation, Org, now};
use serde::Deserialize;
use serde_json::{Value, json};

/// Invitations last at most this long (one month).
const MAX_EXPIRY_MINUTES: i64 = 30 * 24 * 60;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitationRole {
    name: String,
    /// Team names; empty for an org-level role.
    #[serde(default)]
    resource_groups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewInvitationBody {
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
    /// Minutes until the invitation expires.
    invitation_expiration_in: Option<i64>,
    roles: Vec<InvitationRole>,
}

pub async fn invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    Path(org): Path<String>,
    Json(body): Json<NewInvitationBody>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let email = normalize_email(&body.email)?;
    validate_text("name", &body.name, 200)?;
    validate_text("message", &body.message, 2000)?;
    if body.roles.is_empty() {
        return Err(ApiError::BadRequest("an invitation needs at least one role".into()));
    }
    let mut roles: Vec<(Role, Option<String>)> = Vec::new();
    for r in &body.roles {
        let role: Role = r.name.parse()?;
        let teams: Vec<Option<String>> = match r.resource_groups.as_slice() {
            [] => vec![None],
            teams => teams.iter().map(|t| Some(t.clone())).collect(),
        };
        for team in teams {
            if let Some(name) = &team {
                state.meta.require_team(&org, name).await?;
                if !role.allowed_in_team() {
                    return Err(ApiError::BadRequest(format!("{role} can only be held at org scope")));
                }
            }
            let target = Target::team(&org.name, team.as_deref());
            caller.require(Action::ManageUsers, &target)?;
            if !can_grant(&caller.subject, role, &target) {
                return Err(ApiError::Forbidden(format!(
                    "you cannot grant {role}: a user admin grants only roles they hold"
                )));
            }
            roles.push((role, team));
        }
    }
    let mut scopes: Vec<&Option<String>> = roles.iter().map(|(_, t)| t).collect();
    scopes.dedup();
    for scope in scopes {
        if !roles.iter().any(|(r, t)| t == scope && r.confers_membership()) {
            return Err(ApiError::BadRequest(
                "a member needs REGISTRY_READ, REGISTRY_USER, REGISTRY_ADMIN, USER_ADMIN or ORG_OWNER".into(),
            ));
        }
    }
    let minutes = body
        .invitation_expiration_in
        .unwrap_or(state.settings.invitation_expiry_minutes);
    if !(1..=MAX_EXPIRY_MINUTES).contains(&minutes) {
        return Err(ApiError::BadRequest(format!(
            "invitationExpirationIn must be 1 to {MAX_EXPIRY_MINUTES} minutes"
        )));
    }
    let expires_at = now() + minutes * 60;
    let new = NewInvitation {
        org_id: org.id,
        email: email.clone(),
        name: body.name.trim().to_string(),
        message: body.message.clone(),
        roles,
        invited_by: caller.user.as_ref().map(|u| u.id),
        expires_at,
    };
    let (invitation, token) = state
        .meta
        .create_invitation(&new, |token| {
            mail::invitation(
                &org,
                &link_base(&state.settings, &headers),
                token,
                expires_at,
                &body.message,
            )
        })
        .await?;
    drop(token);
    tracing::info!(to = %email, org = %org.name, "invitation mail written to the outbox");
    Ok(Json(success(
        json!({"invitation": views::invitation(&invitation, &org.name)}),
    )))
}

async fn list(state: &AppState, org: &Org, team: Option<&str>, page: Page) -> ApiResult<Json<Value>> {
    let pending = state.meta.pending_invitations(org.id, team).await?;
    let (pending, info) = page.slice(pending);
    let items: Vec<Value> = pending.iter().map(|i| views::invitation(i, &org.name)).collect();
    Ok(Json(success(json!({"invitations": items, "paginationInfo": info}))))
}

pub async fn list_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    caller.require(Action::ViewUsers, &Target::org(&org.name))?;
    list(&state, &org, None, page).await
}

pub async fn list_team(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    caller.require(Action::ViewUsers, &Target::team(&org.name, Some(&team.name)))?;
    list(&state, &org, Some(&team.name), page).await
}

#[derive(Deserialize)]
pub struct EmailQuery {
    email: String,
}

pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Query(q): Query<EmailQuery>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    caller.require(Action::ManageUsers, &Target::org(&org.name))?;
    let email = normalize_email(&q.email)?;
    if state.meta.delete_invitations(org.id, &email).await? == 0 {
        return Err(ApiError::NotFound(format!("no open invitation for {email}")));
    }
    Ok(Json(success(json!({}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    token: String,
    name: Option<String>,
}

/// Accepting needs no API key: the invitation token is the credential. The new member gets a
/// first personal key for the org, shown once.
pub async fn accept(State(state): State<AppState>, Json(body): Json<AcceptBody>) -> ApiResult<Json<Value>> {
    if let Some(name) = &body.name {
        validate_text("name", name, 200)?;
    }
    let (invitation, user) = state
        .meta
        .accept_invitation(body.token.trim(), body.name.as_deref(), None, false)
        .await
        .map_err(|e| match e {
            hangar_store::Error::NotFound(_) => ApiError::NotFound("invitation not found".into()),
            other => other.into(),
        })?;
    let org = state.meta.org_by_id(invitation.org_id).await?;
    let request = PersonalKeyRequest {
        name: "first key".into(),
        expiry: None,
        services: None,
    };
    let key = match issue_personal_key(&state.meta, &user, &org, &request, Some(user.id)).await {
        Ok((key, secret)) => {
            let mut json = views::key(&key, Some(&org.name), Some(&user.email));
            json["secret"] = Value::String(secret);
            json
        }
        // An existing member may already hold the most keys; accepting still succeeds.
        Err(IdentityError::Invalid(why)) => json!({"error": why}),
        Err(e) => return Err(e.into()),
    };
    let grants: Vec<_> = state
        .meta
        .grants_of_user(user.id)
        .await?
        .into_iter()
        .filter(|g| g.org == org.name)
        .collect();
    let names = [(org.name.clone(), org.display_name.clone())].into();
    Ok(Json(success(
        json!({"user": views::user(&user, &grants, &names), "apiKey": key}),
    )))
}
