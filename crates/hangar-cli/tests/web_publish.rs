//! Create, edit, set latest and remove in a real browser (issue 17), on both backends: the
//! creation hub makes a model (a name out of grammar, a bad logo URL and a duplicate are each
//! refused next to their field, the typed values kept; the overview's preview renders Markdown
//! and never runs script), a resource in a team with its guides, a Helm chart and a container
//! repository that then receives a `skopeo` push; the metadata is edited; a version and a tag
//! are made the latest and removed; a chart and the repository are removed only with the box
//! that names them; a REGISTRY_READ member sees none of these controls and is refused when
//! posting the forms; a CSRF-less post is refused. Every change is checked through the REST API.

mod common;

use common::browser::Browser;
use common::cli::Cli;
use common::registry::make_image;
use common::web::{owner_web, post_raw, set, set_password, sign_in};
use common::{Auth, Backend, member, path_str};
use serde_json::{Value, json};

const READER_PASSWORD: &str = "reader's long passphrase 6";

/// Fills the form's field `key` (by its id `in-{key}`).
async fn field(b: &Browser, key: &str, value: &str) {
    set(b, &format!("#in-{key}"), value).await;
}

async fn api_json(api: &common::Api, path: &str, auth: &Auth) -> (u16, Value) {
    let (status, body) = api.get(path, auth).await;
    (status.as_u16(), body)
}

