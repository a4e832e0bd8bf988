//! `hangar serve` settings: help text, TOML file, environment variables, refusals.

mod common;

use common::HANGAR;
use std::process::{Command, Stdio};

#[test]
fn help_documents_every_setting() {
    let out = Command::new(HANGAR).args(["serve", "--help"]).output().expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--config",
        "--data-dir",
        "--database",
        "--listen",
        "--blobs",
        "--tls-cert",
        "--tls-key",
        "--token-ttl",
        "--init-org",
        "--init-org-display-name",
        "--init-owner-email",
        "--init-owner-name",
        "--registry-service",
        "--invitation-expiry-minutes",
        "--log",
        "--max-layer-size",
        "--org-image-soft-limit",
        "--gc-interval",
        "--gc-grace",
        "--upload-expiry",
        "HANGAR_LISTEN",
        "HANGAR_DATABASE",
    ] {
        assert!(help.contains(flag), "`hangar serve --help` lacks {flag}:\n{help}");
    }
}

/// Starts `hangar serve` with the given args and env, reads stdout until it listens or exits.
fn serve_output(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut child = Command::new(HANGAR)
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::{BufRead, BufReader};
    let mut lines = Vec::new();
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let listening = line.starts_with("Hangar listening on");
        lines.push(line);
        if listening {
            let _ = child.kill();
            break;
        }
    }
    let out = child.wait_with_output().expect("wait");
    let listened = lines.iter().any(|l| l.starts_with("Hangar listening on"));
    (
        listened,
        lines.join("\n"),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn settings_from_file_and_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("hangar.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &file,
        format!("listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\ninit_org = \"fromfile\"\ninit_owner_email = \"boss@file.test\"\n", data.display()),
    )
    .expect("write");
    let (listened, stdout, stderr) = serve_output(
        &["--config", file.to_str().unwrap()],
        &[("HANGAR_INIT_OWNER_EMAIL", "boss@env.test")],
    );
    assert!(listened, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Created org 'fromfile' with owner boss@env.test"),
        "env beats file: {stdout}"
    );
    assert!(data.join("hangar.db").exists(), "data_dir from the file is used");
    assert!(data.join("blobs").is_dir());
}

#[test]
fn refusals_are_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "listen = \"127.0.0.1:0\"\nflavour = \"vanilla\"\n").expect("write");
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--config", bad_toml.to_str().unwrap()], "flavour"),
        (
            vec![
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                data,
                "--tls-cert",
                "/nonexistent.pem",
                "--tls-key",
                "/nonexistent.key",
            ],
            "nonexistent",
        ),
        (
            vec!["--listen", "127.0.0.1:0", "--data-dir", data, "--init-org", "Bad Org"],
            "org name",
        ),
        (
            vec![
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                data,
                "--blobs",
                "ftp://nowhere",
            ],
            "ftp://nowhere",
        ),
        (
            vec!["--listen", "127.0.0.1:0", "--data-dir", data, "--token-ttl", "5"],
            "token-ttl",
        ),
    ];
    for (args, needle) in cases {
        let (listened, stdout, stderr) = serve_output(&args, &[]);
        assert!(!listened, "{args:?} should not start: {stdout}");
        assert!(
            stderr.contains("Error:") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn wrong_s3_credentials_fail_the_start() {
    let Ok(endpoint) = std::env::var("HANGAR_TEST_S3_ENDPOINT") else {
        assert_ne!(
            std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref(),
            Ok("1"),
            "S3 is not configured"
        );
        eprintln!("note: S3 not configured; skipping");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let bucket = std::env::var("HANGAR_TEST_S3_BUCKET").unwrap_or_else(|_| "test-bucket".into());
    let blobs = format!("s3://{bucket}/wrong-creds");
    let (listened, stdout, stderr) = serve_output(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--blobs",
            &blobs,
        ],
        &[
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "hangar"),
            ("AWS_SECRET_ACCESS_KEY", "not-the-secret"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ALLOW_HTTP", "true"),
        ],
    );
    assert!(!listened, "{stdout}");
    assert!(stderr.contains("Error:"), "{stderr}");
}
