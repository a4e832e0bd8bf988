//! NVIDIA's own `ngc` CLI (PyPI ngcsdk 4.37.0) against Hangar over TLS, with a legacy key, with
//! an `nvapi-` personal key and as a guest; and its resume of an upload whose server was killed.

mod common;

use common::files::{StoreView, make_big_file, sha256sum};
use common::ngc::{Ngc, bundle, column, ngc_paths};
use common::registry::Registry;
use common::{Api, Auth, ServeOptions, Server, Stores, admin_ok};
use std::time::{Duration, Instant};

fn exercise(ngc: &Ngc, team: &str) {
    let (code, out, err) = ngc.run(&["config", "set", "--org", "acme", "--format_type", "json"]);
    assert_eq!(code, 0, "config set: {out} {err}");
    let current = ngc.json(&["config", "current"]);
    let org_row = current
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == "org")
        .cloned()
        .expect("org row");
    assert!(
        org_row["value"].as_str().unwrap_or_default().contains("acme"),
        "{current}"
    );

    let orgs = ngc.json(&["org", "list"]);
    assert_eq!(column(&orgs, "name"), ["acme"], "{orgs}");
    let created = ngc.json(&["org", "add-team", team, "made by ngc"]);
    assert_eq!(created["name"], team, "{created}");
    let teams = ngc.json(&["team", "list"]);
    assert!(column(&teams, "name").contains(&team.to_string()), "{teams}");
    let users = ngc.json(&["org", "list-users"]);
    assert!(
        column(&users, "email").contains(&"owner@acme.test".to_string()),
        "{users}"
    );
    let (code, out, err) = ngc.run(&["user", "who"]);
    assert_eq!(code, 0, "user who: {err}");
    assert!(out.contains("owner@acme.test"), "user who: {out}");
    // A refusal comes back as the server's message, exit code 1.
    let (code, _, err) = ngc.run(&["org", "add-team", team, "again"]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
}

async fn ngc_against_tls_server(stores: &Stores) {
    let Some(paths) = ngc_paths() else {
        return;
    };
    let (server, ca) = Server::start_tls(stores);
    let bundle = bundle(stores.dir.path(), &ca.ca_pem);
    let legacy = admin_ok(stores, &["key", "legacy", "--user", "owner@acme.test"]);
    let ngc_at =
        |home: &str, key: &str| Ngc::new(&paths, &server.base, &bundle, stores.dir.path().join(home)).with_key(key);
    for (key, team) in [(legacy, "legacyteam"), (server.key(), "nvapiteam")] {
        exercise(&ngc_at(&format!("ngc-home-{team}"), &key), team);
    }
    let registry = Registry::with_ca(&server, Some(server.key()), Some(&ca.ca_pem));
    let ngc = ngc_at("ngc-home-nvapiteam", &server.key());
    images(&ngc, &registry).await;
    models_and_resources(&ngc);
}

