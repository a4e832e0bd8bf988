//! `hangar config set --auth-option email`: the CLI prints the login link (and hands it to
//! `BROWSER`), a real headless chromium signs in and approves it, and the CLI then works as the
//! user: `user me`, `org list`, `user sessions`, `org reset-password`; the session it ends is
//! refused with a message that says to log in again.

mod common;

use common::browser::Browser;
use common::cli::Cli;
use common::web::{
    OWNER_PASSWORD, end_hangar_login, first_start_link, mailed_link, set_password, sign_in_form, start_hangar_login,
};
use common::{Server, Stores};
use serde_json::Value;

async fn cli_email_login(stores: &Stores) {
    let Some(b) = Browser::start().await else { return };
    let server = Server::start(stores);
    set_password(&b, &first_start_link(&server.stdout), OWNER_PASSWORD).await;
    let dir = stores.dir.path();
    let helper_dir = dir.join("browser-helper");
    let cli = Cli::new(&server, &dir.join("cli-home"));

    // A login denied on its page ends the waiting command at once, and saves nothing.
    let (child, login_url) = start_hangar_login(&cli, &dir.join("denied-helper"), "acme");
    b.goto(&login_url).await;
    b.wait_for_text("Sign in to Hangar").await;
    sign_in_form(&b, "owner@acme.test", OWNER_PASSWORD).await;
    b.wait_for_text("on this device?").await;
    b.click_button("Deny").await;
    b.wait_for_text("The ngc login was refused").await;
    let (ok, _, err) = end_hangar_login(child, &dir.join("denied-helper"));
    assert!(!ok && err.contains("denied on its approval page"), "{err}");
    assert!(!dir.join("cli-home/config.toml").exists());

    let (child, login_url) = start_hangar_login(&cli, &helper_dir, "acme");
    b.goto(&login_url).await;
    b.wait_for_text("on this device?").await;
    b.click_button("Approve").await;
    b.wait_for_text("The ngc login is approved").await;
    let (ok, out, err) = end_hangar_login(child, &helper_dir);
    assert!(ok, "config set --auth-option email failed:\n{out}\n{err}");
    assert!(out.contains("Logged in as owner@acme.test"), "{out}");
    assert!(err.contains(&login_url), "the link is printed: {err}");
    let saved = std::fs::read_to_string(dir.join("cli-home/config.toml")).expect("settings file");
    assert!(saved.contains("session_key = \"hgdev-"), "{saved}");

    // The session acts as the user, with the user's roles.
    let me = cli.json(&["user", "me"]);
    assert_eq!(me["user"]["email"], "owner@acme.test", "{me}");
    assert!(me.to_string().contains("ORG_OWNER"), "{me}");
    let orgs = cli.json(&["org", "list"]);
    assert!(orgs.to_string().contains("\"acme\""), "{orgs}");
    let current = cli.ok(&["config", "current"]);
    assert!(
        current.contains("session_key") && !current.contains("hgdev-"),
        "masked: {current}"
    );

    // Its sessions: this login is one of them.
    let sessions = cli.json(&["user", "sessions"]);
    let mine = sessions
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["current"] == Value::Bool(true))
        .unwrap_or_else(|| panic!("no current session: {sessions}"));
    assert_eq!(mine["type"], "DEVICE", "{sessions}");

    // An owner sends a reset link; it goes to the outbox, not to the caller.
    let reset = cli.ok(&["org", "reset-password", "owner@acme.test"]);
    assert!(reset.contains("outbox"), "{reset}");
    assert!(!reset.contains("hgpw-"), "{reset}");
    assert!(mailed_link(stores, "owner@acme.test", "/password/").contains("/password/hgpw-"));

    // Ending the login: the next command says to log in again, exit 1.
    let id = mine["id"].to_string();
    cli.ok(&["user", "end-session", &id]);
    let refused = cli.fails(&["org", "list"]);
    assert!(refused.contains("log in again"), "{refused}");
}

both_backends!(email_login, cli_email_login);
