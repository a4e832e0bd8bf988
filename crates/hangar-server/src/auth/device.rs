//! `ngc`'s e-mail login on the wire (ngc-api.md §2.4): `POST /device/login` starts it, and
//! `HEAD /v2/ping` with the session key answers 401 until a user approved it on the web page.

use super::caller::Caller;
use crate::api::extract::Json;
use crate::error::ApiResult;
use crate::identity::device::{self, DEVICE_LOGIN_SECONDS};
use crate::identity::mail::link_base;
use crate::identity::sessions::Client;
use crate::state::AppState;
use axum::extract::State;
use axum::http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeviceLoginBody {
    #[serde(default)]
    device_id: String,
    #[serde(default)]
    email: String,
}

/// The header `ngc` names its device in.
const DEVICE_HEADER: &str = "X-Device-Id";

pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    Json(body): Json<DeviceLoginBody>,
) -> ApiResult<Json<Value>> {
    let client = Client::of(&parts, &state.settings.trusted_proxies);
    let device_id = if body.device_id.is_empty() {
        parts
            .headers
            .get(DEVICE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    } else {
        body.device_id
    };
    let created = device::start(&state.meta, &device_id, &body.email, &client).await?;
    let code = created.approval_code.unwrap_or_default();
    let login_url = format!("{}/device?code={code}", link_base(&state.settings, &parts.headers));
    tracing::info!(device = %device_id, address = %client.address, "e-mail login started");
    Ok(Json(json!({
        "loginUrl": login_url,
        "sessionKey": created.secret,
        "expiresIn": DEVICE_LOGIN_SECONDS,
    })))
}

/// `GET`/`HEAD /v2/ping`: 200 for a guest or valid credentials; 401 for a login nobody has
/// approved yet (the extractor refuses it), which `ngc` reads as "keep waiting".
pub async fn ping(_caller: Caller) -> Json<Value> {
    Json(json!({}))
}
