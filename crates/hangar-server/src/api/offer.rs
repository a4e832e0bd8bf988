//! The offer fields of NGC's create and update bodies: `accessType` (Hangar's levels, or NGC's
//! `LISTED`/`EXCLUSIVE`/`NOT_LISTED`), `productNames`, and the older `isPublic` (true: guest
//! access; false: private), which `accessType` overrides.

use crate::catalog::offer::OfferChange;
use crate::error::{ApiError, ApiResult};
use hangar_core::access::AccessLevel;
use serde_json::{Map, Value};

/// The fields [`offer_change`] reads, which the entity's own fields skip.
pub const OFFER_FIELDS: [&str; 3] = ["isPublic", "accessType", "productNames"];

/// The offer change a JSON body asks for.
pub fn offer_change(body: &Map<String, Value>) -> ApiResult<OfferChange> {
    let [is_public, access_type, product_names] = OFFER_FIELDS.map(|name| body.get(name).cloned());
    change_of(is_public, access_type, product_names)
}

/// [`offer_change`] of the three fields, each as given (`None` or null: not given).
pub fn change_of(
    is_public: Option<Value>,
    access_type: Option<Value>,
    product_names: Option<Value>,
) -> ApiResult<OfferChange> {
    let mut change = OfferChange::default();
    if let Some(public) = is_public.filter(|v| !v.is_null()) {
        let public = public
            .as_bool()
            .ok_or_else(|| ApiError::BadRequest("'isPublic' must be true or false".into()))?;
        change.access = Some(if public {
            AccessLevel::Guest
        } else {
            AccessLevel::Private
        });
    }
    if let Some(word) = access_type.filter(|v| !v.is_null()) {
        let level = word.as_str().and_then(AccessLevel::parse).ok_or_else(|| {
            let words: Vec<&str> = AccessLevel::ALL.iter().map(|l| l.word()).collect();
            ApiError::BadRequest(format!(
                "'accessType' must be one of {} (or LISTED, NOT_LISTED)",
                words.join(", ")
            ))
        })?;
        change.access = Some(level);
    }
    if let Some(products) = product_names.filter(|v| !v.is_null()) {
        let names = products
            .as_array()
            .and_then(|list| {
                list.iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| ApiError::BadRequest("'productNames' must be a list of product names".into()))?;
        change.products = Some(names);
    }
    Ok(change)
}
