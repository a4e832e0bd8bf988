//! `hangar registry collection …` against a real server on both backends, as a user runs them:
//! create with items of several kinds, info with the items by kind in order, add and
//! remove-item, update (fields, labels, items, --access-type GUEST), list with a glob (and as a
//! guest, who sees no private item), remove; bad input exits 1 with a message that says what is wrong.

mod common;

use common::cli::Cli;
use common::registry::Registry;
use common::{Server, Stores};
use serde_json::Value;

/// `org/name` of each item of `kind` (`images`, `charts`, `models`, `resources`) in `info`'s
/// json, in order.
fn item_names(info: &Value, kind: &str) -> Vec<String> {
    info[kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} in {info}"))
        .iter()
        .map(|item| {
            format!(
                "{}/{}",
                item["orgName"].as_str().unwrap_or_default(),
                item["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

fn listed_names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| c["resourceId"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn contains_in_order(output: &str, lines: &[&str]) {
    let mut rest = output;
    for line in lines {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("{line:?} missing (or out of order) in:\n{output}"));
        rest = &rest[at + line.len()..];
    }
}

/// The items a collection can hold: two models, a resource, a chart and an image.
async fn catalog(server: &Server, owner: &Cli) {
    let model = owner.prefix(&["registry", "model"]);
    for name in ["acme/detector", "acme/tracker"] {
        model.ok(&[
            "create",
            name,
            "--application",
            "OTHER",
            "--framework",
            "PyTorch",
            "--format",
            "onnx",
            "--precision",
            "FP16",
            "--short-desc",
            "a model",
        ]);
    }
    owner.prefix(&["registry", "resource"]).ok(&[
        "create",
        "acme/recipe",
        "--application",
        "OTHER",
        "--framework",
        "PyTorch",
        "--format",
        "onnx",
        "--precision",
        "FP16",
        "--short-desc",
        "a recipe",
    ]);
    owner
        .prefix(&["registry", "chart"])
        .ok(&["create", "acme/web-chart", "--short-desc", "a chart"]);
    Registry::new(server, Some(server.key()))
        .push_image("acme/web", "1")
        .await;
}

async fn collection_commands(stores: &Stores) {
    let server = Server::start(stores);
    let dir = stores.dir.path();
    let owner = Cli::new(&server, &dir.join("home")).org("acme").key(&server.key());
    catalog(&server, &owner).await;
    let coll = owner.prefix(&["registry", "collection"]);

    // create, with items of two kinds; the block shows them under their kinds' headings.
    let overview = dir.join("kit.md");
    std::fs::write(&overview, "# Kit\nstart here").unwrap();
    let out = coll.ok(&[
        "create",
        "acme/kit",
        "--short-desc",
        "Start here",
        "--category",
        "robotics",
        "--display-name",
        "Kit",
        "--label",
        "starter",
        "--overview-filename",
        overview.to_str().unwrap(),
        "--add-model",
        "acme/detector",
        "--add-image",
        "acme/web",
    ]);
    contains_in_order(
        &out,
        &[
            "Successfully created collection 'acme/kit'.",
            "Collection Information",
            "Display Name: Kit",
            "Short Description: Start here",
            "Category: ROBOTICS",
            "starter",
            "Images",
            "acme/web",
            "Charts",
            "Models",
            "acme/detector",
            "Resources",
            "Overview",
            "start here",
        ],
    );

    // add: items of other kinds, appended; info shows each kind in the order added.
    let out = coll.ok(&["add", "acme/kit", "model", "acme/tracker"]);
    assert!(
        out.contains("Successfully added 1 model(s) to collection 'acme/kit'."),
        "{out}"
    );
    coll.ok(&["add", "acme/kit", "resource", "acme/recipe"]);
    coll.ok(&["add", "acme/kit", "chart", "acme/web-chart"]);
    let info = coll.json(&["info", "acme/kit"]);
    assert_eq!(info["name"], "kit");
    assert_eq!(info["category"], "ROBOTICS");
    assert_eq!(item_names(&info, "images"), ["acme/web"]);
    assert_eq!(item_names(&info, "charts"), ["acme/web-chart"]);
    assert_eq!(item_names(&info, "models"), ["acme/detector", "acme/tracker"]);
    assert_eq!(item_names(&info, "resources"), ["acme/recipe"]);
    let out = coll.ok(&["info", "acme/kit"]);
    contains_in_order(
        &out,
        &["Charts", "acme/web-chart", "Models", "acme/detector", "acme/tracker"],
    );

    // update: fields, labels, an item out (adds go first, as in `ngc`), and the access level.
    let out = coll.ok(&[
        "update",
        "acme/kit",
        "--short-desc",
        "Everything",
        "--add-label",
        "robots",
        "--remove-label",
        "starter",
        "--remove-model",
        "acme/detector",
        "--access-type",
        "GUEST",
    ]);
    contains_in_order(
        &out,
        &[
            "Successfully updated collection 'acme/kit'.",
            "Short Description: Everything",
            "robots",
            "Models",
            "acme/tracker",
            "Resources",
            "Access Level: GUEST",
        ],
    );
    let info = coll.json(&["info", "acme/kit"]);
    assert_eq!(info["accessLevel"], "GUEST");
    assert_eq!(info["labels"], serde_json::json!(["robots"]));
    assert_eq!(item_names(&info, "models"), ["acme/tracker"]);

    // list with a glob, as the owner and as a guest (the collection is GUEST now).
    coll.ok(&[
        "create",
        "acme/other",
        "--short-desc",
        "other",
        "--category",
        "BEGINNER",
    ]);
    assert_eq!(listed_names(&coll.json(&["list", "acme/k*"])), ["acme/kit"]);
    assert_eq!(
        listed_names(&coll.json(&["list", "acme/*"])),
        ["acme/kit", "acme/other"]
    );
    let out = coll.ok(&["list", "acme/k*"]);
    assert!(
        out.contains("Display Name") && out.contains("acme/kit") && !out.contains("acme/other"),
        "{out}"
    );
    let guest = Cli::new(&server, &dir.join("guest")).prefix(&["registry", "collection"]);
    assert_eq!(listed_names(&guest.json(&["list", "acme/*"])), ["acme/kit"]);
    // A guest sees the collection, but none of its items: they are all private.
    let seen = guest.json(&["info", "acme/kit"]);
    assert_eq!(seen["name"], "kit");
    for kind in ["images", "charts", "models", "resources"] {
        assert!(item_names(&seen, kind).is_empty(), "{seen}");
    }

    // remove-item.
    let out = coll.ok(&["remove-item", "acme/kit", "model", "acme/tracker"]);
    assert!(
        out.contains("Successfully removed 1 model(s) from collection 'acme/kit'."),
        "{out}"
    );
    let info = coll.json(&["info", "acme/kit"]);
    assert!(item_names(&info, "models").is_empty(), "{info}");
    assert_eq!(item_names(&info, "resources"), ["acme/recipe"]);

    // Bad input: exit code 1 and a message that says what is wrong.
    let err = coll.fails(&["create", "acme/bad", "--short-desc", "x", "--category", "GARDENING"]);
    assert!(err.to_lowercase().contains("category"), "{err}");
    let err = coll.fails(&["add", "acme/kit", "model", "acme/missing"]);
    assert!(
        err.contains("Cannot add model 'acme/missing' to collection 'acme/kit'"),
        "{err}"
    );
    let err = coll.fails(&["remove-item", "acme/kit", "model", "acme/web-chart"]);
    assert!(
        err.contains("Cannot remove model 'acme/web-chart' from collection 'acme/kit'"),
        "{err}"
    );
    let err = coll.fails(&["update", "acme/kit"]);
    assert!(err.contains("Nothing to update"), "{err}");
    let err = coll.fails(&["update", "acme/kit", "--access-type", "EVERYONE"]);
    assert!(err.contains("--access-type must be one of"), "{err}");
    let err = coll.fails(&["info", "acme/kit:1"]);
    assert!(err.contains("collections have no versions"), "{err}");
    let err = guest.fails(&["add", "acme/kit", "model", "acme/tracker"]);
    assert!(err.contains("Cannot add model 'acme/tracker'"), "{err}");

    // remove: gone afterwards; its items stay.
    let out = coll.ok(&["remove", "acme/kit", "-y"]);
    assert!(out.contains("Successfully removed collection 'acme/kit'."), "{out}");
    coll.fails(&["info", "acme/kit"]);
    assert_eq!(listed_names(&coll.json(&["list", "acme/*"])), ["acme/other"]);
    owner.prefix(&["registry", "model"]).ok(&["info", "acme/detector"]);
}

both_backends!(collections_cli, collection_commands);
