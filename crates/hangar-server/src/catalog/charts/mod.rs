//! Helm charts as catalog entities: reading and checking a chart archive, the index entry of a
//! version, publishing a pushed archive as a new version, and recording charts pushed through
//! the registry.

pub mod archive;
pub mod index;
pub mod publish;
pub mod pushed;
