//! Who is calling: the credential on a request, resolved to a user, a key and a policy subject.

use super::token::looks_like_jwt;
use crate::error::{ApiError, ApiResult};
use crate::identity::csrf;
use crate::identity::device;
use crate::identity::sessions::{self, CSRF_HEADER, SESSION_COOKIE};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::cookie::CookieJar;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hangar_core::keys::{EntityFilter, KeyKind};
use hangar_core::policy::{self, Action, Credential, Subject, Target};
use hangar_store::meta::{ApiKey, SessionKind, User, now};

/// The user name Docker and NGC clients send with an API key as the password.
pub const OAUTH_USER: &str = "$oauthtoken";

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<User>,
    pub key: Option<ApiKey>,
    /// The org a personal or service key belongs to.
    pub key_org: Option<String>,
    /// The browser session or `ngc` e-mail login the caller signed in with.
    pub session: Option<i64>,
    pub subject: Subject,
}

impl Caller {
    pub fn guest() -> Self {
        Caller {
            user: None,
            key: None,
            key_org: None,
            session: None,
            subject: Subject {
                grants: vec![],
                credential: Credential::Full,
                platform_admin: false,
            },
        }
    }

    /// Neither a key nor a signed-in user.
    pub fn is_guest(&self) -> bool {
        self.key.is_none() && self.user.is_none()
    }

    /// The orgs whose subscriptions count for the caller: the org a personal or service key
    /// belongs to, or every org of the user.
    pub fn subscribing_orgs(&self) -> Vec<&str> {
        let mut orgs: Vec<&str> = match &self.subject.credential {
            Credential::Personal { org, .. } | Credential::Service { org, .. } => vec![org.as_str()],
            Credential::Full => self.subject.grants.iter().map(|g| g.org.as_str()).collect(),
        };
        orgs.sort_unstable();
        orgs.dedup();
        orgs
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
            return browser_caller(state, parts).await;
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
            if let Some(session_id) = claims.session_id() {
                return caller_for_session_id(state, session_id).await;
            }
            let key_id = claims
                .key_id()
                .ok_or_else(|| ApiError::Unauthorized("this token carries no identity".into()))?;
            let key = state.meta.key(key_id).await?;
            return caller_for_key(state, key).await;
        }
        if value.starts_with(SessionKind::Device.secret_prefix()) {
            let Some(signed) = sessions::resolve(&state.meta, value, SessionKind::Device).await? else {
                // 403, not 401: a client polling for the approval stops at once.
                if device::was_denied(&state.meta, value).await? {
                    return Err(ApiError::Forbidden(
                        "this e-mail login was denied on its approval page".into(),
                    ));
                }
                return Err(ended_login());
            };
            return caller_for_user(state, signed.account.user, signed.session.id).await;
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

fn ended_login() -> ApiError {
    ApiError::Unauthorized("this e-mail login is unknown, not approved yet, expired or ended; log in again".into())
}

/// A request without `Authorization`: the signed-in browser its session cookie names, or a
/// guest. A browser's requests that may change something must carry the session's CSRF token
/// in `X-CSRF-Token`, which another site's page cannot read or send.
async fn browser_caller(state: &AppState, parts: &Parts) -> ApiResult<Caller> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Ok(Caller::guest());
    };
    let Some(signed) = sessions::resolve(&state.meta, cookie.value(), SessionKind::Browser).await? else {
        return Ok(Caller::guest());
    };
    if !parts.method.is_safe() {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !csrf::matches(sent, &signed.session.csrf_token) {
            return Err(ApiError::Forbidden(format!(
                "a signed-in browser must send its CSRF token in {CSRF_HEADER} with this request"
            )));
        }
    }
    caller_for_user(state, signed.account.user, signed.session.id).await
}

/// The caller a session (browser or `ngc` login) acts as: its user, with the user's own roles.
pub async fn caller_for_user(state: &AppState, user: User, session_id: i64) -> ApiResult<Caller> {
    let grants = state.meta.grants_of_user(user.id).await?;
    Ok(Caller {
        subject: Subject {
            grants,
            credential: Credential::Full,
            platform_admin: user.platform_admin,
        },
        user: Some(user),
        key: None,
        key_org: None,
        session: Some(session_id),
    })
}

/// The caller of a session known by id (from a token or a data link); an ended or expired
/// session is 401.
pub async fn caller_for_session_id(state: &AppState, id: i64) -> ApiResult<Caller> {
    let session = state.meta.session(id).await?.filter(|s| s.live(now()));
    let user_id = session.as_ref().and_then(|s| s.user_id).ok_or_else(ended_login)?;
    let user = state.meta.user(user_id).await?.ok_or_else(ended_login)?;
    caller_for_user(state, user, id).await
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
        session: None,
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