async fn publishing(backend: Backend) {
    let Some((b, stores, server)) = owner_web(backend).await else {
        return;
    };
    let base = server.base.clone();
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    let (status, reply) = api.post("/v2/org/acme/teams", &owner, json!({"name": "vision"})).await;
    assert_eq!(status, 200, "{reply}");

    // A model from the hub: refusals next to their fields.
    b.js("document.querySelector('#create').click()", vec![]).await;
    b.wait_for_text("Container repository").await;
    b.js("document.querySelector('a[href=\"/create/models\"]').click()", vec![])
        .await;
    b.wait_for_text("Create a model").await;
    b.fill("name", "Bad Name").await;
    field(&b, "displayName", "Detector").await;
    b.submit("#publish-form").await;
    assert!(
        b.text_of("#error-name").await.contains("name"),
        "{}",
        b.page_text().await
    );
    assert_eq!(
        b.js("return document.querySelector('#in-displayName').value", vec![])
            .await,
        json!("Detector")
    );
    b.fill("name", "det").await;
    field(&b, "labelsV2", "vision, edge").await;
    field(&b, "logo", "ftp://example.com/logo.png").await;
    field(
        &b,
        "description",
        "# Detector\n\n**bold** <script>window.ran = 1</script><img src=x onerror=\"window.ran=2\">",
    )
    .await;
    b.click_button("Preview").await;
    b.wait_for_text("bold").await;
    assert!(b.has("#preview-description strong").await);
    assert!(!b.has("#preview-description script").await);
    b.submit("#publish-form").await;
    assert!(
        b.text_of("#error-logo").await.contains("http(s) URL"),
        "{}",
        b.page_text().await
    );
    field(&b, "logo", "").await;
    b.submit("#publish-form").await;
    b.wait_for_text("Detector").await;
    assert!(b.current_url().await.ends_with("/catalog/models/acme/det"));
    assert_eq!(
        b.js("return window.ran === undefined", vec![]).await,
        json!(true),
        "user Markdown ran script"
    );
    let (_, model) = api_json(&api, "/v2/org/acme/models/det", &owner).await;
    assert_eq!(model["model"]["displayName"], "Detector", "{model}");
    assert_eq!(model["model"]["labelsV2"], json!(["vision", "edge"]), "{model}");
    // The same name again is refused at the name.
    b.goto(&format!("{base}/create/models")).await;
    b.fill("name", "det").await;
    b.submit("#publish-form").await;
    assert!(b.text_of("#error-name").await.contains("already exists"));
    b.snapshot("create-model").await;

    // A resource in the team, with a guide; a Helm chart; a container repository.
    b.goto(&format!("{base}/create/resources?space=acme/vision")).await;
    b.fill("name", "notebooks").await;
    set(&b, "#in-application", "OBJECT_DETECTION").await;
    field(&b, "quickStartGuide", "Run `make`.").await;
    b.submit("#publish-form").await;
    b.wait_for_text("acme/vision/notebooks").await;
    let (_, resource) = api_json(&api, "/v2/org/acme/team/vision/resources/notebooks", &owner).await;
    assert_eq!(resource["recipe"]["application"], "OBJECT_DETECTION", "{resource}");
    assert_eq!(resource["recipe"]["quickStartGuide"], "Run `make`.", "{resource}");
    for (kind, name) in [("helm-charts", "web-chart"), ("containers", "web-repo")] {
        b.goto(&format!("{base}/create/{kind}")).await;
        b.fill("name", name).await;
        field(&b, "displayName", &format!("Web {name}")).await;
        b.submit("#publish-form").await;
        b.wait_for_text(&format!("Web {name}")).await;
    }
    let (status, chart) = api_json(&api, "/v2/org/acme/helm-charts/web-chart", &owner).await;
    assert_eq!(status, 200, "{chart}");
    // The repository takes a push.
    let layout = stores.dir.path().join("layout");
    make_image(&layout, "v1", &["--layers", "10K"]);
    make_image(&layout, "v2", &["--layers", "12K"]);
    let registry = base.trim_start_matches("http://");
    let creds = format!("$oauthtoken:{}", server.key());
    for tag in ["v1", "v2"] {
        let out = std::process::Command::new("skopeo")
            .args(["copy", "--dest-tls-verify=false", "--dest-creds", &creds])
            .arg(format!("oci:{}:{tag}", path_str(&layout)))
            .arg(format!("docker://{registry}/acme/web-repo:{tag}"))
            .env("HOME", stores.dir.path())
            .output()
            .expect("skopeo");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (_, repo) = api_json(&api, "/v2/org/acme/repos/web-repo", &owner).await;
    assert_eq!(repo["displayName"], "Web web-repo", "{repo}");

    // Edit: every field of the form replaces the stored one.
    b.goto(&format!("{base}/catalog/models/acme/det")).await;
    b.js("document.querySelector('#edit').click()", vec![]).await;
    b.wait_for_text("Edit model acme/det").await;
    assert_eq!(
        b.js("return document.querySelector('#in-labelsV2').value", vec![])
            .await,
        json!("vision, edge")
    );
    field(&b, "displayName", "Detector 2").await;
    field(&b, "labelsV2", "vision").await;
    b.submit("#publish-form").await;
    b.wait_for_text("Saved.").await;
    let (_, model) = api_json(&api, "/v2/org/acme/models/det", &owner).await;
    assert_eq!(model["model"]["displayName"], "Detector 2", "{model}");
    assert_eq!(model["model"]["labelsV2"], json!(["vision"]), "{model}");

    // Versions: set the older one latest, remove the newer.
    let src = stores.dir.path().join("det-src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("weights.bin"), b"weights").unwrap();
    let cli = Cli::new(&server, &stores.dir.path().join("cli-home"))
        .key(&server.key())
        .org("acme")
        .prefix(&["registry", "model"]);
    for version in ["1.0", "2.0"] {
        cli.ok(&[
            "upload-version",
            &format!("acme/det:{version}"),
            "--source",
            path_str(&src),
        ]);
    }
    b.goto(&format!("{base}/catalog/models/acme/det?section=versions"))
        .await;
    b.submit("tr[data-version='1.0'] form[action^='/latest/']").await;
    b.wait_for_text("The latest is changed.").await;
    let (_, model) = api_json(&api, "/v2/org/acme/models/det", &owner).await;
    assert_eq!(model["model"]["latestVersionIdStr"], "1.0", "{model}");
    b.js(
        "document.querySelector(\"tr[data-version='2.0'] input[name=confirm]\").checked = true",
        vec![],
    )
    .await;
    b.submit("tr[data-version='2.0'] form[action^='/remove/']").await;
    b.wait_for_text("Removed.").await;
    assert_eq!(
        api_json(&api, "/v2/org/acme/models/det/versions/2.0", &owner).await.0,
        404
    );
    assert_eq!(
        api_json(&api, "/v2/org/acme/models/det/versions/1.0", &owner).await.0,
        200
    );
    b.snapshot("entity-manage").await;

    // Tags: v1 latest, v2 removed.
    b.goto(&format!("{base}/catalog/containers/acme/web-repo?section=tags"))
        .await;
    b.submit("tr[data-tag='v1'] form[action^='/latest/']").await;
    b.wait_for_text("The latest is changed.").await;
    b.js(
        "document.querySelector(\"tr[data-tag='v2'] input[name=confirm]\").checked = true",
        vec![],
    )
    .await;
    b.submit("tr[data-tag='v2'] form[action^='/remove/']").await;
    b.wait_for_text("Removed.").await;
    let (_, images) = api_json(&api, "/v2/org/acme/repos/web-repo/images", &owner).await;
    let tags: Vec<&str> = images["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["tag"].as_str())
        .collect();
    assert_eq!(tags, ["v1"], "{images}");

    // A reader: no controls, no spaces to create in, and the forms refused.
    member(&stores, "reader@acme.test", &[("REGISTRY_READ", None)]);
    let link = common::admin_ok(&stores, &["password-link", "reader@acme.test"]);
    let reader = Browser::start().await.expect("a second browser");
    set_password(&reader, &format!("{base}{}", link.trim()), READER_PASSWORD).await;
    sign_in(&reader, &base, "reader@acme.test", READER_PASSWORD).await;
    reader
        .goto(&format!("{base}/catalog/models/acme/det?section=versions"))
        .await;
    reader.wait_for_text("Detector 2").await;
    assert!(!reader.has("#manage").await && !reader.has("td.row-actions").await);
    assert!(!reader.has("#create").await, "a reader is offered Create");
    reader.goto(&format!("{base}/create/models")).await;
    reader.wait_for_text("You may not create a model").await;
    reader.goto(&format!("{base}/upload/models/acme/det")).await;
    reader.wait_for_text("you may not upload to model 'acme/det'").await;
    for (action, fields) in [
        ("/create/models", vec![("space", "acme"), ("name", "sneaky")]),
        ("/edit/models/acme/det", vec![("displayName", "Pwned")]),
        ("/remove/models/acme/det", vec![("confirm", "acme/det")]),
        ("/latest/containers/acme/web-repo", vec![("tag", "v1")]),
    ] {
        post_raw(&reader, action, &fields, true).await;
        let text = reader.wait_for_text("Not allowed").await;
        assert!(text.contains("may not") || text.contains("only"), "{action}: {text}");
    }
    let (_, model) = api_json(&api, "/v2/org/acme/models/det", &owner).await;
    assert_eq!(model["model"]["displayName"], "Detector 2", "{model}");
    assert_eq!(api_json(&api, "/v2/org/acme/models/sneaky", &owner).await.0, 404);
    // Without the CSRF token: refused.
    post_raw(&b, "/create/models", &[("space", "acme"), ("name", "forged")], false).await;
    b.wait_for_text("Form expired").await;
    assert_eq!(api_json(&api, "/v2/org/acme/models/forged", &owner).await.0, 404);

    // Removing a whole chart or repository needs the box that names it.
    b.goto(&format!("{base}/catalog/helm-charts/acme/web-chart")).await;
    post_raw(
        &b,
        "/remove/helm-charts/acme/web-chart",
        &[("confirm", "acme/other")],
        true,
    )
    .await;
    b.wait_for_text("tick the box that names acme/web-chart").await;
    assert_eq!(
        api_json(&api, "/v2/org/acme/helm-charts/web-chart", &owner).await.0,
        200
    );
    for (page, path) in [
        (
            "/catalog/helm-charts/acme/web-chart",
            "/v2/org/acme/helm-charts/web-chart",
        ),
        ("/catalog/containers/acme/web-repo", "/v2/org/acme/repos/web-repo"),
    ] {
        b.goto(&format!("{base}{page}")).await;
        b.js(
            "document.querySelector('#remove-entity input[name=confirm]').checked = true",
            vec![],
        )
        .await;
        b.submit("#remove-entity").await;
        b.wait_for_text("Removed.").await;
        assert_eq!(api_json(&api, path, &owner).await.0, 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_in_a_real_browser_sqlite() {
    publishing(Backend::SqliteFolder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_in_a_real_browser_postgres() {
    publishing(Backend::PostgresS3).await;
}
