//! An org's signing keys and signature requirements (issue 18): the keys it trusts (its
//! server-held key and the public keys or certificates publishers register), the public key
//! that verifies the images it signs, and where pulls need a verified signature.

use super::extract::{Json, Path, Query};
use super::views::{date, success};
use crate::auth::Caller;
use crate::catalog::error::DomainError;
use crate::catalog::trust::{self, OrgKey, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use hangar_core::policy::{Action, Target};
use hangar_store::meta::Org;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/org/{org}/signing-keys", get(list).post(add))
        .route("/v2/org/{org}/signing-keys/{name}", delete(remove))
        .route("/v2/org/{org}/containers/public-key", get(org_public_key))
        .route("/v2/catalog/containers/public-key", get(catalog_public_key))
        .route(
            "/v2/org/{org}/signature-requirements",
            get(requirements).post(set_requirement),
        )
}

#[derive(Deserialize)]
struct OrgPath {
    org: String,
}

#[derive(Deserialize)]
struct KeyPath {
    org: String,
    name: String,
}

fn key_json(k: &OrgKey) -> Value {
    json!({
        "name": k.name,
        "publicKey": k.pem,
        "fingerprint": k.fingerprint,
        "serverHeld": k.server_held,
        "createdDate": (k.created_at > 0).then(|| date(k.created_at)),
    })
}

/// The org, if the caller may see it, or with `public_keys` read its public keys
/// ([`trust::may_read`]); otherwise not found: its existence is not told.
async fn find_org(state: &AppState, caller: &Caller, name: &str, public_keys: bool) -> ApiResult<Org> {
    let missing = || ApiError::NotFound(format!("org '{name}' not found"));
    let org = state.meta.org(name).await?.ok_or_else(missing)?;
    let may = if public_keys {
        trust::may_read(state, caller, &org).await?
    } else {
        caller.allowed(Action::ViewOrg, &Target::org(&org.name))
    };
    if !may {
        return Err(missing());
    }
    Ok(org)
}

/// `GET /v2/org/{org}/signing-keys`: every key the org trusts.
async fn list(State(state): State<AppState>, caller: Caller, Path(p): Path<OrgPath>) -> ApiResult<Json<Value>> {
    let org = find_org(&state, &caller, &p.org, true).await?;
    let keys = trust::list(&state, &caller, &org).await?;
    Ok(Json(success(json!({
        "signingKeys": keys.iter().map(key_json).collect::<Vec<_>>(),
    }))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewKey {
    name: String,
    public_key: String,
}

/// `POST /v2/org/{org}/signing-keys` `{"name", "publicKey"}`: trust a P-256 public key
/// (`cosign.pub`) or a certificate.
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<OrgPath>,
    Json(body): Json<NewKey>,
) -> ApiResult<Json<Value>> {
    let org = find_org(&state, &caller, &p.org, false).await?;
    let key = trust::add(&state, &caller, &org, &body.name, &body.public_key).await?;
    tracing::info!(org = %org.name, key = %key.name, fingerprint = %key.fingerprint, "signing key trusted");
    Ok(Json(success(json!({"signingKey": key_json(&key)}))))
}

/// `DELETE /v2/org/{org}/signing-keys/{name}`.
async fn remove(State(state): State<AppState>, caller: Caller, Path(p): Path<KeyPath>) -> ApiResult<Json<Value>> {
    let org = find_org(&state, &caller, &p.org, false).await?;
    trust::remove(&state, &caller, &org, &p.name).await?;
    tracing::info!(org = %org.name, key = %p.name, "signing key no longer trusted");
    Ok(Json(success(json!({}))))
}

fn pem_response(pem: String) -> Response {
    ([(CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

/// The org's server-held public key, made on first use (it needs the server's signing secret).
async fn server_pem(state: &AppState, org: &Org) -> ApiResult<Response> {
    let key = trust::server_key(state, org, true)
        .await?
        .ok_or_else(|| DomainError::Internal("the server key was not made".into()))?;
    Ok(pem_response(key.pem))
}

/// `GET /v2/org/{org}/containers/public-key`: the key that verifies the images the org's
/// server signs (`cosign verify --key`, podman's `sigstoreSigned` `keyPath`).
async fn org_public_key(State(state): State<AppState>, caller: Caller, Path(p): Path<OrgPath>) -> ApiResult<Response> {
    let org = find_org(&state, &caller, &p.org, true).await?;
    server_pem(&state, &org).await
}

#[derive(Deserialize)]
struct OrgQuery {
    org: Option<String>,
}

/// `GET /v2/catalog/containers/public-key[?org=]`: the same, for the org named, or for the
/// caller's only org (a key's org, or a user's one org).
async fn catalog_public_key(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OrgQuery>,
) -> ApiResult<Response> {
    let name = match q.org {
        Some(org) => org,
        None => {
            let orgs = caller.subscribing_orgs();
            match orgs.as_slice() {
                [only] => only.to_string(),
                _ => {
                    return Err(ApiError::BadRequest(
                        "every org signs with its own key: name it with ?org=<org>".into(),
                    ));
                }
            }
        }
    };
    let org = find_org(&state, &caller, &name, true).await?;
    server_pem(&state, &org).await
}

/// `GET /v2/org/{org}/signature-requirements`: where pulls need a verified signature.
async fn requirements(State(state): State<AppState>, caller: Caller, Path(p): Path<OrgPath>) -> ApiResult<Json<Value>> {
    let org = find_org(&state, &caller, &p.org, false).await?;
    let listed: Vec<Value> = state
        .meta
        .signature_requirements(org.id)
        .await?
        .into_iter()
        .map(|(kind, path)| json!({"kind": kind.word(), "path": path}))
        .collect();
    Ok(Json(success(json!({"requirements": listed}))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequirementChange {
    team: Option<String>,
    /// `org/[team/]repo`.
    repository: Option<String>,
    require: bool,
}

/// `POST /v2/org/{org}/signature-requirements` `{"team"?, "repository"?, "require"}`: turns the
/// need for verified signatures on or off for the org, a team or a repository.
async fn set_requirement(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<OrgPath>,
    Json(body): Json<RequirementChange>,
) -> ApiResult<Json<Value>> {
    let org = find_org(&state, &caller, &p.org, false).await?;
    let scope = match (body.team, body.repository) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest("name a team or a repository, not both".into()));
        }
        (Some(team), None) => Scope::Team(team),
        (None, Some(repo)) => Scope::Repository(repo),
        (None, None) => Scope::Org,
    };
    let (kind, path) = trust::set_requirement(&state, &caller, &org, scope, body.require).await?;
    Ok(Json(success(json!({
        "requirement": {"kind": kind.word(), "path": path, "require": body.require},
    }))))
}
