//! A real browser for the web UI tests: Debian's `chromium`, headless, driven over WebDriver
//! (thirtyfour) through its own `chromedriver` on a free 127.0.0.1 port.
//!
//! Each [`Browser`] is one chromedriver process and one browser with a fresh profile, so two
//! users at once are two `Browser`s. Every wait is bounded by [`WAIT`]. Dropping a `Browser`
//! kills chromedriver and every chromium process it started; dropped while the test panics, it
//! first saves a screenshot and the page's HTML under `target/browser-failures/`.
//!
//! The helpers panic with a clear message instead of returning errors: they are for tests.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tempfile::TempDir;
use thirtyfour::error::WebDriverErrorInner;
use thirtyfour::prelude::*;
use thirtyfour::{CapabilitiesHelper, ChromiumLikeCapabilities};

#[allow(unused_imports)]
pub use thirtyfour::{Cookie, SameSite};

/// The bound on every wait: chromedriver's start, page loads, scripts, finding an element.
pub const WAIT: Duration = Duration::from_secs(20);

/// The flags chromium runs with: headless, no sandbox (tests may run as root), nothing that
/// talks to the network or shows first-run pages, a fixed window size for screenshots.
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
    "--no-default-browser-check",
    "--window-size=1280,1024",
];

/// One headless chromium and the chromedriver that drives it; both killed on drop.
pub struct Browser {
    driver: WebDriver,
    chromedriver: Child,
    /// chromedriver's own URL, for the failure snapshot taken from `Drop`.
    driver_url: String,
    /// The test thread's name: the snapshot files are named after it.
    test_name: String,
    /// The browser's home directory and profile: fresh for each `Browser`.
    _home: TempDir,
}

/// Where chromedriver and chromium are: `HANGAR_TEST_CHROMEDRIVER` / `HANGAR_TEST_CHROMIUM` or
/// Debian's paths. None (with a note, the test then skips) when either is missing; under
/// `HANGAR_TEST_REQUIRE_ALL=1` a missing one fails the test.
fn browser_paths() -> Option<(PathBuf, PathBuf)> {
    let path = |var: &str, default: &str| {
        PathBuf::from(
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or(default.into()),
        )
    };
    let chromedriver = path("HANGAR_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = path("HANGAR_TEST_CHROMIUM", "/usr/bin/chromium");
    if chromedriver.is_file() && chromium.is_file() {
        return Some((chromedriver, chromium));
    }
    let missing = format!(
        "chromedriver ({}) or chromium ({}) is missing (apt-get install chromium chromium-driver, as .ci/run does)",
        chromedriver.display(),
        chromium.display()
    );
    if std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("HANGAR_TEST_REQUIRE_ALL=1 but {missing}");
    }
    eprintln!("note: {missing}; skipping");
    None
}

/// Starts `chromedriver --port=0` in its own process group, with `home` as the home directory
/// of it and of the browser, and returns it with the URL it listens on (it prints the port it
/// picked once it listens).
fn start_chromedriver(chromedriver: &Path, home: &Path) -> (Child, String) {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(chromedriver)
        // Without `--allowed-ips`: with it chromedriver listens on every interface, without it
        // on loopback only.
        .arg("--port=0")
        // chromium keeps crash reports and certificate databases under the home directory.
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        // Its own group, so that one kill reaches the browser processes too.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", chromedriver.display()));
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let port = line
                .strip_prefix("ChromeDriver was started successfully on port ")
                .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
            if let Some(port) = port {
                let _ = tx.send(port);
            }
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("[chromedriver] {line}");
        }
    });
    match rx.recv_timeout(WAIT) {
        Ok(port) => (child, format!("http://127.0.0.1:{port}")),
        Err(_) => {
            kill_group(&mut child);
            panic!("chromedriver did not start listening within {WAIT:?}");
        }
    }
}

/// SIGKILLs `child`'s process group (chromedriver and every chromium process under it) and
/// reaps `child`.
fn kill_group(child: &mut Child) {
    let group = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let _ = child.wait();
}

