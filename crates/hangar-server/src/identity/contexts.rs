//! The orgs and teams a user may choose to work in ("set your organization", the switcher).

use hangar_core::policy::Grant;
use hangar_store::Result;
use hangar_store::meta::MetaStore;

/// An org, or a team in it, to work in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkContext {
    pub org: String,
    pub team: Option<String>,
}

impl WorkContext {
    /// `org` or `org/team`, as forms send it.
    pub fn value(&self) -> String {
        match &self.team {
            Some(team) => format!("{}/{team}", self.org),
            None => self.org.clone(),
        }
    }

    pub fn label(&self) -> String {
        match &self.team {
            Some(team) => format!("{} / {team}", self.org),
            None => self.org.clone(),
        }
    }
}

/// Every org the user is a member of and, in each, the teams they may work in: all teams of
/// an org where they hold an org-level role, otherwise the teams they hold roles in.
pub async fn contexts_of(meta: &MetaStore, user_id: i64) -> Result<Vec<WorkContext>> {
    let grants = meta.grants_of_user(user_id).await?;
    contexts_with(meta, user_id, &grants).await
}

/// [`contexts_of`] for a caller whose roles (`grants`) are read already.
pub async fn contexts_with(meta: &MetaStore, user_id: i64, grants: &[Grant]) -> Result<Vec<WorkContext>> {
    let mut contexts = Vec::new();
    for org in meta.orgs_of_user(user_id).await? {
        contexts.push(WorkContext {
            org: org.name.clone(),
            team: None,
        });
        let org_wide = grants.iter().any(|g| g.org == org.name && g.team.is_none());
        for team in meta.teams(org.id).await? {
            let member = grants
                .iter()
                .any(|g| g.org == org.name && g.team.as_deref() == Some(&team.name));
            if org_wide || member {
                contexts.push(WorkContext {
                    org: org.name.clone(),
                    team: Some(team.name),
                });
            }
        }
    }
    Ok(contexts)
}
