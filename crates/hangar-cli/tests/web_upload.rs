//! Uploading versions from the browser (issue 17, Private Registry guide §4.4, §4.7), in a real
//! chromium: a folder picked on the page (nested folders, an empty file) with custom metrics
//! becomes a version that NVIDIA's `ngc registry model download-version` fetches byte for byte;
//! a clone from the version's row keeps the base files it was not asked to change (none sent
//! again), replaces one, adds one and leaves one out; and a 2 GiB folder of 200 files, its
//! upload interrupted by closing the page, resumes when the page is opened again and the same
//! folder picked, sending only the parts the server does not hold (counted from its log).

mod common;

use common::browser::Browser;
use common::ngc::{Ngc, bundle};
use common::web::{owner_web, set, tls_web};
use common::{Auth, Backend, path_str};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use thirtyfour::By;

/// Picks `dir` with the page's "Pick a folder" input, as a person choosing it would.
async fn pick_folder(b: &Browser, dir: &Path) {
    let input = b.driver().find(By::Id("folder")).await.expect("the folder input");
    input.send_keys(path_str(dir)).await.expect("pick the folder");
}

fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (path, content) in files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
}

/// Every file under `root`, relative path and bytes, sorted.
fn read_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

async fn create_model(api: &common::Api, owner: &Auth, name: &str) {
    let body = json!({"name": name, "displayName": format!("Model {name}"), "precision": "FP16"});
    let (status, reply) = api.post("/v2/org/acme/models", owner, body).await;
    assert_eq!(status, 200, "{reply}");
}

