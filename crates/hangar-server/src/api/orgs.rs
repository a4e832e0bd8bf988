//! `/v2/orgs` and `/v2/org/{org}/teams`.

use super::extract::{Json, Page, Path, Query};
use super::views::{self, success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::identity::orgs::{self, MAX_DESCRIPTION, MAX_DISPLAY_NAME};
use crate::state::AppState;
use axum::extract::State;
use hangar_core::names::{validate_org, validate_text};
use hangar_core::policy::{Action, Credential, Target};
use hangar_store::meta::{Org, Team};
use serde::Deserialize;
use serde_json::{Value, json};

/// The org, if the caller may see it.
pub async fn visible_org(state: &AppState, caller: &Caller, name: &str) -> ApiResult<Org> {
    let org = state.meta.require_org(name).await?;
    caller.require(Action::ViewOrg, &Target::org(&org.name))?;
    Ok(org)
}

/// The team, if the caller may see it (org-level members see every team, others their own).
pub async fn visible_team(state: &AppState, caller: &Caller, org: &str, team: &str) -> ApiResult<(Org, Team)> {
    let org = visible_org(state, caller, org).await?;
    let team = state.meta.require_team(&org, team).await?;
    caller.require(Action::ViewOrg, &Target::team(&org.name, Some(&team.name)))?;
    Ok((org, team))
}

pub async fn list_orgs(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> ApiResult<Json<Value>> {
    if caller.is_guest() {
        return Err(ApiError::unauthenticated());
    }
    let orgs = match (&caller.subject.credential, &caller.user) {
        (_, Some(user)) if user.platform_admin => state.meta.all_orgs().await?,
        (Credential::Full, Some(user)) => state.meta.orgs_of_user(user.id).await?,
        _ => match &caller.key_org {
            Some(name) => vec![state.meta.require_org(name).await?],
            None => vec![],
        },
    };
    let (orgs, info) = page.slice(orgs);
    let orgs: Vec<Value> = orgs.iter().map(views::org).collect();
    Ok(Json(success(json!({"organizations": orgs, "paginationInfo": info}))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOrg {
    name: String,
    display_name: Option<String>,
    #[serde(default)]
    description: String,
}

/// Creating orgs is for platform administrators (`hangar admin org create` does the same).
pub async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewOrg>,
) -> ApiResult<Json<Value>> {
    caller.user()?;
    if !caller.subject.platform_admin {
        return Err(ApiError::Forbidden("only platform administrators create orgs".into()));
    }
    validate_org(&body.name)?;
    let display = body.display_name.unwrap_or_else(|| body.name.clone());
    validate_text("display name", &display, MAX_DISPLAY_NAME)?;
    validate_text("description", &body.description, MAX_DESCRIPTION)?;
    let org = state.meta.create_org(&body.name, &display, &body.description).await?;
    Ok(Json(success(json!({"organizations": views::org(&org)}))))
}

pub async fn org_info(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let mut body = views::org(&org);
    body["imageStorage"] = json!({
        "usedBytes": state.meta.org_image_bytes(org.id).await?,
        "softLimitBytes": state.settings.org_image_soft_limit_bytes,
    });
    Ok(Json(success(json!({"organizations": body}))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgChange {
    display_name: Option<String>,
    description: Option<String>,
}

pub async fn update_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Json(body): Json<OrgChange>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let org = orgs::update_org(
        &state.meta,
        &caller,
        &org,
        body.display_name.as_deref(),
        body.description.as_deref(),
    )
    .await?;
    Ok(Json(success(json!({"organizations": views::org(&org)}))))
}

pub async fn list_teams(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let teams: Vec<Team> = state
        .meta
        .teams(org.id)
        .await?
        .into_iter()
        .filter(|t| caller.allowed(Action::ViewOrg, &Target::team(&org.name, Some(&t.name))))
        .collect();
    let (teams, info) = page.slice(teams);
    let teams: Vec<Value> = teams.iter().map(views::team).collect();
    Ok(Json(success(json!({"teams": teams, "paginationInfo": info}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Json(body): Json<NewTeam>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let team = orgs::create_team(&state.meta, &caller, &org, &body.name, &body.description).await?;
    Ok(Json(success(json!({"team": views::team(&team)}))))
}

pub async fn team_info(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (_, team) = visible_team(&state, &caller, &org, &team).await?;
    Ok(Json(success(json!({"team": views::team(&team)}))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamChange {
    description: String,
}

pub async fn update_team(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team)): Path<(String, String)>,
    Json(body): Json<TeamChange>,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    let team = orgs::update_team(&state.meta, &caller, &org, &team, &body.description).await?;
    Ok(Json(success(json!({"team": views::team(&team)}))))
}

pub async fn delete_team(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, team)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (org, team) = visible_team(&state, &caller, &org, &team).await?;
    orgs::delete_team(&state.meta, &caller, &org, &team).await?;
    Ok(Json(success(json!({}))))
}
