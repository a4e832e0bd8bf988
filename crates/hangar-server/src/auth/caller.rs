//! Who is calling: the credential on a request, resolved to a user, a key and a policy subject.

use super::token::looks_like_jwt;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hangar_core::keys::{EntityFilter, KeyKind};
use hangar_core::policy::{self, Action, Credential, Subject, Target};
use hangar_store::meta::{ApiKey, User, now};

/// The user name Docker and NGC clients send with an API key as the password.
pub const OAUTH_USER: &str = "$oauthtoken";

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<User>,
    pub key: Option<ApiKey>,
    /// The org a personal or service key belongs to.
    pub key_org: Option<String>,
    pub subject: Subject,
}

impl Caller {
    pub fn guest() -> Self {
        Caller {
            user: None,
            key: None,
            key_org: None,
            subject: Subject {
                grants: vec![],
                credential: Credential::Full,
                platform_admin: false,
            },
        }
    }

    pub fn is_guest(&self) -> bool {
        self.key.is_none()
    }

    pub fn allowed(&self, action: Action, target: &Target) -> bool {
        policy::allowed(&self.subject, action, target)
    }

    /// `Ok` when allowed; otherwise 401 for a guest and 403 for a known caller.
    pub fn require(&self, action: Action, target: &Target) -> ApiResult<()> {
        if self.allowed(action, target) {
            Ok(())
        } else if self.is_guest() {
            Err(ApiError::unauthenticated())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// The calling user; service keys and guests have none.
    pub fn user(&self) -> ApiResult<&User> {
        match (&self.user, &self.key) {
            (Some(user), _) => Ok(user),
            (None, Some(_)) => Err(ApiError::Forbidden("a service key does not act as a user".into())),
            (None, None) => Err(ApiError::unauthenticated()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller::guest());
        };
        let header = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
        authenticate(state, header).await
    }
}

/// Resolves an `Authorization` value: `Bearer <token>`, `Bearer <API key>`, or
/// `Basic $oauthtoken:<API key>`.
pub async fn authenticate(state: &AppState, header: &str) -> ApiResult<Caller> {
    let (scheme, value) = header
        .split_once(' ')
        .ok_or_else(|| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if looks_like_jwt(value) {
            let claims = state.tokens.verify(value)?;
            let key_id = claims
                .key_id()
                .ok_or_else(|| ApiError::Unauthorized("this token carries no identity".into()))?;
            let key = state.meta.key(key_id).await?;
            return caller_for_key(state, key).await;
        }
        return caller_for_secret(state, value).await;
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let secret = basic_api_key(value)?;
        return caller_for_secret(state, &secret).await;
    }
    Err(ApiError::Unauthorized(format!(
        "unsupported authorization scheme '{scheme}'"
    )))
}

/// The API key in a Basic credential, whose user must be `$oauthtoken`.
pub fn basic_api_key(value: &str) -> ApiResult<String> {
    let bad = || ApiError::Unauthorized("malformed Basic credentials".into());
    let decoded = STANDARD.decode(value).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (user, secret) = text.split_once(':').ok_or_else(bad)?;
    if user != OAUTH_USER {
        return Err(ApiError::Unauthorized(format!(
            "the user name must be {OAUTH_USER}, with an API key as the password"
        )));
    }
    Ok(secret.to_string())
}

pub async fn caller_for_secret(state: &AppState, secret: &str) -> ApiResult<Caller> {
    let key = state.meta.key_by_secret(secret).await?;
    caller_for_key(state, key).await
}

/// Builds the caller for a key found by secret or token; a missing, inactive or expired key is 401.
pub async fn caller_for_key(state: &AppState, key: Option<ApiKey>) -> ApiResult<Caller> {
    let key = key
        .filter(|k| k.active && !k.expired(now()))
        .ok_or_else(|| ApiError::Unauthorized("invalid API key: unknown, revoked, inactive or expired".into()))?;
    let key_org = match key.org_id {
        Some(id) => Some(state.meta.org_by_id(id).await?.name),
        None => None,
    };
    let user = match key.user_id {
        Some(id) => Some(
            state
                .meta
                .user(id)
                .await?
                .ok_or_else(|| ApiError::Unauthorized("the key's owner no longer exists".into()))?,
        ),
        None => None,
    };
    let grants = match &user {
        Some(u) => state.meta.grants_of_user(u.id).await?,
        None => vec![],
    };
    let credential = match (key.kind, &key_org) {
        (KeyKind::Legacy, _) => Credential::Full,
        (KeyKind::Personal, Some(org)) => Credential::Personal {
            org: org.clone(),
            services: parse_list(&key.services)?,
        },
        (KeyKind::Service, Some(org)) => Credential::Service {
            org: org.clone(),
            scopes: parse_list(&key.scopes)?,
            entity: EntityFilter::parse(&key.entity_type, Some(&key.entity_value))?,
        },
        _ => return Err(ApiError::Internal(format!("key {} has no org", key.id))),
    };
    let platform_admin = user.as_ref().is_some_and(|u| u.platform_admin);
    Ok(Caller {
        subject: Subject {
            grants,
            credential,
            platform_admin,
        },
        user,
        key: Some(key),
        key_org,
    })
}

/// Parses a comma-separated column of enum names.
pub fn parse_list<T: std::str::FromStr<Err = hangar_core::Error>>(value: &str) -> ApiResult<Vec<T>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(ApiError::from))
        .collect()
}