impl Browser {
    /// A fresh headless chromium, or None when chromium isn't installed (see
    /// [`browser_paths`]). It accepts any TLS certificate, so tests can serve TLS signed by
    /// their throw-away CA.
    pub async fn start() -> Option<Browser> {
        let (chromedriver_path, chromium) = browser_paths()?;
        let home = tempfile::tempdir().expect("tempdir");
        let (mut chromedriver, driver_url) = start_chromedriver(&chromedriver_path, home.path());
        let mut caps = DesiredCapabilities::chrome();
        let mut set_up = || -> WebDriverResult<()> {
            caps.set_binary(chromium.to_str().expect("utf-8 path"))?;
            for flag in CHROMIUM_FLAGS {
                caps.add_arg(flag)?;
            }
            caps.add_arg(&format!("--user-data-dir={}", home.path().join("profile").display()))?;
            // The first tab opens about:blank: Debian's new tab page loads DuckDuckGo's, and
            // the first `goto` waits ~5 s for that to fail offline.
            caps.add_experimental_option(
                "prefs",
                serde_json::json!({"session": {"restore_on_startup": 4, "startup_urls": ["about:blank"]}}),
            )?;
            caps.accept_insecure_certs(true)
        };
        set_up().expect("chromium capabilities");
        let session = WebDriver::builder(&driver_url, caps)
            // Above the page-load and script timeouts, so those report first.
            .request_timeout(WAIT + Duration::from_secs(10))
            .await;
        let driver = match session {
            Ok(driver) => driver,
            Err(e) => {
                kill_group(&mut chromedriver);
                panic!("open a chromium session: {e}");
            }
        };
        let browser = Browser {
            driver,
            chromedriver,
            driver_url,
            test_name: std::thread::current().name().unwrap_or("browser").to_string(),
            _home: home,
        };
        let driver = &browser.driver;
        driver
            .set_page_load_timeout(WAIT)
            .await
            .expect("set the page load timeout");
        driver.set_script_timeout(WAIT).await.expect("set the script timeout");
        Some(browser)
    }

    /// The thirtyfour session, for anything the helpers below don't cover.
    pub fn driver(&self) -> &WebDriver {
        &self.driver
    }

    /// Loads `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        self.driver
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("load {url}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.driver.current_url().await.expect("current URL").to_string()
    }

    pub async fn title(&self) -> String {
        self.driver.title().await.expect("page title")
    }

