//! NGC's search API (ngc-api.md §4.3), which `list` with a wildcard and the catalog use: the
//! catalog (everything the caller may see), one org's (or team's) entities, and the subscriber
//! catalog (product-gated entities of products the caller's orgs subscribe to). `q` is JSON:
//! `query` is `resourceId:<glob>` or free text, `filters` NGC's `{field, value}` pairs,
//! `orderBy` the sort. The index and its rules are the store's (`MetaStore::search`).

use super::extract::{Path, Query};
use crate::auth::Caller;
use crate::catalog::visibility::viewer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use hangar_core::access::AccessLevel;
use hangar_core::policy::{Action, ArtifactKind, Target};
use hangar_store::meta::{Place, SearchEntry, SearchPage, SearchRequest, Sort};
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_PAGE_SIZE: i64 = 100;

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchQuery {
    #[serde(default)]
    query: String,
    #[serde(default)]
    filters: Vec<Filter>,
    #[serde(default)]
    order_by: Vec<Filter>,
    #[serde(default)]
    page: i64,
    page_size: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Filter {
    field: String,
    value: Value,
}

/// The search kind of a path's `{TYPE}`.
fn kind(word: &str) -> ApiResult<ArtifactKind> {
    ArtifactKind::from_entity_word(word)
        .or(match word {
            "RECIPE" | "MODEL_SCRIPT" => Some(ArtifactKind::Resource),
            "REPOSITORY" => Some(ArtifactKind::Container),
            _ => None,
        })
        .ok_or_else(|| ApiError::BadRequest(format!("unknown resource type '{word}'")))
}

/// A filter's facet field and values, in the index's words; `None` for fields the index does
/// not have (NGC's `policy`, `releaseType`, …), which filter nothing.
fn facet_filter(filter: &Filter) -> ApiResult<Option<(String, Vec<String>)>> {
    let words: Vec<String> = match &filter.value {
        Value::Array(items) => items.iter().map(value_word).collect(),
        other => vec![value_word(other)],
    };
    let field = match filter.field.as_str() {
        "accessType" | "accessLevel" => {
            let mut levels = vec![];
            for word in &words {
                match word.to_ascii_uppercase().as_str() {
                    "LISTED" => levels.extend(AccessLevel::ALL.into_iter().filter(|l| l.listed())),
                    other => levels.push(
                        AccessLevel::parse(other)
                            .ok_or_else(|| ApiError::BadRequest(format!("unknown access type '{word}'")))?,
                    ),
                }
            }
            let levels = levels.into_iter().map(|l| l.word().to_string()).collect();
            return Ok(Some(("accessLevel".into(), levels)));
        }
        "signedImages" | "signedModels" | "signedResources" | "signedCharts" | "signed" => "signed",
        "productNames" | "productName" | "product" => "productNames",
        "isMultinodeEnabled" | "multinode" | "multiNode" => "multinode",
        "modelFormat" | "format" => "format",
        "trainingFramework" | "framework" => "framework",
        "label" | "labels" => "labels",
        "useCase" | "application" => "application",
        other => match hangar_store::meta::FACET_FIELDS.iter().find(|f| **f == other) {
            Some(field) => field,
            None => return Ok(None),
        },
    };
    Ok(Some((field.to_string(), words)))
}

fn value_word(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

impl SearchQuery {
    fn parse(params: &SearchParams) -> ApiResult<SearchQuery> {
        match params.q.as_deref() {
            None | Some("") => Ok(SearchQuery {
                query: "*".into(),
                ..SearchQuery::default()
            }),
            Some(text) => {
                serde_json::from_str(text).map_err(|e| ApiError::BadRequest(format!("invalid search q: {e}")))
            }
        }
    }

    /// The store's request for `kind` at `place`, for `caller`.
    fn request(&self, caller: &Caller, kind: ArtifactKind, place: Place) -> ApiResult<SearchRequest> {
        let (text, resource_glob) = text_and_glob(&self.query);
        let mut filters = vec![];
        for filter in &self.filters {
            if let Some(facet) = facet_filter(filter)? {
                filters.push(facet);
            }
        }
        let sort = match self.order_by.first().map(|o| o.field.as_str()) {
            Some("dateModified" | "updatedDate" | "modified") => Sort::Modified,
            Some("name" | "displayName") => Sort::Name,
            _ if text.is_some() => Sort::Relevance,
            _ => Sort::Path,
        };
        Ok(SearchRequest {
            kind: kind.word().to_string(),
            text,
            resource_glob,
            filters,
            place,
            viewer: viewer(caller, kind),
            sort,
            page: self.page.max(0),
            page_size: self.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, 1000),
        })
    }
}

/// `query` as free text and a `resourceId` glob: ngc sends `resourceId:<glob>` or `*`; Hangar's
/// CLI may add words after the glob (`resourceId:acme/* speech`).
fn text_and_glob(query: &str) -> (Option<String>, Option<String>) {
    let query = query.trim();
    let (glob, text) = match query.strip_prefix("resourceId:") {
        Some(rest) => {
            let rest = rest.trim_start();
            let (glob, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            (Some(glob.to_string()), text.trim())
        }
        None => (None, query),
    };
    let text = (!text.is_empty() && text != "*").then(|| text.to_string());
    (text, glob)
}

fn entry_json(entry: &SearchEntry) -> Value {
    json!({
        "resourceId": entry.resource_id,
        "resourceType": entry.kind,
        "name": entry.name,
        "orgName": entry.org,
        "teamName": entry.team,
        "displayName": entry.display_name,
        "description": entry.description,
        "labels": [{"key": "general", "values": entry.labels}],
        "isPublic": entry.access.listed(),
        "guestAccess": entry.access.guest_download(),
        "canGuestDownload": entry.access.guest_download(),
        "accessType": entry.access.ngc_access_type(),
        "accessLevel": entry.access.word(),
        "productNames": entry.products,
        "isSigned": entry.signed,
        "dateCreated": super::views::date(entry.created_at),
        "dateModified": super::views::date(entry.modified_at),
        "attributes": entry.attributes,
    })
}

/// NGC's search response for one page.
fn respond(kind_word: &str, query: &SearchQuery, size: i64, found: SearchPage) -> Json<Value> {
    let resources: Vec<Value> = found.entries.iter().map(entry_json).collect();
    let facets: Vec<Value> = found
        .facets
        .iter()
        .map(|f| {
            let values: Vec<Value> = f.values.iter().map(|(v, n)| json!({"value": v, "count": n})).collect();
            json!({"field": f.field, "values": values})
        })
        .collect();
    let pages = (found.total + size - 1) / size;
    Json(super::views::success(json!({
        "resultTotal": found.total,
        "resultPageTotal": pages,
        "params": {"page": query.page, "pageSize": size, "query": query.query},
        "results": [{"groupValue": kind_word, "totalCount": found.total, "resources": resources}],
        "facets": facets,
    })))
}

async fn run(
    state: &AppState,
    caller: &Caller,
    kind_word: &str,
    query: SearchQuery,
    place: Place,
) -> ApiResult<Json<Value>> {
    let request = query.request(caller, kind(kind_word)?, place)?;
    let found = state.meta.search(&request).await?;
    Ok(respond(kind_word, &query, request.page_size, found))
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
    let query = SearchQuery::parse(&params)?;
    let org = state.meta.require_org(&path.org).await?;
    caller.require(Action::ViewOrg, &Target::org(&org.name))?;
    if let Some(team) = &path.team {
        state.meta.require_team(&org, team).await?;
    }
    let place = Place::Org {
        org: org.name.clone(),
        team: path.team.clone(),
    };
    run(&state, &caller, &path.kind, query, place).await
}

/// `GET /v2/search/catalog/resources/{T}`: everything the caller may see; no key needed.
pub async fn catalog(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind_word): Path<String>,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<Value>> {
    let query = SearchQuery::parse(&params)?;
    run(&state, &caller, &kind_word, query, Place::Catalog).await
}

/// `GET /v2/search/subscriber/catalog/resources/{T}`: product-gated entities of the products
/// the caller's orgs subscribe to.
pub async fn subscriber(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind_word): Path<String>,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<Value>> {
    let query = SearchQuery::parse(&params)?;
    run(&state, &caller, &kind_word, query, Place::Subscribed).await
}

/// `GET /v2/search/labelsets` (and per org or team): NGC's curated label sets, which clients
/// look up before setting labels. Hangar's labels are free text, so there are none.
pub async fn label_sets() -> Json<Value> {
    Json(super::views::success(json!({"labelSets": []})))
}

#[cfg(test)]
mod tests {
    use super::text_and_glob;

    #[test]
    fn query_text_and_glob() {
        let pair = |t: Option<&str>, g: Option<&str>| (t.map(str::to_string), g.map(str::to_string));
        assert_eq!(text_and_glob("resourceId:acme/*"), pair(None, Some("acme/*")));
        assert_eq!(text_and_glob("*"), pair(None, None));
        assert_eq!(text_and_glob(""), pair(None, None));
        assert_eq!(text_and_glob(" speech asr "), pair(Some("speech asr"), None));
        assert_eq!(
            text_and_glob("resourceId:acme/* speech  asr"),
            pair(Some("speech  asr"), Some("acme/*"))
        );
    }
}
