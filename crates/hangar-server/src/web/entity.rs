//! The page of one model, resource, Helm chart or collection (Catalog guide §16.4.1, §17.5,
//! §18.4): Overview, Versions, File Browser and Related Collections, the details panel, and
//! the download box with the commands that work against this server. Found through the one
//! verdict (`catalog::entities::find`): an entity the visitor may not see is "not found", the
//! same page as one that does not exist.

use super::error::{WebError, WebResult};
use super::explore::{access_label, caller_of, date};
use super::forms::{encode, not_visible, query};
use super::render::page;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::catalog::access::{entity_key, may_artifact};
use crate::catalog::collections::{Held, holding_entity, visible_items};
use crate::catalog::entities::{EntityPath, find};
use crate::catalog::error::DomainError;
use crate::catalog::links::base_url;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use hangar_core::access::AccessLevel;
use hangar_core::policy::ArtifactOp;
use hangar_core::versions::latest_first;
use hangar_pages::{Command, EntityPage, Fact, FileRow, Link, Tab, VersionRow, markdown};
use hangar_store::meta::{Artifact, ArtifactType, ArtifactVersion};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A kind with entity pages: its Explore segment and labels, and `ngc`'s download command.
struct Kind {
    segment: &'static str,
    plural: &'static str,
    title: &'static str,
    stored: ArtifactType,
    /// `ngc registry model download-version`; `None`: nothing to download (collections).
    ngc: Option<&'static str>,
}

const KINDS: [Kind; 4] = [
    Kind {
        segment: "models",
        plural: "Models",
        title: "Model",
        stored: ArtifactType::Model,
        ngc: Some("ngc registry model download-version"),
    },
    Kind {
        segment: "resources",
        plural: "Resources",
        title: "Resource",
        stored: ArtifactType::Resource,
        ngc: Some("ngc registry resource download-version"),
    },
    Kind {
        segment: "helm-charts",
        plural: "Helm Charts",
        title: "Helm Chart",
        stored: ArtifactType::Chart,
        ngc: Some("ngc registry chart pull"),
    },
    Kind {
        segment: "collections",
        plural: "Collections",
        title: "Collection",
        stored: ArtifactType::Collection,
        ngc: None,
    },
];

/// The Explore segment of a stored kind.
pub fn segment_of(stored: ArtifactType) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.stored == stored)
        .map_or("models", |k| k.segment)
}

#[derive(Debug, Default, Deserialize)]
struct Asked {
    section: Option<String>,
    version: Option<String>,
    /// The file browser's folder, `a/b`.
    dir: Option<String>,
    /// What the last change did.
    done: Option<String>,
}

