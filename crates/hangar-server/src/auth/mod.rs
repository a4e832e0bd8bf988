//! Authentication: API keys, bearer tokens, sessions, the token service and `ngc`'s e-mail
//! login.

pub mod caller;
pub mod device;
pub mod endpoints;
pub mod token;

pub use caller::Caller;
