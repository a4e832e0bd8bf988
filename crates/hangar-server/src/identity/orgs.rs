//! Changing an org's profile and its teams: shared by the REST API and the organization pages.

use super::error::IdentityResult;
use super::members::require;
use crate::auth::Caller;
use hangar_core::names::{validate_team, validate_text};
use hangar_core::policy::{Action, Target};
use hangar_store::meta::{MetaStore, Org, Team};

pub const MAX_DISPLAY_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 4000;

/// Sets the org's display name and description (each only when given).
pub async fn update_org(
    meta: &MetaStore,
    caller: &Caller,
    org: &Org,
    display_name: Option<&str>,
    description: Option<&str>,
) -> IdentityResult<Org> {
    require(caller, Action::UpdateOrg, &Target::org(&org.name))?;
    if let Some(d) = display_name {
        validate_text("display name", d, MAX_DISPLAY_NAME)?;
        if d.trim().is_empty() {
            return Err(super::error::IdentityError::Invalid(
                "the display name must not be empty".into(),
            ));
        }
    }
    if let Some(d) = description {
        validate_text("description", d, MAX_DESCRIPTION)?;
    }
    meta.update_org(org.id, display_name, description).await?;
    Ok(meta.require_org(&org.name).await?)
}

pub async fn create_team(
    meta: &MetaStore,
    caller: &Caller,
    org: &Org,
    name: &str,
    description: &str,
) -> IdentityResult<Team> {
    require(caller, Action::ManageTeams, &Target::org(&org.name))?;
    validate_team(name)?;
    validate_text("description", description, MAX_DESCRIPTION)?;
    Ok(meta.create_team(org.id, name, description).await?)
}

pub async fn update_team(
    meta: &MetaStore,
    caller: &Caller,
    org: &Org,
    team: &Team,
    description: &str,
) -> IdentityResult<Team> {
    require(caller, Action::ManageTeams, &Target::org(&org.name))?;
    validate_text("description", description, MAX_DESCRIPTION)?;
    meta.update_team(team.id, description).await?;
    Ok(meta.require_team(org, &team.name).await?)
}

/// Deletes the team; its members keep their org roles.
pub async fn delete_team(meta: &MetaStore, caller: &Caller, org: &Org, team: &Team) -> IdentityResult<()> {
    require(caller, Action::ManageTeams, &Target::org(&org.name))?;
    Ok(meta.delete_team(team.id).await?)
}
