//! Organization → Users (Private Registry guide §2.4.2–§2.4.5): the members and their roles,
//! inviting (to the org or a team), pending invitations (resend, cancel), one member's roles
//! (change them, add to a team, remove). Every write goes through `identity::members` and
//! `identity::invitations`, the same calls and verdicts as the REST API; the controls a visitor
//! may not use are not shown, and the server refuses them anyway.

use super::error::{WebError, WebResult};
use super::explore::date;
use super::forms::{Fields, encode, see_other};
use super::organization::{nav, notice, open, open_post, problem, sees_users, team_of, with_status};
use super::render::page;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::identity::error::IdentityError;
use crate::identity::invitations::{self, InvitationRequest, Links};
use crate::identity::mail::link_base;
use crate::identity::members;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use hangar_core::policy::{Action, Grant, Target, can_grant};
use hangar_core::roles::Role;
use hangar_pages::{Choice, InvitationRow, MemberRow, OrgMemberPage, OrgUsersPage, Problem, RoleBox, ScopeRoles};
use hangar_store::meta::{Member, Org, RoleChange, Team};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    team: String,
    #[serde(default)]
    done: String,
}

/// `role @ team` as the pages name it.
fn grant_label(grant: &Grant) -> String {
    match &grant.team {
        Some(team) => format!("{}: {}", team, grant.role.display_name()),
        None => format!("Org: {}", grant.role.display_name()),
    }
}

/// The roles the caller may grant at `target` (the org, or a team), as checkboxes.
fn grantable(caller: &Caller, target: &Target) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| target.team.is_none() || r.allowed_in_team())
        .filter(|r| can_grant(&caller.subject, *r, target))
        .collect()
}

fn role_choices(roles: &[Role]) -> Vec<Choice> {
    roles
        .iter()
        .map(|r| Choice {
            value: r.name().into(),
            label: r.display_name().into(),
            selected: false,
        })
        .collect()
}

/// The team a page or form names, if the caller may see it.
async fn team_named(state: &AppState, caller: &Caller, org: &Org, name: &str) -> WebResult<Option<Team>> {
    if name.is_empty() {
        return Ok(None);
    }
    Ok(Some(team_of(state, caller, org, name).await?))
}

/// `GET /orgs/{org}/admin/users`.
pub async fn users(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    Query(q): Query<UsersQuery>,
) -> WebResult<Response> {
    let (org, caller) = open(&state, &visitor, &org).await?;
    users_page(&state, &visitor, &org, &caller, &q.team, notice(&q.done), None).await
}

/// What the users page shows after a refused form: why, and what was typed.
struct Refused {
    problem: Problem,
    email: String,
}

