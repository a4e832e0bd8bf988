//! Hangar's domain: names, content digests, roles, API key kinds, the permission policy, access
//! levels, the wire names of entity kinds and cosign's key and signature formats. No I/O.

pub mod access;
pub mod cosign;
pub mod digest;
mod error;
pub mod keys;
pub mod names;
pub mod policy;
pub mod roles;
pub mod versions;
pub mod wire;

pub use error::{Error, Result};
