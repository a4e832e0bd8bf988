//! Products, subscriptions and approvals (issue 15) against a real server on both backends:
//! platform admins manage products and subscriptions with `hangar admin product` and on the
//! REST API; `GET /v2/products` lists what the caller's orgs subscribe to; an expired
//! subscription ends a download of an ENTITLED model at once; a user of another org asks for
//! an APPROVAL model, its publisher's admin gets a mail, approves, the user downloads, the
//! admin revokes, the download is refused.

mod common;

use common::cli::Cli;
use common::{Api, Auth, Server, Stores, admin, admin_ok};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;

const FILE: &[u8] = b"weights of a model that needs more than a key";

/// A platform admin's legacy key.
fn platform_admin(stores: &Stores) -> Auth {
    admin_ok(
        stores,
        &[
            "user",
            "create",
            "root@hangar.test",
            "--name",
            "Root",
            "--platform-admin",
        ],
    );
    Auth::Key(admin_ok(stores, &["key", "legacy", "--user", "root@hangar.test"]))
}

/// Bob, a registry reader of his own org `beta`, with a personal key there.
fn bob(stores: &Stores) -> String {
    admin_ok(stores, &["org", "create", "beta"]);
    admin_ok(stores, &["user", "create", "bob@beta.test", "--name", "Bob"]);
    admin_ok(
        stores,
        &[
            "role",
            "grant",
            "bob@beta.test",
            "--org",
            "beta",
            "--role",
            "REGISTRY_READ",
        ],
    );
    admin_ok(stores, &["key", "personal", "--org", "beta", "--user", "bob@beta.test"])
}

/// `acme/{name}` with one version holding `a.bin`, made with the CLI as the owner.
fn model_with_file(owner: &Cli, dir: &Path, name: &str) {
    let target = format!("acme/{name}");
    owner.ok(&[
        "create",
        &target,
        "--application",
        "OTHER",
        "--framework",
        "PyTorch",
        "--format",
        "onnx",
        "--precision",
        "FP16",
        "--short-desc",
        "gated",
    ]);
    let source = dir.join(name);
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("a.bin"), FILE).unwrap();
    owner.ok(&[
        "upload-version",
        &format!("{target}:1"),
        "--source",
        source.to_str().unwrap(),
    ]);
}

/// The status of downloading `a.bin` of `acme/{name}:1`, and the bytes on success.
async fn download(api: &Api, name: &str, auth: &Auth) -> (StatusCode, Vec<u8>) {
    let url = format!("{}/v2/org/acme/models/{name}/versions/1/files/a.bin", api.base);
    let mut request = api.raw().get(url);
    if let Auth::Key(key) = auth {
        request = request.basic_auth("$oauthtoken", Some(key));
    }
    let response = request.send().await.expect("download");
    let status = response.status();
    (status, response.bytes().await.expect("body").to_vec())
}

async fn put(api: &Api, auth: &Auth, path: &str, body: Value) -> (StatusCode, Value) {
    api.call(Method::PUT, path, auth, Some(body)).await
}

/// NGC's error word of a refusal.
fn code(body: &Value) -> &str {
    body["requestStatus"]["statusCode"].as_str().unwrap_or_default()
}