async fn users_page(
    state: &AppState,
    visitor: &Visitor,
    org: &Org,
    caller: &Caller,
    team: &str,
    notice: Option<String>,
    refused: Option<Refused>,
) -> WebResult<Response> {
    let team = team_named(state, caller, org, team).await?;
    let target = Target::team(&org.name, team.as_ref().map(|t| t.name.as_str()));
    if !caller.allowed(Action::ViewUsers, &target) {
        return Err(WebError::Forbidden(if sees_users(caller, org) {
            "You may see the users of your own teams only: choose one of them.".into()
        } else {
            "Only owners, user admins, user readers and registry admins see the organization's users.".into()
        }));
    }
    let teams = state.meta.teams(org.id).await?;
    let mut team_choices = vec![Choice {
        value: String::new(),
        label: "The whole organization".into(),
        selected: team.is_none(),
    }];
    let mut invite_scopes = Vec::new();
    if caller.allowed(Action::ManageUsers, &Target::org(&org.name)) {
        invite_scopes.push(Choice {
            value: String::new(),
            label: format!("The organization {}", org.name),
            selected: team.is_none(),
        });
    }
    for t in &teams {
        let here = Target::team(&org.name, Some(&t.name));
        let chosen = team.as_ref().is_some_and(|c| c.id == t.id);
        if caller.allowed(Action::ViewUsers, &here) {
            team_choices.push(Choice {
                value: t.name.clone(),
                label: format!("Team {}", t.name),
                selected: chosen,
            });
        }
        if caller.allowed(Action::ManageUsers, &here) {
            invite_scopes.push(Choice {
                value: t.name.clone(),
                label: format!("Team {}", t.name),
                selected: chosen,
            });
        }
    }
    let rows = state
        .meta
        .members(org.id, team.as_ref().map(|t| t.id))
        .await?
        .into_iter()
        .map(|m| MemberRow {
            id: m.user.id,
            roles: m.grants.iter().map(grant_label).collect(),
            name: m.user.name,
            email: m.user.email,
        })
        .collect();
    let invitations = state
        .meta
        .pending_invitations(org.id, team.as_ref().map(|t| t.name.as_str()))
        .await?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id,
            roles: i
                .roles
                .iter()
                .map(|(role, team)| {
                    grant_label(&Grant {
                        org: org.name.clone(),
                        team: team.clone(),
                        role: *role,
                    })
                })
                .collect::<Vec<_>>()
                .join(", "),
            expires: date(i.expires_at),
            email: i.email,
        })
        .collect();
    // The invitation form offers the roles the caller may grant at the org (or the team shown);
    // the server checks again for the scope chosen.
    let (problem, invite_email) = match refused {
        Some(r) => (Some(r.problem), r.email),
        None => (None, String::new()),
    };
    let template = OrgUsersPage {
        chrome: visitor.chrome(state).await?,
        nav: nav(org, caller, "Users"),
        team: team.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
        team_choices,
        members: rows,
        manage: !invite_scopes.is_empty(),
        invite_roles: role_choices(&grantable(caller, &target)),
        invite_scopes,
        invite_email,
        invitations,
        notice,
        problem,
    };
    let response = with_status(page(&template), template.problem.as_ref());
    Ok(visitor.respond(response))
}

fn parse_roles(names: &[String]) -> Result<Vec<Role>, IdentityError> {
    names
        .iter()
        .map(|n| n.parse::<Role>().map_err(IdentityError::from))
        .collect()
}

/// `POST /orgs/{org}/admin/invitations`: email, name, team (empty: the org), repeated `role`.
pub async fn invite(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(org): Path<String>,
    fields: Fields,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &fields.get("csrf")).await?;
    let team = fields.get("team");
    let base = link_base(&state.settings, &headers);
    let links = Links {
        base: &base,
        default_minutes: state.settings.invitation_expiry_minutes,
    };
    let scope = Some(team.clone()).filter(|t| !t.is_empty());
    let outcome = match parse_roles(&fields.all("role")) {
        Ok(roles) => {
            let request = InvitationRequest {
                email: fields.get("email"),
                name: fields.get("name"),
                message: String::new(),
                expiry_minutes: None,
                roles: roles.into_iter().map(|r| (r, scope.clone())).collect(),
            };
            invitations::invite(&state.meta, &caller, &org, request, &links)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            let team = scope.map(|t| format!("team={}&", encode(&t))).unwrap_or_default();
            Ok(see_other(&format!("/orgs/{}/admin/users?{team}done=invited", org.name)))
        }
        Err(e) => {
            let refused = Refused {
                problem: problem("invite", e)?,
                email: fields.get("email"),
            };
            users_page(&state, &visitor, &org, &caller, &team, None, Some(refused)).await
        }
    }
}

/// `POST /orgs/{org}/admin/invitations/{id}/resend`.
pub async fn resend(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path((org, id)): Path<(String, i64)>,
    fields: Fields,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &fields.get("csrf")).await?;
    let base = link_base(&state.settings, &headers);
    let links = Links {
        base: &base,
        default_minutes: state.settings.invitation_expiry_minutes,
    };
    let outcome = invitations::resend(&state.meta, &caller, &org, id, &links)
        .await
        .map(|_| "resent");
    after_pending(&state, &visitor, &org, &caller, outcome).await
}

