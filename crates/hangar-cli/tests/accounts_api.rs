//! Accounts and sign-in over real HTTP, on both storage backends (issue 14): the first start's
//! password link, signing in and the session cookie, CSRF on forms and on the REST API, the
//! sign-in throttle, `ngc`'s e-mail (device) login, password change and reset, sessions across
//! a restart and across replicas, and the invitation pages. A plain HTTP client plays the
//! browser: it keeps cookies by hand and follows no redirects, so every answer is checked.

mod common;

use common::api::{claims, error_text, names};
use common::{Api, Auth, ServeOptions, Server, Stores, admin_ok, member};
use hangar_store::meta::{MetaStore, now};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const OWNER: &str = "owner@acme.test";
const OWNER_PASSWORD: &str = "owner's first password";
const DEV: &str = "dev@acme.test";
const DEV_PASSWORD: &str = "dev's own password";
const SESSION_COOKIE: &str = "hangar_session";
const CSRF_COOKIE: &str = "hangar_csrf";

/// One `Set-Cookie` of an answer.
#[derive(Debug, Clone)]
struct SetCookie {
    name: String,
    value: String,
    /// The attributes, lowercased (`httponly`, `samesite=lax`, `path=/`, …).
    attributes: Vec<String>,
}

impl SetCookie {
    fn parse(line: &str) -> SetCookie {
        let mut parts = line.split(';').map(str::trim);
        let (name, value) = parts.next().and_then(|p| p.split_once('=')).expect("name=value");
        SetCookie {
            name: name.to_string(),
            value: value.to_string(),
            attributes: parts.map(str::to_lowercase).collect(),
        }
    }

    fn has(&self, attribute: &str) -> bool {
        self.attributes.iter().any(|a| a == attribute)
    }

    fn removes(&self) -> bool {
        self.value.is_empty() || self.has("max-age=0")
    }
}

/// An answer as a browser sees it.
#[derive(Debug)]
struct Page {
    status: u16,
    location: String,
    content_type: String,
    set_cookies: Vec<SetCookie>,
    body: String,
}

/// A CSRF token as pages carry it (a random pad, then the pad XOR the token, in hex),
/// unmasked.
fn unmasked(masked: &str) -> String {
    let bytes = hex::decode(masked).unwrap_or_else(|e| panic!("a masked token is hex: {masked}: {e}"));
    let (pad, token) = bytes.split_at(bytes.len() / 2);
    String::from_utf8(pad.iter().zip(token).map(|(p, t)| p ^ t).collect()).expect("a text token")
}

impl Page {
    /// The page with its masked CSRF tokens (fresh on every page) taken out.
    fn without_tokens(&self) -> String {
        let mut body = self.body.clone();
        for token in [self.csrf(), self.meta_csrf()] {
            body = body.replace(&token, "TOKEN");
        }
        body
    }

    /// The value of the form field `name` (a hidden input).
    fn input(&self, name: &str) -> String {
        self.between(&format!(r#"name="{name}" value=""#), "\"")
    }

    /// The CSRF token the page's forms carry.
    fn csrf(&self) -> String {
        self.input("csrf")
    }

    /// The CSRF token for the REST API, from the page's `<meta name="csrf-token">`.
    fn meta_csrf(&self) -> String {
        self.between(r#"<meta name="csrf-token" content=""#, "\"")
    }

    fn between(&self, start: &str, end: &str) -> String {
        let rest = self
            .body
            .split_once(start)
            .unwrap_or_else(|| panic!("no {start} in the page: {}", self.body))
            .1;
        rest.split_once(end).expect("the end of the value").0.to_string()
    }

    fn cookie(&self, name: &str) -> Option<&SetCookie> {
        self.set_cookies.iter().find(|c| c.name == name)
    }

    /// A web page (never JSON) with this status that says `words`.
    fn assert_page(&self, status: u16, words: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.content_type.starts_with("text/html") && self.body.starts_with("<!doctype html>"),
            "an HTML page expected, got {}: {}",
            self.content_type,
            self.body
        );
        assert!(self.body.contains(words), "'{words}' not in the page: {}", self.body);
    }

    /// A 303 to `to`.
    fn assert_redirect(&self, to: &str) {
        assert_eq!((self.status, self.location.as_str()), (303, to), "{}", self.body);
    }

    /// The number of seconds in "try again in N s".
    fn retry_seconds(&self) -> i64 {
        let text = self.between("try again in ", " s");
        text.parse()
            .unwrap_or_else(|_| panic!("not a number of seconds: {text}"))
    }
}

/// A browser: keeps cookies (one site; a browser sends them to every port of a host) and
/// follows no redirects.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// Sent as `X-Forwarded-For`, for a server that trusts 127.0.0.1 as its load balancer.
    forwarded_for: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser::with_ca(base, None)
    }

    fn with_ca(base: &str, ca_pem: Option<&str>) -> Browser {
        let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = ca_pem {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA PEM"));
        }
        Browser {
            base: base.to_string(),
            client: builder.build().expect("http client"),
            cookies: BTreeMap::new(),
            forwarded_for: None,
        }
    }

    /// A browser behind the load balancer, at `address`.
    fn from(base: &str, address: &str) -> Browser {
        Browser {
            forwarded_for: Some(address.to_string()),
            ..Browser::new(base)
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self.client.request(method, url);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
            request = request.header("cookie", jar.join("; "));
        }
        if let Some(address) = &self.forwarded_for {
            request = request.header("x-forwarded-for", address);
        }
        request
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let response = request.send().await.expect("request");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let (location, content_type) = (header("location"), header("content-type"));
        let set_cookies: Vec<SetCookie> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| SetCookie::parse(v.to_str().expect("ASCII cookie")))
            .collect();
        for cookie in &set_cookies {
            if cookie.removes() {
                self.cookies.remove(&cookie.name);
            } else {
                self.cookies.insert(cookie.name.clone(), cookie.value.clone());
            }
        }
        Page {
            status: response.status().as_u16(),
            location,
            content_type,
            set_cookies,
            body: response.text().await.expect("body"),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send(self.request(Method::GET, path)).await
    }

