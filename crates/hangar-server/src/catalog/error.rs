//! What the domain answers when it refuses or fails. Each surface turns it into its own wire
//! format (`From<DomainError>`), so the type of a handler's error decides how it is answered.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DomainError {
    /// Missing, or hidden from the caller (who learns nothing more).
    #[error("{0}")]
    NotFound(String),
    /// A guest where a known caller is needed.
    #[error("authentication required: send an API key or a token")]
    Unauthenticated,
    /// A caller who sees the thing but may not do this to it.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// The stores' own answer: their not-found and conflicts, or their failures.
    #[error(transparent)]
    Store(#[from] hangar_store::Error),
    /// A failure of the server itself (a local file, a task).
    #[error("{0}")]
    Internal(String),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl From<hangar_core::Error> for DomainError {
    fn from(e: hangar_core::Error) -> Self {
        DomainError::Invalid(e.to_string())
    }
}

impl DomainError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        DomainError::Internal(e.to_string())
    }
}

/// Whether a store failure is a full disk (ENOSPC), wherever in its chain of causes the I/O
/// error sits (`object_store` wraps the local folder's errors in its own).
pub fn out_of_space(e: &hangar_store::Error) -> bool {
    fn full(err: &(dyn std::error::Error + 'static)) -> bool {
        let io = err.downcast_ref::<std::io::Error>();
        io.is_some_and(|io| {
            io.kind() == std::io::ErrorKind::StorageFull || io.get_ref().is_some_and(|inner| full(inner))
        }) || err.source().is_some_and(full)
    }
    full(e)
}

/// A store error as the REST API and the data plane tell it apart (the registry has its own,
/// finer mapping to OCI codes).
pub enum StoreFault {
    NotFound(String),
    Conflict(String),
    /// The request's fault: a limit, a wrong digest or size, a range outside the blob.
    Invalid(String),
    NoSpace(String),
    Internal(String),
}

/// Sorts a store error into a [`StoreFault`].
pub fn store_fault(e: hangar_store::Error) -> StoreFault {
    use hangar_store::Error as E;
    if out_of_space(&e) {
        return StoreFault::NoSpace(e.to_string());
    }
    match e {
        E::NotFound(what) => StoreFault::NotFound(format!("{what} not found")),
        E::Conflict(what) => StoreFault::Conflict(format!("{what} already exists")),
        E::Limit(why) | E::Invalid(why) => StoreFault::Invalid(why),
        E::Collected(_) | E::DigestMismatch { .. } | E::SizeMismatch { .. } | E::RangeNotSatisfiable => {
            StoreFault::Invalid(e.to_string())
        }
        other => StoreFault::Internal(other.to_string()),
    }
}
