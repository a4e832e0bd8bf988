//! Explore: the catalog in a browser — one tab per kind of software, a search box, the filter
//! sidebar with facet counts, sorting and pages (Catalog guide §7.3, §16.2, §17.2). The visitor
//! sees what the store's search lets them see (`catalog::visibility`), the same verdict as
//! `/v2/search`: a guest sees listed software only, a member also their orgs' own.

use super::error::{WebError, WebResult};
use super::forms::{self, encode, query};
use super::render::page;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::auth::caller::caller_for_user;
use crate::catalog::visibility::viewer;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use hangar_core::access::AccessLevel;
use hangar_core::policy::{Action, ArtifactKind, Target};
use hangar_pages::{Card, Explore, FacetGroup, FacetOption, SortOption, Tab};
use hangar_store::meta::{FACET_FIELDS, Place, SearchEntry, SearchRequest, Sort};

/// The tabs: path segment, label, kind.
const TABS: [(&str, &str, ArtifactKind); 5] = [
    ("containers", "Containers", ArtifactKind::Container),
    ("models", "Models", ArtifactKind::Model),
    ("resources", "Resources", ArtifactKind::Resource),
    ("helm-charts", "Helm Charts", ArtifactKind::Chart),
    ("collections", "Collections", ArtifactKind::Collection),
];

/// How the sidebar names each facet field (every field of `FACET_FIELDS`; a test checks).
const FACET_LABELS: [(&str, &str); 13] = [
    ("accessLevel", "Access"),
    ("productNames", "Product"),
    ("signed", "Signed"),
    ("publisher", "Publisher"),
    ("labels", "Labels"),
    ("application", "Use case"),
    ("framework", "Framework"),
    ("precision", "Precision"),
    ("format", "Format"),
    ("architecture", "Architecture"),
    ("multinode", "Multi-node"),
    ("industry", "Industry"),
    ("language", "Language"),
];

/// The sort menu: value, label, order.
const SORTS: [(&str, &str, Sort); 3] = [
    ("relevance", "Relevance", Sort::Relevance),
    ("modified", "Last modified", Sort::Modified),
    ("name", "Name", Sort::Name),
];

const PAGE_SIZE: i64 = 24;
/// Values shown per facet field (ticked ones always are).
const VALUES_SHOWN: usize = 12;
/// Longest search text and most filters taken: past them a page is refused, not truncated.
const MAX_QUERY: usize = 200;
const MAX_FILTERS: usize = 40;
const MAX_PAGE: i64 = 1000;

/// What a visitor asked for in the query string.
#[derive(Debug, Default, PartialEq)]
struct Asked {
    text: String,
    sort: Option<&'static str>,
    /// `(field, value)` pairs, in the order ticked.
    filters: Vec<(String, String)>,
    /// From 1.
    page: i64,
    /// What the last change did (not kept in the page's links).
    done: Option<String>,
}

