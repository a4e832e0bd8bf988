//! The data plane's links (ngc-api.md §5): signed, expiring URLs for one part of an upload, one
//! file of a version, or a whole version as a zip. A link names who it was handed to, and the
//! data plane checks at every use that they still may do what it allows — NGC's client fetches
//! the links of every file at once and uses them for the whole download, and a key revoked or a
//! member removed meanwhile must stop it.

use super::error::{DomainError, DomainResult};
use crate::auth::Caller;
use crate::auth::caller::{caller_for_key, caller_for_session_id};
use crate::catalog::signing::UrlSigner;
use crate::state::AppState;
use axum::http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use std::time::Duration;

/// How long a part link stays good: a client gets the links of every part of a file at once,
/// and a file of a terabyte takes hours.
pub const PART_LINK_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// What stays as it is in a link's path segments.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Who a link was handed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Guest,
    /// The API key the caller used, directly or through a token.
    Key(i64),
    /// The browser session or `ngc` e-mail login the caller signed in with.
    Session(i64),
}

impl Principal {
    pub fn of(caller: &Caller) -> Principal {
        match (&caller.key, caller.session) {
            (Some(key), _) => Principal::Key(key.id),
            (None, Some(session)) => Principal::Session(session),
            (None, None) => Principal::Guest,
        }
    }

    fn word(self) -> String {
        match self {
            Principal::Guest => "guest".into(),
            Principal::Key(id) => format!("k{id}"),
            Principal::Session(id) => format!("s{id}"),
        }
    }

    pub fn parse(word: &str) -> Option<Principal> {
        match word {
            "guest" => Some(Principal::Guest),
            _ => match word.split_at_checked(1)? {
                ("k", id) => id.parse().ok().map(Principal::Key),
                ("s", id) => id.parse().ok().map(Principal::Session),
                _ => None,
            },
        }
    }

    /// The caller this principal is now. A key that was revoked, deactivated or has expired
    /// makes the link useless (403); an owner who left the org keeps the key but not the roles.
    pub async fn caller(self, state: &AppState) -> DomainResult<Caller> {
        let caller = match self {
            Principal::Guest => return Ok(Caller::guest()),
            Principal::Key(id) => caller_for_key(state, state.meta.key(id).await?).await,
            Principal::Session(id) => caller_for_session_id(state, id).await,
        };
        caller.map_err(|e| match e {
            crate::error::ApiError::Unauthorized(_) | crate::error::ApiError::Forbidden(_) => {
                DomainError::Forbidden("this data URL's key or session is no longer valid".into())
            }
            other => DomainError::Internal(other.to_string()),
        })
    }
}

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// Send part `part` (1-based) of file upload `upload`.
    Part { upload: &'a str, part: i64 },
    /// Read the file at `path` of version `version`.
    File { version: i64, path: &'a str },
    /// Read version `version` as one zip.
    Zip { version: i64 },
    /// Read the signature bundle of version `version`.
    Signature { version: i64 },
}

impl Resource<'_> {
    /// The request the signature covers.
    fn request(&self) -> String {
        match self {
            Resource::Part { upload, part } => format!("PUT part {upload} {part}"),
            Resource::File { version, path } => format!("GET file {version} {path}"),
            Resource::Zip { version } => format!("GET zip {version}"),
            Resource::Signature { version } => format!("GET signature {version}"),
        }
    }

    fn url_path(&self) -> String {
        match self {
            Resource::Part { upload, part } => format!("/data/uploads/{upload}/{part}"),
            Resource::File { version, path } => {
                let encoded: Vec<String> = path
                    .split('/')
                    .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
                    .collect();
                format!("/data/versions/{version}/files/{}", encoded.join("/"))
            }
            Resource::Zip { version } => format!("/data/versions/{version}/zip"),
            Resource::Signature { version } => format!("/data/versions/{version}/signature"),
        }
    }
}

/// The query part of a link.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    by: Option<String>,
    expires: Option<i64>,
    signature: Option<String>,
}

/// A link to `resource` for `principal` on the server at `base`, good for `ttl`.
pub fn link(state: &AppState, base: &str, resource: Resource, principal: Principal, ttl: Duration) -> String {
    let expires = chrono::Utc::now().timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    format!("{base}{}", signed_path(&state.urls, resource, principal, expires))
}

/// The path and query of a link to `resource` for `principal`, good until `expires` (Unix
/// seconds).
pub fn signed_path(signer: &UrlSigner, resource: Resource, principal: Principal, expires: i64) -> String {
    let by = principal.word();
    let signature = signer.sign(&resource.request(), &by, expires);
    format!(
        "{}?by={by}&expires={expires}&signature={signature}",
        resource.url_path()
    )
}

/// Checks a link's signature for `resource`; whom it was handed to.
pub fn verify(state: &AppState, resource: Resource, query: &LinkQuery) -> DomainResult<Principal> {
    let by = query.by.as_deref().unwrap_or_default();
    state
        .urls
        .check(&resource.request(), by, query.expires, query.signature.as_deref())?;
    Principal::parse(by).ok_or_else(|| DomainError::Forbidden("this data URL names nobody".into()))
}

/// Where this server is reachable for the caller, for the URLs it hands out (data links, the
/// registry's token realm).
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    state.settings.request_base(headers)
}

#[cfg(test)]
mod tests {
    use super::{Principal, Resource};

    #[test]
    fn principals_round_trip() {
        for p in [Principal::Guest, Principal::Key(42), Principal::Session(7)] {
            assert_eq!(Principal::parse(&p.word()), Some(p));
        }
        assert_eq!(Principal::parse("k"), None);
        assert_eq!(Principal::parse("user1"), None);
    }

    #[test]
    fn file_paths_are_encoded_per_segment() {
        let r = Resource::File {
            version: 3,
            path: "sub dir/a+b.bin",
        };
        assert_eq!(r.url_path(), "/data/versions/3/files/sub%20dir/a%2Bb.bin");
    }
}
