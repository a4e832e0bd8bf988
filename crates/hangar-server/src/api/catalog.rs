//! Static listings: `/roles`.

use super::extract::Json;
use super::views::success;
use hangar_core::roles::Role;
use serde_json::{Value, json};

pub async fn roles() -> Json<Value> {
    let roles: Vec<Value> = Role::ALL
        .iter()
        .map(|role| {
            let actions: Vec<Value> = role
                .allowed_actions()
                .into_iter()
                .map(|(service, levels)| json!({"service": service, "actions": levels}))
                .collect();
            json!({
                "name": role.name(),
                "displayName": role.display_name(),
                "isHidden": false,
                "allowedActions": actions,
            })
        })
        .collect();
    Json(success(json!({"roles": roles})))
}
