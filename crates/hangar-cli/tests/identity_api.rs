//! The identity REST API over real HTTP, on both storage backends: orgs, teams, users, roles,
//! invitations, keys, the token service, and bad input.

mod common;

use common::api::{claims, error_text, names};
use common::{Api, Auth, Server, Stores, admin_ok, member};
use serde_json::json;

async fn first_start_and_basics(stores: &Stores) {
    let server = Server::start(stores);
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    assert!(server.key().starts_with("nvapi-"), "first start prints a personal key");
    let (s, body) = api.get("/v2/products", &Auth::None).await;
    assert_eq!((s.as_u16(), &body["products"]), (200, &json!([])));
    let (s, body) = api.get("/roles?show-hidden=false", &Auth::None).await;
    assert_eq!(s, 200);
    assert_eq!(names(&body["roles"], "name").len(), 6);
    let (s, body) = api.get("/v2/orgs?page-size=500", &owner).await;
    assert_eq!(s, 200);
    assert_eq!(names(&body["organizations"], "name"), ["acme"]);
    assert_eq!(body["organizations"][0]["displayName"], "Acme Corp");
    assert_eq!(body["paginationInfo"]["totalResults"], 1);
    let (s, body) = api.get("/v2/orgs/acme", &owner).await;
    assert_eq!(
        (s.as_u16(), body["organizations"]["name"].as_str()),
        (200, Some("acme"))
    );
    let (s, body) = api.get("/v2/users/me", &owner).await;
    assert_eq!(s, 200);
    assert_eq!(body["user"]["email"], "owner@acme.test");
    assert_eq!(body["user"]["roles"][0]["orgRoles"], json!(["ORG_OWNER"]));
    assert!(body["user"]["starfleetId"].as_str().is_some_and(|s| !s.is_empty()));
    // A restart does not create a second org or print another key.
    drop(server);
    let again = Server::start(stores);
    assert!(again.initial_key.is_none(), "the key is shown only once");
    let (s, _) = again.api().get("/v2/orgs", &owner).await;
    assert_eq!(s, 200, "the first key still works after a restart");
}
both_backends!(first_start, first_start_and_basics);

