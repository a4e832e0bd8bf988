//! What identity operations answer when they refuse or fail, for the REST API and `hangar
//! admin` alike; each maps it to its own output.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IdentityError {
    /// A request that cannot be carried out as asked (a bad name, expiry or service list).
    #[error("{0}")]
    Invalid(String),
    /// No such thing, or not one the caller may see.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// An unknown e-mail or a wrong password: one answer for both.
    #[error("wrong e-mail or password")]
    WrongCredentials,
    /// Too many failed sign-ins: try again after this many seconds.
    #[error("too many failed sign-ins; try again in {0} s")]
    Throttled(i64),
    /// Something that is not the caller's fault (a worker thread that died).
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] hangar_store::Error),
}

pub type IdentityResult<T> = Result<T, IdentityError>;

impl From<hangar_core::Error> for IdentityError {
    fn from(e: hangar_core::Error) -> Self {
        IdentityError::Invalid(e.to_string())
    }
}