impl Asked {
    fn parse(raw: Option<&str>) -> WebResult<Asked> {
        let pairs: Vec<(String, String)> = query(raw)?;
        let mut asked = Asked {
            page: 1,
            ..Asked::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "q" => asked.text = value.trim().to_string(),
                "done" => asked.done = Some(value),
                "sort" => asked.sort = SORTS.iter().find(|(v, _, _)| *v == value).map(|(v, _, _)| *v),
                "page" => {
                    asked.page = value
                        .parse::<i64>()
                        .ok()
                        .filter(|p| (1..=MAX_PAGE).contains(p))
                        .ok_or_else(|| WebError::BadRequest(format!("there is no page '{value}'")))?
                }
                "f" => {
                    let (field, value) = value
                        .split_once(':')
                        .filter(|(field, v)| FACET_FIELDS.contains(field) && !v.is_empty())
                        .ok_or_else(|| WebError::BadRequest(format!("there is no filter '{value}'")))?;
                    let pair = (field.to_string(), value.to_string());
                    if !asked.filters.contains(&pair) {
                        asked.filters.push(pair);
                    }
                }
                _ => {} // what htmx or a bookmark adds is no error
            }
        }
        if asked.text.chars().count() > MAX_QUERY {
            return Err(WebError::BadRequest(format!(
                "a search is at most {MAX_QUERY} characters"
            )));
        }
        if asked.filters.len() > MAX_FILTERS {
            return Err(WebError::BadRequest(format!("at most {MAX_FILTERS} filters at once")));
        }
        Ok(asked)
    }

    fn sort(&self) -> (&'static str, Sort) {
        // Relevance without text is by path: the menu's first choice is right for both.
        let chosen = self.sort.unwrap_or(SORTS[0].0);
        SORTS
            .iter()
            .find(|(v, _, _)| *v == chosen)
            .map_or((SORTS[0].0, SORTS[0].2), |(v, _, s)| (*v, *s))
    }

    /// The filters as the store takes them: each field with any of its values.
    fn store_filters(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = vec![];
        for (field, value) in &self.filters {
            match out.iter_mut().find(|(f, _)| f == field) {
                Some((_, values)) => values.push(value.clone()),
                None => out.push((field.clone(), vec![value.clone()])),
            }
        }
        out
    }

    fn token(field: &str, value: &str) -> String {
        format!("{field}:{value}")
    }

    /// This search's address at `page` (with `filters: false`, none of its filters).
    fn href(&self, action: &str, page: i64, filters: bool) -> String {
        let mut parts = vec![];
        if !self.text.is_empty() {
            parts.push(format!("q={}", encode(&self.text)));
        }
        if let Some(sort) = self.sort {
            parts.push(format!("sort={sort}"));
        }
        if filters {
            for (field, value) in &self.filters {
                parts.push(format!("f={}", encode(&Asked::token(field, value))));
            }
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            action.to_string()
        } else {
            format!("{action}?{}", parts.join("&"))
        }
    }
}

/// Where Explore looks: the whole catalog, or one org's (or team's) private registry.
enum Scope {
    Catalog,
    Registry { org: String, team: Option<String> },
}

impl Scope {
    /// The address of this scope's tabs, without the tab.
    fn base(&self) -> String {
        match self {
            Scope::Catalog => "/catalog".into(),
            Scope::Registry { org, team: None } => format!("/orgs/{org}"),
            Scope::Registry { org, team: Some(team) } => format!("/orgs/{org}/teams/{team}"),
        }
    }

    fn place(&self) -> Place {
        match self {
            Scope::Catalog => Place::Catalog,
            Scope::Registry { org, team } => Place::Org {
                org: org.clone(),
                team: team.clone(),
            },
        }
    }

    fn heading(&self) -> String {
        match self {
            Scope::Catalog => String::new(),
            Scope::Registry { org, team: None } => format!("Private Registry · {org}"),
            Scope::Registry { org, team: Some(team) } => format!("Private Registry · {org} / {team}"),
        }
    }
}

/// `GET /`: the catalog's first tab.
pub async fn home(state: State<AppState>, visitor: Visitor, RawQuery(raw): RawQuery) -> WebResult<Response> {
    let caller = caller_of(&state, &visitor).await?;
    render(&state, &visitor, &caller, Scope::Catalog, TABS[0].0, raw.as_deref()).await
}

/// `GET /catalog/{tab}`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(tab): Path<String>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let caller = caller_of(&state, &visitor).await?;
    render(&state, &visitor, &caller, Scope::Catalog, &tab, raw.as_deref()).await
}

#[derive(serde::Deserialize)]
pub struct RegistryPath {
    org: String,
    team: Option<String>,
    tab: Option<String>,
}

