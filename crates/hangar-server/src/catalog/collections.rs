//! Collections' items through the one verdict: an item is added only if its editor may see it,
//! and a collection never shows a viewer an item (nor counts one) the viewer may not see.

use super::access::{guarded, may_artifact, noun};
use super::error::{DomainError, DomainResult};
use super::repositories::{guarded as repository_guarded, locate, repository_key};
use super::reveal::{may, reveal};
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::names::validate_artifact_name;
use hangar_core::policy::ArtifactOp;
use hangar_core::wire::{MEMBERS, Member};
use hangar_store::meta::{Artifact, ArtifactType, EntityKey, HolderKind, Repository};

/// An entity a collection may hold.
#[derive(Debug, Clone)]
pub enum Held {
    Repository(Repository),
    Artifact(Artifact),
}

/// One item: what kind it is on the wire, and the entity.
#[derive(Debug, Clone)]
pub struct Item {
    pub member: &'static Member,
    pub held: Held,
}

impl Item {
    pub fn key(&self) -> EntityKey {
        match &self.held {
            Held::Repository(repo) => repository_key(repo),
            Held::Artifact(a) => super::access::entity_key(a),
        }
    }

    /// `org/[team/]name`.
    pub fn path(&self) -> &str {
        match &self.held {
            Held::Repository(repo) => &repo.name,
            Held::Artifact(a) => &a.path,
        }
    }
}

/// The stored kind of a member (`None`: a container repository).
pub fn stored_of(member: &Member) -> Option<ArtifactType> {
    match member.artifact_type {
        "MODEL" => Some(ArtifactType::Model),
        "MODEL_SCRIPT" => Some(ArtifactType::Resource),
        "HELM_CHART" => Some(ArtifactType::Chart),
        _ => None,
    }
}

/// The member kind of a path segment (`models`, `recipes`, …); `Invalid` for another word.
pub fn member_of_segment(segment: &str) -> DomainResult<&'static Member> {
    MEMBERS.iter().find(|m| m.segment == segment).ok_or_else(|| {
        let known: Vec<&str> = MEMBERS.iter().map(|m| m.segment).collect();
        DomainError::Invalid(format!("a collection holds {}, not '{segment}'", known.join(", ")))
    })
}

fn member_of_key(entity: EntityKey) -> &'static Member {
    let stored = match entity.kind {
        HolderKind::Repository => None,
        HolderKind::Artifact(kind) => Some(kind),
    };
    MEMBERS.iter().find(|m| stored_of(m) == stored).unwrap_or(&MEMBERS[0])
}

/// The entity `path` (`org/[team/]name`) of kind `member`, if the caller may do `op` to it;
/// one the caller may not see is not found, as one that does not exist.
pub async fn find_item(
    state: &AppState,
    caller: &Caller,
    member: &'static Member,
    path: &str,
    op: ArtifactOp,
) -> DomainResult<Item> {
    let name = path.rsplit('/').next().unwrap_or_default();
    if path.split('/').count() > 3 {
        return Err(DomainError::Invalid(format!("'{path}' is not org/[team/]name")));
    }
    validate_artifact_name(name)?;
    let missing = || format!("{} '{path}' could not be found", noun_of(member));
    let refused = || format!("you may not see {} '{path}'", noun_of(member));
    let held = match stored_of(member) {
        None => {
            let located = locate(state, path).await?;
            let Some(located) = located.filter(|l| l.repo.is_some()) else {
                return Err(DomainError::NotFound(missing()));
            };
            reveal(caller, &repository_guarded(state, caller, &located, path).await?, op)
                .or_refuse(missing, refused)?;
            Held::Repository(located.repo.clone().expect("located above"))
        }
        Some(kind) => {
            let artifact = state
                .meta
                .artifact(kind, path)
                .await?
                .ok_or_else(|| DomainError::NotFound(missing()))?;
            reveal(caller, &guarded(state, caller, &artifact).await?, op).or_refuse(missing, refused)?;
            Held::Artifact(artifact)
        }
    };
    Ok(Item { member, held })
}

fn noun_of(member: &Member) -> &'static str {
    match stored_of(member) {
        Some(kind) => noun(kind),
        None => "repository",
    }
}

/// Whether the caller may list the item (a collection's items are a listing, as the org's own).
async fn listable(state: &AppState, caller: &Caller, item: &Item) -> DomainResult<bool> {
    match &item.held {
        Held::Artifact(a) => may_artifact(state, caller, ArtifactOp::List, a).await,
        Held::Repository(repo) => {
            let Some(located) = locate(state, &repo.name).await? else {
                return Ok(false);
            };
            let thing = repository_guarded(state, caller, &located, &repo.name).await?;
            Ok(may(caller, &thing, ArtifactOp::List))
        }
    }
}

/// The collection's items the caller may list, in the collection's order.
pub async fn visible_items(state: &AppState, caller: &Caller, collection: &Artifact) -> DomainResult<Vec<Item>> {
    let mut items = vec![];
    for stored in state.meta.collection_items(collection.id).await? {
        let member = member_of_key(stored.entity);
        let held = match stored.entity.kind {
            HolderKind::Repository => state.meta.repository(&stored.name).await?.map(Held::Repository),
            HolderKind::Artifact(_) => state.meta.artifact_by_id(stored.entity.id).await?.map(Held::Artifact),
        };
        let Some(held) = held else { continue };
        let item = Item { member, held };
        if listable(state, caller, &item).await? {
            items.push(item);
        }
    }
    Ok(items)
}

/// Appends the item to the collection (once; adding it again keeps its place).
pub async fn add(state: &AppState, collection: &Artifact, item: &Item) -> DomainResult<()> {
    state.meta.add_collection_item(collection.id, item.key()).await?;
    Ok(())
}

/// Takes the item out of the collection; `NotFound` when it is not in it.
pub async fn remove(state: &AppState, collection: &Artifact, item: &Item) -> DomainResult<()> {
    if !state.meta.remove_collection_item(collection.id, item.key()).await? {
        return Err(DomainError::NotFound(format!(
            "'{}' is not in collection '{}'",
            item.path(),
            collection.path
        )));
    }
    Ok(())
}

/// The collections holding the item that the caller may list.
pub async fn holding(state: &AppState, caller: &Caller, item: &Item) -> DomainResult<Vec<Artifact>> {
    holding_entity(state, caller, item.key()).await
}

/// The collections holding the entity `key` that the caller may list.
pub async fn holding_entity(state: &AppState, caller: &Caller, key: EntityKey) -> DomainResult<Vec<Artifact>> {
    let mut visible = vec![];
    for collection in state.meta.collections_with(key).await? {
        if may_artifact(state, caller, ArtifactOp::List, &collection).await? {
            visible.push(collection);
        }
    }
    Ok(visible)
}
