//! Signatures of the data plane's links: the API hands a link out, and whoever holds it may do
//! exactly that one kind of request until it expires, with no other credential (as S3 presigned
//! URLs; NGC's client sends no auth headers there). HMAC-SHA256 with a key kept in the shared
//! database, so every replica signs and checks the same links.

use super::error::{DomainError, DomainResult};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hangar_store::meta::MetaStore;

const SIGNING_KEY_SETTING: &str = "data_url_signing_key";

#[derive(Clone)]
pub struct UrlSigner {
    key: hmac::Key,
}

/// What one signature covers: the request (method and resource), who it was handed to, and
/// until when.
fn message(request: &str, by: &str, expires: i64) -> String {
    format!("{request}\n{by}\n{expires}")
}

impl UrlSigner {
    pub async fn load(meta: &MetaStore) -> DomainResult<Self> {
        let stored = meta
            .setting_or_init(SIGNING_KEY_SETTING, || {
                let secret: [u8; 32] = rand::random();
                STANDARD.encode(secret)
            })
            .await?;
        let secret = STANDARD
            .decode(stored)
            .map_err(|e| DomainError::Internal(format!("stored URL signing key: {e}")))?;
        Ok(UrlSigner {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        })
    }

    /// The signature of `request` for `by`, good until `expires` (Unix seconds).
    pub fn sign(&self, request: &str, by: &str, expires: i64) -> String {
        let tag = hmac::sign(&self.key, message(request, by, expires).as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Checks a signed request; a wrong, missing or expired signature is 403.
    pub fn check(&self, request: &str, by: &str, expires: Option<i64>, signature: Option<&str>) -> DomainResult<()> {
        let denied = |why: &str| DomainError::Forbidden(format!("this data URL {why}"));
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(denied("is not signed"));
        };
        if expires < chrono::Utc::now().timestamp() {
            return Err(denied("has expired"));
        }
        let given = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| denied("has a malformed signature"))?;
        hmac::verify(&self.key, message(request, by, expires).as_bytes(), &given)
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

    #[test]
    fn a_signature_is_good_for_its_request_holder_and_time_only() {
        let s = signer();
        let later = chrono::Utc::now().timestamp() + 60;
        let signature = s.sign("GET file:1:a", "k7", later);
        assert!(s.check("GET file:1:a", "k7", Some(later), Some(&signature)).is_ok());
        assert!(s.check("PUT file:1:a", "k7", Some(later), Some(&signature)).is_err());
        assert!(s.check("GET file:1:b", "k7", Some(later), Some(&signature)).is_err());
        assert!(s.check("GET file:1:a", "k8", Some(later), Some(&signature)).is_err());
        assert!(
            s.check("GET file:1:a", "k7", Some(later + 1), Some(&signature))
                .is_err()
        );
        assert!(s.check("GET file:1:a", "k7", Some(later), None).is_err());
        let past = chrono::Utc::now().timestamp() - 1;
        let old = s.sign("GET file:1:a", "k7", past);
        assert!(
            s.check("GET file:1:a", "k7", Some(past), Some(&old)).is_err(),
            "expired"
        );
    }
}
