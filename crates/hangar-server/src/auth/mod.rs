//! Authentication: API keys, bearer tokens and the token service.

pub mod caller;
pub mod endpoints;
pub mod token;

pub use caller::Caller;
