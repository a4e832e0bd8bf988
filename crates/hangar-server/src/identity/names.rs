//! Entity names `org/[team/]name`: which org and team an entity lives in.

use hangar_store::meta::MetaStore;

/// The org and team of an entity name. The second of three or more components is a team only
/// when the org has a team of that name; otherwise it is part of the entity's own name.
/// `None` when the org does not exist.
pub async fn entity_scope(meta: &MetaStore, name: &str) -> hangar_store::Result<Option<(String, Option<String>)>> {
    let parts: Vec<&str> = name.split('/').collect();
    let Some(org) = meta.org(parts[0]).await? else {
        return Ok(None);
    };
    let team = match parts.as_slice() {
        [_, team, _, ..] => meta.team(org.id, team).await?.map(|t| t.name),
        _ => None,
    };
    Ok(Some((org.name, team)))
}
