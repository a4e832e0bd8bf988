//! Organization → Profile and Teams (Private Registry guide §2.4.5, §2.4.6, §7): the org's
//! profile and storage against its quotas, and its teams. Every member sees them; owners
//! (profile) and owners and user admins (teams) change them through `identity::orgs`, the same
//! calls and verdicts as the REST API.

use super::entity::size;
use super::error::{WebError, WebResult};
use super::explore::caller_of;
use super::forms::{Form, see_other};
use super::render::page;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::identity::error::IdentityError;
use crate::identity::orgs;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hangar_core::policy::{Action, Target};
use hangar_pages::{OrgNav, OrgProfilePage, OrgTeamsPage, Problem, StorageUse, Tab, TeamRow};
use hangar_store::meta::Org;
use serde::Deserialize;

/// The org a signed-in member opens, with the caller they act as; anyone else is told it is not
/// there, whether or not it exists.
pub(super) async fn open(state: &AppState, visitor: &Visitor, name: &str) -> WebResult<(Org, Caller)> {
    visitor.signed_in()?;
    let caller = caller_of(state, visitor).await?;
    let member = |org: &Org| {
        caller.allowed(Action::ViewOrg, &Target::org(&org.name))
            || caller.subject.grants.iter().any(|g| g.org == org.name)
    };
    match state.meta.org(name).await? {
        Some(org) if member(&org) => Ok((org, caller)),
        _ => Err(WebError::NotFound(format!(
            "There is no organization '{name}', or you are not a member of it."
        ))),
    }
}

/// [`open`] for a form post, whose CSRF token is checked too.
pub(super) async fn open_post(state: &AppState, visitor: &Visitor, name: &str, csrf: &str) -> WebResult<(Org, Caller)> {
    let opened = open(state, visitor, name).await?;
    visitor.check_csrf(csrf)?;
    Ok(opened)
}

/// Whether the caller sees the org's users: at org scope or in one of their teams.
pub(super) fn sees_users(caller: &Caller, org: &Org) -> bool {
    caller.allowed(Action::ViewUsers, &Target::org(&org.name))
        || caller
            .subject
            .grants
            .iter()
            .filter(|g| g.org == org.name)
            .any(|g| caller.allowed(Action::ViewUsers, &Target::team(&org.name, g.team.as_deref())))
}

/// The org's heading and tabs, `current` marked.
pub(super) fn nav(org: &Org, caller: &Caller, current: &str) -> OrgNav {
    let base = format!("/orgs/{}/admin", org.name);
    let mut tabs = vec![("Profile", base.clone())];
    if sees_users(caller, org) {
        tabs.push(("Users", format!("{base}/users")));
    }
    tabs.push(("Teams", format!("{base}/teams")));
    tabs.push(("Signing", format!("{base}/signing")));
    OrgNav {
        org: org.name.clone(),
        display_name: org.display_name.clone(),
        tabs: tabs
            .into_iter()
            .map(|(label, href)| Tab {
                current: label == current,
                label: label.into(),
                href,
            })
            .collect(),
    }
}

/// A form's refusal for the page: a mistake in what was typed goes next to the form; a caller
/// who may not do this (whose page shows no such form) gets the error page, as does anything
/// else.
pub(super) fn problem(form: &'static str, e: IdentityError) -> WebResult<Problem> {
    match e {
        IdentityError::Invalid(_) | IdentityError::NotFound(_) => Ok(Problem {
            form,
            text: e.to_string(),
        }),
        IdentityError::Store(hangar_store::Error::Conflict(what)) => Ok(Problem {
            form,
            text: format!("{what} already exists"),
        }),
        IdentityError::Store(hangar_store::Error::Limit(why) | hangar_store::Error::Invalid(why)) => {
            Ok(Problem { form, text: why })
        }
        other => Err(other.into()),
    }
}

/// A page that shows a refused form answers 400, so scripts see the refusal.
pub(super) fn with_status(mut response: Response, problem: Option<&Problem>) -> Response {
    if problem.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    pub(super) done: String,
}

