//! Signatures of model and resource versions (ngc-api.md §4.8): `ngc registry model sign` asks
//! the server to sign a version (`catalog::model_signing`); `download-version-signature` reads
//! the bundle through a data-plane link; the root certificate that verifies every signature is
//! public at `/v2/catalog/models/public-key` (and `…/resources/public-key`).

use super::entity::{Download, Entity, Named};
use crate::api::views::success;
use crate::catalog::entities::find_version;
use crate::catalog::links::{self, Principal, Resource, base_url};
use crate::catalog::model_signing;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use hangar_core::policy::ArtifactOp;
use hangar_store::meta::UPLOAD_COMPLETE;
use serde_json::{Value, json};

/// `PUT {OT}/{kind}/{name}/versions/{version}/signature`: the server signs the version with the
/// org's certificate (those who may change the entity); signing again replaces the signature.
pub async fn sign(State(state): State<AppState>, named: Named) -> ApiResult<Json<Value>> {
    let Entity {
        caller, path, found, ..
    } = named.find(&state, ArtifactOp::Update).await?;
    let version = find_version(&state, &found, &path).await?;
    if version.status != UPLOAD_COMPLETE {
        return Err(ApiError::BadRequest(format!(
            "version '{}' is not complete; only a complete version can be signed",
            version.version
        )));
    }
    let name = format!("{}_v{}", found.artifact.name, version.version);
    model_signing::sign_version(
        &state,
        &found.space.org,
        &name,
        &version,
        caller.user.as_ref().map(|u| u.id),
    )
    .await?;
    tracing::info!(entity = %found.artifact.path, version = %version.version, "version signed");
    Ok(Json(success(json!({}))))
}

/// `GET {OT}/{kind}/{name}/versions/{version}/signature`: `{"url"}`, a data-plane link to the
/// bundle.
pub async fn signature_url(
    State(state): State<AppState>,
    headers: HeaderMap,
    entity: Entity<Download>,
) -> ApiResult<Json<Value>> {
    let version = find_version(&state, &entity.found, &entity.path).await?;
    if state.meta.version_signature(version.id).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "version '{}' of '{}' is not signed",
            version.version, entity.found.artifact.path
        )));
    }
    let url = links::link(
        &state,
        &base_url(&state, &headers),
        Resource::Signature { version: version.id },
        Principal::of(&entity.caller),
        state.settings.download_url_ttl,
    );
    Ok(Json(json!({ "url": url })))
}

/// `GET /v2/catalog/models/public-key`: the root certificate (PEM) of every signature this
/// installation makes.
pub async fn public_key(State(state): State<AppState>) -> ApiResult<Response> {
    let pem = model_signing::root_pem(&state).await?;
    Ok(([(CONTENT_TYPE, "application/x-pem-file")], pem).into_response())
}
