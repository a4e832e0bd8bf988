//! Products and subscriptions: `/v2/admin/products[/{name}]` and
//! `/v2/admin/orgs/{org}/subscriptions[/{product}]` for platform admins, and `/v2/products`,
//! the products the caller's orgs subscribe to.

use super::extract::{Json, Path};
use super::views::{date, success};
use crate::auth::Caller;
use crate::catalog::products::{self, parse_expiry};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, put};
use hangar_store::meta::{Product, Subscription};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/products", get(subscribed))
        .route("/v2/admin/products", get(list).post(create))
        .route("/v2/admin/products/{name}", get(info).patch(update).delete(remove))
        .route("/v2/admin/orgs/{org}/subscriptions", get(subscriptions))
        .route(
            "/v2/admin/orgs/{org}/subscriptions/{product}",
            put(subscribe).delete(unsubscribe),
        )
}

/// Platform admins only: 401 for a guest, 403 for anyone else.
fn require_platform_admin(caller: &Caller) -> ApiResult<()> {
    if caller.is_guest() {
        return Err(ApiError::unauthenticated());
    }
    if !caller.subject.platform_admin {
        return Err(ApiError::Forbidden(
            "only platform administrators manage products and subscriptions".into(),
        ));
    }
    Ok(())
}

fn view(product: &Product) -> Value {
    json!({
        "name": product.name,
        "displayName": product.display_name,
        "description": product.description,
        "createdDate": date(product.created_at),
    })
}

fn one(product: &Product) -> Json<Value> {
    Json(success(json!({"product": view(product)})))
}

/// `GET /v2/products`: what the caller's orgs subscribe to now (NGC clients ask before every
/// command); `[]` for a guest.
async fn subscribed(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let held = products::subscribed(&state, &caller.subscribing_orgs()).await?;
    let list: Vec<Value> = held
        .iter()
        .map(|(product, until)| {
            let mut entry = view(product);
            entry["expiresAt"] = json!(until.map(date));
            entry
        })
        .collect();
    Ok(Json(success(json!({"products": list}))))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    let list: Vec<Value> = state.meta.products().await?.iter().map(view).collect();
    Ok(Json(success(json!({"products": list}))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewProduct {
    name: String,
    display_name: Option<String>,
    #[serde(default)]
    description: String,
}

async fn create(State(state): State<AppState>, caller: Caller, Json(body): Json<NewProduct>) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    let product = products::create(&state.meta, &body.name, body.display_name.as_deref(), &body.description).await?;
    Ok(one(&product))
}

async fn info(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    Ok(one(&state.meta.require_product(&name).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProductChange {
    display_name: Option<String>,
    description: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<ProductChange>,
) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    let product = products::update(
        &state.meta,
        &name,
        body.display_name.as_deref(),
        body.description.as_deref(),
    )
    .await?;
    Ok(one(&product))
}

async fn remove(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    state.meta.delete_product(&name).await?;
    Ok(Json(success(json!({}))))
}

fn subscription_view(s: &Subscription) -> Value {
    json!({
        "orgName": s.org,
        "productName": s.product.name,
        "displayName": s.product.display_name,
        "expiresAt": s.expires_at.map(date),
        "createdDate": date(s.created_at),
    })
}

async fn subscriptions(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    let org = state.meta.require_org(&org).await?;
    let list: Vec<Value> = state
        .meta
        .subscriptions(Some(org.id))
        .await?
        .iter()
        .map(subscription_view)
        .collect();
    Ok(Json(success(json!({"subscriptions": list}))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubscriptionTerms {
    #[serde(default)]
    expires_at: Option<String>,
}

/// `PUT /v2/admin/orgs/{org}/subscriptions/{product}` `{"expiresAt": "<RFC 3339>"|null}`.
async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, product)): Path<(String, String)>,
    Json(body): Json<SubscriptionTerms>,
) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    let expires_at = body.expires_at.as_deref().map(parse_expiry).transpose()?;
    products::subscribe(&state.meta, &org, &product, expires_at).await?;
    let org = state.meta.require_org(&org).await?;
    let held = state.meta.subscriptions(Some(org.id)).await?;
    let made = held
        .iter()
        .find(|s| s.product.name == product)
        .ok_or_else(|| ApiError::Internal("a subscription just made is missing".into()))?;
    Ok(Json(success(json!({"subscription": subscription_view(made)}))))
}

async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, product)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    require_platform_admin(&caller)?;
    products::unsubscribe(&state.meta, &org, &product).await?;
    Ok(Json(success(json!({}))))
}
