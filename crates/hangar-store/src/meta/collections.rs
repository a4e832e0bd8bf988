//! The items of collections (a collection is an `artifacts` row of kind `collection`): which
//! entities each holds, in order, and which collections hold an entity.

use super::artifacts::{ArtifactType, artifact_row};
use super::{Artifact, EntityKey, HolderKind, MetaStore};
use crate::{Error, Result};
use sqlx::Row;

/// One item of a collection: the entity and its full name (`org/[team/]name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionItem {
    pub entity: EntityKey,
    pub name: String,
}

fn entity_of(kind: &str, id: i64) -> Result<EntityKey> {
    let kind = match kind {
        "repository" => HolderKind::Repository,
        word => HolderKind::Artifact(
            ArtifactType::ALL
                .into_iter()
                .find(|t| t.as_str() == word)
                .ok_or_else(|| Error::Invalid(format!("stored entity kind '{word}'")))?,
        ),
    };
    Ok(EntityKey { kind, id })
}

impl MetaStore {
    /// Appends `entity` to the collection; false when it is there already (its place is kept).
    pub async fn add_collection_item(&self, collection_id: i64, entity: EntityKey) -> Result<bool> {
        let added = sqlx::query(
            "INSERT INTO collection_items (collection_id, entity_kind, entity_id, position) \
             SELECT $1, $2, $3, COALESCE(MAX(position), 0) + 1 FROM collection_items WHERE collection_id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(collection_id)
        .bind(entity.kind_word())
        .bind(entity.id)
        .execute(&self.pool)
        .await?;
        Ok(added.rows_affected() > 0)
    }

    /// Takes `entity` out of the collection; false when it was not there.
    pub async fn remove_collection_item(&self, collection_id: i64, entity: EntityKey) -> Result<bool> {
        let removed = sqlx::query(
            "DELETE FROM collection_items WHERE collection_id = $1 AND entity_kind = $2 AND entity_id = $3",
        )
        .bind(collection_id)
        .bind(entity.kind_word())
        .bind(entity.id)
        .execute(&self.pool)
        .await?;
        Ok(removed.rows_affected() > 0)
    }

    /// The collection's items in order, each with its name.
    pub async fn collection_items(&self, collection_id: i64) -> Result<Vec<CollectionItem>> {
        let rows = sqlx::query(
            "SELECT i.entity_kind, i.entity_id, COALESCE(r.name, a.path) AS name FROM collection_items i \
             LEFT JOIN repositories r ON i.entity_kind = 'repository' AND r.id = i.entity_id \
             LEFT JOIN artifacts a ON i.entity_kind <> 'repository' AND a.id = i.entity_id \
             WHERE i.collection_id = $1 AND COALESCE(r.name, a.path) IS NOT NULL ORDER BY i.position",
        )
        .bind(collection_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let kind: String = row.try_get("entity_kind")?;
                Ok(CollectionItem {
                    entity: entity_of(&kind, row.try_get("entity_id")?)?,
                    name: row.try_get("name")?,
                })
            })
            .collect()
    }

    /// The collections that hold `entity`, by path.
    pub async fn collections_with(&self, entity: EntityKey) -> Result<Vec<Artifact>> {
        let rows = sqlx::query(
            "SELECT a.* FROM artifacts a JOIN collection_items i ON i.collection_id = a.id \
             WHERE i.entity_kind = $1 AND i.entity_id = $2 ORDER BY a.path",
        )
        .bind(entity.kind_word())
        .bind(entity.id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(artifact_row).collect()
    }
}
