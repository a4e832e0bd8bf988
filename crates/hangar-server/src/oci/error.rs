//! The registry's error type, answered in OCI's error format
//! (`{"errors":[{"code","message","detail"}]}`), whatever refused or failed underneath.

use crate::catalog::error::{DomainError, out_of_space};
use axum::Json;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum OciError {
    /// A refusal with one of the distribution spec's codes.
    #[error("{message}")]
    Code { code: RegistryCode, message: String },
    /// The Bearer challenge (`WWW-Authenticate`), answered with 401.
    #[error("authentication required")]
    Challenge {
        challenge: String,
        insufficient_scope: bool,
    },
    /// The blob store is full: 507, the detail in the log.
    #[error("no space left: {0}")]
    NoSpace(String),
    /// A failure of the server or its stores: 500, the detail in the log.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type OciResult<T> = Result<T, OciError>;

/// The error codes of the OCI distribution spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    RangeInvalid,
    TooLarge,
    /// Something exists already (the spec has no code of its own for it).
    Conflict,
}

impl RegistryCode {
    fn parts(self) -> (StatusCode, &'static str) {
        match self {
            RegistryCode::BlobUnknown => (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"),
            RegistryCode::BlobUploadInvalid => (StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
            RegistryCode::BlobUploadUnknown => (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"),
            RegistryCode::DigestInvalid => (StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
            RegistryCode::ManifestBlobUnknown => (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
            RegistryCode::ManifestInvalid => (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
            RegistryCode::ManifestUnknown => (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"),
            RegistryCode::NameInvalid => (StatusCode::BAD_REQUEST, "NAME_INVALID"),
            RegistryCode::NameUnknown => (StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
            RegistryCode::SizeInvalid => (StatusCode::BAD_REQUEST, "SIZE_INVALID"),
            RegistryCode::Unauthorized => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            RegistryCode::Denied => (StatusCode::FORBIDDEN, "DENIED"),
            RegistryCode::Unsupported => (StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED"),
            RegistryCode::RangeInvalid => (StatusCode::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID"),
            RegistryCode::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "SIZE_INVALID"),
            RegistryCode::Conflict => (StatusCode::CONFLICT, "DENIED"),
        }
    }
}

/// Shorthand for a refusal with an OCI code.
pub fn registry(code: RegistryCode, message: impl Into<String>) -> OciError {
    OciError::Code {
        code,
        message: message.into(),
    }
}

impl OciError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        OciError::Internal(e.to_string())
    }
}

impl IntoResponse for OciError {
    fn into_response(self) -> Response {
        match self {
            OciError::Code { code, message } => body(code.parts(), &message, None),
            OciError::Challenge {
                challenge,
                insufficient_scope,
            } => {
                let message = if insufficient_scope {
                    "the token lacks the scope for this request"
                } else {
                    "authentication required"
                };
                body((StatusCode::UNAUTHORIZED, "UNAUTHORIZED"), message, Some(&challenge))
            }
            OciError::NoSpace(detail) => {
                tracing::error!(%detail, "no space left to store a request");
                let message = "the registry has no space left; see the server log";
                body((StatusCode::INSUFFICIENT_STORAGE, "UNKNOWN"), message, None)
            }
            OciError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                let message = "internal error; see the server log";
                body((StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN"), message, None)
            }
        }
    }
}

/// OCI's error body, with the Bearer challenge on 401.
fn body((status, code): (StatusCode, &str), message: &str, challenge: Option<&str>) -> Response {
    let body = json!({"errors": [{"code": code, "message": message, "detail": {}}]});
    let mut response = (status, Json(body)).into_response();
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(c).ok()) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

impl From<hangar_store::Error> for OciError {
    fn from(e: hangar_store::Error) -> Self {
        use hangar_store::Error as E;
        match e {
            E::NotFound(what) => registry(RegistryCode::NameUnknown, format!("{what} not found")),
            E::Conflict(what) => registry(RegistryCode::Conflict, format!("{what} already exists")),
            E::Limit(why) => registry(RegistryCode::TooLarge, why),
            E::Invalid(why) => registry(RegistryCode::DigestInvalid, why),
            E::Collected(_) => registry(RegistryCode::BlobUploadInvalid, e.to_string()),
            E::DigestMismatch { .. } => registry(RegistryCode::DigestInvalid, e.to_string()),
            E::SizeMismatch { .. } => registry(RegistryCode::SizeInvalid, e.to_string()),
            E::RangeNotSatisfiable => registry(RegistryCode::RangeInvalid, e.to_string()),
            other if out_of_space(&other) => OciError::NoSpace(other.to_string()),
            other => OciError::Internal(other.to_string()),
        }
    }
}

impl From<DomainError> for OciError {
    fn from(e: DomainError) -> Self {
        match e {
            // The registry's domain lookups are by repository name.
            DomainError::NotFound(what) => registry(RegistryCode::NameUnknown, what),
            DomainError::Invalid(why) => registry(RegistryCode::NameInvalid, why),
            DomainError::Unauthenticated => registry(RegistryCode::Unauthorized, e.to_string()),
            DomainError::Forbidden(why) => registry(RegistryCode::Denied, why),
            DomainError::Conflict(why) => registry(RegistryCode::Conflict, why),
            DomainError::TooLarge(why) => registry(RegistryCode::TooLarge, why),
            DomainError::Store(e) => e.into(),
            DomainError::Internal(detail) => OciError::Internal(detail),
        }
    }
}

/// hangar-core validates the names the registry is given.
impl From<hangar_core::Error> for OciError {
    fn from(e: hangar_core::Error) -> Self {
        registry(RegistryCode::NameInvalid, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_507_other_failures_500() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let status = |e: hangar_store::Error| OciError::from(e).into_response().status();
        assert_eq!(status(full.into()), StatusCode::INSUFFICIENT_STORAGE);
        let wrapped = std::io::Error::other(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(status(wrapped.into()), StatusCode::INSUFFICIENT_STORAGE);
        let broken = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(status(broken.into()), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            status(hangar_store::Error::Config("x".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
