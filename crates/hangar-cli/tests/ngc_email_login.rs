//! NVIDIA's `ngc` 4.37 signed in with e-mail (device) login (ngc-api.md §2.4): `ngc config set
//! --auth-option email` opens the login page through `BROWSER`, where a real headless chromium
//! signs in and approves; then `ngc` acts as the user: lists orgs, invites new users to the org
//! and to a team (accepted in the browser), lists images; the login ended on the account page
//! is refused.

mod common;

use common::browser::Browser;
use common::ngc::{Ngc, bundle, column, ngc_paths};
use common::registry::Registry;
use common::web::{
    OWNER_PASSWORD, browser_helper, first_start_link, mailed_link, set_password, sign_in_form, wait_for_file,
    wait_output,
};
use common::{Api, Auth, Server, Stores};
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

async fn ngc_email_login(stores: &Stores) {
    let Some(paths) = ngc_paths() else { return };
    let Some(b) = Browser::start().await else { return };
    let dir = stores.dir.path();
    let (server, ca) = Server::start_tls(stores);
    let base = server.base.clone();
    let api = Api::new(&base, Some(ca.ca_pem.as_bytes()));
    let owner_key = Auth::Bearer(server.key());
    let (status, body) = api
        .post(
            "/v2/org/acme/teams",
            &owner_key,
            serde_json::json!({"name": "vision", "description": "Vision"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let registry = Registry::with_ca(&server, Some(server.key()), Some(&ca.ca_pem));
    registry.push_image("acme/web", "v1").await;
    set_password(&b, &first_start_link(&server.stdout), OWNER_PASSWORD).await;

    // `ngc config set --auth-option email`: e-mail, format (kept), org, team on stdin.
    let ngc = Ngc::new(&paths, &base, &bundle(dir, &ca.ca_pem), dir.join("ngc-home"));
    let helper_dir = dir.join("browser-helper");
    std::fs::create_dir_all(&helper_dir).expect("helper dir");
    let mut config = ngc.command(&["config", "set", "--auth-option", "email"]);
    config
        .env("BROWSER", browser_helper(&helper_dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = config.spawn().expect("run ngc config set");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"owner@acme.test\n\nacme\nno-team\n")
        .expect("answer the prompts");
    let login_url = wait_for_file(&helper_dir.join("login-url"));
    assert!(login_url.starts_with(&format!("{base}/device?code=")), "{login_url}");
    // Not signed in yet: the page sends the browser to sign in first, then back.
    b.goto(&login_url).await;
    b.wait_for_text("Sign in to Hangar").await;
    sign_in_form(&b, "owner@acme.test", OWNER_PASSWORD).await;
    let page = b.wait_for_text("on this device?").await;
    let cookie = b.cookie("hangar_session").await.expect("a session cookie");
    assert_eq!(cookie.secure, Some(true), "served over TLS");
    assert!(page.contains("owner@acme.test"), "{page}");
    b.click_button("Approve").await;
    b.wait_for_text("The ngc login is approved").await;
    std::fs::write(helper_dir.join("approved"), b"yes").expect("mark approved");
    let out = wait_output(child, Duration::from_secs(90));
    assert!(out.0, "ngc config set failed:\n{}\n{}", out.1, out.2);
    let config_file = std::fs::read_to_string(ngc.home.join(".ngc/config")).expect("ngc config");
    assert!(
        config_file.contains("starfleet_kas_session_key = hgdev-"),
        "{config_file}"
    );
    assert!(!config_file.contains("apikey"), "{config_file}");

    // The session key acts as the owner, with the owner's roles.
    let orgs = ngc.json(&["org", "list"]);
    assert_eq!(column(&orgs, "name"), ["acme"], "{orgs}");
    let (code, out, err) = ngc.run(&["user", "who"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("owner@acme.test"), "{out}");
    // `config current --show-auth-token` trades the session key for a token at `/token`.
    let shown = ngc.ok(&["config", "current", "--show-auth-token", "--yes"]);
    assert!(shown.contains("starfleet_token") && shown.contains("eyJ"), "{shown}");
    let images = ngc.json(&["registry", "image", "list"]);
    assert!(images.to_string().contains("web"), "{images}");

    // Only e-mail login may invite new users: to the org, and to a team.
    ngc.ok(&["org", "add-user", "invitee@acme.test", "--role", "REGISTRY_USER"]);
    let mut team_add = ngc.command(&["team", "add-user", "teamie@acme.test", "--role", "REGISTRY_READ"]);
    let out = team_add
        .env("NGC_CLI_TEAM", "vision")
        .output()
        .expect("ngc team add-user");
    assert!(
        out.status.success(),
        "team add-user: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, pending) = api
        .get("/v3/orgs/acme/teams/vision/pending-invitations", &owner_key)
        .await;
    assert_eq!(status, 200);
    assert!(pending.to_string().contains("teamie@acme.test"), "{pending}");

    // The invitation ngc sent is accepted in the browser by the new user.
    let link = mailed_link(stores, "invitee@acme.test", "/invitations/");
    b.delete_cookies().await;
    b.goto(&link).await;
    b.wait_for_text("Create your account").await;
    b.fill("name", "Invitee").await;
    b.fill("password", "invitee's long passphrase").await;
    b.fill("confirm", "invitee's long passphrase").await;
    b.check("terms").await;
    b.submit("form[action^='/invitations/']").await;
    b.wait_for_text("Welcome! You joined acme.").await;
    let (_, users) = api.get("/v2/org/acme/users", &owner_key).await;
    assert!(users.to_string().contains("invitee@acme.test"), "{users}");

    // The owner ends the login on the account page; ngc is refused from then on.
    b.delete_cookies().await;
    b.goto(&format!("{base}/signin")).await;
    sign_in_form(&b, "owner@acme.test", OWNER_PASSWORD).await;
    b.wait_for_text("ngc e-mail login").await;
    b.submit("#sessions tr[data-kind='ngc e-mail login'] form").await;
    b.wait_for_text("The session is ended.").await;
    let refused = ngc.refused(&["org", "list"]);
    assert!(refused.contains("Session key has expired"), "{refused}");
}

both_backends!(email_login, ngc_email_login);
