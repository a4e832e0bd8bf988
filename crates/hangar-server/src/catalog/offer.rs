//! How an entity is offered beyond its org: changing its access level and its products. Only
//! those who may delete it (registry admins and org owners of its org) may change the offer,
//! and a product-gated level needs at least one product.

use super::error::{DomainError, DomainResult};
use super::reveal::{Guarded, Verdict, reveal};
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::access::AccessLevel;
use hangar_core::policy::ArtifactOp;
use hangar_store::meta::EntityKey;

/// A requested change of offer; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferChange {
    pub access: Option<AccessLevel>,
    pub products: Option<Vec<String>>,
}

impl OfferChange {
    pub fn is_empty(&self) -> bool {
        self.access.is_none() && self.products.is_none()
    }
}

/// Whether the caller may change the offer of `thing` (it need not exist yet).
pub fn permit(caller: &Caller, thing: &Guarded<'_>, change: &OfferChange) -> DomainResult<()> {
    if change.is_empty() {
        return Ok(());
    }
    match reveal(caller, thing, ArtifactOp::Delete) {
        Verdict::Allowed => Ok(()),
        Verdict::Unauthenticated => Err(DomainError::Unauthenticated),
        _ => Err(DomainError::Forbidden(
            "only registry admins and org owners may change who can see and download it".into(),
        )),
    }
}

/// The access level and products the entity (stored under `key`, or not yet with `None`,
/// offered now at `current`) has after `change`; `Invalid` for an unknown product or a gated
/// level without one. Writes nothing.
pub async fn outcome(
    state: &AppState,
    key: Option<EntityKey>,
    current: AccessLevel,
    change: &OfferChange,
) -> DomainResult<(AccessLevel, Vec<String>)> {
    let access = change.access.unwrap_or(current);
    let products = match (&change.products, key) {
        (Some(products), _) => products.clone(),
        (None, Some(key)) => state.meta.entity_products(key).await?,
        (None, None) => vec![],
    };
    if let Some(unknown) = state.meta.unknown_products(&products).await? {
        return Err(DomainError::Invalid(format!("there is no product '{unknown}'")));
    }
    if access.gated_by_products() && products.is_empty() {
        return Err(DomainError::Invalid(format!(
            "access type {access} needs at least one product (productNames, --product)"
        )));
    }
    Ok((access, products))
}

/// Checks and applies `change` to an existing entity: writes its products and gives the access
/// level it now has, which the caller writes with the rest of the entity's fields.
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    thing: &Guarded<'_>,
    key: EntityKey,
    change: &OfferChange,
) -> DomainResult<AccessLevel> {
    if change.is_empty() {
        return Ok(thing.access);
    }
    permit(caller, thing, change)?;
    let (access, products) = outcome(state, Some(key), thing.access, change).await?;
    if change.products.is_some() {
        state.meta.set_entity_products(key, &products).await?;
    }
    Ok(access)
}
