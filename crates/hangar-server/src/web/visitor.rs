//! Who is looking at a page: a signed-in user (their browser session) or an anonymous visitor,
//! and the CSRF token their forms must carry.
//!
//! A signed-in browser's token is its session's, stored with it. An anonymous visitor's forms
//! (sign in, accept an invitation, set a password) are tied to a random `hangar_csrf` cookie
//! that is `SameSite=Strict`, so another site can neither read it nor make the browser send it.

use super::error::{WebError, WebResult};
use crate::identity::contexts::contexts_with;
use crate::identity::csrf;
use crate::identity::sessions::{self, Client, SESSION_COOKIE, SignedIn};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use hangar_core::roles::Role;
use hangar_pages::{Choice, Chrome, UserMenu};
use hangar_store::meta::{SessionKind, random_secret};

pub const CSRF_COOKIE: &str = "hangar_csrf";

pub struct Visitor {
    pub signed: Option<SignedIn>,
    pub client: Client,
    /// The anonymous CSRF token: from the cookie, or new (then the response sets the cookie).
    anonymous_csrf: String,
    new_csrf_cookie: bool,
    tls: bool,
    /// The path and query of this page, to come back to after signing in.
    pub here: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> WebResult<Self> {
        let jar = CookieJar::from_headers(&parts.headers);
        let signed = match jar.get(SESSION_COOKIE) {
            Some(cookie) => sessions::resolve(&state.meta, cookie.value(), SessionKind::Browser).await?,
            None => None,
        };
        let (anonymous_csrf, new_csrf_cookie) = match jar.get(CSRF_COOKIE) {
            Some(cookie) if cookie.value().len() >= 32 => (cookie.value().to_string(), false),
            _ => (random_secret(""), true),
        };
        Ok(Visitor {
            signed,
            client: Client::of(parts, &state.settings.trusted_proxies),
            anonymous_csrf,
            new_csrf_cookie,
            tls: state.settings.secure_cookies(),
            here: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
        })
    }
}

impl Visitor {
    /// The token this visitor's forms carry.
    pub fn csrf(&self) -> &str {
        match &self.signed {
            Some(signed) => &signed.session.csrf_token,
            None => &self.anonymous_csrf,
        }
    }

    /// Refuses a form whose token is not this visitor's.
    pub fn check_csrf(&self, presented: &str) -> WebResult<()> {
        if self.new_csrf_cookie && self.signed.is_none() {
            return Err(WebError::Csrf);
        }
        if csrf::matches(presented, self.csrf()) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// The signed-in user, or a trip to the sign-in page and back here.
    pub fn signed_in(&self) -> WebResult<&SignedIn> {
        self.signed.as_ref().ok_or_else(|| WebError::SignIn {
            next: self.here.clone(),
        })
    }

    /// The caller a signed-in visitor's form acts as, once its CSRF token (`csrf`, as posted) is
    /// checked.
    pub async fn acting(&self, state: &AppState, csrf: &str) -> WebResult<crate::auth::Caller> {
        self.signed_in()?;
        self.check_csrf(csrf)?;
        super::explore::caller_of(state, self).await
    }

    /// The header of a page: the user menu with the switcher, and the CSRF token.
    pub async fn chrome(&self, state: &AppState) -> WebResult<Chrome> {
        let user = match &self.signed {
            None => None,
            Some(signed) => {
                let current = context_value(signed);
                let grants = state.meta.grants_of_user(signed.account.user.id).await?;
                let choices = contexts_with(&state.meta, signed.account.user.id, &grants)
                    .await?
                    .into_iter()
                    .map(|c| Choice {
                        selected: current.as_deref() == Some(c.value().as_str()),
                        value: c.value(),
                        label: c.label(),
                    })
                    .collect();
                // Only those who may publish somewhere are offered "Create".
                let publishes = grants
                    .iter()
                    .any(|g| matches!(g.role, Role::OrgOwner | Role::RegistryAdmin | Role::RegistryUser));
                Some(UserMenu {
                    publishes,
                    name: signed.account.user.name.clone(),
                    email: signed.account.user.email.clone(),
                    context: current.map(|c| c.replace('/', " / ")).unwrap_or_default(),
                    choices,
                })
            }
        };
        Ok(Chrome {
            user,
            csrf: csrf::mask(self.csrf()),
        })
    }

    /// The cookies a page's response must set: the anonymous CSRF cookie when it is new.
    pub fn cookies(&self) -> CookieJar {
        let jar = CookieJar::new();
        if self.new_csrf_cookie && self.signed.is_none() {
            jar.add(
                Cookie::build((CSRF_COOKIE, self.anonymous_csrf.clone()))
                    .path("/")
                    .http_only(true)
                    .secure(self.tls)
                    .same_site(SameSite::Strict),
            )
        } else {
            jar
        }
    }

    /// A page with this visitor's cookies.
    pub fn respond(&self, page: Response) -> Response {
        (self.cookies(), page).into_response()
    }
}

/// The session's org or `org/team`, if one is chosen.
pub fn context_value(signed: &SignedIn) -> Option<String> {
    let org = signed.session.context_org.clone()?;
    Some(match &signed.session.context_team {
        Some(team) => format!("{org}/{team}"),
        None => org,
    })
}
