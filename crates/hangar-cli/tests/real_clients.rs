//! Real registry clients against `hangar serve` on both backends: skopeo (multi-layer images,
//! Docker and OCI media types, a two-platform index, registry-to-registry copies, inspect,
//! list-tags, delete, file contents unpacked by umoci), podman with vfs storage, a Docker engine
//! started by hand (load, push, pull with personal, service and legacy keys; multi-arch tags;
//! `docker manifest`), oras-py (artifacts with `artifactType` and `subject`, the referrers API),
//! and curl driving a chunked upload that is cut off and resumed.
//!
//! The clients come from `.ci/run` and `scripts/test-services install` (Debian packages, and
//! oras-py's venv in `HANGAR_TEST_ORAS_PYTHON`). Without them a test says so and passes, unless
//! `HANGAR_TEST_REQUIRE_ALL=1`: then it fails. Every client runs with a scratch HOME, Docker
//! config and containers auth file, so no login leaks in or out.

mod common;

use common::clients::{Clients, Dockerd, creds, docker_available, have, host, is_root, require_all};

use common::registry::{OCI_INDEX, OCI_MANIFEST, Registry, make_image, sha};
use common::{Server, Stores, admin_ok, member, path_str, repo_root};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const ACCEPT_ALL: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// The `digest`s of a make-image platform's layers (compressed) or `diff_id`s (uncompressed).
fn layer_field(image: &Value, field: &str) -> Vec<String> {
    image["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l[field].as_str().expect("layer field").to_string())
        .collect()
}

/// GET of a manifest: (status, Docker-Content-Digest, media type, body).
async fn get_manifest(reg: &Registry, name: &str, reference: &str) -> (u16, String, String, Value) {
    let r = reg
        .send(
            Method::GET,
            &format!("/v2/{name}/manifests/{reference}"),
            &[("accept", ACCEPT_ALL)],
            vec![],
        )
        .await;
    let status = r.status().as_u16();
    let header = |h: &str| {
        r.headers()
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (digest, media) = (header("docker-content-digest"), header("content-type"));
    let body = r.bytes().await.unwrap();
    if status == 200 {
        assert_eq!(sha(&body), digest, "the digest names the bytes served");
    }
    (
        status,
        digest,
        media,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// The digests of an OCI layout's blobs, each checked against its content.
fn layout_blobs(layout: &Path) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for entry in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.starts_with('.') {
            continue;
        }
        let digest = format!("sha256:{name}");
        assert_eq!(sha(&std::fs::read(&path).unwrap()), digest, "blob {name} is intact");
        all.insert(digest);
    }
    all
}

/// Unpacks `layout:tag` with umoci into `dest`; returns the root filesystem's files and bytes.
fn unpack(clients: &Clients, layout: &Path, tag: &str, dest: &Path) -> Vec<(String, Vec<u8>)> {
    let image = format!("{}:{tag}", path_str(layout));
    let mut args = vec!["raw", "unpack"];
    if !is_root() {
        args.push("--rootless");
    }
    args.extend(["--image", &image, path_str(dest)]);
    clients.ok("umoci", &args);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dest)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

async fn skopeo_images(stores: &Stores) {
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let server = Server::start(stores);
    let key = server.key();
    let clients = Clients::new(stores);
    let skopeo = |args: &[&str]| clients.ok("skopeo", args);
    let (registry, owner) = (host(&server), creds(&key));
    let layout = stores.dir.path().join("layout");
    let image = make_image(&layout, "v1", &["--layers", "10K,300K,2M"]);
    let index = make_image(
        &layout,
        "multi",
        &["--layers", "64K,8K", "--platforms", "linux/amd64,linux/arm64"],
    );
    let src = |tag: &str| format!("oci:{}:{tag}", path_str(&layout));
    let dst = |reference: &str| format!("docker://{registry}/acme/tools/{reference}");
    let push = ["copy", "--dest-tls-verify=false", "--dest-creds", &owner];
    let pull = ["copy", "--src-tls-verify=false", "--src-creds", &owner];
    let read = ["--tls-verify=false", "--creds", &owner];
    let reg = Registry::new(&server, Some(key.clone()));

    skopeo(&[&push[..], &[&src("v1"), &dst("web:v1")]].concat());
    skopeo(&[&push[..], &["--all", &src("multi"), &dst("web:multi")]].concat());

    // The registry hands back the very manifests pushed.
    let raw = skopeo(&[&["inspect", "--raw"][..], &read, &[&dst("web:v1")]].concat());
    assert_eq!(sha(raw.as_bytes()), image["digest"].as_str().unwrap(), "{raw}");
    let info: Value = serde_json::from_str(&skopeo(&[&["inspect"][..], &read, &[&dst("web:v1")]].concat())).unwrap();
    assert_eq!(info["Digest"], image["digest"]);
    assert_eq!(info["Layers"], json!(layer_field(&image["images"][0], "digest")));
    let raw = skopeo(&[&["inspect", "--raw"][..], &read, &[&dst("web:multi")]].concat());
    let doc: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(doc["mediaType"], OCI_INDEX);
    assert_eq!(sha(raw.as_bytes()), index["digest"].as_str().unwrap());
    assert_eq!(doc["manifests"].as_array().unwrap().len(), 2);
    let arm: Value = serde_json::from_str(&skopeo(
        &[
            &["inspect", "--override-arch", "arm64"][..],
            &read,
            &[&dst("web:multi")],
        ]
        .concat(),
    ))
    .unwrap();
    assert_eq!(arm["Architecture"], "arm64");
    assert_eq!(arm["Digest"], index["digest"], "skopeo names the index it resolved");
    assert_eq!(arm["Layers"], json!(layer_field(&index["images"][1], "digest")));

    // Docker media types: skopeo converts the manifests, the layers stay the same blobs.
    skopeo(&[&push[..], &["--format", "v2s2", &src("v1"), &dst("web:v1-docker")]].concat());
    skopeo(
        &[
            &push[..],
            &["--all", "--format", "v2s2", &src("multi"), &dst("web:multi-docker")],
        ]
        .concat(),
    );
    let (status, _, media, manifest) = get_manifest(&reg, "acme/tools/web", "v1-docker").await;
    assert_eq!((status, media.as_str()), (200, DOCKER_MANIFEST));
    let layers: Vec<&Value> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["digest"])
        .collect();
    assert_eq!(json!(layers), json!(layer_field(&image["images"][0], "digest")));
    let (status, _, media, list) = get_manifest(&reg, "acme/tools/web", "multi-docker").await;
    assert_eq!((status, media.as_str()), (200, DOCKER_LIST));
    let arches: Vec<&Value> = list["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["platform"]["architecture"])
        .collect();
    assert_eq!(json!(arches), json!(["amd64", "arm64"]));

    // Registry to registry (a cross-repository copy within Hangar): the same digests arrive.
    let mirror = format!("docker://{registry}/acme/mirror:v1");
    skopeo(&[
        "copy",
        "--all",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--src-creds",
        &owner,
        "--dest-creds",
        &owner,
        &dst("web:multi"),
        &mirror,
    ]);
    let (status, digest, _, _) = get_manifest(&reg, "acme/mirror", "v1").await;
    assert_eq!((status, digest.as_str()), (200, index["digest"].as_str().unwrap()));
    for platform in index["images"].as_array().unwrap() {
        let (status, ..) = get_manifest(&reg, "acme/mirror", platform["digest"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{platform}");
    }

    // Pull both back into a new layout: the same manifests and blobs, every one intact, and
    // the same files once unpacked.
    let copy = stores.dir.path().join("copy");
    for tag in ["v1", "multi"] {
        let target = format!("oci:{}:{tag}", path_str(&copy));
        skopeo(&[&pull[..], &["--all", &dst(&format!("web:{tag}")), &target]].concat());
    }
    let copied: Value = serde_json::from_str(&std::fs::read_to_string(copy.join("index.json")).unwrap()).unwrap();
    let tops: BTreeSet<&str> = copied["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    let want: BTreeSet<&str> = [image["digest"].as_str().unwrap(), index["digest"].as_str().unwrap()].into();
    assert_eq!(tops, want, "{copied}");
    assert_eq!(layout_blobs(&copy), layout_blobs(&layout));
    let original = unpack(&clients, &layout, "v1", &stores.dir.path().join("rootfs-original"));
    let pulled = unpack(&clients, &copy, "v1", &stores.dir.path().join("rootfs-pulled"));
    let sizes: Vec<(&str, usize)> = pulled.iter().map(|(n, b)| (n.as_str(), b.len())).collect();
    assert_eq!(
        sizes,
        [
            ("layer-0.bin", 10 << 10),
            ("layer-1.bin", 300 << 10),
            ("layer-2.bin", 2 << 20)
        ]
    );
    assert!(original == pulled, "unpacked files differ");

    // Tags, then delete by tag (skopeo deletes the manifest its tag names): the index is gone,
    // the other tags stay.
    let tags = |reference: &str| -> Value {
        serde_json::from_str(&skopeo(&[&["list-tags"][..], &read, &[reference]].concat())).unwrap()
    };
    assert_eq!(
        tags(&dst("web"))["Tags"],
        json!(["multi", "multi-docker", "v1", "v1-docker"])
    );
    skopeo(&[&["delete"][..], &read, &[&dst("web:multi")]].concat());
    for reference in ["multi", index["digest"].as_str().unwrap()] {
        assert_eq!(get_manifest(&reg, "acme/tools/web", reference).await.0, 404);
    }
    assert_eq!(get_manifest(&reg, "acme/tools/web", "v1").await.0, 200);
    assert_eq!(tags(&dst("web"))["Tags"], json!(["multi-docker", "v1", "v1-docker"]));
    let (gone, _, err) = clients.run(
        "skopeo",
        &[&["inspect", "--raw"][..], &read, &[&dst("web:multi")]].concat(),
    );
    assert!(!gone && err.contains("manifest unknown"), "{err}");

    // A reader may pull but not push.
    let reader = member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]);
    let reader_creds = creds(&reader);
    let (ok, _, err) = clients.run(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &reader_creds,
            &src("v1"),
            &dst("web:nope"),
        ],
    );
    assert!(
        !ok && (err.contains("denied") || err.contains("403") || err.contains("unauthorized")),
        "{err}"
    );
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &reader_creds,
        &dst("web:v1"),
    ]);
    assert_eq!(sha(raw.as_bytes()), image["digest"].as_str().unwrap());
}
both_backends!(skopeo, skopeo_images);

