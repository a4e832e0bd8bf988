//! Short-lived read caches for the registry's hot path: who a credential belongs to, where a
//! repository lives, and which manifest a reference names.
//!
//! An entry lives at most `ttl`. Every write request that passes through this replica retires
//! everything cached before it (an epoch counter), so a client always reads its own writes;
//! other replicas see a change within `ttl`. Only things that exist are cached, so a repository
//! or tag pushed through another replica is visible everywhere at once.

use crate::auth::caller::Caller;
use crate::auth::token::Access;
use hangar_store::meta::{Manifest, Repository};
use quick_cache::sync::Cache;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Marks the response of a write that changed nothing cached here (blob uploads and deletes),
/// so that it does not retire the cache.
#[derive(Debug, Clone, Copy)]
pub struct Unchanged;

/// Entries per cache; beyond this the least useful are dropped.
const CAPACITY: usize = 10_000;

/// A resolved `Authorization` header.
#[derive(Clone)]
pub struct Credentials {
    pub caller: Caller,
    /// The grants of a Docker token; `None` for an API key.
    pub access: Option<Vec<Access>>,
}

/// Where a repository name lives, and the repository once it exists.
#[derive(Clone)]
pub struct Located {
    pub org: String,
    pub team: Option<String>,
    pub repo: Option<Repository>,
}

#[derive(Clone)]
struct Entry<V> {
    value: V,
    epoch: u64,
    until: Instant,
}

/// When a load began: what it finds may be kept until `until`, unless a write came first.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    epoch: u64,
    until: Instant,
}

impl Stamp {
    /// Keeps the entry no later than the Unix time `at` (a token's or key's expiry).
    pub fn not_after(self, at: Option<i64>) -> Stamp {
        let Some(at) = at else { return self };
        let left = (at - chrono::Utc::now().timestamp()).max(0) as u64;
        Stamp {
            until: self.until.min(Instant::now() + Duration::from_secs(left)),
            ..self
        }
    }
}

pub struct Shelf<K, V>(Cache<K, Entry<V>>);

impl<K: Eq + Hash + Clone, V: Clone> Shelf<K, V> {
    fn new() -> Self {
        Shelf(Cache::new(CAPACITY))
    }
}

pub struct ReadCache {
    ttl: Duration,
    epoch: AtomicU64,
    pub credentials: Shelf<[u8; 32], Credentials>,
    pub repositories: Shelf<String, Located>,
    pub manifests: Shelf<(i64, String), Arc<Manifest>>,
}

impl ReadCache {
    /// A cache whose entries live `ttl`; zero turns caching off.
    pub fn new(ttl: Duration) -> Self {
        ReadCache {
            ttl,
            epoch: AtomicU64::new(0),
            credentials: Shelf::new(),
            repositories: Shelf::new(),
            manifests: Shelf::new(),
        }
    }

    /// Taken before reading the database for an entry.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            epoch: self.epoch.load(Ordering::Acquire),
            until: Instant::now() + self.ttl,
        }
    }

    pub fn get<K: Eq + Hash + Clone, V: Clone>(&self, shelf: &Shelf<K, V>, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let entry = shelf.0.get(key)?;
        if entry.epoch != self.epoch.load(Ordering::Acquire) || entry.until <= Instant::now() {
            shelf.0.remove(key);
            return None;
        }
        Some(entry.value)
    }

    pub fn put<K: Eq + Hash + Clone, V: Clone>(&self, shelf: &Shelf<K, V>, key: K, value: V, stamp: Stamp) {
        if self.ttl.is_zero() || stamp.epoch != self.epoch.load(Ordering::Acquire) {
            return;
        }
        shelf.0.insert(
            key,
            Entry {
                value,
                epoch: stamp.epoch,
                until: stamp.until,
            },
        );
    }

    /// Retires every entry: called after each write request.
    pub fn retire(&self) {
        if !self.ttl.is_zero() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shelf() -> Shelf<String, u32> {
        Shelf::new()
    }

    #[test]
    fn entries_are_served_until_a_write_or_their_time() {
        let cache = ReadCache::new(Duration::from_secs(60));
        let s = shelf();
        let stamp = cache.stamp();
        cache.put(&s, "a".into(), 1, stamp);
        assert_eq!(cache.get(&s, &"a".to_string()), Some(1));
        cache.retire();
        assert_eq!(cache.get(&s, &"a".to_string()), None);

        let stamp = cache.stamp();
        cache.put(
            &s,
            "b".into(),
            2,
            stamp.not_after(Some(chrono::Utc::now().timestamp() - 1)),
        );
        assert_eq!(cache.get(&s, &"b".to_string()), None, "expired at once");
    }

    #[test]
    fn a_load_that_raced_a_write_is_not_kept() {
        let cache = ReadCache::new(Duration::from_secs(60));
        let s = shelf();
        let stamp = cache.stamp();
        cache.retire();
        cache.put(&s, "a".into(), 1, stamp);
        assert_eq!(cache.get(&s, &"a".to_string()), None);
    }

    #[test]
    fn zero_ttl_caches_nothing() {
        let cache = ReadCache::new(Duration::ZERO);
        let s = shelf();
        cache.put(&s, "a".into(), 1, cache.stamp());
        assert_eq!(cache.get(&s, &"a".to_string()), None);
    }
}
