//! Products and subscriptions as platform admins manage them (on the REST API and on the
//! database with `hangar admin product`): checked names and texts, and expiry dates.

use super::error::{DomainError, DomainResult};
use crate::state::AppState;
use hangar_core::names::{validate_product, validate_text};
use hangar_store::meta::{MetaStore, Product};

const MAX_DISPLAY_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 4000;

/// A subscription's end from RFC 3339 (`2027-01-31T00:00:00Z`) or a plain date (`2027-01-31`,
/// the start of that day, UTC). Past times are taken: they end a subscription at once.
pub fn parse_expiry(text: &str) -> DomainResult<i64> {
    let text = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|start| start.and_utc().timestamp())
        .ok_or_else(|| {
            DomainError::Invalid(format!(
                "invalid expiry '{text}': give an RFC 3339 time (2027-01-31T00:00:00Z) or a date (2027-01-31)"
            ))
        })
}

/// Creates a product, its display name defaulting to its name.
pub async fn create(
    meta: &MetaStore,
    name: &str,
    display_name: Option<&str>,
    description: &str,
) -> DomainResult<Product> {
    validate_product(name)?;
    let display = display_name.unwrap_or(name);
    check_texts(Some(display), Some(description))?;
    Ok(meta.create_product(name, display, description).await?)
}

/// Changes a product's display name and description (those given).
pub async fn update(
    meta: &MetaStore,
    name: &str,
    display_name: Option<&str>,
    description: Option<&str>,
) -> DomainResult<Product> {
    check_texts(display_name, description)?;
    Ok(meta.update_product(name, display_name, description).await?)
}

fn check_texts(display_name: Option<&str>, description: Option<&str>) -> DomainResult<()> {
    if let Some(display) = display_name {
        validate_text("display name", display, MAX_DISPLAY_NAME)?;
    }
    if let Some(description) = description {
        validate_text("description", description, MAX_DESCRIPTION)?;
    }
    Ok(())
}

/// Subscribes `org` to `product` until `expires_at` (`None`: no end).
pub async fn subscribe(meta: &MetaStore, org: &str, product: &str, expires_at: Option<i64>) -> DomainResult<()> {
    let org = meta.require_org(org).await?;
    let product = meta.require_product(product).await?;
    Ok(meta.subscribe(org.id, product.id, expires_at).await?)
}

/// Ends `org`'s subscription to `product`.
pub async fn unsubscribe(meta: &MetaStore, org: &str, product: &str) -> DomainResult<()> {
    let org = meta.require_org(org).await?;
    let product = meta.require_product(product).await?;
    Ok(meta.unsubscribe(org.id, product.id).await?)
}

/// The products the caller's orgs hold an unexpired subscription to, with its end.
pub async fn subscribed(state: &AppState, orgs: &[&str]) -> DomainResult<Vec<(Product, Option<i64>)>> {
    Ok(state.meta.subscribed_products(orgs).await?)
}

#[cfg(test)]
mod tests {
    use super::parse_expiry;

    #[test]
    fn expiry_forms() {
        assert_eq!(parse_expiry("2027-01-31T00:00:00Z").unwrap(), 1_801_353_600);
        assert_eq!(parse_expiry("2027-01-31").unwrap(), 1_801_353_600);
        assert_eq!(parse_expiry("2027-01-31T02:00:00+02:00").unwrap(), 1_801_353_600);
        assert_eq!(parse_expiry("2001-01-01").unwrap(), 978_307_200, "past dates are taken");
        for bad in ["", "tomorrow", "2027-13-01", "31/01/2027"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }
}
