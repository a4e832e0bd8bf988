//! Signatures of model and resource versions (ngc-api.md §4.8): `ngc registry model sign` asks
//! the server to sign a version (`catalog::model_signing`); `download-version-signature` reads
//! the bundle through a data-plane link; the root certificate that verifies every signature is
//! public at `/v2/catalog/models/public-key` (and `…/resources/public-key`).

use super::entity::{Download, Entity, Named};
use crate::api::views::success;
use crate::catalog::entities::find_version;
use crate::catalog::links::{self, Principal, Resource, base_url};
use crate::catalog::{model_signing, trust, uploaded_signatures};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use hangar_core::policy::ArtifactOp;
use hangar_store::meta::UPLOAD_COMPLETE;
use serde_json::{Value, json};

/// `PUT {OT}/{kind}/{name}/versions/{version}/signature`: without a body (`ngc`), the server
/// signs the version with the org's certificate; with a sigstore bundle as the body (`hangar …
/// sign --signature`), the publisher's own signature is checked against the version's files and
/// the org's trusted keys and kept. For those who may change the entity; a new signature
/// replaces the old.
pub async fn sign(State(state): State<AppState>, named: Named, body: Body) -> ApiResult<Json<Value>> {
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
    let bundle = axum::body::to_bytes(body, uploaded_signatures::MAX_BUNDLE + 1)
        .await
        .map_err(|_| {
            ApiError::PayloadTooLarge(format!(
                "a signature bundle may be at most {} bytes",
                uploaded_signatures::MAX_BUNDLE
            ))
        })?;
    // `ngc` sends no body (or an empty JSON one): the server signs.
    let text = String::from_utf8_lossy(&bundle);
    if !matches!(text.trim(), "" | "{}" | "null") {
        let by = caller.user.as_ref().map(|u| u.id);
        let key = uploaded_signatures::accept(&state, &found.space.org, &version, &bundle, by).await?;
        tracing::info!(entity = %found.artifact.path, version = %version.version, %key, "publisher's signature accepted");
        return Ok(Json(success(json!({"signedBy": key}))));
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
    Ok(Json(success(json!({"signedBy": trust::SERVER_KEY}))))
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
