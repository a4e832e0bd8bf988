//! The web UI in a real browser: headless chromium driven over WebDriver (common/browser.rs)
//! against a real `hangar serve`. Skipped when chromium isn't installed, unless
//! `HANGAR_TEST_REQUIRE_ALL=1`.

mod common;

use common::browser::{Browser, SameSite};
use common::web::{OWNER_PASSWORD, first_start_link, mailed_link, set_password, sign_in, sign_in_form, sign_out};
use common::{Auth, Stores, admin_ok};
use common::{Backend, Server};
use serde_json::{Value, json};

/// Runs `test` with a server on `backend` and a fresh browser; does nothing when chromium or
/// the backend's services are missing (each says so).
async fn with_browser(backend: Backend, test: impl AsyncFnOnce(&Server, &Browser)) {
    let Some(browser) = Browser::start().await else { return };
    let Some(stores) = common::stores(backend).await else {
        return;
    };
    let server = Server::start(&stores);
    test(&server, &browser).await;
}

/// The browser shows what the server answers: plain text, a JSON error for an unknown path,
/// a script's fetch, the sign-in page with its CSRF cookie's flags, and a form's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_a_real_browser() {
    with_browser(Backend::SqliteFolder, async |server, b| {
        let base = &server.base;
        b.goto(&format!("{base}/healthz")).await;
        assert_eq!(b.page_text().await.trim(), "ok");
        let answer = b
            .js(
                "return fetch(arguments[0]).then(r => r.text())",
                vec![json!("/healthz")],
            )
            .await;
        assert_eq!(answer, json!("ok"));

        // A browser asking for a page nobody serves gets a page; the API's paths keep JSON.
        b.goto(&format!("{base}/no/such/page")).await;
        assert_eq!(b.title().await, "Not found · Hangar");
        b.goto(&format!("{base}/v2/no/such/thing")).await;
        let text = b.page_text().await;
        assert!(text.contains("requestStatus"), "{text}");

        b.goto(&format!("{base}/signin")).await;
        assert_eq!(b.title().await, "Sign in · Hangar");
        let csrf = b
            .cookie("hangar_csrf")
            .await
            .expect("the sign-in page sets a CSRF cookie");
        assert_eq!(csrf.http_only, Some(true));
        assert_eq!(csrf.same_site, Some(SameSite::Strict));
        assert_eq!(csrf.secure, Some(false), "plain http");

        b.fill("email", "nobody@acme.test").await;
        b.fill("password", "not the password").await;
        b.click_button("Sign in").await;
        b.wait_for_text("Wrong e-mail or password").await;
        assert!(b.current_url().await.ends_with("/signin"));

        b.delete_cookies().await;
        assert!(b.cookie("hangar_csrf").await.is_none());
    })
    .await;
}

// Accounts in a real browser (issue 14): the owner's first password, sign-in and its
// refusals, the org/team switcher, CSRF, invitations accepted by a new and by an existing
// user, used, expired and unknown invitation links, the sign-in throttle, sign-out, and a
// session that survives a restart and is served by a second replica.

const NEWBIE_PASSWORD: &str = "newbie's own passphrase";
const SECOND_PASSWORD: &str = "the owner's second passphrase";

/// Selects `value` in the header's org/team switcher and sends it.
async fn switch_to(b: &Browser, value: &str, shown: &str) {
    b.js(
        "document.querySelector('#context-switcher select').value = arguments[0];",
        vec![json!(value)],
    )
    .await;
    b.submit("#context-switcher").await;
    b.wait_for_text("Switched.").await;
    let context = b.text_of("#user-context").await;
    assert_eq!(context, shown, "after switching to {value}");
}

/// Makes an invitation as the owner (REST, legacy key) and returns its link from the outbox.
async fn invite(server: &Server, stores: &Stores, owner: &Auth, org: &str, email: &str, roles: Value) -> String {
    let (status, body) = server
        .api()
        .post(
            &format!("/v3/orgs/{org}/invitations"),
            owner,
            json!({"email": email, "roles": roles}),
        )
        .await;
    assert_eq!(status, 200, "invite {email} to {org}: {body}");
    mailed_link(stores, email, "/invitations/")
}

/// Moves an invitation's expiry into the past, straight in the database.
async fn expire_invitation(stores: &Stores, email: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = match stores.backend {
        Backend::SqliteFolder => format!("sqlite://{}", stores.database),
        Backend::PostgresS3 => stores.database.clone(),
    };
    let mut db = sqlx::AnyConnection::connect(&url).await.expect("open the database");
    sqlx::query("UPDATE invitations SET expires_at = 1 WHERE email = $1")
        .bind(email)
        .execute(&mut db)
        .await
        .expect("expire the invitation");
}

