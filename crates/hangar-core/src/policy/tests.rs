//! The role × action table, written out as the guide's capability table (columns: ORG_OWNER,
//! REGISTRY_ADMIN, REGISTRY_USER, REGISTRY_READ, USER_ADMIN, USER_READ; `x` = allowed), checked
//! for grants at org scope and at team scope.

use super::*;
use crate::keys::{EntityFilter, Scope, Service};

const COLUMNS: [Role; 6] = [
    Role::OrgOwner,
    Role::RegistryAdmin,
    Role::RegistryUser,
    Role::RegistryRead,
    Role::UserAdmin,
    Role::UserRead,
];

/// (action, allowed per column when the grant is at org scope and the target is the org).
fn table() -> Vec<(Action, &'static str)> {
    use ArtifactOp::*;
    let mut rows = vec![
        (Action::ViewOrg, "xxxxxx"),
        (Action::UpdateOrg, "x....."),
        (Action::ManageTeams, "x...x."),
        (Action::ViewUsers, "xx..xx"),
        (Action::ManageUsers, "x...x."),
        (Action::ManageServiceKeys, "x...x."),
        (Action::ManageMemberKeys, "x...x."),
        (Action::ManageSigning, "xx...."),
    ];
    for kind in ArtifactKind::ALL {
        rows.extend([
            (Action::Artifact(kind, Get), "xxxxx."),
            (Action::Artifact(kind, List), "xxxxx."),
            (Action::Artifact(kind, Download), "xxxx.."),
            (Action::Artifact(kind, Create), "xxx..."),
            (Action::Artifact(kind, Update), "xxx..."),
            (Action::Artifact(kind, Upload), "xxx..."),
            (Action::Artifact(kind, Delete), "xx...."),
        ]);
    }
    rows
}

fn user(grant: Grant) -> Subject {
    Subject {
        grants: vec![grant],
        credential: Credential::Full,
        platform_admin: false,
    }
}

fn grant(role: Role, team: Option<&str>) -> Grant {
    Grant {
        org: "acme".into(),
        team: team.map(String::from),
        role,
    }
}

#[test]
fn table_covers_every_action() {
    let listed: Vec<Action> = table().into_iter().map(|(a, _)| a).collect();
    assert_eq!(listed.len(), Action::all().len());
    assert!(Action::all().iter().all(|a| listed.contains(a)));
}

#[test]
fn org_scope_grants() {
    for (action, row) in table() {
        for (role, mark) in COLUMNS.iter().zip(row.chars()) {
            let expected = mark == 'x';
            let subject = user(grant(*role, None));
            assert_eq!(
                allowed(&subject, action, &Target::org("acme")),
                expected,
                "{role} {action:?} on org"
            );
            // An org-level grant reaches into every team, for the same actions.
            assert_eq!(
                allowed(&subject, action, &Target::team("acme", Some("t1"))),
                expected,
                "{role} {action:?} on a team via the org"
            );
            assert!(
                !allowed(&subject, action, &Target::org("other")),
                "{role} {action:?} in another org"
            );
        }
    }
}

#[test]
fn team_scope_grants() {
    for (action, row) in table() {
        for (role, mark) in COLUMNS.iter().zip(row.chars()) {
            if !role.allowed_in_team() {
                continue;
            }
            // In its own team, a team grant does what the role does, except org-wide actions.
            let expected = mark == 'x' && !action.org_level_only();
            let subject = user(grant(*role, Some("t1")));
            assert_eq!(
                allowed(&subject, action, &Target::team("acme", Some("t1"))),
                expected,
                "{role} {action:?} in team"
            );
            assert!(
                !allowed(&subject, action, &Target::team("acme", Some("t2"))),
                "{role} {action:?} in another team"
            );
            let sees_org = action == Action::ViewOrg;
            assert_eq!(
                allowed(&subject, action, &Target::org("acme")),
                sees_org,
                "{role} {action:?} at org scope"
            );
        }
    }
}

#[test]
fn personal_key_is_bounded_by_services_and_roles() {
    let catalog_only = Subject {
        grants: vec![grant(Role::RegistryAdmin, None)],
        credential: Credential::Personal {
            org: "acme".into(),
            services: vec![Service::NgcCatalog],
        },
        platform_admin: false,
    };
    let push = Action::Artifact(ArtifactKind::Container, ArtifactOp::Upload);
    let pull = Action::Artifact(ArtifactKind::Container, ArtifactOp::Download);
    assert!(allowed(&catalog_only, pull, &Target::org("acme")));
    assert!(!allowed(&catalog_only, push, &Target::org("acme")));

    let registry_read = Subject {
        grants: vec![grant(Role::RegistryRead, None)],
        credential: Credential::Personal {
            org: "acme".into(),
            services: Service::ALL.to_vec(),
        },
        platform_admin: false,
    };
    assert!(
        !allowed(&registry_read, push, &Target::org("acme")),
        "a key never exceeds its owner's roles"
    );

    let mut other_org = registry_read.clone();
    other_org.grants.push(Grant {
        org: "beta".into(),
        team: None,
        role: Role::OrgOwner,
    });
    assert!(
        !allowed(&other_org, Action::ViewOrg, &Target::org("beta")),
        "a personal key is bound to its org"
    );
}

