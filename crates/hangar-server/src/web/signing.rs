//! Organization → Signing (issue 18): the keys the org trusts (its server-held key and the
//! public keys or certificates publishers register) and where pulls need a verified signature.
//! Every member sees them; owners and registry admins change them through `catalog::trust`, the
//! same calls and verdicts as the REST API and the CLI.

use super::error::WebResult;
use super::forms::{Form, see_other};
use super::organization::{Notice, nav, notice, open, open_post, with_status};
use super::render::page;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::catalog::error::DomainError;
use crate::catalog::trust::{self, Scope};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use hangar_core::policy::{Action, Target};
use hangar_pages::{OrgSigningPage, Problem, PublicKeyRow, RequirementRow};
use hangar_store::meta::{Org, RequirementKind};
use serde::Deserialize;

/// The keys as the Signing tab and a container's Tags tab list them.
pub(super) fn key_rows(org: &Org, keys: Vec<trust::OrgKey>) -> Vec<PublicKeyRow> {
    keys.into_iter()
        .map(|k| PublicKeyRow {
            held: if k.server_held { "Server-held" } else { "Registered" }.into(),
            url: if k.server_held {
                format!("/v2/org/{}/containers/public-key", org.name)
            } else {
                String::new()
            },
            name: k.name,
            fingerprint: k.fingerprint,
            pem: k.pem,
        })
        .collect()
}

/// A refusal of what was typed, for the form it came from; anything else is the error page.
fn refusal(form: &'static str, e: DomainError) -> WebResult<Problem> {
    match e {
        DomainError::Invalid(text)
        | DomainError::NotFound(text)
        | DomainError::Conflict(text)
        | DomainError::TooLarge(text)
        | DomainError::Store(hangar_store::Error::Conflict(text)) => Ok(Problem { form, text }),
        other => Err(other.into()),
    }
}

/// What the add-key form had, to show again with its refusal.
#[derive(Default)]
struct Typed {
    name: String,
    pem: String,
}

async fn signing_page(
    state: &AppState,
    visitor: &Visitor,
    (org, caller): (&Org, &Caller),
    notice: Option<String>,
    problem: Option<Problem>,
    typed: Typed,
) -> WebResult<Response> {
    let keys = trust::list(state, caller, org).await?;
    let requirements = state
        .meta
        .signature_requirements(org.id)
        .await?
        .into_iter()
        .map(|(kind, path)| {
            let (label, scope, name) = match kind {
                RequirementKind::Org => ("Organization", "org", String::new()),
                RequirementKind::Team => ("Team", "team", path.rsplit('/').next().unwrap_or_default().to_string()),
                RequirementKind::Repository => ("Repository", "repository", path.clone()),
            };
            RequirementRow {
                kind: label.into(),
                path,
                scope: scope.into(),
                name,
            }
        })
        .collect();
    let teams = state.meta.teams(org.id).await?.into_iter().map(|t| t.name).collect();
    let template = OrgSigningPage {
        chrome: visitor.chrome(state).await?,
        nav: nav(org, caller, "Signing"),
        keys: key_rows(org, keys),
        requirements,
        teams,
        manage: caller.allowed(Action::ManageSigning, &Target::org(&org.name)),
        new_name: typed.name,
        new_pem: typed.pem,
        notice,
        problem,
    };
    let response = with_status(page(&template), template.problem.as_ref());
    Ok(visitor.respond(response))
}

/// `GET /orgs/{org}/admin/signing`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Query(q): Query<Notice>,
) -> WebResult<Response> {
    let (org, caller) = open(&state, &visitor, &org).await?;
    let done = notice(&q.done);
    signing_page(&state, &visitor, (&org, &caller), done, None, Typed::default()).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    pem: String,
    #[serde(default)]
    confirm: String,
}

fn done(org: &Org, what: &str) -> Response {
    see_other(&format!("/orgs/{}/admin/signing?done={what}", org.name))
}

/// `POST /orgs/{org}/admin/signing/keys`: trust a key.
pub async fn add_key(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Form(form): Form<KeyForm>,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &form.csrf).await?;
    let name = form.name.trim();
    match trust::add(&state, &caller, &org, name, &form.pem).await {
        Ok(_) => Ok(done(&org, "key-added")),
        Err(e) => {
            let problem = refusal("new-key", e)?;
            let typed = Typed {
                name: name.to_string(),
                pem: form.pem,
            };
            signing_page(&state, &visitor, (&org, &caller), None, Some(problem), typed).await
        }
    }
}

/// `POST /orgs/{org}/admin/signing/keys/{name}/remove`: only with the box that names the key.
pub async fn remove_key(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((org, name)): Path<(String, String)>,
    Form(form): Form<KeyForm>,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &form.csrf).await?;
    let outcome = if form.confirm != name {
        Err(DomainError::Invalid(format!(
            "tick the box that names key {name} to remove it"
        )))
    } else {
        trust::remove(&state, &caller, &org, &name).await
    };
    match outcome {
        Ok(()) => Ok(done(&org, "key-removed")),
        Err(e) => {
            let problem = refusal("key", e)?;
            signing_page(&state, &visitor, (&org, &caller), None, Some(problem), Typed::default()).await
        }
    }
}

#[derive(Deserialize)]
pub struct RequirementForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    require: String,
}

/// `POST /orgs/{org}/admin/signing/requirements`: require signatures for the org, a team or a
/// repository, or stop (`require=false`).
pub async fn set_requirement(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Form(form): Form<RequirementForm>,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &form.csrf).await?;
    let require = form.require != "false";
    let name = form.name.trim().to_string();
    let scope = match form.scope.as_str() {
        "org" => Ok(Scope::Org),
        "team" if !name.is_empty() => Ok(Scope::Team(name)),
        "repository" if !name.is_empty() => Ok(Scope::Repository(name)),
        "team" | "repository" => Err(DomainError::Invalid(format!(
            "name the {} to require signatures for",
            form.scope
        ))),
        other => Err(DomainError::Invalid(format!(
            "'{other}' is not an org, team or repository"
        ))),
    };
    let outcome = match scope {
        Ok(scope) => trust::set_requirement(&state, &caller, &org, scope, require).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(done(&org, if require { "required" } else { "lifted" })),
        Err(e) => {
            let form = if require { "new-requirement" } else { "requirement" };
            let problem = refusal(form, e)?;
            signing_page(&state, &visitor, (&org, &caller), None, Some(problem), Typed::default()).await
        }
    }
}