    /// The page's visible text (for a JSON response: the JSON).
    pub async fn page_text(&self) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let body = self.element(By::Tag("body"), "the page body").await;
            match body.text().await {
                Ok(text) => return text,
                // A new page replaced the one whose body was found: read the new one. Chromium
                // reports that as a stale element, or, mid-navigation, as an unknown error whose
                // node "does not belong to the document".
                Err(e)
                    if (matches!(*e, WebDriverErrorInner::StaleElementReference(_))
                        || e.to_string().contains("does not belong to the document"))
                        && tokio::time::Instant::now() < deadline => {}
                Err(e) => panic!("read the page's text: {e}"),
            }
        }
    }

    /// Waits until the page's visible text contains `needle`, and returns that text.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let text = self.page_text().await;
            if text.contains(needle) {
                return text;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "no {needle:?} on {} within {WAIT:?}; the page says:\n{text}",
                    self.current_url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Types `value` into the field named `name` (its `name` attribute), replacing its content.
    pub async fn fill(&self, name: &str, value: &str) {
        let field = self.element(By::Name(name), &format!("field {name:?}")).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear field {name:?}: {e}"));
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {name:?}: {e}"));
    }

    /// Ticks the checkbox named `name` (no change when it is ticked already).
    pub async fn check(&self, name: &str) {
        let checkbox = self.element(By::Name(name), &format!("checkbox {name:?}")).await;
        if !checkbox.is_selected().await.expect("checkbox state") {
            checkbox.click().await.unwrap_or_else(|e| panic!("tick {name:?}: {e}"));
        }
    }

    /// Clicks the button whose text (or `value` for `<input>` buttons) or `name` is `label`.
    /// The next page may not have replaced this one yet when it returns: follow it with
    /// [`Browser::wait_for_text`], or use [`Browser::submit`], which waits.
    pub async fn click_button(&self, label: &str) {
        let label = xpath_literal(label);
        let xpath = format!(
            "//button[normalize-space()={label} or @name={label}] \
             | //input[(@type='submit' or @type='button') and (@value={label} or @name={label})]"
        );
        let button = self.element(By::XPath(xpath), &format!("button {label}")).await;
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("click button {label}: {e}"));
    }

    /// Submits the form that the CSS selector `form` picks (as pressing Enter in it would, with
    /// the browser's own validation) and waits until the next page has replaced it.
    pub async fn submit(&self, form: &str) {
        let element = self.element(By::Css(form), &format!("form {form:?}")).await;
        let arg = element.to_json().expect("form as a script argument");
        self.driver
            .execute("arguments[0].requestSubmit()", vec![arg])
            .await
            .unwrap_or_else(|e| panic!("submit form {form:?}: {e}"));
        element
            .wait_until()
            .wait(WAIT, Duration::from_millis(100))
            .stale()
            .await
            .unwrap_or_else(|e| panic!("form {form:?} still shown {WAIT:?} after submitting it: {e}"));
    }

    /// Runs `script` as the body of a function in the page (`arguments[i]` are `args`) and
    /// returns its result as JSON; a returned promise is awaited, so
    /// `return fetch('/v2/…').then(r => r.json())` gives the API's answer with the page's
    /// cookies. The page's Content-Security-Policy applies: the web UI's pages allow no
    /// `fetch`, so call the API from a page of the API (or `/healthz`) on the same origin.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        let ret = self
            .driver
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("run script {script:?}: {e}"));
        ret.json().clone()
    }

    /// The cookie called `name` that the current page's site has set (HttpOnly ones included),
    /// with its flags (`http_only`, `secure`, `same_site`).
    pub async fn cookie(&self, name: &str) -> Option<Cookie> {
        let cookies = self.driver.get_all_cookies().await.expect("read cookies");
        cookies.into_iter().find(|c| c.name == name)
    }

    /// The visible text of the first element the CSS selector `css` picks (waiting for it).
    pub async fn text_of(&self, css: &str) -> String {
        let element = self.element(By::Css(css), &format!("element {css:?}")).await;
        element
            .text()
            .await
            .unwrap_or_else(|e| panic!("read the text of {css:?}: {e}"))
    }

    /// Whether the page has an element the CSS selector `css` picks (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        !self
            .driver
            .find_all(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("look for {css:?}: {e}"))
            .is_empty()
    }

    /// Deletes every cookie of the current page's site.
    pub async fn delete_cookies(&self) {
        self.driver.delete_all_cookies().await.expect("delete cookies");
    }

    /// The first element `by` finds, waiting up to [`WAIT`] for it to appear.
    async fn element(&self, by: By, what: &str) -> WebElement {
        self.driver
            .query(by)
            .wait(WAIT, Duration::from_millis(100))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no {what} on the page within {WAIT:?}: {e}"))
    }

    /// Saves a screenshot and the page's HTML as `target/browser-failures/<test>-<n>.png` and
    /// `.html` and prints where. Runs from `Drop` while the test panics, so it asks chromedriver
    /// itself on a thread of its own: the test's runtime may be the thread that is unwinding.
    fn save_failure(&self) {
        let session = self.session_url();
        let test_name = self.test_name.clone();
        let saved = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let client = reqwest::Client::builder().timeout(WAIT).build().ok()?;
                let get = async |what: &str| -> Option<String> {
                    let answer = driver_value(client.get(format!("{session}/{what}"))).await?;
                    answer.as_str().map(str::to_string)
                };
                let (url, source) = (get("url").await, get("source").await);
                let stem = failure_stem(&test_name);
                let mut files = vec![];
                for width in SCREEN_WIDTHS {
                    if let Some(png) = full_page_png(&client, &session, width).await {
                        let path = stem.with_file_name(format!("{}-{width}.png", file_name(&stem)));
                        write_or_note(&path, &png);
                        files.push(path);
                    }
                }
                if let Some(source) = source {
                    let path = stem.with_extension("html");
                    write_or_note(&path, source.as_bytes());
                    files.push(path);
                }
                Some((url, files))
            })
        })
        .join();
        let Ok(Some((url, files))) = saved else {
            eprintln!("browser: the failure snapshot could not be taken");
            return;
        };
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        eprintln!(
            "browser: the page at the failure ({}): {}",
            url.as_deref().unwrap_or("unknown URL"),
            names.join(", ")
        );
    }

    /// chromedriver's URL of this session.
    fn session_url(&self) -> String {
        format!("{}/session/{}", self.driver_url, self.driver.session_id())
    }

    /// With `HANGAR_TEST_SCREENSHOTS` naming a folder: saves the current page there as
    /// `<name>-375.png` and `<name>-1440.png`, whole pages as a phone and a desktop show them
    /// (README's screenshots come from here). Does nothing otherwise.
    pub async fn snapshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("HANGAR_TEST_SCREENSHOTS") {
            self.snapshot_to(Path::new(&dir), name).await;
        }
    }

    /// Saves the current page as `dir/<name>-375.png` and `dir/<name>-1440.png`.
    pub async fn snapshot_to(&self, dir: &Path, name: &str) {
        std::fs::create_dir_all(dir).expect("screenshot folder");
        let client = reqwest::Client::builder().timeout(WAIT).build().expect("client");
        for width in SCREEN_WIDTHS {
            let png = full_page_png(&client, &self.session_url(), width)
                .await
                .unwrap_or_else(|| panic!("no screenshot of {name} at {width} px"));
            std::fs::write(dir.join(format!("{name}-{width}.png")), png).expect("write screenshot");
        }
    }
}

