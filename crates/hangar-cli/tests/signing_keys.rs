//! `hangar key signing create` (issue 18, first part): a cosign-format key pair that an
//! implementation independent of Hangar's opens and signs with — Python's hashlib scrypt,
//! PyNaCl's secretbox and cryptography's PKCS#8 and ECDSA, as go-tuf's `encrypted` package
//! defines the file — and whose signatures Hangar's verifier (`hangar_core::cosign`) accepts only
//! for the payload signed and only under its own public key. The password comes from
//! COSIGN_PASSWORD or is typed twice; existing files are never overwritten.

mod common;

use common::signing_python;
use hangar_core::cosign;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hangar(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hangar"))
        .args(args)
        .env_remove("COSIGN_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hangar");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().expect("hangar output")
}

/// `tests/signing/cosign-key`: signs `payload` with the key, or fails.
fn python_signs(python: &str, dir: &Path, password: &str, payload: &str) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signing/cosign-key");
    Command::new(python)
        .arg(script)
        .arg(dir.join("cosign.key"))
        .arg(dir.join("cosign.pub"))
        .args([password, payload])
        .output()
        .expect("run python")
}

#[test]
fn cosign_key_pairs_open_elsewhere_and_verify_here() {
    let Some(python) = signing_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let made = hangar(
        &["key", "signing", "create", "--output-dir", out_dir],
        &[("COSIGN_PASSWORD", "correct horse")],
        "",
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let said = String::from_utf8_lossy(&made.stdout);
    assert!(said.contains("cosign.key") && said.contains("cosign.pub"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("cosign.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is readable by its owner only");
    }

    // Python opens it with go-tuf's scheme and signs; Hangar's verifier takes that signature
    // for that payload under that key only.
    let payload = r#"{"critical":{"image":{"docker-manifest-digest":"sha256:00"}}}"#;
    let signed = python_signs(&python, dir.path(), "correct horse", payload);
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let signature = String::from_utf8(signed.stdout).unwrap();
    let public = std::fs::read_to_string(dir.path().join("cosign.pub")).unwrap();
    let key = cosign::public_key(&public).unwrap();
    assert!(cosign::verifies(&key, payload.as_bytes(), &signature));
    assert!(!cosign::verifies(
        &key,
        payload.replace("00", "01").as_bytes(),
        &signature
    ));
    let refused = python_signs(&python, dir.path(), "wrong horse", payload);
    assert!(!refused.status.success(), "a wrong password opened the key");
    // And Hangar opens it too.
    let pem = std::fs::read_to_string(dir.path().join("cosign.key")).unwrap();
    assert!(cosign::decrypt(&pem, b"correct horse").is_ok());

    // Never over existing files.
    let again = hangar(
        &["key", "signing", "create", "--output-dir", out_dir],
        &[("COSIGN_PASSWORD", "x")],
        "",
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert_eq!(std::fs::read_to_string(dir.path().join("cosign.pub")).unwrap(), public);

    // Typed twice on stdin; two different ones are refused and nothing is written.
    let typed = tempfile::tempdir().unwrap();
    let typed_dir = typed.path().to_str().unwrap();
    let args = ["key", "signing", "create", "--output-dir", typed_dir];
    let mismatch = hangar(&args, &[], "one\ntwo\n");
    assert_eq!(mismatch.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&mismatch.stderr).contains("do not match"));
    assert!(!typed.path().join("cosign.key").exists());
    let made = hangar(&args, &[], "typed pass\ntyped pass\n");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(python_signs(&python, typed.path(), "typed pass", "x").status.success());
}
