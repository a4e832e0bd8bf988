//! Garbage collection's bookkeeping: what refers to a blob, blobs seen unreferenced
//! (`gc_candidates`), expiry of idle upload sessions, and leases (`gc_lease`) so that one replica
//! at a time runs a job.
//!
//! A blob is *referenced* when a manifest refers to it, when it is a chunk of an upload session,
//! or when it is linked into a repository recently (a push in progress: its layers are linked
//! before the manifest comes). A link older than the grace period that no manifest needs is
//! stale: GC removes it together with the blob. Times are whole Unix seconds, cut down, so the
//! cutoff a pass passes here is the last second surely more than the grace period ago
//! (`now - grace - 1`): a link stamped after it may be younger than the grace period.
//!
//! The race between deleting a blob and a push that starts using it again is settled in the
//! database: a pass marks the candidate `deleting` ([`MetaStore::gc_mark_deleting`]) only if
//! nothing refers to it, and every write that adds a reference (a link, an upload chunk, a
//! manifest) first claims its blobs ([`claim_blobs`]), which deletes their candidate rows and
//! fails on one marked `deleting`. Whichever transaction comes second sees the first one's
//! outcome. A claim that comes after the pass finished finds no row, so callers that stored
//! bytes before claiming check after the claim that the blob still exists (a link, inside the
//! claim's transaction: [`MetaStore::link_blob`]).

use super::{MetaStore, now, placeholders};
use crate::{Error, Result};
use sqlx::any::Any;
use sqlx::{Row, Transaction};
use std::collections::{HashMap, HashSet};

/// Most digests bound in one statement.
const MAX_BATCH: usize = 500;

