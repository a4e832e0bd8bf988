//! Members of orgs and teams, their roles, and the caller's own user (`/v2/users/me`).

use super::extract::{Json, Page, Path, Query};
use super::orgs::{visible_org, visible_team};
use super::views::{self, success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::identity::members;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use hangar_core::names::validate_text;
use hangar_core::policy::{Action, Target};
use hangar_core::roles::Role;
use hangar_store::meta::{Member, Org, RoleChange, Team, User};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const MAX_USER_NAME: usize = 200;

fn names_of(org: &Org) -> BTreeMap<String, String> {
    BTreeMap::from([(org.name.clone(), org.display_name.clone())])
}

fn member_json(member: &Member, org: &Org) -> Value {
    views::user(&member.user, &member.grants, &names_of(org))
}

/// The member with their roles in the org, or 404 when they hold none at that scope.
pub(crate) async fn find_member(
    state: &AppState,
    org: &Org,
    team: Option<&Team>,
    id_or_email: &str,
) -> ApiResult<Member> {
    Ok(members::find_member(&state.meta, org, team, id_or_email).await?)
}

#[derive(Deserialize)]
pub struct UserQuery {
    /// NGC's filter document: `{"filters":[{"field":"email","value":"…"}]}`.
    q: Option<String>,
}

#[derive(Deserialize)]
struct Filters {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Deserialize)]
struct Filter {
    field: String,
    value: String,
}

fn matches_filters(member: &Member, q: Option<&str>) -> ApiResult<bool> {
    let Some(q) = q.filter(|q| !q.trim().is_empty()) else {
        return Ok(true);
    };
    let filters: Filters =
        serde_json::from_str(q).map_err(|e| ApiError::BadRequest(format!("invalid q filter: {e}")))?;
    // NGC clients percent-encode the value inside the already encoded `q`.
    let decoded = |v: &str| {
        percent_encoding::percent_decode_str(v.trim())
            .decode_utf8_lossy()
            .into_owned()
    };
    Ok(filters.filters.iter().all(|f| match f.field.as_str() {
        "email" => member.user.email.eq_ignore_ascii_case(&decoded(&f.value)),
        "name" => member
            .user
            .name
            .to_lowercase()
            .contains(&decoded(&f.value).to_lowercase()),
        _ => true,
    }))
}

async fn list_members(
    state: &AppState,
    org: &Org,
    team: Option<&Team>,
    page: Page,
    q: Option<&str>,
) -> ApiResult<Json<Value>> {
    let mut members = Vec::new();
    for member in state.meta.members(org.id, team.map(|t| t.id)).await? {
        if matches_filters(&member, q)? {
            members.push(member);
        }
    }
    // NGC clients read the roles of the listed scope only: the org's, or the team's.
    if let Some(team) = team {
        for m in &mut members {
            m.grants
                .retain(|g| g.team.is_none() || g.team.as_deref() == Some(team.name.as_str()));
        }
    }
    let (members, info) = page.slice(members);
    let users: Vec<Value> = members.iter().map(|m| member_json(m, org)).collect();
    Ok(Json(success(json!({"users": users, "paginationInfo": info}))))
}

pub async fn list_org_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Query(page): Query<Page>,
    Query(query): Query<UserQuery>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    caller.require(Action::ViewUsers, &Target::org(&org.name))?;
    list_members(&state, &org, None, page, query.q.as_deref()).await
}

pub async fn list_team_users(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team)): Path<(String, String)>,
    Query(page): Query<Page>,
    Query(query): Query<UserQuery>,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    caller.require(Action::ViewUsers, &Target::team(&org.name, Some(&team.name)))?;
    list_members(&state, &org, Some(&team), page, query.q.as_deref()).await
}

pub async fn org_user_info(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let member = find_member(&state, &org, None, &user).await?;
    let is_self = caller.user.as_ref().is_some_and(|u| u.id == member.user.id);
    if !is_self {
        caller.require(Action::ViewUsers, &Target::org(&org.name))?;
    }
    Ok(Json(success(json!({"user": member_json(&member, &org)}))))
}

pub async fn team_user_info(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team, user)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    let member = find_member(&state, &org, Some(&team), &user).await?;
    let is_self = caller.user.as_ref().is_some_and(|u| u.id == member.user.id);
    if !is_self {
        caller.require(Action::ViewUsers, &Target::team(&org.name, Some(&team.name)))?;
    }
    Ok(Json(success(json!({"user": member_json(&member, &org)}))))
}