    /// Posts a form: `fields` is a list of (name, value) pairs.
    async fn post(&mut self, path: &str, fields: &(impl serde::Serialize + ?Sized)) -> Page {
        self.send(self.request(Method::POST, path).form(fields)).await
    }

    /// A REST call with this browser's cookies, and `X-CSRF-Token` when given.
    async fn call(&mut self, method: Method, path: &str, csrf: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut request = self.request(method, path);
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let page = self.send(request).await;
        let json = serde_json::from_str(&page.body)
            .unwrap_or_else(|_| panic!("non-JSON body with {}: {}", page.status, page.body));
        (page.status, json)
    }

    async fn me(&mut self) -> (u16, Value) {
        self.call(Method::GET, "/v2/users/me", None, None).await
    }
}

/// Sets a password through a one-time link, as a person would: open it, fill in the form.
async fn set_password(browser: &mut Browser, link: &str, password: &str) -> Page {
    let form = browser.get(link).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", password),
        ("confirm", password),
        ("terms", "accept"),
    ];
    browser.post(link, &fields).await
}

async fn sign_in(browser: &mut Browser, email: &str, password: &str) -> Page {
    let form = browser.get("/signin").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", email),
        ("password", password),
        ("next", "/account"),
    ];
    browser.post("/signin", &fields).await
}

/// A new browser signed in as `email`, and its session's CSRF token.
async fn signed_in(base: &str, email: &str, password: &str) -> (Browser, String) {
    let mut browser = Browser::new(base);
    sign_in(&mut browser, email, password).await.assert_redirect("/account");
    let account = browser.get("/account").await;
    account.assert_page(200, email);
    let csrf = account.meta_csrf();
    (browser, csrf)
}

/// The owner's password, set through the link the first start printed.
async fn owner_with_password(server: &Server) {
    let link = server.password_link().expect("the first start prints a password link");
    let done = set_password(&mut Browser::new(&server.base), &link, OWNER_PASSWORD).await;
    done.assert_redirect("/signin?done=password");
}

/// A member of acme holding `role`, with `password` set through `hangar admin password-link`;
/// their personal key.
async fn member_with_password(stores: &Stores, server: &Server, email: &str, role: &str, password: &str) -> Auth {
    let key = member(stores, email, &[(role, None)]);
    let path = admin_ok(stores, &["password-link", email]);
    assert!(path.starts_with("/password/hgpw-"), "{path}");
    let done = set_password(&mut Browser::new(&server.base), &path, password).await;
    done.assert_redirect("/signin?done=password");
    Auth::Bearer(key)
}

/// `HEAD /v2/ping` with a device login's session key.
async fn ping(base: &str, key: &str) -> u16 {
    let response = reqwest::Client::new()
        .head(format!("{base}/v2/ping"))
        .bearer_auth(key)
        .send()
        .await
        .expect("ping");
    response.status().as_u16()
}

