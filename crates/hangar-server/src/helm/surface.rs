//! The Helm surface's errors and extractors: `{"error": "…"}` bodies, and a Basic challenge
//! on 401 so that Helm sends the `$oauthtoken` credentials it was given — for every refusal,
//! the extractors' included.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error of the Helm repository and ChartMuseum API, answered as `{"error": "…"}`; a 401
/// carries a Basic challenge, so that Helm sends the `$oauthtoken` credentials it was given.
#[derive(Debug)]
pub struct HelmError(pub ApiError);

impl<E: Into<ApiError>> From<E> for HelmError {
    fn from(e: E) -> Self {
        HelmError(e.into())
    }
}

impl IntoResponse for HelmError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if let ApiError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "request failed");
        }
        let message = match &self.0 {
            ApiError::Internal(_) => "internal error; see the server log".to_string(),
            other => other.to_string(),
        };
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"Hangar Helm repository\""),
            );
        }
        response
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(HelmError))]
pub struct Query<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(HelmError))]
pub struct Path<T>(pub T);

/// The caller; a credential that is not good is refused in Helm's format.
pub struct HelmCaller(pub Caller);

impl FromRequestParts<AppState> for HelmCaller {
    type Rejection = HelmError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HelmError> {
        Ok(HelmCaller(Caller::from_request_parts(parts, state).await?))
    }
}
