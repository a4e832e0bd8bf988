//! The one verdict on whether a caller may do something to an entity or repository, and what a
//! refusal may tell: a guest is asked to authenticate, a caller who may not even see the thing
//! is told it is not there, a caller who sees it but may not do this is refused. What an
//! entity's access level grants beyond its org's roles (Catalog guide §4) counts here, and
//! nowhere else.

use super::error::DomainError;
use crate::auth::Caller;
use hangar_core::access::{AccessLevel, Standing};
use hangar_core::policy::{self, Action, ArtifactKind, ArtifactOp, Subject, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// A guest, refused: 401.
    Unauthenticated,
    /// A known caller who may not see it at all: as if it did not exist.
    Hidden,
    /// A known caller who sees it but may not do this: 403.
    Forbidden,
}

/// What one entity or repository is, for the verdict, and what the caller holds towards it
/// beyond roles (see [`super::standing`]).
#[derive(Debug, Clone, Copy)]
pub struct Guarded<'a> {
    pub kind: ArtifactKind,
    pub target: Target<'a>,
    pub access: AccessLevel,
    pub standing: Standing,
}

/// The verdict on the caller doing `op` to `thing`.
pub fn reveal(caller: &Caller, thing: &Guarded, op: ArtifactOp) -> Verdict {
    verdict(&caller.subject, caller.is_guest(), thing, op)
}

/// [`reveal`] for a policy subject; `guest` when no credential came.
pub fn verdict(subject: &Subject, guest: bool, thing: &Guarded, op: ArtifactOp) -> Verdict {
    let offered = |op: ArtifactOp| match op {
        ArtifactOp::Get | ArtifactOp::List => thing.access.may_view(thing.standing),
        ArtifactOp::Download => thing.access.may_download(thing.standing),
        _ => false,
    };
    let may = |op: ArtifactOp| policy::allowed(subject, Action::Artifact(thing.kind, op), &thing.target) || offered(op);
    if may(op) {
        Verdict::Allowed
    } else if guest {
        Verdict::Unauthenticated
    } else if !ArtifactOp::ALL.into_iter().filter(|o| o.reads()).any(may) {
        Verdict::Hidden
    } else {
        Verdict::Forbidden
    }
}

/// Whether the caller may do `op` to `thing` (the verdict is [`Verdict::Allowed`]).
pub fn may(caller: &Caller, thing: &Guarded, op: ArtifactOp) -> bool {
    reveal(caller, thing, op) == Verdict::Allowed
}