/// The `roles` query parameter, repeated or comma-separated.
fn roles_param(raw: Option<String>) -> ApiResult<Vec<Role>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(format!("invalid query: {e}")))?;
    let roles: Vec<Role> = pairs
        .iter()
        .filter(|(k, _)| k == "roles" || k == "role")
        .flat_map(|(_, v)| v.split(','))
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    if roles.is_empty() {
        return Err(ApiError::BadRequest("give at least one role: ?roles=ROLE".into()));
    }
    Ok(roles)
}

/// Applies a role change (the domain checks who may grant what) and answers with the user.
async fn change_roles(
    state: &AppState,
    caller: &Caller,
    org: &Org,
    team: Option<&Team>,
    user: &User,
    change: RoleChange<'_>,
) -> ApiResult<Json<Value>> {
    let grants = members::change_roles(&state.meta, caller, org, team, user, change).await?;
    Ok(Json(success(
        json!({"user": views::user(user, &grants, &names_of(org))}),
    )))
}

/// Which role change a route makes: `ADD` (add-role), `REMOVE` (remove-role), `REPLACE` (update-role).
pub const ADD: u8 = 0;
pub const REMOVE: u8 = 1;
pub const REPLACE: u8 = 2;

fn role_change<const OP: u8>(roles: &[Role]) -> RoleChange<'_> {
    match OP {
        ADD => RoleChange::Add(roles),
        REMOVE => RoleChange::Remove(roles),
        _ => RoleChange::Replace(roles),
    }
}

/// `…/users/{user}/add-role|remove-role|update-role?roles=…` at org scope.
pub async fn org_roles<const OP: u8>(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, user)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let roles = roles_param(raw)?;
    let user = members::find_user(&state.meta, &user).await?;
    change_roles(&state, &caller, &org, None, &user, role_change::<OP>(&roles)).await
}

/// The same in one team.
pub async fn team_roles<const OP: u8>(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team, user)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    let roles = roles_param(raw)?;
    let user = members::find_user(&state.meta, &user).await?;
    change_roles(&state, &caller, &org, Some(&team), &user, role_change::<OP>(&roles)).await
}

/// Removes the user from the org: every role, and their personal keys for it, at once.
pub async fn remove_org_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let member = find_member(&state, &org, None, &user).await?;
    members::remove_member(&state.meta, &caller, &org, None, &member).await?;
    Ok(Json(success(json!({}))))
}

pub async fn remove_team_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team, user)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    let member = find_member(&state, &org, Some(&team), &user).await?;
    members::remove_member(&state.meta, &caller, &org, Some(&team), &member).await?;
    Ok(Json(success(json!({}))))
}

#[derive(Deserialize)]
pub struct MeQuery {
    #[serde(rename = "org-name")]
    org_name: Option<String>,
}

/// A user with their roles (in `org_name` only, when given), as NGC shows users.
pub(crate) async fn me_json(state: &AppState, user: &User, org_name: Option<&str>) -> ApiResult<Value> {
    let grants: Vec<_> = state
        .meta
        .grants_of_user(user.id)
        .await?
        .into_iter()
        .filter(|g| org_name.is_none_or(|o| g.org == o))
        .collect();
    let names = state
        .meta
        .orgs_of_user(user.id)
        .await?
        .into_iter()
        .map(|o| (o.name, o.display_name))
        .collect();
    Ok(views::user(user, &grants, &names))
}

pub async fn me(State(state): State<AppState>, caller: Caller, Query(q): Query<MeQuery>) -> ApiResult<Json<Value>> {
    let user = caller.user()?;
    // A personal key speaks only for its own org.
    let org = q.org_name.as_deref().or(caller.key_org.as_deref());
    Ok(Json(success(json!({"user": me_json(&state, user, org).await?}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeChange {
    name: String,
}

pub async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<MeChange>,
) -> ApiResult<Json<Value>> {
    let user = caller.user()?;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest("the name must not be empty".into()));
    }
    validate_text("name", name, MAX_USER_NAME)?;
    state.meta.set_user_name(user.id, name).await?;
    let user = members::find_user(&state.meta, &user.id.to_string()).await?;
    Ok(Json(success(
        json!({"user": me_json(&state, &user, caller.key_org.as_deref()).await?}),
    )))
}
