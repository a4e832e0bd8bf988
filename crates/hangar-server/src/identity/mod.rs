//! Identity operations shared by the REST API and `hangar admin`: issuing keys, the first
//! start, resolving repository names to their org and team.

pub mod bootstrap;
pub mod error;
pub mod keys;
pub mod names;