/// `GET /orgs/{org}[/teams/{team}][/{tab}]`: the Private Registry of an org or team the
/// visitor belongs to (Private Registry guide §3.4). Anyone else, signed in or not, is told
/// there is no such registry, whether or not the org exists.
pub async fn registry(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(path): Path<RegistryPath>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let caller = caller_of(&state, &visitor).await?;
    let target = Target::team(&path.org, path.team.as_deref());
    if !caller.allowed(Action::ViewOrg, &target) {
        visitor.signed_in()?;
        let name = path
            .team
            .as_ref()
            .map_or(path.org.clone(), |t| format!("{}/{t}", path.org));
        return Err(WebError::NotFound(format!(
            "There is no private registry '{name}', or you are not a member of it."
        )));
    }
    let scope = Scope::Registry {
        org: path.org,
        team: path.team,
    };
    match path.tab {
        Some(tab) => render(&state, &visitor, &caller, scope, &tab, raw.as_deref()).await,
        None => Ok(forms::see_other(&format!("{}/{}", scope.base(), TABS[0].0))),
    }
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    caller: &Caller,
    scope: Scope,
    tab: &str,
    raw: Option<&str>,
) -> WebResult<Response> {
    let Some(&(segment, label, kind)) = TABS.iter().find(|(s, _, _)| *s == tab) else {
        return Err(WebError::NotFound(format!("there is no catalog of '{tab}'")));
    };
    let asked = Asked::parse(raw)?;
    let (sort_value, sort) = asked.sort();
    let found = state
        .meta
        .search(&SearchRequest {
            kind: kind.word().to_string(),
            text: (!asked.text.is_empty()).then(|| asked.text.clone()),
            resource_glob: None,
            filters: asked.store_filters(),
            place: scope.place(),
            viewer: viewer(caller, kind),
            sort,
            page: asked.page - 1,
            page_size: PAGE_SIZE,
        })
        .await?;
    let base = scope.base();
    let action = format!("{base}/{segment}");
    let pages = ((found.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let facets = FACET_LABELS
        .iter()
        .filter_map(|(field, label)| {
            let counts = found.facets.iter().find(|f| f.field == *field)?;
            let mut options: Vec<FacetOption> = counts
                .values
                .iter()
                .enumerate()
                .map(|(i, (value, count))| (i, option(&asked, field, value, *count)))
                .filter(|(i, o)| *i < VALUES_SHOWN || o.checked)
                .map(|(_, o)| o)
                .collect();
            // A ticked value the other filters leave no entry of stays, to be unticked.
            for (f, value) in asked.filters.iter().filter(|(f, _)| f == field) {
                if !counts.values.iter().any(|(v, _)| v == value) {
                    options.push(option(&asked, f, value, 0));
                }
            }
            Some(FacetGroup {
                label: label.to_string(),
                options,
            })
        })
        .collect();
    let template = Explore {
        chrome: visitor.chrome(state).await?,
        heading: scope.heading(),
        notice: super::manage::notice_of(asked.done.as_deref()),
        kind: label.to_string(),
        tabs: TABS
            .iter()
            .map(|(s, l, _)| Tab {
                href: Asked {
                    text: asked.text.clone(),
                    ..Asked::default()
                }
                .href(&format!("{base}/{s}"), 1, false),
                label: l.to_string(),
                current: *s == segment,
            })
            .collect(),
        query: asked.text.clone(),
        sorts: SORTS
            .iter()
            .map(|(value, label, _)| SortOption {
                value: value.to_string(),
                label: label.to_string(),
                selected: *value == sort_value,
            })
            .collect(),
        clear: asked.href(&action, 1, false),
        facets,
        cards: found.entries.iter().map(|e| card(kind, e)).collect(),
        total: found.total,
        page: asked.page,
        pages,
        previous: (asked.page > 1).then(|| asked.href(&action, asked.page - 1, true)),
        next: (asked.page < pages).then(|| asked.href(&action, asked.page + 1, true)),
        sign_in_hint: visitor.signed.is_none(),
        filtered: !asked.filters.is_empty(),
        action,
    };
    Ok(visitor.respond(page(&template)))
}

/// An entity's page.
fn entity_href(kind: ArtifactKind, path: &str) -> String {
    let segment = TABS
        .iter()
        .find(|(_, _, k)| *k == kind)
        .map_or("models", |(s, _, _)| *s);
    format!("/catalog/{segment}/{path}")
}

/// The visitor as a caller of the domain: their user's own roles, or a guest.
pub(super) async fn caller_of(state: &AppState, visitor: &Visitor) -> WebResult<Caller> {
    match &visitor.signed {
        Some(signed) => caller_for_user(state, signed.account.user.clone(), signed.session.id)
            .await
            .map_err(|e| WebError::Internal(e.to_string())),
        None => Ok(Caller::guest()),
    }
}

/// A day as the pages show it.
pub(super) fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

fn option(asked: &Asked, field: &str, value: &str, count: i64) -> FacetOption {
    FacetOption {
        token: Asked::token(field, value),
        label: value_label(field, value),
        count,
        checked: asked.filters.iter().any(|(f, v)| f == field && v == value),
    }
}

/// A facet value as people read it.
fn value_label(field: &str, value: &str) -> String {
    match (field, value) {
        ("accessLevel", level) => {
            AccessLevel::parse(level).map_or_else(|| level.to_string(), |l| access_label(l).into())
        }
        ("signed" | "multinode", "true") => "Yes".into(),
        ("signed" | "multinode", "false") => "No".into(),
        ("architecture", "multi") => "Multi-architecture".into(),
        ("architecture", "single") => "Single architecture".into(),
        _ => value.to_string(),
    }
}

/// What an access level means to someone about to download (Catalog guide §4).
pub(super) fn access_label(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::Guest => "Open to everyone",
        AccessLevel::Authenticated => "Sign-in required",
        AccessLevel::Entitled => "Entitled",
        AccessLevel::Exclusive => "Exclusive",
        AccessLevel::Approval => "Approval required",
        AccessLevel::Private => "Private",
    }
}

fn card(kind: ArtifactKind, entry: &SearchEntry) -> Card {
    let attribute = |key: &str| {
        entry
            .attributes
            .as_array()
            .and_then(|a| a.iter().find(|kv| kv["key"] == key))
            .and_then(|kv| kv["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let latest = match attribute("latestTag") {
        tag if !tag.is_empty() => tag,
        _ => attribute("latestVersionIdStr"),
    };
    Card {
        title: if entry.display_name.is_empty() {
            entry.name.clone()
        } else {
            entry.display_name.clone()
        },
        href: entity_href(kind, &entry.resource_id),
        path: entry.resource_id.clone(),
        publisher: attribute("publisher"),
        description: entry.description.clone(),
        latest,
        modified: date(entry.modified_at),
        signed: entry.signed,
        access: access_label(entry.access).to_string(),
        products: entry.products.clone(),
        labels: entry.labels.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_facet_field_has_a_label() {
        let labelled: Vec<&str> = FACET_LABELS.iter().map(|(f, _)| *f).collect();
        assert_eq!(labelled, FACET_FIELDS);
    }

    #[test]
    fn asked_from_the_query_string() {
        let asked = Asked::parse(Some(
            "q=traffic+cams&f=labels%3Aedge&f=labels%3Aedge&f=precision:FP16&page=2&x=1",
        ))
        .expect("parses");
        assert_eq!(asked.text, "traffic cams");
        assert_eq!(
            asked.filters,
            [("labels".into(), "edge".into()), ("precision".into(), "FP16".into())]
        );
        assert_eq!(asked.page, 2);
        assert_eq!(asked.sort().1, Sort::Relevance);
        assert_eq!(
            asked.href("/catalog/models", 3, true),
            "/catalog/models?q=traffic%20cams&f=labels%3Aedge&f=precision%3AFP16&page=3"
        );
        assert_eq!(
            asked.href("/catalog/models", 1, false),
            "/catalog/models?q=traffic%20cams"
        );
        for bad in ["page=0", "page=x", "page=1001", "f=nosuch:x", "f=labels", "f=labels:"] {
            assert!(Asked::parse(Some(bad)).is_err(), "{bad}");
        }
        assert!(Asked::parse(Some(&format!("q={}", "a".repeat(201)))).is_err());
        assert_eq!(Asked::parse(None).expect("empty").sort().1, Sort::Relevance);
    }
}
