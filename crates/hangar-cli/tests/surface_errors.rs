//! Every surface answers in its own wire format, whatever refuses or fails underneath: a
//! credential that is not good, a blob store that cannot write, and a database that is gone under
//! a running router. In-process (`TestApp`).

mod common;

use axum::http::Method;
use common::app::{Reply, TestApp};
use common::files::Target;
use common::{Auth, Backend, Stores};
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

/// NGC REST paths of every kind of handler: lists, entities, versions, files, the guest paths.
const NGC_PATHS: [(&str, &str); 10] = [
    ("GET", "/v2/org/acme/models"),
    ("GET", "/v2/org/acme/models/m"),
    ("GET", "/v2/org/acme/models/m/versions"),
    ("GET", "/v2/org/acme/models/m/versions/1"),
    ("GET", "/v2/org/acme/models/m/versions/1/files"),
    ("GET", "/v2/org/acme/team/t/resources/r"),
    ("GET", "/v2/org/acme/helm-charts/c/versions"),
    ("GET", "/v2/models/acme/m/versions/1"),
    ("PATCH", "/v2/org/acme/models/m"),
    ("DELETE", "/v2/org/acme/models/m/versions/1"),
];

async fn store_failures_in_each_format(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    app.team("acme", "t").await;
    let (_, member) = app
        .user("member@acme.test", &[("acme", None, Role::RegistryAdmin)])
        .await;
    let target = Target {
        space: "/v2/org/acme",
        kind: "models",
        name: "m",
        version: "1",
    };
    app.new_version(&member, &target).await;
    let data = b"bytes of a part the store cannot take";
    let started = app.start_upload(&member, &target, "weights.bin", data).await;
    let part = started["urls"][0].as_str().unwrap().to_string();

    // The blob folder cannot take the part (its staging folder is a file now): the store's
    // failure, a server error in the data plane's format, not the client's 400.
    if stores.backend == Backend::SqliteFolder {
        let staging = std::path::Path::new(&stores.blobs).join("tmp");
        std::fs::remove_dir_all(&staging).unwrap();
        std::fs::write(&staging, b"not a folder").unwrap();
        let reply = app.send(Method::PUT, &part, &Auth::None, &[], data.to_vec()).await;
        assert_ngc(&reply, 500, "a part the blob folder cannot store");
    }

    // The database goes away under the running router: every NGC handler answers 500 NGC JSON.
    app.state.meta.pool().close().await;
    for (method, path) in NGC_PATHS {
        let method: Method = method.parse().unwrap();
        let body = (method == Method::PATCH).then(|| serde_json::json!({"description": "d"}));
        let reply = app.call(method, path, &member, body).await;
        assert_ngc(&reply, 500, &format!("{path} without a database"));
    }
    let reply = app.send(Method::PUT, &part, &Auth::None, &[], data.to_vec()).await;
    assert_ngc(&reply, 500, "a part upload without a database");
}
both_backends!(store_failures, store_failures_in_each_format);
