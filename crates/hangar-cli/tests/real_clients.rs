//! Real registry clients against `hangar serve` on both backends: skopeo (multi-layer images, a
//! two-platform index, inspect, list-tags, delete), podman with vfs storage, the Docker engine
//! started by hand (login with personal, service and legacy keys, push, pull, a multi-arch
//! tag), and oras-py (artifacts with a subject, found through the referrers API).
//!
//! The clients come from `.ci/run` (Debian packages) and `scripts/test-services` (oras-py's
//! venv, `HANGAR_TEST_ORAS_PYTHON`). Without them a test says so and passes, unless
//! `HANGAR_TEST_REQUIRE_ALL=1`.

mod common;

use common::registry::{OCI_INDEX, Registry};
use common::{Server, Stores, admin_ok, path_str};
use reqwest::Method;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Every client command is bounded by this many seconds.
const CLIENT_TIMEOUT: &str = "300";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `program` is installed; a missing one fails the test under `HANGAR_TEST_REQUIRE_ALL=1`.
fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() != Ok("1"),
            "HANGAR_TEST_REQUIRE_ALL=1 but {program} is not installed (see .ci/run)"
        );
        eprintln!("note: {program} is not installed; skipping");
    }
    found
}

/// Runs a client command (bounded by `timeout`); returns (success, stdout, stderr).
fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new("timeout")
        .arg(CLIENT_TIMEOUT)
        .arg(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn run_ok(program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let (ok, out, err) = run(program, args, env);
    assert!(ok, "{program} {args:?} failed:\n{out}\n{err}");
    out
}

/// `scripts/clients/make-image` into `dir`: returns its JSON description of the tag.
fn make_image(dir: &Path, tag: &str, extra: &[&str]) -> Value {
    let script = repo_root().join("scripts/clients/make-image");
    let mut args = vec![path_str(&script), path_str(dir), "--tag", tag];
    args.extend(extra);
    serde_json::from_str(&run_ok("python3", &args, &[])).expect("make-image JSON")
}

fn host(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

fn creds(key: &str) -> String {
    format!("$oauthtoken:{key}")
}

async fn manifest_status(reg: &Registry, name: &str, reference: &str) -> u16 {
    reg.send(Method::GET, &format!("/v2/{name}/manifests/{reference}"), &[], vec![])
        .await
        .status()
        .as_u16()
}

async fn skopeo_images(stores: &Stores) {
    if !have("skopeo") {
        return;
    }
    let server = Server::start(stores);
    let key = server.key();
    let (registry, creds) = (host(&server), creds(&key));
    let layout = stores.dir.path().join("layout");
    let image = make_image(&layout, "v1", &["--layers", "10K,300K,2M", "--compress", "gzip"]);
    let index = make_image(
        &layout,
        "multi",
        &["--layers", "64K,8K", "--platforms", "linux/amd64,linux/arm64"],
    );
    let src = |tag: &str| format!("oci:{}:{tag}", path_str(&layout));
    let dst = |reference: &str| format!("docker://{registry}/acme/tools/{reference}");
    let push = ["copy", "--dest-tls-verify=false", "--dest-creds", &creds];
    let pull = ["copy", "--src-tls-verify=false", "--src-creds", &creds];
    let read = ["--tls-verify=false", "--creds", &creds];

    run_ok("skopeo", &[&push[..], &[&src("v1"), &dst("web:v1")]].concat(), &[]);
    run_ok(
        "skopeo",
        &[&push[..], &["--all", &src("multi"), &dst("web:multi")]].concat(),
        &[],
    );

    // Inspect: the registry hands back the very manifests pushed.
    let raw = run_ok(
        "skopeo",
        &[&["inspect", "--raw"][..], &read, &[&dst("web:v1")]].concat(),
        &[],
    );
    let digest = common::registry::sha(raw.as_bytes());
    assert_eq!(digest, image["digest"].as_str().unwrap(), "{raw}");
    let raw = run_ok(
        "skopeo",
        &[&["inspect", "--raw"][..], &read, &[&dst("web:multi")]].concat(),
        &[],
    );
    let doc: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(doc["mediaType"], OCI_INDEX);
    assert_eq!(common::registry::sha(raw.as_bytes()), index["digest"].as_str().unwrap());
    assert_eq!(doc["manifests"].as_array().unwrap().len(), 2);
    let config = run_ok(
        "skopeo",
        &[
            &["inspect", "--override-arch", "arm64"][..],
            &read,
            &[&dst("web:multi")],
        ]
        .concat(),
        &[],
    );
    assert!(config.contains("\"Architecture\": \"arm64\""), "{config}");

    // Pull both back into a new layout; every blob arrives with its digest.
    let copy = stores.dir.path().join("copy");
    for tag in ["v1", "multi"] {
        let target = format!("oci:{}:{tag}", path_str(&copy));
        run_ok(
            "skopeo",
            &[&pull[..], &["--all", &dst(&format!("web:{tag}")), &target]].concat(),
            &[],
        );
    }
    let copied: Value = serde_json::from_str(&std::fs::read_to_string(copy.join("index.json")).unwrap()).unwrap();
    let digests: Vec<&str> = copied["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert!(digests.contains(&image["digest"].as_str().unwrap()), "{copied}");
    assert!(digests.contains(&index["digest"].as_str().unwrap()), "{copied}");
    for platform in index["images"].as_array().unwrap() {
        for layer in platform["layers"].as_array().unwrap() {
            let hex = layer["digest"].as_str().unwrap().trim_start_matches("sha256:");
            let bytes = std::fs::read(copy.join("blobs/sha256").join(hex)).expect("pulled layer");
            assert_eq!(common::registry::sha(&bytes), layer["digest"].as_str().unwrap());
        }
    }

    // Tags, then delete by tag: the manifest is gone, the other tag stays.
    run_ok("skopeo", &[&push[..], &[&src("v1"), &dst("web:v1-copy")]].concat(), &[]);
    let tags: Value = serde_json::from_str(&run_ok(
        "skopeo",
        &[&["list-tags"][..], &read, &[&dst("web")]].concat(),
        &[],
    ))
    .unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["multi", "v1", "v1-copy"]));
    run_ok("skopeo", &[&["delete"][..], &read, &[&dst("web:multi")]].concat(), &[]);
    let reg = Registry::new(&server, Some(key.clone()));
    assert_eq!(manifest_status(&reg, "acme/tools/web", "multi").await, 404);
    assert_eq!(manifest_status(&reg, "acme/tools/web", "v1").await, 200);

    // A reader may pull but not push.
    let reader = common::member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]);
    let reader_creds = format!("$oauthtoken:{reader}");
    let (ok, _, err) = run(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &reader_creds,
            &src("v1"),
            &dst("web:nope"),
        ],
        &[],
    );
    assert!(
        !ok && (err.contains("denied") || err.contains("403") || err.contains("unauthorized")),
        "{err}"
    );
    run_ok(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &reader_creds,
            &dst("web:v1"),
        ],
        &[],
    );
}
both_backends!(skopeo, skopeo_images);

