//! What people do in the browser, as steps the web tests share: set a password through a
//! link, sign in and out, read the pages' answers.

use super::browser::Browser;
use super::cli::Cli;
use super::{Stores, admin_ok};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// A password that meets the rules (12+ characters, not a common one).
pub const OWNER_PASSWORD: &str = "owner's long passphrase 1";

/// The one-time `/password/…` link `hangar serve` printed at its first start.
pub fn first_start_link(stdout: &[String]) -> String {
    stdout
        .iter()
        .find(|l| l.contains("/password/hgpw-"))
        .cloned()
        .unwrap_or_else(|| panic!("no password link in the first start's output: {stdout:?}"))
}

/// The newest link in the outbox mailed to `email` whose path starts with `path` (such as
/// `/invitations/`).
pub fn mailed_link(stores: &Stores, email: &str, path: &str) -> String {
    let outbox = admin_ok(stores, &["outbox", "--limit", "200"]);
    let mail = outbox
        .split("To: ")
        .find(|m| m.starts_with(email))
        .unwrap_or_else(|| panic!("no mail to {email} in the outbox:\n{outbox}"));
    mail.split_whitespace()
        .find(|w| w.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in the mail to {email}:\n{mail}"))
        .to_string()
}

/// Opens a password link, sets `password` (accepting the terms when the page asks).
pub async fn set_password(b: &Browser, link: &str, password: &str) {
    b.goto(link).await;
    b.wait_for_text("Set your password").await;
    b.fill("password", password).await;
    b.fill("confirm", password).await;
    if b.has("input[name=terms]").await {
        b.check("terms").await;
    }
    b.submit("form[action^='/password/']").await;
    b.wait_for_text("Your password is set").await;
}

/// Fills and sends the sign-in form on the current page.
pub async fn sign_in_form(b: &Browser, email: &str, password: &str) {
    b.fill("email", email).await;
    b.fill("password", password).await;
    b.submit("form[action='/signin']").await;
}

/// Signs in from the sign-in page and waits for the account page.
pub async fn sign_in(b: &Browser, base: &str, email: &str, password: &str) {
    b.goto(&format!("{base}/signin")).await;
    sign_in_form(b, email, password).await;
    b.wait_for_text("Who am I").await;
}

pub async fn sign_out(b: &Browser) {
    b.submit("form[action='/signout']").await;
    b.wait_for_text("You are signed out").await;
}

/// A `BROWSER` program for `ngc` or `hangar`: writes the login URL where the test reads it, then waits (bounded)
/// until the test has approved the login, so `ngc`'s first ping already succeeds.
pub fn browser_helper(dir: &Path) -> PathBuf {
    let script = dir.join("browser.sh");
    let text = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{url}.tmp' && mv '{url}.tmp' '{url}'\n\
         i=0\nwhile [ ! -f '{done}' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\nexit 0\n",
        url = dir.join("login-url").display(),
        done = dir.join("approved").display(),
    );
    std::fs::write(&script, text).expect("write the BROWSER helper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// Starts `hangar config set --auth-option email` as the owner with `--org <org>`, a
/// [`browser_helper`] in `helper_dir` as `BROWSER`; returns the command and the login link the
/// helper was given. Approve the link, then [`end_hangar_login`].
pub fn start_hangar_login(cli: &Cli, helper_dir: &Path, org: &str) -> (Child, String) {
    std::fs::create_dir_all(helper_dir).expect("helper dir");
    let args = [
        "config",
        "set",
        "--auth-option",
        "email",
        "--email",
        "Owner@Acme.test",
        "--org",
        org,
    ];
    let child = cli.spawn_piped(&args, &[("BROWSER", &browser_helper(helper_dir))]);
    (child, wait_for_file(&helper_dir.join("login-url")))
}

/// Tells the helper the login is approved and waits for the command: (success, stdout, stderr).
pub fn end_hangar_login(child: Child, helper_dir: &Path) -> (bool, String, String) {
    std::fs::write(helper_dir.join("approved"), b"yes").expect("mark approved");
    wait_output(child, Duration::from_secs(60))
}

pub fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text.trim().to_string();
        }
        assert!(Instant::now() < deadline, "{} did not appear", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (bounded) for a child and returns (success, stdout, stderr).
pub fn wait_output(mut child: Child, limit: Duration) -> (bool, String, String) {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("poll the child").is_some() {
            let out = child.wait_with_output().expect("the child's output");
            let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
            return (out.status.success(), text(&out.stdout), text(&out.stderr));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the login command did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What a person does in the browser, done over plain HTTP: the cookies are kept here and the
/// forms' hidden fields read from the pages. For tests of a client that needs a signed-in user
/// (approving an e-mail login), not of the pages themselves (`web_browser.rs` drives chromium).
pub struct HttpBrowser {
    http: reqwest::Client,
    base: String,
    cookies: std::collections::BTreeMap<String, String>,
}

/// The value of the form field `name` on `page` (`name="…" value="…"`).
fn field(page: &str, name: &str) -> String {
    let start = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&start)
        .unwrap_or_else(|| panic!("no field {name} on the page:\n{page}"))
        + start.len();
    page[at..].split('"').next().unwrap_or_default().to_string()
}

impl HttpBrowser {
    pub fn new(base: &str) -> HttpBrowser {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        HttpBrowser {
            http,
            base: base.to_string(),
            cookies: Default::default(),
        }
    }

    /// Sends `request` with the cookies; keeps the ones it sets. Returns the status, the
    /// redirect target and the body.
    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, String, String) {
        let cookie = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .expect("send a page request");
        for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = set
                .to_str()
                .expect("a text cookie")
                .split(';')
                .next()
                .unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| v.to_str().expect("a text location").to_string())
            .unwrap_or_default();
        (status, location, response.text().await.expect("a page"))
    }

    /// GETs a page (a path or a whole URL) that must answer 200.
    pub async fn page(&mut self, url: &str) -> String {
        let url = if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_string()
        };
        let (status, _, page) = self.send(self.http.get(&url)).await;
        assert_eq!(status, 200, "GET {url}:\n{page}");
        page
    }

    /// Posts a form to `action` (a path); it must answer a redirect, whose target is returned.
    pub async fn post(&mut self, action: &str, form: &[(&str, &str)]) -> String {
        let request = self.http.post(format!("{}{action}", self.base)).form(form);
        let (status, location, page) = self.send(request).await;
        assert_eq!(status, 303, "POST {action}:\n{page}");
        location
    }

    /// Sets the password through a `/password/…` link, accepting the terms.
    pub async fn set_password(&mut self, link: &str, password: &str) {
        let page = self.page(link).await;
        let action = format!("/password/{}", link.rsplit('/').next().expect("a token"));
        let csrf = field(&page, "csrf");
        let form = [
            ("csrf", csrf.as_str()),
            ("password", password),
            ("confirm", password),
            ("terms", "accept"),
        ];
        assert_eq!(self.post(&action, &form).await, "/signin?done=password");
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) {
        let csrf = field(&self.page("/signin").await, "csrf");
        let form = [
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/account"),
        ];
        assert_eq!(self.post("/signin", &form).await, "/account");
        assert!(self.cookies.contains_key("hangar_session"), "signed in");
    }

    /// Approves the e-mail login whose page is `login_url` (signed in already).
    pub async fn approve_login(&mut self, login_url: &str) {
        let page = self.page(login_url).await;
        assert!(page.contains("on this device?"), "{page}");
        let (csrf, code) = (field(&page, "csrf"), field(&page, "code"));
        let form = [
            ("csrf", csrf.as_str()),
            ("code", code.as_str()),
            ("decision", "approve"),
        ];
        assert_eq!(self.post("/device", &form).await, "/account?done=device");
    }
}