/// Claims `digests` for a write that is about to refer to them, as the first statement of its
/// transaction `tx`: they stop being GC candidates. `Error::Collected` when a GC pass has
/// decided to delete one of them.
pub(crate) async fn claim_blobs(tx: &mut Transaction<'_, Any>, digests: &[&str]) -> Result<()> {
    for batch in digests.chunks(MAX_BATCH) {
        let sql = format!(
            "DELETE FROM gc_candidates WHERE digest IN ({}) RETURNING digest, deleting",
            placeholders(1, batch.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for digest in batch {
            query = query.bind(*digest);
        }
        for row in query.fetch_all(&mut **tx).await? {
            if row.try_get::<i64, _>("deleting")? != 0 {
                return Err(Error::Collected(row.try_get("digest")?));
            }
        }
    }
    Ok(())
}

/// The chunks of upload sessions that exist (chunks of a deleted session do not count).
const LIVE_CHUNKS: &str = "upload_chunks c JOIN uploads u ON u.id = c.upload_id";

impl MetaStore {
    /// Takes lease `name` for `holder` for `ttl_seconds`, or renews it when `holder` has it
    /// already. `false` when another holder has it and it has not expired. One atomic statement,
    /// so of several replicas racing for a free lease exactly one gets it.
    pub async fn acquire_lease(&self, name: &str, holder: &str, ttl_seconds: i64) -> Result<bool> {
        let t = now();
        let taken = sqlx::query(
            "INSERT INTO gc_lease (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE gc_lease.expires_at <= $4 OR gc_lease.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(t.saturating_add(ttl_seconds))
        .bind(t)
        .execute(&self.pool)
        .await?;
        Ok(taken.rows_affected() > 0)
    }

    /// Ends `holder`'s lease `name`; others may take it from `until` (Unix seconds; `now()` or
    /// earlier frees it at once). Nothing happens when `holder` no longer has it.
    pub async fn release_lease(&self, name: &str, holder: &str, until: i64) -> Result<()> {
        sqlx::query("UPDATE gc_lease SET expires_at = $3 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .bind(until)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Who holds lease `name` and until when, expired or not.
    pub async fn lease(&self, name: &str) -> Result<Option<(String, i64)>> {
        let row = sqlx::query("SELECT holder, expires_at FROM gc_lease WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| -> Result<(String, i64)> { Ok((r.try_get("holder")?, r.try_get("expires_at")?)) })
            .transpose()
    }

    /// Deletes upload sessions (registry blob uploads and model/resource file uploads) last
    /// updated before `before` (Unix seconds) with their chunks or parts, and chunks or parts left
    /// without a session; returns how many sessions. A session that gets a chunk meanwhile is
    /// newer and stays.
    pub async fn expire_uploads(&self, before: i64) -> Result<u64> {
        // One statement per table: the chunks go by the foreign key's cascade, and what a
        // database without enforced foreign keys left behind goes by the second statement.
        let gone = sqlx::query("DELETE FROM uploads WHERE updated_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "DELETE FROM upload_chunks WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.id = upload_chunks.upload_id)",
        )
        .execute(&self.pool)
        .await?;
        let files = sqlx::query("DELETE FROM file_uploads WHERE updated_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        // Files a version received and never committed are dropped with the same patience.
        sqlx::query("DELETE FROM received_files WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "DELETE FROM file_upload_parts WHERE NOT EXISTS \
             (SELECT 1 FROM file_uploads u WHERE u.id = file_upload_parts.upload_id)",
        )
        .execute(&self.pool)
        .await?;
        Ok(gone.rows_affected() + files.rows_affected())
    }

    /// Of `digests`, those referenced: by a manifest, by a file of a model or resource version, by a chart archive,
    /// by a part of a file upload, by a file a pending version received, by a chunk of an upload session, or by a link into a
    /// repository created after `links_since` (Unix seconds).
    pub async fn gc_referenced(&self, digests: &[&str], links_since: i64) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for batch in digests.chunks(MAX_BATCH) {
            let list = placeholders(1, batch.len());
            let since = batch.len() + 1;
            let sql = format!(
                "SELECT r.digest FROM manifest_references r WHERE r.kind = 'blob' AND r.digest IN ({list}) \
                 UNION SELECT f.digest FROM artifact_files f WHERE f.digest IN ({list}) \
                 UNION SELECT a.digest FROM chart_archives a WHERE a.digest IN ({list}) \
                 UNION SELECT p.digest FROM file_upload_parts p WHERE p.digest IN ({list}) \
                 UNION SELECT x.digest FROM received_files x WHERE x.digest IN ({list}) \
                 UNION SELECT c.digest FROM {LIVE_CHUNKS} WHERE c.digest IN ({list}) \
                 UNION SELECT b.digest FROM repository_blobs b WHERE b.digest IN ({list}) AND b.created_at > ${since}"
            );
            let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for digest in batch {
                query = query.bind(*digest);
            }
            found.extend(query.bind(links_since).fetch_all(&self.pool).await?);
        }
        Ok(found)
    }

    /// Records what a GC pass found at time `seen`: `referenced` digests stop being candidates,
    /// `unreferenced` ones become candidates (first seen now) or stay. Returns the candidates of
    /// `unreferenced` that earlier passes had seen, with when they were first seen.
    pub async fn gc_note(&self, referenced: &[&str], unreferenced: &[&str], seen: i64) -> Result<HashMap<String, i64>> {
        for batch in referenced.chunks(MAX_BATCH) {
            let sql = format!(
                "DELETE FROM gc_candidates WHERE deleting = 0 AND digest IN ({})",
                placeholders(1, batch.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for digest in batch {
                query = query.bind(*digest);
            }
            query.execute(&self.pool).await?;
        }
        let mut earlier = HashMap::new();
        for batch in unreferenced.chunks(MAX_BATCH) {
            let sql = format!(
                "SELECT digest, first_seen FROM gc_candidates WHERE digest IN ({})",
                placeholders(1, batch.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for digest in batch {
                query = query.bind(*digest);
            }
            for row in query.fetch_all(&self.pool).await? {
                earlier.insert(row.try_get("digest")?, row.try_get("first_seen")?);
            }
            let seen_at = batch.len() + 1;
            let values = (1..=batch.len())
                .map(|i| format!("(${i}, ${seen_at}, ${seen_at})"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO gc_candidates (digest, first_seen, last_seen) VALUES {values} \
                 ON CONFLICT (digest) DO UPDATE SET last_seen = excluded.last_seen"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for digest in batch {
                query = query.bind(*digest);
            }
            query.bind(seen).execute(&self.pool).await?;
        }
        Ok(earlier)
    }

    /// Decides to delete `digest`, if it is a candidate first seen at or before `cutoff` and
    /// nothing refers to it: no manifest, no model or resource file, no chart archive, no chunk of an upload session, no link into a
    /// repository made after `cutoff`. Marks the candidate `deleting` and removes the digest's
    /// remaining (stale) links, in one transaction; `true` when the blob may now be deleted.
    ///
    /// Every write that makes a blob referenced claims it first ([`claim_blobs`]), deleting
    /// the same candidate row: on PostgreSQL the row lock orders the two transactions, on SQLite
    /// the database's one writer does.
    pub async fn gc_mark_deleting(&self, digest: &str, cutoff: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE gc_candidates SET deleting = 1 WHERE digest = $1 AND deleting = 0 AND first_seen <= $2 \
             AND NOT EXISTS (SELECT 1 FROM manifest_references r WHERE r.digest = $1 AND r.kind = 'blob') \
             AND NOT EXISTS (SELECT 1 FROM artifact_files f WHERE f.digest = $1) \
             AND NOT EXISTS (SELECT 1 FROM chart_archives a WHERE a.digest = $1) \
             AND NOT EXISTS (SELECT 1 FROM file_upload_parts p WHERE p.digest = $1) \
             AND NOT EXISTS (SELECT 1 FROM received_files x WHERE x.digest = $1) \
             AND NOT EXISTS (SELECT 1 FROM {LIVE_CHUNKS} WHERE c.digest = $1) \
             AND NOT EXISTS (SELECT 1 FROM repository_blobs b WHERE b.digest = $1 AND b.created_at > $2)"
        );
        let marked = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(digest)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        if marked.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM repository_blobs WHERE digest = $1")
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Digests a pass marked `deleting` and did not finish (it crashed or the delete failed).
    pub async fn gc_unfinished(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT digest FROM gc_candidates WHERE deleting = 1 ORDER BY digest")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Forgets a candidate (deleted, or referenced again).
    pub async fn gc_forget(&self, digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM gc_candidates WHERE digest = $1")
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets candidates that no pass has listed since `before` (their blobs are gone); returns
    /// how many.
    pub async fn gc_forget_unseen(&self, before: i64) -> Result<u64> {
        let gone = sqlx::query("DELETE FROM gc_candidates WHERE last_seen < $1 AND deleting = 0")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(gone.rows_affected())
    }

    /// The candidates and when they were first seen unreferenced, in digest order.
    pub async fn gc_candidates(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT digest, first_seen FROM gc_candidates ORDER BY digest")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get("digest")?, r.try_get("first_seen")?)))
            .collect()
    }
}
