//! NVIDIA's own `ngc` CLI (PyPI ngcsdk 4.37.0) run against a test server over TLS: where it is
//! installed, the CA bundle it trusts, and one runner per home directory and key.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The proxy variables cleared when a runner sends its https requests through a proxy, so
/// that only `HTTPS_PROXY` / `https_proxy` decide the route.
const OTHER_PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The CLI: a venv's python (where `scripts/test-services install` put ngcsdk) and the
/// project's runner `scripts/ngc`.
#[derive(Debug, Clone)]
pub struct NgcPaths {
    pub python: String,
    pub cli: PathBuf,
}

/// The CLI run by the python named by `HANGAR_TEST_NGC_PYTHON`, or None (with a note, the test
/// then skips) when that is not set; under `HANGAR_TEST_REQUIRE_ALL=1` a missing one fails the
/// test.
pub fn ngc_paths() -> Option<NgcPaths> {
    match std::env::var("HANGAR_TEST_NGC_PYTHON").ok().filter(|v| !v.is_empty()) {
        Some(python) => Some(NgcPaths {
            python,
            cli: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ngc"),
        }),
        None if std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() == Ok("1") => {
            panic!("HANGAR_TEST_REQUIRE_ALL=1 but HANGAR_TEST_NGC_PYTHON is not set")
        }
        None => {
            eprintln!("note: the ngc CLI is not configured (HANGAR_TEST_NGC_PYTHON; run scripts/test); skipping");
            None
        }
    }
}

/// The system's CAs plus the test CA, written to `dir/bundle.pem`: REQUESTS_CA_BUNDLE replaces
/// the default store. Beside it, a `certifi` module naming the same bundle, for the one path
/// of ngc that trusts only `certifi.where()` (`collection`'s aiohttp requests; ngc-api.md
/// §1.1): each test's runners find it first on PYTHONPATH, so the venv is never changed and
/// parallel tests do not share it.
pub fn bundle(dir: &Path, ca_pem: &str) -> PathBuf {
    let system = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    let path = dir.join("bundle.pem");
    std::fs::write(&path, format!("{system}\n{ca_pem}")).expect("write bundle");
    let module = certifi_dir(&path).join("certifi");
    std::fs::create_dir_all(&module).expect("certifi module dir");
    let source = format!(
        "def where():\n    return {:?}\n\n\ndef contents():\n    with open(where()) as f:\n        return f.read()\n",
        path.to_str().expect("utf-8 path")
    );
    std::fs::write(module.join("__init__.py"), source).expect("write certifi module");
    path
}

/// The PYTHONPATH entry holding the `certifi` module that names `bundle`.
fn certifi_dir(bundle: &Path) -> PathBuf {
    bundle.with_file_name("certifi-for-ngc")
}

/// `field` of every row of a JSON list.
pub fn column(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter_map(|v| v[field].as_str().map(str::to_string))
        .collect()
}

/// The `ngc` CLI for one user: its home directory, the server it talks to (API and auth URLs
/// both at `base`) and the CA bundle it trusts. Made by [`Ngc::new`] as a guest; the builder
/// methods give it a key, a proxy, a time bound.
pub struct Ngc {
    paths: NgcPaths,
    /// NGC_CLI_HOME; created by [`Ngc::new`].
    pub home: PathBuf,
    bundle: PathBuf,
    base: String,
    /// None: a guest (no key, no org; ngc-api.md §2.5). Some: the key, in org [`Ngc::org`].
    key: Option<String>,
    /// The org a key works in: `acme` unless [`Ngc::in_org`] says otherwise.
    org: String,
    /// None: no `HTTPS_PROXY`. Some: every https request through this proxy URL.
    proxy: Option<String>,
    /// Some: every command is run under `timeout <seconds>`.
    timeout: Option<String>,
}

impl Ngc {
    /// A guest (no key) with NGC_CLI_HOME `home` (created), talking to `base` and trusting
    /// `bundle` (see [`bundle`]).
    pub fn new(paths: &NgcPaths, base: &str, bundle: &Path, home: PathBuf) -> Ngc {
        std::fs::create_dir_all(&home).expect("ngc home");
        Ngc {
            paths: paths.clone(),
            home,
            bundle: bundle.to_path_buf(),
            base: base.to_string(),
            key: None,
            org: "acme".into(),
            proxy: None,
            timeout: None,
        }
    }

    /// Works in `org` (with a key) instead of `acme`.
    pub fn in_org(mut self, org: &str) -> Ngc {
        self.org = org.to_string();
        self
    }

    /// Signed in with `key` (a legacy key or an `nvapi-` personal key), in org `acme`.
    pub fn with_key(mut self, key: &str) -> Ngc {
        self.key = Some(key.to_string());
        self
    }

