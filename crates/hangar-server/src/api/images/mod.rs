//! NGC's image API (ngc-api.md §8) over the registry's repositories: repository metadata, the
//! tags with sizes and architectures, set-latest, removing tags and repositories. Paths start
//! with `/v2/org/{org}[/team/{team}]`, and for reads also `/v2/repos/{org}[/{team}]/{repo}`.

mod views;

use super::extract::{Json, Page, Path, Query};
use super::offer::change_of;
use super::views::success;
use crate::auth::Caller;
use crate::catalog::images::{TagSummary, summaries};
use crate::catalog::offer::{self, OfferChange};
use crate::catalog::repositories::repository_key;
use crate::catalog::repository_catalog::{RepoChange, RepoPath, guarded, may, repository, require_new_repository};
use crate::catalog::space::{Space, SpacePath};
use crate::catalog::{image_signatures, trust};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use hangar_core::access::AccessLevel;
use hangar_core::names::validate_tag;
use hangar_core::policy::{ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::Repository;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in ["/v2/org/{org}", "/v2/org/{org}/team/{team}"] {
        router = router
            .route(&format!("{prefix}/repos"), get(list).post(create))
            .route(
                &format!("{prefix}/repos/{{repo}}"),
                get(info).patch(update).delete(remove),
            )
            .route(&format!("{prefix}/repos/{{repo}}/images"), get(images))
            .route(
                &format!("{prefix}/repos/{{repo}}/images/{{tag}}"),
                get(image).delete(remove_image),
            )
            .route(
                &format!("{prefix}/repos/{{repo}}/tags/{{tag}}"),
                get(tag).patch(set_latest),
            )
            .route(&format!("{prefix}/repos/{{repo}}/images/{{tag}}/signature"), post(sign));
    }
    router.route("/v2/repos/{*rest}", get(guest_read))
}

/// The fields of a repository that create and update set.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepoFields {
    name: Option<String>,
    display_name: Option<String>,
    short_description: Option<String>,
    description: Option<String>,
    labels: Option<Vec<String>>,
    labels_v2: Option<Vec<String>>,
    logo: Option<String>,
    publisher: Option<String>,
    built_by: Option<String>,
    is_public: Option<Value>,
    access_type: Option<Value>,
    product_names: Option<Value>,
    is_multinode_enabled: Option<bool>,
}

impl RepoFields {
    /// The offer change the fields ask for (taken out of them).
    fn take_offer(&mut self) -> ApiResult<OfferChange> {
        change_of(
            self.is_public.take(),
            self.access_type.take(),
            self.product_names.take(),
        )
    }

    /// The metadata change the fields ask for (all but the offer).
    fn change(self) -> RepoChange {
        RepoChange {
            display_name: self.display_name,
            short_description: self.short_description,
            description: self.description,
            labels: self.labels_v2.or(self.labels),
            logo: self.logo,
            publisher: self.publisher,
            built_by: self.built_by,
            is_multinode: self.is_multinode_enabled,
        }
    }
}

async fn repository_json(state: &AppState, space: &Space, repo: &Repository) -> ApiResult<Value> {
    let tags = summaries(state, repo, false).await?;
    let products = state.meta.entity_products(repository_key(repo)).await?;
    let namespace = space.namespace();
    Ok(views::repository(
        repo,
        &products,
        (&namespace, space.team_name()),
        &tags,
    ))
}

/// `GET {OT}/repos`: the repositories of the org (or team) the caller may see.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SpacePath>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Value>> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let team_id = space.team.as_ref().map(|t| t.id);
    let mut visible = vec![];
    for repo in state.meta.repositories_of(space.org.id, Some(team_id)).await? {
        if may(&state, &space, &caller, ArtifactOp::List, &repo).await? {
            visible.push(repo);
        }
    }
    let (repos, info) = page.slice(visible);
    let mut out = Vec::with_capacity(repos.len());
    for repo in &repos {
        out.push(repository_json(&state, &space, repo).await?);
    }
    Ok(Json(success(json!({"repositories": out, "paginationInfo": info}))))
}