/// The widths screenshots are taken at: a phone and a desktop.
const SCREEN_WIDTHS: [u32; 2] = [375, 1440];
/// The tallest screenshot, so that a long page stays a small file.
const MAX_SCREEN_HEIGHT: u32 = 4000;

/// The `value` of chromedriver's answer to `request`; None for no answer or a null one.
async fn driver_value(request: reqwest::RequestBuilder) -> Option<Value> {
    let answer: Value = request.send().await.ok()?.json().await.ok()?;
    answer.get("value").filter(|v| !v.is_null()).cloned()
}

/// The whole page (up to [`MAX_SCREEN_HEIGHT`]) as a PNG laid out `width` px wide, through
/// chromedriver's DevTools passthrough; the window is as before afterwards. None when
/// chromedriver does not answer.
async fn full_page_png(client: &reqwest::Client, session: &str, width: u32) -> Option<Vec<u8>> {
    let cdp = async |cmd: &str, params: Value| -> Option<Value> {
        let request = client
            .post(format!("{session}/goog/cdp/execute"))
            .json(&serde_json::json!({"cmd": cmd, "params": params}));
        driver_value(request).await
    };
    let metrics = |height: u32| serde_json::json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600});
    cdp("Emulation.setDeviceMetricsOverride", metrics(800)).await?;
    let layout = cdp("Page.getLayoutMetrics", serde_json::json!({})).await;
    let height = layout
        .as_ref()
        .and_then(|l| l["cssContentSize"]["height"].as_f64())
        .map_or(800, |h| (h.ceil() as u32).clamp(200, MAX_SCREEN_HEIGHT));
    cdp("Emulation.setDeviceMetricsOverride", metrics(height)).await?;
    let shot = cdp("Page.captureScreenshot", serde_json::json!({"format": "png"})).await;
    cdp("Emulation.clearDeviceMetricsOverride", serde_json::json!({})).await;
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(shot?["data"].as_str()?)
        .ok()
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.save_failure();
        }
        kill_group(&mut self.chromedriver);
        // The session died with its processes: no quit request to send.
        let _ = self.driver.clone().leak();
    }
}

/// A free `target/browser-failures/<test>-<n>` (the test's name with `::` as `-`), claimed by
/// creating its `.html`; the snapshot's files are named after it.
fn failure_stem(test_name: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir");
    let dir = target.join("browser-failures");
    let _ = std::fs::create_dir_all(&dir);
    let stem: String = test_name
        .replace("::", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut n = 1;
    loop {
        let html = dir.join(format!("{stem}-{n}.html"));
        let claimed = std::fs::OpenOptions::new().write(true).create_new(true).open(&html);
        if claimed.is_ok() || n > 1000 {
            return html.with_extension("");
        }
        n += 1;
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap_or_default().to_string_lossy().to_string()
}

fn write_or_note(path: &Path, bytes: &[u8]) {
    if let Err(e) = std::fs::write(path, bytes) {
        eprintln!("browser: write {}: {e}", path.display());
    }
}

/// `text` as an XPath string literal (XPath 1.0 has no escapes: `concat()` when it has both
/// kinds of quote).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