/// What the browser tests that run NVIDIA's `ngc` need: a browser, the CLI, and a server on
/// SQLite over TLS (`ngc` speaks only https) with an API client that trusts its CA.
pub struct TlsWeb {
    pub b: Browser,
    pub ngc: super::ngc::NgcPaths,
    pub stores: Stores,
    pub server: super::Server,
    pub ca: super::tls::TestCa,
    pub api: super::Api,
}

/// A server on `backend` over plain HTTP with the owner signed in in a browser, or None (a
/// missing browser or backend says so; the test then skips).
#[allow(dead_code)]
pub async fn owner_web(backend: super::Backend) -> Option<(Browser, Stores, super::Server)> {
    let b = Browser::start().await?;
    let stores = super::stores(backend).await?;
    let server = super::Server::start(&stores);
    set_password(&b, &first_start_link(&server.stdout), OWNER_PASSWORD).await;
    sign_in(&b, &server.base, "owner@acme.test", OWNER_PASSWORD).await;
    Some((b, stores, server))
}

/// A [`TlsWeb`] with the owner signed in in the browser, or None (each missing part says so;
/// the test then skips).
#[allow(dead_code)]
pub async fn tls_web() -> Option<TlsWeb> {
    let b = Browser::start().await?;
    let ngc = super::ngc::ngc_paths()?;
    let stores = super::stores(super::Backend::SqliteFolder).await?;
    let (server, ca) = super::Server::start_tls(&stores);
    let api = super::Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    set_password(&b, &first_start_link(&server.stdout), OWNER_PASSWORD).await;
    sign_in(&b, &server.base, "owner@acme.test", OWNER_PASSWORD).await;
    Some(TlsWeb {
        b,
        ngc,
        stores,
        server,
        ca,
        api,
    })
}