async fn podman_images(stores: &Stores) {
    if !have("podman") || !have("skopeo") {
        return;
    }
    let server = Server::start(stores);
    let key = server.key();
    let registry = host(&server);
    let layout = stores.dir.path().join("layout");
    make_image(&layout, "v1", &["--layers", "20K,40K"]);
    run_ok(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds(&key),
            &format!("oci:{}:v1", path_str(&layout)),
            &format!("docker://{registry}/acme/base:v1"),
        ],
        &[],
    );
    let root = stores.dir.path().join("podman-root");
    let runroot = stores.dir.path().join("podman-run");
    let auth = stores.dir.path().join("podman-auth.json");
    let env = [("REGISTRY_AUTH_FILE", path_str(&auth))];
    let podman = |args: &[&str]| -> (bool, String, String) {
        let mut all = vec![
            "--root",
            path_str(&root),
            "--runroot",
            path_str(&runroot),
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
        ];
        all.extend(args);
        run("podman", &all, &env)
    };
    let ok = |args: &[&str]| {
        let (ok, out, err) = podman(args);
        assert!(ok, "podman {args:?}: {out}\n{err}");
        out
    };
    ok(&[
        "login",
        "--tls-verify=false",
        "-u",
        "$oauthtoken",
        "-p",
        &key,
        &registry,
    ]);
    ok(&["pull", "--tls-verify=false", &format!("{registry}/acme/base:v1")]);
    ok(&[
        "tag",
        &format!("{registry}/acme/base:v1"),
        &format!("{registry}/acme/derived:p1"),
    ]);
    ok(&["push", "--tls-verify=false", &format!("{registry}/acme/derived:p1")]);
    let id = ok(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("{registry}/acme/base:v1"),
    ]);
    ok(&["rmi", "-a", "-f"]);
    ok(&["pull", "--tls-verify=false", &format!("{registry}/acme/derived:p1")]);
    let again = ok(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("{registry}/acme/derived:p1"),
    ]);
    assert_eq!(id.trim(), again.trim(), "the same image came back");
    ok(&["logout", &registry]);
    let (pulled, _, err) = podman(&["pull", "--tls-verify=false", &format!("{registry}/acme/derived:p1")]);
    assert!(!pulled, "no credentials, no pull: {err}");
}
both_backends!(podman, podman_images);

