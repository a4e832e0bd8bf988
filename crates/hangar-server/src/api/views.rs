//! The JSON shapes of NGC's identity API (ngc-api.md §3 and §9).

use hangar_core::policy::Grant;
use hangar_store::meta::{ApiKey, Invitation, Org, Team, User};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// NGC's timestamp form, e.g. `2026-11-22T07:49:43.000Z`.
pub fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub fn org(org: &Org) -> Value {
    json!({
        "id": org.id,
        "name": org.name,
        "displayName": org.display_name,
        "description": org.description,
        "type": "ENTERPRISE",
        "isInternal": false,
        "createdDate": date(org.created_at),
        "updatedDate": date(org.updated_at),
    })
}

pub fn team(team: &Team) -> Value {
    json!({
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "isDeleted": false,
        "createdDate": date(team.created_at),
        "updatedDate": date(team.updated_at),
    })
}

/// NGC's role list of a user: one entry per org and per team, each with the roles held there.
pub fn roles(grants: &[Grant], display_names: &BTreeMap<String, String>) -> Value {
    let mut scopes: BTreeMap<(String, Option<String>), Vec<String>> = BTreeMap::new();
    for g in grants {
        scopes
            .entry((g.org.clone(), g.team.clone()))
            .or_default()
            .push(g.role.name().to_string());
    }
    let entries: Vec<Value> = scopes
        .into_iter()
        .map(|((org, team), names)| {
            let org_json =
                json!({"name": org, "displayName": display_names.get(&org).cloned().unwrap_or_else(|| org.clone())});
            match team {
                None => json!({"org": org_json, "orgRoles": names, "teamRoles": []}),
                Some(team) => json!({"org": org_json, "team": {"name": team}, "orgRoles": [], "teamRoles": names}),
            }
        })
        .collect();
    Value::Array(entries)
}

pub fn user(user: &User, grants: &[Grant], display_names: &BTreeMap<String, String>) -> Value {
    json!({
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "starfleetId": user.starfleet_id,
        "idpType": "HANGAR",
        "isPlatformAdmin": user.platform_admin,
        "createdDate": date(user.created_at),
        "updatedDate": date(user.updated_at),
        "roles": roles(grants, display_names),
    })
}

pub fn invitation(inv: &Invitation, org_name: &str) -> Value {
    let team = inv.roles.iter().find_map(|(_, t)| t.clone());
    let roles: Vec<Value> = inv
        .roles
        .iter()
        .map(|(role, team)| json!({"name": role.name(), "resourceGroups": team.iter().collect::<Vec<_>>()}))
        .collect();
    json!({
        "id": inv.id,
        "userEmail": inv.email,
        "userName": inv.name,
        "userRoles": inv.roles.iter().map(|(r, _)| r.name()).collect::<Vec<_>>(),
        "roles": roles,
        "orgName": org_name,
        "teamName": team,
        "message": inv.message,
        "createdDate": date(inv.created_at),
        "expirationDate": date(inv.expires_at),
        "accepted": inv.accepted_at.is_some(),
    })
}

/// A key's settings, never its secret.
pub fn key(key: &ApiKey, org_name: Option<&str>, owner_email: Option<&str>) -> Value {
    let list = |v: &str| {
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    json!({
        "id": key.id,
        "type": key.kind.name(),
        "name": key.name,
        "hint": key.hint,
        "orgName": org_name,
        "userId": key.user_id,
        "userEmail": owner_email,
        "services": list(&key.services),
        "scopes": list(&key.scopes),
        "entityType": (!key.entity_type.is_empty()).then_some(&key.entity_type),
        "entityValue": (!key.entity_value.is_empty()).then_some(&key.entity_value),
        "active": key.active,
        "expirationDate": key.expires_at.map(date),
        "createdDate": date(key.created_at),
        "updatedDate": date(key.updated_at),
    })
}

/// Adds NGC's success `requestStatus` to a response object.
pub fn success(mut body: Value) -> Value {
    if let Value::Object(map) = &mut body {
        map.insert(
            "requestStatus".into(),
            json!({"statusCode": "SUCCESS", "requestId": uuid::Uuid::new_v4().to_string()}),
        );
    }
    body
}

/// How an entity is offered, in NGC's fields (`accessType`, `productNames`, `isPublic`,
/// `canGuestDownload`, `canGuestPull`) plus Hangar's own level (`accessLevel`).
pub fn offer(access: hangar_core::access::AccessLevel, products: &[String]) -> serde_json::Map<String, Value> {
    let fields = json!({
        "accessLevel": access.word(),
        "accessType": access.ngc_access_type(),
        "productNames": products,
        "isPublic": access.listed(),
        "canGuestDownload": access.guest_download(),
        "canGuestPull": access.guest_download(),
        "requiresApproval": access == hangar_core::access::AccessLevel::Approval,
    });
    fields.as_object().cloned().unwrap_or_default()
}
