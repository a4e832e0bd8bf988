//! Inviting people to an org or its teams, sending an invitation again, and withdrawing it:
//! shared by the REST API and the organization pages, so both apply the same rules (who may
//! grant which role where, the roles a member needs, the expiry bounds).

use super::error::{IdentityError, IdentityResult};
use super::mail;
use super::members::require;
use crate::auth::Caller;
use hangar_core::names::{normalize_email, validate_text};
use hangar_core::policy::{Action, Target, can_grant};
use hangar_core::roles::Role;
use hangar_store::meta::{Invitation, MetaStore, NewInvitation, Org, now};

/// Invitations last at most this long (one month).
pub const MAX_EXPIRY_MINUTES: i64 = 30 * 24 * 60;

/// What an inviter asks for.
pub struct InvitationRequest {
    pub email: String,
    pub name: String,
    pub message: String,
    /// Minutes until it expires; `None` for the server's default.
    pub expiry_minutes: Option<i64>,
    /// Each role with the team it is for (`None`: the org).
    pub roles: Vec<(Role, Option<String>)>,
}

/// Where invitation links point, and how long they last unless asked otherwise.
pub struct Links<'a> {
    pub base: &'a str,
    pub default_minutes: i64,
}

/// Checks the request against the org's rules and the caller's powers, records the invitation
/// and writes its mail to the outbox.
pub async fn invite(
    meta: &MetaStore,
    caller: &Caller,
    org: &Org,
    request: InvitationRequest,
    links: &Links<'_>,
) -> IdentityResult<Invitation> {
    let email = normalize_email(&request.email)?;
    validate_text("name", &request.name, 200)?;
    validate_text("message", &request.message, 2000)?;
    if request.roles.is_empty() {
        return Err(IdentityError::Invalid("an invitation needs at least one role".into()));
    }
    for (role, team) in &request.roles {
        if let Some(name) = team {
            meta.require_team(org, name).await?;
            if !role.allowed_in_team() {
                return Err(IdentityError::Invalid(format!("{role} can only be held at org scope")));
            }
        }
        let target = Target::team(&org.name, team.as_deref());
        require(caller, Action::ManageUsers, &target)?;
        if !can_grant(&caller.subject, *role, &target) {
            return Err(IdentityError::Forbidden(format!(
                "you cannot grant {role}: a user admin grants only roles they hold"
            )));
        }
    }
    let roles = &request.roles;
    for (_, scope) in roles {
        if !roles.iter().any(|(r, t)| t == scope && r.confers_membership()) {
            return Err(IdentityError::Invalid(
                "a member needs REGISTRY_READ, REGISTRY_USER, REGISTRY_ADMIN, USER_ADMIN or ORG_OWNER".into(),
            ));
        }
    }
    let expires_at = expiry(request.expiry_minutes, links)?;
    let new = NewInvitation {
        org_id: org.id,
        email: email.clone(),
        name: request.name.trim().to_string(),
        message: request.message.clone(),
        roles: request.roles,
        invited_by: caller.user.as_ref().map(|u| u.id),
        expires_at,
    };
    let (invitation, _token) = meta
        .create_invitation(&new, |token| {
            mail::invitation(org, links.base, token, expires_at, &request.message)
        })
        .await?;
    tracing::info!(to = %email, org = %org.name, "invitation mail written to the outbox");
    Ok(invitation)
}

fn expiry(minutes: Option<i64>, links: &Links<'_>) -> IdentityResult<i64> {
    let minutes = minutes.unwrap_or(links.default_minutes);
    if !(1..=MAX_EXPIRY_MINUTES).contains(&minutes) {
        return Err(IdentityError::Invalid(format!(
            "invitationExpirationIn must be 1 to {MAX_EXPIRY_MINUTES} minutes"
        )));
    }
    Ok(now() + minutes * 60)
}

/// Sends an open invitation again with a new link (the old one stops working) and a fresh
/// expiry; for those who manage the org's users.
pub async fn resend(
    meta: &MetaStore,
    caller: &Caller,
    org: &Org,
    id: i64,
    links: &Links<'_>,
) -> IdentityResult<Invitation> {
    require(caller, Action::ManageUsers, &Target::org(&org.name))?;
    let expires_at = expiry(None, links)?;
    let invitation = meta
        .renew_invitation(org.id, id, expires_at, |invitation, token| {
            mail::invitation(org, links.base, token, expires_at, &invitation.message)
        })
        .await
        .map_err(|e| match e {
            hangar_store::Error::NotFound(_) => IdentityError::NotFound(format!("no open invitation {id}")),
            other => other.into(),
        })?;
    tracing::info!(to = %invitation.email, org = %org.name, "invitation mail written to the outbox again");
    Ok(invitation)
}

/// Withdraws every open invitation of `email` to the org.
pub async fn withdraw(meta: &MetaStore, caller: &Caller, org: &Org, email: &str) -> IdentityResult<()> {
    require(caller, Action::ManageUsers, &Target::org(&org.name))?;
    let email = normalize_email(email)?;
    if meta.delete_invitations(org.id, &email).await? == 0 {
        return Err(IdentityError::NotFound(format!("no open invitation for {email}")));
    }
    Ok(())
}