fn product_names(body: &Value) -> Vec<&str> {
    body["products"]
        .as_array()
        .unwrap_or_else(|| panic!("no products: {body}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

async fn products_and_subscriptions(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let root = platform_admin(stores);
    let owner_key = server.key();
    let owner_auth = Auth::Key(owner_key.clone());
    let bob_key = bob(stores);
    let bob_auth = Auth::Key(bob_key.clone());

    // On the database: create, list, update, refusals.
    let (ok, _, err) = admin(stores, &["product", "create", "NV-AI"]);
    assert!(!ok && err.contains("product name"), "{err}");
    admin_ok(
        stores,
        &[
            "product",
            "create",
            "nv-ai-enterprise",
            "--display-name",
            "NVIDIA AI Enterprise",
        ],
    );
    let (ok, _, err) = admin(stores, &["product", "create", "nv-ai-enterprise"]);
    assert!(!ok && err.contains("already exists"), "{err}");
    admin_ok(
        stores,
        &["product", "update", "nv-ai-enterprise", "--description", "the suite"],
    );
    let listed = admin_ok(stores, &["product", "list"]);
    assert_eq!(listed, "nv-ai-enterprise\tNVIDIA AI Enterprise\tthe suite");
    let (ok, _, err) = admin(stores, &["product", "subscribe", "beta", "nope"]);
    assert!(!ok && err.contains("product 'nope'"), "{err}");
    let (ok, _, err) = admin(
        stores,
        &["product", "subscribe", "beta", "nv-ai-enterprise", "--expires", "soon"],
    );
    assert!(!ok && err.contains("invalid expiry"), "{err}");
    admin_ok(
        stores,
        &[
            "product",
            "subscribe",
            "beta",
            "nv-ai-enterprise",
            "--expires",
            "2099-01-01",
        ],
    );
    let subscriptions = admin_ok(stores, &["product", "subscriptions", "beta"]);
    assert_eq!(subscriptions, "beta\tnv-ai-enterprise\t2099-01-01 00:00 UTC");

    // On the REST API: platform admins only.
    let (s, body) = api.get("/v2/admin/products", &Auth::None).await;
    assert_eq!((s.as_u16(), code(&body)), (401, "UNAUTHORIZED"), "{body}");
    let (s, body) = api.get("/v2/admin/products", &owner_auth).await;
    assert_eq!((s.as_u16(), code(&body)), (403, "FORBIDDEN"), "{body}");
    let (s, body) = api
        .post("/v2/admin/products", &owner_auth, json!({"name": "riva"}))
        .await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = api.post("/v2/admin/products", &root, json!({"name": "Riva"})).await;
    assert_eq!((s.as_u16(), code(&body)), (400, "INVALID_REQUEST"), "{body}");
    let (s, body) = api
        .post(
            "/v2/admin/products",
            &root,
            json!({"name": "riva", "description": "speech"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["product"]["displayName"], "riva", "{body}");
    let (s, body) = api.post("/v2/admin/products", &root, json!({"name": "riva"})).await;
    assert_eq!((s.as_u16(), code(&body)), (409, "CONFLICT"), "{body}");
    let (s, body) = api
        .patch(
            "/v2/admin/products/riva",
            &root,
            Some(json!({"displayName": "Riva Enterprise"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &body["product"]["description"]),
        (200, &json!("speech")),
        "{body}"
    );
    let (s, body) = api.get("/v2/admin/products", &root).await;
    assert_eq!(
        (s.as_u16(), product_names(&body)),
        (200, vec!["nv-ai-enterprise", "riva"])
    );
    let (s, body) = api.get("/v2/admin/products/nope", &root).await;
    assert_eq!((s.as_u16(), code(&body)), (404, "NOT_FOUND"), "{body}");
    let (s, body) = api.delete("/v2/admin/products/riva", &owner_auth).await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = api.delete("/v2/admin/products/riva", &root).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = api.get("/v2/admin/products/riva", &root).await;
    assert_eq!(s, 404);

    let subscription = "/v2/admin/orgs/beta/subscriptions/nv-ai-enterprise";
    let (s, body) = put(&api, &owner_auth, subscription, json!({"expiresAt": null})).await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = put(&api, &Auth::None, subscription, json!({"expiresAt": null})).await;
    assert_eq!(s, 401, "{body}");
    let (s, body) = put(&api, &root, "/v2/admin/orgs/beta/subscriptions/nope", json!({})).await;
    assert_eq!((s.as_u16(), code(&body)), (404, "NOT_FOUND"), "{body}");
    let (s, body) = put(
        &api,
        &root,
        "/v2/admin/orgs/nope/subscriptions/nv-ai-enterprise",
        json!({}),
    )
    .await;
    assert_eq!(s, 404, "{body}");
    let (s, body) = put(&api, &root, subscription, json!({"expiresAt": "next week"})).await;
    assert_eq!((s.as_u16(), code(&body)), (400, "INVALID_REQUEST"), "{body}");
    let (s, body) = put(&api, &root, subscription, json!({"expiresAt": "2099-06-30T12:00:00Z"})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["subscription"]["expiresAt"], "2099-06-30T12:00:00.000Z", "{body}");
    let (s, body) = api.get("/v2/admin/orgs/beta/subscriptions", &root).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["subscriptions"][0]["productName"], "nv-ai-enterprise", "{body}");

    // What the caller's orgs subscribe to.
    let (s, body) = api.get("/v2/products", &bob_auth).await;
    assert_eq!(
        (s.as_u16(), product_names(&body)),
        (200, vec!["nv-ai-enterprise"]),
        "{body}"
    );
    assert_eq!(body["products"][0]["expiresAt"], "2099-06-30T12:00:00.000Z", "{body}");
    assert_eq!(body["products"][0]["displayName"], "NVIDIA AI Enterprise", "{body}");
    for auth in [&owner_auth, &Auth::None] {
        let (s, body) = api.get("/v2/products", auth).await;
        assert_eq!((s.as_u16(), &body["products"]), (200, &json!([])), "{body}");
    }

    // An ENTITLED model: offered with the CLI, downloaded by the subscriber.
    let dir = tempfile::tempdir().unwrap();
    let owner = Cli::new(&server, &dir.path().join("owner"))
        .key(&owner_key)
        .org("acme")
        .prefix(&["registry", "model"]);
    model_with_file(&owner, dir.path(), "ent");
    let err = owner.fails(&["update", "acme/ent", "--access-type", "ENTITLED"]);
    assert!(err.contains("needs at least one product"), "{err}");
    let err = owner.fails(&["update", "acme/ent", "--access-type", "ENTITLED", "--product", "nope"]);
    assert!(err.contains("no product 'nope'"), "{err}");
    let err = owner.fails(&["update", "acme/ent", "--access-type", "open"]);
    assert!(err.contains("--access-type must be one of"), "{err}");
    owner.ok(&[
        "update",
        "acme/ent",
        "--access-type",
        "entitled",
        "--product",
        "nv-ai-enterprise",
    ]);
    let info = owner.ok(&["info", "acme/ent"]);
    for line in ["Access Level: ENTITLED", "Products: nv-ai-enterprise"] {
        assert!(info.contains(line), "{line} missing from:\n{info}");
    }
    let info = owner.json(&["info", "acme/ent"]);
    assert_eq!(
        (&info["accessLevel"], &info["productNames"]),
        (&json!("ENTITLED"), &json!(["nv-ai-enterprise"])),
        "{info}"
    );
    let (s, bytes) = download(&api, "ent", &bob_auth).await;
    assert_eq!((s.as_u16(), bytes.as_slice()), (200, FILE));

    // The subscription lapses: the very next download is refused.
    let (s, body) = put(&api, &root, subscription, json!({"expiresAt": "2001-01-01T00:00:00Z"})).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = download(&api, "ent", &bob_auth).await;
    assert_eq!(s, 403, "an expired subscription still downloads");
    let (_, body) = api.get("/v2/products", &bob_auth).await;
    assert_eq!(body["products"], json!([]), "{body}");
    let listed = admin_ok(stores, &["product", "subscriptions"]);
    assert!(listed.ends_with("expired"), "{listed}");
    // Renewed with no end, then ended on the database.
    let (s, body) = put(&api, &root, subscription, json!({"expiresAt": null})).await;
    assert_eq!(
        (s.as_u16(), &body["subscription"]["expiresAt"]),
        (200, &Value::Null),
        "{body}"
    );
    assert_eq!(download(&api, "ent", &bob_auth).await.0, 200);
    admin_ok(stores, &["product", "unsubscribe", "beta", "nv-ai-enterprise"]);
    assert_eq!(download(&api, "ent", &bob_auth).await.0, 403);
    let (ok, _, err) = admin(stores, &["product", "unsubscribe", "beta", "nv-ai-enterprise"]);
    assert!(!ok && err.contains("subscription"), "{err}");

    // Clearing the products of a model that is no longer gated by them.
    owner.ok(&["update", "acme/ent", "--access-type", "AUTHENTICATED", "--no-products"]);
    let info = owner.json(&["info", "acme/ent"]);
    assert_eq!(info["productNames"], json!([]), "{info}");
    admin_ok(stores, &["product", "remove", "nv-ai-enterprise"]);
    assert_eq!(admin_ok(stores, &["product", "list"]), "");
}
both_backends!(products, products_and_subscriptions);

async fn approval_flow(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner_key = server.key();
    let owner_auth = Auth::Key(owner_key.clone());
    let bob_key = bob(stores);
    let bob_auth = Auth::Key(bob_key.clone());
    let dir = tempfile::tempdir().unwrap();
    let owner = Cli::new(&server, &dir.path().join("owner"))
        .key(&owner_key)
        .org("acme")
        .prefix(&["registry", "model"]);
    let bob_cli = Cli::new(&server, &dir.path().join("bob"))
        .key(&bob_key)
        .org("beta")
        .prefix(&["registry", "model"]);
    model_with_file(&owner, dir.path(), "gated");
    model_with_file(&owner, dir.path(), "open");
    owner.ok(&["update", "acme/open", "--access-type", "AUTHENTICATED"]);

    // Not yet approved: bob sees it but may not download it, and asks.
    let err = bob_cli.fails(&["request-access", "acme/gated"]);
    assert!(
        err.contains("could not be found"),
        "a private model takes no requests: {err}"
    );
    owner.ok(&["update", "acme/gated", "--access-type", "APPROVAL"]);
    assert_eq!(download(&api, "gated", &bob_auth).await.0, 403);
    let asked = bob_cli.json(&["request-access", "acme/gated", "--note", "for our research"]);
    assert_eq!(
        (&asked["accessRequest"]["state"], &asked["accessRequest"]["userEmail"]),
        (&json!("PENDING"), &json!("bob@beta.test")),
        "{asked}"
    );
    let again = bob_cli.ok(&["request-access", "acme/gated"]);
    assert!(again.contains("PENDING"), "{again}");
    let outbox = admin_ok(stores, &["outbox", "--limit", "100"]);
    let to_owner = "To: owner@acme.test\nSubject: bob@beta.test asks for access to model 'acme/gated'";
    assert_eq!(
        outbox.matches(to_owner).count(),
        1,
        "one mail, not one per ask: {outbox}"
    );
    assert!(outbox.contains("for our research"), "{outbox}");
    assert!(outbox.contains("hangar registry model approve acme/gated --user bob@beta.test"));
    assert_eq!(server.logged(&["access request mail", "owner@acme.test"]), 1);

    // Refusals: on a model that takes no requests, a guest, someone who does not answer for it.
    let requests = "/v2/org/acme/models/gated/access-requests";
    let (s, body) = api
        .post("/v2/org/acme/models/open/access-requests", &bob_auth, json!({}))
        .await;
    assert_eq!((s.as_u16(), code(&body)), (400, "INVALID_REQUEST"), "{body}");
    let (s, body) = api.post(requests, &Auth::None, json!({})).await;
    assert_eq!((s.as_u16(), code(&body)), (401, "UNAUTHORIZED"), "{body}");
    let (s, body) = api.post(requests, &bob_auth, json!({"notes": "x"})).await;
    assert_eq!(s, 400, "{body}");
    let err = bob_cli.fails(&["access-requests", "acme/gated"]);
    assert!(err.contains("only registry admins and org owners"), "{err}");
    let err = bob_cli.fails(&["approve", "acme/gated", "--user", "bob@beta.test"]);
    assert!(err.contains("only registry admins and org owners"), "{err}");
    let err = owner.fails(&["revoke", "acme/gated", "--user", "bob@beta.test"]);
    assert!(err.contains("is PENDING"), "{err}");
    let err = owner.fails(&["approve", "acme/gated", "--user", "nobody@beta.test"]);
    assert!(err.contains("not found"), "{err}");
    let (s, body) = api
        .call(
            Method::PUT,
            &format!("{requests}/bob@beta.test"),
            &owner_auth,
            Some(json!({"state": "MAYBE"})),
        )
        .await;
    assert_eq!((s.as_u16(), code(&body)), (400, "INVALID_REQUEST"), "{body}");
    let (s, body) = api.get(&format!("{requests}?state=SOON"), &owner_auth).await;
    assert_eq!(s, 400, "{body}");

    // The publisher's admin lists and approves; bob is told and downloads.
    let pending = owner.json(&["access-requests", "acme/gated", "--state", "pending"]);
    assert_eq!(pending[0]["userEmail"], "bob@beta.test", "{pending}");
    assert_eq!(pending[0]["note"], "for our research", "{pending}");
    let table = owner.ok(&["access-requests", "acme/gated"]);
    assert!(table.contains("bob@beta.test") && table.contains("PENDING"), "{table}");
    let approved = owner.json(&["approve", "acme/gated", "--user", "bob@beta.test"]);
    assert_eq!(approved["accessRequest"]["state"], "APPROVED", "{approved}");
    assert_eq!(approved["accessRequest"]["decidedBy"], "owner@acme.test", "{approved}");
    let outbox = admin_ok(stores, &["outbox", "--limit", "100"]);
    assert!(
        outbox.contains("To: bob@beta.test\nSubject: Your access to model 'acme/gated' was approved"),
        "{outbox}"
    );
    let (s, bytes) = download(&api, "gated", &bob_auth).await;
    assert_eq!((s.as_u16(), bytes.as_slice()), (200, FILE));
    let me = Cli::new(&server, &dir.path().join("bob")).key(&bob_key).org("beta");
    let mine = me.json(&["user", "access-requests"]);
    assert_eq!(
        (&mine[0]["entityName"], &mine[0]["state"]),
        (&json!("acme/gated"), &json!("APPROVED")),
        "{mine}"
    );
    let (s, body) = api.get("/v2/users/me/access-requests", &Auth::None).await;
    assert_eq!(s, 401, "{body}");
    let pending = owner.json(&["access-requests", "acme/gated", "--state", "PENDING"]);
    assert_eq!(pending, json!([]));

    // Revoked: the very next download is refused; a new ask is pending again.
    owner.ok(&["revoke", "acme/gated", "--user", "bob@beta.test"]);
    assert_eq!(download(&api, "gated", &bob_auth).await.0, 403);
    let err = owner.fails(&["deny", "acme/gated", "--user", "bob@beta.test"]);
    assert!(err.contains("is REVOKED"), "{err}");
    let asked = bob_cli.json(&["request-access", "acme/gated"]);
    assert_eq!(asked["accessRequest"]["state"], "PENDING", "{asked}");
    let denied = owner.json(&["deny", "acme/gated", "--user", "bob@beta.test"]);
    assert_eq!(denied["accessRequest"]["state"], "DENIED", "{denied}");
    assert_eq!(download(&api, "gated", &bob_auth).await.0, 403);
    let outbox = admin_ok(stores, &["outbox", "--limit", "100"]);
    assert!(
        outbox.contains("Your access to model 'acme/gated' was denied"),
        "{outbox}"
    );

    // The same on a container repository.
    let (s, body) = api
        .post(
            "/v2/org/acme/repos",
            &owner_auth,
            json!({"name": "web", "accessType": "APPROVAL"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let images = Cli::new(&server, &dir.path().join("bob"))
        .key(&bob_key)
        .org("beta")
        .prefix(&["registry", "image"]);
    let asked = images.json(&["request-access", "acme/web"]);
    assert_eq!(asked["accessRequest"]["entityType"], "repository", "{asked}");
    let owner_images = owner.prefix(&["registry", "image"]);
    let approved = owner_images.json(&["approve", "acme/web", "--user", "bob@beta.test"]);
    assert_eq!(approved["accessRequest"]["entityName"], "acme/web", "{approved}");
    let info = owner_images.ok(&["info", "acme/web"]);
    assert!(info.contains("Access Level: APPROVAL"), "{info}");
}
both_backends!(approvals, approval_flow);