/// `POST /orgs/{org}/admin/invitations/cancel`: every open invitation of `email`.
pub async fn cancel(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(org): Path<String>,
    fields: Fields,
) -> WebResult<Response> {
    let (org, caller) = open_post(&state, &visitor, &org, &fields.get("csrf")).await?;
    let outcome = invitations::withdraw(&state.meta, &caller, &org, &fields.get("email"))
        .await
        .map(|()| "cancelled");
    after_pending(&state, &visitor, &org, &caller, outcome).await
}

async fn after_pending(
    state: &AppState,
    visitor: &Visitor,
    org: &Org,
    caller: &Caller,
    outcome: Result<&str, IdentityError>,
) -> WebResult<Response> {
    match outcome {
        Ok(done) => Ok(see_other(&format!("/orgs/{}/admin/users?done={done}", org.name))),
        Err(e) => {
            let refused = Refused {
                problem: problem("pending", e)?,
                email: String::new(),
            };
            users_page(state, visitor, org, caller, "", None, Some(refused)).await
        }
    }
}

/// The member a page names, if the caller sees users somewhere in the org.
async fn member_of(state: &AppState, caller: &Caller, org: &Org, id: i64) -> WebResult<Member> {
    if !sees_users(caller, org) {
        return Err(WebError::Forbidden(
            "Only owners, user admins, user readers and registry admins see the organization's users.".into(),
        ));
    }
    members::find_member(&state.meta, org, None, &id.to_string())
        .await
        .map_err(|_| WebError::NotFound(format!("User {id} is not a member of {}.", org.name)))
}

/// `GET /orgs/{org}/admin/users/{id}`.
pub async fn member(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((org, id)): Path<(String, i64)>,
    Query(q): Query<UsersQuery>,
) -> WebResult<Response> {
    let (org, caller) = open(&state, &visitor, &org).await?;
    let member = member_of(&state, &caller, &org, id).await?;
    member_page(&state, &visitor, &org, &caller, &member, notice(&q.done), None).await
}

async fn member_page(
    state: &AppState,
    visitor: &Visitor,
    org: &Org,
    caller: &Caller,
    member: &Member,
    notice: Option<String>,
    refused: Option<Problem>,
) -> WebResult<Response> {
    let held_at = |team: Option<&str>| -> Vec<Role> {
        member
            .grants
            .iter()
            .filter(|g| g.team.as_deref() == team)
            .map(|g| g.role)
            .collect()
    };
    // The org scope, then each team the member is in.
    let mut teams_in: Vec<String> = member.grants.iter().filter_map(|g| g.team.clone()).collect();
    teams_in.dedup();
    let scope = |team: Option<&str>| {
        let target = Target::team(&org.name, team);
        let held = held_at(team);
        // Changeable only when the caller could grant every role the member holds here.
        let may = caller.allowed(Action::ManageUsers, &target)
            && held.iter().all(|r| can_grant(&caller.subject, *r, &target));
        ScopeRoles {
            team: team.unwrap_or_default().to_string(),
            held: held.iter().map(|r| r.display_name().to_string()).collect(),
            boxes: if may {
                grantable(caller, &target)
                    .into_iter()
                    .map(|r| RoleBox {
                        name: r.name().into(),
                        label: r.display_name().into(),
                        held: held.contains(&r),
                    })
                    .collect()
            } else {
                vec![]
            },
        }
    };
    let mut scopes = vec![scope(None)];
    scopes.extend(teams_in.iter().map(|t| scope(Some(t))));
    let mut add_teams = Vec::new();
    for t in state.meta.teams(org.id).await? {
        let here = Target::team(&org.name, Some(&t.name));
        if !teams_in.contains(&t.name) && caller.allowed(Action::ManageUsers, &here) {
            add_teams.push(Choice {
                value: t.name.clone(),
                label: t.name,
                selected: false,
            });
        }
    }
    // Team roles the caller may grant (in the teams they manage; checked again on submit).
    let add_roles = match add_teams.first() {
        Some(first) => role_choices(&grantable(caller, &Target::team(&org.name, Some(&first.value)))),
        None => vec![],
    };
    let org_target = Target::org(&org.name);
    let template = OrgMemberPage {
        chrome: visitor.chrome(state).await?,
        nav: nav(org, caller, "Users"),
        user_id: member.user.id,
        name: member.user.name.clone(),
        email: member.user.email.clone(),
        scopes,
        add_teams,
        add_roles,
        removable: members::require_power_over(caller, member, &org_target).is_ok(),
        notice,
        problem: refused,
    };
    let response = with_status(page(&template), template.problem.as_ref());
    Ok(visitor.respond(response))
}