/// What a finished form says on the page it returns to.
pub(super) fn notice(done: &str) -> Option<String> {
    let text = match done {
        "profile" => "The profile is saved.",
        "team-created" => "The team is created.",
        "team-saved" => "The team is saved.",
        "team-deleted" => "The team is deleted; its members keep their other roles.",
        "invited" => "The invitation is sent.",
        "resent" => "The invitation is sent again with a new link; the old link no longer works.",
        "cancelled" => "The invitation is cancelled; its link no longer works.",
        "roles" => "The roles are saved.",
        "added" => "The user is added to the team.",
        "removed-team" => "The user is removed from the team.",
        "removed" => "The user is removed from the organization and their personal keys for it are revoked.",
        "key-added" => "The key is trusted; the signatures it made are verified again.",
        "key-removed" => {
            "The key is no longer trusted: images it signed are no longer verified (model and resource signatures were checked when they were uploaded)."
        }
        "required" => "Pulls there now need a verified signature.",
        "lifted" => "Pulls there no longer need a signature.",
        _ => return None,
    };
    Some(text.into())
}

/// `GET /orgs/{org}/admin`: the profile.
pub async fn profile(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Query(q): Query<Notice>,
) -> WebResult<Response> {
    let (org, caller) = open(&state, &visitor, &org).await?;
    profile_page(&state, &visitor, &org, &caller, notice(&q.done), None).await
}

fn storage_use(label: &str, used: i64, limit: u64) -> StorageUse {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX).max(1);
    StorageUse {
        label: label.into(),
        used: size(used),
        limit: size(limit),
        percent: u64::try_from((used.max(0) as i128 * 100 / limit as i128).min(100)).unwrap_or(100),
    }
}

async fn profile_page(
    state: &AppState,
    visitor: &Visitor,
    org: &Org,
    caller: &Caller,
    notice: Option<String>,
    problem: Option<Problem>,
) -> WebResult<Response> {
    let my_roles = caller
        .subject
        .grants
        .iter()
        .filter(|g| g.org == org.name)
        .map(|g| match &g.team {
            Some(team) => format!("{} in team {team}", g.role.display_name()),
            None => g.role.display_name().to_string(),
        })
        .collect();
    let settings = &state.settings;
    let template = OrgProfilePage {
        chrome: visitor.chrome(state).await?,
        nav: nav(org, caller, "Profile"),
        description: org.description.clone(),
        editable: caller.allowed(Action::UpdateOrg, &Target::org(&org.name)),
        my_roles,
        storage: vec![
            storage_use(
                "Container images",
                state.meta.org_image_bytes(org.id).await?,
                settings.org_image_soft_limit_bytes,
            ),
            storage_use(
                "Models, resources and charts",
                state.meta.org_artifact_bytes(org.id).await?,
                settings.org_artifact_quota_bytes,
            ),
        ],
        notice,
        problem,
    };
    let response = with_status(page(&template), template.problem.as_ref());
    Ok(visitor.respond(response))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
}

/// `POST /orgs/{org}/admin/profile`.
pub async fn save_profile(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Form(form): Form<ProfileForm>,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &form.csrf).await?;
    let description = form.description.replace("\r\n", "\n");
    match orgs::update_org(
        &state.meta,
        &caller,
        &org,
        Some(form.display_name.trim()),
        Some(&description),
    )
    .await
    {
        Ok(org) => Ok(see_other(&format!("/orgs/{}/admin?done=profile", org.name))),
        Err(e) => {
            let problem = problem("profile", e)?;
            profile_page(&state, &visitor, &org, &caller, None, Some(problem)).await
        }
    }
}

/// `GET /orgs/{org}/admin/teams`.
pub async fn teams(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Query(q): Query<Notice>,
) -> WebResult<Response> {
    let (org, caller) = open(&state, &visitor, &org).await?;
    teams_page(&state, &visitor, &org, &caller, notice(&q.done), None).await
}

