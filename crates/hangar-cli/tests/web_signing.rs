//! Organization → Signing in a real browser (issue 18), on both backends: the owner trusts a
//! key made by `hangar key signing create` (a private key, or a name out of grammar, is refused
//! next to the form with what was typed kept), requires signatures for a team (a pull of its
//! unsigned image is then refused by the registry) and for a repository that does not exist
//! (refused at the form), lifts the requirement, and removes the key only with the box that
//! names it; a CSRF-less post is refused. Each change is checked through the REST API.

mod common;

use common::cli::Cli;
use common::registry::Registry;
use common::web::{owner_web, post_raw, set, tick};
use common::{Auth, Backend, admin_ok, path_str};
use reqwest::Method;
use serde_json::json;

async fn signing_tab(backend: Backend) {
    let Some((b, stores, server)) = owner_web(backend).await else {
        return;
    };
    let base = server.base.clone();
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let work = stores.dir.path().join("keys");
    std::fs::create_dir_all(&work).unwrap();
    let out = Cli::new(&server, &stores.dir.path().join("home")).output_with_input(
        &["key", "signing", "create", "--output-dir", path_str(&work)],
        "pass phrase\npass phrase\n",
    );
    assert!(out.status.success(), "{out:?}");
    let public = std::fs::read_to_string(work.join("cosign.pub")).unwrap();
    let private = std::fs::read_to_string(work.join("cosign.key")).unwrap();

    b.goto(&format!("{base}/orgs/acme/admin")).await;
    b.js(
        "document.querySelector('nav.tabs a[href$=\"/signing\"]').click()",
        vec![],
    )
    .await;
    b.wait_for_text("Keys the organization trusts").await;
    assert!(b.has("#no-keys").await && b.has("#no-requirements").await);

    // A private key is refused next to the form, with what was typed kept.
    b.fill("name", "release").await;
    set(&b, "#key-pem", &private).await;
    b.submit("#new-key-form").await;
    let refused = b.text_of("#error-new-key").await;
    assert!(refused.contains("never a private key"), "{refused}");
    assert_eq!(
        b.js("return document.querySelector('#key-name').value", vec![]).await,
        json!("release")
    );
    set(&b, "#key-name", "<b>release</b>").await;
    set(&b, "#key-pem", &public).await;
    b.submit("#new-key-form").await;
    assert!(
        b.text_of("#error-new-key").await.contains("key name"),
        "{}",
        b.page_text().await
    );
    set(&b, "#key-name", "release").await;
    b.submit("#new-key-form").await;
    b.wait_for_text("The key is trusted").await;
    assert!(b.text_of("tr[data-key=release]").await.contains("Registered"));
    let (_, keys) = api.get("/v2/org/acme/signing-keys", &owner).await;
    assert_eq!(keys["signingKeys"][0]["name"], "release", "{keys}");
    assert_eq!(
        keys["signingKeys"][0]["publicKey"].as_str().unwrap().trim(),
        public.trim()
    );
    b.snapshot("org-signing").await;

    // Signatures required for team vision: its unsigned image is refused by the registry.
    admin_ok(&stores, &["team", "create", "acme", "vision"]);
    let reg = Registry::new(&server, Some(server.key()));
    reg.push_image("acme/vision/app", "v1").await;
    b.goto(&format!("{base}/orgs/acme/admin/signing")).await;
    set(&b, "#requirement-scope", "team").await;
    set(&b, "#requirement-name", "vision").await;
    b.submit("#requirement-form").await;
    b.wait_for_text("Pulls there now need a verified signature.").await;
    assert!(b.has("li[data-requirement='acme/vision']").await);
    let pulled = reg
        .send(Method::GET, "/v2/acme/vision/app/manifests/v1", &[], vec![])
        .await;
    assert_eq!(pulled.status(), 403);
    let body = pulled.text().await.unwrap();
    assert!(
        body.contains("DENIED") && body.contains("acme/vision requires signed images"),
        "{body}"
    );
    // A repository that is not there is refused at the form.
    set(&b, "#requirement-scope", "repository").await;
    set(&b, "#requirement-name", "acme/nope").await;
    b.submit("#requirement-form").await;
    assert!(
        b.text_of("#error-new-requirement")
            .await
            .contains("repository 'acme/nope' not found"),
        "{}",
        b.page_text().await
    );
    b.submit("li[data-requirement='acme/vision'] form").await;
    b.wait_for_text("Pulls there no longer need a signature.").await;
    let (_, listed) = api.get("/v2/org/acme/signature-requirements", &owner).await;
    assert_eq!(listed["requirements"], json!([]), "{listed}");
    let pulled = reg
        .send(Method::GET, "/v2/acme/vision/app/manifests/v1", &[], vec![])
        .await;
    assert_eq!(pulled.status(), 200);

    // Without the CSRF token nothing changes; removing needs the box that names the key.
    post_raw(&b, "/orgs/acme/admin/signing/requirements", &[("scope", "org")], false).await;
    b.wait_for_text("Form expired").await;
    let (_, listed) = api.get("/v2/org/acme/signature-requirements", &owner).await;
    assert_eq!(listed["requirements"], json!([]), "{listed}");
    b.goto(&format!("{base}/orgs/acme/admin/signing")).await;
    post_raw(&b, "/orgs/acme/admin/signing/keys/release/remove", &[], true).await;
    b.wait_for_text("tick the box that names key release").await;
    tick(&b, "tr[data-key=release]", "release", true).await;
    b.submit("tr[data-key=release] form").await;
    b.wait_for_text("The key is no longer trusted").await;
    let (_, keys) = api.get("/v2/org/acme/signing-keys", &owner).await;
    assert_eq!(keys["signingKeys"], json!([]), "{keys}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_tab_in_a_real_browser_sqlite() {
    signing_tab(Backend::SqliteFolder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_tab_in_a_real_browser_postgres() {
    signing_tab(Backend::PostgresS3).await;
}