impl Verdict {
    /// `Ok` when allowed; otherwise the refusal, with `missing` as the not-found message and
    /// `refused` as the forbidden one.
    pub fn or_refuse(
        self,
        missing: impl FnOnce() -> String,
        refused: impl FnOnce() -> String,
    ) -> Result<(), DomainError> {
        match self {
            Verdict::Allowed => Ok(()),
            Verdict::Unauthenticated => Err(DomainError::Unauthenticated),
            Verdict::Hidden => Err(DomainError::NotFound(missing())),
            Verdict::Forbidden => Err(DomainError::Forbidden(refused())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hangar_core::keys::{EntityFilter, Scope, Service};
    use hangar_core::policy::{Credential, Grant};
    use hangar_core::roles::Role;

    /// A subject: its grants (org, team, role), its credential, and whether it is a guest.
    struct Who {
        name: &'static str,
        subject: Subject,
        guest: bool,
    }

    fn grant(org: &str, team: Option<&str>, role: Role) -> Grant {
        Grant {
            org: org.into(),
            team: team.map(Into::into),
            role,
        }
    }

    fn who(name: &'static str, grants: Vec<Grant>, credential: Credential) -> Who {
        Who {
            name,
            subject: Subject {
                grants,
                credential,
                platform_admin: false,
            },
            guest: false,
        }
    }

    fn service(scopes: &[Scope], entity: EntityFilter) -> Credential {
        Credential::Service {
            org: "acme".into(),
            scopes: scopes.to_vec(),
            entity,
        }
    }

    /// Where the entity is: acme at org level, in team t1, in team t2; and in org beta.
    const PLACES: [(&str, Option<&str>, &str); 4] = [
        ("acme", None, "acme/m"),
        ("acme", Some("t1"), "acme/t1/m"),
        ("acme", Some("t2"), "acme/t2/m"),
        ("beta", None, "beta/m"),
    ];

    /// The verdict on a guest-access entity, from the one on a private one: everyone reads it; a known
    /// caller sees it, so what it may not do is forbidden, not hidden.
    fn publicly(private: &str) -> String {
        private
            .chars()
            .zip(ArtifactOp::ALL)
            .map(|(c, op)| match c {
                _ if op.reads() => 'A',
                'H' => 'F',
                other => other,
            })
            .collect()
    }

    fn letter(v: Verdict) -> char {
        match v {
            Verdict::Allowed => 'A',
            Verdict::Unauthenticated => 'U',
            Verdict::Hidden => 'H',
            Verdict::Forbidden => 'F',
        }
    }

    /// Per subject and kind, the verdict on a private entity at each of [`PLACES`], one letter
    /// per op of `ArtifactOp::ALL` (get, list, create, update, delete, download, upload):
    /// A allowed, U unauthenticated, H hidden, F forbidden.
    fn table() -> Vec<(Who, ArtifactKind, [&'static str; 4])> {
        let none = "HHHHHHH";
        let mut rows = vec![(
            Who {
                name: "guest",
                subject: Subject {
                    grants: vec![],
                    credential: Credential::Full,
                    platform_admin: false,
                },
                guest: true,
            },
            ArtifactKind::Model,
            ["UUUUUUU"; 4],
        )];
        let roles = [
            (Role::OrgOwner, "AAAAAAA"),
            (Role::RegistryAdmin, "AAAAAAA"),
            (Role::RegistryUser, "AAAAFAA"),
            (Role::RegistryRead, "AAFFFAF"),
            (Role::UserAdmin, "AAFFFFF"),
            (Role::UserRead, none),
        ];
        for kind in ArtifactKind::ALL {
            for (role, may) in roles {
                let org = who("org role", vec![grant("acme", None, role)], Credential::Full);
                rows.push((org, kind, [may, may, may, none]));
                let team = who("team role", vec![grant("acme", Some("t1"), role)], Credential::Full);
                rows.push((team, kind, [none, may, none, none]));
            }
        }
        let member = || vec![grant("acme", None, Role::RegistryUser)];
        let personal = |services: &[Service]| Credential::Personal {
            org: "acme".into(),
            services: services.to_vec(),
        };
        rows.extend([
            (
                who("former member", vec![], Credential::Full),
                ArtifactKind::Model,
                [none; 4],
            ),
            (
                who(
                    "member of beta",
                    vec![grant("beta", None, Role::OrgOwner)],
                    Credential::Full,
                ),
                ArtifactKind::Model,
                [none, none, none, "AAAAAAA"],
            ),
            (
                who("personal key, catalog", member(), personal(&[Service::NgcCatalog])),
                ArtifactKind::Model,
                ["AAFFFAF", "AAFFFAF", "AAFFFAF", none],
            ),
            (
                who(
                    "personal key, both services",
                    member(),
                    personal(&[Service::NgcCatalog, Service::PrivateRegistry]),
                ),
                ArtifactKind::Chart,
                ["AAAAFAA", "AAAAFAA", "AAAAFAA", none],
            ),
            (
                who(
                    "personal key for acme, owner of beta too",
                    vec![
                        grant("acme", None, Role::RegistryRead),
                        grant("beta", None, Role::OrgOwner),
                    ],
                    personal(&[Service::NgcCatalog, Service::PrivateRegistry]),
                ),
                ArtifactKind::Resource,
                ["AAFFFAF", "AAFFFAF", "AAFFFAF", none],
            ),
            (
                who(
                    "service key, get and list",
                    vec![],
                    service(&[Scope::GetArtifact, Scope::ListArtifacts], EntityFilter::All),
                ),
                ArtifactKind::Model,
                ["AAFFFAF", "AAFFFAF", "AAFFFAF", none],
            ),
            (
                who(
                    "service key, delete only",
                    vec![],
                    service(&[Scope::DeleteArtifact], EntityFilter::All),
                ),
                ArtifactKind::Model,
                ["HHHHAHH", "HHHHAHH", "HHHHAHH", none],
            ),
            (
                who(
                    "service key, all scopes, another model",
                    vec![],
                    service(
                        &[Scope::AllScopes],
                        EntityFilter::One(ArtifactKind::Model, "acme/other".into()),
                    ),
                ),
                ArtifactKind::Model,
                [none, none, none, none],
            ),
            (
                who(
                    "service key, all scopes",
                    vec![],
                    service(&[Scope::AllScopes], EntityFilter::All),
                ),
                ArtifactKind::Container,
                ["AAAAAAA", "AAAAAAA", "AAAAAAA", none],
            ),
            (
                who(
                    "service key, container pull",
                    vec![],
                    service(&[Scope::DownloadContainer], EntityFilter::All),
                ),
                ArtifactKind::Container,
                ["FFFFFAF", "FFFFFAF", "FFFFFAF", none],
            ),
        ]);
        let mut admin = who("platform admin", vec![], Credential::Full);
        admin.subject.platform_admin = true;
        rows.push((admin, ArtifactKind::Container, ["AAAAAAA"; 4]));
        rows
    }

    #[test]
    fn verdicts() {
        let mut checked = 0;
        for (who, kind, private) in table() {
            for ((org, team, entity), expected) in PLACES.into_iter().zip(private) {
                for is_public in [false, true] {
                    let thing = Guarded {
                        kind,
                        target: Target {
                            org,
                            team,
                            entity: Some(entity),
                        },
                        access: if is_public {
                            AccessLevel::Guest
                        } else {
                            AccessLevel::Private
                        },
                        standing: Standing {
                            signed_in: !who.guest,
                            ..Standing::default()
                        },
                    };
                    let found: String = ArtifactOp::ALL
                        .into_iter()
                        .map(|op| letter(verdict(&who.subject, who.guest, &thing, op)))
                        .collect();
                    let expected = if is_public {
                        publicly(expected)
                    } else {
                        expected.to_string()
                    };
                    assert_eq!(
                        found,
                        expected,
                        "{} on a {} {kind:?} at {entity}",
                        who.name,
                        if is_public { "public" } else { "private" }
                    );
                    checked += 7;
                }
            }
        }
        assert!(checked > 1000, "{checked} verdicts");
    }

    /// Per access level, the verdict for a caller outside the owning org, one letter per op of
    /// `ArtifactOp::ALL` as in [`table`]: a guest, a registered user of another org, a subscriber
    /// to one of the entity's products, a user the publisher approved. The owning org's roles
    /// still hold at every level (a registry user of acme downloads its exclusive models).
    #[test]
    fn access_levels() {
        let outsider = |standing: Standing, guest: bool| (standing, guest);
        let registered = Standing {
            signed_in: true,
            ..Standing::default()
        };
        let callers = [
            outsider(Standing::default(), true),
            outsider(registered, false),
            outsider(
                Standing {
                    subscribed: true,
                    ..registered
                },
                false,
            ),
            outsider(
                Standing {
                    approved: true,
                    ..registered
                },
                false,
            ),
        ];
        let rows: [(AccessLevel, [&str; 4]); 6] = [
            (AccessLevel::Private, ["UUUUUUU", "HHHHHHH", "HHHHHHH", "HHHHHHH"]),
            (AccessLevel::Guest, ["AAUUUAU", "AAFFFAF", "AAFFFAF", "AAFFFAF"]),
            (AccessLevel::Authenticated, ["AAUUUUU", "AAFFFAF", "AAFFFAF", "AAFFFAF"]),
            (AccessLevel::Entitled, ["AAUUUUU", "AAFFFFF", "AAFFFAF", "AAFFFFF"]),
            (AccessLevel::Exclusive, ["UUUUUUU", "HHHHHHH", "AAFFFAF", "HHHHHHH"]),
            (AccessLevel::Approval, ["AAUUUUU", "AAFFFFF", "AAFFFFF", "AAFFFAF"]),
        ];
        let beta = Subject {
            grants: vec![grant("beta", None, Role::OrgOwner)],
            credential: Credential::Full,
            platform_admin: false,
        };
        let acme_user = Subject {
            grants: vec![grant("acme", None, Role::RegistryUser)],
            ..beta.clone()
        };
        for kind in ArtifactKind::ALL {
            for (access, expected) in rows {
                for ((standing, guest), expected) in callers.into_iter().zip(expected) {
                    let thing = Guarded {
                        kind,
                        target: Target {
                            org: "acme",
                            team: None,
                            entity: Some("acme/m"),
                        },
                        access,
                        standing,
                    };
                    let subject = if guest {
                        &Subject {
                            grants: vec![],
                            ..beta.clone()
                        }
                    } else {
                        &beta
                    };
                    let found: String = ArtifactOp::ALL
                        .into_iter()
                        .map(|op| letter(verdict(subject, guest, &thing, op)))
                        .collect();
                    assert_eq!(found, expected, "{kind:?} at {access} for {standing:?}");
                    let member: String = ArtifactOp::ALL
                        .into_iter()
                        .map(|op| letter(verdict(&acme_user, false, &thing, op)))
                        .collect();
                    assert_eq!(member, "AAAAFAA", "acme's own registry user, {access}");
                }
            }
        }
    }
}
