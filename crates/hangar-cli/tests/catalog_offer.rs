//! Setting how an entity is offered (`accessType`, `productNames`, `isPublic`), in-process on
//! both backends: what each level shows in NGC's JSON, who may change it, and bad input refused
//! in NGC's error format with nothing changed.

mod common;

use axum::http::Method;
use common::app::{Reply, TestApp};
use common::{Auth, Stores};
use hangar_core::roles::Role;
use serde_json::{Value, json};

const MODEL: &str = "/v2/org/acme/models/det";
const REPO: &str = "/v2/org/acme/repos/web";

fn status_word(reply: &Reply) -> String {
    reply.json()["requestStatus"]["statusCode"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn add_product(app: &TestApp, name: &str) {
    app.state.meta.create_product(name, name, "").await.expect("a product");
}

/// The offer fields of an entity's JSON.
fn offer_of(entity: &Value) -> Value {
    json!({
        "accessType": entity["accessType"],
        "productNames": entity["productNames"],
        "isPublic": entity["isPublic"],
        "canGuestDownload": entity["canGuestDownload"],
    })
}

async fn offers(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    let (_, user) = app.user("user@acme.test", &[("acme", None, Role::RegistryUser)]).await;
    add_product(&app, "enterprise").await;
    let made = app
        .call(
            Method::POST,
            "/v2/org/acme/models",
            &owner,
            Some(json!({"name": "det"})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text());
    assert_eq!(
        offer_of(&made.json()["model"]),
        json!({"accessType": "NOT_LISTED", "productNames": [], "isPublic": false, "canGuestDownload": false}),
        "private unless said otherwise"
    );
    let made = app
        .call(
            Method::POST,
            "/v2/org/acme/repos",
            &owner,
            Some(json!({"name": "web", "accessType": "GUEST"})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text());
    let repo = made.json();
    let repo = if repo["repository"].is_object() {
        repo["repository"].clone()
    } else {
        repo
    };
    assert_eq!(
        (&repo["accessType"], &repo["canGuestPull"]),
        (&json!("LISTED"), &json!(true)),
        "{repo}"
    );

    // What each level shows.
    for (body, expected) in [
        (
            json!({"accessType": "AUTHENTICATED"}),
            json!({"accessType": "LISTED", "productNames": [], "isPublic": true, "canGuestDownload": false}),
        ),
        (
            json!({"accessType": "ENTITLED", "productNames": ["enterprise"]}),
            json!({"accessType": "LISTED", "productNames": ["enterprise"], "isPublic": true, "canGuestDownload": false}),
        ),
        (
            json!({"accessType": "EXCLUSIVE"}),
            json!({"accessType": "EXCLUSIVE", "productNames": ["enterprise"], "isPublic": false, "canGuestDownload": false}),
        ),
        (
            json!({"isPublic": true, "productNames": []}),
            json!({"accessType": "LISTED", "productNames": [], "isPublic": true, "canGuestDownload": true}),
        ),
        (
            json!({"accessType": "not_listed"}),
            json!({"accessType": "NOT_LISTED", "productNames": [], "isPublic": false, "canGuestDownload": false}),
        ),
    ] {
        let changed = app.call(Method::PATCH, MODEL, &owner, Some(body.clone())).await;
        assert_eq!(changed.status, 200, "{body}: {}", changed.text());
        assert_eq!(offer_of(&changed.json()["model"]), expected, "{body}");
        let read = app.call(Method::GET, MODEL, &owner, None).await;
        assert_eq!(offer_of(&read.json()["model"]), expected, "{body}, read back");
    }

    // Bad input: NGC's error JSON, and nothing changes.
    for (who, auth, body, status) in [
        ("owner", &owner, json!({"accessType": "PUBLIC"}), 400),
        ("owner", &owner, json!({"accessType": 3}), 400),
        ("owner", &owner, json!({"accessType": "ENTITLED"}), 400),
        (
            "owner",
            &owner,
            json!({"accessType": "ENTITLED", "productNames": ["nope"]}),
            400,
        ),
        ("owner", &owner, json!({"productNames": "enterprise"}), 400),
        ("owner", &owner, json!({"isPublic": "yes"}), 400),
        ("registry user", &user, json!({"accessType": "GUEST"}), 403),
        ("guest", &Auth::None, json!({"accessType": "GUEST"}), 401),
    ] {
        for uri in [MODEL, REPO] {
            let before = app.call(Method::GET, uri, &owner, None).await.json();
            let refused = app.call(Method::PATCH, uri, auth, Some(body.clone())).await;
            assert_eq!(refused.status, status, "{who} {uri} {body}: {}", refused.text());
            assert!(
                ["BAD_REQUEST", "FORBIDDEN", "UNAUTHORIZED", "INVALID_REQUEST"]
                    .contains(&status_word(&refused).as_str()),
                "NGC's error format: {}",
                refused.text()
            );
            let after = app.call(Method::GET, uri, &owner, None).await.json();
            let strip = |mut v: Value| {
                for key in ["model", "repository"] {
                    if let Some(o) = v.get_mut(key).and_then(Value::as_object_mut) {
                        o.remove("updatedDate");
                    }
                }
                if let Some(o) = v.as_object_mut() {
                    o.remove("updatedDate");
                    o.remove("requestStatus");
                }
                v
            };
            assert_eq!(strip(before), strip(after), "{who} {uri} {body} changed nothing");
        }
    }
    let made = app
        .call(
            Method::POST,
            "/v2/org/acme/models",
            &owner,
            Some(json!({"name": "half", "accessType": "EXCLUSIVE"})),
        )
        .await;
    assert_eq!(made.status, 400, "{}", made.text());
    let absent = app.call(Method::GET, "/v2/org/acme/models/half", &owner, None).await;
    assert_eq!(absent.status, 404, "a refused create makes nothing");
}
both_backends!(catalog_offer, offers);
