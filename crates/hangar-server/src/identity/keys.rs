//! Issuing API keys, with the rules of the guides: services bounded by the owner's roles,
//! expiry between an hour and twelve months (or never), scopes on an entity filter.

use super::error::{IdentityError, IdentityResult};
use crate::auth::Caller;
use hangar_core::keys::{EntityFilter, Expiry, KeyKind, MAX_EXPIRY_SECONDS, Scope, Service};
use hangar_core::names::validate_text;
use hangar_core::policy::services_for;
use hangar_core::policy::{Action, Credential, Target};
use hangar_store::meta::{ApiKey, MetaStore, NewKey, Org, User, now};
use serde::Deserialize;

/// Key names are shown in listings; keep them short.
const MAX_KEY_NAME: usize = 100;
/// What a new key gets when no expiry is asked for: the guide's default.
pub const DEFAULT_EXPIRY: &str = "12M";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonalKeyRequest {
    pub name: String,
    /// `1h` … `12M`, `never`, or an RFC 3339 date; default 12 months.
    pub expiry: Option<String>,
    /// Default: every service the owner's roles allow.
    pub services: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceKeyRequest {
    pub name: String,
    pub expiry: Option<String>,
    pub scopes: Vec<String>,
    /// `ALL`, `ALL_CONTAINERS`, `ALL_MODELS`, `ALL_HELM_CHARTS`, `ALL_RESOURCES`, or
    /// `SPECIFIC_CONTAINER|MODEL|HELM_CHART|RESOURCE` with `entityValue`.
    pub entity_type: Option<String>,
    pub entity_value: Option<String>,
}

pub fn validate_key_name(name: &str) -> IdentityResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(IdentityError::Invalid("a key needs a name".into()));
    }
    validate_text("key name", name, MAX_KEY_NAME)?;
    Ok(name.to_string())
}

/// The expiry as a Unix time (`None`: never).
pub fn resolve_expiry(expiry: Option<&str>) -> IdentityResult<Option<i64>> {
    let now = now();
    match expiry.unwrap_or(DEFAULT_EXPIRY).parse::<Expiry>()? {
        Expiry::Never => Ok(None),
        Expiry::Seconds(s) => Ok(Some(now + s as i64)),
        Expiry::At(text) => {
            let at = chrono::DateTime::parse_from_rfc3339(&text)
                .map_err(|e| IdentityError::Invalid(format!("invalid expiry date '{text}': {e}")))?
                .timestamp();
            if at <= now {
                return Err(IdentityError::Invalid("the expiry date must be in the future".into()));
            }
            if at - now > MAX_EXPIRY_SECONDS as i64 {
                return Err(IdentityError::Invalid(
                    "the expiry date must be at most 12 months ahead".into(),
                ));
            }
            Ok(Some(at))
        }
    }
}

/// Checks requested services against what the owner's roles in `org` allow.
pub fn personal_services(
    meta_grants: &[hangar_core::policy::Grant],
    org: &str,
    requested: Option<&[String]>,
) -> IdentityResult<String> {
    let allowed = services_for(meta_grants, org);
    if allowed.is_empty() {
        return Err(IdentityError::Invalid(format!(
            "the key's owner is not a member of org '{org}'"
        )));
    }
    let chosen: Vec<Service> = match requested {
        None => allowed.clone(),
        Some(names) => names.iter().map(|n| n.parse()).collect::<Result<_, _>>()?,
    };
    if chosen.is_empty() {
        return Err(IdentityError::Invalid(
            "a personal key needs at least one service".into(),
        ));
    }
    if let Some(missing) = chosen.iter().find(|s| !allowed.contains(s)) {
        return Err(IdentityError::Invalid(format!(
            "service {} is not available: the owner's roles in '{org}' do not include it",
            missing.name()
        )));
    }
    Ok(join(chosen.iter().map(|s| s.name())))
}

pub fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(",")
}

pub async fn issue_personal_key(
    meta: &MetaStore,
    owner: &User,
    org: &Org,
    req: &PersonalKeyRequest,
    created_by: Option<i64>,
) -> IdentityResult<(ApiKey, String)> {
    let name = validate_key_name(&req.name)?;
    let grants = meta.grants_of_user(owner.id).await?;
    let services = personal_services(&grants, &org.name, req.services.as_deref())?;
    let new = NewKey {
        kind: KeyKind::Personal,
        name,
        org_id: Some(org.id),
        user_id: Some(owner.id),
        services,
        scopes: String::new(),
        entity_type: String::new(),
        entity_value: String::new(),
        expires_at: resolve_expiry(req.expiry.as_deref())?,
        created_by,
    };
    Ok(meta.create_key(&new).await?)
}

