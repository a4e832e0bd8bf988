//! NGC's search API (ngc-api.md §4.3), which `list` with a wildcard uses: the private search
//! of an org (or team), the public catalog, and the subscriber catalog (always empty here).
//! `q` is JSON whose `query` is `resourceId:<glob>` or free text; `*` and `?` are wildcards.

use super::artifacts::kind::{CHART, Kind, MODEL, RESOURCE};
use super::extract::{Path, Query};
use super::images::summary::{latest, summaries};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use hangar_core::policy::{Action, ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::{Artifact, Org, Repository, Team};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use wildmatch::WildMatch;

const MAX_PAGE_SIZE: usize = 1000;

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    #[serde(default)]
    query: String,
    #[serde(default)]
    filters: Vec<Filter>,
    #[serde(default)]
    page: usize,
    page_size: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct Filter {
    field: String,
    value: Value,
}

impl SearchQuery {
    fn parse(params: &SearchParams) -> ApiResult<SearchQuery> {
        match params.q.as_deref() {
            None | Some("") => Ok(SearchQuery {
                query: "*".into(),
                filters: vec![],
                page: 0,
                page_size: None,
            }),
            Some(text) => {
                serde_json::from_str(text).map_err(|e| ApiError::BadRequest(format!("invalid search q: {e}")))
            }
        }
    }

    /// Whether an item matches the query and the filters.
    fn matches(&self, item: &Item) -> bool {
        let query = self.query.trim();
        let hit = match query.strip_prefix("resourceId:") {
            Some(glob) => WildMatch::new(glob.trim()).matches(&item.resource_id),
            None if query.is_empty() || query == "*" => true,
            None => {
                let needle = format!("*{}*", query.to_lowercase());
                let pattern = WildMatch::new(&needle);
                [&item.name, &item.display_name, &item.description]
                    .iter()
                    .any(|text| pattern.matches(&text.to_lowercase()))
            }
        };
        hit && self.filters.iter().all(|f| match f.field.as_str() {
            // Hangar's entities are public (`GUEST`) or private (`NOT_LISTED`); nothing is
            // listed in a product catalog (`LISTED`, `ENTITLED`).
            "accessType" => match f.value.as_str() {
                Some("GUEST") => item.is_public,
                Some("NOT_LISTED") => !item.is_public,
                _ => false,
            },
            "signedImages" | "signedModels" | "signedResources" | "signedCharts" => {
                f.value.as_bool() != Some(true) || item.signed
            }
            _ => true,
        })
    }
}

/// One search hit.
struct Item {
    resource_id: String,
    name: String,
    org: String,
    team: Option<String>,
    display_name: String,
    description: String,
    labels: Vec<String>,
    is_public: bool,
    signed: bool,
    created: i64,
    modified: i64,
    attributes: Vec<(&'static str, Value)>,
}

impl Item {
    fn json(&self) -> Value {
        let attributes: Vec<Value> = self
            .attributes
            .iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect();
        json!({
            "resourceId": self.resource_id,
            "name": self.name,
            "orgName": self.org,
            "teamName": self.team,
            "displayName": self.display_name,
            "description": self.description,
            "labels": [{"key": "general", "values": self.labels}],
            "isPublic": self.is_public,
            "guestAccess": self.is_public,
            "dateCreated": super::views::date(self.created),
            "dateModified": super::views::date(self.modified),
            "attributes": attributes,
        })
    }
}

async fn container_item(state: &AppState, repo: &Repository) -> ApiResult<Item> {
    let tags = summaries(state, repo, false).await?;
    let newest = latest(repo, &tags);
    let parts: Vec<&str> = repo.name.split('/').collect();
    let team = match repo.team_id {
        Some(_) if parts.len() >= 3 => Some(parts[1].to_string()),
        _ => None,
    };
    let signed = tags.iter().any(|t| t.is_signed);
    Ok(Item {
        resource_id: repo.name.clone(),
        name: parts.last().copied().unwrap_or_default().to_string(),
        org: parts[0].to_string(),
        team,
        display_name: repo.info.display_name.clone(),
        description: repo.info.short_description.clone(),
        labels: repo.info.labels.clone(),
        is_public: repo.info.is_public,
        signed,
        created: repo.created_at,
        modified: repo.updated_at.max(tags.first().map_or(0, |t| t.updated_at)),
        attributes: vec![
            ("latestTag", json!(newest.map(|t| t.tag.clone()))),
            ("size", json!(newest.map_or(0, |t| t.size))),
            ("hasSignedTag", json!(signed)),
            ("isMultiArchitecture", json!(newest.is_some_and(|t| t.is_index))),
        ],
    })
}

/// The container repositories the caller may list among `repos`, as search items.
async fn container_items(state: &AppState, caller: &Caller, repos: Vec<Repository>) -> ApiResult<Vec<Item>> {
    let mut orgs: HashMap<i64, Org> = HashMap::new();
    let mut items = vec![];
    for repo in repos {
        if !repo.info.is_public {
            let org = match orgs.entry(repo.org_id) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => slot.insert(state.meta.org_by_id(repo.org_id).await?),
            };
            let team = match repo.team_id {
                Some(_) => repo.name.split('/').nth(1),
                None => None,
            };
            let target = Target {
                org: &org.name,
                team,
                entity: Some(&repo.name),
            };
            if !caller.allowed(Action::Artifact(ArtifactKind::Container, ArtifactOp::List), &target) {
                continue;
            }
        }
        items.push(container_item(state, &repo).await?);
    }
    Ok(items)
}

fn kind(word: &str) -> ApiResult<ArtifactKind> {
    ArtifactKind::from_entity_word(word)
        .or(match word {
            "RECIPE" => Some(ArtifactKind::Resource),
            "HELM_CHART" => Some(ArtifactKind::Chart),
            _ => None,
        })
        .ok_or_else(|| ApiError::BadRequest(format!("unknown resource type '{word}'")))
}

/// One page of matching items in NGC's search response.
fn respond(kind_word: &str, query: &SearchQuery, mut items: Vec<Item>) -> Json<Value> {
    items.retain(|item| query.matches(item));
    items.sort_by(|a, b| a.resource_id.cmp(&b.resource_id));
    let size = query.page_size.unwrap_or(100).clamp(1, MAX_PAGE_SIZE);
    let total = items.len();
    let page: Vec<Value> = items
        .iter()
        .skip(query.page.saturating_mul(size))
        .take(size)
        .map(Item::json)
        .collect();
    Json(json!({
        "resultTotal": total,
        "resultPageTotal": total.div_ceil(size),
        "params": {"page": query.page, "pageSize": size},
        "results": [{"groupValue": kind_word, "totalCount": total, "resources": page}],
    }))
}

/// Where a search looks: one org (with a team: the org's own entities and the team's), or the
/// public entities of every org.
enum Scope<'a> {
    Org { org: &'a Org, team: Option<&'a Team> },
    Public,
}