/// `ngc registry model upload-version` (then with `--base-version`) and `download-version`:
/// byte-identical files, an empty one included.
fn transfers(ngc: &Ngc) {
    let src = ngc.home.join("upload-src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(src.join("weights.bin"), &big).unwrap();
    std::fs::write(src.join("sub/config.json"), br#"{"layers": 12}"#).unwrap();
    std::fs::write(src.join("empty.txt"), b"").unwrap();
    let src_arg = src.to_str().unwrap();
    let (code, out, err) = ngc.run(&[
        "registry",
        "model",
        "upload-version",
        "acme/det:1.0",
        "--source",
        src_arg,
        "--desc",
        "first",
        "--gpu-model",
        "A100",
    ]);
    assert_eq!(code, 0, "upload-version: {out}{err}");
    let info = ngc.json(&["registry", "model", "info", "acme/det:1.0"]);
    assert_eq!(info["status"], "UPLOAD_COMPLETE", "{info}");
    assert_eq!(info["totalFileCount"], 3, "{info}");
    assert_eq!(info["totalSizeInBytes"], big.len() + 14, "{info}");

    let dest = ngc.home.join("download");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = ngc.run(&[
        "registry",
        "model",
        "download-version",
        "acme/det:1.0",
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "download-version: {out}{err}");
    let got = dest.join("det_v1.0");
    assert!(
        std::fs::read(got.join("weights.bin")).unwrap() == big,
        "weights.bin differs"
    );
    assert_eq!(
        std::fs::read(got.join("sub/config.json")).unwrap(),
        br#"{"layers": 12}"#
    );
    assert_eq!(std::fs::read(got.join("empty.txt")).unwrap(), b"");

    // A new version from the first one: only the new file is sent.
    let more = ngc.home.join("upload-more");
    std::fs::create_dir_all(&more).unwrap();
    std::fs::write(more.join("notes.md"), b"# v2\n").unwrap();
    let (code, out, err) = ngc.run(&[
        "registry",
        "model",
        "upload-version",
        "acme/det:2.0",
        "--source",
        more.to_str().unwrap(),
        "--base-version",
        "1.0",
    ]);
    assert_eq!(code, 0, "upload-version --base-version: {out}{err}");
    let info = ngc.json(&["registry", "model", "info", "acme/det:2.0", "--files"]);
    let text = info.to_string();
    for path in ["weights.bin", "sub/config.json", "empty.txt", "notes.md"] {
        assert!(text.contains(path), "{path} in {info}");
    }
}

/// The rest of `ngc`'s model and resource verbs: a resource's upload, listing, update, download
/// and removal; a model version's update and removal.
fn resource_and_version_commands(ngc: &Ngc) {
    let src = ngc.home.join("upload-src");
    let (code, out, err) = ngc.run(&[
        "registry",
        "resource",
        "upload-version",
        "acme/recipe:1",
        "--source",
        src.to_str().unwrap(),
        "--desc",
        "recipe files",
    ]);
    assert_eq!(code, 0, "resource upload-version: {out}{err}");
    let found = ngc.json(&["registry", "resource", "list", "acme/r*"]);
    assert_eq!(column(&found, "name"), ["recipe"], "{found}");
    let versions = ngc.json(&["registry", "resource", "list", "acme/recipe:*"]);
    assert_eq!(column(&versions, "versionId"), ["1"], "{versions}");
    ngc.json(&[
        "registry",
        "resource",
        "update",
        "acme/recipe",
        "--short-desc",
        "renamed recipe",
    ]);
    let info = ngc.json(&["registry", "resource", "info", "acme/recipe"]);
    assert_eq!(info["shortDescription"], "renamed recipe", "{info}");
    let dest = ngc.home.join("recipe-download");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, out, err) = ngc.run(&[
        "registry",
        "resource",
        "download-version",
        "acme/recipe:1",
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "resource download-version: {out}{err}");
    assert_eq!(
        std::fs::read(dest.join("recipe_v1/weights.bin")).unwrap(),
        std::fs::read(src.join("weights.bin")).unwrap()
    );
    let (code, out, err) = ngc.run(&["registry", "resource", "remove", "acme/recipe", "-y"]);
    assert_eq!(code, 0, "resource remove: {out}{err}");

    ngc.json(&["registry", "model", "update", "acme/det:1.0", "--gpu-model", "H100"]);
    let info = ngc.json(&["registry", "model", "info", "acme/det:1.0"]);
    assert_eq!(info["gpuModel"], "H100", "{info}");
    let (code, out, err) = ngc.run(&["registry", "model", "remove", "acme/det:2.0", "-y"]);
    assert_eq!(code, 0, "version remove: {out}{err}");
    let versions = ngc.json(&["registry", "model", "list", "acme/det:*"]);
    assert_eq!(column(&versions, "versionId"), ["1.0"], "{versions}");
}

/// `ngc registry model|resource create|info|update|list|remove`, and file transfers.
fn models_and_resources(ngc: &Ngc) {
    let made = ngc.json(&[
        "registry",
        "model",
        "create",
        "acme/det",
        "--application",
        "OBJECT_DETECTION",
        "--framework",
        "PyTorch",
        "--format",
        "onnx",
        "--precision",
        "FP16",
        "--short-desc",
        "a detector",
        "--display-name",
        "Detector",
        "--label",
        "vision",
        "--public-dataset-name",
        "coco",
        "--public-dataset-link",
        "https://cocodataset.org",
        "--built-by",
        "me",
        "--publisher",
        "Acme",
    ]);
    assert_eq!(made["name"], "det", "{made}");
    let (code, _, err) = ngc.run(&[
        "registry",
        "model",
        "create",
        "acme/det",
        "--application",
        "x",
        "--framework",
        "x",
        "--format",
        "x",
        "--precision",
        "x",
        "--short-desc",
        "x",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    let info = ngc.json(&["registry", "model", "info", "acme/det"]);
    assert_eq!(info["displayName"], "Detector", "{info}");
    assert_eq!(info["publicDatasetUsed"]["name"], "coco", "{info}");
    ngc.json(&[
        "registry",
        "model",
        "update",
        "acme/det",
        "--display-name",
        "Renamed",
        "--add-label",
        "edge",
    ]);
    let info = ngc.json(&["registry", "model", "info", "acme/det"]);
    assert_eq!(info["displayName"], "Renamed", "{info}");
    let mut labels: Vec<&str> = info["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    labels.sort();
    assert_eq!(labels, ["edge", "vision"], "{info}");
    let found = ngc.json(&["registry", "model", "list", "acme/d*"]);
    assert_eq!(column(&found, "name"), ["det"], "{found}");
    let versions = ngc.json(&["registry", "model", "list", "acme/det:*"]);
    assert_eq!(versions, serde_json::json!([]), "{versions}");

    let made = ngc.json(&[
        "registry",
        "resource",
        "create",
        "acme/recipe",
        "--application",
        "OTHER",
        "--framework",
        "PyTorch",
        "--format",
        "zip",
        "--precision",
        "FP32",
        "--short-desc",
        "a recipe",
    ]);
    assert_eq!(made["name"], "recipe", "{made}");
    let info = ngc.json(&["registry", "resource", "info", "acme/recipe"]);
    assert_eq!(info["trainingFramework"], "PyTorch", "{info}");

    transfers(ngc);
    resource_and_version_commands(ngc);

    let (code, out, err) = ngc.run(&["registry", "model", "remove", "acme/det", "-y"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, _) = ngc.run(&["registry", "model", "info", "acme/det"]);
    assert_ne!(code, 0, "removed");
}

/// `ngc registry image list|info|update|remove` against the image API.
async fn images(ngc: &Ngc, registry: &Registry) {
    registry.push_image("acme/web", "v1").await;
    registry.push_image("acme/web", "v2").await;
    registry.push_image("acme/db", "1").await;

    let found = ngc.json(&["registry", "image", "list", "acme/w*"]);
    assert_eq!(column(&found, "name"), ["web"], "{found}");
    assert_eq!(found[0]["latestTag"], "v2", "{found}");
    let all = ngc.json(&["registry", "image", "list"]);
    let mut all_names = column(&all, "name");
    all_names.sort();
    assert_eq!(all_names, ["db", "web"], "{all}");
    let tags = ngc.json(&["registry", "image", "list", "acme/web"]);
    let mut tag_names = column(&tags, "tag");
    tag_names.sort();
    assert_eq!(tag_names, ["v1", "v2"], "{tags}");

    let (code, out, err) = ngc.run(&[
        "registry",
        "image",
        "update",
        "acme/web",
        "--desc",
        "A web server",
        "--label",
        "http",
    ]);
    assert_eq!(code, 0, "update: {out} {err}");
    let info = ngc.json(&["registry", "image", "info", "acme/web"]);
    assert_eq!(
        (info["shortDescription"].as_str(), &info["labels"]),
        (Some("A web server"), &serde_json::json!(["http"])),
        "{info}"
    );
    let image = ngc.json(&["registry", "image", "info", "acme/web:v1"]);
    assert_eq!(image["tag"], "v1", "{image}");
    assert!(image.to_string().contains("amd64"), "{image}");

    let (code, out, err) = ngc.run(&["registry", "image", "remove", "acme/web:v1", "-y"]);
    assert_eq!(code, 0, "remove tag: {out} {err}");
    let tags = ngc.json(&["registry", "image", "list", "acme/web"]);
    assert_eq!(column(&tags, "tag"), ["v2"], "{tags}");
    let (code, out, err) = ngc.run(&["registry", "image", "remove", "acme/db", "-y"]);
    assert_eq!(code, 0, "remove repository: {out} {err}");
    let (code, _, _) = ngc.run(&["registry", "image", "info", "acme/db"]);
    assert_eq!(code, 1, "removed");
}
both_backends!(ngc_cli, ngc_against_tls_server);

/// Waits until the server holds at least one part of an upload.
async fn wait_for_a_part(view: &StoreView) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while view.snapshot().await.parts == 0 {
        assert!(Instant::now() < deadline, "no part arrived within 300 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `ngc registry model upload-version` of a 3-part file (1,050,000,000 bytes) whose server is
/// killed once a part has arrived: the command fails; rerun against a new server on the same
/// stores, it sends only the parts its resume cache holds pending (counted in the server's
/// log) and succeeds. Then
/// `download-version` with the key, and as a guest (no key, `X-NGC-Guest-Token`) once the
/// model is public, give the same bytes.
async fn ngc_resume(stores: &Stores) {
    let _turn = common::files::big_data_turn().await;
    let Some(paths) = ngc_paths() else {
        return;
    };
    const SIZE: u64 = 1_050_000_000;
    let dir = stores.dir.path();
    let ca = common::tls::make(dir);
    let options = ServeOptions {
        tls: Some((ca.cert.clone(), ca.key.clone())),
        ..Default::default()
    };
    let server = Server::start_with(stores, &options);
    let key = server.key();
    let bundle = bundle(dir, &ca.ca_pem);
    // A guest unless given a key.
    let ngc_at = |server: &Server, home: &str| Ngc::new(&paths, &server.base, &bundle, dir.join(home));
    let ngc = ngc_at(&server, "home").with_key(&key);
    ngc.json(&[
        "registry",
        "model",
        "create",
        "acme/big",
        "--application",
        "OTHER",
        "--framework",
        "Other",
        "--format",
        "bin",
        "--precision",
        "FP32",
        "--short-desc",
        "large",
    ]);
    let src = dir.join("big-src");
    std::fs::create_dir_all(&src).unwrap();
    let hex = make_big_file(&src.join("weights.bin"), SIZE, 9);
    let source = src.to_str().unwrap();
    let upload = [
        "registry",
        "model",
        "upload-version",
        "acme/big:1.0",
        "--source",
        source,
    ];
    let view = StoreView::open(stores).await;
    let first_log = std::fs::File::create(dir.join("first-upload.log")).unwrap();
    let mut first = ngc
        .command(&upload)
        .stdout(first_log.try_clone().unwrap())
        .stderr(first_log)
        .spawn()
        .expect("run the ngc CLI");
    wait_for_a_part(&view).await;
    // ngc marks a part done only once it reads the part's response; a moment lets that
    // response reach it, so the run below has something to resume.
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.stop();
    let status = first.wait().unwrap();
    assert!(
        !status.success(),
        "the upload should fail with its server gone: {}",
        std::fs::read_to_string(dir.join("first-upload.log")).unwrap()
    );
    let before = view.snapshot().await;
    assert_eq!((before.uploads, before.files), (1, 0), "{before:?}");
    let pending = ngc.pending_upload_parts(&src.join("weights.bin"));
    assert!(
        !pending.is_empty() && pending.len() < 3,
        "ngc kept 1 or 2 of 3 parts pending: {pending:?}"
    );
    assert!(
        3 - pending.len() <= before.parts as usize,
        "every part ngc saw acknowledged is on the server: {pending:?} {before:?}"
    );
    let upload_id: String = sqlx::query_scalar("SELECT id FROM file_uploads")
        .fetch_one(view.meta.pool())
        .await
        .unwrap();

    let server = Server::start_with(stores, &options);
    let ngc = ngc_at(&server, "home").with_key(&key);
    let info = ngc.json(&["registry", "model", "info", "acme/big:1.0"]);
    assert_eq!(info["status"], "UPLOAD_PENDING", "{info}");
    let (code, out, err) = ngc.run(&upload);
    assert_eq!(code, 0, "the rerun: {out}{err}");
    assert_eq!(
        server.logged(&["file part received", &upload_id]),
        pending.len(),
        "only the parts ngc holds pending ({pending:?}) are sent again; the server had {} of 3",
        before.parts
    );
    let after = view.snapshot().await;
    assert_eq!((after.uploads, after.parts, after.files), (0, 0, 1), "{after:?}");
    std::fs::remove_file(src.join("weights.bin")).unwrap();

    let got = dir.join("got");
    std::fs::create_dir_all(&got).unwrap();
    let download = ["registry", "model", "download-version", "acme/big:1.0", "--dest"];
    let clock = std::time::Instant::now();
    let (code, out, err) = ngc.run(&[&download[..], &[got.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "download-version: {out}{err}");
    // What a download URL's lifetime (--download-url-ttl) must cover, with a wide margin.
    eprintln!("download-version of {SIZE} bytes took {:?}", clock.elapsed());
    let fetched = got.join("big_v1.0/weights.bin");
    assert_eq!(sha256sum(&fetched), hex, "download-version");
    std::fs::remove_file(&fetched).unwrap();

    let guest = ngc_at(&server, "guest-home");
    let (code, _, _) = guest.run(&[&download[..], &[got.to_str().unwrap()]].concat());
    assert_ne!(code, 0, "a guest may not download a private model");
    let api = Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    let (s, body) = api
        .patch(
            "/v2/org/acme/models/big",
            &Auth::Bearer(key.clone()),
            Some(serde_json::json!({"isPublic": true})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (code, out, err) = guest.run(&[&download[..], &[got.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "guest download-version: {out}{err}");
    assert_eq!(sha256sum(&fetched), hex, "guest download-version");
    std::fs::remove_file(&fetched).unwrap();
    view.remove_blobs().await;
}
both_backends!(ngc_upload_resumed, ngc_resume);
