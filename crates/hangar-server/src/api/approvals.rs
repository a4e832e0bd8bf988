//! Access requests for approval-level entities: `{OT}/{models|resources|helm-charts|repos}/{name}
//! /access-requests[/{user-email}]` and the caller's own at `/v2/users/me/access-requests`.

use super::extract::{Json, Path, Query};
use super::views::{date, success};
use crate::auth::Caller;
use crate::catalog::access::entity_key;
use crate::catalog::approvals::{self, Offered};
use crate::catalog::entities::{EntityPath, find};
use crate::catalog::kinds::{CHART, Kind, MODEL, RESOURCE};
use crate::catalog::repositories::repository_key;
use crate::catalog::repository_catalog::{RepoPath, repository};
use crate::catalog::reveal::Guarded;
use crate::catalog::space::Space;
use crate::catalog::standing::standing;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{MethodRouter, get, put};
use axum::{Extension, Router};
use hangar_core::access::AccessLevel;
use hangar_core::policy::{ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::{AccessRequest, EntityKey};
use serde::Deserialize;
use serde_json::{Value, json};

/// What the entity routes of one kind are, or `None` for container repositories.
type KindOf = Option<&'static Kind>;

pub fn routes() -> Router<AppState> {
    let mut router = Router::new().route("/v2/users/me/access-requests", get(mine));
    for space in ["/v2/org/{org}", "/v2/org/{org}/team/{team}"] {
        let kinds: [(KindOf, &str); 4] = [
            (Some(&MODEL), MODEL.wire.segment),
            (Some(&RESOURCE), RESOURCE.wire.segment),
            (Some(&CHART), CHART.wire.segment),
            (None, "repos"),
        ];
        for (kind, segment) in kinds {
            let base = format!("{space}/{segment}/{{name}}/access-requests");
            let table: [(String, MethodRouter<AppState>); 2] = [
                (base.clone(), get(list).post(request)),
                (format!("{base}/{{user}}"), put(decide)),
            ];
            for (path, methods) in table {
                router = router.route(&path, methods.route_layer(Extension(kind)));
            }
        }
    }
    router
}

#[derive(Debug, Deserialize)]
struct RequestPath {
    org: String,
    team: Option<String>,
    name: String,
    user: Option<String>,
}

/// The entity a request path names, found for the caller (who must be able to see it).
struct Looked {
    space: Space,
    name: String,
    key: EntityKey,
    kind: ArtifactKind,
    noun: &'static str,
    access: AccessLevel,
}

impl Looked {
    async fn find(state: &AppState, caller: &Caller, kind: KindOf, path: &RequestPath) -> ApiResult<Looked> {
        let (org, team) = (path.org.clone(), path.team.clone());
        Ok(match kind {
            Some(kind) => {
                let entity = EntityPath {
                    org,
                    team,
                    name: path.name.clone(),
                    version: None,
                };
                let found = find(state, kind.stored, caller, &entity, ArtifactOp::Get).await?;
                Looked {
                    key: entity_key(&found.artifact),
                    name: found.artifact.path.clone(),
                    kind: kind.policy,
                    noun: kind.wire.noun,
                    access: found.artifact.access,
                    space: found.space,
                }
            }
            None => {
                let repo = RepoPath {
                    org,
                    team,
                    repo: path.name.clone(),
                    tag: None,
                };
                let (space, repo) = repository(state, caller, &repo, ArtifactOp::Get).await?;
                Looked {
                    key: repository_key(&repo),
                    kind: ArtifactKind::Container,
                    noun: "image",
                    access: repo.info.access,
                    name: repo.name,
                    space,
                }
            }
        })
    }

    async fn offered(&self, state: &AppState, caller: &Caller) -> ApiResult<Offered<'_>> {
        Ok(Offered {
            key: self.key,
            thing: Guarded {
                kind: self.kind,
                target: Target {
                    org: &self.space.org.name,
                    team: self.space.team_name(),
                    entity: Some(&self.name),
                },
                access: self.access,
                standing: standing(state, caller, self.key, self.access).await?,
            },
            noun: self.noun,
            name: &self.name,
            space: &self.space,
        })
    }
}

/// One request as JSON.
fn view(r: &AccessRequest) -> Value {
    json!({
        "entityType": r.entity_kind,
        "entityName": r.entity_name,
        "userEmail": r.user_email,
        "userName": r.user_name,
        "state": r.state,
        "note": r.note,
        "requestedDate": date(r.requested_at),
        "decidedDate": r.decided_at.map(date),
        "decidedBy": r.decided_by,
    })
}

fn listing(requests: &[AccessRequest]) -> Json<Value> {
    let list: Vec<Value> = requests.iter().map(view).collect();
    Json(success(json!({"accessRequests": list})))
}

fn one(request: &AccessRequest) -> Json<Value> {
    Json(success(json!({"accessRequest": view(request)})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRequest {
    #[serde(default)]
    note: String,
}

/// `POST …/access-requests`: the caller asks for access.
async fn request(
    State(state): State<AppState>,
    Extension(kind): Extension<KindOf>,
    caller: Caller,
    Path(path): Path<RequestPath>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let note = if body.is_empty() {
        String::new()
    } else {
        serde_json::from_slice::<NewRequest>(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
            .note
    };
    let looked = Looked::find(&state, &caller, kind, &path).await?;
    let offered = looked.offered(&state, &caller).await?;
    Ok(one(&approvals::request(&state, &caller, &offered, &note).await?))
}

#[derive(Debug, Deserialize)]
struct StateFilter {
    state: Option<String>,
}

/// `GET …/access-requests[?state=PENDING]`: for the publisher's admins.
async fn list(
    State(state): State<AppState>,
    Extension(kind): Extension<KindOf>,
    caller: Caller,
    Path(path): Path<RequestPath>,
    Query(filter): Query<StateFilter>,
) -> ApiResult<Json<Value>> {
    let looked = Looked::find(&state, &caller, kind, &path).await?;
    let offered = looked.offered(&state, &caller).await?;
    Ok(listing(
        &approvals::list(&state, &caller, &offered, filter.state.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    state: String,
}

/// `PUT …/access-requests/{user-email}` `{"state": "APPROVED"|"DENIED"|"REVOKED"}`.
async fn decide(
    State(state): State<AppState>,
    Extension(kind): Extension<KindOf>,
    caller: Caller,
    Path(path): Path<RequestPath>,
    Json(body): Json<Decision>,
) -> ApiResult<Json<Value>> {
    let looked = Looked::find(&state, &caller, kind, &path).await?;
    let offered = looked.offered(&state, &caller).await?;
    let user = path.user.as_deref().unwrap_or_default();
    Ok(one(
        &approvals::decide(&state, &caller, &offered, user, &body.state).await?
    ))
}

/// `GET /v2/users/me/access-requests`: the caller's own requests.
async fn mine(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    Ok(listing(&approvals::mine(&state, &caller).await?))
}
