//! The first start: an org, its owner, one personal key printed once, and a one-time link
//! for the owner to set a password.

use super::error::IdentityResult;
use super::keys::{PersonalKeyRequest, issue_personal_key};
use super::mail::SETUP_LINK_SECONDS;
use hangar_core::names::{normalize_email, validate_org};
use hangar_core::roles::Role;
use hangar_store::meta::{MetaStore, Org, PasswordPurpose, RoleChange, User, now};

#[derive(Debug, Clone)]
pub struct InitialOrg {
    pub org: String,
    pub display_name: String,
    pub owner_email: String,
    pub owner_name: String,
}

impl InitialOrg {
    pub fn validate(&self) -> IdentityResult<()> {
        validate_org(&self.org)?;
        normalize_email(&self.owner_email)?;
        Ok(())
    }
}

pub struct Bootstrapped {
    pub org: Org,
    pub owner: User,
    pub secret: String,
    /// The one-time token of the owner's link to set a password (`/password/<token>`).
    pub password_token: String,
}

/// Creates the initial org, owner and key when the database has no org yet. Returns `None`
/// when there is nothing to do (including when another replica won the race).
pub async fn bootstrap(meta: &MetaStore, init: &InitialOrg) -> IdentityResult<Option<Bootstrapped>> {
    if meta.count_orgs().await? > 0 {
        return Ok(None);
    }
    init.validate()?;
    let email = normalize_email(&init.owner_email)?;
    let org = match meta.create_org(&init.org, &init.display_name, "").await {
        Ok(org) => org,
        Err(hangar_store::Error::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let owner = match meta.user_by_email(&email).await? {
        Some(user) => user,
        None => meta.create_user(&email, &init.owner_name, false).await?,
    };
    meta.change_roles(owner.id, org.id, None, RoleChange::Add(&[Role::OrgOwner]))
        .await?;
    let request = PersonalKeyRequest {
        name: "initial owner key".into(),
        expiry: Some("never".into()),
        services: None,
    };
    let (_, secret) = issue_personal_key(meta, &owner, &org, &request, None).await?;
    let (_, password_token) = meta
        .create_password_link(owner.id, PasswordPurpose::Setup, None, now() + SETUP_LINK_SECONDS, None)
        .await?;
    Ok(Some(Bootstrapped {
        org,
        owner,
        secret,
        password_token,
    }))
}
