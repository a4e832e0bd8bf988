//! The bearer-token cache (`$HANGAR_HOME/tokens.json`): tokens per (server, key, org, team),
//! reused until a minute before they expire. The file holds a hash of the key, never the key.

use super::settings::{remove_file, write_private};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A cached token is not used in its last minute.
pub const EXPIRY_MARGIN_SECONDS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedToken {
    pub token: String,
    /// Unix time at which the server stops accepting the token.
    pub expires_at: i64,
}

impl CachedToken {
    pub fn usable_at(&self, now: i64) -> bool {
        now < self.expires_at - EXPIRY_MARGIN_SECONDS
    }
}

/// What a token is for.
#[derive(Debug, Clone, Copy)]
pub struct TokenScope<'a> {
    pub base_url: &'a str,
    pub api_key: &'a str,
    pub org: Option<&'a str>,
    pub team: Option<&'a str>,
}

impl TokenScope<'_> {
    /// The cache entry's name: SHA-256 of the scope, so the key itself is never stored.
    pub fn cache_id(&self) -> String {
        let doc = serde_json::json!([self.base_url, self.api_key, self.org, self.team]);
        hex::encode(Sha256::digest(doc.to_string().as_bytes()))
    }
}

pub struct TokenCache {
    path: PathBuf,
}

impl TokenCache {
    pub fn new(path: PathBuf) -> TokenCache {
        TokenCache { path }
    }

    #[cfg(test)]
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// All entries; an unreadable or corrupt file is an empty cache.
    fn load(&self) -> BTreeMap<String, CachedToken> {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn get(&self, scope: &TokenScope, now: i64) -> Option<String> {
        self.load()
            .remove(&scope.cache_id())
            .filter(|t| t.usable_at(now))
            .map(|t| t.token)
    }

    /// Stores a token and drops entries that can no longer be used.
    pub fn put(&self, scope: &TokenScope, token: CachedToken, now: i64) -> Result<()> {
        let mut all = self.load();
        all.retain(|_, t| t.usable_at(now));
        all.insert(scope.cache_id(), token);
        write_private(&self.path, serde_json::to_string_pretty(&all)?.as_bytes())
    }

    pub fn forget(&self, scope: &TokenScope) -> Result<()> {
        let mut all = self.load();
        if all.remove(&scope.cache_id()).is_some() {
            write_private(&self.path, serde_json::to_string_pretty(&all)?.as_bytes())?;
        }
        Ok(())
    }

    /// Deletes the whole cache; returns whether there was one.
    pub fn clear(&self) -> Result<bool> {
        remove_file(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(key: &'a str, team: Option<&'a str>) -> TokenScope<'a> {
        TokenScope {
            base_url: "http://h",
            api_key: key,
            org: Some("o"),
            team,
        }
    }

    #[test]
    fn cache_ids_differ_by_scope_and_hide_the_key() {
        let a = scope("secret-key", None).cache_id();
        assert_eq!(a.len(), 64);
        assert!(!a.contains("secret"));
        assert_ne!(a, scope("secret-key", Some("t")).cache_id());
        assert_ne!(a, scope("other-key", None).cache_id());
        assert_eq!(a, scope("secret-key", None).cache_id());
    }

    #[test]
    fn tokens_expire_a_minute_early() {
        let t = CachedToken {
            token: "t".into(),
            expires_at: 1000,
        };
        assert!(t.usable_at(939));
        assert!(!t.usable_at(940));
    }

    #[test]
    fn put_get_forget_clear() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().join("tokens.json"));
        let s = scope("k", None);
        assert_eq!(cache.get(&s, 0), None);
        cache
            .put(
                &s,
                CachedToken {
                    token: "tok".into(),
                    expires_at: 1000,
                },
                0,
            )
            .unwrap();
        assert_eq!(cache.get(&s, 100).as_deref(), Some("tok"));
        assert_eq!(cache.get(&s, 990), None);
        assert!(!std::fs::read_to_string(cache.path()).unwrap().contains("\"k\""));
        cache.forget(&s).unwrap();
        assert_eq!(cache.get(&s, 100), None);
        assert!(cache.clear().unwrap());
        assert!(!cache.clear().unwrap());
        std::fs::write(cache.path(), "not json").unwrap();
        assert_eq!(cache.get(&s, 0), None);
    }
}
