//! Entities offered at the approval level: a signed-in user of any org asks for access, the
//! publisher's admins (those who may delete the entity) answer. An approval counts at the next
//! request (the verdict reads it every time, see [`super::standing`]); so does a revocation.

use super::error::{DomainError, DomainResult};
use super::reveal::{Guarded, Verdict, reveal};
use super::space::Space;
use crate::auth::Caller;
use crate::identity::mail;
use crate::state::AppState;
use hangar_core::access::AccessLevel;
use hangar_core::names::{normalize_email, validate_text};
use hangar_core::policy::ArtifactOp;
use hangar_store::meta::{AccessRequest, EntityKey, User};

pub const PENDING: &str = "PENDING";
pub const APPROVED: &str = "APPROVED";
pub const DENIED: &str = "DENIED";
pub const REVOKED: &str = "REVOKED";
const STATES: [&str; 4] = [PENDING, APPROVED, DENIED, REVOKED];

const MAX_NOTE: usize = 2000;

/// The entity a request is about, found for the caller.
pub struct Offered<'a> {
    pub key: EntityKey,
    pub thing: Guarded<'a>,
    /// `model`, `resource`, `chart` or `image` (a container repository), as the CLI says it.
    pub noun: &'static str,
    /// The repository's name or the entity's path, `org/[team/]name`.
    pub name: &'a str,
    pub space: &'a Space,
}

impl Offered<'_> {
    fn what(&self) -> String {
        format!("{} '{}'", self.noun, self.name)
    }
}

/// A state word of a query or body, any case; `Invalid` naming the words otherwise.
pub fn parse_state(word: &str) -> DomainResult<&'static str> {
    let upper = word.trim().to_ascii_uppercase();
    STATES
        .into_iter()
        .find(|s| *s == upper)
        .ok_or_else(|| DomainError::Invalid(format!("state must be one of {}", STATES.join(", "))))
}

/// The signed-in user the caller acts as.
fn requester(caller: &Caller) -> DomainResult<&User> {
    match (&caller.user, caller.is_guest()) {
        (Some(user), _) => Ok(user),
        (None, true) => Err(DomainError::Unauthenticated),
        (None, false) => Err(DomainError::Forbidden(
            "a service key does not act as a user: use a personal key or sign in".into(),
        )),
    }
}

/// The caller's request for access to `entity`, with a mail to the publisher's admins. One
/// already pending or approved is answered as it is, with no new mail.
pub async fn request(
    state: &AppState,
    caller: &Caller,
    entity: &Offered<'_>,
    note: &str,
) -> DomainResult<AccessRequest> {
    let user = requester(caller)?;
    if entity.thing.access != AccessLevel::Approval {
        return Err(DomainError::Invalid(format!(
            "{} is offered at the {} level; only {} entities take access requests",
            entity.what(),
            entity.thing.access,
            AccessLevel::Approval
        )));
    }
    validate_text("note", note, MAX_NOTE)?;
    if let Some(open) = state.meta.access_request(entity.key, user.id).await?
        && (open.state == PENDING || open.state == APPROVED)
    {
        return Ok(open);
    }
    let admins = state
        .meta
        .publisher_admins(entity.space.org.id, entity.space.team.as_ref().map(|t| t.id))
        .await?;
    let answer = format!("hangar registry {} approve {}", entity.noun, entity.name);
    let (subject, body) = mail::access_requested(&entity.what(), &user.email, note, &answer);
    let mails: Vec<_> = admins
        .iter()
        .map(|admin| (admin.clone(), subject.clone(), body.clone()))
        .collect();
    let request = state
        .meta
        .open_access_request(entity.key, user.id, note, &mails)
        .await?;
    for admin in &admins {
        tracing::info!(to = %admin, entity = %entity.name, "access request mail written to the outbox");
    }
    Ok(request)
}

/// Whether the caller answers for `entity`: those who may delete it.
fn require_publisher(caller: &Caller, entity: &Offered<'_>) -> DomainResult<()> {
    match reveal(caller, &entity.thing, ArtifactOp::Delete) {
        Verdict::Allowed => Ok(()),
        Verdict::Unauthenticated => Err(DomainError::Unauthenticated),
        _ => Err(DomainError::Forbidden(format!(
            "only registry admins and org owners of its org answer access requests for {}",
            entity.what()
        ))),
    }
}

/// The requests for `entity`, for its publisher's admins; with `filter`, those in that state.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    entity: &Offered<'_>,
    filter: Option<&str>,
) -> DomainResult<Vec<AccessRequest>> {
    require_publisher(caller, entity)?;
    let filter = filter.map(parse_state).transpose()?;
    Ok(state.meta.entity_access_requests(entity.key, filter).await?)
}

/// The publisher's answer to `email`'s request: APPROVED (also with no request before), DENIED
/// (a pending one) or REVOKED (an approved one); the user gets a mail.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    entity: &Offered<'_>,
    email: &str,
    answer: &str,
) -> DomainResult<AccessRequest> {
    require_publisher(caller, entity)?;
    let decider = requester(caller)?;
    let answer = parse_state(answer)?;
    let email = normalize_email(email)?;
    let user = state
        .meta
        .user_by_email(&email)
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("user '{email}' not found")))?;
    let current = state.meta.access_request(entity.key, user.id).await?;
    let allowed_from: &[&str] = match answer {
        APPROVED => &[PENDING, DENIED, REVOKED],
        DENIED => &[PENDING],
        REVOKED => &[APPROVED],
        _ => return Err(DomainError::Invalid("state must be APPROVED, DENIED or REVOKED".into())),
    };
    let from = current.as_ref().map(|r| r.state.clone());
    if let Some(same) = current.filter(|r| r.state == answer) {
        return Ok(same);
    }
    match from.as_deref() {
        Some(s) if allowed_from.contains(&s) => {}
        None if answer == APPROVED => {}
        None => {
            return Err(DomainError::NotFound(format!(
                "{email} has not asked for access to {}",
                entity.what()
            )));
        }
        Some(s) => {
            return Err(DomainError::Conflict(format!(
                "the request of {email} is {s}; it cannot become {answer}"
            )));
        }
    }
    let (subject, body) = mail::access_answered(&entity.what(), answer);
    let note = (user.email.clone(), subject, body);
    let request = state
        .meta
        .decide_access_request(entity.key, user.id, answer, decider.id, Some(&note))
        .await?;
    tracing::info!(to = %user.email, entity = %entity.name, state = answer, "access answer mail written to the outbox");
    Ok(request)
}

/// The caller's own requests.
pub async fn mine(state: &AppState, caller: &Caller) -> DomainResult<Vec<AccessRequest>> {
    let user = requester(caller)?;
    Ok(state.meta.user_access_requests(user.id).await?)
}