/// A Docker engine of its own, stopped when dropped (also when the test panics).
struct Dockerd {
    child: Child,
    socket: String,
}

impl Dockerd {
    fn start(dir: &Path) -> Dockerd {
        let socket = path_str(&dir.join("docker.sock")).to_string();
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--userland-proxy=false",
                "--storage-driver=vfs",
                "--data-root",
                path_str(&dir.join("data")),
                "--exec-root",
                path_str(&dir.join("exec")),
                "--pidfile",
                path_str(&dir.join("docker.pid")),
                "-H",
                &format!("unix://{socket}"),
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        let engine = Dockerd { child, socket };
        for _ in 0..120 {
            if engine.docker(&["info"], &[]).0 {
                return engine;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let log = std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default();
        panic!("dockerd did not come up:\n{log}");
    }

    fn docker(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
        let host = format!("unix://{}", self.socket);
        let mut all = vec!["-H", host.as_str()];
        all.extend(args);
        run("docker", &all, env)
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        for _ in 0..40 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn docker_engine(stores: &Stores) {
    if !have("dockerd") || !have("docker") || !have("skopeo") {
        return;
    }
    let server = Server::start(stores);
    let key = server.key();
    let registry = host(&server);
    let work = stores.dir.path().join("docker");
    std::fs::create_dir_all(&work).unwrap();
    let layout = stores.dir.path().join("layout");
    make_image(
        &layout,
        "v1",
        &[
            "--layers",
            "30K,5K",
            "--docker-archive",
            path_str(&work.join("image.tar")),
            "--repo-tag",
            "test/app:v1",
        ],
    );
    make_image(
        &layout,
        "multi",
        &["--layers", "16K", "--platforms", "linux/amd64,linux/arm64"],
    );
    run_ok(
        "skopeo",
        &[
            "copy",
            "--all",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds(&key),
            &format!("oci:{}:multi", path_str(&layout)),
            &format!("docker://{registry}/acme/multi:1"),
        ],
        &[],
    );
    let engine = Dockerd::start(&work);
    let config = work.join("client-config");
    let env = [("DOCKER_CONFIG", path_str(&config))];
    let docker_ok = |args: &[&str]| {
        let (ok, out, err) = engine.docker(args, &env);
        assert!(ok, "docker {args:?}: {out}\n{err}");
        out
    };
    let login = |secret: &str| {
        let out = Command::new("sh")
            .args([
                "-c",
                &format!("printf %s \"$KEY\" | timeout {CLIENT_TIMEOUT} docker -H unix://{} login -u '$oauthtoken' --password-stdin {registry}", engine.socket),
            ])
            .env("KEY", secret)
            .env("DOCKER_CONFIG", path_str(&config))
            .output()
            .expect("docker login");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
    };

    let service = admin_ok(
        stores,
        &[
            "key",
            "service",
            "--org",
            "acme",
            "--name",
            "ci",
            "--scope",
            "DOWNLOAD_CONTAINER",
            "--scope",
            "UPLOAD_CONTAINER",
            "--entity-type",
            "ALL_CONTAINERS",
        ],
    );
    let legacy = admin_ok(stores, &["key", "legacy", "--user", "owner@acme.test"]);
    docker_ok(&["load", "-i", path_str(&work.join("image.tar"))]);
    for (kind, secret) in [("personal", &key), ("service", &service), ("legacy", &legacy)] {
        let (ok, err) = login(secret);
        assert!(ok, "docker login with a {kind} key: {err}");
        let name = format!("{registry}/acme/app:{kind}");
        docker_ok(&["tag", "test/app:v1", &name]);
        let pushed = docker_ok(&["push", &name]);
        assert!(pushed.contains("digest: sha256:"), "{pushed}");
        docker_ok(&["rmi", &name]);
        docker_ok(&["pull", &name]);
    }
    let (ok, err) = login("nvapi-hp-not-a-key");
    assert!(!ok, "a wrong key must not log in");
    assert!(
        err.to_lowercase().contains("unauthorized") || err.contains("401"),
        "{err}"
    );

    // A multi-arch tag: each platform resolves to its own image.
    login(&key);
    for arch in ["amd64", "arm64"] {
        let name = format!("{registry}/acme/multi:1");
        docker_ok(&["pull", "--platform", &format!("linux/{arch}"), &name]);
        let got = docker_ok(&["image", "inspect", "--format", "{{.Architecture}}", &name]);
        assert_eq!(got.trim(), arch);
        docker_ok(&["rmi", &name]);
    }
    // Docker's own view of what it pushed matches the registry's.
    let reg = Registry::new(&server, Some(key.clone()));
    assert_eq!(manifest_status(&reg, "acme/app", "legacy").await, 200);
    drop(engine);
}
both_backends!(docker, docker_engine);

async fn oras_artifacts(stores: &Stores) {
    let python = std::env::var("HANGAR_TEST_ORAS_PYTHON").ok().filter(|p| !p.is_empty());
    let Some(python) = python else {
        assert!(
            std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() != Ok("1"),
            "HANGAR_TEST_REQUIRE_ALL=1 but HANGAR_TEST_ORAS_PYTHON is not set (scripts/test-services)"
        );
        eprintln!("note: oras-py is not set up; skipping");
        return;
    };
    let server = Server::start(stores);
    let key = server.key();
    let work = stores.dir.path().join("oras");
    std::fs::create_dir_all(&work).unwrap();
    let model: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(work.join("model.bin"), &model).unwrap();
    std::fs::write(work.join("model.sig"), b"signature of model.bin").unwrap();
    let script = repo_root().join("scripts/clients/oras-artifacts");
    let out = run_ok(
        &python,
        &[
            path_str(&script),
            &host(&server),
            "acme/artifacts",
            &key,
            path_str(&work),
        ],
        // oras-py's login() records credentials in ~/.docker/config.json: keep them in the test.
        &[("HOME", path_str(&work))],
    );
    let report: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        std::fs::read(work.join("pulled/model.bin")).unwrap(),
        model,
        "byte-identical pull"
    );

    let reg = Registry::new(&server, Some(key));
    let model_digest = report["model"].as_str().unwrap();
    let referrers = |filter: &'static str| {
        let path = format!("/v2/acme/artifacts/referrers/{model_digest}{filter}");
        let reg = &reg;
        async move {
            let r = reg.send(Method::GET, &path, &[], vec![]).await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let all = referrers("").await;
    assert_eq!(all["manifests"].as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all["manifests"][0]["digest"], report["signature"]);
    assert_eq!(
        all["manifests"][0]["artifactType"],
        "application/vnd.acme.signature.v1+json"
    );
    let matching = referrers("?artifactType=application/vnd.acme.signature.v1%2Bjson").await;
    assert_eq!(matching["manifests"].as_array().unwrap().len(), 1, "{matching}");
    let other = referrers("?artifactType=application/vnd.example.sbom").await;
    assert_eq!(other["manifests"].as_array().unwrap().len(), 0, "{other}");
}
both_backends!(oras, oras_artifacts);