/// Starts an `ngc` e-mail login on `server`: its login URL and session key.
async fn start_device_login(server: &Server, device: &str) -> (String, String) {
    let (s, body) = server
        .api()
        .post(
            "/device/login",
            &Auth::None,
            json!({"deviceId": device, "email": OWNER}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["expiresIn"], 86_400);
    let url = body["loginUrl"].as_str().expect("loginUrl").to_string();
    assert!(url.starts_with(&format!("{}/device?code=", server.base)), "{url}");
    let key = body["sessionKey"].as_str().expect("sessionKey").to_string();
    assert!(key.starts_with("hgdev-"), "{key}");
    (url, key)
}

/// Opens a login's page in a signed-in browser and answers it (`approve` or `deny`).
async fn decide_device_login(browser: &mut Browser, login_url: &str, decision: &str) -> Page {
    let page = browser.get(login_url).await;
    page.assert_page(200, "Sign in <code>ngc</code> on this device?");
    let (csrf, code) = (page.csrf(), page.input("code"));
    let fields = [("csrf", csrf.as_str()), ("code", code.as_str()), ("decision", decision)];
    browser.post("/device", &fields).await
}

/// The newest link containing `marker` in the outbox mails to `email`.
fn mailed_link(stores: &Stores, email: &str, marker: &str) -> String {
    let outbox = admin_ok(stores, &["outbox", "--limit", "100"]);
    outbox
        .split("To: ")
        .filter(|mail| mail.starts_with(&format!("{email}\n")))
        .flat_map(str::split_whitespace)
        .find(|word| word.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} link to {email} in the outbox: {outbox}"))
        .to_string()
}

// ---------------------------------------------------------------------------------------------

async fn first_start_and_browser_session(stores: &Stores) {
    let server = Server::start(stores);
    let link = server.password_link().expect("the first start prints a password link");
    assert!(link.starts_with(&format!("{}/password/hgpw-", server.base)), "{link}");
    let mut browser = Browser::new(&server.base);
    let form = browser.get(&link).await;
    form.assert_page(200, OWNER);
    assert!(
        form.body.contains(r#"name="terms""#),
        "the first password comes with the terms"
    );
    let anonymous = form.cookie(CSRF_COOKIE).expect("an anonymous CSRF cookie").clone();
    for attribute in ["httponly", "samesite=strict", "path=/"] {
        assert!(anonymous.has(attribute), "{anonymous:?} lacks {attribute}");
    }
    assert!(!anonymous.has("secure"), "no Secure over plain HTTP: {anonymous:?}");
    assert_eq!(
        unmasked(&form.csrf()),
        anonymous.value,
        "the form carries the cookie's token"
    );
    assert_ne!(form.csrf(), anonymous.value, "masked");

    // Forms without the token, with a wrong one, or without the cookie are refused with a page.
    let csrf = form.csrf();
    let wrong = "A".repeat(csrf.len());
    let fields = |csrf: &str, password: &str, confirm: &str, terms: &str| {
        [
            ("csrf", csrf),
            ("password", password),
            ("confirm", confirm),
            ("terms", terms),
        ]
        .map(|(n, v)| (n, v.to_string()))
    };
    let good = fields(&csrf, OWNER_PASSWORD, OWNER_PASSWORD, "accept");
    for token in ["", wrong.as_str()] {
        let refused = fields(token, OWNER_PASSWORD, OWNER_PASSWORD, "accept");
        browser.post(&link, &refused).await.assert_page(403, "Form expired");
    }
    let mut other_site = Browser::new(&server.base);
    other_site.post(&link, &good).await.assert_page(403, "Form expired");

    // A refused password says why and leaves the link usable.
    for (refused, why) in [
        (
            fields(&csrf, "too short", "too short", "accept"),
            "at least 12 characters",
        ),
        (
            fields(&csrf, "Password1234", "Password1234", "accept"),
            "common passwords",
        ),
        (
            fields(&csrf, OWNER_PASSWORD, "something else", "accept"),
            "do not match",
        ),
        (
            fields(&csrf, OWNER_PASSWORD, OWNER_PASSWORD, ""),
            "Accept the terms of use",
        ),
    ] {
        browser.post(&link, &refused).await.assert_page(400, why);
    }
    browser
        .post(&link, &good)
        .await
        .assert_redirect("/signin?done=password");
    // Once only.
    browser
        .get(&link)
        .await
        .assert_page(410, "This link was used or has expired");
    browser
        .post(&link, &good)
        .await
        .assert_page(410, "This link was used or has expired");
    browser
        .get("/password/hgpw-unknown")
        .await
        .assert_page(404, "This link is not valid");

    // Sign in (the e-mail in any case): the session cookie.
    let form = browser.get("/signin?next=/account").await;
    form.assert_page(200, "Sign in to Hangar");
    assert_eq!(form.input("next"), "/account");
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "Owner@ACME.test"),
        ("password", OWNER_PASSWORD),
        ("next", "/account"),
    ];
    let done = browser.post("/signin", &fields).await;
    done.assert_redirect("/account");
    let session = done.cookie(SESSION_COOKIE).expect("a session cookie");
    assert!(session.value.starts_with("hgsess-"), "{session:?}");
    for attribute in ["httponly", "samesite=lax", "path=/", "max-age=604800"] {
        assert!(session.has(attribute), "{session:?} lacks {attribute}");
    }
    assert!(!session.has("secure"), "no Secure over plain HTTP: {session:?}");
    let session = session.value.clone();

    // Who am I.
    let account = browser.get("/account").await;
    account.assert_page(200, OWNER);
    assert!(
        account.body.contains("ORG_OWNER") && account.body.contains("acme"),
        "{}",
        account.body
    );
    let token = account.meta_csrf();
    assert_eq!(
        unmasked(&account.csrf()),
        unmasked(&token),
        "the forms carry the session's token"
    );
    assert_ne!(
        token, csrf,
        "signed in, the token is the session's, not the anonymous one"
    );
    browser.get("/signin").await.assert_redirect("/account");
    // Going back after signing in stays on this site: browsers drop tabs and line breaks from
    // a Location, so `/<tab>/evil.example` would lead to //evil.example.
    for next in [
        "/device?code=x",
        "//evil.example",
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%5Cevil.example",
    ] {
        let expected = if next.starts_with("/device") { next } else { "/account" };
        let back = browser
            .get(&format!(
                "/signin?next={}",
                next.replace('/', "%2F").replace('?', "%3F")
            ))
            .await;
        back.assert_redirect(expected);
    }

    // The REST API with the cookie: reads as the user; writes only with X-CSRF-Token.
    let (s, me) = browser.me().await;
    assert_eq!((s, me["user"]["email"].as_str()), (200, Some(OWNER)), "{me}");
    let rename = Some(json!({"name": "Olivia Owner"}));
    let (s, body) = browser.call(Method::PATCH, "/v2/users/me", None, rename.clone()).await;
    assert_eq!(s, 403, "{body}");
    assert!(error_text(&body).contains("X-CSRF-Token"), "{body}");
    let (s, body) = browser
        .call(Method::PATCH, "/v2/users/me", Some(&wrong), rename.clone())
        .await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = browser.call(Method::PATCH, "/v2/users/me", Some(&token), rename).await;
    assert_eq!(
        (s, body["user"]["name"].as_str()),
        (200, Some("Olivia Owner")),
        "{body}"
    );
    let team = Some(json!({"name": "vision", "description": ""}));
    let (s, body) = browser
        .call(Method::POST, "/v2/org/acme/teams", None, team.clone())
        .await;
    assert_eq!(s, 403, "{body}");
    let (s, teams) = browser.call(Method::GET, "/v2/org/acme/teams", None, None).await;
    assert_eq!(
        (s, names(&teams["teams"], "name")),
        (200, vec![]),
        "nothing was created"
    );
    let (s, body) = browser
        .call(Method::POST, "/v2/org/acme/teams", Some(&token), team)
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = server.api().get("/v2/users/me", &Auth::None).await;
    assert_eq!(s, 401, "without the cookie, a guest");

    // Signed-in forms need the session's token too.
    browser
        .post("/account/context", &[("context", "acme/vision")])
        .await
        .assert_page(403, "Form expired");
    browser
        .post(
            "/account/context",
            &[("csrf", csrf.as_str()), ("context", "acme/vision")],
        )
        .await
        .assert_page(403, "Form expired");
    browser
        .post(
            "/account/context",
            &[("csrf", token.as_str()), ("context", "acme/vision")],
        )
        .await
        .assert_redirect("/account?done=context");
    browser
        .post("/account/context", &[("csrf", token.as_str()), ("context", "other")])
        .await
        .assert_page(400, "you are not a member of &#39;other&#39;");
    browser.get("/account").await.assert_page(200, "acme / vision");

    // Signing out ends the session on the server, not only in this browser.
    browser
        .post("/signout", &[("csrf", "")])
        .await
        .assert_page(403, "Form expired");
    let out = browser.post("/signout", &[("csrf", token.as_str())]).await;
    out.assert_redirect("/signin?done=signout");
    assert!(out.cookie(SESSION_COOKIE).is_some_and(SetCookie::removes), "{out:?}");
    let mut stale = Browser::new(&server.base);
    stale.cookies.insert(SESSION_COOKIE.into(), session);
    let (s, body) = stale.me().await;
    assert_eq!(s, 401, "{body}");
    stale.get("/account").await.assert_redirect("/signin?next=%2Faccount");
}
both_backends!(first_start, first_start_and_browser_session);

