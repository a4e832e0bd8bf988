//! Collections in-process on both backends: items of every kind in order, a viewer never shown
//! (nor counted) an item it may not see, the collections holding an entity, and bad input
//! refused in NGC's JSON.

mod common;

use axum::http::Method;
use common::Stores;
use common::app::TestApp;
use hangar_core::roles::Role;
use serde_json::{Value, json};

const COLL: &str = "/v2/org/acme/collections/kit";
const GUEST_COLL: &str = "/v2/collections/acme/kit";

/// `field` of every row of `list`.
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

/// `GET {entity}/collections` as `viewer`: the status and the collections named.
async fn holding(app: &TestApp, entity: &str, viewer: &common::Auth) -> (u16, Vec<String>) {
    let reply = app
        .call(Method::GET, &format!("{entity}/collections"), viewer, None)
        .await;
    let listed = match reply.status.as_u16() {
        200 => names(&reply.json()["collections"]),
        _ => vec![],
    };
    (reply.status.as_u16(), listed)
}

async fn collections(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    let (_, other) = app.user("other@else.test", &[]).await;
    let guest = common::Auth::None;
    for (path, name) in [
        ("/v2/org/acme/models", "open"),
        ("/v2/org/acme/models", "secret"),
        ("/v2/org/acme/resources", "recipe"),
        ("/v2/org/acme/helm-charts", "chart"),
    ] {
        let made = app.call(Method::POST, path, &owner, Some(json!({"name": name}))).await;
        assert_eq!(made.status, 200, "{}", made.text());
    }
    app.push_image(&owner, "acme/web", "1", "collections").await;
    for path in [
        "/v2/org/acme/models/open",
        "/v2/org/acme/resources/recipe",
        "/v2/org/acme/helm-charts/chart",
        "/v2/org/acme/repos/web",
    ] {
        let made = app
            .call(Method::PATCH, path, &owner, Some(json!({"accessType": "GUEST"})))
            .await;
        assert_eq!(made.status, 200, "{}", made.text());
    }

    // A guest may not create; a bad name or category is refused in NGC's JSON.
    let body = json!({"name": "kit", "displayName": "Kit", "shortDescription": "everything", "category": "ROBOTICS", "labels": null, "labelsV2": ["starter"], "description": "# Kit"});
    let refused = app
        .call(Method::POST, "/v2/org/acme/collections", &guest, Some(body.clone()))
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    let refused = app
        .call(
            Method::POST,
            "/v2/org/acme/collections",
            &owner,
            Some(json!({"name": "Bad Name!"})),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.json()["requestStatus"]["statusDescription"].is_string(),
        "{}",
        refused.text()
    );
    let refused = app
        .call(
            Method::POST,
            "/v2/org/acme/collections",
            &owner,
            Some(json!({"name": "kit", "category": "GARDENING"})),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    let made = app
        .call(Method::POST, "/v2/org/acme/collections", &owner, Some(body))
        .await;
    assert_eq!(made.status, 200, "{}", made.text());
    let collection = &made.json()["collection"];
    assert_eq!(collection["category"], "ROBOTICS");
    assert_eq!(collection["labels"], json!(["starter"]));
    assert_eq!(collection["accessType"], "NOT_LISTED");

    // Items of every kind, in the order they were added; adding one again keeps its place.
    for item in [
        "models/secret",
        "repositories/web",
        "models/open",
        "recipes/recipe",
        "helm-charts/chart",
        "models/secret",
    ] {
        let (segment, name) = item.split_once('/').unwrap();
        let added = app
            .call(
                Method::PUT,
                &format!("{COLL}/artifacts/org/acme/{segment}/{name}"),
                &owner,
                None,
            )
            .await;
        assert_eq!(added.status, 200, "{item}: {}", added.text());
    }
    let models = app
        .call(Method::GET, &format!("{COLL}/artifacts/models"), &owner, None)
        .await;
    assert_eq!(names(&models.json()["artifacts"]), ["acme/secret", "acme/open"]);
    assert_eq!(models.json()["artifacts"][0]["artifactType"], "MODEL");
    assert_eq!(models.json()["paginationInfo"]["totalResults"], 2);
    let images = app
        .call(Method::GET, &format!("{COLL}/artifacts/repositories"), &owner, None)
        .await;
    assert_eq!(names(&images.json()["artifacts"]), ["acme/web"]);
    assert_eq!(images.json()["artifacts"][0]["artifactType"], "REPOSITORY");
    let recipes = app
        .call(Method::GET, &format!("{COLL}/artifacts/recipes"), &owner, None)
        .await;
    assert_eq!(recipes.json()["artifacts"][0]["artifactType"], "MODEL_SCRIPT");

    // Unknown items and kinds: NGC JSON 404 / 400, nothing added.
    let missing = app
        .call(
            Method::PUT,
            &format!("{COLL}/artifacts/org/acme/models/nope"),
            &owner,
            None,
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text());
    assert!(
        missing.json()["requestStatus"]["statusDescription"]
            .as_str()
            .unwrap()
            .contains("acme/nope"),
        "{}",
        missing.text()
    );
    let bad = app
        .call(
            Method::PUT,
            &format!("{COLL}/artifacts/org/acme/datasets/x"),
            &owner,
            None,
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    let bad = app
        .call(
            Method::PUT,
            &format!("{COLL}/artifacts/org/acme/models/Bad%20Name"),
            &owner,
            None,
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    let absent = app
        .call(
            Method::DELETE,
            &format!("{COLL}/artifacts/org/acme/models/nope"),
            &owner,
            None,
        )
        .await;
    assert_eq!(absent.status, 404, "{}", absent.text());

    // Someone outside the org may not add to it, nor add what they may not see.
    let (_, outsider) = app.user("out@else.test", &[]).await;
    let refused = app
        .call(
            Method::PUT,
            &format!("{COLL}/artifacts/org/acme/models/open"),
            &outsider,
            None,
        )
        .await;
    assert!(refused.status == 404 || refused.status == 403, "{}", refused.text());

    // A guest-access collection holding a private model: a guest and another org's user see
    // the collection and the public items, never the private one, nor in a count.
    let opened = app
        .call(Method::PATCH, COLL, &owner, Some(json!({"accessType": "GUEST"})))
        .await;
    assert_eq!(opened.status, 200, "{}", opened.text());
    for viewer in [&guest, &other] {
        let info = app
            .call(
                Method::GET,
                if matches!(viewer, common::Auth::None) {
                    GUEST_COLL
                } else {
                    COLL
                },
                viewer,
                None,
            )
            .await;
        assert_eq!(info.status, 200, "{}", info.text());
        let base = if matches!(viewer, common::Auth::None) {
            GUEST_COLL
        } else {
            COLL
        };
        let models = app
            .call(Method::GET, &format!("{base}/artifacts/models"), viewer, None)
            .await;
        assert_eq!(models.status, 200, "{}", models.text());
        assert_eq!(names(&models.json()["artifacts"]), ["acme/open"], "{}", models.text());
        assert_eq!(models.json()["paginationInfo"]["totalResults"], 1, "{}", models.text());
        assert!(!models.text().contains("secret"), "{}", models.text());
    }

    // The collections holding an entity, for whoever may see them.
    let kit = || vec!["acme/kit".to_string()];
    assert_eq!(holding(&app, "/v2/org/acme/models/open", &owner).await, (200, kit()));
    assert_eq!(holding(&app, "/v2/recipes/org/acme/recipe", &guest).await, (200, kit()));
    assert_eq!(holding(&app, "/v2/org/acme/models/secret", &other).await, (404, vec![]));
    let closed = app
        .call(Method::PATCH, COLL, &owner, Some(json!({"accessType": "PRIVATE"})))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    assert_eq!(
        holding(&app, "/v2/org/acme/repositories/web", &other).await,
        (200, vec![]),
        "a private collection is not shown"
    );

    // Removing an item, then deleting an entity, drop them from the collection; removing the
    // collection leaves the entities.
    let removed = app
        .call(
            Method::DELETE,
            &format!("{COLL}/artifacts/org/acme/models/open"),
            &owner,
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    let gone = app
        .call(Method::DELETE, "/v2/org/acme/models/secret", &owner, None)
        .await;
    assert_eq!(gone.status, 200, "{}", gone.text());
    let models = app
        .call(Method::GET, &format!("{COLL}/artifacts/models"), &owner, None)
        .await;
    assert_eq!(models.json()["artifacts"], json!([]));
    let removed = app.call(Method::DELETE, COLL, &owner, None).await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    let after = app.call(Method::GET, COLL, &owner, None).await;
    assert_eq!(after.status, 404, "{}", after.text());
    assert_eq!(
        holding(&app, "/v2/org/acme/recipes/recipe", &owner).await,
        (200, vec![])
    );
}

both_backends!(collections_api, collections);

/// `orgName/name` of the models of `collection` as `viewer` sees them, and the count shown.
async fn models_seen(app: &TestApp, viewer: &common::Auth, collection: &str) -> (Vec<String>, Value) {
    let models = app
        .call(Method::GET, &format!("{collection}/artifacts/models"), viewer, None)
        .await;
    assert_eq!(models.status, 200, "{}", models.text());
    let json = models.json();
    (
        names(&json["artifacts"]),
        json["paginationInfo"]["totalResults"].clone(),
    )
}

/// `PUT`s `item` (`{org}/{segment}/{name}`) into acme/kit.
async fn add(app: &TestApp, auth: &common::Auth, item: &str) -> common::app::Reply {
    let uri = format!("{COLL}/artifacts/org/{item}");
    app.call(Method::PUT, &uri, auth, None).await
}

/// Items of another org: added only by an editor who may see them; each viewer of a
/// guest-access collection sees (and counts) only the items it may see, as they are now.
async fn other_orgs_items(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    app.org("beta").await;
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    let (_, both) = app
        .user(
            "both@beta.test",
            &[("acme", None, Role::OrgOwner), ("beta", None, Role::OrgOwner)],
        )
        .await;
    let (_, outsider) = app.user("out@else.test", &[]).await;
    let guest = common::Auth::None;
    for (path, name, access) in [
        ("/v2/org/beta/models", "shared", "GUEST"),
        ("/v2/org/beta/models", "hidden", "PRIVATE"),
        ("/v2/org/acme/models", "open", "GUEST"),
    ] {
        let made = app
            .call(
                Method::POST,
                path,
                &both,
                Some(json!({"name": name, "accessType": access})),
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.text());
    }
    let made = app
        .call(
            Method::POST,
            "/v2/org/acme/collections",
            &owner,
            Some(json!({"name": "kit", "accessType": "GUEST"})),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text());

    // The publisher adds another org's item only if it may see it; a private one it may not see
    // is refused as one that does not exist.
    let hidden = add(&app, &owner, "beta/models/hidden").await;
    let missing = add(&app, &owner, "beta/models/nope").await;
    assert_eq!(hidden.status, 404, "{}", hidden.text());
    assert_eq!(missing.status, 404, "{}", missing.text());
    assert_eq!(
        hidden.json()["requestStatus"]["statusDescription"]
            .as_str()
            .map(|d| d.replace("hidden", "nope")),
        missing.json()["requestStatus"]["statusDescription"]
            .as_str()
            .map(str::to_string),
        "a hidden item is refused as a missing one"
    );
    for (auth, item) in [
        (&owner, "beta/models/shared"),
        (&both, "beta/models/hidden"),
        (&owner, "acme/models/open"),
    ] {
        let added = add(&app, auth, item).await;
        assert_eq!(added.status, 200, "{item}: {}", added.text());
    }

    // Whoever may see beta's private model sees all three; nobody else sees it or counts it,
    // not even the collection's own org owner.
    let (seen, count) = models_seen(&app, &both, COLL).await;
    assert_eq!(seen, ["beta/shared", "beta/hidden", "acme/open"]);
    assert_eq!(count, 3);
    for (viewer, base) in [(&owner, COLL), (&outsider, COLL), (&guest, GUEST_COLL)] {
        let (seen, count) = models_seen(&app, viewer, base).await;
        assert_eq!(seen, ["beta/shared", "acme/open"], "{base}");
        assert_eq!(count, 2, "{base}");
        let info = app.call(Method::GET, base, viewer, None).await;
        assert_eq!(info.status, 200, "{}", info.text());
        assert!(!info.text().contains("hidden"), "{}", info.text());
    }
    let hidden = "/v2/org/beta/models/hidden";
    assert_eq!(holding(&app, hidden, &both).await, (200, vec!["acme/kit".to_string()]));
    assert_eq!(holding(&app, hidden, &owner).await, (404, vec![]));

    // What a viewer sees follows the item's level now, not when it was added.
    let closed = app
        .call(
            Method::PATCH,
            "/v2/org/beta/models/shared",
            &both,
            Some(json!({"accessType": "PRIVATE"})),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    let (seen, count) = models_seen(&app, &guest, GUEST_COLL).await;
    assert_eq!((seen, count), (vec!["acme/open".to_string()], json!(1)));

    // Deleting another org's entity takes it out of the collection.
    let gone = app
        .call(Method::DELETE, "/v2/org/beta/models/hidden", &both, None)
        .await;
    assert_eq!(gone.status, 200, "{}", gone.text());
    let (seen, count) = models_seen(&app, &both, COLL).await;
    assert_eq!(seen, ["beta/shared", "acme/open"]);
    assert_eq!(count, 2);
}

both_backends!(collections_other_orgs, other_orgs_items);

/// A team's collection holding a team's entities, by NGC's team paths (signed in and guest);
/// bad names and kinds in any of them are refused in NGC's JSON.
async fn team_collections(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    app.team("acme", "vision").await;
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    let guest = common::Auth::None;
    for (path, name) in [
        ("/v2/org/acme/team/vision/models", "detector"),
        ("/v2/org/acme/models", "open"),
        ("/v2/org/acme/team/vision/collections", "kit"),
    ] {
        let made = app
            .call(
                Method::POST,
                path,
                &owner,
                Some(json!({"name": name, "accessType": "GUEST"})),
            )
            .await;
        assert_eq!(made.status, 200, "{}", made.text());
    }
    let team_coll = "/v2/org/acme/team/vision/collections/kit";
    for item in ["org/acme/team/vision/models/detector", "org/acme/models/open"] {
        let added = app
            .call(Method::PUT, &format!("{team_coll}/artifacts/{item}"), &owner, None)
            .await;
        assert_eq!(added.status, 200, "{item}: {}", added.text());
    }
    let (seen, count) = models_seen(&app, &guest, "/v2/collections/acme/vision/kit").await;
    assert_eq!(
        (seen, count),
        (vec!["acme/detector".into(), "acme/open".into()], json!(2))
    );
    let (seen, _) = models_seen(&app, &owner, team_coll).await;
    assert_eq!(seen, ["acme/detector", "acme/open"]);
    let info = app
        .call(Method::GET, "/v2/collections/acme/vision/kit", &guest, None)
        .await;
    assert_eq!(info.status, 200, "{}", info.text());
    assert_eq!(info.json()["collection"]["teamName"], "vision", "{}", info.text());
    let kit = || vec!["acme/kit".to_string()];
    let team_model = "/v2/org/acme/team/vision/models/detector";
    assert_eq!(holding(&app, team_model, &owner).await, (200, kit()));
    let guest_model = "/v2/models/org/acme/team/vision/detector";
    assert_eq!(holding(&app, guest_model, &guest).await, (200, kit()));
    // The org's collection of the same name is another one.
    assert_eq!(app.call(Method::GET, COLL, &owner, None).await.status, 404);

    for (method, uri) in [
        (Method::GET, "/v2/org/acme/team/vision/collections/Bad%20Name"),
        (
            Method::GET,
            "/v2/org/acme/team/vision/collections/kit/artifacts/datasets",
        ),
        (Method::GET, "/v2/collections/acme/vision/kit/artifacts/datasets"),
        (
            Method::PUT,
            "/v2/org/acme/team/vision/collections/kit/artifacts/org/acme/team/vision/models/Bad%20Name",
        ),
        (
            Method::DELETE,
            "/v2/org/acme/team/vision/collections/kit/artifacts/org/acme/team/vision/charts/detector",
        ),
    ] {
        let refused = app.call(method.clone(), uri, &owner, None).await;
        assert_eq!(refused.status, 400, "{method} {uri}: {}", refused.text());
        assert!(
            refused.json()["requestStatus"]["statusDescription"].is_string(),
            "{}",
            refused.text()
        );
    }
    let unknown_team = "/v2/org/acme/team/nope/collections/kit/artifacts/org/acme/models/open";
    let refused = app.call(Method::PUT, unknown_team, &owner, None).await;
    assert_eq!(refused.status, 404, "{}", refused.text());

    // Access level and products, as for any entity.
    app.state
        .meta
        .create_product("robotics", "Robotics", "")
        .await
        .expect("a product");
    let unknown = json!({"accessType": "ENTITLED", "productNames": ["gardening"]});
    let refused = app.call(Method::PATCH, team_coll, &owner, Some(unknown)).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    let offer = json!({"accessType": "ENTITLED", "productNames": ["robotics"]});
    let offered = app.call(Method::PATCH, team_coll, &owner, Some(offer)).await;
    assert_eq!(offered.status, 200, "{}", offered.text());
    let info = app.call(Method::GET, team_coll, &guest, None).await;
    let collection = &info.json()["collection"];
    assert_eq!(collection["accessType"], "LISTED", "{}", info.text());
    assert_eq!(collection["accessLevel"], "ENTITLED", "{}", info.text());
    assert_eq!(collection["productNames"], json!(["robotics"]), "{}", info.text());
}

both_backends!(collections_in_teams, team_collections);

/// `org/name` of each entry of `GET {path}` under `key`, sorted.
async fn listed(app: &TestApp, path: &str, key: &str, viewer: &common::Auth) -> Vec<String> {
    let reply = app.call(Method::GET, path, viewer, None).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    let mut listed = names(&reply.json()[key]);
    listed.sort();
    listed
}

/// A collection's items and an entity's collections are listings: each shows what the org's
/// own listing shows the caller (`List`), even for a service key that may `Get` but not
/// `List`, or `List` but not `Get`.
async fn lists_as_the_org_lists(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    for (path, name, access) in [
        ("/v2/org/acme/models", "open", "GUEST"),
        ("/v2/org/acme/models", "secret", "PRIVATE"),
        ("/v2/org/acme/collections", "kit", "GUEST"),
        ("/v2/org/acme/collections", "inner", "PRIVATE"),
    ] {
        let body = json!({"name": name, "accessType": access});
        let made = app.call(Method::POST, path, &owner, Some(body)).await;
        assert_eq!(made.status, 200, "{}", made.text());
    }
    for item in [
        "kit/artifacts/org/acme/models/secret",
        "kit/artifacts/org/acme/models/open",
        "inner/artifacts/org/acme/models/open",
    ] {
        let added = app
            .call(Method::PUT, &format!("/v2/org/acme/collections/{item}"), &owner, None)
            .await;
        assert_eq!(added.status, 200, "{item}: {}", added.text());
    }
    let all = ("ALL", None);
    let get_only = app.service_key("acme", &["GET_ARTIFACT"], all).await;
    let list_only = app.service_key("acme", &["LIST_ARTIFACTS"], all).await;
    for (who, key) in [("get only", &get_only), ("list only", &list_only), ("owner", &owner)] {
        let models = listed(&app, "/v2/org/acme/models", "models", key).await;
        let items = listed(&app, &format!("{COLL}/artifacts/models"), "artifacts", key).await;
        assert_eq!(items, models, "{who}: the items are the org's models it lists");
        let collections = listed(&app, "/v2/org/acme/collections", "collections", key).await;
        let holding = listed(&app, "/v2/org/acme/models/open/collections", "collections", key).await;
        assert_eq!(
            holding, collections,
            "{who}: the collections holding acme/open are the ones it lists"
        );
    }
}

both_backends!(collections_list_as_the_org, lists_as_the_org_lists);