/// `GET /catalog/{tab}/{org}[/{team}]/{name}`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path((tab, rest)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    if tab == "containers" {
        return super::container::show(&state, &visitor, &headers, &rest, raw.as_deref()).await;
    }
    let Some(kind) = KINDS.iter().find(|k| k.segment == tab) else {
        return Err(WebError::NotFound(format!(
            "there is no catalog page at '{tab}/{rest}'"
        )));
    };
    let asked: Asked = query(raw.as_deref())?;
    let noun = kind.title.to_lowercase();
    let hidden = || not_visible(visitor.signed.is_some(), &noun, &rest);
    let segments: Vec<&str> = rest.split('/').collect();
    let (org, team, name) = match segments[..] {
        [org, name] => (org, None, name),
        [org, team, name] => (org, Some(team), name),
        _ => return Err(hidden()),
    };
    let caller = caller_of(&state, &visitor).await?;
    let path = EntityPath {
        org: org.to_string(),
        team: team.map(str::to_string),
        name: name.to_string(),
        version: None,
    };
    let found = match find(&state, kind.stored, &caller, &path, ArtifactOp::Get).await {
        Ok(found) => found,
        Err(
            DomainError::NotFound(_)
            | DomainError::Unauthenticated
            | DomainError::Forbidden(_)
            | DomainError::Invalid(_),
        ) => return Err(hidden()),
        Err(e) => return Err(WebError::Internal(e.to_string())),
    };
    let manage = super::manage::entity_manage(&caller, &found, kind.segment);
    let artifact = found.artifact;
    let here = format!("/catalog/{}/{}", kind.segment, artifact.path);
    let may_download = kind.ngc.is_some() && may_artifact(&state, &caller, ArtifactOp::Download, &artifact).await?;
    let mut versions = if kind.ngc.is_some() {
        state.meta.versions(artifact.id).await?
    } else {
        vec![]
    };
    versions.sort_by(|a, b| latest_first(&a.version, &b.version));
    let section = match asked.section.as_deref() {
        None | Some("overview") => "overview",
        Some("versions") if kind.ngc.is_some() => "versions",
        Some("files") if kind.ngc.is_some() => "files",
        Some("collections") => "collections",
        Some(other) => return Err(WebError::NotFound(format!("this page has no '{other}' tab"))),
    };
    let base = base_url(&state, &headers);
    let chosen = match asked.version.as_deref() {
        Some(v) => Some(
            versions
                .iter()
                .find(|x| x.version == v)
                .ok_or_else(|| WebError::NotFound(format!("'{}' has no version '{v}'", artifact.path)))?,
        ),
        None => artifact
            .latest_version
            .as_deref()
            .and_then(|l| versions.iter().find(|x| x.version == l))
            .or(versions.first()),
    };
    let mut template = EntityPage {
        chrome: visitor.chrome(&state).await?,
        kind: kind.title.to_string(),
        explore: Link {
            href: format!("/catalog/{}", kind.segment),
            label: kind.plural.to_string(),
            ..Link::default()
        },
        title: text(&artifact.metadata, "displayName").unwrap_or_else(|| artifact.name.clone()),
        logo: text(&artifact.metadata, "logo").unwrap_or_default(),
        path: artifact.path.clone(),
        description: text(&artifact.metadata, "shortDescription").unwrap_or_default(),
        facts: facts(&artifact, chosen),
        access: access_label(artifact.access).to_string(),
        products: state.meta.entity_products(entity_key(&artifact)).await?,
        labels: labels(&artifact.metadata),
        // A model or resource is "Signed" once one of its versions carries a signature.
        signed: state.meta.has_signed_version(artifact.id).await?,
        tabs: tabs(&here, kind, section),
        section: section.to_string(),
        manage,
        notice: super::manage::notice_of(asked.done.as_deref()),
        ..EntityPage::default()
    };
    match section {
        "overview" => {
            template.overview = markdown(&text(&artifact.metadata, "description").unwrap_or_default());
        }
        "versions" => {
            let latest = artifact.latest_version.as_deref();
            template.versions = versions
                .iter()
                .map(|v| VersionRow {
                    version: v.version.clone(),
                    href: format!("{here}?section=files&version={}", encode(&v.version)),
                    size: size(v.total_bytes),
                    files: v.file_count,
                    created: date(v.created_at),
                    latest: Some(v.version.as_str()) == latest,
                })
                .collect();
        }
        "files" => {
            if let Some(version) = chosen {
                file_browser(
                    &state,
                    &mut template,
                    &Browse {
                        here: &here,
                        base: &base,
                        kind,
                        artifact: &artifact,
                        version,
                        dir: asked.dir.as_deref().unwrap_or_default(),
                        may_download,
                    },
                )
                .await?;
            }
        }
        _ => template.related = related(&state, &caller, kind, &artifact).await?,
    }
    if let Some(ngc) = kind.ngc {
        match chosen {
            _ if !may_download => {
                let cli = crate::catalog::access::noun(kind.stored);
                let why = Refusal {
                    verb: "download",
                    gerund: "Downloading",
                    cli,
                    path: &artifact.path,
                };
                template.download_note = why.explain(&caller, artifact.access, &template.products);
            }
            Some(version) => template.download = commands(ngc, kind, &base, &artifact, version),
            None => template.download_note = "Nothing to download yet: it has no versions.".into(),
        }
    }
    Ok(visitor.respond(page(&template)))
}

/// `value`, or `fallback` when it is empty.
pub(super) fn text_or(value: &str, fallback: &str) -> String {
    if value.is_empty() { fallback } else { value }.to_string()
}

pub(super) fn text(metadata: &Value, field: &str) -> Option<String> {
    metadata
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn labels(metadata: &Value) -> Vec<String> {
    metadata
        .get("labelsV2")
        .or_else(|| metadata.get("labels"))
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Bytes as people read them.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn facts(artifact: &Artifact, latest: Option<&ArtifactVersion>) -> Vec<Fact> {
    let mut facts = vec![];
    let mut add = |label: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            facts.push(Fact {
                label: label.to_string(),
                value,
            });
        }
    };
    add("Publisher", text(&artifact.metadata, "publisher"));
    add("Built by", text(&artifact.metadata, "builtBy"));
    add("Latest version", artifact.latest_version.clone());
    add("Size", latest.map(|v| size(v.total_bytes)));
    add("Modified", Some(date(artifact.updated_at)));
    add("Access", Some(access_label(artifact.access).to_string()));
    for (label, field) in [
        ("Use case", "application"),
        ("Framework", "framework"),
        ("Precision", "precision"),
        ("Format", "modelFormat"),
    ] {
        add(label, text(&artifact.metadata, field));
    }
    facts
}

