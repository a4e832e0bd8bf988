//! The token service (`/token`) and NGC's key introspection (`/v3/keys/get-caller-info`).

use super::caller::{Caller, authenticate, caller_for_secret};
use super::token::Access;
use crate::api::extract::{Form, Json};
use crate::api::views;
use crate::catalog::repositories::{guarded, locate};
use crate::catalog::reveal::may;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use hangar_core::keys::KeyKind;
use hangar_core::policy::ArtifactOp;
use serde::Deserialize;
use serde_json::{Value, json};

/// The most scopes one token request may ask for.
const MAX_SCOPES: usize = 64;

/// `GET /token?service=…&scope=…` with Basic `$oauthtoken:<key>` (or a bearer key or token).
/// Without credentials the token is anonymous. A valid key always gets a token; what it may do
/// is decided per request (NGC scopes) or listed in the token (Docker repository scopes).
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(format!("invalid query: {e}")))?;
    let service = pairs
        .iter()
        .find(|(k, _)| k == "service")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let scopes: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.len() > MAX_SCOPES {
        return Err(ApiError::BadRequest(format!("at most {MAX_SCOPES} scopes per token")));
    }
    let caller = match headers.get(AUTHORIZATION) {
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
            authenticate(&state, value).await?
        }
        None => Caller::guest(),
    };
    let mut groups = Vec::new();
    let mut access = Vec::new();
    for scope in scopes {
        if scope.starts_with("group/") {
            groups.push(scope.to_string());
        } else if let Some(grant) = docker_access(&state, &caller, scope).await? {
            access.push(grant);
        }
    }
    let sub = match (&caller.key, caller.session) {
        (Some(key), _) => format!("key:{}", key.id),
        (None, Some(session)) => format!("session:{session}"),
        (None, None) => "anonymous".to_string(),
    };
    let (token, claims) = state.tokens.issue(sub, &service, groups, access)?;
    Ok(Json(json!({
        "token": token,
        "access_token": token,
        "expires_in": state.tokens.ttl_seconds,
        "issued_at": views::date(claims.iat),
    })))
}

/// The actions of a Docker scope (`repository:<name>:pull,push`, `registry:catalog:*`) the
/// caller may have; `None` for a scope it may not use at all.
async fn docker_access(state: &AppState, caller: &Caller, scope: &str) -> ApiResult<Option<Access>> {
    let mut parts = scope.splitn(2, ':');
    let kind = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let Some((name, actions)) = rest.rsplit_once(':') else {
        return Err(ApiError::BadRequest(format!("invalid scope '{scope}'")));
    };
    let granted: Vec<String> = match kind {
        "registry" if name == "catalog" && !caller.is_guest() => vec!["*".into()],
        "repository" => {
            let Some(located) = locate(state, name).await? else {
                return Ok(None);
            };
            let op = |action: &str| match action {
                "pull" => Some(ArtifactOp::Download),
                "push" => Some(ArtifactOp::Upload),
                "delete" => Some(ArtifactOp::Delete),
                _ => None,
            };
            let wanted: Vec<&str> = if actions == "*" {
                vec!["pull", "push", "delete"]
            } else {
                actions.split(',').collect()
            };
            let mut granted = vec![];
            let thing = guarded(state, caller, &located, name).await?;
            for action in wanted {
                let Some(op) = op(action) else { continue };
                // Pull also covers listing tags, which the registry checks per request; the
                // token gives it to whoever may see the repository.
                let may_list = op == ArtifactOp::Download && may(caller, &thing, ArtifactOp::List);
                if may(caller, &thing, op) || may_list {
                    granted.push(action.to_string());
                }
            }
            granted
        }
        _ => vec![],
    };
    if granted.is_empty() {
        return Ok(None);
    }
    Ok(Some(Access {
        kind: kind.to_string(),
        name: name.to_string(),
        actions: granted,
    }))
}

#[derive(Deserialize)]
pub struct CallerInfoForm {
    credentials: String,
}

/// What NGC clients learn about an `nvapi-` key before using it (ngc-api.md §2.2). Open to
/// everyone: knowing the key is the credential.
pub async fn caller_info(State(state): State<AppState>, Form(form): Form<CallerInfoForm>) -> ApiResult<Json<Value>> {
    let caller = caller_for_secret(&state, form.credentials.trim()).await?;
    let key = caller
        .key
        .as_ref()
        .ok_or_else(|| ApiError::Unauthorized("invalid API key".into()))?;
    let kind = match key.kind {
        KeyKind::Personal => "PERSONAL_KEY",
        KeyKind::Service => "SERVICE_KEY",
        KeyKind::Legacy => "LEGACY_KEY",
    };
    let mut body =
        json!({"type": kind, "orgName": caller.key_org, "key": views::key(key, caller.key_org.as_deref(), None)});
    if let Some(user) = &caller.user {
        body["user"] = crate::api::users::me_json(&state, user, caller.key_org.as_deref()).await?;
    }
    Ok(Json(views::success(body)))
}
