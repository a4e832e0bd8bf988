//! The server's one error type and its mapping to HTTP, in NGC's JSON error format.

use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// The stores have no room left (a full disk): 507.
    #[error("insufficient storage: {0}")]
    InsufficientStorage(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unsupported(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
        }
    }

    /// NGC's `requestStatus.statusCode` word for the status.
    fn status_code_word(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) | ApiError::PayloadTooLarge(_) => "INVALID_REQUEST",
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::Unsupported(_) => "METHOD_NOT_ALLOWED",
            ApiError::Internal(_) => "INTERNAL_ERROR",
            ApiError::InsufficientStorage(_) => "INSUFFICIENT_STORAGE",
        }
    }

    /// For a guest where a known caller is needed.
    pub fn unauthenticated() -> Self {
        ApiError::Unauthorized("authentication required: send an API key or a token".into())
    }

    pub fn forbidden() -> Self {
        ApiError::Forbidden("you do not have permission for this action".into())
    }

    /// The error as NGC's JSON body (`requestStatus`); internal details stay in the log.
    pub fn body(&self) -> serde_json::Value {
        let description = match self {
            ApiError::Internal(_) => "internal error; see the server log".to_string(),
            ApiError::InsufficientStorage(_) => "the server has no room left to store this".to_string(),
            other => other.to_string(),
        };
        request_status(self.status_code_word(), &description)
    }
}

/// NGC's error body: `{"requestStatus": {"statusCode", "statusDescription", "requestId"}}`.
pub fn request_status(word: &str, description: &str) -> serde_json::Value {
    json!({
        "requestStatus": {
            "statusCode": word,
            "statusDescription": description,
            "requestId": uuid::Uuid::new_v4().to_string(),
        }
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) | ApiError::InsufficientStorage(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<hangar_store::Error> for ApiError {
    fn from(e: hangar_store::Error) -> Self {
        use crate::catalog::error::{StoreFault as F, store_fault};
        match store_fault(e) {
            F::NotFound(what) => ApiError::NotFound(what),
            F::Conflict(what) => ApiError::Conflict(what),
            F::Invalid(why) => ApiError::BadRequest(why),
            F::NoSpace(detail) => ApiError::InsufficientStorage(detail),
            F::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<hangar_core::Error> for ApiError {
    fn from(e: hangar_core::Error) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::PayloadTooLarge("request body is too large".into());
        }
        ApiError::BadRequest(format!("invalid JSON body: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(format!("invalid query: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(format!("invalid path: {}", r.body_text()))
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::PayloadTooLarge("request body is too large".into());
        }
        ApiError::BadRequest(format!("invalid form body: {}", r.body_text()))
    }
}

impl From<crate::catalog::error::DomainError> for ApiError {
    fn from(e: crate::catalog::error::DomainError) -> Self {
        use crate::catalog::error::DomainError as D;
        match e {
            D::NotFound(what) => ApiError::NotFound(what),
            D::Unauthenticated => ApiError::unauthenticated(),
            D::Forbidden(why) => ApiError::Forbidden(why),
            D::Invalid(why) => ApiError::BadRequest(why),
            D::Conflict(why) => ApiError::Conflict(why),
            D::TooLarge(why) => ApiError::PayloadTooLarge(why),
            D::Store(e) => e.into(),
            D::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<crate::identity::error::IdentityError> for ApiError {
    fn from(e: crate::identity::error::IdentityError) -> Self {
        use crate::identity::error::IdentityError as I;
        match e {
            I::Invalid(why) => ApiError::BadRequest(why),
            I::NotFound(why) => ApiError::NotFound(why),
            I::Forbidden(why) => ApiError::Forbidden(why),
            I::Internal(why) => ApiError::Internal(why),
            I::WrongCredentials | I::Throttled(_) => ApiError::Unauthorized(e.to_string()),
            I::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error as IoError, ErrorKind};

    fn full_disk() -> IoError {
        IoError::from(ErrorKind::StorageFull)
    }

    #[test]
    fn a_full_disk_is_507_in_ngc_json() {
        let direct = hangar_store::Error::Io(full_disk());
        let wrapped = hangar_store::Error::Io(IoError::other(full_disk()));
        for e in [direct, wrapped] {
            let answer = ApiError::from(e);
            assert_eq!(answer.status(), StatusCode::INSUFFICIENT_STORAGE, "{answer}");
            assert_eq!(answer.body()["requestStatus"]["statusCode"], "INSUFFICIENT_STORAGE");
        }
    }

    #[test]
    fn other_io_failures_are_500_not_400() {
        for kind in [ErrorKind::PermissionDenied, ErrorKind::NotADirectory, ErrorKind::Other] {
            let answer = ApiError::from(hangar_store::Error::Io(IoError::from(kind)));
            assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR, "{kind:?}");
        }
    }
}
