//! Collections' items and the collections holding an entity, in NGC's shapes (ngcsdk 4.37's
//! `registry collection`). The collection itself (create, info, update, remove, list) is an
//! entity like a model (`api::artifacts`, kind `COLLECTION`); here are:
//!
//! - `PUT|DELETE {OT}/collections/{name}/artifacts/org/{org}[/team/{team}]/{segment}/{item}`:
//!   add (appended) or remove an item; `segment` is `repositories`, `models`, `recipes`
//!   (resources) or `helm-charts`.
//! - `GET {OT}/collections/{name}/artifacts/{segment}`: the items of that kind, in order.
//! - `GET {OT}/{segment}/{item}/collections`: the collections holding an entity.
//! - The guest forms: `/v2/collections/{org}[/{team}]/{name}[/artifacts/{segment}]` and
//!   `/v2/{segment}/org/{org}[/team/{team}]/{item}/collections`.
//!
//! Every listing shows only what the caller may see.

use super::artifacts::entity::{Named, See};
use super::artifacts::{info, views};
use super::extract::Path;
use super::views::{date, offer, success};
use crate::auth::Caller;
use crate::catalog::access::{entity_key, target_of};
use crate::catalog::collections::{self, Held, Item, find_item, member_of_segment, visible_items};
use crate::catalog::entities::{EntityPath, find};
use crate::catalog::kinds::{CHART, COLLECTION, Kind, MODEL, RESOURCE};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, put};
use axum::{Json, Router};
use hangar_core::policy::ArtifactOp;
use hangar_core::wire::{MEMBERS, Member};
use hangar_store::meta::{Artifact, ArtifactType};
use serde::Deserialize;
use serde_json::{Value, json};

const SPACES: [&str; 2] = ["/v2/org/{org}", "/v2/org/{org}/team/{team}"];
const ITEM_SPACES: [&str; 2] = ["org/{item_org}", "org/{item_org}/team/{item_team}"];

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for space in SPACES {
        let base = format!("{space}/collections/{{name}}/artifacts");
        for item_space in ITEM_SPACES {
            router = router.route(
                &format!("{base}/{item_space}/{{segment}}/{{item}}"),
                put(add_item).delete(remove_item),
            );
        }
        router = router.route(&format!("{base}/{{segment}}"), get(items));
        for member in &MEMBERS {
            router = router.route(
                &format!("{space}/{}/{{item}}/collections", member.segment),
                holding_route(member),
            );
        }
    }
    for guest in ["/v2/collections/{org}/{name}", "/v2/collections/{org}/{team}/{name}"] {
        router = router
            .route(guest, get(guest_info))
            .route(&format!("{guest}/artifacts/{{segment}}"), get(items));
    }
    for member in &MEMBERS {
        for item_space in ITEM_SPACES {
            let path = format!("/v2/{}/{}/{{item}}/collections", member.segment, item_space);
            let path = path.replace("{item_org}", "{org}").replace("{item_team}", "{team}");
            router = router.route(&path, holding_route(member));
        }
    }
    router
}

/// A collection and an item of it, as a request path names them.
#[derive(Debug, Deserialize)]
struct ItemPath {
    org: String,
    team: Option<String>,
    name: String,
    item_org: String,
    item_team: Option<String>,
    segment: String,
    item: String,
}

impl ItemPath {
    fn collection(&self) -> EntityPath {
        collection_path(&self.org, self.team.as_deref(), &self.name)
    }

    fn item_path(&self) -> String {
        match &self.item_team {
            Some(team) => format!("{}/{team}/{}", self.item_org, self.item),
            None => format!("{}/{}", self.item_org, self.item),
        }
    }
}

fn collection_path(org: &str, team: Option<&str>, name: &str) -> EntityPath {
    EntityPath {
        org: org.to_string(),
        team: team.map(str::to_string),
        name: name.to_string(),
        version: None,
    }
}

/// The item a request names, as the caller may see it, and the collection, as the caller may
/// change it.
async fn named_item(state: &AppState, caller: &Caller, path: &ItemPath) -> ApiResult<(Artifact, Item)> {
    let collection = find(
        state,
        ArtifactType::Collection,
        caller,
        &path.collection(),
        ArtifactOp::Update,
    )
    .await?;
    let member = member_of_segment(&path.segment)?;
    let item = find_item(state, caller, member, &path.item_path(), ArtifactOp::Get).await?;
    Ok((collection.artifact, item))
}

/// `PUT …/artifacts/org/{org}[/team/{team}]/{segment}/{item}`: appends the item (once).
async fn add_item(State(state): State<AppState>, caller: Caller, Path(path): Path<ItemPath>) -> ApiResult<Json<Value>> {
    let (collection, item) = named_item(&state, &caller, &path).await?;
    collections::add(&state, &collection, &item).await?;
    Ok(Json(success(json!({}))))
}

