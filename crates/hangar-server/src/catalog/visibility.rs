//! What a caller may see in listings, as data the store's search applies to its index: the orgs
//! whose subscriptions count for it, and the org, team or single-entity scopes where the policy
//! lets it list entities of one kind that are not offered beyond their org. It must agree with
//! [`super::reveal`] for `List` on every entity; the permission matrix checks it through search.

use crate::auth::Caller;
use hangar_core::keys::EntityFilter;
use hangar_core::policy::{Action, ArtifactKind, ArtifactOp, Credential, Target};
use hangar_store::meta::{PrivateScope, Viewer};
use std::collections::BTreeSet;

/// The caller as a viewer of entities of `kind`.
pub fn viewer(caller: &Caller, kind: ArtifactKind) -> Viewer {
    Viewer {
        everything: caller.subject.platform_admin,
        subscribing_orgs: caller.subscribing_orgs().into_iter().map(str::to_string).collect(),
        scopes: scopes(caller, kind),
    }
}

fn scopes(caller: &Caller, kind: ArtifactKind) -> Vec<PrivateScope> {
    let list = Action::Artifact(kind, ArtifactOp::List);
    if let Credential::Service {
        org,
        entity: EntityFilter::One(filter_kind, path),
        ..
    } = &caller.subject.credential
    {
        let target = crate::catalog::access::target_of(path);
        return (*filter_kind == kind && caller.allowed(list, &target))
            .then(|| PrivateScope {
                org: org.clone(),
                team: None,
                entity: Some(path.clone()),
            })
            .into_iter()
            .collect();
    }
    let mut places: BTreeSet<(String, Option<String>)> = caller
        .subject
        .grants
        .iter()
        .flat_map(|g| [(g.org.clone(), None), (g.org.clone(), g.team.clone())])
        .collect();
    if let Credential::Service { org, .. } = &caller.subject.credential {
        places.insert((org.clone(), None));
    }
    let mut scopes = vec![];
    for (org, team) in &places {
        let whole_org =
            places.contains(&(org.clone(), None)) && caller.allowed(list, &Target::team(org, None)) && team.is_some();
        if whole_org {
            continue; // covered by the org's own scope
        }
        if caller.allowed(list, &Target::team(org, team.as_deref())) {
            scopes.push(PrivateScope {
                org: org.clone(),
                team: team.clone(),
                entity: None,
            });
        }
    }
    scopes
}
