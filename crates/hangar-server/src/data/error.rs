//! The data plane's errors. Its clients (NVIDIA's ngc, wget, curl) read NGC's `requestStatus`
//! body; the statuses are the data plane's own: a body that broke off or a part of the wrong
//! size is the client's (400), a link that no longer grants access 403, the stores' failures
//! 5xx (507 when there is no space left).

use crate::catalog::error::{DomainError, StoreFault, store_fault};
use crate::error::request_status;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DataError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("no space left: {0}")]
    NoSpace(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type DataResult<T> = Result<T, DataError>;

impl IntoResponse for DataError {
    fn into_response(self) -> Response {
        let (status, word) = match &self {
            DataError::Invalid(_) => (StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
            DataError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            DataError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            DataError::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            DataError::NoSpace(_) => (StatusCode::INSUFFICIENT_STORAGE, "INSUFFICIENT_STORAGE"),
            DataError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        };
        let description = match &self {
            DataError::NoSpace(detail) | DataError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "internal error; see the server log".to_string()
            }
            other => other.to_string(),
        };
        (status, Json(request_status(word, &description))).into_response()
    }
}

impl From<hangar_store::Error> for DataError {
    fn from(e: hangar_store::Error) -> Self {
        match store_fault(e) {
            StoreFault::NotFound(what) => DataError::NotFound(what),
            StoreFault::Conflict(what) => DataError::Conflict(what),
            StoreFault::Invalid(why) => DataError::Invalid(why),
            StoreFault::NoSpace(detail) => DataError::NoSpace(detail),
            StoreFault::Internal(detail) => DataError::Internal(detail),
        }
    }
}

impl From<DomainError> for DataError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(what) => DataError::NotFound(what),
            DomainError::Unauthenticated => DataError::Forbidden("this data URL grants nothing to a guest".into()),
            DomainError::Forbidden(why) => DataError::Forbidden(why),
            DomainError::Invalid(why) | DomainError::TooLarge(why) => DataError::Invalid(why),
            DomainError::Conflict(why) => DataError::Conflict(why),
            DomainError::Store(e) => e.into(),
            DomainError::Internal(detail) => DataError::Internal(detail),
        }
    }
}
