//! Members of orgs and teams, their roles, and the caller's own user (`/v2/users/me`).

use super::extract::{Json, Page, Path, Query};
use super::orgs::{visible_org, visible_team};
use super::views::{self, success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use hangar_core::names::validate_text;
use hangar_core::policy::{Action, Target, can_grant};
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

/// A user named by numeric id or by e-mail address.
async fn find_user(state: &AppState, id_or_email: &str) -> ApiResult<User> {
    let found = match id_or_email.parse::<i64>() {
        Ok(id) => state.meta.user(id).await?,
        Err(_) => state.meta.user_by_email(&id_or_email.trim().to_lowercase()).await?,
    };
    found.ok_or_else(|| ApiError::NotFound(format!("user '{id_or_email}' not found")))
}

/// The member with their roles in the org, or 404 when they hold none at that scope.
pub(crate) async fn find_member(
    state: &AppState,
    org: &Org,
    team: Option<&Team>,
    id_or_email: &str,
) -> ApiResult<Member> {
    let user = find_user(state, id_or_email).await?;
    state
        .meta
        .members(org.id, team.map(|t| t.id))
        .await?
        .into_iter()
        .find(|m| m.user.id == user.id)
        .ok_or_else(|| ApiError::NotFound(format!("user '{id_or_email}' is not a member here")))
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

/// Applies a role change after checking that the caller may manage users here and may grant
/// every role the change touches.
async fn change_roles(
    state: &AppState,
    caller: &Caller,
    org: &Org,
    team: Option<&Team>,
    user: &User,
    change: RoleChange<'_>,
) -> ApiResult<Json<Value>> {
    let target = Target::team(&org.name, team.map(|t| t.name.as_str()));
    caller.require(Action::ManageUsers, &target)?;
    let mut touched: Vec<Role> = match change {
        RoleChange::Add(r) | RoleChange::Remove(r) | RoleChange::Replace(r) => r.to_vec(),
    };
    if let RoleChange::Replace(_) = change {
        let grants = state.meta.grants_of_user(user.id).await?;
        touched.extend(
            grants
                .iter()
                .filter(|g| g.org == org.name && g.team.as_deref() == team.map(|t| t.name.as_str()))
                .map(|g| g.role),
        );
    }
    if let Some(role) = touched.iter().find(|r| !can_grant(&caller.subject, **r, &target)) {
        return Err(ApiError::Forbidden(format!(
            "you cannot grant or remove {role}: a user admin grants only roles they hold, and only owners manage owners"
        )));
    }
    state
        .meta
        .change_roles(user.id, org.id, team.map(|t| t.id), change)
        .await?;
    let grants = state.meta.grants_of_user(user.id).await?;
    let grants: Vec<_> = grants.into_iter().filter(|g| g.org == org.name).collect();
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
    let user = find_user(&state, &user).await?;
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
    let user = find_user(&state, &user).await?;
    change_roles(&state, &caller, &org, Some(&team), &user, role_change::<OP>(&roles)).await
}

/// Checks the caller could grant every role `member` holds at `target`: a user admin cannot
/// remove an owner, nor someone holding roles the admin lacks.
fn require_power_over(caller: &Caller, member: &Member, target: &Target) -> ApiResult<()> {
    caller.require(Action::ManageUsers, target)?;
    let roles = member
        .grants
        .iter()
        .filter(|g| target.team.is_none() || g.team.as_deref() == target.team)
        .map(|g| g.role);
    for role in roles {
        if !can_grant(&caller.subject, role, target) {
            return Err(ApiError::Forbidden(format!(
                "you cannot remove a user who holds {role}"
            )));
        }
    }
    Ok(())
}

/// Removes the user from the org: every role, and their personal keys for it, at once.
pub async fn remove_org_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let member = find_member(&state, &org, None, &user).await?;
    require_power_over(&caller, &member, &Target::org(&org.name))?;
    state.meta.remove_from_org(member.user.id, org.id).await?;
    tracing::info!(org = %org.name, user = %member.user.email, "user removed from org; personal keys revoked");
    Ok(Json(success(json!({}))))
}

pub async fn remove_team_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team, user)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    let member = find_member(&state, &org, Some(&team), &user).await?;
    require_power_over(&caller, &member, &Target::team(&org.name, Some(&team.name)))?;
    state.meta.remove_from_team(member.user.id, org.id, team.id).await?;
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
    let user = find_user(&state, &user.id.to_string()).await?;
    Ok(Json(success(
        json!({"user": me_json(&state, &user, caller.key_org.as_deref()).await?}),
    )))
}
