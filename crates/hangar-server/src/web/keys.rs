//! Setup → API keys (Private Registry guide §2.3.2, Catalog guide §5.2.2): the signed-in
//! user's keys in the org they work in — generate a personal key, deactivate and activate,
//! rotate, delete. The secret is shown once, on the page that answers the form. Every write
//! goes through the same domain calls and permission checks as the REST API's `/v3/orgs/{org}/keys`.

use super::error::{WebError, WebResult};
use super::explore::{caller_of, date};
use super::forms::{Fields, Form, see_other};
use super::render::page;
use super::signin::CsrfOnly;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::catalog::links::base_url;
use crate::identity::keys::{
    self, PersonalKeyRequest, ServiceKeyRequest, check_no_escalation, issue_legacy_key, issue_personal_key,
    issue_service_key, personal_services, require_legacy_power,
};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use hangar_core::keys::{KeyKind, MAX_PERSONAL_KEYS_PER_USER_PER_ORG, MAX_SERVICE_KEYS_PER_ORG, Scope, Service};
use hangar_core::policy::{Action, Target, services_for};
use hangar_pages::{Choice, KeyRow, KeySecret, KeysPage};
use hangar_store::meta::{ApiKey, KeyChange, Org, User};
use serde::Deserialize;

/// The expiry menu: value (as the API takes it), label. The first is the default.
const EXPIRIES: [(&str, &str); 8] = [
    ("12M", "12 months"),
    ("6M", "6 months"),
    ("3M", "3 months"),
    ("30d", "30 days"),
    ("7d", "7 days"),
    ("1d", "1 day"),
    ("1h", "1 hour"),
    ("never", "Never"),
];

/// The form field of each service, and how the page names it.
const SERVICES: [(Service, &str, &str); 2] = [
    (Service::NgcCatalog, "service_catalog", "NGC Catalog: read and download"),
    (
        Service::PrivateRegistry,
        "service_registry",
        "Private Registry: everything your roles allow (push, delete, users, keys)",
    ),
];

/// The service-key form's entity types: value (as the API takes it), label. The first is the
/// default.
const ENTITY_TYPES: [(&str, &str); 9] = [
    ("ALL", "Everything in the organization"),
    ("ALL_CONTAINERS", "All containers"),
    ("ALL_MODELS", "All models"),
    ("ALL_HELM_CHARTS", "All Helm charts"),
    ("ALL_RESOURCES", "All resources"),
    ("SPECIFIC_CONTAINER", "One container"),
    ("SPECIFIC_MODEL", "One model"),
    ("SPECIFIC_HELM_CHART", "One Helm chart"),
    ("SPECIFIC_RESOURCE", "One resource"),
];

/// Menu entries, the first selected.
fn choices<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Choice> {
    entries
        .enumerate()
        .map(|(i, (value, label))| Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: i == 0,
        })
        .collect()
}

/// The org the visitor works in (the one chosen, else the first they belong to), with the
/// caller they act as.
async fn working_org(state: &AppState, visitor: &Visitor) -> WebResult<(Option<Org>, Caller)> {
    let signed = visitor.signed_in()?;
    let caller = caller_of(state, visitor).await?;
    let name = signed
        .session
        .context_org
        .clone()
        .or_else(|| caller.subject.grants.iter().map(|g| g.org.clone()).min());
    let org = match name {
        Some(name) => state.meta.org(&name).await?,
        None => None,
    };
    Ok((org, caller))
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    done: String,
}

/// `GET /setup/keys`.
pub async fn show(State(state): State<AppState>, visitor: Visitor, Query(q): Query<Notice>) -> WebResult<Response> {
    let notice = match q.done.as_str() {
        "deactivated" => Some("The key is deactivated: it is refused until you activate it again.".into()),
        "activated" => Some("The key is active again.".into()),
        "deleted" => Some("The key is deleted.".into()),
        _ => None,
    };
    keys_page(&state, &visitor, notice, None).await
}

async fn keys_page(
    state: &AppState,
    visitor: &Visitor,
    notice: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let (org, caller) = working_org(state, visitor).await?;
    let mut template = KeysPage {
        chrome: visitor.chrome(state).await?,
        org: String::new(),
        keys: vec![],
        services: vec![],
        expiries: choices(EXPIRIES.into_iter()),
        personal_count: 0,
        personal_limit: MAX_PERSONAL_KEYS_PER_USER_PER_ORG,
        manages_service_keys: false,
        scopes: choices(Scope::ALL.iter().map(|s| (s.name(), s.name()))),
        entity_types: choices(ENTITY_TYPES.into_iter()),
        service_count: 0,
        service_limit: MAX_SERVICE_KEYS_PER_ORG,
        legacy: None,
        notice,
        error,
    };
    if let Some(me) = caller.user.as_ref()
        && let Some(key) = state.meta.legacy_key_of(me.id).await?
    {
        template.legacy = Some(row(state, &key, me.id).await?);
    }
    if let (Some(org), Some(me)) = (org, caller.user.as_ref()) {
        let target = Target::org(&org.name);
        let admin = caller.allowed(Action::ManageMemberKeys, &target);
        template.manages_service_keys = caller.allowed(Action::ManageServiceKeys, &target);
        let keys = state.meta.keys_of_org(org.id, (!admin).then_some(me.id)).await?;
        template.personal_count = keys
            .iter()
            .filter(|k| k.kind == KeyKind::Personal && k.user_id == Some(me.id))
            .count();
        template.service_count = keys.iter().filter(|k| k.kind == KeyKind::Service).count();
        let shown = |k: &&ApiKey| match k.kind {
            KeyKind::Personal => true,
            KeyKind::Service => template.manages_service_keys,
            KeyKind::Legacy => false,
        };
        for key in keys.iter().filter(shown) {
            template.keys.push(row(state, key, me.id).await?);
        }
        let allowed = services_for(&caller.subject.grants, &org.name);
        template.services = SERVICES
            .iter()
            .filter(|(service, _, _)| allowed.contains(service))
            .map(|(_, field, label)| Choice {
                value: field.to_string(),
                label: label.to_string(),
                selected: true,
            })
            .collect();
        template.org = org.name;
    }
    let mut response = page(&template);
    if template.error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(visitor.respond(response))
}

