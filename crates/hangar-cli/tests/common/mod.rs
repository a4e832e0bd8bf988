//! The end-to-end harness: real `hangar serve` processes on 127.0.0.1 over a real SQLite file
//! and folder, or a real PostgreSQL server and S3 server (from `scripts/test-services`).
#![allow(dead_code)]

pub mod api;
pub mod app;
pub mod browser;
pub mod charts;
pub mod cli;
pub mod clients;
pub mod files;
pub mod ngc;
pub mod proxy;
pub mod registry;
pub mod tls;
pub mod web;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tempfile::TempDir;

#[allow(unused_imports)]
pub use api::{Api, Auth};

pub const HANGAR: &str = env!("CARGO_BIN_EXE_hangar");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + blob folder (the embedded defaults).
    SqliteFolder,
    /// PostgreSQL + S3-compatible object storage (the scale-out mode).
    PostgresS3,
}

/// Where one test's server keeps its data; shared by every replica started on it.
pub struct Stores {
    pub backend: Backend,
    pub database: String,
    pub blobs: String,
    pub env: Vec<(String, String)>,
    pub dir: TempDir,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Runs `body` unless the backend's services are missing: then the test is skipped with a note,
/// or fails when `HANGAR_TEST_REQUIRE_ALL=1` (as in `scripts/test` and CI).
pub async fn stores(backend: Backend) -> Option<Stores> {
    let dir = tempfile::tempdir().expect("tempdir");
    match backend {
        Backend::SqliteFolder => Some(Stores {
            backend,
            database: dir.path().join("hangar.db").to_string_lossy().into_owned(),
            blobs: dir.path().join("blobs").to_string_lossy().into_owned(),
            env: vec![],
            dir,
        }),
        Backend::PostgresS3 => {
            let (Some(pg), Some(endpoint)) = (env("HANGAR_TEST_POSTGRES_URL"), env("HANGAR_TEST_S3_ENDPOINT")) else {
                if env("HANGAR_TEST_REQUIRE_ALL").as_deref() == Some("1") {
                    panic!(
                        "HANGAR_TEST_REQUIRE_ALL=1 but HANGAR_TEST_POSTGRES_URL / HANGAR_TEST_S3_ENDPOINT are not set"
                    );
                }
                eprintln!("note: PostgreSQL/S3 not configured (run scripts/test); skipping this backend");
                return None;
            };
            let database = fresh_postgres_database(&pg).await;
            let bucket = env("HANGAR_TEST_S3_BUCKET").unwrap_or_else(|| "test-bucket".into());
            let prefix = uuid::Uuid::new_v4().simple().to_string();
            let env = vec![
                ("AWS_ENDPOINT_URL".to_string(), endpoint),
                (
                    "AWS_ACCESS_KEY_ID".into(),
                    env("HANGAR_TEST_S3_ACCESS_KEY").unwrap_or_default(),
                ),
                (
                    "AWS_SECRET_ACCESS_KEY".into(),
                    env("HANGAR_TEST_S3_SECRET_KEY").unwrap_or_default(),
                ),
                (
                    "AWS_REGION".into(),
                    env("HANGAR_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                ),
                ("AWS_ALLOW_HTTP".into(), "true".into()),
            ];
            Some(Stores {
                backend,
                database,
                blobs: format!("s3://{bucket}/t-{prefix}"),
                env,
                dir,
            })
        }
    }
}

impl Drop for Stores {
    /// A PostgreSQL and S3 test's database and objects go when it ends, as a folder test's files
    /// go with its temp folder; otherwise a whole run's gigabytes pile up in the test services.
    fn drop(&mut self) {
        if self.backend != Backend::PostgresS3 {
            return;
        }
        // Drop is not async, and may run on a runtime's thread: the cleanup gets a thread and
        // a runtime of its own.
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                runtime.block_on(async {
                    files::discard_blobs(self).await;
                    drop_postgres_database(&self.database).await;
                });
            });
        });
    }
}

/// Drops a test's database, closing any connection a server left open; errors are ignored.
async fn drop_postgres_database(url: &str) {
    use sqlx::Connection;
    let (Some(base), Some((_, name))) = (env("HANGAR_TEST_POSTGRES_URL"), url.rsplit_once('/')) else {
        return;
    };
    if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
    }
}

/// A new, empty database on the test PostgreSQL server, so tests never see each other's rows.
async fn fresh_postgres_database(base: &str) -> String {
    use sqlx::Connection;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    match base.rfind('/') {
        Some(slash) => format!("{}/{name}", &base[..slash]),
        None => panic!("unexpected PostgreSQL URL {base}"),
    }
}

/// One running `hangar serve`; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// The key printed at first start, if this server created the first org.
    pub initial_key: Option<String>,
    pub stdout: Vec<String>,
    /// Every line the server has logged (stderr) so far.
    log: Arc<Mutex<Vec<String>>>,
}

#[derive(Default, Clone)]
pub struct ServeOptions {
    pub tls: Option<(PathBuf, PathBuf)>,
    pub extra_args: Vec<String>,
}

impl ServeOptions {
    /// Options that give the server a signing secret (a file in the stores' folder, the same
    /// for every replica started with them), so that it signs images, models and resources.
    pub fn signing(stores: &Stores) -> ServeOptions {
        let secret = stores.dir.path().join("signing-secret");
        std::fs::write(&secret, "a long and random signing secret\n").unwrap();
        ServeOptions {
            tls: None,
            extra_args: vec!["--signing-secret-file".into(), path_str(&secret).into()],
        }
    }
}

impl Server {
    pub fn start(stores: &Stores) -> Server {
        Server::start_with(stores, &ServeOptions::default())
    }