/// What a member form acts on: the org, the caller, the member and the team the form names.
async fn member_form(
    state: &AppState,
    visitor: &Visitor,
    org: &str,
    id: i64,
    fields: &Fields,
) -> WebResult<(Org, Caller, Member, Option<Team>)> {
    let (org, caller) = open_post(state, visitor, org, &fields.get("csrf")).await?;
    let member = member_of(state, &caller, &org, id).await?;
    let team = team_named(state, &caller, &org, &fields.get("team")).await?;
    Ok((org, caller, member, team))
}

/// `POST /orgs/{org}/admin/users/{id}/roles`: the member's roles at one scope (`team`, empty
/// for the org) become exactly the ticked `role`s. A team the member is not in yet is the
/// "add to a team" form; no role ticked at a team takes them out of it.
pub async fn set_roles(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((org, id)): Path<(String, i64)>,
    fields: Fields,
) -> WebResult<Response> {
    let (org, caller, member, team) = member_form(&state, &visitor, &org, id, &fields).await?;
    let joining = team
        .as_ref()
        .is_some_and(|t| !member.grants.iter().any(|g| g.team.as_deref() == Some(&t.name)));
    let form = if joining { "add" } else { "roles" };
    let outcome = async {
        let roles = parse_roles(&fields.all("role"))?;
        match (&team, roles.is_empty()) {
            (Some(_), true) if joining => Err(IdentityError::Invalid("tick at least one role in the team".into())),
            (Some(_), true) => members::remove_member(&state.meta, &caller, &org, team.as_ref(), &member)
                .await
                .map(|()| "removed-team"),
            (None, true) => Err(IdentityError::Invalid(
                "a member keeps at least one organization role; to take them all, remove the user from the organization".into(),
            )),
            (_, false) => {
                members::change_roles(&state.meta, &caller, &org, team.as_ref(), &member.user, RoleChange::Replace(&roles))
                    .await
                    .map(|_| if joining { "added" } else { "roles" })
            }
        }
    }
    .await;
    after_member_form(&state, &visitor, &org, &caller, id, outcome, form).await
}

async fn after_member_form(
    state: &AppState,
    visitor: &Visitor,
    org: &Org,
    caller: &Caller,
    id: i64,
    outcome: Result<&str, IdentityError>,
    form: &'static str,
) -> WebResult<Response> {
    match outcome {
        Ok("removed") => Ok(see_other(&format!("/orgs/{}/admin/users?done=removed", org.name))),
        Ok(done) => Ok(see_other(&format!("/orgs/{}/admin/users/{id}?done={done}", org.name))),
        Err(e) => {
            let problem = problem(form, e)?;
            let member = member_of(state, caller, org, id).await?;
            member_page(state, visitor, org, caller, &member, None, Some(problem)).await
        }
    }
}

/// `POST /orgs/{org}/admin/users/{id}/remove`: from one team (`team`) or the whole org, only
/// with the box that names the user ticked.
pub async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((org, id)): Path<(String, i64)>,
    fields: Fields,
) -> WebResult<Response> {
    let (org, caller, member, team) = member_form(&state, &visitor, &org, id, &fields).await?;
    let form = if team.is_some() { "roles" } else { "remove" };
    let outcome = if fields.get("confirm") != member.user.email {
        Err(IdentityError::Invalid(format!(
            "tick the box that names {} to remove them",
            member.user.email
        )))
    } else {
        members::remove_member(&state.meta, &caller, &org, team.as_ref(), &member)
            .await
            .map(|()| if team.is_some() { "removed-team" } else { "removed" })
    };
    after_member_form(&state, &visitor, &org, &caller, id, outcome, form).await
}
