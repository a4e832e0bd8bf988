//! Hangar's domain: names, roles, API key kinds and the permission policy. No I/O.

mod error;
pub mod keys;
pub mod names;
pub mod policy;
pub mod roles;

pub use error::{Error, Result};
