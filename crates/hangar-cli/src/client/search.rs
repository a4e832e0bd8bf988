//! Reading the catalog as `ngc` does: as the configured user, or as a guest when there is no API
//! key or e-mail login (public entities only, through the public paths); and NGC's search API
//! (`/v2/search/…/resources/{TYPE}`, ngc-api.md §4.3), which `list` with a wildcard uses.

use super::Ctx;
use super::http::{Api, seg};
use super::target::{Pattern, Target, is_glob};
use super::views::{field, items, without_status};
use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Hits asked for per page of a search.
const SEARCH_PAGE_SIZE: usize = 100;
/// A guard against pagination that never ends.
const MAX_PAGES: usize = 10_000;

/// Reads as the configured user, or as a guest when there are no credentials.
pub struct Reader {
    pub api: Api,
    pub guest: bool,
}

impl Reader {
    pub fn new(ctx: &Ctx) -> Result<Reader> {
        let api = ctx.api()?;
        let guest = !api.signed_in();
        Ok(Reader { api, guest })
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        self.api.get_as(self.guest, path, query).await.map(without_status)
    }

    /// Every item of a paginated list, `page_size` a page.
    pub async fn get_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        key: &str,
        page_size: usize,
    ) -> Result<Vec<Value>> {
        self.api.get_all_as(self.guest, path, query, key, page_size).await
    }

    /// `{OT}/{segment}/{name}`, or for a guest `/v2/{segment}/{org}[/{team}]/{name}`.
    pub fn path(&self, target: &Target, segment: &str) -> String {
        if self.guest {
            target.public_path(segment)
        } else {
            target.path(segment)
        }
    }
}

/// What a list with a wildcard looks for beyond the pattern (`--query`, `--filter`).
#[derive(Debug, Clone, Default, Args)]
pub struct Wanted {
    /// Free text: each word must begin a word of the name, display name, description, labels
    /// or publisher.
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    /// Only entities with this value, as <field>=<value> (e.g. framework=PyTorch, labels=nlp,
    /// precision=FP16, productNames=gold, accessType=GUEST); repeat for more.
    #[arg(long = "filter", value_name = "FIELD=VALUE", value_parser = filter_arg)]
    pub filters: Vec<Value>,
}

impl Wanted {
    /// Refuses `--query` and `--filter` where no search runs (one entity's versions or tags).
    pub fn require_search(&self) -> Result<()> {
        if self.query.is_some() || !self.filters.is_empty() {
            bail!("--query and --filter search entities: give a pattern with a wildcard (e.g. 'acme/*').");
        }
        Ok(())
    }
}

/// A `--filter` as NGC's `{"field","value"}`.
fn filter_arg(text: &str) -> Result<Value, String> {
    match text.split_once('=') {
        Some((field, value)) if !field.trim().is_empty() => Ok(json!({"field": field.trim(), "value": value})),
        _ => Err(format!("'{text}' is not <field>=<value>")),
    }
}

/// What one search looks for: the resource type (`CONTAINER`, `MODEL`, `RECIPE`), the
/// `resourceId` glob, free text, and filters (`{"field","value"}` objects).
pub struct Search<'a> {
    pub resource_type: &'a str,
    pub matcher: &'a str,
    pub text: Option<&'a str>,
    pub filters: Vec<Value>,
}

