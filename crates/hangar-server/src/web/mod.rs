//! The web surface: server-rendered pages for people in a browser (DESIGN.md, "Web UI").
//! Every page works with plain GETs and form POSTs; every form carries a CSRF token; every
//! response carries a strict Content-Security-Policy.

mod account;
mod container;
mod device;
mod entity;
mod error;
mod explore;
mod forms;
mod invitations;
mod keys;
mod manage;
mod members;
mod organization;
mod passwords;
mod publish;
mod render;
mod signin;
mod signing;
mod upload;
mod visitor;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;

/// The answer to a browser's GET of a path nobody serves: a page, not the API's JSON.
pub fn not_found_page() -> axum::response::Response {
    let mut response = render::message_page(
        "Not found",
        "There is no page at this address. The catalog may have what you are looking for.",
        Some(("/", "Explore the catalog")),
    );
    *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
    render::secured(response, false)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(explore::home))
        .route("/catalog", get(|| async { forms::see_other("/catalog/containers") }))
        .route("/catalog/{tab}", get(explore::show))
        .route("/catalog/{tab}/{*rest}", get(entity::show))
        .route("/orgs/{org}", get(explore::registry))
        .route("/orgs/{org}/{tab}", get(explore::registry))
        .route("/orgs/{org}/teams/{team}", get(explore::registry))
        .route("/orgs/{org}/teams/{team}/{tab}", get(explore::registry))
        .route("/orgs/{org}/admin", get(organization::profile))
        .route("/orgs/{org}/admin/profile", post(organization::save_profile))
        .route(
            "/orgs/{org}/admin/teams",
            get(organization::teams).post(organization::create_team),
        )
        .route("/orgs/{org}/admin/teams/{team}", post(organization::save_team))
        .route("/orgs/{org}/admin/teams/{team}/delete", post(organization::delete_team))
        .route("/orgs/{org}/admin/signing", get(signing::show))
        .route("/orgs/{org}/admin/signing/keys", post(signing::add_key))
        .route(
            "/orgs/{org}/admin/signing/keys/{name}/remove",
            post(signing::remove_key),
        )
        .route("/orgs/{org}/admin/signing/requirements", post(signing::set_requirement))
        .route("/orgs/{org}/admin/users", get(members::users))
        .route("/orgs/{org}/admin/users/{id}", get(members::member))
        .route("/orgs/{org}/admin/users/{id}/roles", post(members::set_roles))
        .route("/orgs/{org}/admin/users/{id}/remove", post(members::remove))
        .route("/orgs/{org}/admin/invitations", post(members::invite))
        .route("/orgs/{org}/admin/invitations/cancel", post(members::cancel))
        .route("/orgs/{org}/admin/invitations/{id}/resend", post(members::resend))
        .route("/create", get(publish::hub))
        .route("/create/clone", get(publish::clone_pick))
        .route("/create/{kind}", get(publish::form).post(publish::create))
        .route("/edit/{kind}/{*rest}", get(publish::edit_form).post(publish::edit))
        .route("/remove/{kind}/{*rest}", post(manage::remove))
        .route("/latest/{kind}/{*rest}", post(manage::set_latest))
        .route("/preview", post(publish::preview))
        .route("/upload/{kind}/{*rest}", get(upload::show))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::sign_out))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route(
            "/account/context",
            get(account::context_form).post(account::set_context),
        )
        .route("/account/sessions/{id}/end", post(account::end_session))
        .route("/device", get(device::show).post(device::decide))
        .route("/setup/keys/{id}/active", post(keys::set_active))
        .route("/setup/keys/{id}/delete", post(keys::delete))
        .route("/setup/keys/legacy/delete", post(keys::delete_legacy))
        .route("/static/{file}", get(render::asset))
        // Compressed: pages carry no secret but their masked CSRF token (identity::csrf),
        // so reflected text (a search) next to it reveals nothing through the size.
        .layer(CompressionLayer::new())
        // Not compressed: these pages carry a secret in the page itself (their link's token, a
        // new key).
        .route("/setup/keys", get(keys::show).post(keys::create))
        .route("/setup/keys/service", post(keys::create_service))
        .route("/setup/keys/legacy", post(keys::create_legacy))
        .route("/setup/keys/{id}/rotate", post(keys::rotate))
        .route("/invitations/{token}", get(invitations::show).post(invitations::accept))
        .route("/password/{token}", get(passwords::show).post(passwords::submit))
        .layer(axum::middleware::from_fn(render::headers))
}