/// Fills the version and presses Upload; waits (up to `limit`) for the page to say it is done.
async fn upload(b: &Browser, version: &str, limit: Duration) {
    b.fill("version", version).await;
    b.click_button("Upload").await;
    let start = Instant::now();
    loop {
        let status = b.text_of("#upload-status").await;
        if status.contains("is uploaded") {
            return;
        }
        let error = b
            .js("return document.querySelector('#upload-error').textContent", vec![])
            .await;
        assert!(error.as_str().unwrap_or_default().is_empty(), "{error}");
        assert!(start.elapsed() < limit, "no upload within {limit:?}: {status}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_clone_in_a_real_browser() {
    let Some(web) = tls_web().await else { return };
    let (b, stores, server, ca, api) = (&web.b, &web.stores, &web.server, &web.ca, &web.api);
    let base = &server.base;
    let owner = Auth::Bearer(server.key());
    create_model(api, &owner, "det").await;
    let work = stores.dir.path().join("upload");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    // Past 32 MiB the page streams the hash (@noble/hashes) instead of Web Crypto's one call.
    let large: Vec<u8> = (0..33u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let v1: &[(&str, &[u8])] = &[
        ("top.txt", b"top"),
        ("large.bin", &large),
        ("sub/a.bin", &big),
        ("sub/deep/b.txt", b"deep b"),
        ("empty.txt", b""),
    ];
    write_tree(&work.join("v1"), v1);

    // The folder, with custom metrics, from the entity page's Upload button.
    b.goto(&format!("{base}/catalog/models/acme/det")).await;
    b.js("document.querySelector('#upload').click()", vec![]).await;
    b.wait_for_text("Upload a version of model acme/det").await;
    pick_folder(b, &work.join("v1")).await;
    b.wait_for_text("5 files, 34.9 MB").await;
    set(b, "#version-description", "first cut").await;
    set(b, "#metric-name-1", "Accuracy").await;
    set(b, "#metric-lines-1", "top1: 0.91\ntop5: 0.99").await;
    let parts_before = server.logged(&["file part received"]);
    upload(b, "1.0", Duration::from_secs(60)).await;
    b.snapshot("upload-done").await;
    assert_eq!(
        server.logged(&["file part received"]) - parts_before,
        5,
        "one part per file"
    );
    let (_, version) = api.get("/v2/org/acme/models/det/versions/1.0", &owner).await;
    let version = &version["modelVersion"];
    assert_eq!(version["status"], "UPLOAD_COMPLETE", "{version}");
    assert_eq!(version["description"], "first cut", "{version}");
    assert_eq!(
        version["customMetrics"],
        json!([{"name": "Accuracy", "attributes": [{"key": "top1", "value": "0.91"}, {"key": "top5", "value": "0.99"}]}]),
        "{version}"
    );
    // NVIDIA's ngc downloads it byte for byte.
    let ngc = Ngc::new(&web.ngc, base, &bundle(&work, &ca.ca_pem), work.join("ngc-home")).with_key(&server.key());
    let dest = work.join("ngc-1");
    std::fs::create_dir_all(&dest).unwrap();
    ngc.ok(&[
        "registry",
        "model",
        "download-version",
        "acme/det:1.0",
        "--dest",
        path_str(&dest),
    ]);
    assert_eq!(read_tree(&dest.join("det_v1.0")), read_tree(&work.join("v1")));

    // Clone, method 1: the creation hub's "Clone a version" lists it and leads to its page.
    b.goto(&format!("{base}/create")).await;
    b.js("document.querySelector('a[href=\"/create/clone\"]').click()", vec![])
        .await;
    b.wait_for_text("Select the base model or resource and version").await;
    set(b, "#clone-base", "models/acme/det:1.0").await;
    b.submit("#clone-form").await;
    b.wait_for_text("Clone a version of model acme/det").await;
    assert_eq!(
        b.js("return document.querySelector('#base').value", vec![]).await,
        json!("1.0")
    );
    // Method 2, from the version's row: leave top.txt out, replace sub/a.bin, add new.txt.
    b.goto(&format!("{base}/catalog/models/acme/det?section=versions"))
        .await;
    b.js(
        "document.querySelector(\"tr[data-version='1.0'] a[href*='clone=']\").click()",
        vec![],
    )
    .await;
    b.wait_for_text("Clone a version of model acme/det").await;
    assert_eq!(
        b.js("return document.querySelector('#base').value", vec![]).await,
        json!("1.0")
    );
    b.js(
        "document.querySelector(\"#base-files input[value='top.txt']\").checked = false",
        vec![],
    )
    .await;
    write_tree(&work.join("v2"), &[("sub/a.bin", b"replaced"), ("new.txt", b"new")]);
    pick_folder(b, &work.join("v2")).await;
    b.wait_for_text("2 files").await;
    let parts_before = server.logged(&["file part received"]);
    upload(b, "2.0", Duration::from_secs(60)).await;
    assert_eq!(
        server.logged(&["file part received"]) - parts_before,
        2,
        "only the new files are sent"
    );
    let dest = work.join("ngc-2");
    std::fs::create_dir_all(&dest).unwrap();
    ngc.ok(&[
        "registry",
        "model",
        "download-version",
        "acme/det:2.0",
        "--dest",
        path_str(&dest),
    ]);
    let expected: Vec<(String, Vec<u8>)> = vec![
        ("empty.txt".into(), vec![]),
        ("large.bin".into(), large.clone()),
        ("new.txt".into(), b"new".to_vec()),
        ("sub/a.bin".into(), b"replaced".to_vec()),
        ("sub/deep/b.txt".into(), b"deep b".to_vec()),
    ];
    assert_eq!(read_tree(&dest.join("det_v2.0")), expected);
    // Version 1.0 is as it was.
    let (_, files) = api.get("/v2/org/acme/models/det/versions/1.0/files", &owner).await;
    assert_eq!(files["modelFiles"].as_array().map(Vec::len), Some(5), "{files}");
}

/// Writes `count` files of `each` bytes under `root` (in folders of 50), each different.
fn big_folder(root: &Path, count: usize, each: usize) {
    use std::io::Write;
    let mut block = vec![0u8; 1 << 20];
    for i in 0..count {
        let path = root.join(format!("shard-{:02}/part-{i:03}.bin", i / 50));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut left = each;
        while left > 0 {
            for chunk in block.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
            }
            let n = left.min(block.len());
            out.write_all(&block[..n]).unwrap();
            left -= n;
        }
    }
}

/// On both backends in turn (not at once: each moves 2 GiB through the same 2 cores).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gib_folder_upload_resumes_in_a_real_browser() {
    for backend in [Backend::SqliteFolder, Backend::PostgresS3] {
        two_gib_folder_upload_resumes(backend).await;
    }
}

async fn two_gib_folder_upload_resumes(backend: Backend) {
    let Some((b, stores, server)) = owner_web(backend).await else {
        return;
    };
    let base = server.base.clone();
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    create_model(&api, &owner, "large").await;
    const FILES: usize = 200;
    const EACH: usize = (2usize << 30) / FILES;
    let folder = stores.dir.path().join("large");
    big_folder(&folder, FILES, EACH);

    // Start, then close the page once part of it is sent.
    let page = format!("{base}/upload/models/acme/large");
    b.goto(&page).await;
    pick_folder(&b, &folder).await;
    b.wait_for_text("200 files, 2.1 GB").await;
    b.fill("version", "1.0").await;
    b.click_button("Upload").await;
    let start = Instant::now();
    while server.logged(&["file part received"]) < FILES / 4 {
        assert!(start.elapsed() < Duration::from_secs(300), "the upload did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.goto("about:blank").await;
    // Requests the page had in flight end with it; what the server holds is settled.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first = server.logged(&["file part received"]);
    assert!(
        first < FILES,
        "the whole folder went before the page was closed: {first}"
    );

    // Opened again: it offers to resume; the same folder sends only the missing parts.
    b.goto(&page).await;
    b.wait_for_text("Not finished: version 1.0").await;
    b.snapshot("upload-resume").await;
    b.click_button("Resume version 1.0").await;
    pick_folder(&b, &folder).await;
    b.wait_for_text("200 files").await;
    b.click_button("Upload").await;
    let start = Instant::now();
    loop {
        let status = b.text_of("#upload-status").await;
        if status.contains("is uploaded") {
            println!("browser upload on {backend:?}, resumed: {status}");
            break;
        }
        let error = b
            .js("return document.querySelector('#upload-error').textContent", vec![])
            .await;
        assert!(error.as_str().unwrap_or_default().is_empty(), "{error}");
        assert!(start.elapsed() < Duration::from_secs(600), "no upload: {status}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let second = server.logged(&["file part received"]) - first;
    println!("parts sent before closing: {first}; after reopening: {second}");
    assert_eq!(first + second, FILES, "every part sent exactly once");
    let (_, version) = api.get("/v2/org/acme/models/large/versions/1.0", &owner).await;
    assert_eq!(version["modelVersion"]["status"], "UPLOAD_COMPLETE", "{version}");
    assert_eq!(version["modelVersion"]["totalFileCount"], FILES, "{version}");
    assert_eq!(
        version["modelVersion"]["totalSizeInBytes"],
        (FILES * EACH) as u64,
        "{version}"
    );
    // Two files, fetched back, are the bytes on disk.
    for path in ["shard-00/part-000.bin", "shard-03/part-199.bin"] {
        let url = format!("{base}/v2/org/acme/models/large/versions/1.0/files/{path}");
        let got = reqwest::Client::new()
            .get(url)
            .bearer_auth(server.key())
            .send()
            .await
            .expect("GET")
            .bytes()
            .await
            .expect("body");
        assert!(got == std::fs::read(folder.join(path)).unwrap(), "{path} differs");
    }
}

/// The benchmark `scripts/bench-upload` runs (release build): the same 2 GiB folder uploaded by
/// NVIDIA's `ngc` and by the browser page, on one TLS server; prints both, asserts no speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-upload"]
async fn bench_browser_upload_against_ngc() {
    let Some(web) = tls_web().await else { return };
    let (b, stores, server, ca, api) = (&web.b, &web.stores, &web.server, &web.ca, &web.api);
    let owner = Auth::Bearer(server.key());
    let files: usize = std::env::var("BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let total: usize = std::env::var("BENCH_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2 << 30);
    let folder = stores.dir.path().join("bench");
    big_folder(&folder, files, total / files);
    let bytes = (total / files * files) as f64;
    for name in ["by-ngc", "by-browser"] {
        create_model(api, &owner, name).await;
    }
    let work = stores.dir.path().join("ngc");
    std::fs::create_dir_all(&work).unwrap();
    let ngc = Ngc::new(&web.ngc, &server.base, &bundle(&work, &ca.ca_pem), work.join("home")).with_key(&server.key());
    let start = Instant::now();
    ngc.ok(&[
        "registry",
        "model",
        "upload-version",
        "acme/by-ngc:1.0",
        "--source",
        path_str(&folder),
    ]);
    let by_ngc = start.elapsed().as_secs_f64();
    b.goto(&format!("{}/upload/models/acme/by-browser", server.base)).await;
    pick_folder(b, &folder).await;
    b.wait_for_text(&format!("{files} files")).await;
    let start = Instant::now();
    upload(b, "1.0", Duration::from_secs(3600)).await;
    let by_browser = start.elapsed().as_secs_f64();
    let page = b
        .js(
            "return document.querySelector('#upload-status').dataset.seconds",
            vec![],
        )
        .await;
    let mb = bytes / 1e6;
    println!(
        "folder: {files} files, {:.2} GB (distinct bytes), TLS on 127.0.0.1",
        bytes / 1e9
    );
    println!(
        "ngc registry model upload-version: {by_ngc:.1} s, {:.0} MB/s",
        mb / by_ngc
    );
    println!(
        "browser (hash in 2+ Web Workers, 4 files at once): {by_browser:.1} s, {:.0} MB/s (the page measured {} s)",
        mb / by_browser,
        page.as_str().unwrap_or("?")
    );
}
