//! The `hangar` client signed in with an e-mail login (`config set --auth-option email`), the
//! login approved over plain HTTP by the test acting as the browser: the session works as the
//! user on the REST API, the catalog lists and the registry (pull and push), a wrong org ends
//! the login it was given with, and an ended session is refused with a message that says how to
//! log in again.

mod common;

use common::cli::Cli;
use common::ngc::column;
use common::registry::Registry;
use common::web::{HttpBrowser, OWNER_PASSWORD, end_hangar_login, first_start_link, start_hangar_login};
use common::{Auth, Server, Stores, path_str};
use serde_json::{Value, json};
use std::path::Path;

/// `hangar config set --auth-option email … --org <org>`, the login approved as `web`'s user:
/// (success, stdout, stderr).
async fn email_login(cli: &Cli, web: &mut HttpBrowser, helper_dir: &Path, org: &str) -> (bool, String, String) {
    let (child, login_url) = start_hangar_login(cli, helper_dir, org);
    web.approve_login(&login_url).await;
    let (ok, out, err) = end_hangar_login(child, helper_dir);
    assert!(err.contains(&login_url), "the link is printed: {err}");
    assert!(
        !out.contains("hgdev-") && !err.contains("hgdev-"),
        "the session key is never shown:\n{out}\n{err}"
    );
    (ok, out, err)
}

async fn accounts_cli(stores: &Stores) {
    let server = Server::start(stores);
    let dir = stores.dir.path();
    let key = server.key();
    // Private to acme, made with the owner's API key: an image and a model.
    Registry::new(&server, Some(key.clone()))
        .push_image("acme/web", "v1")
        .await;
    let model = json!({
        "name": "det", "application": "OBJECT_DETECTION", "framework": "PyTorch", "modelFormat": "onnx",
        "precision": "FP16", "shortDescription": "a detector"
    });
    let (status, body) = server
        .api()
        .post("/v2/org/acme/models", &Auth::Bearer(key.clone()), model)
        .await;
    assert_eq!(status, 200, "{body}");
    let mut web = HttpBrowser::new(&server.base);
    web.set_password(&first_start_link(&server.stdout), OWNER_PASSWORD)
        .await;
    web.sign_in("owner@acme.test", OWNER_PASSWORD).await;
    let cli = Cli::new(&server, &dir.join("cli-home"));

    let refused = cli.fails(&["config", "set", "--email", "owner@acme.test"]);
    assert!(refused.contains("--auth-option email"), "{refused}");

    // A wrong org is refused after the approval; that login is ended, nothing is saved.
    let (ok, _, err) = email_login(&cli, &mut web, &dir.join("browser-1"), "nope").await;
    assert!(!ok && err.contains("Invalid org. Choose from ['acme']"), "{err}");
    assert!(!dir.join("cli-home/config.toml").exists());

    let (ok, out, err) = email_login(&cli, &mut web, &dir.join("browser-2"), "acme").await;
    assert!(ok, "config set --auth-option email failed:\n{out}\n{err}");
    assert!(out.contains("Logged in as owner@acme.test"), "{out}");
    assert!(err.contains("Waiting for the approval"), "{err}");
    let saved = std::fs::read_to_string(dir.join("cli-home/config.toml")).expect("settings file");
    assert!(saved.contains("session_key = \"hgdev-"), "{saved}");

    // Who the session is, in each output format.
    let me = cli.json(&["user", "me"]);
    assert_eq!(me["user"]["email"], "owner@acme.test", "{me}");
    assert!(me.to_string().contains("ORG_OWNER"), "{me}");
    let csv = cli.fails(&["user", "me", "--format_type", "csv"]);
    assert!(csv.contains("does not support CSV"), "{csv}");
    let ascii = cli.ok(&["user", "me"]);
    assert!(
        ascii.contains("| Email") && ascii.contains("| owner@acme.test") && ascii.contains("acme [ORG_OWNER"),
        "{ascii}"
    );

    // The REST API, the catalog lists and the registry see acme's private entities.
    assert!(column(&cli.json(&["org", "list"]), "name").contains(&"acme".into()));
    let images = cli.json(&["registry", "image", "list"]);
    assert!(images.to_string().contains("acme/web"), "{images}");
    let models = cli.json(&["registry", "model", "list"]);
    assert!(models.to_string().contains("acme/det"), "{models}");
    let layout = dir.join("layout");
    let image = cli.prefix(&["registry", "image"]);
    let pulled = image.json(&["pull", "acme/web:v1", "--dest", path_str(&layout)]);
    assert_eq!(pulled["format"], "oci", "{pulled}");
    let pushed = image.json(&["push", "acme/copy:v1", "--source", path_str(&layout)]);
    assert_eq!(pushed["digest"], pulled["digest"], "{pushed}");

    // Its sessions: the browser and this one login (the refused one was ended).
    let sessions = cli.json(&["user", "sessions"]);
    let logins: Vec<&Value> = sessions
        .as_array()
        .expect("a list")
        .iter()
        .filter(|s| s["type"] == "DEVICE")
        .collect();
    assert_eq!(logins.len(), 1, "{sessions}");
    assert_eq!(logins[0]["current"], Value::Bool(true), "{sessions}");
    let csv = cli.ok(&["user", "sessions", "--format_type", "csv"]);
    assert!(
        csv.starts_with("Id,Type,Device,Address,") && csv.contains(",DEVICE,"),
        "{csv}"
    );

    // Ended: every kind of command says to log in again, exit 1.
    let id = logins[0]["id"].to_string();
    assert_eq!(
        cli.ok(&["user", "end-session", &id]).trim(),
        format!("Session {id} ended.")
    );
    let again = "Run `hangar config set --auth-option email";
    for args in [
        &["org", "list"][..],
        &["user", "me"],
        &["registry", "image", "list"],
        &[
            "registry",
            "image",
            "pull",
            "acme/web:v1",
            "--dest",
            path_str(&dir.join("again")),
        ],
    ] {
        let refused = cli.fails(args);
        assert!(refused.contains(again), "{args:?}: {refused}");
    }

    // An API key replaces the e-mail login in the settings.
    cli.ok(&["config", "set", "--api-key", &key]);
    let saved = std::fs::read_to_string(dir.join("cli-home/config.toml")).expect("settings file");
    assert!(!saved.contains("session_key"), "{saved}");
    assert_eq!(cli.json(&["user", "me"])["user"]["email"], "owner@acme.test");
}

both_backends!(accounts, accounts_cli);