fn tabs(here: &str, kind: &Kind, section: &str) -> Vec<Tab> {
    let mut tabs = vec![("overview", "Overview")];
    if kind.ngc.is_some() {
        tabs.extend([("versions", "Versions"), ("files", "File Browser")]);
    }
    tabs.push((
        "collections",
        if kind.stored == ArtifactType::Collection {
            "Items"
        } else {
            "Related Collections"
        },
    ));
    section_tabs(here, &tabs, section)
}

/// The tabs of an entity page at `here`: `(section, label)`, the first one the page itself.
pub(super) fn section_tabs(here: &str, tabs: &[(&str, &str)], section: &str) -> Vec<Tab> {
    tabs.iter()
        .enumerate()
        .map(|(i, (value, label))| Tab {
            href: if i == 0 {
                here.to_string()
            } else {
                format!("{here}?section={value}")
            },
            label: label.to_string(),
            current: *value == section,
        })
        .collect()
}

/// A collection's items, or the collections holding the entity: only what the visitor may see.
async fn related(state: &AppState, caller: &Caller, kind: &Kind, artifact: &Artifact) -> WebResult<Vec<Link>> {
    if kind.stored != ArtifactType::Collection {
        return Ok(collection_links(
            &holding_entity(state, caller, entity_key(artifact)).await?,
        ));
    }
    Ok(visible_items(state, caller, artifact)
        .await?
        .into_iter()
        .map(|item| match item.held {
            Held::Artifact(a) => Link {
                href: format!("/catalog/{}/{}", segment_of(a.kind), a.path),
                label: text(&a.metadata, "displayName").unwrap_or_else(|| a.name.clone()),
                note: a.path.clone(),
            },
            Held::Repository(r) => Link {
                href: format!("/catalog/containers/{}", r.name),
                label: r.name.clone(),
                note: "container".into(),
            },
        })
        .collect())
}

/// Links to the pages of `collections`.
pub(super) fn collection_links(collections: &[Artifact]) -> Vec<Link> {
    collections
        .iter()
        .map(|c| Link {
            href: format!("/catalog/collections/{}", c.path),
            label: text(&c.metadata, "displayName").unwrap_or_else(|| c.path.clone()),
            note: c.path.clone(),
        })
        .collect()
}

/// What the file browser shows.
struct Browse<'a> {
    here: &'a str,
    base: &'a str,
    kind: &'a Kind,
    artifact: &'a Artifact,
    version: &'a ArtifactVersion,
    /// The folder, `a/b` (empty: the top).
    dir: &'a str,
    may_download: bool,
}

async fn file_browser(state: &AppState, template: &mut EntityPage, b: &Browse<'_>) -> WebResult<()> {
    // A chart's files are inside its archive: listed, fetched with the chart.
    let files: Vec<(String, i64)> = if b.kind.stored == ArtifactType::Chart {
        let files = state.meta.chart_files(b.version.id).await?;
        files.into_iter().map(|f| (f.path, f.size)).collect()
    } else {
        let files = state.meta.version_files(b.version.id).await?;
        files.into_iter().map(|f| (f.path, f.size)).collect()
    };
    let dir = b.dir.trim_matches('/');
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let inside: Vec<&(String, i64)> = files.iter().filter(|(p, _)| p.starts_with(&prefix)).collect();
    if !dir.is_empty() && inside.is_empty() {
        return Err(WebError::NotFound(format!(
            "version {} has no folder '{dir}'",
            b.version.version
        )));
    }
    let at = |dir: &str| {
        let mut href = format!("{}?section=files&version={}", b.here, encode(&b.version.version));
        if !dir.is_empty() {
            href.push_str(&format!("&dir={}", encode(dir)));
        }
        href
    };
    template.version = b.version.version.clone();
    template.crumbs = vec![Link {
        href: at(""),
        label: b.artifact.name.clone(),
        note: String::new(),
    }];
    let mut walked = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        walked = if walked.is_empty() {
            part.to_string()
        } else {
            format!("{walked}/{part}")
        };
        template.crumbs.push(Link {
            href: at(&walked),
            label: part.to_string(),
            note: String::new(),
        });
    }
    let mut folders: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (path, bytes) in inside {
        let rest = &path[prefix.len()..];
        match rest.split_once('/') {
            Some((folder, _)) => {
                let entry = folders.entry(folder).or_default();
                entry.0 += 1;
                entry.1 += bytes;
            }
            None => template.files.push(file_row(b, path, rest, *bytes)),
        }
    }
    template.folders = folders
        .into_iter()
        .map(|(folder, (count, bytes))| Link {
            href: at(&format!("{prefix}{folder}")),
            label: folder.to_string(),
            note: format!(
                "{} · {count} {}",
                size(bytes),
                if count == 1 { "file" } else { "files" }
            ),
        })
        .collect();
    Ok(())
}

