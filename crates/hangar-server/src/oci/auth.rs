//! Who may do what to a repository: API keys (Basic `$oauthtoken:<key>` or Bearer key) and
//! Docker bearer tokens from `/token`, checked through the one policy.

use super::error::{OciError, OciResult, RegistryCode, registry};
use crate::auth::caller::{Caller, authenticate, caller_for_key, caller_for_session_id};
use crate::auth::token::{Access, looks_like_jwt};
use crate::cache::{Credentials, Located};
use crate::catalog::links::base_url;
use crate::catalog::repositories::{guarded, locate};
use crate::catalog::reveal::{Verdict, may, reveal};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use hangar_core::names::validate_repository;
use hangar_core::policy::ArtifactOp;
use sha2::{Digest as _, Sha256};

/// A Docker token action and the policy operation behind it.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub action: &'static str,
    pub op: ArtifactOp,
}

pub const PULL: Need = Need {
    action: "pull",
    op: ArtifactOp::Download,
};
pub const LIST: Need = Need {
    action: "pull",
    op: ArtifactOp::List,
};
pub const PUSH: Need = Need {
    action: "push",
    op: ArtifactOp::Upload,
};
pub const DELETE: Need = Need {
    action: "delete",
    op: ArtifactOp::Delete,
};

pub struct RegistryCaller {
    pub caller: Caller,
    /// The grants of a Docker token; `None` when an API key was sent directly.
    access: Option<Vec<Access>>,
    realm: String,
    service: String,
}