/// Sets the field `css` (a select or input) to `value`.
#[allow(dead_code)]
pub async fn set(b: &Browser, css: &str, value: &str) {
    let done = b
        .js(
            "const f = document.querySelector(arguments[0]); if (!f) return false; f.value = arguments[1]; return f.value === arguments[1];",
            vec![json!(css), json!(value)],
        )
        .await;
    assert_eq!(done, json!(true), "no {css} taking {value}");
}

/// Ticks (or unticks) the checkbox with `value` inside `scope` (a CSS selector).
#[allow(dead_code)]
pub async fn tick(b: &Browser, scope: &str, value: &str, on: bool) {
    let done = b
        .js(
            "const box = document.querySelector(arguments[0] + ' input[type=checkbox][value=\"' + arguments[1] + '\"]'); \
             if (!box) return false; box.checked = arguments[2]; return true;",
            vec![json!(scope), json!(value), json!(on)],
        )
        .await;
    assert_eq!(done, json!(true), "no {value} box in {scope}");
}

/// Posts a form of the page's own making to `action` with `fields` (the CSRF token of the
/// user's pages is added unless `csrf` is false): what a client that skips the page's controls
/// would send.
#[allow(dead_code)]
pub async fn post_raw(b: &Browser, action: &str, fields: &[(&str, &str)], csrf: bool) {
    if !b.has("input[name=csrf]").await {
        // An error page carries no form: take the token from the account page.
        let account = b.js("return location.origin + '/account'", vec![]).await;
        b.goto(account.as_str().unwrap()).await;
    }
    let pairs: Vec<Value> = fields.iter().map(|(k, v)| json!([k, v])).collect();
    b.js(
        "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0]; \
         const add = (k, v) => { const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.append(i); }; \
         for (const [k, v] of arguments[1]) add(k, v); \
         if (arguments[2]) add('csrf', document.querySelector('input[name=csrf]').value); \
         document.body.append(f); f.submit();",
        vec![json!(action), json!(pairs), json!(csrf)],
    )
    .await;
}
