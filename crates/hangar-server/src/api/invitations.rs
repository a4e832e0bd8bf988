//! Inviting people to an org or team, and accepting an invitation.

use super::extract::{Json, Page, Path, Query};
use super::orgs::{visible_org, visible_team};
use super::views::{self, success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::identity::error::IdentityError;
use crate::identity::invitations::{self, InvitationRequest, Links};
use crate::identity::keys::{PersonalKeyRequest, issue_personal_key};
use crate::identity::mail::link_base;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use hangar_core::names::validate_text;
use hangar_core::policy::{Action, Target};
use hangar_core::roles::Role;
use hangar_store::meta::Org;
use serde::Deserialize;
use serde_json::{Value, json};

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
    let mut roles: Vec<(Role, Option<String>)> = Vec::new();
    for r in &body.roles {
        let role: Role = r.name.parse()?;
        match r.resource_groups.as_slice() {
            [] => roles.push((role, None)),
            teams => roles.extend(teams.iter().map(|t| (role, Some(t.clone())))),
        }
    }
    let request = InvitationRequest {
        email: body.email,
        name: body.name,
        message: body.message,
        expiry_minutes: body.invitation_expiration_in,
        roles,
    };
    let links = Links {
        base: &link_base(&state.settings, &headers),
        default_minutes: state.settings.invitation_expiry_minutes,
    };
    let invitation = invitations::invite(&state.meta, &caller, &org, request, &links).await?;
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
    invitations::withdraw(&state.meta, &caller, &org, &q.email).await?;
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
