//! Signed bearer tokens (EdDSA JWTs). The signing key lives in the shared database, so every
//! replica issues and verifies the same tokens.

use crate::error::{ApiError, ApiResult};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hangar_store::meta::MetaStore;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const SIGNING_KEY_SETTING: &str = "token_signing_key_ed25519_pkcs8";
const ISSUER: &str = "hangar";

/// One repository grant of a Docker registry token (distribution token spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// `key:<id>` for a token obtained with an API key, `session:<id>` for one obtained by a
    /// signed-in session (`ngc`'s e-mail login); `anonymous` otherwise.
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// NGC group scopes that were asked for (`group/ngc:org[/team]`); informational, the API
    /// checks the key's current roles on every request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Docker repository grants, decided when the token was issued.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<Access>,
}

impl Claims {
    /// The API key this token was obtained with.
    pub fn key_id(&self) -> Option<i64> {
        self.sub.strip_prefix("key:")?.parse().ok()
    }

    /// The session this token was obtained by.
    pub fn session_id(&self) -> Option<i64> {
        self.sub.strip_prefix("session:")?.parse().ok()
    }
}

#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub ttl_seconds: i64,
}

impl TokenService {
    /// Loads the installation's signing key, creating it on the very first start.
    pub async fn load(meta: &MetaStore, ttl_seconds: i64) -> ApiResult<Self> {
        let stored = meta
            .setting_or_init(SIGNING_KEY_SETTING, || {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let doc = Ed25519KeyPair::generate_pkcs8v1(&rng).expect("the system random source works");
                STANDARD.encode(doc.as_ref())
            })
            .await?;
        let pkcs8 = STANDARD
            .decode(stored)
            .map_err(|e| ApiError::Internal(format!("stored signing key: {e}")))?;
        let pair =
            Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| ApiError::Internal(format!("stored signing key: {e}")))?;
        Ok(TokenService {
            encoding: EncodingKey::from_ed_der(&pkcs8),
            decoding: DecodingKey::from_ed_der(pair.public_key().as_ref()),
            ttl_seconds,
        })
    }

    pub fn issue(
        &self,
        sub: String,
        audience: &str,
        scopes: Vec<String>,
        access: Vec<Access>,
    ) -> ApiResult<(String, Claims)> {
        let iat = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            sub,
            aud: audience.into(),
            iat,
            exp: iat + self.ttl_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
            scopes,
            access,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
        Ok((token, claims))
    }

    /// Checks signature, issuer and expiry (no leeway); the audience is not checked here
    /// because the same token serves the API and the registry.
    pub fn verify(&self, token: &str) -> ApiResult<Claims> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_issuer(&[ISSUER]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))
    }
}

/// Whether a bearer value looks like a JWT (three non-empty dot-separated parts).
pub fn looks_like_jwt(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty())
}
