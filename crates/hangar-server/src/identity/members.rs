//! Members of orgs and teams and their roles: who may change whose roles, and the changes
//! themselves. The REST API (`/v2/org/{org}/users…`) and the organization pages share these, so
//! both give one verdict.

use super::error::{IdentityError, IdentityResult};
use crate::auth::Caller;
use hangar_core::policy::{Action, Grant, Target, can_grant};
use hangar_core::roles::Role;
use hangar_store::meta::{Member, MetaStore, Org, RoleChange, Team, User};

/// `Ok` when `caller` may do `action` at `target`; the same refusal for every organization page
/// and call.
pub fn require(caller: &Caller, action: Action, target: &Target) -> IdentityResult<()> {
    if caller.allowed(action, target) {
        Ok(())
    } else {
        Err(IdentityError::Forbidden(
            "you do not have permission for this action".into(),
        ))
    }
}

/// A user named by numeric id or by e-mail address.
pub async fn find_user(meta: &MetaStore, id_or_email: &str) -> IdentityResult<User> {
    let found = match id_or_email.parse::<i64>() {
        Ok(id) => meta.user(id).await?,
        Err(_) => meta.user_by_email(&id_or_email.trim().to_lowercase()).await?,
    };
    found.ok_or_else(|| IdentityError::NotFound(format!("user '{id_or_email}' not found")))
}

/// The member with their roles in the org, or not found when they hold none at that scope.
pub async fn find_member(
    meta: &MetaStore,
    org: &Org,
    team: Option<&Team>,
    id_or_email: &str,
) -> IdentityResult<Member> {
    let user = find_user(meta, id_or_email).await?;
    meta.members(org.id, team.map(|t| t.id))
        .await?
        .into_iter()
        .find(|m| m.user.id == user.id)
        .ok_or_else(|| IdentityError::NotFound(format!("user '{id_or_email}' is not a member here")))
}

/// Applies a role change at the org (or one team) after checking that the caller may manage
/// users there and may grant every role the change touches; the store then checks the org's
/// own rules (at most two owners, at least one, a registry role or USER_ADMIN at each scope).
/// Returns the user's roles in the org afterwards.
pub async fn change_roles(
    meta: &MetaStore,
    caller: &Caller,
    org: &Org,
    team: Option<&Team>,
    user: &User,
    change: RoleChange<'_>,
) -> IdentityResult<Vec<Grant>> {
    let target = Target::team(&org.name, team.map(|t| t.name.as_str()));
    require(caller, Action::ManageUsers, &target)?;
    let mut touched: Vec<Role> = match change {
        RoleChange::Add(r) | RoleChange::Remove(r) | RoleChange::Replace(r) => r.to_vec(),
    };
    if let Some(role) = touched.iter().find(|r| team.is_some() && !r.allowed_in_team()) {
        return Err(IdentityError::Invalid(format!("{role} can only be held at org scope")));
    }
    if let RoleChange::Replace(_) = change {
        let grants = meta.grants_of_user(user.id).await?;
        touched.extend(
            grants
                .iter()
                .filter(|g| g.org == org.name && g.team.as_deref() == team.map(|t| t.name.as_str()))
                .map(|g| g.role),
        );
    }
    if let Some(role) = touched.iter().find(|r| !can_grant(&caller.subject, **r, &target)) {
        return Err(IdentityError::Forbidden(format!(
            "you cannot grant or remove {role}: a user admin grants only roles they hold, and only owners manage owners"
        )));
    }
    meta.change_roles(user.id, org.id, team.map(|t| t.id), change).await?;
    grants_in(meta, user, org).await
}

/// The user's roles in `org` (at org scope and in its teams).
pub async fn grants_in(meta: &MetaStore, user: &User, org: &Org) -> IdentityResult<Vec<Grant>> {
    let grants = meta.grants_of_user(user.id).await?;
    Ok(grants.into_iter().filter(|g| g.org == org.name).collect())
}

/// Checks the caller could grant every role `member` holds at `target`: a user admin cannot
/// remove an owner, nor someone holding roles the admin lacks.
pub fn require_power_over(caller: &Caller, member: &Member, target: &Target) -> IdentityResult<()> {
    require(caller, Action::ManageUsers, target)?;
    let roles = member
        .grants
        .iter()
        .filter(|g| target.team.is_none() || g.team.as_deref() == target.team)
        .map(|g| g.role);
    for role in roles {
        if !can_grant(&caller.subject, role, target) {
            return Err(IdentityError::Forbidden(format!(
                "you cannot remove a user who holds {role}"
            )));
        }
    }
    Ok(())
}

/// Removes the member from the org (every role, and their personal keys for it, at once) or
/// from one team.
pub async fn remove_member(
    meta: &MetaStore,
    caller: &Caller,
    org: &Org,
    team: Option<&Team>,
    member: &Member,
) -> IdentityResult<()> {
    let target = Target::team(&org.name, team.map(|t| t.name.as_str()));
    require_power_over(caller, member, &target)?;
    match team {
        Some(team) => meta.remove_from_team(member.user.id, org.id, team.id).await?,
        None => {
            meta.remove_from_org(member.user.id, org.id).await?;
            tracing::info!(org = %org.name, user = %member.user.email, "user removed from org; personal keys revoked");
        }
    }
    Ok(())
}
