//! Organization admin in a real browser (issue 17, Private Registry guide §2.4.2–§2.4.6), on
//! both backends: the owner creates, edits and deletes teams; invites a user to a team (a wrong
//! form is refused next to its fields), resends (the old link stops working) and cancels
//! invitations; the invited user accepts in a second browser session and sees the team's
//! content; roles are changed with the rules (at most two owners; a user admin cannot grant
//! Org Owner, neither on the page nor by posting the form); a REGISTRY_READ member sees no
//! admin controls and is refused when posting the forms; CSRF-less posts are refused; the
//! profile and storage; removing a user from a team and from the org (their key stops).

mod common;

use common::browser::Browser;
use common::web::{mailed_link, owner_web, post_raw, set, set_password, sign_in, tick};
use common::{Auth, Backend, admin_ok, member};
use serde_json::json;

const DANA_PASSWORD: &str = "dana's long passphrase 4";
const UA_PASSWORD: &str = "user admin's long passphrase 5";

/// The roles form of the member page at `scope` (`org` or a team).
fn roles_form(scope: &str) -> String {
    format!("div.scope[data-scope='{scope}'] form[action$='/roles']")
}

/// The member page's address of `email`, from the users table.
async fn member_href(b: &Browser, base: &str, email: &str) -> String {
    b.goto(&format!("{base}/orgs/acme/admin/users")).await;
    let href = b
        .js(
            "const row = document.querySelector('#members tr[data-user=\"' + arguments[0] + '\"]'); \
             return row ? row.querySelector('a').href : null;",
            vec![json!(email)],
        )
        .await;
    href.as_str()
        .unwrap_or_else(|| panic!("{email} not in the users table"))
        .to_string()
}