async fn items_of(state: &AppState, caller: &Caller, kind: ArtifactKind, scope: Scope<'_>) -> ApiResult<Vec<Item>> {
    let kind: &'static Kind = match kind {
        ArtifactKind::Model => &MODEL,
        ArtifactKind::Resource => &RESOURCE,
        ArtifactKind::Container => {
            let repos = match scope {
                Scope::Org { org, team: None } => state.meta.repositories_of(org.id, None).await?,
                Scope::Org { org, team: Some(team) } => {
                    let mut repos = state.meta.repositories_of(org.id, Some(None)).await?;
                    repos.extend(state.meta.repositories_of(org.id, Some(Some(team.id))).await?);
                    repos
                }
                Scope::Public => state.meta.public_repositories().await?,
            };
            return container_items(state, caller, repos).await;
        }
        ArtifactKind::Chart => &CHART,
    };
    let artifacts = match scope {
        Scope::Org { org, team: None } => state.meta.artifacts_of(kind.stored, org.id, None).await?,
        Scope::Org { org, team: Some(team) } => {
            let mut all = state.meta.artifacts_of(kind.stored, org.id, Some(None)).await?;
            all.extend(
                state
                    .meta
                    .artifacts_of(kind.stored, org.id, Some(Some(team.id)))
                    .await?,
            );
            all
        }
        Scope::Public => state.meta.public_artifacts(kind.stored).await?,
    };
    artifact_items(state, caller, kind, artifacts).await
}

