//! Key management (Hangar's own REST design; NGC has no CLI for it):
//! `/v3/orgs/{org}/keys…` for personal and service keys, `/v3/users/me/legacy-key` for the legacy key.

use super::extract::{Json, Path, Query};
use super::orgs::visible_org;
use super::views::{self, success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::identity::keys::{
    self, PersonalKeyRequest, ServiceKeyRequest, check_no_escalation, issue_legacy_key, issue_personal_key,
    issue_service_key, personal_services, service_scopes, validate_key_name,
};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use hangar_core::keys::KeyKind;
use hangar_core::policy::{Action, Target};
use hangar_store::meta::{ApiKey, KeyChange, Org};
use serde::Deserialize;
use serde_json::{Value, json};

async fn key_json(state: &AppState, key: &ApiKey, org: Option<&Org>) -> ApiResult<Value> {
    let email = match key.user_id {
        Some(id) => state.meta.user(id).await?.map(|u| u.email),
        None => None,
    };
    Ok(views::key(key, org.map(|o| o.name.as_str()), email.as_deref()))
}

fn with_secret(mut key: Value, secret: String) -> Json<Value> {
    Json(success(json!({"key": key.take(), "secret": secret})))
}

#[derive(Deserialize)]
pub struct KeyFilter {
    #[serde(rename = "user-id")]
    user_id: Option<i64>,
    kind: Option<String>,
}

/// Org owners and user admins see every key of the org; members see their own personal keys.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Query(filter): Query<KeyFilter>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let kind: Option<KeyKind> = filter.kind.as_deref().map(str::parse).transpose()?;
    let keys = if caller.allowed(Action::ManageMemberKeys, &Target::org(&org.name)) {
        state.meta.keys_of_org(org.id, filter.user_id).await?
    } else {
        let me = caller.user()?;
        if filter.user_id.is_some_and(|id| id != me.id) {
            return Err(ApiError::forbidden());
        }
        state.meta.keys_of_org(org.id, Some(me.id)).await?
    };
    let mut items = Vec::new();
    for key in keys.iter().filter(|k| kind.is_none_or(|kind| k.kind == kind)) {
        items.push(key_json(&state, key, Some(&org)).await?);
    }
    Ok(Json(success(json!({"keys": items}))))
}

pub async fn create_personal(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Json(body): Json<PersonalKeyRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org = visible_org(&state, &caller, &org).await?;
    let me = caller.user()?;
    let grants = state.meta.grants_of_user(me.id).await?;
    check_no_escalation(
        &caller,
        &personal_services(&grants, &org.name, body.services.as_deref())?,
    )?;
    let (key, secret) = issue_personal_key(&state.meta, me, &org, &body, Some(me.id)).await?;
    Ok((
        StatusCode::CREATED,
        with_secret(key_json(&state, &key, Some(&org)).await?, secret),
    ))
}

pub async fn create_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    Json(body): Json<ServiceKeyRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org = visible_org(&state, &caller, &org).await?;
    caller.require(Action::ManageServiceKeys, &Target::org(&org.name))?;
    let creator = caller.user.as_ref().map(|u| u.id);
    let (key, secret) = issue_service_key(&state.meta, &org, &body, creator).await?;
    Ok((
        StatusCode::CREATED,
        with_secret(key_json(&state, &key, Some(&org)).await?, secret),
    ))
}

/// The key, if the caller may manage it (`identity::keys::manageable_key`).
async fn manageable_key(state: &AppState, caller: &Caller, org: &Org, id: i64) -> ApiResult<ApiKey> {
    Ok(keys::manageable_key(&state.meta, caller, org, id).await?)
}

pub async fn info(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let key = manageable_key(&state, &caller, &org, id).await?;
    Ok(Json(success(json!({"key": key_json(&state, &key, Some(&org)).await?}))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyChangeBody {
    name: Option<String>,
    active: Option<bool>,
    services: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    entity_type: Option<String>,
    entity_value: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, i64)>,
    Json(body): Json<KeyChangeBody>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let key = manageable_key(&state, &caller, &org, id).await?;
    let mut change = KeyChange {
        name: body.name.as_deref().map(validate_key_name).transpose()?,
        active: body.active,
        ..KeyChange::default()
    };
    match key.kind {
        KeyKind::Personal => {
            if body.scopes.is_some() || body.entity_type.is_some() || body.entity_value.is_some() {
                return Err(ApiError::BadRequest("personal keys have services, not scopes".into()));
            }
            if let Some(services) = &body.services {
                let owner = key
                    .user_id
                    .ok_or_else(|| ApiError::Internal("personal key without owner".into()))?;
                let grants = state.meta.grants_of_user(owner).await?;
                let services = personal_services(&grants, &org.name, Some(services))?;
                check_no_escalation(&caller, &services)?;
                change.services = Some(services);
            }
        }
        KeyKind::Service => {
            if body.services.is_some() {
                return Err(ApiError::BadRequest("service keys have scopes, not services".into()));
            }
            if body.scopes.is_some() || body.entity_type.is_some() || body.entity_value.is_some() {
                let scopes = body.scopes.unwrap_or_else(|| parse_names(&key.scopes));
                let entity_type = body.entity_type.unwrap_or_else(|| key.entity_type.clone());
                let entity_value = body.entity_value.or_else(|| Some(key.entity_value.clone()));
                let (scopes, entity_type, entity_value) =
                    service_scopes(&scopes, Some(&entity_type), entity_value.as_deref())?;
                change.scopes = Some(scopes);
                change.entity_type = Some(entity_type);
                change.entity_value = Some(entity_value);
            }
        }
        KeyKind::Legacy => return Err(ApiError::NotFound(format!("key {id} not found"))),
    }
    state.meta.update_key(key.id, &change).await?;
    let key = manageable_key(&state, &caller, &org, id).await?;
    Ok(Json(success(json!({"key": key_json(&state, &key, Some(&org)).await?}))))
}

fn parse_names(list: &str) -> Vec<String> {
    list.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let key = manageable_key(&state, &caller, &org, id).await?;
    let secret = state.meta.rotate_key(key.id).await?;
    let key = manageable_key(&state, &caller, &org, id).await?;
    Ok(with_secret(key_json(&state, &key, Some(&org)).await?, secret))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, id)): Path<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let org = visible_org(&state, &caller, &org).await?;
    let key = manageable_key(&state, &caller, &org, id).await?;
    state.meta.delete_key(key.id).await?;
    Ok(Json(success(json!({}))))
}

async fn require_legacy_power(state: &AppState, caller: &Caller) -> ApiResult<()> {
    Ok(keys::require_legacy_power(&state.meta, caller).await?)
}

pub async fn create_legacy(State(state): State<AppState>, caller: Caller) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = caller.user()?;
    require_legacy_power(&state, &caller).await?;
    let (key, secret) = issue_legacy_key(&state.meta, me, Some(me.id)).await?;
    Ok((
        StatusCode::CREATED,
        with_secret(key_json(&state, &key, None).await?, secret),
    ))
}

pub async fn legacy_info(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let me = caller.user()?;
    let key = state
        .meta
        .legacy_key_of(me.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("you have no legacy key".into()))?;
    Ok(Json(success(json!({"key": key_json(&state, &key, None).await?}))))
}

pub async fn delete_legacy(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let me = caller.user()?;
    require_legacy_power(&state, &caller).await?;
    let key = state
        .meta
        .legacy_key_of(me.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("you have no legacy key".into()))?;
    state.meta.delete_key(key.id).await?;
    Ok(Json(success(json!({}))))
}