async fn teams_page(
    state: &AppState,
    visitor: &Visitor,
    org: &Org,
    caller: &Caller,
    notice: Option<String>,
    problem: Option<(Problem, String)>,
) -> WebResult<Response> {
    let mut rows = Vec::new();
    for team in state.meta.teams(org.id).await? {
        if caller.allowed(Action::ViewOrg, &Target::team(&org.name, Some(&team.name))) {
            rows.push(TeamRow {
                members: state.meta.members(org.id, Some(team.id)).await?.len(),
                name: team.name,
                description: team.description,
            });
        }
    }
    let (problem, new_name) = match problem {
        Some((p, name)) => (Some(p), name),
        None => (None, String::new()),
    };
    let template = OrgTeamsPage {
        chrome: visitor.chrome(state).await?,
        nav: nav(org, caller, "Teams"),
        teams: rows,
        manage: caller.allowed(Action::ManageTeams, &Target::org(&org.name)),
        new_name,
        notice,
        problem,
    };
    let response = with_status(page(&template), template.problem.as_ref());
    Ok(visitor.respond(response))
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    confirm: String,
}

/// What a team form did, or why it was refused (shown on the teams page).
async fn after_team_form(
    state: &AppState,
    visitor: &Visitor,
    org: &Org,
    caller: &Caller,
    outcome: Result<&str, IdentityError>,
    (form, name): (&'static str, String),
) -> WebResult<Response> {
    match outcome {
        Ok(done) => Ok(see_other(&format!("/orgs/{}/admin/teams?done={done}", org.name))),
        Err(e) => {
            let problem = problem(form, e)?;
            teams_page(state, visitor, org, caller, None, Some((problem, name))).await
        }
    }
}

/// `POST /orgs/{org}/admin/teams`: a new team.
pub async fn create_team(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Form(form): Form<TeamForm>,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &form.csrf).await?;
    let name = form.name.trim().to_string();
    let outcome = orgs::create_team(&state.meta, &caller, &org, &name, form.description.trim())
        .await
        .map(|_| "team-created");
    after_team_form(&state, &visitor, &org, &caller, outcome, ("new-team", name)).await
}

/// The team a form names, if the caller may see it.
pub(super) async fn team_of(
    state: &AppState,
    caller: &Caller,
    org: &Org,
    name: &str,
) -> WebResult<hangar_store::meta::Team> {
    match state.meta.team(org.id, name).await? {
        Some(team) if caller.allowed(Action::ViewOrg, &Target::team(&org.name, Some(&team.name))) => Ok(team),
        _ => Err(WebError::NotFound(format!(
            "There is no team '{name}' in {}.",
            org.name
        ))),
    }
}

/// `POST /orgs/{org}/admin/teams/{team}`: a new description.
pub async fn save_team(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((org, team)): Path<(String, String)>,
    Form(form): Form<TeamForm>,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &form.csrf).await?;
    let team = team_of(&state, &caller, &org, &team).await?;
    let outcome = orgs::update_team(&state.meta, &caller, &org, &team, form.description.trim())
        .await
        .map(|_| "team-saved");
    after_team_form(&state, &visitor, &org, &caller, outcome, ("team", String::new())).await
}

/// `POST /orgs/{org}/admin/teams/{team}/delete`: only with the box that names the team ticked.
pub async fn delete_team(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((org, team)): Path<(String, String)>,
    Form(form): Form<TeamForm>,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &form.csrf).await?;
    let team = team_of(&state, &caller, &org, &team).await?;
    let outcome = if form.confirm != team.name {
        Err(IdentityError::Invalid(format!(
            "tick the box that names team {} to delete it",
            team.name
        )))
    } else {
        orgs::delete_team(&state.meta, &caller, &org, &team)
            .await
            .map(|()| "team-deleted")
    };
    after_team_form(&state, &visitor, &org, &caller, outcome, ("team", String::new())).await
}
