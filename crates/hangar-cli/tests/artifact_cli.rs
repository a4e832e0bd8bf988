//! `hangar registry model|resource …` against a real server on both backends, as a user runs
//! them: metadata, uploads (dedupe, base versions, resume after the server was killed),
//! byte-identical downloads, listing with wildcards, updates, removal and who may do what.

mod common;

use common::cli::Cli;
use common::files::{StoreView, make_big_file, sha256sum};
use common::{Server, Stores, admin_ok, member};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// `n` bytes that differ from run to run of the pattern (`seed`).
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// The rows of a csv listing, as cells.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn paths(info: &Value) -> Vec<&str> {
    info["file_list"]
        .as_array()
        .unwrap_or_else(|| panic!("no file list: {info}"))
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

fn same_file(a: &Path, b: &Path) {
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "{a:?} != {b:?}");
}

async fn model_commands(stores: &Stores) {
    let server = Server::start(stores);
    let dir = stores.dir.path();
    let owner = Cli::new(&server, &dir.join("home"))
        .org("acme")
        .key(&server.key())
        .prefix(&["registry", "model"]);
    let src = dir.join("src");
    write(&src.join("a.bin"), &bytes(3_000_000, 1));
    write(&src.join("sub/b.txt"), b"hello");
    write(&src.join("empty"), b"");
    write(&dir.join("overview.md"), b"# Detector\nfinds things");
    let metrics = |name: &str, pairs: usize| {
        let file = dir.join(format!("{name}.json"));
        let attributes: Vec<Value> = (0..pairs)
            .map(|i| json!({"key": format!("k{i}"), "value": i}))
            .collect();
        write(
            &file,
            json!({"name": name, "attributes": attributes}).to_string().as_bytes(),
        );
        file.to_string_lossy().into_owned()
    };
    let overview = dir.join("overview.md").to_string_lossy().into_owned();
    let created = owner.json(&[
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
        "finds things",
        "--display-name",
        "Detector",
        "--label",
        "fast",
        "--label",
        "small",
        "--logo",
        "https://example.com/logo.png",
        "--built-by",
        "me",
        "--publisher",
        "Acme",
        "--public-dataset-name",
        "coco",
        "--public-dataset-link",
        "https://cocodataset.org",
        "--public-dataset-license",
        "CC-BY",
        "--overview-filename",
        &overview,
    ]);
    assert_eq!(created["displayName"], "Detector", "{created}");
    assert_eq!(created["publicDatasetUsed"]["license"], "CC-BY", "{created}");
    let err = owner.fails(&[
        "create",
        "acme/det",
        "--application",
        "X",
        "--framework",
        "X",
        "--format",
        "X",
        "--precision",
        "X",
        "--short-desc",
        "again",
    ]);
    assert!(err.contains("already exists"), "{err}");
    let info = owner.ok(&["info", "acme/det"]);
    for line in [
        "   Display Name: Detector",
        "   Built By: me",
        "      finds things",
        "         fast",
    ] {
        assert!(info.contains(line), "{line:?} missing from:\n{info}");
    }

    // The first version: no version given, so 1; every metadata flag.
    let source = src.to_string_lossy().into_owned();
    let m1 = metrics("m1", 12);
    let up = owner.json(&[
        "upload-version",
        "acme/det",
        "--source",
        &source,
        "--desc",
        "first",
        "--gpu-model",
        "A100",
        "--batch-size",
        "8",
        "--accuracy-reached",
        "0.91",
        "--num-epochs",
        "10",
        "--memory-footprint",
        "1GB",
        "--link",
        "https://example.com/v1",
        "--link-type",
        "Other",
        "--metrics-file",
        &m1,
    ]);
    assert_eq!(up["transfer_id"], "det[version=1]", "{up}");
    assert_eq!(
        (up["files_uploaded"].as_u64(), up["bytes_transferred"].as_u64()),
        (Some(3), Some(3_000_005))
    );
    let v1 = owner.json(&["info", "acme/det:1", "--files"]);
    assert_eq!(v1["version"]["status"], "UPLOAD_COMPLETE", "{v1}");
    assert_eq!(v1["version"]["gpuModel"], "A100", "{v1}");
    assert_eq!(
        v1["version"]["customMetrics"][0]["attributes"].as_array().map(Vec::len),
        Some(12)
    );
    assert_eq!(
        v1["version"]["otherContents"],
        json!([{"key": "Other", "value": "https://example.com/v1"}])
    );
    assert_eq!(paths(&v1), ["a.bin", "empty", "sub/b.txt"]);

    // The same files again: version 2, nothing sent (every file is stored already).
    let up = owner.json(&["upload-version", "acme/det", "--source", &source]);
    assert_eq!(
        (up["transfer_id"].as_str(), up["bytes_transferred"].as_u64()),
        (Some("det[version=2]"), Some(0))
    );
    let err = owner.fails(&["upload-version", "acme/det:2", "--source", &source]);
    assert!(err.contains("already exists"), "{err}");
    let too_many = metrics("m13", 13);
    let err = owner.fails(&[
        "upload-version",
        "acme/det:9",
        "--source",
        &source,
        "--metrics-file",
        &too_many,
    ]);
    assert!(err.contains("at most 12"), "{err}");
    let err = owner.fails(&[
        "upload-version",
        "acme/det:9",
        "--source",
        &source,
        "--metrics-file",
        &m1,
        "--metrics-file",
        &m1,
        "--metrics-file",
        &m1,
        "--metrics-file",
        &m1,
    ]);
    assert!(err.contains("At most 3"), "{err}");

    // Version 3 from version 1: one file changed, one added, one left out; only those sent.
    let src3 = dir.join("src3");
    write(&src3.join("sub/b.txt"), b"hello again");
    write(&src3.join("c.txt"), &bytes(1000, 7));
    let up = owner.json(&[
        "upload-version",
        "acme/det:3",
        "--source",
        &src3.to_string_lossy(),
        "--base-version",
        "1",
        "--remove-file",
        "empty",
    ]);
    assert_eq!(up["bytes_transferred"].as_u64(), Some(1011), "{up}");
    let v3 = owner.json(&["info", "acme/det:3", "--files"]);
    assert_eq!(paths(&v3), ["a.bin", "c.txt", "sub/b.txt"]);

    // Downloads: the latest version (3) by default, byte-identical, into <dest>/det_v3.
    let out = dir.join("out");
    let down = owner.json(&["download-version", "acme/det", "-d", &out.to_string_lossy()]);
    assert_eq!(down["files_downloaded"].as_u64(), Some(3), "{down}");
    same_file(&out.join("det_v3/a.bin"), &src.join("a.bin"));
    same_file(&out.join("det_v3/sub/b.txt"), &src3.join("sub/b.txt"));
    same_file(&out.join("det_v3/c.txt"), &src3.join("c.txt"));
    let some = dir.join("some");
    owner.ok(&[
        "download-version",
        "acme/det:1",
        "--dest",
        &some.to_string_lossy(),
        "--file",
        "sub/*",
        "--file",
        "empty",
    ]);
    assert!(some.join("det_v1/sub/b.txt").exists() && some.join("det_v1/empty").exists());
    assert!(!some.join("det_v1/a.bin").exists());

    // Listings: entities with a wildcard (csv), versions newest first (json).
    let rows = csv_rows(&owner.ok(&["list", "acme/d*", "--format_type", "csv"]));
    assert_eq!(rows[0][..3], ["Name", "Repository", "Latest Version"]);
    assert_eq!(rows[1][..3], ["Detector", "acme/det", "3"], "{rows:?}");
    let listed = |extra: &[&str]| -> usize {
        owner
            .json(&[&["list", "acme/*"][..], extra].concat())
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    assert_eq!(
        (
            listed(&["--access-type", "NOT_LISTED"]),
            listed(&["--access-type", "GUEST"]),
            listed(&["--signed"])
        ),
        (1, 0, 0)
    );
    let versions = owner.json(&["list", "acme/det:*"]);
    let ids: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["versionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["3", "2", "1"]);
    let table = owner.ok(&["list", "acme/det:[12]"]);
    assert!(
        table.contains("| 2 ") && table.contains("| 1 ") && !table.contains("| 3 "),
        "{table}"
    );
    assert!(owner.fails(&["list", "acme/d*:1"]).contains("cannot be used"));

    // Updates of the entity and of a version (with set-latest).
    owner.ok(&[
        "update",
        "acme/det",
        "--short-desc",
        "new words",
        "--add-label",
        "x",
        "--remove-label",
        "fast",
    ]);
    let entity = owner.json(&["info", "acme/det"]);
    assert_eq!(entity["shortDescription"], "new words", "{entity}");
    assert_eq!(entity["labels"], json!(["small", "x"]), "{entity}");
    owner.ok(&["update", "acme/det:1", "--gpu-model", "H100", "--set-latest"]);
    assert_eq!(owner.json(&["info", "acme/det"])["latestVersionIdStr"], "1");
    assert_eq!(owner.json(&["info", "acme/det:1"])["gpuModel"], "H100");
    assert!(
        owner
            .fails(&["update", "acme/det", "--gpu-model", "X"])
            .contains("need a version")
    );

    // Made public, it is listed, shown and downloaded without a key.
    owner.ok(&["update", "acme/det", "--public"]);
    let guest = Cli::new(&server, &dir.join("guest")).prefix(&["registry", "model"]);
    assert!(guest.ok(&["list", "acme/*"]).contains("acme/det"));
    assert_eq!(guest.json(&["info", "acme/det:3"])["status"], "UPLOAD_COMPLETE");
    let public = dir.join("public");
    guest.ok(&["download-version", "acme/det:3", "-d", &public.to_string_lossy()]);
    same_file(&public.join("det_v3/c.txt"), &src3.join("c.txt"));
    owner.ok(&["update", "acme/det", "--no-public"]);
    let err = guest.fails(&["info", "acme/det"]);
    assert!(err.contains("authentication required"), "{err}");

    // A pending version cannot be downloaded.
    owner.ok(&["upload-version", "acme/det:4", "--source", &source, "--no-commit"]);
    assert_eq!(owner.json(&["info", "acme/det:4"])["status"], "UPLOAD_PENDING");
    assert!(
        owner
            .fails(&["download-version", "acme/det:4", "-d", &out.to_string_lossy()])
            .contains("not complete")
    );

    // A reader downloads and lists but neither uploads nor removes.
    let reader = owner.key(&member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]));
    let got = dir.join("reader");
    reader.ok(&["download-version", "acme/det:3", "-d", &got.to_string_lossy()]);
    same_file(&got.join("det_v3/c.txt"), &src3.join("c.txt"));
    assert!(reader.ok(&["list", "acme/*"]).contains("acme/det"));
    let err = reader.fails(&["upload-version", "acme/det:5", "--source", &source]);
    assert!(err.contains("Error: "), "{err}");
    assert_eq!(
        owner.json(&["list", "acme/det:5"]),
        json!([]),
        "a refused upload leaves no version"
    );
    reader.fails(&["remove", "acme/det:2", "-y"]);
    // A user uploads but removes only what they created.
    let user = owner.key(&member(stores, "user@acme.test", &[("REGISTRY_USER", None)]));
    user.ok(&["upload-version", "acme/det:6", "--source", &src3.to_string_lossy()]);
    user.fails(&["remove", "acme/det:2", "-y"]);
    user.ok(&["remove", "acme/det:6", "-y"]);

    // Removal: confirmed, or cancelled.
    let out = owner.output_with_input(&["remove", "acme/det:2"], "n\n");
    assert!(owner.failed(&["remove"], &out).contains("cancelled"));
    owner.ok(&["remove", "acme/det:2", "-y"]);
    let ids: Vec<String> = owner
        .json(&["list", "acme/det:*"])
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["versionId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["4", "3", "1"]);
    owner.ok(&["remove", "acme/det", "-y"]);
    let err = owner.fails(&["info", "acme/det"]);
    assert!(err.contains("could not be found"), "{err}");
}

async fn resource_commands(stores: &Stores) {
    let server = Server::start(stores);
    let dir = stores.dir.path();
    let owner = Cli::new(&server, &dir.join("home"))
        .org("acme")
        .key(&server.key())
        .prefix(&["registry", "resource"]);
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    admin_ok(stores, &["team", "create", "acme", "other"]);
    write(&dir.join("setup.md"), b"pip install it");
    write(&dir.join("notes.md"), b"first release");
    let setup = dir.join("setup.md").to_string_lossy().into_owned();
    let notes = dir.join("notes.md").to_string_lossy().into_owned();
    let base = [
        "create",
        "acme/vision/gnmt",
        "--format",
        "py",
        "--short-desc",
        "a recipe",
        "--setup-filename",
        &setup,
    ];
    let err = owner.fails(
        &[
            &base[..],
            &[
                "--application",
                "DRAWING",
                "--framework",
                "PyTorch",
                "--precision",
                "FP16",
            ],
        ]
        .concat(),
    );
    assert!(err.contains("'application' must be one of"), "{err}");
    let created = owner.json(
        &[
            &base[..],
            &[
                "--application",
                "TRANSLATION",
                "--framework",
                "PyTorch",
                "--precision",
                "FP32",
            ],
        ]
        .concat(),
    );
    assert_eq!(created["trainingFramework"], "PyTorch", "{created}");
    assert!(
        owner
            .fails(&[
                "create",
                "acme/x",
                "--application",
                "NLP",
                "--framework",
                "Other",
                "--format",
                "f",
                "--precision",
                "FP16",
                "--short-desc",
                "s",
                "--bias-filename",
                &setup
            ])
            .contains("--bias-filename")
    );
    let info = owner.ok(&["info", "acme/vision/gnmt"]);
    assert!(
        info.contains(" Resource Information") && info.contains("      pip install it"),
        "{info}"
    );

    let src = dir.join("recipe");
    write(&src.join("train.py"), b"print('train')");
    let up = owner.json(&[
        "upload-version",
        "acme/vision/gnmt:first-upload",
        "--source",
        &src.to_string_lossy(),
        "--release-notes-filename",
        &notes,
    ]);
    assert_eq!(up["files_uploaded"].as_u64(), Some(1), "{up}");
    let v = owner.json(&["info", "acme/vision/gnmt:first-upload"]);
    assert_eq!(v["releaseNotes"], "first release", "{v}");
    let out = dir.join("out");
    owner.ok(&[
        "download-version",
        "acme/vision/gnmt:first-upload",
        "-d",
        &out.to_string_lossy(),
    ]);
    same_file(&out.join("gnmt_vfirst-upload/train.py"), &src.join("train.py"));
    let rows = csv_rows(&owner.ok(&["list", "acme/vision/*", "--format_type", "csv"]));
    assert_eq!(rows[1][1], "acme/vision/gnmt", "{rows:?}");
    // Someone outside the team sees nothing of it.
    let outsider = owner.key(&member(stores, "other@acme.test", &[("REGISTRY_ADMIN", Some("other"))]));
    outsider.fails(&["info", "acme/vision/gnmt"]);
    assert!(
        outsider
            .fails(&[
                "download-version",
                "acme/vision/gnmt:first-upload",
                "-d",
                &out.to_string_lossy()
            ])
            .contains("Error")
    );
}

/// Waits until the server holds at least one part of an upload.
async fn wait_for_a_part(view: &StoreView) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while view.snapshot().await.parts == 0 {
        assert!(Instant::now() < deadline, "no part arrived within 120 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An upload whose server is killed after the first of three parts: the rerun (against a new
/// server on the same stores) sends only the two missing parts, and the download matches.
async fn resume_after_server_killed(stores: &Stores) {
    let _turn = common::files::big_data_turn().await;
    const SIZE: u64 = 1_000_000_001;
    let dir = stores.dir.path();
    let src = dir.join("big");
    std::fs::create_dir_all(&src).unwrap();
    let hex = make_big_file(&src.join("weights.bin"), SIZE, 42);
    let view = StoreView::open(stores).await;
    let server = Server::start(stores);
    let key = server.key();
    let home = dir.join("home");
    let owner = Cli::new(&server, &home)
        .org("acme")
        .key(&key)
        .prefix(&["registry", "model"]);
    owner.ok(&[
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
    let source = src.to_string_lossy().into_owned();
    let mut upload = owner.spawn(&["upload-version", "acme/big:1", "--source", &source, "--threads", "1"]);
    wait_for_a_part(&view).await;
    server.stop();
    let status = upload.wait().unwrap();
    assert!(!status.success(), "the upload should fail with its server gone");
    let before = view.snapshot().await;
    assert_eq!((before.uploads, before.files), (1, 0), "{before:?}");

    let server = Server::start(stores);
    let owner = Cli::new(&server, &home)
        .org("acme")
        .key(&key)
        .prefix(&["registry", "model"]);
    assert_eq!(owner.json(&["info", "acme/big:1"])["status"], "UPLOAD_PENDING");
    let up = owner.json(&["upload-version", "acme/big:1", "--source", &source]);
    let sent = up["bytes_transferred"].as_u64().unwrap();
    assert_eq!(sent, SIZE - 500_000_000 * before.parts as u64, "{up} after {before:?}");
    std::fs::remove_file(src.join("weights.bin")).unwrap();
    let out = dir.join("out");
    owner.ok(&["download-version", "acme/big:1", "-d", &out.to_string_lossy()]);
    assert_eq!(sha256sum(&out.join("big_v1/weights.bin")), hex);
    let after = view.snapshot().await;
    assert_eq!((after.uploads, after.parts, after.files), (0, 0, 1), "{after:?}");
    // A gigabyte is too much to leave in the test S3 server for every run.
    view.remove_blobs().await;
}

both_backends!(models, model_commands);
both_backends!(resources, resource_commands);
both_backends!(resume, resume_after_server_killed);
