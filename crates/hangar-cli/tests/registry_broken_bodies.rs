//! Request bodies that break off: a client announces more bytes than it sends and half-closes
//! the connection. That is the client's fault, on every registry path that streams a body: 400
//! with OCI error JSON, nothing stored or recorded, no ERROR in the server log.

mod common;

use common::registry::{Registry, errors_code, sha};
use common::{Server, Stores};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the body announces, and how much of it is sent before the half-close.
const ANNOUNCED: usize = 5000;
const SENT: usize = 1000;

/// Sends `method path` with a body announced as [`ANNOUNCED`] bytes of which only the first
/// [`SENT`] of `body` go out, half-closes, and returns the status and the JSON body answered.
async fn broken_off(server: &Server, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {ANNOUNCED}\r\n\r\n",
        server.key()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..SENT]).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read_to_end(&mut answer));
    read.await.expect("an answer within 30 s").expect("read the answer");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let json = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let json = serde_json::from_str(json).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, json)
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["code"].as_str().unwrap_or_default()
}

/// Files under the blob folder `root` whose name holds one of `hexes`, and staging files.
fn stored_traces(root: &std::path::Path, hexes: &[&str]) -> Vec<String> {
    let mut found = vec![];
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("read the blob folder")
            .map_while(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if relative.starts_with("tmp") || hexes.iter().any(|h| relative.contains(h)) {
                found.push(relative);
            }
        }
    }
    found
}

async fn absent(reg: &Registry, d: &str) -> bool {
    let path = format!("/v2/acme/cut/blobs/{d}");
    reg.send(Method::HEAD, &path, &[], vec![]).await.status() == 404
}

async fn range_of(reg: &Registry, location: &str) -> String {
    let r = reg.send(Method::GET, location, &[], vec![]).await;
    assert_eq!(r.status(), 204);
    r.headers()["range"].to_str().unwrap().to_string()
}

async fn truncated_bodies(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let whole: Vec<u8> = (0..ANNOUNCED).map(|i| (i * 7 % 251) as u8).collect();
    let (whole_digest, part_digest) = (sha(&whole), sha(&whole[..SENT]));

    // Monolithic: POST ?digest=.
    let path = format!("/v2/acme/cut/blobs/uploads/?digest={whole_digest}");
    let (status, answer) = broken_off(&server, "POST", &path, &whole).await;
    assert_eq!((status, code(&answer)), (400, "BLOB_UPLOAD_INVALID"), "{answer}");
    assert!(absent(&reg, &whole_digest).await);

    // Chunked: a session with one chunk, then a PATCH and a final PUT that break off.
    let r = reg.send(Method::POST, "/v2/acme/cut/blobs/uploads/", &[], vec![]).await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let r = reg.send(Method::PATCH, &location, &[], b"0123456789".to_vec()).await;
    assert_eq!(r.status(), 202);
    let (status, answer) = broken_off(&server, "PATCH", &location, &whole).await;
    assert_eq!((status, code(&answer)), (400, "BLOB_UPLOAD_INVALID"), "{answer}");
    assert_eq!(range_of(&reg, &location).await, "0-9", "no chunk recorded");
    let finish = format!(
        "{location}?digest={}",
        sha(&[b"0123456789".as_slice(), &whole].concat())
    );
    let (status, answer) = broken_off(&server, "PUT", &finish, &whole).await;
    assert_eq!((status, code(&answer)), (400, "BLOB_UPLOAD_INVALID"), "{answer}");
    assert_eq!(range_of(&reg, &location).await, "0-9", "no chunk recorded");
    for d in [&whole_digest, &part_digest] {
        assert!(absent(&reg, d).await, "{d} is not in the repository");
    }
    if stores.backend == common::Backend::SqliteFolder {
        let hexes = [&whole_digest[7..], &part_digest[7..]];
        assert_eq!(
            stored_traces(std::path::Path::new(&stores.blobs), &hexes),
            Vec::<String>::new(),
            "no blob or staging file of the broken bodies"
        );
    }
    // The session is still good: the whole body completes it.
    let r = reg.send(Method::PUT, &finish, &[], whole.clone()).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // A manifest that breaks off.
    let (status, answer) = broken_off(&server, "PUT", "/v2/acme/cut/manifests/v1", &whole).await;
    assert_eq!((status, code(&answer)), (400, "MANIFEST_INVALID"), "{answer}");
    let r = reg.send(Method::GET, "/v2/acme/cut/manifests/v1", &[], vec![]).await;
    assert_eq!(errors_code(r).await, "MANIFEST_UNKNOWN");

    assert_eq!(
        server.logged(&["ERROR"]),
        0,
        "a client's broken body is no server error"
    );

    // The store's own I/O failure (here: its staging folder is gone) stays a server error.
    if stores.backend == common::Backend::SqliteFolder {
        let staging = std::path::Path::new(&stores.blobs).join("tmp");
        std::fs::remove_dir_all(&staging).unwrap();
        std::fs::write(&staging, b"not a folder").unwrap();
        let fresh = b"bytes the store cannot take".to_vec();
        let path = format!("/v2/acme/cut/blobs/uploads/?digest={}", sha(&fresh));
        let r = reg.send(Method::POST, &path, &[], fresh).await;
        assert_eq!(r.status(), 500);
    }
}
both_backends!(truncated, truncated_bodies);
