//! Products, subscriptions and access requests in-process (`TestApp`): every bad input gets a
//! 4xx in NGC's JSON format, and a subscription counts until the second it expires.

mod common;

use axum::http::Method;
use common::app::{Reply, TestApp};
use common::{Auth, Stores};
use hangar_core::roles::Role;
use hangar_store::meta::{EntityKey, HolderKind, now};
use serde_json::{Value, json};

/// NGC's format: `{"requestStatus": {"statusCode": …, "statusDescription": …}}` with `status`.
fn assert_ngc(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text());
    let body = reply.json();
    assert!(
        body["requestStatus"]["statusCode"].is_string() && body["requestStatus"]["statusDescription"].is_string(),
        "{what}: {body}"
    );
}

/// What is wrong, the request (method, path, credential, body) and its status.
type Case<'a> = (&'a str, Method, &'a str, &'a Auth, Option<Value>, u16);

async fn bad_inputs(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    app.org("beta").await;
    let meta = &app.state.meta;
    let root = meta.create_user("root@hangar.test", "Root", true).await.unwrap();
    let (_, secret) = hangar_server::identity::keys::issue_legacy_key(meta, &root, None)
        .await
        .unwrap();
    let root = Auth::Key(secret);
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    let (_, bob) = app.user("bob@beta.test", &[("beta", None, Role::RegistryRead)]).await;
    let service = app
        .service_key("beta", &["GET_ARTIFACT", "LIST_ARTIFACTS"], ("ALL", None))
        .await;
    let created = app
        .call(
            Method::POST,
            "/v2/admin/products",
            &root,
            Some(json!({"name": "suite"})),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    let model = app
        .call(
            Method::POST,
            "/v2/org/acme/models",
            &owner,
            Some(json!({"name": "m", "accessType": "APPROVAL"})),
        )
        .await;
    assert_eq!(model.status, 200, "{}", model.text());

    let long = "x".repeat(4001);
    let cases: Vec<Case> = vec![
        (
            "no name",
            Method::POST,
            "/v2/admin/products",
            &root,
            Some(json!({})),
            400,
        ),
        (
            "a number for a name",
            Method::POST,
            "/v2/admin/products",
            &root,
            Some(json!({"name": 7})),
            400,
        ),
        (
            "an unknown field",
            Method::POST,
            "/v2/admin/products",
            &root,
            Some(json!({"name": "a", "price": 1})),
            400,
        ),
        (
            "an uppercase name",
            Method::POST,
            "/v2/admin/products",
            &root,
            Some(json!({"name": "Suite"})),
            400,
        ),
        (
            "a long name",
            Method::POST,
            "/v2/admin/products",
            &root,
            Some(json!({"name": "a".repeat(65)})),
            400,
        ),
        (
            "a long description",
            Method::POST,
            "/v2/admin/products",
            &root,
            Some(json!({"name": "b", "description": long})),
            400,
        ),
        (
            "a long display name",
            Method::PATCH,
            "/v2/admin/products/suite",
            &root,
            Some(json!({"displayName": "d".repeat(201)})),
            400,
        ),
        (
            "an unknown product",
            Method::PATCH,
            "/v2/admin/products/none",
            &root,
            Some(json!({"description": "d"})),
            404,
        ),
        (
            "an unknown product",
            Method::DELETE,
            "/v2/admin/products/none",
            &root,
            None,
            404,
        ),
        (
            "a guest",
            Method::PATCH,
            "/v2/admin/products/suite",
            &Auth::None,
            Some(json!({"description": "d"})),
            401,
        ),
        (
            "an org owner",
            Method::DELETE,
            "/v2/admin/products/suite",
            &owner,
            None,
            403,
        ),
        ("a service key", Method::GET, "/v2/admin/products", &service, None, 403),
        (
            "a number for expiry",
            Method::PUT,
            "/v2/admin/orgs/beta/subscriptions/suite",
            &root,
            Some(json!({"expiresAt": 5})),
            400,
        ),
        (
            "no such day",
            Method::PUT,
            "/v2/admin/orgs/beta/subscriptions/suite",
            &root,
            Some(json!({"expiresAt": "2027-02-30"})),
            400,
        ),
        (
            "an unknown org",
            Method::PUT,
            "/v2/admin/orgs/none/subscriptions/suite",
            &root,
            Some(json!({})),
            404,
        ),
        (
            "no subscription",
            Method::DELETE,
            "/v2/admin/orgs/beta/subscriptions/suite",
            &root,
            None,
            404,
        ),
        (
            "an unknown org",
            Method::GET,
            "/v2/admin/orgs/none/subscriptions",
            &root,
            None,
            404,
        ),
        (
            "an org owner",
            Method::GET,
            "/v2/admin/orgs/acme/subscriptions",
            &owner,
            None,
            403,
        ),
        (
            "a long note",
            Method::POST,
            "/v2/org/acme/models/m/access-requests",
            &bob,
            Some(json!({"note": "n".repeat(2001)})),
            400,
        ),
        (
            "a service key",
            Method::POST,
            "/v2/org/acme/models/m/access-requests",
            &service,
            Some(json!({})),
            403,
        ),
        (
            "an unknown model",
            Method::POST,
            "/v2/org/acme/models/none/access-requests",
            &bob,
            Some(json!({})),
            404,
        ),
        (
            "an unknown chart",
            Method::GET,
            "/v2/org/acme/helm-charts/none/access-requests",
            &owner,
            None,
            404,
        ),
        (
            "an unknown repository",
            Method::GET,
            "/v2/org/acme/repos/none/access-requests",
            &owner,
            None,
            404,
        ),
        (
            "an unknown team",
            Method::GET,
            "/v2/org/acme/team/none/resources/m/access-requests",
            &owner,
            None,
            404,
        ),
        (
            "no state",
            Method::PUT,
            "/v2/org/acme/models/m/access-requests/bob@beta.test",
            &owner,
            Some(json!({})),
            400,
        ),
        (
            "PENDING as an answer",
            Method::PUT,
            "/v2/org/acme/models/m/access-requests/bob@beta.test",
            &owner,
            Some(json!({"state": "PENDING"})),
            400,
        ),
        (
            "not an e-mail",
            Method::PUT,
            "/v2/org/acme/models/m/access-requests/bob",
            &owner,
            Some(json!({"state": "APPROVED"})),
            400,
        ),
        (
            "nothing to deny",
            Method::PUT,
            "/v2/org/acme/models/m/access-requests/bob@beta.test",
            &owner,
            Some(json!({"state": "DENIED"})),
            404,
        ),
        (
            "a reader of another org",
            Method::PUT,
            "/v2/org/acme/models/m/access-requests/bob@beta.test",
            &bob,
            Some(json!({"state": "APPROVED"})),
            403,
        ),
        (
            "a service key",
            Method::GET,
            "/v2/users/me/access-requests",
            &service,
            None,
            403,
        ),
    ];
    for (what, method, path, auth, body, status) in cases {
        let reply = app.call(method.clone(), path, auth, body).await;
        assert_ngc(&reply, status, &format!("{what}: {method} {path}"));
    }
    let broken = app
        .send(
            Method::POST,
            "/v2/org/acme/models/m/access-requests",
            &bob,
            &[("content-type", "application/json")],
            b"{".to_vec(),
        )
        .await;
    assert_ngc(&broken, 400, "a broken JSON body");
    let empty = app
        .send(Method::POST, "/v2/org/acme/models/m/access-requests", &bob, &[], vec![])
        .await;
    assert_eq!(empty.status, 200, "no body is no note: {}", empty.text());
    assert_eq!(empty.json()["accessRequest"]["note"], "");
}
both_backends!(refusals, bad_inputs);

async fn expiry_counts_at_once(stores: &Stores) {
    let app = TestApp::new(stores).await;
    let beta = app.org("beta").await;
    let meta = &app.state.meta;
    let (_, bob) = app.user("bob@beta.test", &[("beta", None, Role::RegistryRead)]).await;
    let product = meta.create_product("suite", "Suite", "").await.unwrap();
    let entity = EntityKey {
        kind: HolderKind::Repository,
        id: 1,
    };
    sqlx::query("INSERT INTO entity_products (entity_kind, entity_id, product_id) VALUES ('repository', 1, $1)")
        .bind(product.id)
        .execute(meta.pool())
        .await
        .unwrap();
    let products = || app.call(Method::GET, "/v2/products", &bob, None);
    for (expires_at, counts) in [(None, true), (Some(now() + 3600), true), (Some(now() - 1), false)] {
        meta.subscribe(beta.id, product.id, expires_at).await.unwrap();
        let subscribed = meta.subscribed(entity, &["beta"]).await.unwrap();
        assert_eq!(subscribed, counts, "until {expires_at:?}");
        let listed = products().await.json()["products"].as_array().unwrap().len();
        assert_eq!(listed, usize::from(counts), "until {expires_at:?}");
    }
    assert!(!meta.subscribed(entity, &["acme"]).await.unwrap(), "another org");
}
both_backends!(expiry, expiry_counts_at_once);