impl Search<'_> {
    /// The request's `q`: `ngc`'s search parameters for one page.
    pub fn query(&self, page: usize) -> String {
        json!({
            "fields": [
                "attributes", "createdBy", "dateCreated", "dateModified", "description", "displayName",
                "guestAccess", "isPublic", "labels", "latestVersionId", "name", "orgName",
                "sharedWithOrgs", "sharedWithTeams", "teamName"
            ],
            "filters": self.filters,
            "orderBy": [{"field": "score", "value": "ASC"}],
            "page": page,
            "pageSize": SEARCH_PAGE_SIZE,
            "query": match self.text {
                Some(text) => format!("resourceId:{} {text}", self.matcher),
                None => format!("resourceId:{}", self.matcher),
            },
            "queryFields": ["name", "displayName", "description", "all"],
        })
        .to_string()
    }

    /// Every hit of one search endpoint, page by page.
    async fn pages(&self, reader: &Reader, path: &str) -> Result<Vec<Value>> {
        let mut hits = Vec::new();
        for page in 0..MAX_PAGES {
            let body = reader.get(path, &[("q", self.query(page))]).await?;
            for group in body.get("results").and_then(Value::as_array).into_iter().flatten() {
                if group
                    .get("groupValue")
                    .and_then(Value::as_str)
                    .is_some_and(|g| g != self.resource_type)
                {
                    continue;
                }
                hits.extend(
                    group
                        .get("resources")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            let pages = body.get("resultPageTotal").and_then(Value::as_u64).unwrap_or(0);
            if (page as u64) + 1 >= pages {
                break;
            }
        }
        Ok(hits)
    }

    /// The hits in the org (or team) and in the public catalog, each once (by resource id), in
    /// resource id order.
    pub async fn run(&self, reader: &Reader, space: Option<(String, Option<String>)>) -> Result<Vec<Value>> {
        let kind = self.resource_type;
        let mut paths = Vec::new();
        if let Some((org, team)) = space {
            paths.push(match team {
                Some(team) => format!("/v2/search/org/{}/team/{}/resources/{kind}", seg(&org), seg(&team)),
                None => format!("/v2/search/org/{}/resources/{kind}", seg(&org)),
            });
        }
        paths.push(format!("/v2/search/catalog/resources/{kind}"));
        let mut found: BTreeMap<String, Value> = BTreeMap::new();
        for path in paths {
            for hit in self.pages(reader, &path).await? {
                found.entry(field(&hit, "resourceId")).or_insert(hit);
            }
        }
        Ok(found.into_values().collect())
    }
}

/// A search hit as `ngc` sees an entity: each attribute a field (`format` is `modelFormat`),
/// `dateModified` is `updatedDate`, `dateCreated` is `createdDate`.
pub fn search_entity(hit: &Value) -> Value {
    let mut out = hit.clone();
    let Value::Object(map) = &mut out else { return out };
    for (from, to) in [("dateModified", "updatedDate"), ("dateCreated", "createdDate")] {
        map.insert(to.into(), hit.get(from).cloned().unwrap_or(Value::Null));
    }
    for attribute in items(hit.get("attributes")) {
        if let Some(key) = attribute.get("key").and_then(Value::as_str) {
            let key = if key == "format" { "modelFormat" } else { key };
            map.insert(key.into(), attribute.get("value").cloned().unwrap_or(Value::Null));
        }
    }
    out
}

/// The org (and team) whose private entities a search covers: those of the pattern, else the
/// configured ones; none for a guest. A wildcard org or team is no org or team.
pub fn search_space(ctx: &Ctx, pattern: &Pattern, guest: bool) -> Option<(String, Option<String>)> {
    if guest {
        return None;
    }
    let concrete = |part: &Option<String>| part.clone().filter(|p| !is_glob(p));
    let configured_org = ctx.org().ok().map(str::to_string);
    match (concrete(&pattern.org), pattern.org.is_some()) {
        // `acme/vision/*`, `acme/*`: that org, and the team when one is named.
        (Some(org), _) => {
            let team = match &pattern.team {
                Some(team) => concrete(&Some(team.clone())),
                // The configured team belongs to the configured org only.
                None if Some(&org) == configured_org.as_ref() => ctx.team().map(str::to_string),
                None => None,
            };
            Some((org, team))
        }
        // `*/web`: every org the caller is in is not searchable at once; the configured one is.
        (None, true) => configured_org.map(|org| (org, None)),
        // `*web*`: the configured org and team.
        (None, false) => configured_org.map(|org| (org, ctx.team().map(str::to_string))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_q_is_ngc_json() {
        let search = Search {
            resource_type: "CONTAINER",
            matcher: "*we*",
            text: None,
            filters: vec![],
        };
        let q: Value = serde_json::from_str(&search.query(2)).unwrap();
        assert_eq!(q["query"], "resourceId:*we*");
        assert_eq!((q["page"].as_u64(), q["pageSize"].as_u64()), (Some(2), Some(100)));
        assert_eq!(q["filters"], json!([]));
        let signed = Search {
            resource_type: "MODEL",
            matcher: "*",
            text: Some("speech asr"),
            filters: vec![json!({"field": "signedModels", "value": true})],
        };
        let q: Value = serde_json::from_str(&signed.query(0)).unwrap();
        assert_eq!(q["filters"], json!([{"field": "signedModels", "value": true}]));
        assert_eq!(q["query"], "resourceId:* speech asr");
        assert_eq!(
            filter_arg("framework=PyTorch"),
            Ok(json!({"field": "framework", "value": "PyTorch"}))
        );
        assert!(filter_arg("framework").is_err() && filter_arg("=x").is_err());
    }

    #[test]
    fn hits_become_entities() {
        let hit = json!({"resourceId": "acme/det", "dateCreated": "2026-01-01T00:00:00.000Z",
            "attributes": [{"key": "format", "value": "onnx"}, {"key": "latestVersionIdStr", "value": "2"}]});
        let entity = search_entity(&hit);
        assert_eq!(entity["modelFormat"], "onnx");
        assert_eq!(entity["latestVersionIdStr"], "2");
        assert_eq!(entity["createdDate"], "2026-01-01T00:00:00.000Z");
        assert_eq!(entity["updatedDate"], Value::Null);
    }
}