async fn org_admin(backend: Backend) {
    let Some((b, stores, server)) = owner_web(backend).await else {
        return;
    };
    let base = server.base.clone();

    // Teams: a name out of grammar is refused next to the field, with what was typed kept.
    b.js("document.querySelector('#organization').click()", vec![]).await;
    b.wait_for_text("Your roles").await;
    b.goto(&format!("{base}/orgs/acme/admin/teams")).await;
    b.fill("name", "Vision Team!").await;
    b.submit("#new-team-form").await;
    assert!(
        b.text_of("#error-new-team").await.contains("team name"),
        "{}",
        b.page_text().await
    );
    assert_eq!(
        b.js("return document.querySelector('#team-name').value", vec![]).await,
        json!("Vision Team!")
    );
    for name in ["vision", "scratch"] {
        b.fill("name", name).await;
        b.fill("description", &format!("the {name} team")).await;
        b.submit("#new-team-form").await;
        b.wait_for_text("The team is created.").await;
    }
    set(&b, "#desc-vision", "Cameras and <b>detectors</b>").await;
    b.submit("form[action='/orgs/acme/admin/teams/vision']").await;
    b.wait_for_text("The team is saved.").await;
    assert!(b.text_of("tr[data-team=vision]").await.contains("vision"));
    assert_eq!(
        b.js("return document.querySelector('#desc-vision').value", vec![])
            .await,
        json!("Cameras and <b>detectors</b>"),
        "the description is text, never markup"
    );
    // Deleting needs the box that names the team.
    post_raw(&b, "/orgs/acme/admin/teams/scratch/delete", &[], true).await;
    b.wait_for_text("tick the box that names team scratch").await;
    tick(&b, "tr[data-team=scratch]", "scratch", true).await;
    b.submit("tr[data-team=scratch] form[action$='/delete']").await;
    b.wait_for_text("The team is deleted").await;
    assert!(!b.has("tr[data-team=scratch]").await);
    b.snapshot("org-teams").await;

    // Content only the vision team sees.
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    let (status, reply) = api
        .post(
            "/v2/org/acme/team/vision/models",
            &owner,
            json!({"name": "lens", "displayName": "Lens finder", "shortDescription": "finds lenses",
                   "precision": "FP16", "publisher": "Acme"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");

    // Invite: no role is refused next to the form; then dana to vision as a reader, and eve to
    // the org (cancelled below).
    b.goto(&format!("{base}/orgs/acme/admin/users")).await;
    b.fill("email", "dana@acme.test").await;
    b.submit("#invite-form").await;
    assert!(b.text_of("#error-invite").await.contains("at least one role"));
    assert_eq!(
        b.js("return document.querySelector('#invite-email').value", vec![])
            .await,
        json!("dana@acme.test")
    );
    set(&b, "#invite-scope", "vision").await;
    tick(&b, "#invite-form", "REGISTRY_READ", true).await;
    b.submit("#invite-form").await;
    b.wait_for_text("The invitation is sent.").await;
    let first_link = mailed_link(&stores, "dana@acme.test", "/invitations/");
    assert!(
        b.current_url()
            .await
            .ends_with("/orgs/acme/admin/users?team=vision&done=invited")
    );
    b.goto(&format!("{base}/orgs/acme/admin/users")).await;
    b.fill("email", "eve@acme.test").await;
    tick(&b, "#invite-form", "REGISTRY_USER", true).await;
    b.submit("#invite-form").await;
    b.wait_for_text("The invitation is sent.").await;
    let pending = b.text_of("#invitations").await;
    assert!(
        pending.contains("dana@acme.test") && pending.contains("vision: Registry Read"),
        "{pending}"
    );
    assert!(
        pending.contains("eve@acme.test") && pending.contains("Org: Registry User"),
        "{pending}"
    );
    b.snapshot("org-users").await;
    // Resend dana's: a new link; the first one stops working.
    b.submit("tr[data-invitation='dana@acme.test'] form[action$='/resend']")
        .await;
    b.wait_for_text("sent again with a new link").await;
    let link = mailed_link(&stores, "dana@acme.test", "/invitations/");
    assert_ne!(link, first_link);
    // Cancel eve's.
    b.submit("tr[data-invitation='eve@acme.test'] form[action$='/cancel']")
        .await;
    b.wait_for_text("The invitation is cancelled").await;
    assert!(!b.has("tr[data-invitation='eve@acme.test']").await);
    // Without the CSRF token, an invitation is refused.
    post_raw(
        &b,
        "/orgs/acme/admin/invitations",
        &[("email", "mallory@acme.test"), ("role", "REGISTRY_READ")],
        false,
    )
    .await;
    b.wait_for_text("Form expired").await;
    assert!(!admin_ok(&stores, &["outbox", "--limit", "200"]).contains("mallory@acme.test"));

    // Dana accepts in a second browser session and sees the team's content.
    let dana = Browser::start().await.expect("a second browser");
    dana.goto(&first_link).await;
    dana.wait_for_text("not valid").await;
    dana.goto(&link).await;
    dana.fill("name", "Dana D.").await;
    dana.fill("password", DANA_PASSWORD).await;
    dana.fill("confirm", DANA_PASSWORD).await;
    dana.check("terms").await;
    dana.submit("form[action^='/invitations/']").await;
    dana.goto(&format!("{base}/orgs/acme/teams/vision/models")).await;
    dana.wait_for_text("Lens finder").await;

    // A reader sees no admin controls, and posting the forms is refused.
    dana.goto(&format!("{base}/orgs/acme/admin")).await;
    dana.wait_for_text("Registry Read in team vision").await;
    assert!(!dana.has("#profile-form").await, "a reader cannot edit the profile");
    assert!(
        !dana.has("nav.tabs a[href$='/admin/users']").await,
        "a reader sees no users tab"
    );
    dana.goto(&format!("{base}/orgs/acme/admin/teams")).await;
    dana.wait_for_text("vision").await;
    assert!(!dana.has("#new-team-form").await && !dana.has("button[name=delete-team]").await);
    post_raw(&dana, "/orgs/acme/admin/teams", &[("name", "sneaky")], true).await;
    dana.wait_for_text("you do not have permission").await;
    post_raw(&dana, "/orgs/acme/admin/profile", &[("display_name", "Pwned")], true).await;
    dana.wait_for_text("you do not have permission").await;
    dana.goto(&format!("{base}/orgs/acme/admin/users")).await;
    dana.wait_for_text("Not allowed").await;
    post_raw(
        &dana,
        "/orgs/acme/admin/invitations",
        &[("email", "x@acme.test"), ("role", "REGISTRY_READ")],
        true,
    )
    .await;
    dana.wait_for_text("Not allowed").await;
    let teams = api.get("/v2/org/acme/teams", &owner).await.1.to_string();
    assert!(!teams.contains("sneaky"), "{teams}");
    // Another org's admin pages are not there for her.
    dana.goto(&format!("{base}/orgs/globex/admin")).await;
    dana.wait_for_text("There is no organization 'globex', or you are not a member of it.")
        .await;

    // The owner changes dana's team role, then makes her an owner: two owners at most.
    let dana_page = member_href(&b, &base, "dana@acme.test").await;
    b.goto(&dana_page).await;
    tick(&b, &roles_form("vision"), "REGISTRY_READ", false).await;
    tick(&b, &roles_form("vision"), "REGISTRY_USER", true).await;
    b.submit(&roles_form("vision")).await;
    b.wait_for_text("The roles are saved.").await;
    tick(&b, &roles_form("org"), "ORG_OWNER", true).await;
    b.submit(&roles_form("org")).await;
    b.wait_for_text("The roles are saved.").await;
    let grants = api.get("/v2/org/acme/users/dana@acme.test", &owner).await.1.to_string();
    assert!(
        grants.contains("ORG_OWNER") && grants.contains("REGISTRY_USER"),
        "{grants}"
    );
    member(
        &stores,
        "ua@acme.test",
        &[("USER_ADMIN", None), ("REGISTRY_READ", None)],
    );
    let ua_page = member_href(&b, &base, "ua@acme.test").await;
    b.goto(&ua_page).await;
    tick(&b, &roles_form("org"), "ORG_OWNER", true).await;
    b.submit(&roles_form("org")).await;
    assert!(
        b.text_of("#error-roles").await.contains("at most 2 owners"),
        "{}",
        b.page_text().await
    );
    b.snapshot("org-member").await;

    // A user admin: no Org Owner box, and posting it is refused; they cannot touch an owner.
    let link = admin_ok(&stores, &["password-link", "ua@acme.test"]);
    let ua = Browser::start().await.expect("a third browser");
    set_password(&ua, &format!("{base}{}", link.trim()), UA_PASSWORD).await;
    sign_in(&ua, &base, "ua@acme.test", UA_PASSWORD).await;
    ua.goto(&format!("{base}/orgs/acme/admin/users")).await;
    ua.wait_for_text("Invite a user").await;
    assert!(
        !ua.has("#invite-form input[value=ORG_OWNER]").await,
        "a user admin is offered Org Owner"
    );
    assert!(ua.has("#invite-form input[value=REGISTRY_READ]").await);
    post_raw(
        &ua,
        "/orgs/acme/admin/invitations",
        &[("email", "boss@acme.test"), ("role", "ORG_OWNER")],
        true,
    )
    .await;
    ua.wait_for_text("you cannot grant ORG_OWNER").await;
    assert!(!admin_ok(&stores, &["outbox", "--limit", "200"]).contains("boss@acme.test"));
    ua.goto(&dana_page).await;
    ua.wait_for_text("Organization roles").await;
    assert!(
        !ua.has(&roles_form("org")).await,
        "an owner's roles are not the user admin's to change"
    );
    assert!(!ua.has("#remove").await, "nor is removing an owner");
    let dana_id = dana_page.rsplit('/').next().unwrap().to_string();
    post_raw(
        &ua,
        &format!("/orgs/acme/admin/users/{dana_id}/remove"),
        &[("team", ""), ("confirm", "dana@acme.test")],
        true,
    )
    .await;
    ua.wait_for_text("you cannot remove a user who holds ORG_OWNER").await;

    // The profile: saved and shown; storage against the quotas.
    b.goto(&format!("{base}/orgs/acme/admin")).await;
    b.fill("display_name", "Acme Robotics").await;
    b.fill("description", "We build robots.").await;
    b.submit("#profile-form").await;
    b.wait_for_text("The profile is saved.").await;
    assert!(b.text_of(".org-head h1").await.contains("Acme Robotics"));
    let storage = b.text_of("#storage").await;
    assert!(
        storage.contains("Container images") && storage.contains("1.0 TB"),
        "{storage}"
    );
    let info = api.get("/v2/orgs/acme", &owner).await.1.to_string();
    assert!(
        info.contains("Acme Robotics") && info.contains("We build robots."),
        "{info}"
    );
    b.snapshot("org-profile").await;

    // Removing: dana from the team, then from the org; her key for acme stops.
    b.goto(&dana_page).await;
    tick(&b, &roles_form("org"), "ORG_OWNER", false).await;
    tick(&b, &roles_form("org"), "REGISTRY_READ", true).await;
    b.submit(&roles_form("org")).await;
    b.wait_for_text("The roles are saved.").await;
    let dana_key = admin_ok(
        &stores,
        &["key", "personal", "--org", "acme", "--user", "dana@acme.test"],
    );
    let dana_auth = Auth::Bearer(dana_key.trim().to_string());
    assert_eq!(api.get("/v2/org/acme/models", &dana_auth).await.0, 200);
    tick(
        &b,
        "div.scope[data-scope='vision'] form[action$='/remove']",
        "dana@acme.test",
        true,
    )
    .await;
    b.submit("div.scope[data-scope='vision'] form[action$='/remove']").await;
    b.wait_for_text("removed from the team").await;
    assert!(!b.has("div.scope[data-scope='vision']").await);
    tick(&b, "#remove", "dana@acme.test", true).await;
    b.submit("#remove form").await;
    b.wait_for_text("removed from the organization").await;
    assert!(!b.has("#members tr[data-user='dana@acme.test']").await);
    assert_eq!(api.get("/v2/org/acme/models", &dana_auth).await.0, 401);
    dana.goto(&format!("{base}/orgs/acme/teams/vision/models")).await;
    dana.wait_for_text("There is no private registry").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admin_in_a_real_browser_sqlite() {
    org_admin(Backend::SqliteFolder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_admin_in_a_real_browser_postgres() {
    org_admin(Backend::PostgresS3).await;
}