#[test]
fn service_key_scopes_and_entities() {
    let key = Subject {
        grants: vec![],
        credential: Credential::Service {
            org: "acme".into(),
            scopes: vec![Scope::GetContainer, Scope::DownloadContainer],
            entity: EntityFilter::One(ArtifactKind::Container, "acme/web".into()),
        },
        platform_admin: false,
    };
    let web = Target {
        org: "acme",
        team: None,
        entity: Some("acme/web"),
    };
    let db = Target {
        org: "acme",
        team: None,
        entity: Some("acme/db"),
    };
    let pull = Action::Artifact(ArtifactKind::Container, ArtifactOp::Download);
    assert!(allowed(&key, pull, &web));
    assert!(!allowed(&key, pull, &db));
    assert!(!allowed(
        &key,
        Action::Artifact(ArtifactKind::Container, ArtifactOp::Upload),
        &web
    ));
    assert!(!allowed(&key, Action::ManageUsers, &Target::org("acme")));
    assert!(!allowed(&key, pull, &Target { org: "beta", ..web }));
}

#[test]
fn granting_rules() {
    let admin = Subject {
        grants: vec![grant(Role::UserAdmin, None), grant(Role::RegistryRead, None)],
        credential: Credential::Full,
        platform_admin: false,
    };
    let org = Target::org("acme");
    assert!(can_grant(&admin, Role::RegistryRead, &org));
    assert!(can_grant(&admin, Role::UserAdmin, &org));
    assert!(
        !can_grant(&admin, Role::RegistryUser, &org),
        "user admin lacks REGISTRY_USER"
    );
    assert!(!can_grant(&admin, Role::OrgOwner, &org));

    let owner = user(grant(Role::OrgOwner, None));
    assert!(Role::ALL.iter().all(|r| can_grant(&owner, *r, &org)));

    let team_admin = Subject {
        grants: vec![
            grant(Role::UserAdmin, Some("t1")),
            grant(Role::RegistryUser, Some("t1")),
        ],
        credential: Credential::Full,
        platform_admin: false,
    };
    assert!(can_grant(
        &team_admin,
        Role::RegistryUser,
        &Target::team("acme", Some("t1"))
    ));
    assert!(!can_grant(
        &team_admin,
        Role::RegistryUser,
        &Target::team("acme", Some("t2"))
    ));
    assert!(!can_grant(&team_admin, Role::RegistryUser, &org));
}

#[test]
fn services_follow_roles() {
    assert_eq!(
        services_for(&[grant(Role::UserRead, None)], "acme"),
        vec![Service::NgcCatalog]
    );
    assert_eq!(
        services_for(&[grant(Role::RegistryRead, Some("t"))], "acme"),
        Service::ALL.to_vec()
    );
    assert!(services_for(&[grant(Role::OrgOwner, None)], "beta").is_empty());
}

#[test]
fn reserved_namespaces_are_for_platform_admins() {
    let owner = Subject {
        grants: vec![Grant {
            org: "nvidia".into(),
            team: None,
            role: Role::OrgOwner,
        }],
        credential: Credential::Full,
        platform_admin: false,
    };
    let target = Target::org("nvidia");
    let push = Action::Artifact(ArtifactKind::Container, ArtifactOp::Upload);
    let delete = Action::Artifact(ArtifactKind::Model, ArtifactOp::Delete);
    let pull = Action::Artifact(ArtifactKind::Container, ArtifactOp::Download);
    assert!(!allowed(&owner, push, &target));
    assert!(!allowed(&owner, delete, &target));
    assert!(allowed(&owner, pull, &target));
    let admin = Subject {
        platform_admin: true,
        ..owner
    };
    assert!(allowed(&admin, push, &target));
}

#[test]
fn creators_may_remove_what_they_may_still_upload_to() {
    let target = Target {
        org: "acme",
        team: None,
        entity: Some("acme/det"),
    };
    let registry_user = user(grant(Role::RegistryUser, None));
    let reader = user(grant(Role::RegistryRead, None));
    let admin = user(grant(Role::RegistryAdmin, None));
    assert!(!may_remove(&registry_user, ArtifactKind::Model, &target, false));
    assert!(may_remove(&registry_user, ArtifactKind::Model, &target, true));
    assert!(!may_remove(&reader, ArtifactKind::Model, &target, true));
    assert!(may_remove(&admin, ArtifactKind::Model, &target, false));
    // Charts: only registry admins and org owners (Private Registry guide §6.4.7).
    assert!(!may_remove(&registry_user, ArtifactKind::Chart, &target, true));
    assert!(may_remove(&admin, ArtifactKind::Chart, &target, false));
}
