//! Signed, expiring URLs of the data plane: the API hands them out, and whoever holds one may
//! do exactly that one request until it expires, with no other credential (as S3 presigned
//! URLs; NGC's client sends no auth headers there). HMAC-SHA256 with a key kept in the shared
//! database, so every replica signs and checks the same URLs.

use crate::error::{ApiError, ApiResult};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hangar_store::meta::MetaStore;

const SIGNING_KEY_SETTING: &str = "data_url_signing_key";

#[derive(Clone)]
pub struct UrlSigner {
    key: hmac::Key,
}

impl UrlSigner {
    pub async fn load(meta: &MetaStore) -> ApiResult<Self> {
        let stored = meta
            .setting_or_init(SIGNING_KEY_SETTING, || {
                let secret: [u8; 32] = rand::random();
                STANDARD.encode(secret)
            })
            .await?;
        let secret = STANDARD
            .decode(stored)
            .map_err(|e| ApiError::Internal(format!("stored URL signing key: {e}")))?;
        Ok(UrlSigner {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        })
    }

    fn signature(&self, method: &str, path: &str, expires: i64) -> String {
        let tag = hmac::sign(&self.key, format!("{method} {path} {expires}").as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// `path?expires=…&signature=…`, good for `ttl` seconds.
    pub fn sign(&self, method: &str, path: &str, ttl: i64) -> String {
        let expires = chrono::Utc::now().timestamp() + ttl;
        format!(
            "{path}?expires={expires}&signature={}",
            self.signature(method, path, expires)
        )
    }

    /// Checks a signed request; a wrong, missing or expired signature is 403.
    pub fn check(&self, method: &str, path: &str, expires: Option<i64>, signature: Option<&str>) -> ApiResult<()> {
        let denied = |why: &str| ApiError::Forbidden(format!("this data URL {why}"));
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(denied("is not signed"));
        };
        if expires < chrono::Utc::now().timestamp() {
            return Err(denied("has expired"));
        }
        let given = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| denied("has a malformed signature"))?;
        hmac::verify(&self.key, format!("{method} {path} {expires}").as_bytes(), &given)
            .map_err(|_| denied("has a wrong signature"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> UrlSigner {
        UrlSigner {
            key: hmac::Key::new(hmac::HMAC_SHA256, b"test key"),
        }
    }

    fn parts(url: &str) -> (i64, String) {
        let query = url.split_once('?').unwrap().1;
        let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|p| p.split_once('=')).collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| *n == k).unwrap().1;
        (get("expires").parse().unwrap(), get("signature").to_string())
    }

    #[test]
    fn a_url_is_good_for_its_request_only() {
        let s = signer();
        let (expires, signature) = parts(&s.sign("GET", "/data/files/x", 60));
        assert!(s.check("GET", "/data/files/x", Some(expires), Some(&signature)).is_ok());
        assert!(
            s.check("PUT", "/data/files/x", Some(expires), Some(&signature))
                .is_err()
        );
        assert!(
            s.check("GET", "/data/files/y", Some(expires), Some(&signature))
                .is_err()
        );
        assert!(
            s.check("GET", "/data/files/x", Some(expires + 1), Some(&signature))
                .is_err()
        );
        assert!(s.check("GET", "/data/files/x", Some(expires), None).is_err());
        let (old, signature) = parts(&s.sign("GET", "/data/files/x", -1));
        assert!(
            s.check("GET", "/data/files/x", Some(old), Some(&signature)).is_err(),
            "expired"
        );
    }
}
