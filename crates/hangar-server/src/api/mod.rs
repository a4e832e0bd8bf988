//! The NGC-shaped REST API (`/v2`, `/v3`, `/roles`): identity, keys and invitations.

mod accounts;
mod approvals;
pub mod artifacts;
mod catalog;
mod collections;
pub mod extract;
pub mod images;
mod invitations;
mod keys;
mod offer;
mod orgs;
mod products;
mod search;
mod signing;
pub(crate) mod users;
pub mod views;

use crate::auth::{device, endpoints};
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, patch, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(images::routes())
        .merge(artifacts::routes())
        .merge(collections::routes())
        .merge(approvals::routes())
        .merge(products::routes())
        .merge(signing::routes())
        .route("/v2/search/org/{org}/resources/{kind}", get(search::org))
        .route("/v2/search/org/{org}/team/{team}/resources/{kind}", get(search::org))
        .route("/v2/search/catalog/resources/{kind}", get(search::catalog))
        .route(
            "/v2/search/subscriber/catalog/resources/{kind}",
            get(search::subscriber),
        )
        .route("/v2/search/labelsets", get(search::label_sets))
        .route("/v2/search/org/{org}/labelsets", get(search::label_sets))
        .route("/v2/search/org/{org}/team/{team}/labelsets", get(search::label_sets))
        .route("/token", get(endpoints::token))
        .route("/device/login", post(device::login))
        .route("/v2/ping", get(device::ping))
        .route("/v3/keys/get-caller-info", post(endpoints::caller_info))
        .route("/roles", get(catalog::roles))
        .route("/v2/orgs", get(orgs::list_orgs).post(orgs::create_org))
        .route("/v2/orgs/{org}", get(orgs::org_info).patch(orgs::update_org))
        .route("/v2/org/{org}/teams", get(orgs::list_teams).post(orgs::create_team))
        .route(
            "/v2/org/{org}/teams/{team}",
            get(orgs::team_info).patch(orgs::update_team).delete(orgs::delete_team),
        )
        .route("/v2/org/{org}/users", get(users::list_org_users))
        .route("/v2/org/{org}/users/{user}", get(users::org_user_info))
        .route(
            "/v2/org/{org}/users/{user}/update-role",
            patch(users::org_roles::<{ users::REPLACE }>),
        )
        .route("/v2/org/{org}/team/{team}/users", get(users::list_team_users))
        .route(
            "/v2/org/{org}/team/{team}/users/{user}/update-role",
            patch(users::team_roles::<{ users::REPLACE }>),
        )
        .route("/v2/users/me", get(users::me).patch(users::update_me))
        .route("/v2/users/me/sessions", get(accounts::list_sessions))
        .route(
            "/v2/users/me/sessions/{id}",
            axum::routing::delete(accounts::end_session),
        )
        .route(
            "/v2/org/{org}/users/{user}/password-reset",
            post(accounts::send_password_reset),
        )
        .route(
            "/v3/orgs/{org}/users/{user}",
            get(users::org_user_info).delete(users::remove_org_user),
        )
        .route(
            "/v3/orgs/{org}/users/{user}/add-role",
            patch(users::org_roles::<{ users::ADD }>),
        )
        .route(
            "/v3/orgs/{org}/users/{user}/remove-role",
            axum::routing::delete(users::org_roles::<{ users::REMOVE }>),
        )
        .route(
            "/v3/orgs/{org}/teams/{team}/users/{user}",
            get(users::team_user_info).delete(users::remove_team_user),
        )
        .route(
            "/v3/orgs/{org}/teams/{team}/users/{user}/add-role",
            patch(users::team_roles::<{ users::ADD }>),
        )
        .route(
            "/v3/orgs/{org}/teams/{team}/users/{user}/remove-role",
            axum::routing::delete(users::team_roles::<{ users::REMOVE }>),
        )
        .route(
            "/v3/orgs/{org}/invitations",
            get(invitations::list_org)
                .post(invitations::invite)
                .delete(invitations::withdraw),
        )
        .route("/v3/orgs/{org}/pending-invitations", get(invitations::list_org))
        .route(
            "/v3/orgs/{org}/teams/{team}/pending-invitations",
            get(invitations::list_team),
        )
        .route("/v3/invitations/accept", post(invitations::accept))
        .route("/v3/orgs/{org}/keys", get(keys::list))
        .route("/v3/orgs/{org}/keys/personal", post(keys::create_personal))
        .route("/v3/orgs/{org}/keys/service", post(keys::create_service))
        .route(
            "/v3/orgs/{org}/keys/{id}",
            get(keys::info).patch(keys::update).delete(keys::delete),
        )
        .route("/v3/orgs/{org}/keys/{id}/rotate", post(keys::rotate))
        .route(
            "/v3/users/me/legacy-key",
            get(keys::legacy_info)
                .post(keys::create_legacy)
                .delete(keys::delete_legacy),
        )
}