async fn sign_in_refusals_and_throttle(stores: &Stores) {
    let options = ServeOptions {
        extra_args: vec!["--trusted-proxy".into(), "127.0.0.1".into()],
        ..Default::default()
    };
    let server = Server::start_with(stores, &options);
    owner_with_password(&server).await;
    member_with_password(stores, &server, DEV, "REGISTRY_USER", DEV_PASSWORD).await;
    let mut first = Browser::from(&server.base, "198.51.100.1");

    // The same answer for an unknown e-mail and a wrong password.
    let unknown = sign_in(&mut first, "nobody@acme.test", "not the password").await;
    let wrong = sign_in(&mut first, DEV, "not the password").await;
    unknown.assert_page(401, "Wrong e-mail or password");
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(
        wrong.without_tokens().replace(DEV, "E-MAIL"),
        unknown.without_tokens().replace("nobody@acme.test", "E-MAIL"),
        "the pages differ only in the e-mail typed"
    );
    assert!(wrong.set_cookies.is_empty() && unknown.set_cookies.is_empty());

    // Five failures block the account: then even the right password gets "try again", from
    // any address.
    for _ in 2..=5 {
        sign_in(&mut first, DEV, "not the password")
            .await
            .assert_page(401, "Wrong e-mail or password");
    }
    let blocked = sign_in(&mut first, DEV, DEV_PASSWORD).await;
    blocked.assert_page(429, "Too many failed sign-ins; try again in");
    assert!((1..=30).contains(&blocked.retry_seconds()), "{}", blocked.body);
    assert!(blocked.cookie(SESSION_COOKIE).is_none());
    let mut second = Browser::from(&server.base, "198.51.100.2");
    sign_in(&mut second, DEV, DEV_PASSWORD)
        .await
        .assert_page(429, "try again in");
    // Another account from the same address still signs in (6 failures of its 20).
    sign_in(&mut first, OWNER, OWNER_PASSWORD)
        .await
        .assert_redirect("/account");

    // Twenty failures from one address, over many e-mails, block the address.
    let mut guesser = Browser::from(&server.base, "198.51.100.1");
    for i in 7..=20 {
        sign_in(&mut guesser, &format!("guess{i}@acme.test"), "not the password")
            .await
            .assert_page(401, "Wrong e-mail or password");
    }
    let blocked = sign_in(&mut guesser, OWNER, OWNER_PASSWORD).await;
    blocked.assert_page(429, "try again in");
    assert!((1..=30).contains(&blocked.retry_seconds()), "{}", blocked.body);
    // Only that address.
    sign_in(&mut Browser::from(&server.base, "198.51.100.3"), OWNER, OWNER_PASSWORD)
        .await
        .assert_redirect("/account");
    // Guesses sent all at once are not all checked: no more than the limit get an answer
    // about the password.
    let ops = "ops@acme.test";
    member_with_password(stores, &server, ops, "REGISTRY_READ", DEV_PASSWORD).await;
    let burst = (0..12).map(|_| async {
        let mut browser = Browser::from(&server.base, "198.51.100.5");
        sign_in(&mut browser, ops, "not the password").await.status
    });
    let mut statuses = futures::future::join_all(burst).await;
    statuses.sort();
    assert_eq!(
        statuses,
        [[401; 5].as_slice(), &[429; 7]].concat(),
        "12 guesses at once"
    );
    sign_in(&mut Browser::from(&server.base, "198.51.100.6"), ops, DEV_PASSWORD)
        .await
        .assert_page(429, "try again in");
    // The form's token is checked before the password: no token, no attempt.
    let fields = [("email", OWNER), ("password", OWNER_PASSWORD)];
    let mut third = Browser::from(&server.base, "198.51.100.4");
    third.get("/signin").await;
    third.post("/signin", &fields).await.assert_page(403, "Form expired");
}
both_backends!(throttle, sign_in_refusals_and_throttle);