async fn row(state: &AppState, key: &ApiKey, me: i64) -> WebResult<KeyRow> {
    let owner = match key.user_id {
        Some(id) if id != me => state.meta.user(id).await?.map(|u| u.email).unwrap_or_default(),
        _ => String::new(),
    };
    let (kind, powers) = match key.kind {
        KeyKind::Service => {
            let on = match key.entity_value.as_str() {
                "" => key.entity_type.clone(),
                value => format!("{} {value}", key.entity_type),
            };
            ("Service", format!("{} on {on}", key.scopes.replace(',', ", ")))
        }
        _ => ("Personal", key.services.replace(',', ", ")),
    };
    Ok(KeyRow {
        id: key.id,
        name: key.name.clone(),
        kind: kind.into(),
        hint: key.hint.clone(),
        owner,
        powers,
        expires: key.expires_at.map_or_else(|| "never".into(), date),
        created: date(key.created_at),
        active: key.active,
    })
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expiry: String,
    service_catalog: Option<String>,
    service_registry: Option<String>,
}

/// `POST /setup/keys`: a new personal key; its secret on the page that answers.
pub async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<NewKeyForm>,
) -> WebResult<Response> {
    visitor.signed_in()?;
    visitor.check_csrf(&form.csrf)?;
    let (org, caller) = working_org(&state, &visitor).await?;
    let (Some(org), Some(me)) = (org, caller.user.as_ref()) else {
        return Err(WebError::BadRequest("choose the organization to work in first".into()));
    };
    let services: Vec<String> = SERVICES
        .iter()
        .zip([&form.service_catalog, &form.service_registry])
        .filter(|(_, ticked)| ticked.is_some())
        .map(|((service, _, _), _)| service.name().to_string())
        .collect();
    let request = PersonalKeyRequest {
        name: form.name,
        expiry: Some(form.expiry).filter(|e| !e.is_empty()),
        services: Some(services),
    };
    let issued = async {
        let services = personal_services(&caller.subject.grants, &org.name, request.services.as_deref())?;
        check_no_escalation(&caller, &services)?;
        issue_personal_key(&state.meta, me, &org, &request, Some(me.id)).await
    }
    .await;
    match issued {
        Ok((key, secret)) => {
            Ok(visitor.respond(secret_page(&state, &visitor, &headers, &org, &key, secret, "generated").await?))
        }
        // The form again, with why: a bad name or expiry, no service, the 8-key limit.
        Err(e) => keys_page(&state, &visitor, None, Some(format!("No key generated: {e}."))).await,
    }
}

/// `POST /setup/keys/service`: a new service key of the org (owners, user admins); its secret
/// on the page that answers. The form's scopes come as repeated `scope` fields.
pub async fn create_service(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    fields: Fields,
) -> WebResult<Response> {
    let field = |name: &str| fields.get(name);
    visitor.signed_in()?;
    visitor.check_csrf(&field("csrf"))?;
    let (org, caller) = working_org(&state, &visitor).await?;
    let Some(org) = org else {
        return Err(WebError::BadRequest("choose the organization to work in first".into()));
    };
    if !caller.allowed(Action::ManageServiceKeys, &Target::org(&org.name)) {
        return Err(WebError::Forbidden(
            "only owners and user admins manage the organization's service keys".into(),
        ));
    }
    let request = ServiceKeyRequest {
        name: field("name"),
        expiry: Some(field("expiry")).filter(|e| !e.is_empty()),
        scopes: fields.all("scope"),
        entity_type: Some(field("entity_type")).filter(|t| !t.is_empty()),
        entity_value: Some(field("entity_value")).filter(|v| !v.trim().is_empty()),
    };
    let creator = caller.user.as_ref().map(|u| u.id);
    match issue_service_key(&state.meta, &org, &request, creator).await {
        Ok((key, secret)) => {
            Ok(visitor.respond(secret_page(&state, &visitor, &headers, &org, &key, secret, "generated").await?))
        }
        Err(e) => keys_page(&state, &visitor, None, Some(format!("No key generated: {e}."))).await,
    }
}

