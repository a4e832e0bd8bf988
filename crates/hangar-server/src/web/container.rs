//! The page of one container repository (Catalog guide §7.3, §12.2.1; Private Registry guide
//! §3.4): Overview, Tags (each with its platforms, size, digest and Signed badge, and its pull
//! command) and Related Collections, the details panel and the pull box. Found through the one
//! verdict: a repository the visitor may not see is "not found", like one that does not exist.

use super::entity::{Refusal, collection_links, section_tabs, size, text_or};
use super::error::{WebError, WebResult};
use super::explore::{access_label, caller_of, date};
use super::forms::{not_visible, query};
use super::render::page;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::catalog::collections::holding_entity;
use crate::catalog::error::DomainError;
use crate::catalog::images::{TagSummary, latest, summaries};
use crate::catalog::links::base_url;
use crate::catalog::repositories::{guarded, locate, repository_key};
use crate::catalog::reveal::{Verdict, reveal};
use crate::catalog::trust;
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::response::Response;
use hangar_core::access::AccessLevel;
use hangar_core::names::validate_repository;
use hangar_core::policy::ArtifactOp;
use hangar_pages::{Command, EntityPage, Fact, Link, PublicKeyRow, TagRow, markdown};
use hangar_store::meta::Repository;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct Asked {
    section: Option<String>,
    /// What the last change did.
    done: Option<String>,
}

/// `GET /catalog/containers/{org}[/{team}]/{repo}`.
pub async fn show(
    state: &AppState,
    visitor: &Visitor,
    headers: &HeaderMap,
    name: &str,
    raw: Option<&str>,
) -> WebResult<Response> {
    let asked: Asked = query(raw)?;
    let hidden = || not_visible(visitor.signed.is_some(), "container", name);
    if validate_repository(name).is_err() {
        return Err(hidden());
    }
    let caller = caller_of(state, visitor).await?;
    let Some(located) = locate(state, name).await? else {
        return Err(hidden());
    };
    let Some(repo) = located.repo.as_ref() else {
        return Err(hidden());
    };
    let thing = guarded(state, &caller, &located, name).await?;
    if reveal(&caller, &thing, ArtifactOp::Get) != Verdict::Allowed {
        return Err(hidden());
    }
    let may_pull = reveal(&caller, &thing, ArtifactOp::Download) == Verdict::Allowed;
    let section = match asked.section.as_deref() {
        None | Some("overview") => "overview",
        Some("tags") => "tags",
        Some("collections") => "collections",
        Some(other) => return Err(WebError::NotFound(format!("this page has no '{other}' tab"))),
    };
    // Single-platform tags name their platform only in their config blob: read only for Tags.
    let tags = summaries(state, repo, section == "tags").await?;
    let newest = latest(repo, &tags);
    let base = base_url(state, headers);
    let host = base.split("://").nth(1).unwrap_or(&base).to_string();
    let pull = |tag: &str| format!("docker pull {host}/{name}:{tag}");
    let here = format!("/catalog/containers/{name}");
    let info = &repo.info;
    let mut facts = vec![];
    for (label, value) in [
        ("Publisher", info.publisher.clone()),
        ("Built by", info.built_by.clone()),
        ("Latest tag", newest.map(|t| t.tag.clone()).unwrap_or_default()),
        ("Size", newest.map(|t| size(t.size)).unwrap_or_default()),
        (
            "Modified",
            date(newest.map_or(repo.updated_at, |t| t.updated_at.max(repo.updated_at))),
        ),
        ("Access", access_label(info.access).to_string()),
        (
            "Multi-node",
            if info.is_multinode { "Yes".into() } else { String::new() },
        ),
    ] {
        if !value.is_empty() {
            facts.push(Fact {
                label: label.to_string(),
                value,
            });
        }
    }
    let mut template = EntityPage {
        chrome: visitor.chrome(state).await?,
        kind: "Container".into(),
        explore: Link {
            href: "/catalog/containers".into(),
            label: "Containers".into(),
            ..Link::default()
        },
        title: text_or(&info.display_name, name.rsplit('/').next().unwrap_or(name)),
        logo: info.logo.clone(),
        path: name.to_string(),
        description: info.short_description.clone(),
        facts,
        access: access_label(info.access).to_string(),
        products: state.meta.entity_products(repository_key(repo)).await?,
        labels: info.labels.clone(),
        signed: newest.is_some_and(|t| t.is_signed),
        tabs: section_tabs(
            &here,
            &[
                ("overview", "Overview"),
                ("tags", "Tags"),
                ("collections", "Related Collections"),
            ],
            section,
        ),
        section: section.to_string(),
        manage: super::manage::repository_manage(&caller, &thing, name),
        notice: super::manage::notice_of(asked.done.as_deref()),
        ..EntityPage::default()
    };
    match section {
        "overview" => template.overview = markdown(&info.description),
        "tags" => {
            template.tags = tags
                .iter()
                .map(|t| tag_row(t, if may_pull { pull(&t.tag) } else { String::new() }))
                .collect();
            template.public_keys = public_keys(state, &caller, repo).await?;
        }
        _ => template.related = collection_links(&holding_entity(state, &caller, repository_key(repo)).await?),
    }
    match newest {
        _ if !may_pull => {
            let why = Refusal {
                verb: "pull",
                gerund: "Pulling",
                cli: "image",
                path: name,
            };
            template.download_note = why.explain(&caller, info.access, &template.products);
        }
        Some(tag) => {
            if info.access != AccessLevel::Guest {
                template.download.push(Command {
                    label: "Sign in once with an API key".into(),
                    text: format!(
                        "echo \"$NGC_API_KEY\" | docker login {host} --username '$oauthtoken' --password-stdin"
                    ),
                });
            }
            template.download.push(Command {
                label: format!("Pull the latest tag ({})", tag.tag),
                text: pull(&tag.tag),
            });
        }
        None => template.download_note = "Nothing to pull yet: it has no tags.".into(),
    }
    Ok(visitor.respond(page(&template)))
}

/// The keys of the repository's org, as "View all public keys" lists them (none for a visitor
/// who may not read them).
async fn public_keys(state: &AppState, caller: &Caller, repo: &Repository) -> WebResult<Vec<PublicKeyRow>> {
    let org = state.meta.org_by_id(repo.org_id).await?;
    match trust::list(state, caller, &org).await {
        Ok(keys) => Ok(super::signing::key_rows(&org, keys)),
        Err(DomainError::NotFound(_)) => Ok(vec![]),
        Err(e) => Err(e.into()),
    }
}

fn tag_row(t: &TagSummary, pull: String) -> TagRow {
    let platforms = if t.variants.is_empty() {
        String::new()
    } else {
        t.variants
            .iter()
            .map(|v| format!("{}/{}", v.os, v.architecture))
            .collect::<Vec<_>>()
            .join(", ")
    };
    TagRow {
        tag: t.tag.clone(),
        digest: t.digest.clone(),
        size: size(t.size),
        updated: date(t.updated_at),
        signed: t.is_signed,
        signed_by: t.signature.verified_by.join(", "),
        signature_problem: t.signature.problems.first().cloned().unwrap_or_default(),
        platforms,
        pull,
    }
}
