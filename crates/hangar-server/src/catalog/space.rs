//! Where an entity lives: an org, or a team in it, named by a request path.

use super::error::DomainResult;
use super::reveal::Guarded;
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::access::{AccessLevel, Standing};
use hangar_core::policy::{Action, ArtifactKind, ArtifactOp, Target};
use hangar_store::meta::{Org, Team};
use serde::Deserialize;

/// `{org}[/team/{team}]` of a request path.
#[derive(Debug, Deserialize)]
pub struct SpacePath {
    pub org: String,
    pub team: Option<String>,
}

/// An org, or a team in it: where repositories, models, resources and charts live.
pub struct Space {
    pub org: Org,
    pub team: Option<Team>,
}

impl Space {
    pub async fn find(state: &AppState, org: &str, team: Option<&str>) -> DomainResult<Space> {
        let org = state.meta.require_org(org).await?;
        let team = match team {
            Some(name) => Some(state.meta.require_team(&org, name).await?),
            None => None,
        };
        Ok(Space { org, team })
    }

    pub fn team_name(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.name.as_str())
    }

    /// `org[/team]`.
    pub fn namespace(&self) -> String {
        match self.team_name() {
            Some(team) => format!("{}/{team}", self.org.name),
            None => self.org.name.clone(),
        }
    }

    pub fn full_name(&self, repo: &str) -> String {
        format!("{}/{repo}", self.namespace())
    }

    pub fn allows(&self, caller: &Caller, kind: ArtifactKind, op: ArtifactOp, full_name: Option<&str>) -> bool {
        let target = Target {
            org: &self.org.name,
            team: self.team_name(),
            entity: full_name,
        };
        caller.allowed(Action::Artifact(kind, op), &target)
    }

    /// What the verdict is about for an entity of `kind` about to be made here as `full_name`.
    pub fn unborn<'a>(&'a self, kind: ArtifactKind, full_name: &'a str) -> Guarded<'a> {
        Guarded {
            kind,
            target: Target {
                org: &self.org.name,
                team: self.team_name(),
                entity: Some(full_name),
            },
            access: AccessLevel::Private,
            standing: Standing::default(),
        }
    }
}
