//! Hangar persistence: the metadata database and the content-addressed blob store.

pub mod blob;
mod error;
pub mod meta;

pub use error::{Error, Result};