/// Validated scopes and entity filter of a service key, as stored.
pub fn service_scopes(
    scopes: &[String],
    entity_type: Option<&str>,
    entity_value: Option<&str>,
) -> IdentityResult<(String, String, String)> {
    let scopes: Vec<Scope> = scopes.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    if scopes.is_empty() {
        return Err(IdentityError::Invalid("a service key needs at least one scope".into()));
    }
    let filter = EntityFilter::parse(entity_type.unwrap_or("ALL"), entity_value)?;
    let (entity_type, entity_value) = filter.to_parts();
    Ok((
        join(scopes.iter().map(|s| s.name())),
        entity_type,
        entity_value.unwrap_or_default(),
    ))
}

pub async fn issue_service_key(
    meta: &MetaStore,
    org: &Org,
    req: &ServiceKeyRequest,
    created_by: Option<i64>,
) -> IdentityResult<(ApiKey, String)> {
    let name = validate_key_name(&req.name)?;
    let (scopes, entity_type, entity_value) =
        service_scopes(&req.scopes, req.entity_type.as_deref(), req.entity_value.as_deref())?;
    let new = NewKey {
        kind: KeyKind::Service,
        name,
        org_id: Some(org.id),
        user_id: None,
        services: String::new(),
        scopes,
        entity_type,
        entity_value,
        expires_at: resolve_expiry(req.expiry.as_deref())?,
        created_by,
    };
    Ok(meta.create_key(&new).await?)
}

/// A new legacy key for the user; the previous one stops working at once.
pub async fn issue_legacy_key(
    meta: &MetaStore,
    user: &User,
    created_by: Option<i64>,
) -> IdentityResult<(ApiKey, String)> {
    let new = NewKey {
        kind: KeyKind::Legacy,
        name: "legacy".into(),
        org_id: None,
        user_id: Some(user.id),
        services: String::new(),
        scopes: String::new(),
        entity_type: String::new(),
        entity_value: String::new(),
        expires_at: None,
        created_by,
    };
    Ok(meta.create_key(&new).await?)
}

/// The key `id` of `org`, if `caller` may manage it: a personal key's owner or an admin of the
/// org's member keys; a service key's managers.
pub async fn manageable_key(meta: &MetaStore, caller: &Caller, org: &Org, id: i64) -> IdentityResult<ApiKey> {
    let key = meta
        .key(id)
        .await?
        .filter(|k| k.org_id == Some(org.id))
        .ok_or_else(|| IdentityError::NotFound(format!("key {id} not found in org '{}'", org.name)))?;
    let target = Target::org(&org.name);
    let allowed = match key.kind {
        KeyKind::Service => caller.allowed(Action::ManageServiceKeys, &target),
        _ => {
            let is_owner = caller.user.as_ref().is_some_and(|u| Some(u.id) == key.user_id);
            is_owner || caller.allowed(Action::ManageMemberKeys, &target)
        }
    };
    if !allowed {
        return Err(IdentityError::Forbidden(
            "you do not have permission for this action".into(),
        ));
    }
    Ok(key)
}

/// A personal key may only mint keys that can do no more than itself: `services` (a list as
/// stored) must all be among the calling key's own.
pub fn check_no_escalation(caller: &Caller, services: &str) -> IdentityResult<()> {
    if let Credential::Personal { services: own, .. } = &caller.subject.credential {
        for name in services.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let wanted: Service = name.parse()?;
            if !own.contains(&wanted) {
                return Err(IdentityError::Forbidden(format!(
                    "this key lacks {} and cannot create a key that has it",
                    wanted.name()
                )));
            }
        }
    }
    Ok(())
}

/// A personal key reaches one org; a legacy key reaches every org of its owner. So a personal
/// key may manage the legacy key only while its owner belongs to no other org; a service key
/// acts as nobody.
pub async fn require_legacy_power(meta: &MetaStore, caller: &Caller) -> IdentityResult<()> {
    match &caller.subject.credential {
        Credential::Full => Ok(()),
        Credential::Personal { org, services } => {
            let me = caller
                .user
                .as_ref()
                .ok_or_else(|| IdentityError::Forbidden("this key acts as no user".into()))?;
            let other_orgs = meta.grants_of_user(me.id).await?.iter().any(|g| &g.org != org);
            if services.contains(&Service::PrivateRegistry) && !other_orgs {
                Ok(())
            } else {
                Err(IdentityError::Forbidden(
                    "a personal key cannot manage a legacy key that would reach beyond its org; use the legacy key itself or `hangar admin`".into(),
                ))
            }
        }
        Credential::Service { .. } => Err(IdentityError::Forbidden("a service key does not act as a user".into())),
    }
}
