//! The one place that decides who may do what (Private Registry guide §2.4.1).
//!
//! A subject is a user's role grants plus the limits of the credential it presented. Every
//! surface asks [`allowed`]; nothing else compares roles.

use crate::keys::{EntityFilter, Scope, Service};
use crate::roles::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ArtifactKind {
    Container,
    Model,
    Resource,
    Chart,
    /// A curated, ordered group of entities of any kind.
    Collection,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 5] = [
        ArtifactKind::Container,
        ArtifactKind::Model,
        ArtifactKind::Resource,
        ArtifactKind::Chart,
        ArtifactKind::Collection,
    ];

    /// The word of the guide's "Specific …" entity types.
    pub fn word(self) -> &'static str {
        match self {
            ArtifactKind::Container => "CONTAINER",
            ArtifactKind::Model => "MODEL",
            ArtifactKind::Resource => "RESOURCE",
            ArtifactKind::Chart => "HELM_CHART",
            ArtifactKind::Collection => "COLLECTION",
        }
    }

    /// The word of the guide's "All …" entity types.
    pub fn plural_word(self) -> &'static str {
        match self {
            ArtifactKind::Container => "CONTAINERS",
            ArtifactKind::Model => "MODELS",
            ArtifactKind::Resource => "RESOURCES",
            ArtifactKind::Chart => "HELM_CHARTS",
            ArtifactKind::Collection => "COLLECTIONS",
        }
    }

    pub fn from_entity_word(word: &str) -> Option<Self> {
        ArtifactKind::ALL.into_iter().find(|k| {
            word == k.word() || word == k.plural_word() || (word.starts_with("CHART") && *k == ArtifactKind::Chart)
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArtifactOp {
    Get,
    List,
    Create,
    Update,
    Delete,
    Download,
    Upload,
}

impl ArtifactOp {
    pub const ALL: [ArtifactOp; 7] = [
        ArtifactOp::Get,
        ArtifactOp::List,
        ArtifactOp::Create,
        ArtifactOp::Update,
        ArtifactOp::Delete,
        ArtifactOp::Download,
        ArtifactOp::Upload,
    ];

    pub fn reads(self) -> bool {
        matches!(self, ArtifactOp::Get | ArtifactOp::List | ArtifactOp::Download)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the org or team: its details and its teams.
    ViewOrg,
    /// Change the org's display name or description.
    UpdateOrg,
    /// Create, update and delete teams.
    ManageTeams,
    /// List members and their roles, and pending invitations.
    ViewUsers,
    /// Invite users, change their roles, remove them.
    ManageUsers,
    /// Create, change and revoke the org's service keys.
    ManageServiceKeys,
    /// List and revoke other members' keys.
    ManageMemberKeys,
    /// Manage the keys the org trusts to sign its content, sign with its server-held key, and
    /// require signatures for pulls (of the org, or of a team or repository in it).
    ManageSigning,
    Artifact(ArtifactKind, ArtifactOp),
}

impl Action {
    /// Every action, for exhaustive tests and listings.
    pub fn all() -> Vec<Action> {
        let mut all = vec![
            Action::ViewOrg,
            Action::UpdateOrg,
            Action::ManageTeams,
            Action::ViewUsers,
            Action::ManageUsers,
            Action::ManageServiceKeys,
            Action::ManageMemberKeys,
            Action::ManageSigning,
        ];
        for kind in ArtifactKind::ALL {
            all.extend(ArtifactOp::ALL.map(|op| Action::Artifact(kind, op)));
        }
        all
    }

    /// Actions on the org as a whole: only org-level grants count for them.
    fn org_level_only(self) -> bool {
        matches!(
            self,
            Action::UpdateOrg | Action::ManageTeams | Action::ManageServiceKeys | Action::ManageMemberKeys
        )
    }
}

/// What an action is done to: an org, optionally one team in it, optionally one named entity
/// (`org/[team/]name`).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub org: &'a str,
    pub team: Option<&'a str>,
    pub entity: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub fn org(org: &'a str) -> Self {
        Target {
            org,
            team: None,
            entity: None,
        }
    }

    pub fn team(org: &'a str, team: Option<&'a str>) -> Self {
        Target {
            org,
            team,
            entity: None,
        }
    }
}

/// One role held by a user, at org scope (`team: None`) or in one team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub org: String,
    pub team: Option<String>,
    pub role: Role,
}

impl Grant {
    fn applies(&self, action: Action, target: &Target) -> bool {
        if self.org != target.org {
            return false;
        }
        match &self.team {
            None => true,
            // Team members see the org they belong to, though nothing else at org scope.
            Some(_) if action == Action::ViewOrg && target.team.is_none() => true,
            Some(team) => !action.org_level_only() && target.team == Some(team.as_str()),
        }
    }
}

/// The limits of the credential a request presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A legacy key: the owner's roles in every org, unreduced.
    Full,
    /// A personal key: bound to one org and reduced to its services.
    Personal { org: String, services: Vec<Service> },
    /// A service key: owned by the org; its scopes and entity filter are all it has.
    Service {
        org: String,
        scopes: Vec<Scope>,
        entity: EntityFilter,
    },
}

#[derive(Debug, Clone)]
pub struct Subject {
    pub grants: Vec<Grant>,
    pub credential: Credential,
    /// Operators of the Hangar installation: allowed everything, everywhere.
    pub platform_admin: bool,
}

/// What a role allows, wherever it applies.
pub fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::OrgOwner => true,
        Role::RegistryAdmin => matches!(action, ViewOrg | ViewUsers | ManageSigning | Artifact(..)),
        Role::RegistryUser => {
            matches!(action, ViewOrg) || matches!(action, Artifact(_, op) if op != ArtifactOp::Delete)
        }
        Role::RegistryRead => matches!(action, ViewOrg) || matches!(action, Artifact(_, op) if op.reads()),
        Role::UserAdmin => {
            matches!(
                action,
                ViewOrg | ViewUsers | ManageUsers | ManageTeams | ManageServiceKeys | ManageMemberKeys
            ) || matches!(action, Artifact(_, ArtifactOp::Get | ArtifactOp::List))
        }
        Role::UserRead => matches!(action, ViewOrg | ViewUsers),
    }
}