async fn podman_images(stores: &Stores) {
    if !have("podman") || !have("skopeo") {
        return;
    }
    let server = Server::start(stores);
    let key = server.key();
    let registry = host(&server);
    let clients = Clients::new(stores);
    let layout = stores.dir.path().join("layout");
    let image = make_image(&layout, "v1", &["--layers", "20K,40K"]);
    let index = make_image(
        &layout,
        "multi",
        &["--layers", "16K", "--platforms", "linux/amd64,linux/arm64"],
    );
    for (tag, all) in [("v1", false), ("multi", true)] {
        let (src, dst) = (
            format!("oci:{}:{tag}", path_str(&layout)),
            format!("docker://{registry}/acme/base:{tag}"),
        );
        let mut args = vec!["copy", "--dest-tls-verify=false", "--dest-creds"];
        let c = creds(&key);
        args.push(&c);
        if all {
            args.push("--all");
        }
        args.extend([src.as_str(), dst.as_str()]);
        clients.ok("skopeo", &args);
    }
    let podman = |args: &[&str]| clients.podman(args);
    let ok = |args: &[&str]| {
        let (ok, out, err) = podman(args);
        assert!(ok, "podman {args:?}: {out}\n{err}");
        out
    };
    let inspect = |name: &str| -> Value {
        let out: Value = serde_json::from_str(&ok(&["image", "inspect", name])).unwrap();
        out[0].clone()
    };
    let reg = Registry::new(&server, Some(key.clone()));
    let base = format!("{registry}/acme/base:v1");
    let derived = format!("{registry}/acme/derived:p1");

    ok(&[
        "login",
        "--tls-verify=false",
        "-u",
        "$oauthtoken",
        "-p",
        &key,
        &registry,
    ]);
    ok(&["pull", "--tls-verify=false", &base]);
    let pulled = inspect(&base);
    assert_eq!(pulled["Digest"], image["digest"]);
    assert_eq!(
        pulled["RootFS"]["Layers"],
        json!(layer_field(&image["images"][0], "diff_id"))
    );
    ok(&["tag", &base, &derived]);
    let digest_file = clients.dir.join("podman-digest");
    ok(&[
        "push",
        "--tls-verify=false",
        "--digestfile",
        path_str(&digest_file),
        &derived,
    ]);
    let pushed = std::fs::read_to_string(&digest_file).unwrap();
    let (status, digest, _, _) = get_manifest(&reg, "acme/derived", "p1").await;
    assert_eq!((status, digest.as_str()), (200, pushed.trim()));

    ok(&["rmi", "-a", "-f"]);
    ok(&["pull", "--tls-verify=false", &derived]);
    let again = inspect(&derived);
    assert_eq!(again["Id"], pulled["Id"], "the same image came back");
    assert_eq!(again["RootFS"]["Layers"], pulled["RootFS"]["Layers"]);

    // One platform of a multi-arch tag.
    let multi = format!("{registry}/acme/base:multi");
    ok(&["pull", "--tls-verify=false", "--arch", "arm64", &multi]);
    let arm = inspect(&multi);
    assert_eq!(arm["Architecture"], "arm64");
    assert_eq!(
        arm["RootFS"]["Layers"],
        json!(layer_field(&index["images"][1], "diff_id"))
    );

    ok(&["logout", &registry]);
    let (pulled, _, err) = podman(&["pull", "--tls-verify=false", &derived]);
    assert!(
        !pulled && err.contains("unauthorized"),
        "no credentials, no pull: {err}"
    );
}
both_backends!(podman, podman_images);