/// `POST {OT}/repos`: a repository with metadata, before or after its first push.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<SpacePath>,
    Json(mut fields): Json<RepoFields>,
) -> ApiResult<Json<Value>> {
    let space = Space::find(&state, &path.org, path.team.as_deref()).await?;
    let short = fields
        .name
        .take()
        .ok_or_else(|| ApiError::BadRequest("the repository needs a name".into()))?;
    let name = require_new_repository(&state, &caller, &space, &short).await?;
    let offer = fields.take_offer()?;
    offer::permit(&caller, &space.unborn(ArtifactKind::Container, &name), &offer)?;
    let (access, products) = offer::outcome(&state, None, AccessLevel::Private, &offer).await?;
    let mut repo = state
        .meta
        .ensure_repository(space.org.id, space.team.as_ref().map(|t| t.id), &name)
        .await?;
    fields.change().apply(&mut repo.info)?;
    if !offer.is_empty() {
        state.meta.set_entity_products(repository_key(&repo), &products).await?;
        repo.info.access = access;
    }
    state.meta.update_repository_info(repo.id, &repo.info).await?;
    Ok(Json(success(repository_json(&state, &space, &repo).await?)))
}

/// `GET {OT}/repos/{repo}`: the repository's metadata, latest tag and tags.
async fn info(State(state): State<AppState>, caller: Caller, Path(path): Path<RepoPath>) -> ApiResult<Json<Value>> {
    let (space, repo) = repository(&state, &caller, &path, ArtifactOp::Get).await?;
    Ok(Json(success(repository_json(&state, &space, &repo).await?)))
}

/// `PATCH {OT}/repos/{repo}`: changes the metadata given.
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
    Json(mut fields): Json<RepoFields>,
) -> ApiResult<Json<Value>> {
    let (space, mut repo) = repository(&state, &caller, &path, ArtifactOp::Update).await?;
    if fields.name.take().is_some_and(|n| n != path.repo) {
        return Err(ApiError::BadRequest("a repository cannot be renamed".into()));
    }
    let offer = fields.take_offer()?;
    let thing = guarded(&state, &caller, &space, &repo).await?;
    repo.info.access = offer::apply(&state, &caller, &thing, repository_key(&repo), &offer).await?;
    fields.change().apply(&mut repo.info)?;
    state.meta.update_repository_info(repo.id, &repo.info).await?;
    let repo = state.meta.repository(&repo.name).await?.unwrap_or(repo);
    Ok(Json(success(repository_json(&state, &space, &repo).await?)))
}

/// `DELETE {OT}/repos/{repo}`: the repository with every tag and manifest in it.
async fn remove(State(state): State<AppState>, caller: Caller, Path(path): Path<RepoPath>) -> ApiResult<Json<Value>> {
    let (_, repo) = repository(&state, &caller, &path, ArtifactOp::Delete).await?;
    state.meta.delete_repository(repo.id).await?;
    Ok(Json(success(json!({}))))
}