fn file_row(b: &Browse<'_>, path: &str, name: &str, bytes: i64) -> FileRow {
    let mut row = FileRow {
        name: name.to_string(),
        size: size(bytes),
        href: String::new(),
        wget: String::new(),
        curl: String::new(),
    };
    if b.kind.stored == ArtifactType::Chart || !b.may_download {
        return row;
    }
    let encoded: Vec<String> = path.split('/').map(encode).collect();
    // The guide's guest path (Catalog §16.4.1): `/v2/{kind}/{org}[/{team}]/{name}/versions/…`.
    row.href = format!(
        "/v2/{}/{}/versions/{}/files/{}",
        b.kind.segment,
        b.artifact.path,
        encode(&b.version.version),
        encoded.join("/")
    );
    let url = format!("{}{}", b.base, row.href);
    if b.artifact.access == AccessLevel::Guest {
        row.wget = format!("wget --content-disposition '{url}'");
        row.curl = format!("curl -LO '{url}'");
    } else {
        row.wget = format!("wget --content-disposition --header=\"Authorization: Bearer $NGC_API_KEY\" '{url}'");
        row.curl = format!("curl -LO '{url}' -H \"Authorization: Bearer $NGC_API_KEY\"");
    }
    row
}

/// The download box: `ngc`'s command, and the whole version with wget/curl or Helm.
fn commands(ngc: &str, kind: &Kind, base: &str, artifact: &Artifact, version: &ArtifactVersion) -> Vec<Command> {
    let host = base.split("://").nth(1).unwrap_or(base);
    let space = match artifact.path.rsplit_once('/') {
        Some((space, _)) => space.to_string(),
        None => artifact.path.clone(),
    };
    let mut out = vec![Command {
        label: format!("With the NGC CLI (`ngc config set`, base URL {base})"),
        text: format!("{ngc} \"{}:{}\"", artifact.path, version.version),
    }];
    if kind.stored == ArtifactType::Chart {
        let mut repo = format!("{base}/{space}");
        if artifact.access != AccessLevel::Guest {
            repo = format!("{repo} --username='$oauthtoken' --password=\"$NGC_API_KEY\"");
        }
        out.push(Command {
            label: "With Helm".into(),
            text: format!(
                "helm repo add {} {repo}\nhelm fetch {base}/{space}/charts/{}-{}.tgz",
                space.replace('/', "-"),
                artifact.name,
                version.version
            ),
        });
        return out;
    }
    let (org, team) = match space.split_once('/') {
        Some((org, team)) => (org, Some(team)),
        None => (space.as_str(), None),
    };
    let zip = format!(
        "{base}/v2/org/{org}{}/{}/{}/versions/{}/zip",
        team.map(|t| format!("/team/{t}")).unwrap_or_default(),
        kind.segment,
        artifact.name,
        encode(&version.version)
    );
    let auth = if artifact.access == AccessLevel::Guest {
        String::new()
    } else {
        " -H \"Authorization: Bearer $NGC_API_KEY\"".to_string()
    };
    out.push(Command {
        label: format!("The whole version as a zip, with curl (from {host})"),
        text: format!("curl -LO '{zip}'{auth}"),
    });
    out
}

/// Why a visitor who may see an entity may not download (or pull) it, and what would change
/// that.
pub(super) struct Refusal<'a> {
    /// `download` or `pull`, and `Downloading` or `Pulling`.
    pub verb: &'a str,
    pub gerund: &'a str,
    /// The CLI's word for the kind (`model`, `image`), for the request-access command.
    pub cli: &'a str,
    pub path: &'a str,
}

impl Refusal<'_> {
    pub(super) fn explain(&self, caller: &Caller, access: AccessLevel, products: &[String]) -> String {
        let (verb, gerund) = (self.verb, self.gerund);
        match access {
            _ if caller.is_guest() => format!("Sign in to {verb}."),
            AccessLevel::Entitled | AccessLevel::Exclusive => format!(
                "{gerund} needs your organization's subscription to {}.",
                if products.is_empty() {
                    "its product".to_string()
                } else {
                    products.join(" or ")
                }
            ),
            AccessLevel::Approval => format!(
                "{gerund} needs the publisher's approval: hangar registry {} request-access {}",
                self.cli, self.path
            ),
            _ => format!("You may not {verb} it."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_as_people_read_them() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_500), "1.5 KB");
        assert_eq!(size(1_050_000_000), "1.1 GB");
    }
}
