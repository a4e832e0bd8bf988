//! Users' requests for entities offered at the approval level, and the publisher's answers.
//! The rules of which answer may follow which are the domain's; this stores them, with the
//! mails they send, in one transaction.

use super::invitations::queue_mail;
use super::{EntityKey, MetaStore, now};
use crate::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

/// One user's request for one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// The catalog tables' `entity_kind` word: `repository`, `model`, `resource`, `chart`.
    pub entity_kind: String,
    /// The repository's name or the entity's path, `org/[team/]name`.
    pub entity_name: String,
    pub user_email: String,
    pub user_name: String,
    /// PENDING, APPROVED, DENIED or REVOKED.
    pub state: String,
    pub note: String,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
}

/// A mail to queue with a change: recipient, subject, body.
pub type Mail = (String, String, String);

const SELECT: &str = "SELECT r.entity_kind, r.state, r.note, r.requested_at, r.decided_at, \
     u.email AS user_email, u.name AS user_name, d.email AS decided_by, \
     COALESCE(a.path, p.name, '') AS entity_name \
     FROM access_requests r JOIN users u ON u.id = r.user_id \
     LEFT JOIN users d ON d.id = r.decided_by \
     LEFT JOIN artifacts a ON r.entity_kind <> 'repository' AND a.id = r.entity_id \
     LEFT JOIN repositories p ON r.entity_kind = 'repository' AND p.id = r.entity_id";

fn request_row(row: AnyRow) -> Result<AccessRequest> {
    Ok(AccessRequest {
        entity_kind: row.try_get("entity_kind")?,
        entity_name: row.try_get("entity_name")?,
        user_email: row.try_get("user_email")?,
        user_name: row.try_get("user_name")?,
        state: row.try_get("state")?,
        note: row.try_get("note")?,
        requested_at: row.try_get("requested_at")?,
        decided_at: row.try_get("decided_at")?,
        decided_by: row.try_get("decided_by")?,
    })
}

impl MetaStore {
    /// The user's request for the entity, if there is one.
    pub async fn access_request(&self, entity: EntityKey, user_id: i64) -> Result<Option<AccessRequest>> {
        let sql = format!("{SELECT} WHERE r.entity_kind = $1 AND r.entity_id = $2 AND r.user_id = $3");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(entity.kind_word())
            .bind(entity.id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(request_row).transpose()
    }

    /// The requests for one entity, oldest first; with `state`, only those in it.
    pub async fn entity_access_requests(&self, entity: EntityKey, state: Option<&str>) -> Result<Vec<AccessRequest>> {
        let sql = format!(
            "{SELECT} WHERE r.entity_kind = $1 AND r.entity_id = $2 AND ($3 = '' OR r.state = $3) ORDER BY r.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(entity.kind_word())
            .bind(entity.id)
            .bind(state.unwrap_or_default())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(request_row).collect()
    }

    /// A user's own requests, oldest first.
    pub async fn user_access_requests(&self, user_id: i64) -> Result<Vec<AccessRequest>> {
        let sql = format!("{SELECT} WHERE r.user_id = $1 ORDER BY r.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(request_row).collect()
    }

    /// Records the user's request (anew, as PENDING, if an earlier one was answered) and queues
    /// `mails`, in one transaction.
    pub async fn open_access_request(
        &self,
        entity: EntityKey,
        user_id: i64,
        note: &str,
        mails: &[Mail],
    ) -> Result<AccessRequest> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO access_requests (entity_kind, entity_id, user_id, state, note, requested_at) \
             VALUES ($1, $2, $3, 'PENDING', $4, $5) ON CONFLICT (entity_kind, entity_id, user_id) DO UPDATE \
             SET state = 'PENDING', note = excluded.note, requested_at = excluded.requested_at, \
             decided_at = NULL, decided_by = NULL",
        )
        .bind(entity.kind_word())
        .bind(entity.id)
        .bind(user_id)
        .bind(note)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        for mail in mails {
            queue_mail(&mut tx, mail, t).await?;
        }
        tx.commit().await?;
        self.answered(entity, user_id).await
    }

    /// Records the publisher's answer `state` by `decided_by` (a request is made for it if the
    /// user had none) and queues `mail`, in one transaction.
    pub async fn decide_access_request(
        &self,
        entity: EntityKey,
        user_id: i64,
        state: &str,
        decided_by: i64,
        mail: Option<&Mail>,
    ) -> Result<AccessRequest> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO access_requests (entity_kind, entity_id, user_id, state, requested_at, decided_at, decided_by) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (entity_kind, entity_id, user_id) DO UPDATE \
             SET state = excluded.state, decided_at = excluded.decided_at, decided_by = excluded.decided_by",
        )
        .bind(entity.kind_word())
        .bind(entity.id)
        .bind(user_id)
        .bind(state)
        .bind(t)
        .bind(decided_by)
        .execute(&mut *tx)
        .await?;
        if let Some(mail) = mail {
            queue_mail(&mut tx, mail, t).await?;
        }
        tx.commit().await?;
        self.answered(entity, user_id).await
    }

    async fn answered(&self, entity: EntityKey, user_id: i64) -> Result<AccessRequest> {
        self.access_request(entity, user_id)
            .await?
            .ok_or_else(|| crate::Error::NotFound("access request".into()))
    }

    /// The e-mails of those who answer for an entity of `org` (and `team`): its org owners and
    /// registry admins, and the team's registry admins.
    pub async fn publisher_admins(&self, org_id: i64, team_id: Option<i64>) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT u.email FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = $1 AND m.role IN ('ORG_OWNER', 'REGISTRY_ADMIN') \
             AND (m.team_id IS NULL OR m.team_id = $2) ORDER BY u.email",
        )
        .bind(org_id)
        .bind(team_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(row.try_get("email")?)).collect()
    }
}