/// `GET {OT}/repos/{repo}/images`: the tags, most recently pushed first.
async fn images(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Value>> {
    let (_, repo) = repository(&state, &caller, &path, ArtifactOp::List).await?;
    let (tags, info) = page.slice(summaries(&state, &repo, true).await?);
    let images: Vec<Value> = tags.iter().map(views::tag).collect();
    Ok(Json(success(json!({"images": images, "paginationInfo": info}))))
}

/// The summary of the tag in `path`.
async fn tagged(
    state: &AppState,
    caller: &Caller,
    path: &RepoPath,
    op: ArtifactOp,
) -> ApiResult<(Repository, TagSummary)> {
    let tag = path.tag.as_deref().unwrap_or_default();
    validate_tag(tag)?;
    let (_, repo) = repository(state, caller, path, op).await?;
    let found = summaries(state, &repo, true)
        .await?
        .into_iter()
        .find(|t| t.tag == tag)
        .ok_or_else(|| ApiError::NotFound(format!("image '{}:{tag}' not found", repo.name)))?;
    Ok((repo, found))
}

/// `GET {OT}/repos/{repo}/images/{tag}`: the image's manifest summary.
async fn image(State(state): State<AppState>, caller: Caller, Path(path): Path<RepoPath>) -> ApiResult<Json<Value>> {
    let (_, t) = tagged(&state, &caller, &path, ArtifactOp::Get).await?;
    Ok(Json(success(views::image(&path.repo, &t))))
}

/// `POST {OT}/repos/{repo}/images/{tag}/signature`: the server signs the tagged image with the
/// org's server-held key (org owners and registry admins), as cosign would; answers the tag.
async fn sign(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(path): Path<RepoPath>,
) -> ApiResult<Json<Value>> {
    let (repo, t) = tagged(&state, &caller, &path, ArtifactOp::Get).await?;
    let target = Target {
        org: &path.org,
        team: path.team.as_deref(),
        entity: Some(&repo.name),
    };
    trust::require_manage(&caller, &target)?;
    let base = crate::identity::mail::link_base(&state.settings, &headers);
    let host = base.split("://").nth(1).unwrap_or(&base).trim_end_matches('/');
    let org = state.meta.require_org(&path.org).await?;
    image_signatures::sign(&state, &org, &repo, &t.digest, host).await?;
    tracing::info!(image = %format!("{}:{}", repo.name, t.tag), "image signed by the server");
    let (_, signed) = tagged(&state, &caller, &path, ArtifactOp::Get).await?;
    Ok(Json(success(views::tag(&signed))))
}

/// `GET {OT}/repos/{repo}/tags/{tag}`: the tag's size, digest, architectures, signature.
async fn tag(State(state): State<AppState>, caller: Caller, Path(path): Path<RepoPath>) -> ApiResult<Json<Value>> {
    let (_, t) = tagged(&state, &caller, &path, ArtifactOp::Get).await?;
    Ok(Json(success(views::tag(&t))))
}

#[derive(Deserialize)]
struct SetLatest {
    #[serde(rename = "set-latest", default)]
    set_latest: bool,
}

/// `PATCH {OT}/repos/{repo}/tags/{tag}?set-latest=true`.
async fn set_latest(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
    Query(query): Query<SetLatest>,
) -> ApiResult<Json<Value>> {
    if !query.set_latest {
        return Err(ApiError::BadRequest("nothing to change: use ?set-latest=true".into()));
    }
    let (repo, t) = tagged(&state, &caller, &path, ArtifactOp::Update).await?;
    state.meta.set_latest_tag(repo.id, &t.tag).await?;
    Ok(Json(success(views::tag(&t))))
}

/// `DELETE {OT}/repos/{repo}/images/{tag}`: the tag, and its manifest unless still used.
async fn remove_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepoPath>,
) -> ApiResult<Json<Value>> {
    let tag = path.tag.as_deref().unwrap_or_default();
    validate_tag(tag)?;
    let (_, repo) = repository(&state, &caller, &path, ArtifactOp::Delete).await?;
    state.meta.remove_image(repo.id, tag).await?;
    Ok(Json(success(json!({}))))
}

/// Guest-readable paths: `/v2/repos/{org}[/{team}]/{repo}[/images[/{tag}]]`.
async fn guest_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(rest): Path<String>,
    query: Query<Page>,
) -> ApiResult<Json<Value>> {
    let mut parts: Vec<&str> = rest.split('/').collect();
    let mut tag = None;
    let mut listing = false;
    if parts.len() >= 4 && parts[parts.len() - 2] == "images" {
        tag = parts.pop();
        parts.pop();
    } else if parts.len() >= 3 && parts.last() == Some(&"images") {
        parts.pop();
        listing = true;
    }
    let path = match parts.as_slice() {
        [org, repo] => RepoPath {
            org: org.to_string(),
            team: None,
            repo: repo.to_string(),
            tag: tag.map(str::to_string),
        },
        [org, team, repo] => RepoPath {
            org: org.to_string(),
            team: Some(team.to_string()),
            repo: repo.to_string(),
            tag: tag.map(str::to_string),
        },
        _ => return Err(ApiError::NotFound(format!("no such path: /v2/repos/{rest}"))),
    };
    match (listing, path.tag.is_some()) {
        (true, _) => images(State(state), caller, Path(path), query).await,
        (false, true) => image(State(state), caller, Path(path)).await,
        (false, false) => info(State(state), caller, Path(path)).await,
    }
}