impl RegistryCaller {
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> OciResult<Self> {
        let mut me = RegistryCaller {
            caller: Caller::guest(),
            access: None,
            realm: format!("{}/token", base_url(state, headers)),
            service: state.settings.registry_service.clone(),
        };
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(me);
        };
        let value = value.to_str().map_err(|_| me.challenge(None, false))?;
        match credentials(state, value).await {
            Ok(found) => {
                me.caller = found.caller;
                me.access = found.access;
                Ok(me)
            }
            Err(ApiError::Unauthorized(_)) => Err(me.challenge(None, false)),
            // Credentials that are good but cannot be turned into a caller: the stores or the
            // stored key are at fault, never the client.
            Err(e) => Err(OciError::internal(e)),
        }
    }

    /// The 401 that tells a client where to get a token, and for what.
    pub fn challenge(&self, scope: Option<String>, insufficient: bool) -> OciError {
        let mut challenge = format!("Bearer realm=\"{}\",service=\"{}\"", self.realm, self.service);
        if let Some(scope) = scope {
            challenge.push_str(&format!(",scope=\"{scope}\""));
        }
        if insufficient {
            challenge.push_str(",error=\"insufficient_scope\"");
        }
        OciError::Challenge {
            challenge,
            insufficient_scope: insufficient,
        }
    }

    /// `GET /v2/`: any authenticated caller.
    pub fn require_login(&self) -> OciResult<()> {
        if self.caller.is_guest() && self.access.is_none() {
            return Err(self.challenge(None, false));
        }
        Ok(())
    }

    fn token_allows(&self, kind: &str, name: &str, action: &str) -> bool {
        match &self.access {
            None => true,
            Some(access) => access
                .iter()
                .any(|a| a.kind == kind && a.name == name && a.actions.iter().any(|x| x == action || x == "*")),
        }
    }

    /// The catalog: any authenticated caller whose token (if any) covers `registry:catalog:*`.
    pub fn require_catalog(&self) -> OciResult<()> {
        if self.caller.is_guest() {
            return Err(self.challenge(Some("registry:catalog:*".into()), false));
        }
        if !self.token_allows("registry", "catalog", "*") {
            return Err(self.challenge(Some("registry:catalog:*".into()), true));
        }
        Ok(())
    }

    /// Whether the caller may see a repository in listings.
    pub async fn can_list(&self, state: &AppState, name: &str) -> OciResult<bool> {
        let Some(located) = locate(state, name).await? else {
            return Ok(false);
        };
        Ok(may(
            &self.caller,
            &guarded(state, &self.caller, &located, name).await?,
            ArtifactOp::List,
        ))
    }

    /// A push into `target` that mounts a blob from `source`. Its challenge names the whole
    /// scope such a mount needs — pull and push on the target, pull on the source, as
    /// Distribution asks — so a client that fetches one token for the challenge and retries once
    /// gets the mount. A token without pull on the source, held by a caller who may pull from
    /// there, is challenged for it; any other caller's mount falls back to a normal upload,
    /// which tells nothing about the source.
    pub async fn require_mount(&self, state: &AppState, target: &str, source: &str) -> OciResult<Located> {
        if validate_repository(source).is_err() {
            return self.require(state, target, PUSH).await;
        }
        let scope = format!("repository:{target}:pull,push repository:{source}:pull");
        let located = self.require_naming(state, target, PUSH, &scope).await?;
        if self.access.is_none() || self.token_allows("repository", source, PULL.action) {
            return Ok(located);
        }
        let Some(from) = locate(state, source).await? else {
            return Ok(located);
        };
        let may_pull = may(
            &self.caller,
            &guarded(state, &self.caller, &from, source).await?,
            PULL.op,
        );
        if may_pull {
            return Err(self.challenge(Some(scope), true));
        }
        Ok(located)
    }

    /// Checks `need` on repository `name` and returns where it lives. A guest, or a token
    /// without the action, gets the challenge; a known caller without the right gets DENIED.
    /// Anyone may pull from a public repository (with a token, anonymous or not).
    pub async fn require(&self, state: &AppState, name: &str, need: Need) -> OciResult<Located> {
        self.require_naming(state, name, need, &format!("repository:{name}:{}", need.action))
            .await
    }

    /// [`RegistryCaller::require`] whose challenge names `scope`: everything the request needs.
    async fn require_naming(&self, state: &AppState, name: &str, need: Need, scope: &str) -> OciResult<Located> {
        let resolved = locate(state, name).await?;
        if self.caller.is_guest() && self.access.as_ref().is_none_or(|a| a.is_empty()) {
            return Err(self.challenge(Some(scope.to_string()), false));
        }
        let Some(located) = resolved else {
            return Err(registry(
                RegistryCode::NameUnknown,
                format!("no org for repository '{name}'"),
            ));
        };
        if !self.token_allows("repository", name, need.action) {
            return Err(self.challenge(Some(scope.to_string()), true));
        }
        match reveal(
            &self.caller,
            &guarded(state, &self.caller, &located, name).await?,
            need.op,
        ) {
            Verdict::Allowed => Ok(located),
            // A guest who may see the repository but not pull from it (authenticated access):
            // asked to sign in, as a guest is for anything else.
            Verdict::Unauthenticated => Err(self.challenge(Some(scope.to_string()), false)),
            Verdict::Hidden | Verdict::Forbidden => Err(registry(
                RegistryCode::Denied,
                format!("you may not {} '{name}'", need.action),
            )),
        }
    }
}

/// The caller and token grants an `Authorization` value stands for, from the read cache when
/// fresh. A token is trusted until its expiry at most; a key until its own.
async fn credentials(state: &AppState, value: &str) -> ApiResult<Credentials> {
    let cache_key: [u8; 32] = Sha256::digest(value.as_bytes()).into();
    if let Some(hit) = state.cache.get(&state.cache.credentials, &cache_key) {
        return Ok(hit);
    }
    let mut stamp = state.cache.stamp();
    let bearer = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "));
    let found = match bearer.filter(|v| looks_like_jwt(v.trim())) {
        Some(token) => {
            let claims = state.tokens.verify(token.trim())?;
            stamp = stamp.not_after(Some(claims.exp));
            // A token names its key, or the session (browser or e-mail login) it was issued to.
            let caller = match (claims.key_id(), claims.session_id()) {
                (Some(id), _) => caller_for_key(state, state.meta.key(id).await?).await?,
                (None, Some(session)) => caller_for_session_id(state, session).await?,
                (None, None) => Caller::guest(),
            };
            Credentials {
                caller,
                access: Some(claims.access),
            }
        }
        None => Credentials {
            caller: authenticate(state, value).await?,
            access: None,
        },
    };
    let stamp = stamp.not_after(found.caller.key.as_ref().and_then(|k| k.expires_at));
    state
        .cache
        .put(&state.cache.credentials, cache_key, found.clone(), stamp);
    Ok(found)
}
