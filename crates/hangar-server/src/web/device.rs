//! Approving `ngc`'s e-mail login: the page its `loginUrl` opens.

use super::error::WebResult;
use super::forms::{Form, see_other};
use super::render::page;
use super::visitor::Visitor;
use crate::identity::device;
use crate::identity::mail::when;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use hangar_pages::Device;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    code: String,
}

pub async fn show(State(state): State<AppState>, visitor: Visitor, Query(q): Query<CodeQuery>) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    let waiting = device::waiting(&state.meta, &q.code).await?;
    let requested_at = when(waiting.created_at);
    Ok(page(&Device {
        chrome: visitor.chrome(&state).await?,
        code: q.code,
        device_id: waiting.device_id,
        requested_email: waiting.requested_email,
        address: waiting.client_address,
        requested_at,
        signed_in_email: signed.account.user.email.clone(),
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    decision: String,
}

pub async fn decide(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<DecisionForm>,
) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    visitor.check_csrf(&form.csrf)?;
    if form.decision == "approve" {
        device::approve(&state.meta, &form.code, signed.account.user.id).await?;
        tracing::info!(user = %signed.account.user.email, "e-mail login approved");
        Ok(see_other("/account?done=device"))
    } else {
        device::deny(&state.meta, &form.code).await?;
        Ok(see_other("/account?done=denied"))
    }
}
