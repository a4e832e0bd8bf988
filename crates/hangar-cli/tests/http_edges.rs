//! Answers given before a request's body was read leave the connection usable (issue 12,
//! item 4): the body is read and dropped (up to a limit) so the next request can follow on the
//! same connection, and a client still sending gets its answer instead of a reset; past the
//! limit HTTP/1.1 closes the connection after the answer, which the client still gets; on
//! HTTP/2 no connection-specific header is ever sent. Driven with the real `curl`, over
//! `--http1.1` and `--http2` (TLS, ALPN) and h2c, on both backends.

mod common;

use common::tls::TestCa;
use common::{Server, Stores};
use std::path::Path;
use std::process::Command;

/// Writes a body of `size` bytes to `dir/name` and returns its path.
fn body_file(dir: &Path, name: &str, size: usize) -> String {
    let path = dir.join(name);
    std::fs::write(&path, vec![b'{'; size]).expect("write a body");
    path.to_str().unwrap().to_string()
}

/// One curl run: `requests` times the same POST/PUT of `body` to `url`, on as few connections
/// as curl can; for each answer its status and whether curl opened a new connection for it,
/// and all headers and bodies as one text.
struct Run {
    statuses: Vec<u16>,
    new_connections: Vec<u32>,
    text: String,
    ok: bool,
    stderr: String,
}

/// `headers` are added to curl's own (`"Name:"` removes one of those).
fn curl(ca: &TestCa, version: &str, method: &str, url: &str, body: &str, requests: usize, headers: &[&str]) -> Run {
    let mut args: Vec<String> = vec![];
    for n in 0..requests {
        if n > 0 {
            args.push("--next".into());
        }
        args.extend([
            "-sS".into(),
            version.into(),
            "--cacert".into(),
            ca.ca_file.to_str().unwrap().into(),
            "-D".into(),
            "-".into(),
            "-X".into(),
            method.into(),
            // As Go's client and most registry clients do: the body follows at once.
            "-H".into(),
            "Expect:".into(),
            "-H".into(),
            "Content-Type: application/json".into(),
            "--data-binary".into(),
            format!("@{body}"),
            "-w".into(),
            "\n@@ %{http_code} %{num_connects}\n".into(),
            url.into(),
        ]);
        for header in headers {
            args.extend(["-H".into(), header.to_string()]);
        }
    }
    let out = Command::new("curl").args(&args).output().expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut statuses = vec![];
    let mut new_connections = vec![];
    for line in text.lines().filter_map(|l| l.strip_prefix("@@ ")) {
        let (status, connects) = line.split_once(' ').expect("status and connects");
        statuses.push(status.parse().unwrap());
        new_connections.push(connects.parse().unwrap());
    }
    Run {
        statuses,
        new_connections,
        text: text.to_lowercase(),
        ok: out.status.success(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn refusals_keep_connections(stores: &Stores) {
    let dir = stores.dir.path();
    let (server, ca) = Server::start_tls(stores);
    let key = format!("Authorization: Bearer {}", server.key());
    let small = body_file(dir, "small.json", 300);
    let too_big = body_file(dir, "too-big.json", 2 << 20);
    let manifest = body_file(dir, "manifest.json", 3_900_000);
    let huge = body_file(dir, "huge.json", 40 << 20);
    let models = format!("{}/v2/org/acme/models", server.base);
    let nowhere = format!("{}/v2/org/acme/nowhere", server.base);
    let push = format!("{}/v2/acme/app/manifests/v1", server.base);

    // Requests refused before their bodies were read (a wrong key, no such endpoint), or after
    // reading part of one (past the API's 1 MiB), all on one connection.
    let refusals = [
        (
            "a wrong key",
            &models,
            &small,
            "Authorization: Bearer nvapi-not-a-key",
            20,
            401,
        ),
        ("no endpoint", &nowhere, &small, key.as_str(), 20, 404),
        ("too large", &models, &too_big, key.as_str(), 5, 413),
    ];
    for (what, url, body, auth, requests, status) in refusals {
        for version in ["--http1.1", "--http2"] {
            let run = curl(&ca, version, "POST", url, body, requests, &[auth]);
            assert!(run.ok, "{what} {version}: {}", run.stderr);
            assert_eq!(run.statuses, vec![status; requests], "{what} {version}: {}", run.stderr);
            assert_eq!(
                run.text.matches("\"requeststatus\"").count(),
                requests,
                "{what} {version}: {}",
                run.text
            );
            assert_eq!(
                run.new_connections.iter().sum::<u32>(),
                1,
                "{what} {version}: one connection carries them all: {:?}",
                run.new_connections
            );
            assert!(!run.text.contains("connection:"), "{what} {version}: {}", run.text);
        }
    }

    // A 3.9 MB manifest pushed without a token gets its challenge, twice on one connection;
    // on HTTP/2 also when the body comes without a length.
    for (version, framing) in [
        ("--http1.1", "Content-Type: application/json"),
        ("--http1.1", "Transfer-Encoding: chunked"),
        ("--http2", "Content-Type: application/json"),
        ("--http2", "Content-Length:"),
    ] {
        let run = curl(&ca, version, "PUT", &push, &manifest, 2, &[framing]);
        assert!(run.ok, "{version} {framing}: {}", run.stderr);
        assert_eq!(run.statuses, [401, 401], "{version} {framing}: {}", run.stderr);
        assert_eq!(run.new_connections, [1, 0], "{version} {framing}");
        assert_eq!(run.text.matches("www-authenticate: bearer").count(), 2, "{}", run.text);
        assert_eq!(run.text.matches("\"unauthorized\"").count(), 2, "{}", run.text);
    }

    // A body past what the server reads on HTTP/1.1 to keep a connection: the answer still
    // arrives, then the connection is closed (the next request opens another). Three times
    // each, as a lost answer depends on timing.
    for framing in ["Content-Type: application/json", "Transfer-Encoding: chunked"] {
        for _ in 0..3 {
            let run = curl(&ca, "--http1.1", "PUT", &push, &huge, 2, &[framing]);
            assert_eq!(run.statuses, [401, 401], "{framing}: {}", run.stderr);
            assert_eq!(run.new_connections, [1, 1], "{framing}");
            assert_eq!(run.text.matches("connection: close").count(), 2, "{}", run.text);
            assert_eq!(run.text.matches("\"unauthorized\"").count(), 2, "{}", run.text);
        }
    }
    // On HTTP/2 reading it holds up no other stream: the stream is kept, the answer arrives.
    let run = curl(&ca, "--http2", "PUT", &push, &huge, 2, &[]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.statuses, [401, 401], "{}", run.stderr);
    assert_eq!(run.new_connections, [1, 0]);
    assert!(!run.text.contains("connection:"), "{}", run.text);

    // Without TLS, HTTP/2 with prior knowledge (h2c) is served the same way. One request per
    // run: curl 7.88 cannot reuse an h2c connection (curl/curl#10634).
    let plain = Server::start(stores);
    let run = curl(
        &ca,
        "--http2-prior-knowledge",
        "PUT",
        &format!("{}/v2/acme/app/manifests/v1", plain.base),
        &manifest,
        1,
        &["Content-Length:"],
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.statuses, [401], "{}", run.stderr);
    assert!(run.text.contains("www-authenticate: bearer"), "{}", run.text);
}

both_backends!(refusals_keep_connections, refusals_keep_connections);