async fn accounts_in_the_browser(stores: &Stores) {
    let Some(b) = Browser::start().await else { return };
    let server = Server::start(stores);
    let base = server.base.clone();
    let legacy = admin_ok(stores, &["key", "legacy", "--user", "owner@acme.test"]);
    let owner = Auth::Bearer(legacy);
    let (status, body) = server
        .api()
        .post(
            "/v2/org/acme/teams",
            &owner,
            json!({"name": "vision", "description": "Vision"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    admin_ok(stores, &["org", "create", "beta", "--display-name", "Beta Labs"]);
    admin_ok(
        stores,
        &[
            "role",
            "grant",
            "owner@acme.test",
            "--org",
            "beta",
            "--role",
            "ORG_OWNER",
        ],
    );

    // The owner's first password, through the link the first start printed.
    set_password(&b, &first_start_link(&server.stdout), OWNER_PASSWORD).await;
    // A used link says so.
    b.goto(&first_start_link(&server.stdout)).await;
    b.wait_for_text("This link was used or has expired").await;

    // Refusals: one answer for a wrong password and for an unknown e-mail.
    b.goto(&format!("{base}/signin")).await;
    sign_in_form(&b, "owner@acme.test", "not the owner's password").await;
    let wrong = b.text_of("#error").await;
    sign_in_form(&b, "nobody@acme.test", OWNER_PASSWORD).await;
    assert_eq!(b.text_of("#error").await, wrong);
    assert_eq!(wrong, "Wrong e-mail or password");

    // Sign in: who am I, the cookie's flags.
    sign_in_form(&b, "owner@acme.test", OWNER_PASSWORD).await;
    let text = b.wait_for_text("Who am I").await;
    assert_eq!(b.text_of("#user-email").await, "owner@acme.test");
    let memberships = b.text_of("#memberships").await;
    assert!(
        memberships.contains("acme") && memberships.contains("beta") && memberships.contains("ORG_OWNER"),
        "{text}"
    );
    let cookie = b.cookie("hangar_session").await.expect("a session cookie");
    assert_eq!(cookie.http_only, Some(true));
    assert_eq!(cookie.same_site, Some(SameSite::Lax));
    assert_eq!(cookie.secure, Some(false), "plain http");

    // The signed-in browser calls the REST API same-origin: reads with the cookie alone,
    // writes only with the page's CSRF token in X-CSRF-Token.
    let token = b
        .js(
            "return document.querySelector('meta[name=csrf-token]').content;",
            vec![],
        )
        .await;
    b.goto(&format!("{base}/healthz")).await;
    let call = "return fetch(arguments[0], {method: arguments[1], headers: arguments[2], body: arguments[3]})\
                .then(r => r.text().then(t => [r.status, t]));";
    let me = b
        .js(call, vec![json!("/v2/users/me"), json!("GET"), json!({}), Value::Null])
        .await;
    assert_eq!(me[0], 200, "{me}");
    assert!(me[1].as_str().unwrap_or_default().contains("owner@acme.test"), "{me}");
    let team = json!(r#"{"name": "audio", "description": "Audio"}"#);
    let json_type = json!({"Content-Type": "application/json"});
    let refused = b
        .js(
            call,
            vec![
                json!("/v2/org/acme/teams"),
                json!("POST"),
                json_type.clone(),
                team.clone(),
            ],
        )
        .await;
    assert_eq!(refused[0], 403, "{refused}");
    assert!(
        refused[1].as_str().unwrap_or_default().contains("X-CSRF-Token"),
        "{refused}"
    );
    let with_token = json!({"Content-Type": "application/json", "X-CSRF-Token": token});
    let created = b
        .js(call, vec![json!("/v2/org/acme/teams"), json!("POST"), with_token, team])
        .await;
    assert_eq!(created[0], 200, "{created}");
    b.goto(&format!("{base}/account")).await;

    // Switch org and team from the header.
    switch_to(&b, "acme/vision", "acme / vision").await;
    switch_to(&b, "beta", "beta").await;

    // CSRF: the same form without its token is refused and changes nothing.
    b.js(
        "document.querySelector('#change-password input[name=csrf]').value = '';",
        vec![],
    )
    .await;
    b.fill("current", OWNER_PASSWORD).await;
    b.fill("password", "a brand new passphrase").await;
    b.fill("confirm", "a brand new passphrase").await;
    b.submit("#change-password").await;
    b.wait_for_text("Form expired").await;

    // A password change ends the user's other sessions (here: a second browser) and keeps
    // this one.
    let Some(other) = Browser::start().await else { return };
    sign_in(&other, &base, "owner@acme.test", OWNER_PASSWORD).await;
    b.goto(&format!("{base}/account")).await;
    b.fill("current", OWNER_PASSWORD).await;
    b.fill("password", SECOND_PASSWORD).await;
    b.fill("confirm", SECOND_PASSWORD).await;
    b.submit("#change-password").await;
    b.wait_for_text("Your password is changed").await;
    other.goto(&format!("{base}/account")).await;
    other.wait_for_text("Sign in to Hangar").await;
    drop(other);

    // The session survives a restart, and a second replica serves it (cookies go by host, not
    // port, so the browser sends it to both).
    let stores_url = server.base.clone();
    drop(server);
    let server = Server::start(stores);
    assert_ne!(server.base, stores_url);
    b.goto(&format!("{}/account", server.base)).await;
    b.wait_for_text("Who am I").await;
    assert_eq!(b.text_of("#user-context").await, "beta", "the chosen org is kept");
    let replica = Server::start(stores);
    b.goto(&format!("{}/account", replica.base)).await;
    b.wait_for_text("Who am I").await;
    drop(replica);
    let base = server.base.clone();

    // A new user accepts an invitation to a team: account, terms, then "set your organization".
    let link = invite(
        &server,
        stores,
        &owner,
        "acme",
        "newbie@acme.test",
        json!([{"name": "REGISTRY_USER", "resourceGroups": ["vision"]}]),
    )
    .await;
    b.goto(&format!("{base}/account")).await;
    sign_out(&b).await;
    b.goto(&link).await;
    b.wait_for_text("Create your account").await;
    b.fill("name", "New Bie").await;
    b.fill("password", NEWBIE_PASSWORD).await;
    b.fill("confirm", "not the same passphrase").await;
    b.check("terms").await;
    b.submit("form[action^='/invitations/']").await;
    b.wait_for_text("the two passwords do not match").await;
    b.fill("password", "password1234").await;
    b.fill("confirm", "password1234").await;
    b.check("terms").await;
    b.submit("form[action^='/invitations/']").await;
    b.wait_for_text("too easy to guess").await;
    b.fill("password", NEWBIE_PASSWORD).await;
    b.fill("confirm", NEWBIE_PASSWORD).await;
    b.check("terms").await;
    b.submit("form[action^='/invitations/']").await;
    b.wait_for_text("Welcome! You joined acme.").await;
    b.js("document.querySelector('#context').value = 'acme/vision';", vec![])
        .await;
    b.submit("#context-form").await;
    b.wait_for_text("Who am I").await;
    assert_eq!(b.text_of("#user-name").await, "New Bie");
    assert_eq!(b.text_of("#user-context").await, "acme / vision");
    assert!(b.text_of("#memberships").await.contains("REGISTRY_USER"));
    // The link works once.
    b.goto(&link).await;
    b.wait_for_text("This invitation was already used").await;

    // An existing user accepts an invitation to another org by signing in on its page.
    let link = invite(
        &server,
        stores,
        &owner,
        "beta",
        "newbie@acme.test",
        json!([{"name": "REGISTRY_READ"}]),
    )
    .await;
    sign_out_from(&b, &base).await;
    b.goto(&link).await;
    b.wait_for_text("Sign in to join").await;
    b.fill("password", "not newbie's password").await;
    b.submit("form[action^='/invitations/']").await;
    b.wait_for_text("Cannot sign in: wrong e-mail or password").await;
    b.fill("password", NEWBIE_PASSWORD).await;
    b.submit("form[action^='/invitations/']").await;
    b.wait_for_text("Welcome! You joined beta.").await;
    b.submit("#context-form").await;
    b.wait_for_text("Who am I").await;
    assert_eq!(b.text_of("#user-context").await, "beta");
    assert!(b.text_of("#memberships").await.contains("REGISTRY_READ"));

    // Expired and unknown invitation links get a page that says so.
    let late = invite(
        &server,
        stores,
        &owner,
        "acme",
        "late@acme.test",
        json!([{"name": "REGISTRY_READ"}]),
    )
    .await;
    expire_invitation(stores, "late@acme.test").await;
    b.goto(&late).await;
    b.wait_for_text("This invitation has expired").await;
    b.goto(&format!("{base}/invitations/hginv-NoSuchInvitation")).await;
    b.wait_for_text("This invitation link is not valid").await;

    // The throttle: after 5 failures even the right password waits.
    sign_out_from(&b, &base).await;
    b.goto(&format!("{base}/signin")).await;
    for _ in 0..5 {
        sign_in_form(&b, "newbie@acme.test", "a wrong guess, again").await;
        assert_eq!(b.text_of("#error").await, "Wrong e-mail or password");
    }
    sign_in_form(&b, "newbie@acme.test", NEWBIE_PASSWORD).await;
    let error = b.text_of("#error").await;
    let seconds: i64 = error
        .strip_prefix("Too many failed sign-ins; try again in ")
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a throttle message: {error}"));
    assert!((1..=30).contains(&seconds), "{error}");
    // Signed out means signed out: the account page sends to sign-in.
    b.goto(&format!("{base}/account")).await;
    b.wait_for_text("Sign in to Hangar").await;
    assert!(b.current_url().await.contains("/signin?next=%2Faccount"));
}

/// Signs out from whatever page is shown (via the account page's header).
async fn sign_out_from(b: &Browser, base: &str) {
    b.goto(&format!("{base}/account")).await;
    b.wait_for_text("Who am I").await;
    sign_out(b).await;
}

both_backends!(accounts, accounts_in_the_browser);
