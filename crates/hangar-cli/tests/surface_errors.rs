//! Every surface answers in its own wire format, whatever refuses or fails underneath: a
//! credential that is not good, and a database that is gone under a running router. In-process
//! (`TestApp`).

mod common;

use axum::http::Method;
use common::app::{Reply, TestApp};
use common::{Auth, Stores};
use hangar_core::roles::Role;
use sha2::{Digest, Sha256};

const WRONG_KEY: &str = "nvapi-this-key-does-not-exist-000000000000000000000000000000000000000";

/// Helm's format: `{"error": "…"}`, and a Basic challenge on 401.
fn assert_helm(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text());
    assert!(reply.json()["error"].is_string(), "{what}: {}", reply.text());
    if status == 401 {
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Basic "), "{what}: {challenge:?}");
    }
}

/// NGC's format: `{"requestStatus": {"statusCode": …}}`.
fn assert_ngc(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text());
    assert!(
        reply.json()["requestStatus"]["statusCode"].is_string(),
        "{what}: {}",
        reply.text()
    );
}

/// OCI's format: `{"errors": [{"code": …, "message": …}]}` (a HEAD answer has no body).
fn assert_oci(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text());
    if !reply.body.is_empty() {
        assert!(
            reply.json()["errors"][0]["code"].is_string(),
            "{what}: {}",
            reply.text()
        );
    }
}

/// Registry requests that reach the stores: a read, a blob check and a monolithic upload.
fn registry_requests() -> Vec<(Method, String, Vec<u8>)> {
    let blob = b"a layer".to_vec();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&blob)));
    vec![
        (Method::GET, "/v2/acme/x/manifests/latest".into(), vec![]),
        (Method::HEAD, format!("/v2/acme/x/blobs/{digest}"), vec![]),
        (Method::POST, format!("/v2/acme/x/blobs/uploads/?digest={digest}"), blob),
    ]
}

const HELM_PATHS: [&str; 4] = [
    "/acme/index.yaml",
    "/acme/charts/chart-1.0.0.tgz",
    "/api/acme/charts",
    "/helm/acme/charts/chart-1.0.0.tgz",
];

async fn refusals_in_each_format(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    let (_, member) = app
        .user("member@acme.test", &[("acme", None, Role::RegistryUser)])
        .await;
    for auth in [Auth::Bearer(WRONG_KEY.into()), Auth::Key(WRONG_KEY.into())] {
        for path in HELM_PATHS {
            let reply = app.send(Method::GET, path, &auth, &[], vec![]).await;
            assert_helm(&reply, 401, &format!("{path} with a wrong key"));
        }
        let reply = app.send(Method::GET, "/v2/org/acme/models", &auth, &[], vec![]).await;
        assert_ngc(&reply, 401, "models with a wrong key");
    }
    let reply = app
        .send(Method::GET, "/acme/charts/chart-1.0.0.tgz", &member, &[], vec![])
        .await;
    assert_helm(&reply, 404, "a chart archive that is not there");

    // The database goes away under the running router: server errors, each in its format.
    // The member's credentials are in the read cache: the registry gets past them to the stores.
    let reply = app.send(Method::GET, "/v2/", &member, &[], vec![]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    app.state.meta.pool().close().await;
    for auth in [&member, &Auth::None] {
        for (method, path, body) in registry_requests() {
            let reply = app.send(method.clone(), &path, auth, &[], body).await;
            assert_oci(&reply, 500, &format!("{method} {path} without a database"));
        }
    }
    for path in HELM_PATHS {
        let reply = app.send(Method::GET, path, &member, &[], vec![]).await;
        assert_helm(&reply, 500, &format!("{path} without a database"));
    }
    let reply = app.send(Method::GET, "/v2/org/acme/models", &member, &[], vec![]).await;
    assert_ngc(&reply, 500, "models without a database");
}
both_backends!(refusals, refusals_in_each_format);
