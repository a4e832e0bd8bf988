//! The catalog's Explore page (issue 16): in a real browser as a guest and as a signed-in
//! member — tabs, typing a query, ticking a filter and seeing the counts change, pages, and
//! user text that is shown, never run — and over plain HTTP on both backends, that a guest's
//! page holds no private or exclusive entity, not even in a count.

mod common;

use common::browser::Browser;
use common::charts::{chart_tgz, helm_client};
use common::cli::Cli;
use common::ngc::{Ngc, bundle};
use common::registry::{Registry, sha};
use common::web::{OWNER_PASSWORD, first_start_link, set_password, sign_in, sign_out, tls_web};
use common::{Auth, Backend, Server, Stores, admin_ok, outsider_key};
use serde_json::json;

/// A model to seed: name, access level, products, precision, short description.
struct Model(
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

const MODELS: [Model; 6] = [
    Model("det", "GUEST", &[], "FP16", "object detector for traffic cameras"),
    Model("seg", "AUTHENTICATED", &[], "FP32", "segmentation of traffic scenes"),
    Model("asr", "ENTITLED", &["enterprise"], "FP16", "speech recognition"),
    Model(
        "tts",
        "EXCLUSIVE",
        &["enterprise"],
        "FP16",
        "speech synthesis, subscribers only",
    ),
    Model("secret", "PRIVATE", &[], "FP16", "traffic detector not yet released"),
    Model(
        "xss",
        "GUEST",
        &[],
        "INT8",
        "<script>window.ran=1</script><img src=x onerror=\"window.ran=2\">",
    ),
];

/// Every model's overview: Markdown with hostile HTML in it.
const OVERVIEW: &str = "## Getting started\n\n**Fast** and small.\n\n<script>window.ran=3</script>\
                        [docs](javascript:window.ran=4) <img src=x onerror=\"window.ran=5\">";

/// The files of `acme/det:1.0`: path and content.
const FILES: [(&str, &str); 3] = [
    ("README.txt", "read me first\n"),
    ("weights/model.onnx", "not really onnx, but bytes all the same\n"),
    ("weights/extra/calib.bin", "calibration\n"),
];

/// Uploads `acme/det:1.0` with [`FILES`] through the `hangar` CLI.
fn upload_det(server: &Server, stores: &Stores) {
    let dir = stores.dir.path().join("det-src");
    for (path, content) in FILES {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    let owner = Cli::new(server, &stores.dir.path().join("cli-home"))
        .key(&server.key())
        .org("acme")
        .prefix(&["registry", "model"]);
    owner.ok(&["upload-version", "acme/det:1.0", "--source", &dir.to_string_lossy()]);
}

/// Guest models added to fill more than one page.
const FILLER: usize = 26;

async fn seed(server: &Server, stores: &Stores) {
    admin_ok(stores, &["product", "create", "enterprise"]);
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    let mut bodies: Vec<serde_json::Value> = MODELS
        .iter()
        .map(|Model(name, level, products, precision, text)| {
            json!({
                "name": name, "displayName": format!("Model {name}"), "application": "OTHER",
                "framework": "PyTorch", "precision": precision, "modelFormat": "onnx",
                "shortDescription": text, "publisher": "Acme", "labelsV2": ["edge"],
                "accessType": level, "productNames": products,
                "description": OVERVIEW,
            })
        })
        .collect();
    bodies.extend((0..FILLER).map(|i| {
        json!({"name": format!("filler-{i:02}"), "precision": "FP32", "shortDescription": "more of the same",
               "accessType": "GUEST", "publisher": "Acme"})
    }));
    for body in bodies {
        let (status, reply) = api.post("/v2/org/acme/models", &owner, body).await;
        assert_eq!(status, 200, "{reply}");
    }
}

/// The HTML of `path` as a guest.
async fn guest_page(server: &Server, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", server.base)).await.expect("GET");
    let status = response.status().as_u16();
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    (status, response.text().await.expect("body"))
}

async fn guest_sees_no_hidden_entity(backend: Backend) {
    let Some(stores) = common::stores(backend).await else {
        return;
    };
    let server = Server::start(&stores);
    seed(&server, &stores).await;
    let (status, html) = guest_page(&server, "/catalog/models?q=traffic").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("2 results"), "{html}");
    assert!(html.contains("acme/det") && html.contains("acme/seg"), "{html}");
    for hidden in ["secret", "not yet released", "tts", "subscribers only"] {
        assert!(!html.contains(hidden), "a guest's page shows '{hidden}': {html}");
    }
    // Counts too: FP16 is one model for a guest (the private one is not counted).
    let fp16 = html
        .split("precision:FP16")
        .nth(1)
        .and_then(|rest| rest.split("class=\"count\">").nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .to_string();
    assert_eq!(fp16, "1", "{html}");
    let (_, all) = guest_page(&server, "/catalog/models").await;
    assert!(all.contains(&format!("{} results", 4 + FILLER)), "{all}");
    assert!(!all.contains("acme/secret") && !all.contains("acme/tts"), "{all}");
    // A private model's page is the page of a model that does not exist.
    let (status, secret) = guest_page(&server, "/catalog/models/acme/secret").await;
    let (missing_status, missing) = guest_page(&server, "/catalog/models/acme/nothing").await;
    assert_eq!((status, missing_status), (404, 404));
    assert_eq!(
        secret.replace("acme/secret", "X"),
        missing.replace("acme/nothing", "X"),
        "the pages differ"
    );
    let (status, html) = guest_page(&server, "/catalog/models/acme/secret?section=files").await;
    assert_eq!(status, 404, "{html}");
    // An entitled model: seen, with no download for a guest.
    let (status, asr) = guest_page(&server, "/catalog/models/acme/asr").await;
    assert_eq!(status, 200, "{asr}");
    assert!(
        asr.contains("Sign in to download.") && !asr.contains("download-version"),
        "{asr}"
    );
    // Refusals are pages.
    let (status, html) = guest_page(&server, "/catalog/nosuch").await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("Not found"), "{html}");
    let (status, html) = guest_page(&server, "/catalog/models?f=nosuch:x").await;
    assert_eq!(status, 400, "{html}");
    let (status, _) = guest_page(&server, "/catalog/models?page=0").await;
    assert_eq!(status, 400);
    // Pages travel compressed; each carries its CSRF token masked afresh, so a reflected
    // search beside it reveals nothing through the size.
    let client = reqwest::Client::new();
    let mut tokens = vec![];
    for _ in 0..2 {
        let response = client
            .get(format!("{}/catalog/models?q=traffic", server.base))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.headers()["content-encoding"], "gzip");
        let gz = response.bytes().await.expect("body");
        let mut html = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut html).expect("gunzip");
        assert!(
            html.contains("2 results") && gz.len() < html.len() / 3,
            "{} of {}",
            gz.len(),
            html.len()
        );
        let token = html
            .split("name=\"csrf-token\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a CSRF token")
            .to_string();
        tokens.push(token);
    }
    assert_ne!(tokens[0], tokens[1], "the same token bytes twice");

    // A path nobody serves: a page for a browser, JSON for everyone else.
    let url = format!("{}/no/such/page", server.base);
    let page = client
        .get(&url)
        .header("accept", "text/html,*/*")
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), 404);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(page.text().await.unwrap().contains("<title>Not found · Hangar</title>"));
    let json = client.get(&url).send().await.expect("GET");
    assert_eq!(json.status(), 404);
    let body: serde_json::Value = json.json().await.expect("JSON");
    assert!(body["requestStatus"]["statusCode"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_sees_no_hidden_entity_sqlite() {
    guest_sees_no_hidden_entity(Backend::SqliteFolder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_sees_no_hidden_entity_postgres() {
    guest_sees_no_hidden_entity(Backend::PostgresS3).await;
}

/// Runs `command` with `sh` in a new folder `name`, and answers the one file it leaves there.
fn run_in_new_dir(stores: &Stores, name: &str, command: &str) -> Vec<u8> {
    let dir = stores.dir.path().join(name);
    let out = sh_in(&dir, command, None);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(
        files.len(),
        1,
        "{command} left {files:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&files[0]).unwrap()
}

/// Runs `command` with `sh` in `dir` (made if missing), with `bin` first on PATH if given;
/// it must succeed.
fn sh_in(dir: &std::path::Path, command: &str, bin: Option<&std::path::Path>) -> std::process::Output {
    std::fs::create_dir_all(dir).unwrap();
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c").arg(command).current_dir(dir);
    if let Some(bin) = bin {
        let path = std::env::var("PATH").unwrap_or_default();
        sh.env("PATH", format!("{}:{path}", bin.display()));
    }
    let out = sh.output().expect("sh");
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Clicks the first element the CSS selector `css` picks.
async fn click(b: &Browser, css: &str) {
    b.js("document.querySelector(arguments[0]).click()", vec![json!(css)])
        .await;
}

/// Ticks the filter checkbox for `token` (`field:value`): htmx applies it at once.
async fn tick(b: &Browser, token: &str) {
    let ticked = b
        .js(
            "const box = document.querySelector(`#explore .facets input[name=f][value=\"${arguments[0]}\"]`); \
             if (!box) return false; box.click(); return box.checked;",
            vec![json!(token)],
        )
        .await;
    assert_eq!(ticked, json!(true), "no checkbox for {token}");
}

/// The count the sidebar shows for `token`, if it shows the value.
async fn count_of(b: &Browser, token: &str) -> Option<i64> {
    let count = b
        .js(
            "const box = document.querySelector(`#explore .facets input[name=f][value=\"${arguments[0]}\"]`); \
             return box ? box.closest('label').querySelector('.count').textContent : null;",
            vec![json!(token)],
        )
        .await;
    count.as_str().map(|n| n.parse().expect("a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_in_a_real_browser() {
    let Some(b) = Browser::start().await else { return };
    let Some(stores) = common::stores(Backend::SqliteFolder).await else {
        return;
    };
    let server = Server::start(&stores);
    seed(&server, &stores).await;
    upload_det(&server, &stores);
    // A multi-platform image offered to guests.
    Registry::new(&server, Some(server.key()))
        .push_index("acme/vision", "1.0")
        .await;
    let (status, reply) = server
        .api()
        .patch(
            "/v2/org/acme/repos/vision",
            &Auth::Bearer(server.key()),
            Some(json!({"accessType": "GUEST", "displayName": "Vision", "description": OVERVIEW})),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    // A guest collection holding the model, the image and the private model.
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    let body = json!({"name": "kit", "displayName": "Starter Kit", "category": "ROBOTICS", "description": "# Kit"});
    let (status, reply) = api.post("/v2/org/acme/collections", &owner, body).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = api
        .patch(
            "/v2/org/acme/collections/kit",
            &owner,
            Some(json!({"accessType": "GUEST"})),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    for item in ["models/det", "repositories/vision", "models/secret"] {
        let path = format!("/v2/org/acme/collections/kit/artifacts/org/acme/{item}");
        let (status, reply) = api.call(reqwest::Method::PUT, &path, &owner, None).await;
        assert_eq!(status, 200, "{item}: {reply}");
    }
    let base = &server.base;

    // A guest opens the site: the catalog, its first tab.
    b.goto(&format!("{base}/")).await;
    assert_eq!(b.title().await, "Containers · Hangar");
    // From the keyboard: the first Tab reaches "Skip to content", which leads to the page.
    b.driver()
        .action_chain()
        .send_keys(thirtyfour::Key::Tab)
        .perform()
        .await
        .expect("press Tab");
    assert_eq!(
        b.js("return document.activeElement.textContent", vec![]).await,
        json!("Skip to content")
    );
    click(&b, "nav.tabs a[href=\"/catalog/models\"]").await;
    b.wait_for_text(&format!("{} results", 4 + FILLER)).await;
    assert_eq!(b.title().await, "Models · Hangar");
    // Pages: 24 a page, the rest on the next.
    assert!(b.page_text().await.contains("Page 1 of 2"));
    b.snapshot("explore").await;
    click(&b, "a[rel=next]").await;
    b.wait_for_text("Page 2 of 2").await;
    assert_eq!(
        b.js("return document.querySelectorAll('li.result').length", vec![])
            .await,
        json!(4 + FILLER - 24)
    );
    // User text is shown as text; nothing in it ran.
    let text = b.page_text().await;
    assert!(text.contains("<script>window.ran=1</script>"), "{text}");
    assert_eq!(b.js("return window.ran === undefined", vec![]).await, json!(true));
    assert_eq!(
        b.js(
            "return document.querySelectorAll('main script, main img').length",
            vec![]
        )
        .await,
        json!(0)
    );

    // Type a query: the results follow while typing (no button pressed), the address too;
    // only what a guest may see, and its counts.
    b.fill("q", "traffic").await;
    b.wait_for_text("2 results for “traffic”").await;
    assert!(b.current_url().await.contains("q=traffic"), "{}", b.current_url().await);
    let text = b.page_text().await;
    assert!(text.contains("acme/det") && text.contains("acme/seg"), "{text}");
    assert!(!text.contains("acme/secret"), "{text}");
    assert_eq!(count_of(&b, "precision:FP16").await, Some(1));
    assert_eq!(count_of(&b, "precision:FP32").await, Some(1));
    assert_eq!(count_of(&b, "accessLevel:GUEST").await, Some(1));
    assert_eq!(count_of(&b, "accessLevel:AUTHENTICATED").await, Some(1));

    // Tick a filter: the results and the other fields' counts follow; its own field's stay.
    tick(&b, "precision:FP32").await;
    b.wait_for_text("1 result for “traffic”").await;
    assert!(b.page_text().await.contains("acme/seg"));
    assert_eq!(
        count_of(&b, "precision:FP16").await,
        Some(1),
        "own field keeps its counts"
    );
    assert_eq!(count_of(&b, "accessLevel:GUEST").await, None, "the other fields follow");
    assert_eq!(count_of(&b, "accessLevel:AUTHENTICATED").await, Some(1));
    assert_eq!(
        b.js(
            "return document.querySelector('#explore .facets input[value=\"precision:FP32\"]').checked",
            vec![]
        )
        .await,
        json!(true)
    );
    click(&b, "#clear-filters").await;
    b.wait_for_text("2 results for “traffic”").await;

    // The model's page, from its card: the overview rendered, nothing in it ran.
    click(&b, "li.result a[href=\"/catalog/models/acme/det\"]").await;
    b.wait_for_text("Getting started").await;
    assert_eq!(b.title().await, "Model det · Hangar");
    assert_eq!(b.text_of("#overview strong").await, "Fast");
    b.snapshot("model-overview").await;
    assert_eq!(
        b.js(
            "return window.ran === undefined && \
             !document.querySelector('#overview script, #overview [onerror], a[href^=javascript]')",
            vec![]
        )
        .await,
        json!(true)
    );
    // The download box's commands work as shown.
    let commands = b
        .js(
            "return [...document.querySelectorAll('#download pre')].map(p => p.textContent)",
            vec![],
        )
        .await;
    let commands: Vec<String> = serde_json::from_value(commands).expect("commands");
    assert!(
        commands.contains(&"ngc registry model download-version \"acme/det:1.0\"".to_string()),
        "{commands:?}"
    );
    let curl = commands.iter().find(|c| c.starts_with("curl")).expect("a curl command");
    let zip = run_in_new_dir(&stores, "zip", curl);
    assert!(zip.starts_with(b"PK"), "not a zip: {} bytes", zip.len());

    // The file browser: folders, then a file, downloaded from the page and by its wget command.
    click(&b, "nav.tabs a[href$=\"section=files\"]").await;
    b.wait_for_text("README.txt").await;
    assert_eq!(b.text_of("#files-version").await, "1.0");
    click(&b, "tr.folder a").await;
    b.wait_for_text("model.onnx").await;
    assert!(b.text_of("#folder").await.contains("weights"));
    assert!(b.page_text().await.contains("extra/"), "a sub-folder");
    b.snapshot("model-files").await;
    // (The page's own policy forbids scripts to fetch, so the link is followed from here.)
    let href = b
        .js("return document.querySelector('tr.file a[download]').href", vec![])
        .await;
    let fetched = reqwest::get(href.as_str().expect("a link")).await.expect("GET");
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.text().await.unwrap(), FILES[1].1, "the page's download");
    // (Inside a closed <details>: its text is not shown, so it is read from the document.)
    let wget = b
        .js("return document.querySelector('tr.file pre.wget').textContent", vec![])
        .await;
    let wget = wget.as_str().expect("a wget command");
    assert!(wget.starts_with("wget "), "{wget}");
    assert_eq!(run_in_new_dir(&stores, "wget", wget), FILES[1].1.as_bytes());

    // The container's page: its tags with their platforms, and a pull command that works.
    b.goto(&format!("{base}/catalog/containers")).await;
    click(&b, "li.result a[href=\"/catalog/containers/acme/vision\"]").await;
    b.wait_for_text("Getting started").await;
    assert_eq!(b.title().await, "Vision · Hangar");
    click(&b, "nav.tabs a[href$=\"section=tags\"]").await;
    b.wait_for_text("linux/amd64, linux/arm64/v8").await;
    b.snapshot("container-tags").await;
    let pull = b.text_of("#tags pre.pull").await;
    let reference = pull.strip_prefix("docker pull ").expect("a docker pull command");
    assert!(reference.ends_with("/acme/vision:1.0"), "{pull}");
    let home = stores.dir.path().join("skopeo-home");
    std::fs::create_dir_all(&home).unwrap();
    let raw = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .env("HOME", &home)
        .output()
        .expect("skopeo");
    assert!(raw.status.success(), "{}", String::from_utf8_lossy(&raw.stderr));
    assert_eq!(
        b.text_of("#tags code.digest").await,
        sha(&raw.stdout),
        "the page's digest"
    );

    // Related collections, and the collection's items: never the private model.
    b.goto(&format!("{base}/catalog/models/acme/det?section=collections"))
        .await;
    b.wait_for_text("Starter Kit").await;
    click(&b, "#related a").await;
    b.wait_for_text("Collection · acme/kit").await;
    click(&b, "nav.tabs a[href$=\"section=collections\"]").await;
    b.wait_for_text("acme/vision").await;
    let items = b.text_of("#related").await;
    b.snapshot("collection-items").await;
    assert!(items.contains("Model det") && !items.contains("secret"), "{items}");

    // An entitled model: a guest sees it, with no download.
    b.goto(&format!("{base}/catalog/models/acme/asr")).await;
    b.wait_for_text("Sign in to download.").await;
    assert!(!b.has("#download pre").await);
    // A private one is not there.
    b.goto(&format!("{base}/catalog/models/acme/secret")).await;
    b.wait_for_text("There is no model 'acme/secret', or you may not see it.")
        .await;

    // Signed in, the owner also sees the org's private model.
    set_password(&b, &first_start_link(&server.stdout), OWNER_PASSWORD).await;
    sign_in(&b, base, "owner@acme.test", OWNER_PASSWORD).await;
    b.goto(&format!("{base}/catalog/models?q=traffic")).await;
    b.wait_for_text("3 results for “traffic”").await;
    assert!(b.page_text().await.contains("acme/secret"));
    assert_eq!(count_of(&b, "accessLevel:PRIVATE").await, Some(1));
    sign_out(&b).await;

    // A registered user of another org: signed-in content downloads, private acme content
    // stays invisible, and acme's Private Registry is a page that does not exist.
    outsider_key(&stores, "globex");
    let path = admin_ok(&stores, &["password-link", "user@globex.test"]);
    set_password(&b, &format!("{base}{}", path.trim()), OUTSIDER_PASSWORD).await;
    sign_in(&b, base, "user@globex.test", OUTSIDER_PASSWORD).await;
    b.goto(&format!("{base}/catalog/models?q=traffic")).await;
    b.wait_for_text("2 results for “traffic”").await;
    assert!(!b.page_text().await.contains("acme/secret"));
    b.goto(&format!("{base}/catalog/models/acme/seg")).await;
    b.wait_for_text("segmentation of traffic scenes").await;
    assert!(!b.page_text().await.contains("Sign in to download"));
    b.goto(&format!("{base}/catalog/models/acme/asr")).await;
    b.wait_for_text("needs your organization's subscription to enterprise")
        .await;
    assert!(!b.has("#download pre").await);
    assert_eq!(
        b.text_of("#private-registry").await,
        "Private Registry",
        "their own org's registry"
    );
    b.goto(&format!("{base}/orgs/acme/models")).await;
    b.wait_for_text("There is no private registry 'acme', or you are not a member of it.")
        .await;
    b.goto(&format!("{base}/orgs/globex/models")).await;
    b.wait_for_text("Private Registry · globex").await;
    b.wait_for_text("0 results").await;
}

const OUTSIDER_PASSWORD: &str = "globex user's passphrase 7";

/// Grants the page the clipboard, clicks the copy button that follows the command `pre`
/// (a CSS selector) and answers what the clipboard then holds.
async fn copy_with_button(b: &Browser, pre: &str) -> String {
    b.driver()
        .cdp()
        .send_raw(
            "Browser.grantPermissions",
            json!({"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
        )
        .await
        .expect("grant the clipboard");
    let clicked = b
        .js(
            "const button = document.querySelector(arguments[0]).nextElementSibling; \
             if (!button || !button.classList.contains('copy')) return null; \
             button.click(); return button.getAttribute('aria-label');",
            vec![json!(pre)],
        )
        .await;
    assert!(clicked.is_string(), "no copy button after {pre}");
    let copied = b.js("return navigator.clipboard.readText()", vec![]).await;
    copied.as_str().expect("clipboard text").to_string()
}

/// The download box's commands, copied with their buttons and run as shown, against a TLS
/// server (NVIDIA's `ngc` speaks only https): a model's `ngc registry model download-version`
/// by `ngc` itself, byte-identical; a chart's `helm repo add` line through the Helm SDK and its
/// `helm fetch` URL; and the chosen org's Private Registry, which lists the private model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copied_commands_run() {
    let Some(web) = tls_web().await else { return };
    let (b, stores, server, ca, api) = (&web.b, &web.stores, &web.server, &web.ca, &web.api);
    let base = &server.base;
    let owner = Auth::Bearer(server.key());
    for (kind, name, level) in [
        ("models", "det", "GUEST"),
        ("models", "secret", "PRIVATE"),
        ("resources", "notes", "AUTHENTICATED"),
    ] {
        let body = json!({"name": name, "displayName": format!("Entity {name}"), "accessType": level,
                          "precision": "FP16", "shortDescription": "traffic detector",
                          "logo": "https://logos.example.com/det.png"});
        let (status, reply) = api.post(&format!("/v2/org/acme/{kind}"), &owner, body).await;
        assert_eq!(status, 200, "{reply}");
    }
    let work = stores.dir.path().join("commands");
    std::fs::create_dir_all(&work).unwrap();
    let ngc = Ngc::new(&web.ngc, base, &bundle(&work, &ca.ca_pem), work.join("ngc-home")).with_key(&server.key());
    let src = work.join("det-src");
    for (path, content) in FILES {
        let file = src.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    for (kind, target) in [("model", "acme/det:1.0"), ("resource", "acme/notes:2.0")] {
        ngc.ok(&[
            "registry",
            kind,
            "upload-version",
            target,
            "--source",
            src.to_str().unwrap(),
        ]);
    }
    // A chart for signed-in users: its commands carry the key.
    let body =
        json!({"name": "web", "displayName": "Web", "accessType": "AUTHENTICATED", "shortDescription": "a web server"});
    let (status, reply) = api.post("/v2/org/acme/helm-charts", &owner, body).await;
    assert_eq!(status, 200, "{reply}");
    let tgz = chart_tgz("web", "0.1.0", &[("values.yaml", "replicas: 1\n")]);
    let upload = api
        .raw()
        .post(format!("{base}/api/acme/charts"))
        .basic_auth("$oauthtoken", Some(server.key()))
        .body(tgz.clone());
    let (status, reply) = api.send(upload).await;
    assert!(status.is_success(), "{reply}");

    // The model's ngc command: copied, then run by ngc as it stands.
    b.goto(&format!("{base}/catalog/models/acme/det")).await;
    b.wait_for_text("download-version").await;
    let command = copy_with_button(b, "#download pre.command").await;
    assert_eq!(command, "ngc registry model download-version \"acme/det:1.0\"");
    let bin = work.join("bin");
    ngc.script_in(&bin);
    let dest = work.join("ngc-download");
    sh_in(&dest, &command, Some(&bin));
    // (Its logo is the URL its publisher set.)
    assert_eq!(
        b.js("return document.querySelector('.entity-head img.logo').src", vec![])
            .await,
        json!("https://logos.example.com/det.png")
    );
    for (path, content) in FILES {
        let got = std::fs::read(dest.join("det_v1.0").join(path)).unwrap_or_default();
        assert_eq!(got, content.as_bytes(), "{path} downloaded by ngc");
    }

    // The chart's Helm commands: the repository the `helm repo add` line names serves the
    // chart to the Helm SDK, and the `helm fetch` URL is the chart uploaded.
    b.goto(&format!("{base}/catalog/helm-charts/acme/web")).await;
    b.wait_for_text("helm repo add").await;
    let helm = copy_with_button(b, "#download pre.command:nth-of-type(2)").await;
    let words: Vec<&str> = helm.split_whitespace().collect();
    assert_eq!(words[..3], ["helm", "repo", "add"], "{helm}");
    let repo = words[4];
    assert_eq!(repo, format!("{base}/acme"), "{helm}");
    assert!(
        helm.contains("--username='$oauthtoken' --password=\"$NGC_API_KEY\""),
        "{helm}"
    );
    let fetch = helm
        .lines()
        .find_map(|l| l.strip_prefix("helm fetch "))
        .unwrap_or_else(|| panic!("no helm fetch line: {helm}"));
    let got = api
        .raw()
        .get(fetch)
        .basic_auth("$oauthtoken", Some(server.key()))
        .send()
        .await
        .expect("GET the chart");
    assert_eq!(got.status(), 200, "{fetch}");
    assert_eq!(got.bytes().await.unwrap().as_ref(), tgz.as_slice(), "the chart fetched");
    if let Ok(python) = std::env::var("HANGAR_TEST_HELM_PYTHON") {
        let envs = [("SSL_CERT_FILE", ca.ca_file.as_path())];
        let report = helm_client(
            &python,
            "repo",
            &work.join("helm"),
            &[repo, &server.key(), "web"],
            &envs,
        );
        let shown = report["show"].as_str().unwrap_or_default();
        assert!(
            shown.contains("name: web") && shown.contains("version: 0.1.0"),
            "{report}"
        );
    }

    // A resource for signed-in users: its file browser's curl command, copied and run, carries
    // the key and fetches the file.
    b.goto(&format!("{base}/catalog/resources/acme/notes?section=files"))
        .await;
    b.wait_for_text("README.txt").await;
    assert_eq!(b.title().await, "Entity notes · Hangar");
    let curl = copy_with_button(b, "tr.file pre.curl").await;
    assert!(curl.contains("$NGC_API_KEY"), "{curl}");
    let fetched = work.join("curl-file");
    sh_in(
        &fetched,
        &format!(
            "export NGC_API_KEY='{}' CURL_CA_BUNDLE='{}'; {curl}",
            server.key(),
            ca.ca_file.display()
        ),
        None,
    );
    assert_eq!(
        std::fs::read(fetched.join("README.txt")).unwrap_or_default(),
        FILES[0].1.as_bytes()
    );

    // The header's Private Registry: the org's own models, the private one too.
    click(b, "#private-registry").await;
    b.wait_for_text("Private Registry · acme").await;
    click(b, "nav.tabs a[href=\"/orgs/acme/models\"]").await;
    b.wait_for_text("acme/secret").await;
    assert!(b.page_text().await.contains("2 results"));
    b.snapshot("private-registry").await;

    // Screenshots are whole pages, as wide as a phone and a desktop.
    let shots = work.join("shots");
    b.snapshot_to(&shots, "registry").await;
    for width in [375, 1440] {
        let png = std::fs::read(shots.join(format!("registry-{width}.png"))).expect("a screenshot");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let png_width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(png_width, width, "the screenshot's width");
    }
}
