//! Identity operations shared by the REST API, the web pages and `hangar admin`: issuing keys,
//! the first start, passwords and sessions, `ngc`'s e-mail login, resolving repository names
//! to their org and team.

pub mod bootstrap;
pub mod contexts;
pub mod csrf;
pub mod device;
pub mod error;
pub mod keys;
pub mod mail;
pub mod names;
pub mod passwords;
pub mod sessions;