    /// A server that speaks only HTTPS, with a certificate of a fresh test CA (returned, for
    /// the clients to trust).
    pub fn start_tls(stores: &Stores) -> (Server, tls::TestCa) {
        let ca = tls::make(stores.dir.path());
        let options = ServeOptions {
            tls: Some((ca.cert.clone(), ca.key.clone())),
            ..Default::default()
        };
        (Server::start_with(stores, &options), ca)
    }

    pub fn start_with(stores: &Stores, options: &ServeOptions) -> Server {
        let mut cmd = Command::new(HANGAR);
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &stores.database,
            "--blobs",
            &stores.blobs,
        ])
        .arg("--data-dir")
        .arg(stores.dir.path())
        .args([
            "--init-org",
            "acme",
            "--init-org-display-name",
            "Acme Corp",
            "--init-owner-email",
            "owner@acme.test",
        ])
        .args(&options.extra_args)
        .envs(stores.env.iter().cloned())
        .env("HANGAR_LOG", "info,hangar_server=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        if let Some((cert, key)) = &options.tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        let mut child = cmd.spawn().expect("spawn hangar serve");
        let (tx, rx) = mpsc::channel::<(bool, String)>();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let tx_out = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx_out.send((true, line));
            }
        });
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[server] {line}");
                kept.lock().expect("server log").push(line.clone());
                let _ = tx.send((false, line));
            }
        });
        let mut stdout = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let base = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok((true, line)) => match line.strip_prefix("Hangar listening on ") {
                    Some(rest) => break rest.split_whitespace().next().expect("address").to_string(),
                    None => stdout.push(line),
                },
                Ok((false, _)) => {}
                Err(_) => {
                    let _ = child.kill();
                    panic!("hangar serve did not start; stdout: {stdout:?}");
                }
            }
        };
        let initial_key = stdout.iter().find(|l| l.starts_with("nvapi-")).cloned();
        Server {
            child,
            base,
            initial_key,
            stdout,
            log,
        }
    }

    pub fn api(&self) -> Api {
        Api::new(&self.base, None)
    }

    pub fn key(&self) -> String {
        self.initial_key.clone().expect("this server printed no initial key")
    }

    /// The one-time link to set the owner's password, printed at first start.
    pub fn password_link(&self) -> Option<String> {
        self.stdout.iter().find(|l| l.contains("/password/hgpw-")).cloned()
    }

    /// How many lines the server has logged so far that contain every one of `words`.
    pub fn logged(&self, words: &[&str]) -> usize {
        let log = self.log.lock().expect("server log");
        log.iter().filter(|line| words.iter().all(|w| line.contains(w))).count()
    }

    /// Kills the process (SIGKILL: no shutdown of any kind) and waits for it.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `hangar admin …` on the stores' database; returns (success, stdout, stderr).
pub fn admin(stores: &Stores, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(HANGAR)
        .arg("admin")
        .args(["--database", &stores.database])
        .args(args)
        .envs(stores.env.iter().cloned())
        .output()
        .expect("run hangar admin");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// `hangar admin …` that must succeed; returns stdout.
pub fn admin_ok(stores: &Stores, args: &[&str]) -> String {
    let (ok, out, err) = admin(stores, args);
    assert!(ok, "hangar admin {args:?} failed: {err}");
    out
}

/// Creates a user with roles in acme and returns a personal key for them.
pub fn member(stores: &Stores, email: &str, grants: &[(&str, Option<&str>)]) -> String {
    let (ok, _, err) = admin(stores, &["user", "create", email, "--name", email]);
    assert!(ok || err.contains("already exists"), "{err}");
    for (role, team) in grants {
        let mut args = vec!["role", "grant", email, "--org", "acme", "--role", role];
        if let Some(team) = team {
            args.extend(["--team", team]);
        }
        admin_ok(stores, &args);
    }
    admin_ok(stores, &["key", "personal", "--org", "acme", "--user", email])
}

/// Makes org `org` with a user who reads its registry and holds no role in acme, and returns
/// that user's personal key for `org`.
pub fn outsider_key(stores: &Stores, org: &str) -> String {
    let email = format!("user@{org}.test");
    admin_ok(stores, &["org", "create", org]);
    admin_ok(stores, &["user", "create", &email, "--name", &email]);
    admin_ok(
        stores,
        &["role", "grant", &email, "--org", org, "--role", "REGISTRY_READ"],
    );
    admin_ok(stores, &["key", "personal", "--org", org, "--user", &email])
}

/// Declares a test that runs on both backends: `both_backends!(name, async_fn)` where the
/// function takes `&Stores`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_folder() {
                if let Some(stores) = $crate::common::stores($crate::common::Backend::SqliteFolder).await {
                    $body(&stores).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                if let Some(stores) = $crate::common::stores($crate::common::Backend::PostgresS3).await {
                    $body(&stores).await;
                }
            }
        }
    };
}

/// The Python with model-signing, pyopenssl and PyNaCl (`scripts/test-services`), or None
/// (then the test skips, unless `HANGAR_TEST_REQUIRE_ALL=1` makes that a failure).
#[allow(dead_code)]
pub fn signing_python() -> Option<String> {
    match env("HANGAR_TEST_SIGNING_PYTHON") {
        Some(python) => Some(python),
        None => {
            assert!(
                env("HANGAR_TEST_REQUIRE_ALL").as_deref() != Some("1"),
                "HANGAR_TEST_SIGNING_PYTHON is not set (scripts/test-services start)"
            );
            eprintln!("note: HANGAR_TEST_SIGNING_PYTHON is not set; skipping");
            None
        }
    }
}

/// The repository's root folder (for its scripts).
#[allow(dead_code)]
pub fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
