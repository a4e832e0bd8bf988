//! Setup → API keys in a real browser (issue 17): a personal key generated on the page works
//! with a registry login (skopeo, as the page's `docker login` line says) and with NVIDIA's `ngc`;
//! deactivated it is refused, activated it works again; rotated, the old secret stops and the
//! new one works; deleted only when the box naming it is ticked; a CSRF-less post refused; a
//! service key made by the owner and taken for its scopes; the legacy key generated and deleted; a member who only reads sees no
//! service keys and is refused when posting the form; and the 8-key limit replaces the form
//! with why.

mod common;

use common::Auth;
use common::api::Api;
use common::browser::Browser;
use common::ngc::{Ngc, bundle};
use common::web::{set_password, sign_in, tls_web};
use common::{admin_ok, member};
use serde_json::json;

const READER_PASSWORD: &str = "reader's long passphrase 3";

/// Fills the new-key form with `name` and sends it; answers the secret shown.
async fn generate(b: &Browser, name: &str) -> String {
    b.fill("name", name).await;
    b.submit("form#new-key").await;
    b.wait_for_text("it is shown only this once").await;
    b.text_of("#secret").await
}

/// Clicks the control `css` in the row of the key called `name`.
async fn in_row(b: &Browser, name: &str, css: &str) {
    let clicked = b
        .js(
            "const row = [...document.querySelectorAll('#keys tbody tr')]                .find(r => r.cells[0].firstChild.textContent.trim() === arguments[0]);              const control = row && row.querySelector(arguments[1]);              if (!control) return false; control.click(); return true;",
            vec![json!(name), json!(css)],
        )
        .await;
    assert_eq!(clicked, json!(true), "no {css} for key {name}");
}

/// Sends a form of the page's own making to `action` with only `csrf` in it (no box ticked).
async fn post_form(b: &Browser, action: &serde_json::Value, csrf: &serde_json::Value) {
    b.js(
        "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0]; \
         const c = document.createElement('input'); c.name = 'csrf'; c.value = arguments[1]; f.append(c); \
         document.body.append(f); f.submit();",
        vec![action.clone(), csrf.clone()],
    )
    .await;
}