async fn docker_engine(stores: &Stores) {
    if !docker_available() {
        return;
    }
    let server = Server::start(stores);
    let key = server.key();
    let registry = host(&server);
    let clients = Clients::new(stores);
    let work = stores.dir.path().join("docker");
    std::fs::create_dir_all(&work).unwrap();
    let layout = stores.dir.path().join("layout");
    let archive = work.join("image.tar");
    let image = make_image(
        &layout,
        "v1",
        &[
            "--layers",
            "30K,5K",
            "--docker-archive",
            path_str(&archive),
            "--repo-tag",
            "test/app:v1",
        ],
    );
    let diff_ids = json!(layer_field(&image["images"][0], "diff_id"));
    let index = make_image(
        &layout,
        "multi",
        &["--layers", "16K", "--platforms", "linux/amd64,linux/arm64"],
    );
    // The index twice: as OCI, and converted to a Docker manifest list.
    for (tag, format) in [("oci", "oci"), ("list", "v2s2")] {
        clients.ok(
            "skopeo",
            &[
                "copy",
                "--all",
                "--format",
                format,
                "--dest-tls-verify=false",
                "--dest-creds",
                &creds(&key),
                &format!("oci:{}:multi", path_str(&layout)),
                &format!("docker://{registry}/acme/multi:{tag}"),
            ],
        );
    }
    let engine = Dockerd::start(&work, &clients);
    let docker = |args: &[&str]| {
        let (ok, out, err) = engine.docker(&clients, args, None);
        assert!(ok, "docker {args:?}: {out}\n{err}");
        out
    };
    let login = |secret: &str| {
        let (ok, _, err) = engine.docker(
            &clients,
            &["login", "-u", "$oauthtoken", "--password-stdin", &registry],
            Some(secret),
        );
        (ok, err)
    };
    let inspect = |name: &str| -> Value {
        let out: Value = serde_json::from_str(&docker(&["image", "inspect", name])).unwrap();
        out[0].clone()
    };
    let reg = Registry::new(&server, Some(key.clone()));

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
    let loaded = docker(&["load", "-i", path_str(&archive)]);
    assert!(loaded.contains("test/app:v1"), "{loaded}");
    assert_eq!(inspect("test/app:v1")["RootFS"]["Layers"], diff_ids);
    let mut local = "test/app:v1".to_string();
    // Each kind of key logs in, pushes to a repository of its own (the second and third find
    // the layers elsewhere in Hangar and mount them), and pulls the image back into an engine
    // that no longer has it.
    for (kind, secret) in [("personal", &key), ("service", &service), ("legacy", &legacy)] {
        let (ok, err) = login(secret);
        assert!(ok, "docker login with a {kind} key: {err}");
        let repo = format!("acme/app-{kind}");
        let name = format!("{registry}/{repo}:v1");
        docker(&["tag", &local, &name]);
        let pushed = docker(&["push", &name]);
        let digest = pushed
            .split("digest: ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no digest in: {pushed}"))
            .to_string();
        let (status, served, media, _) = get_manifest(&reg, &repo, "v1").await;
        assert_eq!(
            (status, served.as_str(), media.as_str()),
            (200, digest.as_str(), DOCKER_MANIFEST)
        );
        let id = inspect(&name)["Id"].as_str().unwrap().to_string();
        docker(&["rmi", "-f", &id]);
        let (present, _, _) = engine.docker(&clients, &["image", "inspect", &id], None);
        assert!(!present, "the image is gone before the pull");
        docker(&["pull", &name]);
        let pulled = inspect(&name);
        assert_eq!(pulled["Id"], id, "the same image came back");
        assert_eq!(pulled["RootFS"]["Layers"], diff_ids);
        assert_eq!(pulled["RepoDigests"], json!([format!("{registry}/{repo}@{digest}")]));
        local = name;
    }
    let (ok, err) = login("nvapi-hp-not-a-key");
    assert!(!ok, "a wrong key must not log in");
    assert!(
        err.to_lowercase().contains("unauthorized") || err.contains("401"),
        "{err}"
    );

    // Access levels (Catalog guide §4): with no login, the engine pulls a guest-access repository
    // but not an authenticated-access one; a key of any other org pulls that.
    let api = common::Api::new(&server.base, None);
    let offer = |level: &'static str| {
        let api = &api;
        let key = key.clone();
        async move {
            let (status, body) = api
                .patch(
                    "/v2/org/acme/repos/app-personal",
                    &common::Auth::Bearer(key),
                    Some(json!({"accessType": level})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let shared = format!("{registry}/acme/app-personal:v1");
    let fresh_pull = || {
        let (_, _, _) = engine.docker(&clients, &["rmi", "-f", &shared], None);
        engine.docker(&clients, &["pull", &shared], None)
    };
    docker(&["logout", &registry]);
    let (ok, _, err) = fresh_pull();
    assert!(!ok, "a guest may not pull a private repository");
    assert!(err.contains("denied") || err.contains("unauthorized"), "{err}");
    offer("GUEST").await;
    let (ok, out, err) = fresh_pull();
    assert!(ok, "a guest pulls a guest-access repository: {out}{err}");
    offer("AUTHENTICATED").await;
    let (ok, _, err) = fresh_pull();
    assert!(!ok, "a guest may not pull an authenticated-access repository");
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "{err}"
    );
    let outsider = common::outsider_key(stores, "beta");
    assert!(login(&outsider).0, "docker login with another org's key");
    let (ok, out, err) = fresh_pull();
    assert!(
        ok,
        "another org's user pulls an authenticated-access repository: {out}{err}"
    );
    offer("PRIVATE").await;
    let (ok, _, err) = fresh_pull();
    assert!(!ok, "nor a private one");
    assert!(err.contains("denied"), "{err}");

    // Multi-arch tags, OCI index and Docker list: each platform resolves to its own image.
    assert!(login(&key).0);
    for tag in ["oci", "list"] {
        let name = format!("{registry}/acme/multi:{tag}");
        for (i, arch) in ["amd64", "arm64"].into_iter().enumerate() {
            docker(&["pull", "--platform", &format!("linux/{arch}"), &name]);
            let got = inspect(&name);
            assert_eq!(got["Architecture"], arch, "{tag}");
            assert_eq!(
                got["RootFS"]["Layers"],
                json!(layer_field(&index["images"][i], "diff_id"))
            );
            docker(&["rmi", &name]);
        }
    }

    // `docker manifest` assembles a list from the platform images of `multi:list`.
    let (_, _, _, list) = get_manifest(&reg, "acme/multi", "list").await;
    let children: Vec<String> = list["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_string())
        .collect();
    let assembled = format!("{registry}/acme/multi:assembled");
    let mut args = vec![
        "manifest".to_string(),
        "create".into(),
        "--insecure".into(),
        assembled.clone(),
    ];
    args.extend(children.iter().map(|d| format!("{registry}/acme/multi@{d}")));
    docker(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let out = docker(&["manifest", "push", "--insecure", &assembled]);
    let (status, digest, media, made) = get_manifest(&reg, "acme/multi", "assembled").await;
    assert_eq!((status, media.as_str()), (200, DOCKER_LIST));
    assert!(
        out.contains(&digest),
        "docker reports the digest Hangar serves: {out} vs {digest}"
    );
    let listed: BTreeSet<&str> = made["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(listed, children.iter().map(String::as_str).collect());
    docker(&["pull", "--platform", "linux/arm64", &assembled]);
    assert_eq!(inspect(&assembled)["Architecture"], "arm64");
    drop(engine);
}
both_backends!(docker, docker_engine);

async fn oras_artifacts(stores: &Stores) {
    let python = std::env::var("HANGAR_TEST_ORAS_PYTHON").ok().filter(|p| !p.is_empty());
    let Some(python) = python else {
        assert!(
            !require_all(),
            "HANGAR_TEST_REQUIRE_ALL=1 but HANGAR_TEST_ORAS_PYTHON is not set (scripts/test-services)"
        );
        eprintln!("note: oras-py is not set up; skipping");
        return;
    };
    let server = Server::start(stores);
    let key = server.key();
    let clients = Clients::new(stores);
    let work = clients.dir.join("oras");
    std::fs::create_dir_all(&work).unwrap();
    let model: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(work.join("model.bin"), &model).unwrap();
    std::fs::write(work.join("model.sig"), b"signature of model.bin").unwrap();
    std::fs::write(work.join("sbom.json"), br#"{"spdxVersion":"SPDX-2.3","name":"model"}"#).unwrap();
    let script = repo_root().join("scripts/clients/oras-artifacts");
    let out = clients.ok(
        &python,
        &[
            path_str(&script),
            &host(&server),
            "acme/artifacts",
            &key,
            path_str(&work),
        ],
    );
    let report: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["pulled"], json!(["pulled-token/model.bin", "pulled/model.bin"]));
    for dir in ["pulled", "pulled-token"] {
        assert!(
            std::fs::read(work.join(dir).join("model.bin")).unwrap() == model,
            "{dir}: byte-identical pull"
        );
    }

    let reg = Registry::new(&server, Some(key));
    let model_digest = report["model"].as_str().unwrap();
    let (status, _, _, manifest) = get_manifest(&reg, "acme/artifacts", model_digest).await;
    assert_eq!(status, 200);
    assert_eq!(manifest["artifactType"], "application/vnd.acme.model.v1");
    assert_eq!(manifest["layers"][0]["size"], model.len());
    let referrers = |filter: &'static str| {
        let path = format!("/v2/acme/artifacts/referrers/{model_digest}{filter}");
        let reg = &reg;
        async move {
            let r = reg.send(Method::GET, &path, &[], vec![]).await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], OCI_INDEX);
            let filtered = r
                .headers()
                .get("oci-filters-applied")
                .map(|v| v.to_str().unwrap().to_string());
            (filtered, r.json::<Value>().await.unwrap())
        }
    };
    let described = |index: &Value| -> BTreeSet<(String, String)> {
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                assert_eq!(m["mediaType"], OCI_MANIFEST);
                (
                    m["digest"].as_str().unwrap().to_string(),
                    m["artifactType"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let signature = (
        report["signature"].as_str().unwrap().to_string(),
        "application/vnd.acme.signature.v1+json".to_string(),
    );
    let sbom = (
        report["sbom"].as_str().unwrap().to_string(),
        "application/vnd.acme.sbom.v1+json".to_string(),
    );
    let (filtered, all) = referrers("").await;
    assert_eq!(filtered, None);
    assert_eq!(described(&all), [signature.clone(), sbom.clone()].into(), "{all}");
    let (filtered, only) = referrers("?artifactType=application/vnd.acme.signature.v1%2Bjson").await;
    assert_eq!(filtered.as_deref(), Some("artifactType"));
    assert_eq!(described(&only), [signature].into(), "{only}");
    let (_, only) = referrers("?artifactType=application/vnd.acme.sbom.v1%2Bjson").await;
    assert_eq!(described(&only), [sbom].into(), "{only}");
    let (_, none) = referrers("?artifactType=application/vnd.example.other").await;
    assert_eq!(described(&none), BTreeSet::new(), "{none}");
}
both_backends!(oras, oras_artifacts);

/// One curl exchange: exit code, HTTP status (0 when none), headers (names lowercase), body.
struct Exchange {
    exit: i32,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Exchange {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

/// Runs curl with Basic auth against `base` + `path`; `args` go before the URL.
fn curl(clients: &Clients, auth: &str, base: &str, path: &str, args: &[&str]) -> Exchange {
    let (headers, body) = (clients.dir.join("curl-headers"), clients.dir.join("curl-body"));
    let _ = std::fs::remove_file(&headers);
    let _ = std::fs::remove_file(&body);
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{base}{path}")
    };
    let mut all = vec![
        "-sS",
        "-u",
        auth,
        "-H",
        "Expect:",
        "-D",
        path_str(&headers),
        "-o",
        path_str(&body),
        "-w",
        "%{http_code}",
    ];
    all.extend(args);
    all.push(&url);
    let out = Command::new("curl")
        .args(&all)
        .envs(clients.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    Exchange {
        exit: out.status.code().unwrap_or(-1),
        status: String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0),
        headers: std::fs::read_to_string(&headers)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect(),
        body: std::fs::read_to_string(&body).unwrap_or_default(),
    }
}

async fn curl_resumed_upload(stores: &Stores) {
    if !have("curl") {
        return;
    }
    let server = Server::start(stores);
    let auth = creds(&server.key());
    let clients = Clients::new(stores);
    let base = server.base.as_str();
    // 9 MiB in three chunks: 1 MiB, 6 MiB (more than an S3 multipart part), 2 MiB.
    const MIB: usize = 1 << 20;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let blob: Vec<u8> = (0..9 * MIB)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let digest = sha(&blob);
    let part = |name: &str, from: usize, to: usize| -> String {
        let path = clients.dir.join(name);
        std::fs::write(&path, &blob[from..to]).unwrap();
        path_str(&path).to_string()
    };
    let range = |from: usize, to: usize| format!("Content-Range: {from}-{}", to - 1);
    let upload = "/v2/acme/uploads/blobs/uploads/";

    let started = curl(&clients, &auth, base, upload, &["-X", "POST"]);
    assert_eq!(started.status, 202, "{}", started.body);
    assert!(!started.header("docker-upload-uuid").is_empty());
    let mut location = started.header("location").to_string();
    let first = part("first", 0, MIB);
    let r = curl(
        &clients,
        &auth,
        base,
        &location,
        &[
            "-X",
            "PATCH",
            "-H",
            "Content-Type: application/octet-stream",
            "-H",
            &range(0, MIB),
            "--data-binary",
            &format!("@{first}"),
        ],
    );
    assert_eq!((r.status, r.header("range")), (202, "0-1048575"), "{}", r.body);
    location = r.header("location").to_string();

    // The second chunk is cut off: curl sends it slowly and gives up after a second.
    let second = part("second", MIB, 7 * MIB);
    let cut = curl(
        &clients,
        &auth,
        base,
        &location,
        &[
            "-X",
            "PATCH",
            "-H",
            &range(MIB, 7 * MIB),
            "--limit-rate",
            "256K",
            "--max-time",
            "1",
            "--data-binary",
            &format!("@{second}"),
        ],
    );
    assert_eq!(
        (cut.exit, cut.status),
        (28, 0),
        "the chunk was interrupted: {}",
        cut.body
    );
    // Where the upload stands: the first chunk, and whatever whole bytes the server kept of the
    // second. Hangar may still be winding the cut request down, so ask until two answers agree.
    let mut offset = None;
    let mut last = String::new();
    for _ in 0..20 {
        let r = curl(&clients, &auth, base, &location, &[]);
        assert_eq!(r.status, 204, "{}", r.body);
        let now = r.header("range").to_string();
        if now == last {
            offset = Some(now);
            break;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(200));
    }
    let offset = offset.expect("the upload's Range settles");
    let end: usize = offset
        .strip_prefix("0-")
        .and_then(|e| e.parse().ok())
        .unwrap_or_else(|| panic!("Range {offset}"));
    let resume = end + 1;
    assert!((MIB..=7 * MIB).contains(&resume), "Range {offset}");
    eprintln!("the interrupted chunk left the upload at {resume} bytes");

    // Resume with the rest of the second chunk, streamed (no Content-Range, as Docker sends).
    if resume < 7 * MIB {
        let rest = part("rest", resume, 7 * MIB);
        let r = curl(
            &clients,
            &auth,
            base,
            &location,
            &["-X", "PATCH", "--data-binary", &format!("@{rest}")],
        );
        assert_eq!((r.status, r.header("range")), (202, "0-7340031"), "{}", r.body);
        location = r.header("location").to_string();
    }
    // Out of order: a gap and an overlap are refused, and change nothing.
    let third = part("third", 7 * MIB, 9 * MIB);
    for (from, to) in [(7 * MIB + 1, 9 * MIB + 1), (6 * MIB, 8 * MIB)] {
        let r = curl(
            &clients,
            &auth,
            base,
            &location,
            &[
                "-X",
                "PATCH",
                "-H",
                &range(from, to),
                "--data-binary",
                &format!("@{third}"),
            ],
        );
        assert_eq!(r.status, 416, "chunk {from}-{to}: {}", r.body);
    }
    let r = curl(&clients, &auth, base, &location, &[]);
    assert_eq!((r.status, r.header("range")), (204, "0-7340031"));
    // The last chunk travels with the closing PUT.
    let r = curl(
        &clients,
        &auth,
        base,
        &format!("{location}?digest={digest}"),
        &[
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
            "-H",
            &range(7 * MIB, 9 * MIB),
            "--data-binary",
            &format!("@{third}"),
        ],
    );
    assert_eq!(
        (r.status, r.header("docker-content-digest")),
        (201, digest.as_str()),
        "{}",
        r.body
    );
    let r = curl(&clients, &auth, base, &location, &[]);
    assert_eq!(r.status, 404, "the session is gone once the blob is whole");

    let reg = Registry::new(&server, Some(server.key()));
    let r = reg
        .send(Method::GET, &format!("/v2/acme/uploads/blobs/{digest}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 200);
    let got = r.bytes().await.unwrap();
    assert_eq!((got.len(), sha(&got)), (blob.len(), digest));
}
both_backends!(curl_upload, curl_resumed_upload);