async fn teams_and_visibility(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let (s, body) = api
        .post(
            "/v2/org/acme/teams",
            &owner,
            json!({"name": "vision", "description": "CV team"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["team"]["name"], "vision");
    let (s, _) = api
        .post(
            "/v2/org/acme/teams",
            &owner,
            json!({"name": "speech", "description": ""}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = api
        .post(
            "/v2/org/acme/teams",
            &owner,
            json!({"name": "vision", "description": "again"}),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    let (s, body) = api
        .patch(
            "/v2/org/acme/teams/vision",
            &owner,
            Some(json!({"description": "changed"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), body["team"]["description"].as_str()),
        (200, Some("changed"))
    );

    // A team member sees the org and their own team, not the other team.
    let carol = Auth::Bearer(member(stores, "carol@acme.test", &[("REGISTRY_USER", Some("vision"))]));
    let (s, body) = api.get("/v2/org/acme/teams", &carol).await;
    assert_eq!(s, 200);
    assert_eq!(names(&body["teams"], "name"), ["vision"]);
    let (s, _) = api.get("/v2/org/acme/teams/speech", &carol).await;
    assert_eq!(s, 403);
    let (s, _) = api.get("/v2/orgs/acme", &carol).await;
    assert_eq!(s, 200);
    // Team management is for owners and user admins.
    let (s, body) = api.post("/v2/org/acme/teams", &carol, json!({"name": "mine"})).await;
    assert_eq!(s, 403, "{body}");
    // Orgs are made by platform administrators only.
    let (s, _) = api.post("/v2/orgs", &owner, json!({"name": "neworg"})).await;
    assert_eq!(s, 403);
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
    let root = Auth::Key(admin_ok(stores, &["key", "legacy", "--user", "root@hangar.test"]));
    let (s, body) = api
        .post("/v2/orgs", &root, json!({"name": "neworg", "displayName": "New Org"}))
        .await;
    assert_eq!(
        (s.as_u16(), body["organizations"]["displayName"].as_str()),
        (200, Some("New Org")),
        "{body}"
    );
    let (s, body) = api.get("/v2/org/acme/teams", &root).await;
    assert_eq!(s, 200, "platform admins see every org: {body}");
    let (s, _) = api.delete("/v2/org/acme/teams/speech", &owner).await;
    assert_eq!(s, 200);
    let (s, body) = api.get("/v2/org/acme/teams", &owner).await;
    assert_eq!(names(&body["teams"], "name"), ["vision"], "{s}");
}
both_backends!(teams, teams_and_visibility);

async fn roles_and_limits(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    let ua = Auth::Bearer(member(
        stores,
        "ua@acme.test",
        &[("USER_ADMIN", None), ("REGISTRY_READ", None)],
    ));
    member(stores, "dave@acme.test", &[("REGISTRY_READ", None)]);
    member(stores, "erin@acme.test", &[("REGISTRY_READ", None)]);

    // A user admin grants roles they hold, and nothing else.
    let (s, body) = api
        .patch(
            "/v3/orgs/acme/users/dave@acme.test/add-role?roles=USER_ADMIN",
            &ua,
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api
        .patch(
            "/v3/orgs/acme/users/dave@acme.test/add-role?roles=REGISTRY_USER",
            &ua,
            None,
        )
        .await;
    assert_eq!(s, 403, "{body}");
    assert!(error_text(&body).contains("REGISTRY_USER"), "{body}");
    let (s, _) = api
        .patch("/v3/orgs/acme/users/dave@acme.test/add-role?roles=ORG_OWNER", &ua, None)
        .await;
    assert_eq!(s, 403);
    // Unknown role: 400 and nothing changes.
    let (s, body) = api
        .patch(
            "/v3/orgs/acme/users/dave@acme.test/add-role?roles=SUPERUSER",
            &owner,
            None,
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(error_text(&body).contains("SUPERUSER"));
    // At most two owners.
    let (s, _) = api
        .patch(
            "/v3/orgs/acme/users/dave@acme.test/add-role?roles=ORG_OWNER",
            &owner,
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = api
        .patch(
            "/v3/orgs/acme/users/erin@acme.test/add-role?roles=ORG_OWNER",
            &owner,
            None,
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(error_text(&body).contains("at most 2 owners"), "{body}");
    let (_, body) = api.get("/v2/org/acme/users?page-size=100&page-number=0", &owner).await;
    let erin = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "erin@acme.test")
        .unwrap()
        .clone();
    assert_eq!(
        erin["roles"][0]["orgRoles"],
        json!(["REGISTRY_READ"]),
        "the refused change changed nothing"
    );
    // USER_READ alone does not make a member.
    let (s, body) = api
        .patch(
            &format!("/v2/org/acme/users/{}/update-role?roles=USER_READ", erin["id"]),
            &owner,
            None,
        )
        .await;
    assert_eq!(s, 400, "{body}");
    // Team roles and the team member list (with the email filter NGC sends, encoded twice).
    let (s, body) = api
        .patch(
            "/v3/orgs/acme/teams/vision/users/erin@acme.test/add-role?roles=REGISTRY_ADMIN",
            &owner,
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api.get("/v2/org/acme/team/vision/users", &owner).await;
    assert_eq!(s, 200);
    assert_eq!(names(&body["users"], "email"), ["erin@acme.test"]);
    let q = "%7B%22filters%22:%20%5B%7B%22field%22:%20%22email%22,%20%22value%22:%20%22erin%2540acme.test%22%7D%5D%7D";
    let (s, body) = api
        .get(&format!("/v2/org/acme/users?page-size=100&page-number=0&q={q}"), &owner)
        .await;
    assert_eq!(s, 200);
    assert_eq!(names(&body["users"], "email"), ["erin@acme.test"], "{body}");
    // Remove from team, then from org.
    let (s, _) = api
        .delete(&format!("/v3/orgs/acme/teams/vision/users/{}", erin["id"]), &owner)
        .await;
    assert_eq!(s, 200);
    let (s, body) = api.get("/v2/org/acme/team/vision/users", &owner).await;
    assert_eq!((s.as_u16(), body["users"].as_array().map(Vec::len)), (200, Some(0)));
    // A user admin cannot remove an owner.
    let (s, _) = api.delete("/v3/orgs/acme/users/dave@acme.test", &ua).await;
    assert_eq!(s, 403);
}
both_backends!(roles, roles_and_limits);

async fn invitation_and_removal(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let (s, body) = api
        .post(
            "/v3/orgs/acme/invitations",
            &owner,
            json!({"email": "New.Person@acme.test", "name": "New Person", "message": "welcome",
                   "invitationExpirationIn": 60, "roles": [{"name": "REGISTRY_USER", "resourceGroups": []}]}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["invitation"]["userEmail"], "new.person@acme.test");
    let (_, pending) = api.get("/v3/orgs/acme/pending-invitations", &owner).await;
    assert_eq!(names(&pending["invitations"], "userEmail"), ["new.person@acme.test"]);
    // The mail is in the outbox, with the token.
    let outbox = admin_ok(stores, &["outbox"]);
    let token = outbox
        .split_whitespace()
        .find(|w| w.starts_with("hginv-"))
        .unwrap_or_else(|| panic!("no token in outbox: {outbox}"))
        .to_string();
    let (s, body) = api
        .post("/v3/invitations/accept", &Auth::None, json!({"token": token}))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["user"]["email"], "new.person@acme.test");
    let key = body["apiKey"]["secret"].as_str().expect("first key").to_string();
    let (s, _) = api
        .post("/v3/invitations/accept", &Auth::None, json!({"token": token}))
        .await;
    assert_eq!(s, 400, "an invitation works once");

    // The new member works with the key, directly and through a token.
    let token = api.token(&key, "acme").await;
    let (s, me) = api.get("/v2/users/me", &Auth::Bearer(token.clone())).await;
    assert_eq!(
        (s.as_u16(), me["user"]["roles"][0]["orgRoles"].clone()),
        (200, json!(["REGISTRY_USER"]))
    );
    // Removing them from the org revokes their key and the token at once.
    let (s, body) = api.delete("/v3/orgs/acme/users/new.person@acme.test", &owner).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = api.get("/v2/users/me", &Auth::Bearer(key.clone())).await;
    assert_eq!(s, 401);
    let (s, _) = api.get("/v2/users/me", &Auth::Bearer(token)).await;
    assert_eq!(s, 401);
    let (s, _) = api.get("/token?service=ngc", &Auth::Key(key)).await;
    assert_eq!(s, 401);
}
both_backends!(invitations, invitation_and_removal);

async fn personal_service_legacy_keys(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let bob_key = member(stores, "bob@acme.test", &[("REGISTRY_READ", None)]);
    let bob = Auth::Bearer(bob_key.clone());

    // Services are bounded by roles; the eighth key is the last.
    let (s, body) = api
        .post(
            "/v3/orgs/acme/keys/personal",
            &bob,
            json!({"name": "ci", "expiry": "1h", "services": ["NGC_CATALOG"]}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let ci_secret = body["secret"].as_str().unwrap().to_string();
    let ci_id = body["key"]["id"].as_i64().unwrap();
    assert_eq!(body["key"]["services"], json!(["NGC_CATALOG"]));
    assert!(body["key"].get("secret").is_none() && !body["key"].to_string().contains(&ci_secret));
    for i in 3..=8 {
        let (s, body) = api
            .post("/v3/orgs/acme/keys/personal", &bob, json!({"name": format!("k{i}")}))
            .await;
        assert_eq!(s, 201, "key {i}: {body}");
    }
    let (s, body) = api
        .post("/v3/orgs/acme/keys/personal", &bob, json!({"name": "ninth"}))
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(error_text(&body).contains("at most 8"), "{body}");
    let (s, body) = api
        .post(
            "/v3/orgs/acme/keys/personal",
            &bob,
            json!({"name": "x", "expiry": "13M"}),
        )
        .await;
    assert_eq!(s, 400, "{body}");

    // Inactive, rotated, deleted.
    let (s, _) = api
        .patch(
            &format!("/v3/orgs/acme/keys/{ci_id}"),
            &bob,
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = api.get("/v2/orgs", &Auth::Bearer(ci_secret.clone())).await;
    assert_eq!(s, 401, "an inactive key is refused");
    let (s, _) = api
        .patch(
            &format!("/v3/orgs/acme/keys/{ci_id}"),
            &bob,
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, body) = api
        .post(&format!("/v3/orgs/acme/keys/{ci_id}/rotate"), &bob, json!({}))
        .await;
    assert_eq!(s, 200, "{body}");
    let rotated = body["secret"].as_str().unwrap().to_string();
    assert_eq!(
        body["key"]["services"],
        json!(["NGC_CATALOG"]),
        "rotation keeps the settings"
    );
    let (s, _) = api.get("/v2/orgs", &Auth::Bearer(ci_secret)).await;
    assert_eq!(s, 401);
    let (s, _) = api.get("/v2/orgs", &Auth::Bearer(rotated.clone())).await;
    assert_eq!(s, 200);

    // Owners see and revoke members' keys; members only their own.
    let (s, body) = api.get("/v3/orgs/acme/keys", &owner).await;
    assert_eq!(s, 200);
    assert!(body["keys"].as_array().unwrap().len() >= 9);
    let (_, body) = api.get("/v3/orgs/acme/keys", &bob).await;
    assert!(
        body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["userEmail"] == "bob@acme.test")
    );
    let (s, _) = api.delete(&format!("/v3/orgs/acme/keys/{ci_id}"), &owner).await;
    assert_eq!(s, 200);
    let (s, _) = api.get("/v2/orgs", &Auth::Bearer(rotated)).await;
    assert_eq!(s, 401);

    // Service keys: owners only, 50 per org, scoped.
    let (s, _) = api
        .post(
            "/v3/orgs/acme/keys/service",
            &bob,
            json!({"name": "s", "scopes": ["ALL_SCOPES"]}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, body) = api
        .post(
            "/v3/orgs/acme/keys/service",
            &owner,
            json!({"name": "puller", "scopes": ["GET_CONTAINER", "DOWNLOAD_CONTAINER"], "entityType": "SPECIFIC_CONTAINER", "entityValue": "acme/web"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let service_key = body["secret"].as_str().unwrap().to_string();
    let (s, body) = api
        .post(
            "/v3/orgs/acme/keys/service",
            &owner,
            json!({"name": "bad", "scopes": ["FLY"]}),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    for i in 2..=50 {
        let (s, body) = api
            .post(
                "/v3/orgs/acme/keys/service",
                &owner,
                json!({"name": format!("s{i}"), "scopes": ["LIST_ARTIFACTS"]}),
            )
            .await;
        assert_eq!(s, 201, "service key {i}: {body}");
    }
    let (s, body) = api
        .post(
            "/v3/orgs/acme/keys/service",
            &owner,
            json!({"name": "s51", "scopes": ["LIST_ARTIFACTS"]}),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(error_text(&body).contains("at most 50"));
    // get-caller-info for nvapi keys.
    let info = |key: String| {
        let api = api.clone();
        async move {
            api.send(
                api.raw()
                    .post(format!("{}/v3/keys/get-caller-info", api.base))
                    .form(&[("credentials", key)]),
            )
            .await
        }
    };
    let (s, body) = info(service_key.clone()).await;
    assert_eq!(
        (s.as_u16(), body["type"].as_str(), body["orgName"].as_str()),
        (200, Some("SERVICE_KEY"), Some("acme"))
    );
    let (s, body) = info(bob_key).await;
    assert_eq!((s.as_u16(), body["type"].as_str()), (200, Some("PERSONAL_KEY")));
    assert_eq!(body["user"]["roles"][0]["orgRoles"], json!(["REGISTRY_READ"]));
    let (s, _) = info("nvapi-nonsense".into()).await;
    assert_eq!(s, 401);
    // Docker token scopes follow the service key's scopes and entity.
    let (s, body) = api
        .get(
            "/token?service=hangar&scope=repository:acme/web:pull,push",
            &Auth::Key(service_key.clone()),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        claims(body["token"].as_str().unwrap())["access"],
        json!([{"type": "repository", "name": "acme/web", "actions": ["pull"]}])
    );
    let (_, body) = api
        .get(
            "/token?service=hangar&scope=repository:acme/db:pull",
            &Auth::Key(service_key),
        )
        .await;
    assert!(claims(body["token"].as_str().unwrap()).get("access").is_none());

    // Legacy keys: one per user; a new one revokes the old at once.
    let first = admin_ok(stores, &["key", "legacy", "--user", "bob@acme.test"]);
    let (s, _) = api.get("/v2/orgs", &Auth::Key(first.clone())).await;
    assert_eq!(s, 200);
    let (s, body) = api
        .post("/v3/users/me/legacy-key", &Auth::Key(first.clone()), json!({}))
        .await;
    assert_eq!(s, 201, "{body}");
    let second = body["secret"].as_str().unwrap().to_string();
    assert!(!second.starts_with("nvapi-"), "legacy keys use the token service");
    let (s, _) = api.get("/v2/orgs", &Auth::Key(first)).await;
    assert_eq!(s, 401);
    let (s, _) = api.get("/v2/orgs", &Auth::Key(second)).await;
    assert_eq!(s, 200);
}
both_backends!(keys, personal_service_legacy_keys);

async fn tokens(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let key = server.key();
    let (s, body) = api
        .get(
            "/token?service=ngc&scope=group/ngc:acme&scope=group/ngc:acme/vision",
            &Auth::Key(key.clone()),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(body["expires_in"].as_i64().is_some_and(|e| (600..=1800).contains(&e)));
    let c = claims(body["token"].as_str().unwrap());
    assert_eq!(c["scopes"], json!(["group/ngc:acme", "group/ngc:acme/vision"]));
    // NGC's unscoped form ends in `service=ngc&`.
    let (s, _) = api.get("/token?service=ngc&", &Auth::Key(key.clone())).await;
    assert_eq!(s, 200);
    // A scope the key lacks still yields a token; the API then says 403.
    let (s, body) = api
        .get("/token?service=ngc&scope=group/ngc:other", &Auth::Key(key.clone()))
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .get("/v2/orgs/other", &Auth::Bearer(body["token"].as_str().unwrap().into()))
        .await;
    assert_eq!(s, 404);
    admin_ok(stores, &["org", "create", "other"]);
    let (s, _) = api
        .get("/v2/orgs/other", &Auth::Bearer(body["token"].as_str().unwrap().into()))
        .await;
    assert_eq!(s, 403);
    // Bad credentials.
    for auth in [
        Auth::Key("nvapi-hp-wrong".into()),
        Auth::Key(String::new()),
        Auth::Bearer("a.b.c".into()),
    ] {
        let (s, body) = api.get("/token?service=ngc", &auth).await;
        assert_eq!(s, 401, "{auth:?}: {body}");
        assert!(!error_text(&body).is_empty());
    }
    let wrong_user = api
        .send(
            api.raw()
                .get(format!("{}/token?service=ngc", api.base))
                .basic_auth("admin", Some(&key)),
        )
        .await;
    assert_eq!(wrong_user.0, 401);
    // An expired key: valid for two seconds, then refused.
    admin_ok(stores, &["user", "create", "exp@acme.test", "--name", "Exp"]);
    admin_ok(
        stores,
        &[
            "role",
            "grant",
            "exp@acme.test",
            "--org",
            "acme",
            "--role",
            "REGISTRY_READ",
        ],
    );
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let short = admin_ok(
        stores,
        &[
            "key",
            "personal",
            "--org",
            "acme",
            "--user",
            "exp@acme.test",
            "--expiry",
            &soon,
        ],
    );
    let (s, _) = api.get("/token?service=ngc", &Auth::Key(short.clone())).await;
    assert_eq!(s, 200);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (s, _) = api.get("/token?service=ngc", &Auth::Key(short)).await;
    assert_eq!(s, 401, "an expired key gets no token");
}
both_backends!(token_service, tokens);

async fn bad_input(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let before = api.get("/v2/org/acme/teams", &owner).await.1["teams"].clone();
    let cases: Vec<(&str, &str, Option<String>, u16)> = vec![
        (
            "POST",
            "/v2/org/acme/teams",
            Some(r#"{"name": "Bad Name"}"#.into()),
            400,
        ),
        ("POST", "/v2/org/acme/teams", Some(r#"{"name": "../etc"}"#.into()), 400),
        ("POST", "/v2/org/acme/teams", Some(r#"{"name": "a--b"}"#.into()), 400),
        ("POST", "/v2/org/acme/teams", Some(r#"{"name": "#.into()), 400),
        ("POST", "/v2/org/acme/teams", Some("not json".into()), 400),
        (
            "POST",
            "/v2/org/acme/teams",
            Some(r#"{"name": "ok", "surprise": 1}"#.into()),
            400,
        ),
        (
            "POST",
            "/v2/org/acme/teams",
            Some(format!(
                r#"{{"name": "big", "description": "{}"}}"#,
                "x".repeat(2 * 1024 * 1024)
            )),
            413,
        ),
        (
            "POST",
            "/v3/orgs/acme/invitations",
            Some(r#"{"email": "nope", "roles": [{"name": "REGISTRY_READ"}]}"#.into()),
            400,
        ),
        (
            "POST",
            "/v3/orgs/acme/invitations",
            Some(r#"{"email": "a@b.c", "roles": [{"name": "KING"}]}"#.into()),
            400,
        ),
        (
            "POST",
            "/v3/orgs/acme/invitations",
            Some(r#"{"email": "a@b.c", "roles": [{"name": "USER_READ"}]}"#.into()),
            400,
        ),
        (
            "POST",
            "/v3/orgs/acme/keys/personal",
            Some(r#"{"name": "x", "expiry": "tomorrow"}"#.into()),
            400,
        ),
        (
            "POST",
            "/v3/orgs/acme/keys/personal",
            Some(r#"{"name": "x", "services": ["TIME_TRAVEL"]}"#.into()),
            400,
        ),
        ("GET", "/v3/orgs/acme/keys/notanumber", None, 400),
        ("GET", "/v2/orgs/UPPER", None, 404),
        ("GET", "/v2/nothing/here", None, 404),
        ("PUT", "/v2/orgs/acme", Some("{}".into()), 405),
        (
            "PATCH",
            "/v3/orgs/acme/users/nobody@x.y/add-role?roles=REGISTRY_READ",
            None,
            404,
        ),
        ("PATCH", "/v3/orgs/acme/users/owner@acme.test/add-role", None, 400),
    ];
    for (method, path, body, expected) in cases {
        let mut req = api
            .raw()
            .request(method.parse().unwrap(), format!("{}{path}", api.base))
            .bearer_auth(server.key());
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let (status, json) = api.send(req).await;
        assert_eq!(status.as_u16(), expected, "{method} {path}: {json}");
        assert!(
            !error_text(&json).is_empty(),
            "{method} {path}: NGC error JSON expected, got {json}"
        );
    }
    let after = api.get("/v2/org/acme/teams", &owner).await.1["teams"].clone();
    assert_eq!(before, after, "refused requests changed nothing");
    let (s, body) = api.get("/v2/orgs", &Auth::None).await;
    assert_eq!(s, 401, "{body}");
}
both_backends!(refusals, bad_input);

async fn replicas_share_state(stores: &Stores) {
    let a = Server::start(stores);
    let b = Server::start(stores);
    assert!(b.initial_key.is_none());
    let owner = Auth::Bearer(a.key());
    let (s, body) = a
        .api()
        .post("/v3/orgs/acme/keys/personal", &owner, json!({"name": "made on a"}))
        .await;
    assert_eq!(s, 201, "{body}");
    let key = body["secret"].as_str().unwrap().to_string();
    let (s, _) = b.api().get("/v2/orgs", &Auth::Bearer(key.clone())).await;
    assert_eq!(s, 200, "a key created through one replica works through the other");
    let token = a.api().token(&key, "acme").await;
    let (s, _) = b.api().get("/v2/users/me", &Auth::Bearer(token)).await;
    assert_eq!(s, 200, "a token issued by one replica is accepted by the other");
    let id = body["key"]["id"].as_i64().unwrap();
    let (s, _) = b.api().delete(&format!("/v3/orgs/acme/keys/{id}"), &owner).await;
    assert_eq!(s, 200);
    let (s, _) = a.api().get("/v2/orgs", &Auth::Bearer(key)).await;
    assert_eq!(s, 401, "revocation through one replica is seen by the other at once");
}
both_backends!(replicas, replicas_share_state);

async fn admin_without_server(stores: &Stores) {
    admin_ok(stores, &["org", "create", "solo", "--display-name", "Solo"]);
    admin_ok(stores, &["user", "create", "sam@solo.test", "--name", "Sam"]);
    admin_ok(
        stores,
        &["role", "grant", "sam@solo.test", "--org", "solo", "--role", "ORG_OWNER"],
    );
    let key = admin_ok(stores, &["key", "personal", "--org", "solo", "--user", "sam@solo.test"]);
    assert!(
        key.starts_with("nvapi-hp-") && !key.contains('\n'),
        "only the secret on stdout: {key}"
    );
    let (ok, _, err) = common::admin(
        stores,
        &["role", "grant", "sam@solo.test", "--org", "solo", "--role", "WIZARD"],
    );
    assert!(!ok && err.contains("WIZARD"), "{err}");
    // The server started afterwards accepts what admin created, and creates no org of its own.
    let server = Server::start(stores);
    assert!(server.initial_key.is_none());
    let (s, body) = server.api().get("/v2/orgs", &Auth::Bearer(key)).await;
    assert_eq!(s, 200);
    assert_eq!(names(&body["organizations"], "name"), ["solo"]);
}
both_backends!(admin_cli, admin_without_server);

#[tokio::test]
async fn tls_server() {
    let stores = common::stores(common::Backend::SqliteFolder).await.expect("sqlite");
    let (server, ca) = Server::start_tls(&stores);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let api = Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    let token = api.token(&server.key(), "acme").await;
    let (s, body) = api.get("/v2/users/me", &Auth::Bearer(token)).await;
    assert_eq!(
        (s.as_u16(), body["user"]["email"].as_str()),
        (200, Some("owner@acme.test"))
    );
    // Without the CA the connection is refused by the client.
    let plain = reqwest::Client::new()
        .get(format!("{}/v2/products", server.base))
        .send()
        .await;
    assert!(plain.is_err(), "an untrusted certificate must fail");
}
