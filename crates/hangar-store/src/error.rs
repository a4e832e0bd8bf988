use thiserror::Error;

/// Every failure of the storage layer.
#[derive(Debug, Error)]
pub enum Error {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("limit reached: {0}")]
    Limit(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    /// Garbage collection is deleting the blob; the writer should store it again.
    #[error("blob {0} is being removed by garbage collection; push it again")]
    Collected(String),
    #[error("range not satisfiable")]
    RangeNotSatisfiable,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("configuration: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