/// `DELETE …/artifacts/org/{org}[/team/{team}]/{segment}/{item}`.
async fn remove_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ItemPath>,
) -> ApiResult<Json<Value>> {
    let (collection, item) = named_item(&state, &caller, &path).await?;
    collections::remove(&state, &collection, &item).await?;
    Ok(Json(success(json!({}))))
}

#[derive(Debug, Deserialize)]
struct ItemsPath {
    org: String,
    team: Option<String>,
    name: String,
    segment: String,
}

/// `GET …/collections/{name}/artifacts/{segment}`: the items of one kind the caller may see,
/// in the collection's order.
async fn items(State(state): State<AppState>, caller: Caller, Path(path): Path<ItemsPath>) -> ApiResult<Json<Value>> {
    let member = member_of_segment(&path.segment)?;
    let target = collection_path(&path.org, path.team.as_deref(), &path.name);
    let collection = find(&state, ArtifactType::Collection, &caller, &target, ArtifactOp::Get).await?;
    let mut listed = vec![];
    for item in visible_items(&state, &caller, &collection.artifact).await? {
        if item.member.segment == member.segment {
            listed.push(item_json(&state, &item).await?);
        }
    }
    Ok(Json(success(json!({
        "artifacts": listed,
        "paginationInfo": pagination(listed.len()),
    }))))
}

fn pagination(total: usize) -> Value {
    json!({"index": 0, "size": total.max(1), "totalPages": 1, "totalResults": total})
}

/// An item as NGC's `Artifact`.
pub async fn item_json(state: &AppState, item: &Item) -> ApiResult<Value> {
    let products = state.meta.entity_products(item.key()).await?;
    let target = target_of(item.path());
    let mut out = match &item.held {
        Held::Artifact(a) => views::entity(kind_of(a.kind), a, &products, (target.org, target.team), None),
        Held::Repository(repo) => {
            let mut out = json!({
                "name": item.path().rsplit('/').next(),
                "orgName": target.org,
                "teamName": target.team,
                "displayName": repo.info.display_name,
                "shortDescription": repo.info.short_description,
                "description": repo.info.description,
                "labels": repo.info.labels,
                "logo": repo.info.logo,
                "publisher": repo.info.publisher,
                "builtBy": repo.info.built_by,
                "createdDate": date(repo.created_at),
                "updatedDate": date(repo.updated_at),
            });
            if let Some(map) = out.as_object_mut() {
                map.extend(offer(repo.info.access, &products));
            }
            out
        }
    };
    out["artifactType"] = json!(item.member.artifact_type);
    Ok(out)
}

fn kind_of(stored: ArtifactType) -> &'static Kind {
    match stored {
        ArtifactType::Model => &MODEL,
        ArtifactType::Resource => &RESOURCE,
        ArtifactType::Chart => &CHART,
        ArtifactType::Collection => &COLLECTION,
    }
}

/// A collection as NGC's `Collection`.
async fn collection_json(state: &AppState, collection: &Artifact) -> ApiResult<Value> {
    let products = state.meta.entity_products(entity_key(collection)).await?;
    let target = target_of(&collection.path);
    Ok(views::entity(
        &COLLECTION,
        collection,
        &products,
        (target.org, target.team),
        None,
    ))
}

#[derive(Debug, Deserialize)]
struct GuestPath {
    org: String,
    team: Option<String>,
    name: String,
}

/// `GET /v2/collections/{org}[/{team}]/{name}`: as `GET {OT}/collections/{name}`.
async fn guest_info(State(state): State<AppState>, caller: Caller, Path(path): Path<GuestPath>) -> ApiResult<Response> {
    let named = Named {
        kind: &COLLECTION,
        caller,
        path: collection_path(&path.org, path.team.as_deref(), &path.name),
    };
    let entity = named.load::<See>(&state).await?;
    Ok(info(State(state), entity).await?.into_response())
}

#[derive(Debug, Deserialize)]
struct HoldingPath {
    org: String,
    team: Option<String>,
    item: String,
}

fn holding_route(member: &'static Member) -> MethodRouter<AppState> {
    get(move |state: State<AppState>, caller: Caller, path: Path<HoldingPath>| holding(state, caller, path, member))
}

/// `GET {OT}/{segment}/{item}/collections`: the collections the caller may see that hold the
/// entity (which the caller must see too).
async fn holding(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<HoldingPath>,
    member: &'static Member,
) -> ApiResult<Json<Value>> {
    let item_path = match &path.team {
        Some(team) => format!("{}/{team}/{}", path.org, path.item),
        None => format!("{}/{}", path.org, path.item),
    };
    let item = find_item(&state, &caller, member, &item_path, ArtifactOp::Get).await?;
    let mut listed = vec![];
    for collection in collections::holding(&state, &caller, &item).await? {
        listed.push(collection_json(&state, &collection).await?);
    }
    Ok(Json(success(json!({
        "collections": listed,
        "paginationInfo": pagination(listed.len()),
    }))))
}