/// The models, resources or charts the caller may list among `artifacts`, as search items.
async fn artifact_items(
    state: &AppState,
    caller: &Caller,
    kind: &Kind,
    artifacts: Vec<Artifact>,
) -> ApiResult<Vec<Item>> {
    let mut items = vec![];
    for a in artifacts {
        let parts: Vec<&str> = a.path.split('/').collect();
        let team = a.team_id.and(parts.get(1).filter(|_| parts.len() == 3).copied());
        let target = Target {
            org: parts[0],
            team,
            entity: Some(&a.path),
        };
        if !a.is_public && !caller.allowed(Action::Artifact(kind.policy, ArtifactOp::List), &target) {
            continue;
        }
        let latest = match &a.latest_version {
            Some(v) => state.meta.version(a.id, v).await?,
            None => None,
        };
        let field = |name: &str| a.metadata.get(name).cloned().unwrap_or(Value::Null);
        let text = |name: &str| {
            a.metadata
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let labels = a
            .metadata
            .get("labelsV2")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        items.push(Item {
            resource_id: a.path.clone(),
            name: a.name.clone(),
            org: parts[0].to_string(),
            team: team.map(str::to_string),
            display_name: text("displayName"),
            description: text("shortDescription"),
            labels,
            is_public: a.is_public,
            signed: false,
            created: a.created_at,
            modified: a.updated_at,
            attributes: vec![
                ("latestVersionIdStr", json!(a.latest_version)),
                (
                    "latestVersionSizeInBytes",
                    json!(latest.as_ref().map_or(0, |v| v.total_bytes)),
                ),
                ("application", field("application")),
                ("framework", field(kind.wire.framework_field)),
                ("precision", field("precision")),
                ("format", field("modelFormat")),
                ("builtBy", field("builtBy")),
                ("publisher", field("publisher")),
            ],
        });
    }
    Ok(items)
}

#[derive(Deserialize)]
pub struct OrgSearchPath {
    org: String,
    team: Option<String>,
    kind: String,
}

/// `GET /v2/search/org/{org}[/team/{team}]/resources/{T}`: what the caller may see in the org
/// (with a team: the org's own entities and the team's).
pub async fn org(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<OrgSearchPath>,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<Value>> {
    let kind_value = kind(&path.kind)?;
    let query = SearchQuery::parse(&params)?;
    let org = state.meta.require_org(&path.org).await?;
    caller.require(Action::ViewOrg, &Target::org(&org.name))?;
    let team = match &path.team {
        Some(team) => Some(state.meta.require_team(&org, team).await?),
        None => None,
    };
    let scope = Scope::Org {
        org: &org,
        team: team.as_ref(),
    };
    let items = items_of(&state, &caller, kind_value, scope).await?;
    Ok(respond(&path.kind, &query, items))
}

/// `GET /v2/search/catalog/resources/{T}`: public entities of every org; no key needed.
pub async fn catalog(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind_word): Path<String>,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<Value>> {
    let kind_value = kind(&kind_word)?;
    let query = SearchQuery::parse(&params)?;
    let items = items_of(&state, &caller, kind_value, Scope::Public).await?;
    Ok(respond(&kind_word, &query, items))
}

/// `GET /v2/search/subscriber/catalog/resources/{T}`: product-gated entities, which Hangar does
/// not have.
pub async fn subscriber(Path(kind_word): Path<String>, Query(params): Query<SearchParams>) -> ApiResult<Json<Value>> {
    kind(&kind_word)?;
    let query = SearchQuery::parse(&params)?;
    Ok(respond(&kind_word, &query, vec![]))
}

/// `GET /v2/search/labelsets` (and per org or team): NGC's curated label sets, which clients
/// look up before setting labels. Hangar's labels are free text, so there are none.
pub async fn label_sets() -> Json<Value> {
    Json(super::views::success(json!({"labelSets": []})))
}
