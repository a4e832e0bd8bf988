//! Answers given before a request's body was read leave the connection usable (issue 12,
//! item 4): on HTTP/1.1 the body is read and dropped (up to a limit) so the next request can
//! follow on the same connection, and a client still sending gets its answer instead of a
//! reset; on HTTP/2 no connection-specific header is ever sent. Driven with the real `curl`,
//! over `--http1.1` and `--http2` (TLS, ALPN), on both backends.

mod common;

use common::tls::TestCa;
use common::{ServeOptions, Server, Stores};
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

fn curl(ca: &TestCa, version: &str, method: &str, url: &str, body: &str, requests: usize, auth: Option<&str>) -> Run {
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
        if let Some(auth) = auth {
            args.extend(["-H".into(), format!("Authorization: {auth}")]);
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
    let ca = common::tls::make(dir);
    let server = Server::start_with(
        stores,
        &ServeOptions {
            tls: Some((ca.cert.clone(), ca.key.clone())),
            ..Default::default()
        },
    );
    let small = body_file(dir, "small.json", 300);
    let manifest = body_file(dir, "manifest.json", 3_900_000);
    let huge = body_file(dir, "huge.json", 40 << 20);
    let models = format!("{}/v2/org/acme/models", server.base);
    let push = format!("{}/v2/acme/app/manifests/v1", server.base);

    // Twenty POSTs refused for a wrong key, before their bodies were read.
    for version in ["--http1.1", "--http2"] {
        let run = curl(
            &ca,
            version,
            "POST",
            &models,
            &small,
            20,
            Some("Bearer nvapi-not-a-key"),
        );
        assert!(run.ok, "{version}: {}", run.stderr);
        assert_eq!(run.statuses, vec![401; 20], "{version}: {}", run.stderr);
        assert_eq!(
            run.text.matches("\"requeststatus\"").count(),
            20,
            "{version}: {}",
            run.text
        );
        assert_eq!(
            run.new_connections.iter().sum::<u32>(),
            1,
            "{version}: one connection carries them all: {:?}",
            run.new_connections
        );
        assert!(!run.text.contains("connection:"), "{version}: {}", run.text);
    }

    // A 3.9 MB manifest pushed without a token gets its challenge, twice on one connection.
    for version in ["--http1.1", "--http2"] {
        let run = curl(&ca, version, "PUT", &push, &manifest, 2, None);
        assert!(run.ok, "{version}: {}", run.stderr);
        assert_eq!(run.statuses, [401, 401], "{version}: {}", run.stderr);
        assert_eq!(run.new_connections, [1, 0], "{version}");
        assert_eq!(run.text.matches("www-authenticate: bearer").count(), 2, "{}", run.text);
        assert_eq!(run.text.matches("\"unauthorized\"").count(), 2, "{}", run.text);
    }

    // A body past what the server reads on HTTP/1.1 to keep a connection: the connection is
    // closed (the client may see that before the answer), and the server goes on serving. On
    // HTTP/2 reading it holds up no other stream: the answer arrives.
    let run = curl(&ca, "--http1.1", "PUT", &push, &huge, 1, None);
    assert!(
        run.statuses == [401] || run.stderr.contains("Broken pipe") || run.stderr.contains("reset"),
        "{:?} {}",
        run.statuses,
        run.stderr
    );
    if run.statuses == [401] {
        assert!(run.text.contains("connection: close"), "{}", run.text);
    }
    let run = curl(&ca, "--http2", "PUT", &push, &huge, 2, None);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.statuses, [401, 401], "{}", run.stderr);
    assert_eq!(run.new_connections, [1, 0]);
    assert!(!run.text.contains("connection:"), "{}", run.text);
    let run = curl(
        &ca,
        "--http1.1",
        "POST",
        &models,
        &small,
        1,
        Some("Bearer nvapi-not-a-key"),
    );
    assert_eq!(run.statuses, [401], "the server goes on: {}", run.stderr);
}

both_backends!(refusals_keep_connections, refusals_keep_connections);