async fn secret_page(
    state: &AppState,
    visitor: &Visitor,
    headers: &HeaderMap,
    org: &Org,
    key: &ApiKey,
    secret: String,
    done: &str,
) -> WebResult<Response> {
    let base = base_url(state, headers);
    Ok(page(&KeySecret {
        chrome: visitor.chrome(state).await?,
        org: org.name.clone(),
        name: key.name.clone(),
        secret,
        done: done.to_string(),
        host: base.split("://").nth(1).unwrap_or(&base).to_string(),
        base,
    }))
}

/// The key `id` of the visitor's org, if they may manage it.
async fn managed(state: &AppState, visitor: &Visitor, csrf: &str, id: i64) -> WebResult<(Org, ApiKey)> {
    visitor.signed_in()?;
    visitor.check_csrf(csrf)?;
    let (org, caller) = working_org(state, visitor).await?;
    let org = org.ok_or_else(|| WebError::BadRequest("choose the organization to work in first".into()))?;
    let key = keys::manageable_key(&state.meta, &caller, &org, id).await?;
    if key.kind == KeyKind::Legacy {
        return Err(WebError::NotFound(format!("key {id} not found")));
    }
    Ok((org, key))
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: bool,
}

/// `POST /setup/keys/{id}/active`.
pub async fn set_active(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> WebResult<Response> {
    let (_, key) = managed(&state, &visitor, &form.csrf, id).await?;
    let change = KeyChange {
        active: Some(form.active),
        ..KeyChange::default()
    };
    state.meta.update_key(key.id, &change).await?;
    let done = if form.active { "activated" } else { "deactivated" };
    Ok(see_other(&format!("/setup/keys?done={done}")))
}

/// `POST /setup/keys/{id}/rotate`: a new secret, shown once; the old one stops at once.
pub async fn rotate(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> WebResult<Response> {
    let (org, key) = managed(&state, &visitor, &form.csrf, id).await?;
    let secret = state.meta.rotate_key(key.id).await?;
    Ok(visitor.respond(secret_page(&state, &visitor, &headers, &org, &key, secret, "rotated").await?))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    /// The key's name, ticked to confirm.
    #[serde(default)]
    confirm: String,
}

/// `POST /setup/keys/{id}/delete`, confirmed by ticking the box that names the key.
pub async fn delete(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> WebResult<Response> {
    let (_, key) = managed(&state, &visitor, &form.csrf, id).await?;
    if form.confirm != key.name {
        return Err(WebError::BadRequest(format!(
            "tick the box that names the key '{}' to delete it",
            key.name
        )));
    }
    state.meta.delete_key(key.id).await?;
    Ok(see_other("/setup/keys?done=deleted"))
}

#[derive(Deserialize)]
pub struct LegacyForm {
    #[serde(default)]
    csrf: String,
    /// `replace` when a legacy key exists and is to be revoked; `delete` to delete it.
    #[serde(default)]
    confirm: String,
}

/// The signed-in user whose form carries its token, if they may manage their legacy key, with
/// the org they work in.
async fn legacy_caller(state: &AppState, visitor: &Visitor, csrf: &str) -> WebResult<(Option<Org>, User)> {
    visitor.signed_in()?;
    visitor.check_csrf(csrf)?;
    let (org, caller) = working_org(state, visitor).await?;
    require_legacy_power(&state.meta, &caller).await?;
    let me = caller.user.ok_or_else(|| WebError::Forbidden("sign in first".into()))?;
    Ok((org, me))
}

/// `POST /setup/keys/legacy`: a new legacy key (the old one, if any, revoked once the box says
/// so); its secret on the page that answers.
pub async fn create_legacy(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<LegacyForm>,
) -> WebResult<Response> {
    let (org, me) = legacy_caller(&state, &visitor, &form.csrf).await?;
    if state.meta.legacy_key_of(me.id).await?.is_some() && form.confirm != "replace" {
        return Err(WebError::BadRequest(
            "tick the box that revokes your current legacy key to generate a new one".into(),
        ));
    }
    let (key, secret) = issue_legacy_key(&state.meta, &me, Some(me.id)).await?;
    let org = org.ok_or_else(|| WebError::BadRequest("you belong to no organization".into()))?;
    Ok(visitor.respond(secret_page(&state, &visitor, &headers, &org, &key, secret, "generated").await?))
}

/// `POST /setup/keys/legacy/delete`, confirmed by its box.
pub async fn delete_legacy(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<LegacyForm>,
) -> WebResult<Response> {
    let (_, me) = legacy_caller(&state, &visitor, &form.csrf).await?;
    if form.confirm != "delete" {
        return Err(WebError::BadRequest("tick the box to delete your legacy key".into()));
    }
    let key = state
        .meta
        .legacy_key_of(me.id)
        .await?
        .ok_or_else(|| WebError::NotFound("you have no legacy key".into()))?;
    state.meta.delete_key(key.id).await?;
    Ok(see_other("/setup/keys?done=deleted"))
}