async fn device_login(stores: &Stores) {
    let server = Server::start(stores);
    owner_with_password(&server).await;
    admin_ok(stores, &["org", "create", "other", "--display-name", "Other"]);
    let dev_key = member(stores, DEV, &[("REGISTRY_USER", None)]);
    let api = server.api();
    let (login_url, key) = start_device_login(&server, "laptop-1").await;
    let bearer = Auth::Bearer(key.clone());
    assert_eq!(ping(&server.base, &key).await, 401, "not approved yet");
    let (s, body) = api.get("/v2/orgs", &bearer).await;
    assert_eq!(s, 401, "{body}");

    // The page asks to sign in first, then comes back.
    let mut browser = Browser::new(&server.base);
    let to_sign_in = browser.get(&login_url).await;
    assert_eq!(to_sign_in.status, 303);
    assert!(
        to_sign_in.location.starts_with("/signin?next=%2Fdevice%3Fcode%3D"),
        "{to_sign_in:?}"
    );
    let form = browser.get(&to_sign_in.location).await;
    let next = form.input("next");
    assert!(next.starts_with("/device?code="), "{next}");
    let csrf = form.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", OWNER),
        ("password", OWNER_PASSWORD),
        ("next", &next),
    ];
    browser.post("/signin", &fields).await.assert_redirect(&next);
    let page = browser.get(&next).await;
    page.assert_page(200, "laptop-1");
    let (csrf, code) = (page.csrf(), page.input("code"));
    // Approving needs the form's token.
    browser
        .post("/device", &[("code", code.as_str()), ("decision", "approve")])
        .await
        .assert_page(403, "Form expired");
    assert_eq!(ping(&server.base, &key).await, 401);
    let approve = [
        ("csrf", csrf.as_str()),
        ("code", code.as_str()),
        ("decision", "approve"),
    ];
    browser
        .post("/device", &approve)
        .await
        .assert_redirect("/account?done=device");
    assert_eq!(ping(&server.base, &key).await, 200, "approved");
    browser
        .post("/device", &approve)
        .await
        .assert_page(400, "already answered");

    // The key is a bearer with the user's own roles: not an API key's.
    let (s, me) = api.get("/v2/users/me", &bearer).await;
    assert_eq!((s.as_u16(), me["user"]["email"].as_str()), (200, Some(OWNER)), "{me}");
    let (s, orgs) = api.get("/v2/orgs", &bearer).await;
    assert_eq!(
        (s.as_u16(), names(&orgs["organizations"], "name")),
        (200, vec!["acme".into()])
    );
    let (s, body) = api.get("/v2/orgs/other", &bearer).await;
    assert_eq!(s, 403, "not a member of other: {body}");
    let (s, body) = api
        .post(
            "/v2/org/acme/teams",
            &bearer,
            json!({"name": "devices", "description": ""}),
        )
        .await;
    assert_eq!(s, 200, "a bearer needs no CSRF token: {body}");
    let (s, body) = api
        .post(
            "/v2/org/other/teams",
            &bearer,
            json!({"name": "nope", "description": ""}),
        )
        .await;
    assert_eq!(s, 403, "{body}");
    // GET /token with it, and that token as a bearer.
    let (s, body) = api.get("/token?service=ngc&scope=group/ngc:acme", &bearer).await;
    assert_eq!(s, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_string();
    assert!(
        claims(&token)["sub"]
            .as_str()
            .is_some_and(|s| s.starts_with("session:"))
    );
    let jwt = Auth::Bearer(token);
    let (s, me) = api.get("/v2/users/me", &jwt).await;
    assert_eq!((s.as_u16(), me["user"]["email"].as_str()), (200, Some(OWNER)), "{me}");

    // Listed among the user's sessions; only they may end it.
    let (s, list) = api.get("/v2/users/me/sessions", &bearer).await;
    assert_eq!(s, 200, "{list}");
    let sessions = list["sessions"].as_array().expect("sessions").clone();
    let device = sessions
        .iter()
        .find(|s| s["type"] == "DEVICE")
        .unwrap_or_else(|| panic!("no device session: {list}"));
    assert_eq!(
        (&device["deviceId"], &device["current"]),
        (&json!("laptop-1"), &json!(true))
    );
    assert!(
        sessions.iter().any(|s| s["type"] == "BROWSER" && s["current"] == false),
        "{list}"
    );
    let id = device["id"].as_i64().expect("id");
    let (s, body) = api
        .delete(&format!("/v2/users/me/sessions/{id}"), &Auth::Bearer(dev_key))
        .await;
    assert_eq!(s, 404, "{body}");
    assert_eq!(ping(&server.base, &key).await, 200);
    // The user ends it from the browser (the REST API with the cookie and its token).
    let path = format!("/v2/users/me/sessions/{id}");
    let (s, body) = browser.call(Method::DELETE, &path, Some(&csrf), None).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(ping(&server.base, &key).await, 401, "ended");
    for auth in [&bearer, &jwt] {
        let (s, body) = api.get("/v2/orgs", auth).await;
        assert_eq!(s, 401, "{body}");
    }
    let (s, body) = browser.call(Method::DELETE, &path, Some(&csrf), None).await;
    assert_eq!(s, 404, "{body}");

    // A denied login never works, and says so (403: the client stops waiting).
    let (denied_url, denied_key) = start_device_login(&server, "laptop-2").await;
    decide_device_login(&mut browser, &denied_url, "deny")
        .await
        .assert_redirect("/account?done=denied");
    assert_eq!(ping(&server.base, &denied_key).await, 403);
    let (s, body) = api.get("/v2/orgs", &Auth::Bearer(denied_key.clone())).await;
    assert_eq!(s, 403, "{body}");
    assert!(error_text(&body).contains("denied"), "{body}");
    browser.get(&denied_url).await.assert_page(400, "already answered");
    browser
        .get("/device?code=unknown")
        .await
        .assert_page(400, "unknown, was already answered, or has expired");
    // A garbled key is refused like an ended one.
    assert_eq!(ping(&server.base, "hgdev-garbled").await, 401);

    // The account page ends a login too, with the form's token, and only the user's own.
    let (url, key) = start_device_login(&server, "laptop-3").await;
    decide_device_login(&mut browser, &url, "approve")
        .await
        .assert_redirect("/account?done=device");
    let (_, list) = api.get("/v2/users/me/sessions", &Auth::Bearer(key.clone())).await;
    let id = list["sessions"][0]["id"].as_i64().expect("the newest session");
    let end = format!("/account/sessions/{id}/end");
    browser
        .post(&end, &[("csrf", "")])
        .await
        .assert_page(403, "Form expired");
    let (mut dev, dev_csrf) = {
        member_with_password(stores, &server, "dev2@acme.test", "REGISTRY_READ", DEV_PASSWORD).await;
        signed_in(&server.base, "dev2@acme.test", DEV_PASSWORD).await
    };
    dev.post(&end, &[("csrf", dev_csrf.as_str())])
        .await
        .assert_page(404, "you have no such session");
    assert_eq!(ping(&server.base, &key).await, 200);
    browser
        .post(&end, &[("csrf", csrf.as_str())])
        .await
        .assert_redirect("/account?done=ended");
    assert_eq!(ping(&server.base, &key).await, 401);

    // Each secret works only as what it is: a browser's cookie is no bearer, a device key no
    // cookie.
    let cookie = browser.cookies[SESSION_COOKIE].clone();
    let (s, body) = api.get("/v2/users/me", &Auth::Bearer(cookie)).await;
    assert_eq!(s, 401, "{body}");
    let (url, key) = start_device_login(&server, "laptop-4").await;
    decide_device_login(&mut browser, &url, "approve").await;
    let mut posing = Browser::new(&server.base);
    posing.cookies.insert(SESSION_COOKIE.into(), key);
    assert_eq!(posing.me().await.0, 401);
}
both_backends!(device, device_login);