    /// Every https request through the proxy at `url` (`HTTPS_PROXY` and `https_proxy`; the
    /// other proxy variables are cleared).
    pub fn through_proxy(mut self, url: &str) -> Ngc {
        self.proxy = Some(url.to_string());
        self
    }

    /// Every command bounded by `seconds` (run under `timeout`).
    pub fn timeout(mut self, seconds: &str) -> Ngc {
        self.timeout = Some(seconds.to_string());
        self
    }

    /// The key this runner signs in with; a guest has none.
    pub fn key(&self) -> &str {
        self.key.as_deref().expect("a guest has no key")
    }

    /// `ngc <args>` (json output unless `args` say otherwise).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match &self.timeout {
            Some(seconds) => {
                let mut cmd = Command::new("timeout");
                cmd.arg(seconds).arg(&self.paths.python);
                cmd
            }
            None => Command::new(&self.paths.python),
        };
        cmd.arg(&self.paths.cli)
            .args(args)
            .env("NGC_CLI_API_URL", &self.base)
            .env("NGC_CLI_AUTH_URL", &self.base)
            .env("NGC_CLI_HOME", &self.home)
            .env("NGC_CLI_FORMAT_TYPE", "json")
            .env("NGC_CLI_TRACE_DISABLE", "1")
            .env("REQUESTS_CA_BUNDLE", &self.bundle)
            .env("PYTHONPATH", certifi_dir(&self.bundle))
            .env("COLUMNS", "200");
        match &self.key {
            Some(key) => cmd.env("NGC_CLI_API_KEY", key).env("NGC_CLI_ORG", &self.org),
            None => cmd.env_remove("NGC_CLI_API_KEY").env_remove("NGC_CLI_ORG"),
        };
        match &self.proxy {
            Some(proxy) => {
                cmd.env("HTTPS_PROXY", proxy).env("https_proxy", proxy);
                for var in OTHER_PROXY_VARS {
                    cmd.env_remove(var);
                }
            }
            None => {
                cmd.env_remove("HTTPS_PROXY");
            }
        }
        cmd
    }

    /// Writes `dir/ngc`, a shell script that runs this CLI as [`Ngc::command`] does (its
    /// environment included), so a command line as a page shows it (`ngc registry …`) runs
    /// unchanged with `dir` first on PATH.
    #[allow(dead_code)]
    pub fn script_in(&self, dir: &Path) -> PathBuf {
        let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
        let cmd = self.command(&[]);
        let mut script = String::from("#!/bin/sh\n");
        for (name, value) in cmd.get_envs() {
            let name = name.to_string_lossy();
            match value {
                Some(value) => script.push_str(&format!("export {name}={}\n", quote(value))),
                None => script.push_str(&format!("unset {name}\n")),
            }
        }
        script.push_str(&format!("exec {}", quote(cmd.get_program())));
        for arg in cmd.get_args() {
            script.push_str(&format!(" {}", quote(arg)));
        }
        script.push_str(" \"$@\"\n");
        std::fs::create_dir_all(dir).expect("script dir");
        let path = dir.join("ngc");
        std::fs::write(&path, script).expect("write the ngc script");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// Runs `ngc <args>`; returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().expect("run the ngc CLI");
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "ngc {args:?} failed:\nstdout: {out}\nstderr: {err}");
        out
    }

    /// Runs a command that must succeed; returns its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("ngc {args:?}: not JSON ({e}): {out}"))
    }

    /// Runs a command that must be refused: exit code 1; returns stdout and stderr together.
    pub fn refused(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(
            code, 1,
            "ngc {args:?} should fail with 1:\nstdout: {out}\nstderr: {err}"
        );
        format!("{out}\n{err}")
    }

    /// The parts (1-based) `ngc` still holds pending for the upload of `file` in its resume
    /// cache (`.ngc/transfer-caches/`, one JSON line per saved state, the last one wins);
    /// empty when it kept no state for that file.
    pub fn pending_upload_parts(&self, file: &Path) -> Vec<u32> {
        let caches = self.home.join(".ngc/transfer-caches");
        let mut bitmask = None;
        for entry in std::fs::read_dir(&caches).into_iter().flatten() {
            let text = std::fs::read_to_string(entry.expect("cache entry").path()).expect("cache");
            for line in text.lines() {
                let Ok(state) = serde_json::from_str::<Value>(line) else {
                    continue;
                };
                if state["file_path"].as_str() == file.to_str() {
                    bitmask = state["bitmask"].as_u64();
                }
            }
        }
        let bitmask = bitmask.unwrap_or(0);
        (0..64)
            .filter(|bit| bitmask & (1 << bit) != 0)
            .map(|bit| bit + 1)
            .collect()
    }
}
