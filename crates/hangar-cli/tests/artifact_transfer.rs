//! Model and resource file transfers at their edges: file paths that could leave the folder a
//! version is unpacked into, refused at the upload's start and at the commit with nothing
//! stored; a multi-part upload whose server is killed while a part is in flight, then resumed
//! on a new server over the same stores with only the missing parts, and killed again while it
//! puts the file together, which the next commit takes over (both on both backends);
//! and one 2 GiB file up and down, as itself and as a zip.

mod common;

use common::files::{StoreView, Target, b64_sha256, hex_to_b64, make_big_file, sha256sum, zip_listing};
use common::{Api, Auth, Server, Stores};
use futures::StreamExt;
use reqwest::header::CONTENT_LENGTH;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const ORG: &str = "/v2/org/acme";
/// NGC's client's part size (ngc-api.md §5.1).
const PART: u64 = 500_000_000;

async fn new_version(api: &Api, owner: &Auth, target: &Target<'_>) {
    let (s, body) = api
        .post(
            &format!("{}/{}", target.space, target.kind),
            owner,
            json!({"name": target.name}),
        )
        .await;
    assert!(s == 200 || s == 409, "{body}");
    let (s, body) = api
        .post(
            &format!("{}/versions", target.entity()),
            owner,
            json!({"versionId": target.version}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

/// `../`, `a/../../b`, absolute, NUL, backslash and empty-segment paths: 400 in NGC's error
/// format at the start of an upload and at the commit (even next to a good file), and neither
/// the blob store, the uploads nor the version's file list change.
async fn traversal(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let view = StoreView::open(stores).await;
    let evil = [
        "../evil",
        "..",
        ".",
        "a/../../b",
        "sub/../x",
        "a/./b",
        "/etc/x",
        "//etc/x",
        "a//b",
        "a/",
        "",
        "a\u{0}b",
        "\u{0}",
        "a/b\u{1}",
        "a\\b",
        "..\\..\\x",
        "a\\..\\..\\b",
        "C:\\x",
        "\\\\server\\share\\x",
    ];
    for kind in ["models", "resources"] {
        let target = Target {
            space: ORG,
            kind,
            name: "p",
            version: "1",
        };
        new_version(&api, &owner, &target).await;
        let good = format!("the good file of the {kind}").into_bytes();
        let sha = b64_sha256(&good);
        assert_eq!(target.upload_one_part(&api, &owner, "good.bin", &good, &sha).await, 200);
        let before = view.snapshot().await;
        for path in evil {
            let (s, body) = api
                .post(
                    &format!("{ORG}/files/multipart"),
                    &owner,
                    target.start(path, good.len() as u64, &sha),
                )
                .await;
            assert_refused(s, &body, path, "multipart start");
            for commit_type in ["ADDITION", "DELETION"] {
                let mut commit = target.commit(&[("ok.bin", &sha), (path, &sha)]);
                commit["files"][1]["commitType"] = json!(commit_type);
                let (s, body) = api
                    .post(&format!("{ORG}/files/commit?upload-pending=True"), &owner, commit)
                    .await;
                assert_refused(s, &body, path, commit_type);
            }
            assert_eq!(view.snapshot().await, before, "{kind} {path:?}: nothing stored");
        }
        assert!(
            target.listed(&api, &owner).await.is_empty(),
            "{kind}: no file, not even the good one of a refused commit"
        );
    }
}
both_backends!(path_traversal, traversal);

fn assert_refused(status: reqwest::StatusCode, body: &Value, path: &str, when: &str) {
    assert_eq!(status, 400, "{when} {path:?}: {body}");
    assert_eq!(
        body["requestStatus"]["statusCode"], "INVALID_REQUEST",
        "{when} {path:?}: {body}"
    );
    let text = body["requestStatus"]["statusDescription"].as_str().unwrap_or_default();
    assert!(text.contains("file path"), "{when} {path:?}: {body}");
}

/// `len` bytes of `file` from `offset` as a streamed request body; `sent` counts the bytes
/// handed to the connection.
async fn file_body(file: &Path, offset: u64, len: u64, sent: Arc<AtomicU64>) -> reqwest::Body {
    let mut f = tokio::fs::File::open(file).await.expect("open the big file");
    f.seek(std::io::SeekFrom::Start(offset)).await.expect("seek");
    let stream = tokio_util::io::ReaderStream::with_capacity(f.take(len), 1 << 20).map(move |chunk| {
        if let Ok(c) = &chunk {
            sent.fetch_add(c.len() as u64, Ordering::Relaxed);
        }
        chunk
    });
    reqwest::Body::wrap_stream(stream)
}

/// Where part `n` (1-based) of a file of `size` bytes starts, and its length.
fn part_range(n: u64, size: u64) -> (u64, u64) {
    let start = (n - 1) * PART;
    (start, PART.min(size - start))
}

/// PUTs `len` bytes of `file` from `offset` to a part URL; returns the status.
async fn put_range(http: &reqwest::Client, url: &str, file: &Path, offset: u64, len: u64) -> u16 {
    let body = file_body(file, offset, len, Arc::default()).await;
    let r = http
        .put(url)
        .header(CONTENT_LENGTH, len)
        .body(body)
        .send()
        .await
        .expect("part PUT");
    r.status().as_u16()
}

async fn put_part(http: &reqwest::Client, url: &str, file: &Path, n: u64, size: u64) -> u16 {
    let (offset, len) = part_range(n, size);
    put_range(http, url, file, offset, len).await
}

/// `PUT {OT}/files/multipart` as NGC's client sends it, which gives up after 30 s without a
/// byte of the answer (`sock_read`); returns the status and the JSON body.
async fn complete(
    api: &Api,
    owner: &Auth,
    target: &Target<'_>,
    path: &str,
    upload_id: &Value,
    sha: &str,
) -> (u16, Value) {
    let Auth::Bearer(key) = owner else { panic!("a key") };
    let http = reqwest::Client::builder()
        .read_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let r = http
        .put(format!("{}{}/files/multipart", api.base, target.space))
        .bearer_auth(key)
        .json(&target.complete(path, upload_id, sha))
        .send()
        .await
        .expect("completion");
    let status = r.status().as_u16();
    let text = r.text().await.expect("the completion's answer");
    let body = serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

/// `POST {OT}/files/commit` of one file, as NGC's client sends it.
async fn commit(api: &Api, owner: &Auth, target: &Target<'_>, path: &str, sha: &str) -> (reqwest::StatusCode, Value) {
    api.post(
        &format!("{}/files/commit?upload-pending=True", target.space),
        owner,
        target.commit(&[(path, sha)]),
    )
    .await
}

/// Marks the version complete.
async fn complete_version(api: &Api, owner: &Auth, target: &Target<'_>) {
    let (s, body) = api
        .patch(
            &format!("{}/versions/{}", target.entity(), target.version),
            owner,
            Some(json!({"status": "UPLOAD_COMPLETE"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

/// Completes an upload whose parts are all sent, commits the file and then the version.
async fn finish(api: &Api, owner: &Auth, target: &Target<'_>, path: &str, upload_id: &Value, sha: &str) {
    let (s, body) = complete(api, owner, target, path, upload_id, sha).await;
    assert_eq!(
        (s, &body["requestStatus"]["statusCode"]),
        (200, &json!("SUCCESS")),
        "{body}"
    );
    let (s, body) = commit(api, owner, target, path, sha).await;
    assert_eq!(s, 200, "{body}");
    complete_version(api, owner, target).await;
}

/// `POST {OT}/files/multipart` for `file` as `path`; returns the `uploadID` and the part URLs.
async fn start(api: &Api, owner: &Auth, target: &Target<'_>, path: &str, size: u64, sha: &str) -> (Value, Vec<String>) {
    let (s, started) = api
        .post(
            &format!("{}/files/multipart", target.space),
            owner,
            target.start(path, size, sha),
        )
        .await;
    assert_eq!(s, 200, "{started}");
    let urls = started["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    (started["uploadID"].clone(), urls)
}

/// Downloads `path` to `to` and returns its SHA-256 (hex).
async fn download(api: &Api, auth: &Auth, path: &str, to: &Path) -> String {
    use tokio::io::AsyncWriteExt;
    let Auth::Bearer(key) = auth else { panic!("a key") };
    let r = api
        .raw()
        .get(format!("{}{path}", api.base))
        .bearer_auth(key)
        .send()
        .await
        .expect("download");
    assert_eq!(r.status(), 200, "{path}");
    let mut out = tokio::io::BufWriter::new(tokio::fs::File::create(to).await.expect("create"));
    let mut stream = r.bytes_stream();
    while let Some(chunk) = stream.next().await {
        out.write_all(&chunk.expect("download body")).await.expect("write");
    }
    out.flush().await.expect("flush");
    sha256sum(to)
}

/// A 3-part file (1,050,000,000 bytes): part 1 is sent, the server is killed (SIGKILL) while
/// part 2 streams in, nothing of the file is visible on the server started in its place, and
/// the client resumes with the old `uploadID` and the missing parts only. A wrong part 3 makes
/// the completion fail (and drops the parts: which one was wrong is unknown) and the file
/// stays out of the version. Sent again right, its completion's server is killed while it puts
/// the file together; the commit on the next server takes that assembly over, and the
/// download is the same file.
async fn interrupted(stores: &Stores) {
    let _turn = common::files::big_data_turn().await;
    let size = 2 * PART + 50_000_000;
    let file = stores.dir.path().join("big.bin");
    let clock = Instant::now();
    let hex = make_big_file(&file, size, 7);
    let sha = hex_to_b64(&hex);
    eprintln!("made {size} bytes in {:?}", clock.elapsed());
    let target = Target {
        space: ORG,
        kind: "models",
        name: "big",
        version: "1",
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();

    let server = Server::start(stores);
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    new_version(&api, &owner, &target).await;
    let (upload_id, urls) = start(&api, &owner, &target, "big.bin", size, &sha).await;
    assert_eq!(urls.len(), 3, "{urls:?}");
    assert_eq!(put_part(&http, &urls[0], &file, 1, size).await, 200);
    eprintln!("part 1 sent after {:?}", clock.elapsed());

    let sent = Arc::new(AtomicU64::new(0));
    let (offset, len) = part_range(2, size);
    let body = file_body(&file, offset, len, sent.clone()).await;
    let request = http.put(&urls[1]).header(CONTENT_LENGTH, len).body(body).send();
    let in_flight = tokio::spawn(request);
    while sent.load(Ordering::Relaxed) < PART / 4 {
        assert!(!in_flight.is_finished(), "part 2 ended before the kill");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop();
    let answer = in_flight.await.expect("the PUT task");
    assert!(
        answer.as_ref().map_or(true, |r| r.status() != 200),
        "part 2 cannot have arrived: {answer:?}"
    );
    eprintln!("killed with part 2 in flight after {:?}", clock.elapsed());

    let server = Server::start(stores);
    let api = server.api();
    let entity = target.entity();
    let (s, body) = api.get(&format!("{entity}/versions/1"), &owner).await;
    assert_eq!(
        (s.as_u16(), &body["modelVersion"]["status"]),
        (200, &json!("UPLOAD_PENDING")),
        "{body}"
    );
    assert!(
        target.listed(&api, &owner).await.is_empty(),
        "no file before the resume"
    );
    for path in [
        format!("{entity}/versions/1/files/big.bin"),
        format!("{entity}/1/files"),
        format!("{entity}/versions/1/zip"),
    ] {
        let (s, body) = api.get(&path, &owner).await;
        assert_eq!(s, 400, "{path}: {body}");
        assert_eq!(body["requestStatus"]["statusCode"], "INVALID_REQUEST", "{path}: {body}");
    }
    let view = StoreView::open(stores).await;
    let upload = view
        .meta
        .file_upload_by_id(upload_id.as_str().unwrap())
        .await
        .unwrap()
        .expect("the upload survives the kill");
    let received: Vec<i64> = upload.parts.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(received, [1], "only part 1 arrived");

    let mut resume = target.start("big.bin", size, &sha);
    resume["uploadID"] = upload_id.clone();
    resume["partNumberList"] = json!([2, 3]);
    let (s, resumed) = api.post(&format!("{ORG}/files/multipart"), &owner, resume).await;
    assert_eq!(s, 200, "{resumed}");
    assert_eq!(resumed["uploadID"], upload_id, "the same upload goes on");
    let urls = resumed["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 2, "{resumed}");
    let [part2, part3] = [0, 1].map(|i| urls[i].as_str().unwrap());
    assert_eq!(put_part(&http, part2, &file, 2, size).await, 200, "part 2");
    // Part 3 with the wrong bytes first (the right length): the file does not match its SHA-256.
    let (_, len3) = part_range(3, size);
    assert_eq!(put_range(&http, part3, &file, 0, len3).await, 200, "a wrong part 3");
    let (s, body) = complete(&api, &owner, &target, "big.bin", &upload_id, &sha).await;
    assert_eq!(body["requestStatus"]["statusCode"], "INVALID_REQUEST", "{s}: {body}");
    assert!(s == 400 || s == 200, "400, or 200 at once and the outcome later: {s}");
    let (s, body) = commit(&api, &owner, &target, "big.bin", &sha).await;
    assert_eq!(s, 400, "a file that did not match is not stored: {body}");
    assert_eq!(
        view.snapshot().await.parts,
        0,
        "which part was wrong is unknown: all must come again"
    );
    let (s, again) = api
        .post(
            &format!("{ORG}/files/multipart"),
            &owner,
            target.start("big.bin", size, &sha),
        )
        .await;
    assert_eq!(s, 200, "{again}");
    for (url, n) in again["urls"].as_array().unwrap().iter().zip(1..) {
        assert_eq!(
            put_part(&http, url.as_str().unwrap(), &file, n, size).await,
            200,
            "part {n}"
        );
    }
    eprintln!("sent again after {:?}", clock.elapsed());

    // The completion starts putting the parts together, and its server is killed meanwhile:
    // the claim it left goes stale, and the commit on the server started in its place takes
    // the assembly over instead of waiting for one nobody runs.
    let upload_id = again["uploadID"].clone();
    let completion = {
        let (api, owner, target) = (api.clone(), owner.clone(), target);
        let id = upload_id.clone();
        let sha = sha.clone();
        tokio::spawn(async move { complete(&api, &owner, &target, "big.bin", &id, &sha).await })
    };
    let id = upload_id.as_str().unwrap();
    loop {
        let upload = view
            .meta
            .file_upload_by_id(id)
            .await
            .unwrap()
            .expect("the upload is open");
        if upload.assembler.is_some() {
            break;
        }
        assert!(
            !completion.is_finished(),
            "the completion ended before its assembly began"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop();
    let _ = completion.await;
    let upload = view.meta.file_upload_by_id(id).await.unwrap();
    assert!(
        upload.as_ref().is_some_and(|u| u.assembler.is_some()),
        "the server was killed while it put the file together: {upload:?}"
    );
    let file_digest: hangar_store::blob::Digest = format!("sha256:{hex}").parse().unwrap();
    assert_eq!(
        view.blobs.stat(&file_digest).await.unwrap(),
        None,
        "nothing of the half-assembled file is visible"
    );
    eprintln!("killed while putting the file together after {:?}", clock.elapsed());
    let server = Server::start(stores);
    let api = server.api();
    let (s, body) = commit(&api, &owner, &target, "big.bin", &sha).await;
    assert_eq!(s, 200, "the commit finishes the orphaned assembly: {body}");
    eprintln!("committed after {:?}", clock.elapsed());
    complete_version(&api, &owner, &target).await;
    std::fs::remove_file(&file).unwrap();
    let got = download(&api, &owner, &format!("{entity}/versions/1/files/big.bin"), &file).await;
    assert_eq!(got, hex, "the downloaded file is the uploaded one");
    std::fs::remove_file(&file).unwrap();
    eprintln!("downloaded after {:?}", clock.elapsed());
    view.remove_blobs().await;
}
both_backends!(killed_and_resumed, interrupted);

/// One file of 2 GiB (2^31 bytes: past every signed 32-bit size) up over REST, then down as
/// the Catalog guide does it (§16.4, §17.4: a token for `$oauthtoken` and the key, then
/// `curl -L` with it as bearer token), once as the file and once as the version's zip, which
/// Python's `zipfile` reads and CRC-checks.
async fn two_gib(stores: &Stores) {
    let _turn = common::files::big_data_turn().await;
    let size: u64 = 2 * 1024 * 1024 * 1024;
    let dir = stores.dir.path();
    let file = dir.join("two.bin");
    let clock = Instant::now();
    let hex = make_big_file(&file, size, 2);
    let sha = hex_to_b64(&hex);
    eprintln!("made {size} bytes in {:?}", clock.elapsed());
    let server = Server::start(stores);
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    let target = Target {
        space: ORG,
        kind: "models",
        name: "two",
        version: "1.0",
    };
    new_version(&api, &owner, &target).await;
    let (upload_id, urls) = start(&api, &owner, &target, "two.bin", size, &sha).await;
    assert_eq!(urls.len(), 5, "{urls:?}");
    let http = reqwest::Client::new();
    for (url, n) in urls.iter().zip(1..) {
        assert_eq!(put_part(&http, url, &file, n, size).await, 200, "part {n}");
    }
    eprintln!("sent after {:?}", clock.elapsed());
    // Gone before the completion, which briefly holds the parts and the assembled file.
    std::fs::remove_file(&file).unwrap();
    finish(&api, &owner, &target, "two.bin", &upload_id, &sha).await;
    eprintln!("completed after {:?}", clock.elapsed());

    let token = api.token(&server.key(), "acme").await;
    let auth = format!("Authorization: Bearer {token}");
    let entity = format!("{}{}/versions/1.0", server.base, target.entity());
    let curl = |url: String, out: &str| {
        let status = std::process::Command::new("curl")
            .args(["-sSfL", "-o", out, &url, "-H", &auth])
            .current_dir(dir)
            .status()
            .expect("run curl");
        assert!(status.success(), "curl {url}");
    };
    curl(format!("{entity}/files/two.bin"), "two.bin");
    assert_eq!(sha256sum(&file), hex, "the file as curl fetched it");
    std::fs::remove_file(&file).unwrap();
    eprintln!("downloaded after {:?}", clock.elapsed());
    curl(format!("{entity}/zip"), "two.zip");
    let zip = dir.join("two.zip");
    assert_eq!(zip_listing(&zip), json!({"two.bin": [size, hex]}));
    std::fs::remove_file(&zip).unwrap();
    eprintln!("zip checked after {:?}", clock.elapsed());
    StoreView::open(stores).await.remove_blobs().await;
}

/// On PostgreSQL and S3 only, where it found object_store's 30-second request limit cutting
/// off the completion: a debug build takes about 5 minutes for it there, and the folder
/// backend's paths are the 1 GB resume's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gib_round_trip() {
    if let Some(stores) = common::stores(common::Backend::PostgresS3).await {
        two_gib(&stores).await;
    }
}