async fn password_change_and_reset(stores: &Stores) {
    let server = Server::start(stores);
    owner_with_password(&server).await;
    let api = server.api();
    let (mut changer, csrf) = signed_in(&server.base, OWNER, OWNER_PASSWORD).await;
    let (mut other, _) = signed_in(&server.base, OWNER, OWNER_PASSWORD).await;
    let (url, device_key) = start_device_login(&server, "laptop").await;
    decide_device_login(&mut changer, &url, "approve")
        .await
        .assert_redirect("/account?done=device");
    assert_eq!(ping(&server.base, &device_key).await, 200);

    // Refused changes end nothing.
    let new_password = "the owner's second password";
    let change = |current: &str, password: &str, token: &str| {
        [
            ("csrf", token),
            ("current", current),
            ("password", password),
            ("confirm", password),
        ]
        .map(|(n, v)| (n, v.to_string()))
    };
    for (fields, status, why) in [
        (
            change("wrong password!", new_password, &csrf),
            400,
            "current password is wrong",
        ),
        (
            change(OWNER_PASSWORD, "too short", &csrf),
            400,
            "at least 12 characters",
        ),
        (change(OWNER_PASSWORD, new_password, ""), 403, "Form expired"),
    ] {
        changer
            .post("/account/password", &fields)
            .await
            .assert_page(status, why);
    }
    assert_eq!(other.me().await.0, 200);
    assert_eq!(ping(&server.base, &device_key).await, 200);

    // A change ends the user's other sessions and keeps the one that made it.
    let fields = change(OWNER_PASSWORD, new_password, &csrf);
    changer
        .post("/account/password", &fields)
        .await
        .assert_redirect("/account?done=password");
    assert_eq!(changer.me().await.0, 200, "the changing session stays");
    changer
        .get("/account?done=password")
        .await
        .assert_page(200, "Your password is changed");
    assert_eq!(other.me().await.0, 401, "another browser is signed out");
    other.get("/account").await.assert_redirect("/signin?next=%2Faccount");
    assert_eq!(ping(&server.base, &device_key).await, 401, "the ngc login is ended");
    let mut fresh = Browser::new(&server.base);
    sign_in(&mut fresh, OWNER, OWNER_PASSWORD)
        .await
        .assert_page(401, "Wrong e-mail or password");
    sign_in(&mut fresh, OWNER, new_password)
        .await
        .assert_redirect("/account");

    // A reset by an owner: the link goes to the member's mail; using it ends all their sessions.
    let dev_key = member_with_password(stores, &server, DEV, "REGISTRY_USER", DEV_PASSWORD).await;
    let (mut dev, _) = signed_in(&server.base, DEV, DEV_PASSWORD).await;
    let owner_key = Auth::Bearer(server.key());
    let reset = format!("/v2/org/acme/users/{DEV}/password-reset");
    let (s, body) = api.post(&reset, &owner_key, json!({})).await;
    assert_eq!((s.as_u16(), body["email"].as_str()), (200, Some(DEV)), "{body}");
    let link = mailed_link(stores, DEV, "/password/hgpw-");
    assert!(link.starts_with(&format!("{}/password/", server.base)), "{link}");
    // Nobody else may send one: a member, or a user admin of another org.
    admin_ok(stores, &["org", "create", "other", "--display-name", "Other"]);
    admin_ok(stores, &["user", "create", "admin@other.test", "--name", "Other admin"]);
    admin_ok(
        stores,
        &[
            "role",
            "grant",
            "admin@other.test",
            "--org",
            "other",
            "--role",
            "USER_ADMIN",
        ],
    );
    let other_admin = Auth::Bearer(admin_ok(
        stores,
        &["key", "personal", "--org", "other", "--user", "admin@other.test"],
    ));
    let (s, body) = api
        .post(
            &format!("/v2/org/other/users/{DEV}/password-reset"),
            &other_admin,
            json!({}),
        )
        .await;
    assert_eq!(s, 404, "not a member of other: {body}");
    let (s, body) = api.post(&reset, &other_admin, json!({})).await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = api
        .post(
            &format!("/v2/org/acme/users/{OWNER}/password-reset"),
            &dev_key,
            json!({}),
        )
        .await;
    assert_eq!(s, 403, "{body}");
    let outbox = admin_ok(stores, &["outbox", "--limit", "100"]);
    assert_eq!(outbox.matches("/password/hgpw-").count(), 1, "{outbox}");
    // A signed-in owner's browser may send one with its token.
    let (s, body) = changer.call(Method::POST, &reset, None, Some(json!({}))).await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(dev.me().await.0, 200, "sending a link ends nothing yet");
    let (s, body) = changer.call(Method::POST, &reset, Some(&csrf), Some(json!({}))).await;
    assert_eq!(s, 200, "{body}");
    let newer = mailed_link(stores, DEV, "/password/hgpw-");
    assert_ne!(newer, link);
    Browser::new(&server.base)
        .get(&link)
        .await
        .assert_page(404, "This link is not valid");

    let dev_new = "dev's second password";
    set_password(&mut Browser::new(&server.base), &newer, dev_new)
        .await
        .assert_redirect("/signin?done=password");
    assert_eq!(dev.me().await.0, 401, "the reset signed the member out");
    let mut fresh = Browser::new(&server.base);
    sign_in(&mut fresh, DEV, DEV_PASSWORD)
        .await
        .assert_page(401, "Wrong e-mail or password");
    sign_in(&mut fresh, DEV, dev_new).await.assert_redirect("/account");
    Browser::new(&server.base)
        .get(&newer)
        .await
        .assert_page(410, "used or has expired");
}
both_backends!(passwords, password_change_and_reset);

