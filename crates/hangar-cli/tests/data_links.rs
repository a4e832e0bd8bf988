//! The data plane's links stop working when access ends (issue 12, item 3): a download link
//! handed out to a member is refused once they leave the org, once the version is deleted, and
//! once a public entity a guest had a link for is made private; a part link once its uploader
//! leaves. The entity and version pages redirect to such links (item 10). In-process, both
//! backends.

mod common;

use axum::http::Method;
use common::app::{Reply, TestApp};
use common::files::Target;
use common::{Auth, Stores};
use hangar_core::roles::Role;
use serde_json::json;

const SPACE: &str = "/v2/org/acme/team/vision";

fn ok(reply: &Reply, what: &str) {
    assert!(reply.status.is_success(), "{what}: {} {}", reply.status, reply.text());
}

/// Version `version` of model acme/vision/m.
fn m(version: &str) -> Target<'_> {
    Target {
        space: SPACE,
        kind: "models",
        name: "m",
        version,
    }
}

/// The download links of a version's files, as NGC's client gets them from
/// `{models}/m/{version}/files` (`models`: `{OT}/models`, or the catalog's guest path).
async fn file_links(app: &TestApp, auth: &Auth, models: &str, version: &str) -> Vec<String> {
    let reply = app
        .call(Method::GET, &format!("{models}/m/{version}/files"), auth, None)
        .await;
    ok(&reply, "file links");
    let urls = reply.json()["urls"].clone();
    urls.as_array()
        .expect("urls")
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

/// Where a redirect of the API goes.
async fn redirected(app: &TestApp, auth: &Auth, path: &str) -> String {
    let reply = app.call(Method::GET, path, auth, None).await;
    assert_eq!(reply.status, 302, "{path}: {}", reply.text());
    reply.header("location").expect("a Location").to_string()
}

async fn get(app: &TestApp, url: &str) -> Reply {
    app.send(Method::GET, url, &Auth::None, &[], vec![]).await
}

fn refused(reply: &Reply, status: u16, words: &str, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text());
    assert!(reply.text().contains(words), "{what}: {}", reply.text());
}

async fn links_end_with_access(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    app.team("acme", "vision").await;
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    let (alice, alice_key) = app
        .user("alice@acme.test", &[("acme", Some("vision"), Role::RegistryUser)])
        .await;
    ok(
        &app.call(
            Method::POST,
            &format!("{SPACE}/models"),
            &owner,
            Some(json!({"name": "m"})),
        )
        .await,
        "create the model",
    );
    let (a, b) = (b"the first file".as_slice(), b"the second file, in a folder".as_slice());
    app.version_with(&owner, &m("1"), &[("a.bin", a), ("sub dir/b.bin", b)])
        .await;

    // Links work: NGC's file links, the redirects of one file and of the zip (named as the
    // guide's wget pipeline saves them).
    let links = file_links(&app, &alice_key, &format!("{SPACE}/models"), "1").await;
    assert_eq!(get(&app, &links[0]).await.body.as_ref(), a);
    assert_eq!(get(&app, &links[1]).await.body.as_ref(), b);
    let file = redirected(
        &app,
        &alice_key,
        &format!("{SPACE}/models/m/versions/1/files/sub%20dir/b.bin"),
    )
    .await;
    let got = get(&app, &file).await;
    assert_eq!(got.body.as_ref(), b);
    assert_eq!(
        got.header("content-disposition"),
        Some("attachment; filename=\"b.bin\"")
    );
    let zip = redirected(&app, &alice_key, &format!("{SPACE}/models/m/versions/1/zip")).await;
    let got = get(&app, &zip).await;
    ok(&got, "the zip");
    assert_eq!(
        got.header("content-disposition"),
        Some("attachment; filename=\"m_v1.zip\"")
    );
    let ranged = app
        .send(Method::GET, &links[0], &Auth::None, &[("range", "bytes=4-8")], vec![])
        .await;
    assert_eq!((ranged.status.as_u16(), ranged.body.as_ref()), (206, &a[4..9]));

    // A link is for its file only, and for whom it was given to only.
    refused(
        &get(&app, &links[0].replace("/files/a.bin", "/files/sub%20dir/b.bin")).await,
        403,
        "wrong signature",
        "another file",
    );
    let by = links[0]
        .split("by=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    refused(
        &get(&app, &links[0].replace(&format!("by={by}"), "by=guest")).await,
        403,
        "wrong signature",
        "another holder",
    );

    // A part link of alice's, for a pending version.
    app.new_version(&alice_key, &m("2")).await;
    let part = app.start_upload(&alice_key, &m("2"), "c.bin", b"c").await["urls"][0]
        .as_str()
        .unwrap()
        .to_string();

    // Alice leaves the org: her links stop at once, though her (legacy) key still works.
    app.remove(&alice, "acme").await;
    for link in links.iter().chain([&file, &zip]) {
        refused(
            &get(&app, link).await,
            403,
            "may no longer use",
            "after leaving the org",
        );
    }
    let sent = app.send(Method::PUT, &part, &Auth::None, &[], b"c".to_vec()).await;
    refused(&sent, 403, "may no longer use", "a part after leaving the org");

    // The owner's links stop when the version is deleted.
    let owners = file_links(&app, &owner, &format!("{SPACE}/models"), "1").await;
    ok(&get(&app, &owners[0]).await, "the owner's link");
    ok(
        &app.call(Method::DELETE, &format!("{SPACE}/models/m/versions/1"), &owner, None)
            .await,
        "delete the version",
    );
    refused(
        &get(&app, &owners[0]).await,
        404,
        "no longer exists",
        "after the version is deleted",
    );

    // A guest's link of a public model stops when it is made private again.
    app.version_with(&owner, &m("3"), &[("a.bin", a)]).await;
    ok(
        &app.call(
            Method::PATCH,
            &format!("{SPACE}/models/m"),
            &owner,
            Some(json!({"isPublic": true})),
        )
        .await,
        "make it public",
    );
    let guest = file_links(&app, &Auth::None, "/v2/models/org/acme/team/vision", "3").await;
    assert_eq!(get(&app, &guest[0]).await.body.as_ref(), a);
    let guest_file = redirected(&app, &Auth::None, "/v2/models/acme/vision/m/versions/3/files/a.bin").await;
    assert_eq!(get(&app, &guest_file).await.body.as_ref(), a);
    ok(
        &app.call(
            Method::PATCH,
            &format!("{SPACE}/models/m"),
            &owner,
            Some(json!({"isPublic": false})),
        )
        .await,
        "make it private",
    );
    for link in [&guest[0], &guest_file] {
        refused(&get(&app, link).await, 403, "may no longer use", "after it is private");
    }
}

both_backends!(links_end_with_access, links_end_with_access);
