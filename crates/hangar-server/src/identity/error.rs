//! What identity operations answer when they refuse or fail, for the REST API and `hangar
//! admin` alike; each maps it to its own output.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IdentityError {
    /// A request that cannot be carried out as asked (a bad name, expiry or service list).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] hangar_store::Error),
}

pub type IdentityResult<T> = Result<T, IdentityError>;

impl From<hangar_core::Error> for IdentityError {
    fn from(e: hangar_core::Error) -> Self {
        IdentityError::Invalid(e.to_string())
    }
}
