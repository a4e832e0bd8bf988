//! What a caller holds towards one entity beyond the roles of its org (signed in, subscribed to
//! one of its products, approved by its publisher), looked up only when the entity's access
//! level asks about it. Never cached: an expired subscription or a revoked approval counts at
//! once, on every replica.

use super::error::DomainResult;
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::access::{AccessLevel, Standing};
use hangar_store::meta::EntityKey;

/// The caller's standing towards `entity`, offered at `access`.
pub async fn standing(
    state: &AppState,
    caller: &Caller,
    entity: EntityKey,
    access: AccessLevel,
) -> DomainResult<Standing> {
    let signed_in = !caller.is_guest();
    let subscribed =
        signed_in && access.gated_by_products() && state.meta.subscribed(entity, &caller.subscribing_orgs()).await?;
    let approved = match (&caller.user, access) {
        (Some(user), AccessLevel::Approval) => state.meta.approved(entity, user.id).await?,
        _ => false,
    };
    Ok(Standing {
        signed_in,
        subscribed,
        approved,
    })
}