/// The status of `GET /v2/org/acme/models` with `key`.
async fn api_status(api: &Api, key: &str) -> u16 {
    api.get("/v2/org/acme/models", &Auth::Bearer(key.to_string()))
        .await
        .0
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_keys_in_a_real_browser() {
    let Some(web) = tls_web().await else { return };
    let (b, stores, server, ca, api) = (&web.b, &web.stores, &web.server, &web.ca, &web.api);
    let base = &server.base;

    // Generate one from the header's link: the secret once, with the commands that use it.
    b.js("document.querySelector('#setup-keys').click()", vec![]).await;
    b.wait_for_text("API keys · acme").await;
    let secret = generate(b, "laptop").await;
    b.snapshot("api-key-secret").await;
    assert!(secret.starts_with("nvapi-") || secret.len() > 30, "{secret}");
    let login = b.text_of("#docker-login").await;
    let host = base.trim_start_matches("https://");
    assert_eq!(
        login,
        format!("docker login {host} --username '$oauthtoken' --password '{secret}'")
    );
    assert!(b.text_of("#ngc-config").await.contains(&format!("Base URL: {base}")));

    // The registry takes it, as the page's login line has it (skopeo for docker).
    let work = stores.dir.path().join("keys");
    std::fs::create_dir_all(&work).unwrap();
    let skopeo_login = login.replacen(
        "docker login",
        &format!(
            "skopeo login --tls-verify=false --authfile {}/auth.json",
            work.display()
        ),
        1,
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&skopeo_login)
        .env("HOME", &work)
        .output()
        .expect("skopeo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // So does ngc.
    let ngc = Ngc::new(&web.ngc, base, &bundle(&work, &ca.ca_pem), work.join("ngc-home")).with_key(&secret);
    ngc.ok(&["registry", "model", "list", "acme/*"]);
    assert_eq!(api_status(api, &secret).await, 200);

    // Deactivated, refused; active again, taken.
    b.goto(&format!("{base}/setup/keys")).await;
    b.wait_for_text("laptop").await;
    in_row(b, "laptop", "button[name=toggle]").await;
    b.wait_for_text("The key is deactivated").await;
    assert_eq!(api_status(api, &secret).await, 401);
    let (code, _, _) = ngc.run(&["registry", "model", "list", "acme/*"]);
    assert_ne!(code, 0, "ngc with a deactivated key");
    in_row(b, "laptop", "button[name=toggle]").await;
    b.wait_for_text("The key is active again").await;
    assert_eq!(api_status(api, &secret).await, 200);

    // Rotated: the old secret stops, the new one works.
    in_row(b, "laptop", "button[name=rotate]").await;
    b.wait_for_text("“laptop” rotated").await;
    let rotated = b.text_of("#secret").await;
    assert_ne!(rotated, secret);
    assert_eq!(api_status(api, &secret).await, 401);
    assert_eq!(api_status(api, &rotated).await, 200);

    // Deleting needs the box that names the key ticked (the browser insists; so does the server).
    b.goto(&format!("{base}/setup/keys")).await;
    b.wait_for_text("laptop").await;
    // The laptop key's delete form, sent without the box.
    let form = "[...document.querySelectorAll('#keys tbody tr')].find(r => r.textContent.includes('laptop')) \
                .querySelector('form[action$=\"/delete\"]')";
    let csrf = b
        .js(
            &format!("return {form}.querySelector('input[name=csrf]').value"),
            vec![],
        )
        .await;
    let action = b.js(&format!("return {form}.action"), vec![]).await;
    post_form(b, &action, &csrf).await;
    b.wait_for_text("tick the box that names the key 'laptop'").await;
    assert_eq!(api_status(api, &rotated).await, 200, "not deleted");
    // Without the CSRF token: refused.
    b.goto(&format!("{base}/setup/keys")).await;
    let rotate = action.as_str().unwrap().replace("/delete", "/rotate");
    post_form(b, &json!(rotate), &json!("")).await;
    b.wait_for_text("This form has expired or did not come from this site.")
        .await;
    assert_eq!(api_status(api, &rotated).await, 200, "not rotated");
    b.goto(&format!("{base}/setup/keys")).await;
    in_row(b, "laptop", "input[name=confirm]").await;
    in_row(b, "laptop", "button[name=delete]").await;
    b.wait_for_text("The key is deleted").await;
    assert_eq!(api_status(api, &rotated).await, 401);

    // A service key of the org: refused with why when its entity is missing, then made and
    // taken for what its scopes allow.
    b.goto(&format!("{base}/setup/keys")).await;
    b.js(
        "document.querySelector('#service-name').value = 'deploy bot'; \
         document.querySelector('#new-service-key input[value=LIST_ARTIFACTS]').click(); \
         document.querySelector('#new-service-key input[value=GET_ARTIFACT]').click(); \
         document.querySelector('#entity-type').value = 'SPECIFIC_MODEL';",
        vec![],
    )
    .await;
    b.submit("form#new-service-key").await;
    let refused = b.wait_for_text("No key generated").await;
    assert!(
        refused.contains("deploy bot") || refused.contains("entity"),
        "{refused}"
    );
    b.js(
        "document.querySelector('#service-name').value = 'deploy bot'; \
         document.querySelector('#new-service-key input[value=LIST_ARTIFACTS]').click(); \
         document.querySelector('#new-service-key input[value=GET_ARTIFACT]').click(); \
         document.querySelector('#entity-type').value = 'ALL_MODELS';",
        vec![],
    )
    .await;
    b.submit("form#new-service-key").await;
    b.wait_for_text("“deploy bot” generated").await;
    let service = b.text_of("#secret").await;
    assert_eq!(api_status(api, &service).await, 200);
    b.goto(&format!("{base}/setup/keys")).await;
    let listed = b.wait_for_text("deploy bot").await;
    assert!(
        listed.contains("GET_ARTIFACT, LIST_ARTIFACTS on ALL_MODELS"),
        "{listed}"
    );
    b.snapshot("api-keys").await;

    // The legacy key: generated (the secret once), taken, then deleted with its box ticked.
    b.click_button("Generate legacy key").await;
    b.wait_for_text("“legacy” generated").await;
    let legacy = b.text_of("#secret").await;
    assert_eq!(api_status(api, &legacy).await, 200);
    b.goto(&format!("{base}/setup/keys")).await;
    b.wait_for_text("Your legacy key starts with").await;
    b.js(
        "document.querySelector('form[action=\"/setup/keys/legacy/delete\"] input[name=confirm]').click()",
        vec![],
    )
    .await;
    b.click_button("Delete legacy key").await;
    b.wait_for_text("The key is deleted").await;
    assert!(b.has("#no-legacy").await);
    assert_eq!(api_status(api, &legacy).await, 401);

    // A member who reads the registry sees no service keys and may not make one.
    let member_key = member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]);
    assert_eq!(api_status(api, &member_key).await, 200);
    let link = admin_ok(stores, &["password-link", "reader@acme.test"]);
    let reader = Browser::start().await.expect("a second browser");
    set_password(&reader, &format!("{base}{}", link.trim()), READER_PASSWORD).await;
    sign_in(&reader, base, "reader@acme.test", READER_PASSWORD).await;
    reader.goto(&format!("{base}/setup/keys")).await;
    let text = reader.wait_for_text("Generate a personal key").await;
    assert!(
        !text.contains("deploy bot") && !text.contains("Generate a service key"),
        "{text}"
    );
    let csrf = reader
        .js(
            "return document.querySelector('#new-key input[name=csrf]').value",
            vec![],
        )
        .await;
    post_form(&reader, &json!(format!("{base}/setup/keys/service")), &csrf).await;
    reader
        .wait_for_text("only owners and user admins manage the organization's service keys")
        .await;

    // The limit: with 8 personal keys in acme (the first start's, and 7 more), no form but why.
    for i in 0..7 {
        let (status, reply) = api
            .post(
                "/v3/orgs/acme/keys/personal",
                &Auth::Bearer(server.key()),
                json!({"name": format!("ci-{i}")}),
            )
            .await;
        assert_eq!(status, 201, "{reply}");
    }
    b.goto(&format!("{base}/setup/keys")).await;
    let text = b.wait_for_text("the most one user may have").await;
    assert!(text.contains("You have 8 personal keys in acme"), "{text}");
    assert!(!b.has("form#new-key").await);
}
