//! NVIDIA's `ngc registry collection …` end to end on both backends: create with items, add
//! items of every kind, info showing them in order, update, find, remove an item, a guest who
//! sees a guest-access collection but not the private models in it (its own org's, nor
//! another org's added by a publisher in both), remove.

mod common;

use common::ngc::{Ngc, bundle, ngc_paths};
use common::{Api, Auth, Server, Stores, admin_ok, member};
use reqwest::Method;
use serde_json::{Value, json};

/// `org/name` of every entry of `list`.
fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| {
            format!(
                "{}/{}",
                v["orgName"].as_str().unwrap_or_default(),
                v["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The strings of `list`, sorted (ngc sends labels in a set's order).
fn sorted(list: &Value) -> Vec<&str> {
    let mut words: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    words.sort();
    words
}

/// `ngc registry collection update acme/kit --add-model MODEL` reports the server's refusal.
fn refused_model(ngc: &Ngc, model: &str) {
    let (code, _, err) = ngc.run(&["registry", "collection", "update", "acme/kit", "--add-model", model]);
    assert!(err.contains(&format!("Unable to add '{model}'")), "exit {code}: {err}");
}

async fn collection_commands(stores: &Stores) {
    let Some(paths) = ngc_paths() else {
        return;
    };
    let dir = stores.dir.path();
    let (server, ca) = Server::start_tls(stores);
    let bundle = bundle(dir, &ca.ca_pem);
    let owner_key = server.key();
    let api = Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    let owner_auth = Auth::Key(owner_key.clone());
    for (space, name, access) in [
        ("models", "open", "GUEST"),
        ("models", "secret", "PRIVATE"),
        ("resources", "recipe", "GUEST"),
        ("helm-charts", "chart", "GUEST"),
        ("repos", "web", "GUEST"),
    ] {
        let (status, reply) = api
            .post(
                &format!("/v2/org/acme/{space}"),
                &owner_auth,
                json!({"name": name, "accessType": access}),
            )
            .await;
        assert_eq!(status, 200, "{space}/{name}: {reply}");
    }
    let owner = Ngc::new(&paths, &server.base, &bundle, dir.join("owner")).with_key(&owner_key);
    let overview = dir.join("overview.md");
    std::fs::write(&overview, "# Kit\n\nEverything to start.").unwrap();
    let created = owner.json(&[
        "registry",
        "collection",
        "create",
        "acme/kit",
        "--display-name",
        "Kit",
        "--short-desc",
        "everything to start",
        "--category",
        "robotics",
        "--overview-filename",
        overview.to_str().unwrap(),
        "--built-by",
        "acme",
        "--publisher",
        "Acme Corp",
        "--logo",
        "https://acme.test/kit.png",
        "--label",
        "starter",
        "--label",
        "robots",
        "--add-model",
        "acme/open",
        "--add-image",
        "acme/web",
    ]);
    assert_eq!(created["name"], "kit", "{created}");
    assert_eq!(created["category"], "ROBOTICS", "{created}");
    for (flag, item) in [
        ("--add-model", "acme/secret"),
        ("--add-resource", "acme/recipe"),
        ("--add-chart", "acme/chart"),
    ] {
        owner.ok(&["registry", "collection", "update", "acme/kit", flag, item]);
    }
    let info = owner.json(&["registry", "collection", "info", "acme/kit"]);
    assert_eq!(info["displayName"], "Kit", "{info}");
    assert_eq!(info["description"], "# Kit\n\nEverything to start.", "{info}");
    assert_eq!(info["shortDescription"], "everything to start", "{info}");
    assert_eq!(info["publisher"], "Acme Corp", "{info}");
    assert_eq!(info["builtBy"], "acme", "{info}");
    assert_eq!(info["logo"], "https://acme.test/kit.png", "{info}");
    assert_eq!(
        sorted(&info["labels"]),
        ["robots", "starter"],
        "kept when items are added: {info}"
    );
    assert_eq!(
        names(&info["models"]),
        ["acme/open", "acme/secret"],
        "in the order added: {info}"
    );
    assert_eq!(names(&info["images"]), ["acme/web"], "{info}");
    assert_eq!(names(&info["resources"]), ["acme/recipe"], "{info}");
    assert_eq!(names(&info["charts"]), ["acme/chart"], "{info}");

    // An unknown item is refused by the server and reported by ngc.
    refused_model(&owner, "acme/nope");

    // Related collections of an entity.
    let found = owner.json(&["registry", "collection", "find", "RESOURCE", "acme/recipe"]);
    assert_eq!(names(&found), ["acme/kit"], "{found}");

    // Another org's private model, added by a publisher in both orgs (whose legacy key reaches
    // every org of its owner); ngc with the acme key may not add it.
    admin_ok(stores, &["org", "create", "beta"]);
    let (org, role) = ("beta", "REGISTRY_ADMIN");
    admin_ok(
        stores,
        &["role", "grant", "owner@acme.test", "--org", org, "--role", role],
    );
    let legacy = Auth::Key(admin_ok(stores, &["key", "legacy", "--user", "owner@acme.test"]));
    let (status, reply) = api
        .post(
            "/v2/org/beta/models",
            &legacy,
            json!({"name": "private", "accessType": "PRIVATE"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    refused_model(&owner, "beta/private");
    let item = "/v2/org/acme/collections/kit/artifacts/org/beta/models/private";
    let (status, reply) = api.call(Method::PUT, item, &legacy, None).await;
    assert_eq!(status, 200, "{reply}");
    let (_, all) = api.get("/v2/org/acme/collections/kit/artifacts/models", &legacy).await;
    assert_eq!(
        names(&all["artifacts"]),
        ["acme/open", "acme/secret", "beta/private"],
        "{all}"
    );

    // A guest sees a guest-access collection, without the private models in it; a reader of
    // acme sees acme's private model but not beta's.
    let (status, reply) = api
        .patch(
            "/v2/org/acme/collections/kit",
            &owner_auth,
            Some(json!({"accessType": "GUEST"})),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let guest = Ngc::new(&paths, &server.base, &bundle, dir.join("guest"));
    let seen = guest.json(&["registry", "collection", "info", "acme/kit"]);
    assert_eq!(names(&seen["models"]), ["acme/open"], "{seen}");
    assert!(!seen.to_string().contains("secret"), "{seen}");
    assert!(!seen.to_string().contains("private"), "{seen}");
    let reader_key = member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]);
    let reader = Ngc::new(&paths, &server.base, &bundle, dir.join("reader")).with_key(&reader_key);
    let seen = reader.json(&["registry", "collection", "info", "acme/kit"]);
    assert_eq!(names(&seen["models"]), ["acme/open", "acme/secret"], "{seen}");
    assert!(!seen.to_string().contains("beta"), "{seen}");

    // Update the fields and remove an item.
    owner.ok(&[
        "registry",
        "collection",
        "update",
        "acme/kit",
        "--display-name",
        "Starter kit",
        "--add-label",
        "vision",
        "--remove-label",
        "starter",
        "--remove-model",
        "acme/open",
    ]);
    let info = owner.json(&["registry", "collection", "info", "acme/kit"]);
    assert_eq!(info["displayName"], "Starter kit", "{info}");
    assert_eq!(sorted(&info["labels"]), ["robots", "vision"], "{info}");
    assert_eq!(info["category"], "ROBOTICS", "unchanged: {info}");
    assert_eq!(names(&info["models"]), ["acme/secret"], "{info}");
    owner.ok(&[
        "registry",
        "collection",
        "update",
        "acme/kit",
        "--remove-image",
        "acme/web",
        "--remove-chart",
        "acme/chart",
    ]);
    let info = owner.json(&["registry", "collection", "info", "acme/kit"]);
    assert_eq!(info["images"], json!([]), "{info}");
    assert_eq!(info["charts"], json!([]), "{info}");
    assert_eq!(names(&info["resources"]), ["acme/recipe"], "{info}");

    owner.ok(&["registry", "collection", "remove", "acme/kit", "-y"]);
    let refused = owner.refused(&["registry", "collection", "info", "acme/kit"]);
    assert!(refused.contains("could not be found"), "{refused}");
}

both_backends!(collections_ngc, collection_commands);