async fn sessions_across_restart_and_replicas(stores: &Stores) {
    let first = Server::start(stores);
    owner_with_password(&first).await;
    let (mut browser, csrf) = signed_in(&first.base, OWNER, OWNER_PASSWORD).await;
    let (url, device_key) = start_device_login(&first, "laptop").await;
    decide_device_login(&mut browser, &url, "approve")
        .await
        .assert_redirect("/account?done=device");
    first.stop();

    let a = Server::start(stores);
    let b = Server::start(stores);
    assert!(
        a.password_link().is_none() && b.password_link().is_none(),
        "printed once"
    );
    // The browser's cookie and the ngc login from before the restart work on both replicas.
    for server in [&a, &b] {
        browser.base = server.base.clone();
        assert_eq!(browser.me().await.0, 200, "{}", server.base);
        browser.get("/account").await.assert_page(200, OWNER);
        assert_eq!(ping(&server.base, &device_key).await, 200, "{}", server.base);
    }
    let (s, body) = browser
        .call(
            Method::PATCH,
            "/v2/users/me",
            Some(&csrf),
            Some(json!({"name": "Still Me"})),
        )
        .await;
    assert_eq!(s, 200, "the session's CSRF token survives too: {body}");

    // Signed in through one replica, used and ended through the other.
    let (mut other, other_csrf) = signed_in(&a.base, OWNER, OWNER_PASSWORD).await;
    other.base = b.base.clone();
    assert_eq!(other.me().await.0, 200);
    other
        .post("/signout", &[("csrf", other_csrf.as_str())])
        .await
        .assert_redirect("/signin?done=signout");
    let (mut stale, _) = signed_in(&a.base, OWNER, OWNER_PASSWORD).await;
    let ended = stale.cookies[SESSION_COOKIE].clone();
    stale.base = b.base.clone();
    let id = {
        let (s, list) = stale.call(Method::GET, "/v2/users/me/sessions", None, None).await;
        assert_eq!(s, 200, "{list}");
        let current = list["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| s["current"] == true);
        current.expect("the current session")["id"].as_i64().expect("id")
    };
    let (s, body) = browser
        .call(
            Method::DELETE,
            &format!("/v2/users/me/sessions/{id}"),
            Some(&csrf),
            None,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    stale.base = a.base.clone();
    assert_eq!(stale.me().await.0, 401, "ended through b: {ended}");

    // An ngc login started on one replica is approved on the other.
    let (url, key) = start_device_login(&a, "desktop").await;
    let path = url.strip_prefix(&a.base).expect("a's link");
    browser.base = b.base.clone();
    decide_device_login(&mut browser, path, "approve")
        .await
        .assert_redirect("/account?done=device");
    assert_eq!(ping(&a.base, &key).await, 200);
    assert_eq!(ping(&b.base, &key).await, 200);
}
both_backends!(restart_and_replicas, sessions_across_restart_and_replicas);

async fn invite(api: &Api, owner: &Auth, email: &str, role: &str, teams: &[&str]) {
    let (s, body) = api
        .post(
            "/v3/orgs/acme/invitations",
            owner,
            json!({"email": email, "name": "", "message": "welcome aboard",
                   "roles": [{"name": role, "resourceGroups": teams}]}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

async fn invitation_pages(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let new = "new.person@acme.test";
    invite(&api, &owner, new, "REGISTRY_USER", &[]).await;
    let link = mailed_link(stores, new, "/invitations/hginv-");
    assert!(link.starts_with(&format!("{}/invitations/", server.base)), "{link}");

    // Unknown links: a page, never JSON.
    let mut browser = Browser::new(&server.base);
    browser
        .get("/invitations/hginv-unknown")
        .await
        .assert_page(404, "This invitation link is not valid");
    let form = browser.get(&link).await;
    form.assert_page(200, "Join Acme Corp");
    assert!(form.body.contains("Create your account") && form.body.contains("welcome aboard"));
    let csrf = form.csrf();
    browser
        .post("/invitations/hginv-unknown", &[("csrf", csrf.as_str())])
        .await
        .assert_page(404, "This invitation link is not valid");

    // Refusals say why and leave the invitation open.
    let password = "new person's password";
    let accept = |csrf: &str, name: &str, password: &str, terms: &str| {
        [
            ("csrf", csrf),
            ("name", name),
            ("password", password),
            ("confirm", password),
            ("terms", terms),
        ]
        .map(|(n, v)| (n, v.to_string()))
    };
    for (fields, status, why) in [
        (accept("", "New Person", password, "accept"), 403, "Form expired"),
        (accept(&csrf, "  ", password, "accept"), 400, "Enter your name"),
        (
            accept(&csrf, "New Person", password, ""),
            400,
            "Accept the terms of use",
        ),
        (
            accept(&csrf, "New Person", "short", "accept"),
            400,
            "at least 12 characters",
        ),
    ] {
        browser.post(&link, &fields).await.assert_page(status, why);
    }

    // Accepting creates the account, signs it in, and goes on to "set your organization".
    let fields = accept(&csrf, "New Person", password, "accept");
    let done = browser.post(&link, &fields).await;
    done.assert_redirect("/account/context?joined=acme");
    assert!(done.cookie(SESSION_COOKIE).is_some(), "{done:?}");
    browser
        .get(&done.location)
        .await
        .assert_page(200, "Welcome! You joined acme.");
    let (s, me) = browser.me().await;
    assert_eq!((s, me["user"]["name"].as_str()), (200, Some("New Person")), "{me}");
    assert_eq!(me["user"]["roles"][0]["orgRoles"], json!(["REGISTRY_USER"]));

    // A used link: a page, for the same browser and any other, on GET and POST.
    browser
        .get(&link)
        .await
        .assert_page(410, "This invitation was already used");
    let mut stranger = Browser::new(&server.base);
    stranger.get(&link).await.assert_page(410, "already used");
    let token = stranger.get("/signin").await.csrf();
    let again = accept(&token, "Someone Else", password, "accept");
    stranger
        .post(&link, &again)
        .await
        .assert_page(410, "This invitation was already used");
    sign_in(&mut stranger, new, password).await.assert_redirect("/account");

    // An existing user with a password signs in to join; signed in, they just join.
    let (s, body) = api
        .post(
            "/v2/org/acme/teams",
            &owner,
            json!({"name": "vision", "description": ""}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    invite(&api, &owner, new, "REGISTRY_READ", &["vision"]).await;
    let team_link = mailed_link(stores, new, "/invitations/hginv-");
    assert_ne!(team_link, link);
    let mut elsewhere = Browser::new(&server.base);
    let form = elsewhere.get(&team_link).await;
    form.assert_page(200, "Sign in to join");
    let csrf = form.csrf();
    elsewhere
        .post(&team_link, &[("csrf", csrf.as_str()), ("password", "not the password")])
        .await
        .assert_page(400, "Cannot sign in: wrong e-mail or password");
    let joined = elsewhere
        .post(&team_link, &[("csrf", csrf.as_str()), ("password", password)])
        .await;
    joined.assert_redirect("/account/context?joined=acme");
    assert!(joined.cookie(SESSION_COOKIE).is_some());
    let (s, body) = api
        .post(
            "/v2/org/acme/teams",
            &owner,
            json!({"name": "audio", "description": ""}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    invite(&api, &owner, new, "REGISTRY_READ", &["audio"]).await;
    let audio_link = mailed_link(stores, new, "/invitations/hginv-");
    let form = browser.get(&audio_link).await;
    form.assert_page(200, "Join Acme Corp");
    assert!(
        !form.body.contains(r#"name="password""#),
        "signed in: no password asked"
    );
    let token = form.csrf();
    browser
        .post(&audio_link, &[("csrf", token.as_str())])
        .await
        .assert_redirect("/account/context?joined=acme");
    let (_, me) = browser.me().await;
    let scopes = me["user"]["roles"].as_array().map(Vec::len);
    assert_eq!(scopes, Some(3), "acme, acme/vision and acme/audio: {me}");

    // An expired link: a page; nobody is created. (An invitation lasts at least a minute, so
    // its expiry is moved into the past in the database.)
    let late = "late@acme.test";
    invite(&api, &owner, late, "REGISTRY_USER", &[]).await;
    let late_link = mailed_link(stores, late, "/invitations/hginv-");
    let meta = MetaStore::open(&stores.database).await.expect("open the database");
    sqlx::query("UPDATE invitations SET expires_at = $1 WHERE email = $2")
        .bind(now() - 1)
        .bind(late)
        .execute(meta.pool())
        .await
        .expect("expire the invitation");
    meta.close().await;
    let mut latecomer = Browser::new(&server.base);
    latecomer
        .get(&late_link)
        .await
        .assert_page(410, "This invitation has expired");
    let csrf = latecomer.get("/signin").await.csrf();
    let fields = accept(&csrf, "Late", password, "accept");
    latecomer
        .post(&late_link, &fields)
        .await
        .assert_page(410, "This invitation has expired");
    let (s, body) = api.get(&format!("/v3/orgs/acme/users/{late}"), &owner).await;
    assert_eq!(s, 404, "{body}");
}
both_backends!(invitations, invitation_pages);

/// Over TLS the cookies are `Secure`, and the printed link is `https://`; the session lasts
/// as long as `--session-lifetime` says.
#[tokio::test]
async fn cookies_are_secure_over_tls() {
    let stores = common::stores(common::Backend::SqliteFolder).await.expect("sqlite");
    let ca = common::tls::make(stores.dir.path());
    let options = ServeOptions {
        tls: Some((ca.cert.clone(), ca.key.clone())),
        ..Default::default()
    };
    let options = ServeOptions {
        extra_args: ["--session-lifetime", "3600", "--session-idle", "600"]
            .map(String::from)
            .to_vec(),
        ..options
    };
    let server = Server::start_with(&stores, &options);
    let link = server.password_link().expect("a password link");
    assert!(link.starts_with(&format!("{}/password/", server.base)) && link.starts_with("https://"));
    let mut browser = Browser::with_ca(&server.base, Some(&ca.ca_pem));
    let form = browser.get(&link).await;
    let anonymous = form.cookie(CSRF_COOKIE).expect("an anonymous CSRF cookie");
    assert!(
        anonymous.has("secure") && anonymous.has("samesite=strict"),
        "{anonymous:?}"
    );
    set_password(&mut browser, &link, OWNER_PASSWORD)
        .await
        .assert_redirect("/signin?done=password");
    let done = sign_in(&mut browser, OWNER, OWNER_PASSWORD).await;
    done.assert_redirect("/account");
    let session = done.cookie(SESSION_COOKIE).expect("a session cookie");
    for attribute in ["secure", "httponly", "samesite=lax", "path=/", "max-age=3600"] {
        assert!(session.has(attribute), "{session:?} lacks {attribute}");
    }
    assert_eq!(browser.me().await.0, 200);
    // --session-lifetime sets the session's absolute expiry.
    let (s, list) = browser.call(Method::GET, "/v2/users/me/sessions", None, None).await;
    assert_eq!(s, 200, "{list}");
    let expires = list["sessions"][0]["expiresDate"].as_str().expect("expiresDate");
    let expires = chrono::DateTime::parse_from_rfc3339(expires)
        .expect("a date")
        .timestamp();
    assert!((3590..=3610).contains(&(expires - now())), "{list}");
}
