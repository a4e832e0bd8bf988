use thiserror::Error;

/// Input that breaks a rule of the domain.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    #[error("invalid {what} '{value}': {why}")]
    InvalidName {
        what: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("'{0}' is a reserved name")]
    Reserved(String),
    #[error(
        "unknown role '{0}'; valid roles: ORG_OWNER, REGISTRY_ADMIN, REGISTRY_USER, REGISTRY_READ, USER_ADMIN, USER_READ"
    )]
    UnknownRole(String),
    #[error("unknown {what} '{value}'")]
    Unknown { what: &'static str, value: String },
    /// A malformed content digest, worded as clients were always shown it.
    #[error("invalid input: {0}")]
    InvalidDigest(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