fn service_allows(service: Service, action: Action) -> bool {
    match service {
        Service::PrivateRegistry => true,
        Service::NgcCatalog => {
            matches!(action, Action::ViewOrg) || matches!(action, Action::Artifact(_, op) if op.reads())
        }
    }
}

fn service_key_allows(scopes: &[Scope], entity: &EntityFilter, action: Action, target: &Target) -> bool {
    match action {
        Action::ViewOrg => true,
        Action::Artifact(kind, op) => entity.matches(kind, target.entity) && scopes.iter().any(|s| s.covers(kind, op)),
        _ => false,
    }
}

/// The one permission check.
pub fn allowed(subject: &Subject, action: Action, target: &Target) -> bool {
    if subject.platform_admin {
        return true;
    }
    if let Action::Artifact(_, op) = action
        && !op.reads()
        && op != ArtifactOp::Get
        && crate::names::RESERVED_NAMESPACES.contains(&target.org)
    {
        return false;
    }
    match &subject.credential {
        Credential::Service { org, scopes, entity } => {
            return org == target.org && service_key_allows(scopes, entity, action, target);
        }
        Credential::Personal { org, services } => {
            if org != target.org || !services.iter().any(|s| service_allows(*s, action)) {
                return false;
            }
        }
        Credential::Full => {}
    }
    subject
        .grants
        .iter()
        .any(|g| g.applies(action, target) && role_allows(g.role, action))
}

/// Whether `subject` may remove a model, resource or chart (or one of its versions): registry
/// admins and org owners may, and so may the creator of a model or resource while they may
/// still upload to it (Private Registry guide §5.5); charts only admins remove (§6.4.7).
pub fn may_remove(subject: &Subject, kind: ArtifactKind, target: &Target, creator: bool) -> bool {
    let creator_may = creator && kind != ArtifactKind::Chart;
    allowed(subject, Action::Artifact(kind, ArtifactOp::Delete), target)
        || (creator_may && allowed(subject, Action::Artifact(kind, ArtifactOp::Upload), target))
}

/// Whether `subject` may give `role` at `target` (an org, or a team in it). Only owners make
/// owners; a user admin grants only roles they hold themselves where the grant lands.
pub fn can_grant(subject: &Subject, role: Role, target: &Target) -> bool {
    if !allowed(subject, Action::ManageUsers, target) {
        return false;
    }
    if subject.platform_admin {
        return true;
    }
    let holds = |r: Role| {
        subject
            .grants
            .iter()
            .any(|g| g.role == r && g.org == target.org && (g.team.is_none() || g.team.as_deref() == target.team))
    };
    holds(Role::OrgOwner) || (role != Role::OrgOwner && holds(role))
}

/// The services a member may put on a personal key in `org`, from their roles there.
pub fn services_for(grants: &[Grant], org: &str) -> Vec<Service> {
    let roles: Vec<Role> = grants.iter().filter(|g| g.org == org).map(|g| g.role).collect();
    let mut services = Vec::new();
    if !roles.is_empty() {
        services.push(Service::NgcCatalog);
    }
    if roles.iter().any(|r| *r != Role::UserRead) {
        services.push(Service::PrivateRegistry);
    }
    services
}

#[cfg(test)]
mod tests;
