//! What holds stored bytes: the repositories a blob is linked into, the complete model and
//! resource versions that have it as a file, the chart versions that have it as their archive.
//! Whoever may read one of them may use the bytes without sending them again; knowing a
//! digest alone is never enough.

use super::artifacts::ArtifactType;
use super::{MetaStore, placeholders};
use crate::Result;
use hangar_core::access::AccessLevel;
use sqlx::Row;

/// What kind of object holds the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolderKind {
    Repository,
    Artifact(ArtifactType),
}

/// One object that holds a digest's bytes, and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub kind: HolderKind,
    pub org: String,
    pub team: Option<String>,
    /// The repository's name or the entity's path, `org/[team/]name`.
    pub path: String,
    /// The repository's or entity's row id.
    pub id: i64,
    pub access: AccessLevel,
}

impl Holder {
    pub fn entity(&self) -> super::EntityKey {
        super::EntityKey {
            kind: self.kind,
            id: self.id,
        }
    }
}

impl MetaStore {
    /// Up to `limit` objects holding `digest`: those offered beyond their org (guest ones
    /// first), and those of the orgs named in
    /// `orgs` (`None`: of every org). Complete versions only, since nobody reads the files of a
    /// version still being uploaded.
    pub async fn holders_of(&self, digest: &str, orgs: Option<&[String]>, limit: i64) -> Result<Vec<Holder>> {
        let names = orgs.unwrap_or_default();
        let scope = match orgs {
            None => "1 = 1".to_string(),
            Some([]) => "x.access_level <> 'PRIVATE'".to_string(),
            Some(names) => format!(
                "(x.access_level <> 'PRIVATE' OR o.name IN ({}))",
                placeholders(4, names.len())
            ),
        };
        let sql = format!(
            "SELECT kind, id, org, team, path, access_level FROM ( \
               SELECT 'repository' AS kind, x.id AS id, o.name AS org, t.name AS team, x.name AS path, \
               x.access_level AS access_level \
               FROM repository_blobs b JOIN repositories x ON x.id = b.repository_id \
               JOIN orgs o ON o.id = x.org_id LEFT JOIN teams t ON t.id = x.team_id \
               WHERE b.digest = $1 AND {scope} \
             UNION \
               SELECT x.kind, x.id, o.name, t.name, x.path, x.access_level \
               FROM artifact_files f JOIN artifact_versions v ON v.id = f.version_id \
               JOIN artifacts x ON x.id = v.artifact_id \
               JOIN orgs o ON o.id = x.org_id LEFT JOIN teams t ON t.id = x.team_id \
               WHERE f.digest = $1 AND v.status = $2 AND {scope} \
             UNION \
               SELECT x.kind, x.id, o.name, t.name, x.path, x.access_level \
               FROM chart_archives c JOIN artifact_versions v ON v.id = c.version_id \
               JOIN artifacts x ON x.id = v.artifact_id \
               JOIN orgs o ON o.id = x.org_id LEFT JOIN teams t ON t.id = x.team_id \
               WHERE c.digest = $1 AND {scope} \
             ) AS holders ORDER BY CASE WHEN access_level = 'GUEST' THEN 0 ELSE 1 END, path LIMIT $3"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(digest)
            .bind(super::UPLOAD_COMPLETE)
            .bind(limit);
        for name in names {
            query = query.bind(name);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(Holder {
                    kind: match kind.as_str() {
                        "repository" => HolderKind::Repository,
                        other => HolderKind::Artifact(ArtifactType::parse(other)?),
                    },
                    org: row.try_get("org")?,
                    team: row.try_get("team")?,
                    path: row.try_get("path")?,
                    id: row.try_get("id")?,
                    access: super::artifacts::access_column(&row)?,
                })
            })
            .collect()
    }
}
