//! Identity operations shared by the REST API, the web pages and `hangar admin`: issuing keys,
//! members, invitations and teams, the first start, passwords and sessions, `ngc`'s e-mail login, resolving repository names
//! to their org and team.

pub mod bootstrap;
pub mod contexts;
pub mod csrf;
pub mod device;
pub mod error;
pub mod invitations;
pub mod keys;
pub mod mail;
pub mod members;
pub mod names;
pub mod orgs;
pub mod passwords;
pub mod sessions;
