//! Signed models (issue 18, Catalog guide §16.6), on both backends, with real clients: NVIDIA's
//! `ngc registry model sign` makes the server sign a version it uploaded; `ngc registry model
//! download-version` and `download-version-signature` fetch the files and `result.sigstore`;
//! OpenSSF's `model_signing verify certificate` (PyPI model-signing 1.1.1) passes with the root
//! certificate from `/v2/catalog/models/public-key`, and fails once one byte of one file
//! changes. An unsigned version has no signature to download; a server without a signing secret
//! signs nothing and says why.

mod common;

use common::cli::Cli;
use common::ngc::{Ngc, bundle, ngc_paths};
use common::{Auth, Backend, ServeOptions, Server, path_str, signing_python};
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// Whether `ngc registry model list --signed` lists acme/det.
fn signed_listed(ngc: &Ngc) -> bool {
    let listed = ngc.ok(&[
        "registry",
        "model",
        "list",
        "acme/*",
        "--signed",
        "--format_type",
        "json",
    ]);
    listed.contains("\"det\"")
}

/// `model_signing verify certificate` of `model` against `root`: (passed, output).
fn verify(python: &str, model: &Path, signature: &Path, root: &Path) -> (bool, String) {
    let signature = path_str(signature);
    let (ok, text) = model_signing(
        python,
        &[
            "verify",
            "certificate",
            "--signature",
            signature,
            "--certificate_chain",
            path_str(root),
            "--ignore-paths",
            signature,
            path_str(model),
        ],
    );
    (ok && text.contains("Verification succeeded"), text)
}

async fn signed_models(backend: Backend) {
    let (Some(paths), Some(python)) = (ngc_paths(), signing_python()) else {
        return;
    };
    let Some(stores) = common::stores(backend).await else {
        return;
    };
    let ca = common::tls::make(stores.dir.path());
    let options = ServeOptions {
        tls: Some((ca.cert.clone(), ca.key.clone())),
        ..ServeOptions::signing(&stores)
    };
    let server = Server::start_with(&stores, &options);
    let api = common::Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    let owner = Auth::Bearer(server.key());
    let work = stores.dir.path().join("work");
    let src = work.join("det");
    for (path, content) in [
        ("weights.bin", "w".repeat(5000)),
        ("cfg/config.json", "{}".into()),
        ("README.md", "# det".into()),
    ] {
        let file = src.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    let (status, reply) = api
        .post(
            "/v2/org/acme/models",
            &owner,
            json!({"name": "det", "precision": "FP16"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let ngc = Ngc::new(&paths, &server.base, &bundle(&work, &ca.ca_pem), work.join("ngc-home")).with_key(&server.key());
    ngc.ok(&[
        "registry",
        "model",
        "upload-version",
        "acme/det:1.0",
        "--source",
        path_str(&src),
    ]);
    let dest = work.join("dest");
    std::fs::create_dir_all(&dest).unwrap();

    // Not signed yet: nothing to download.
    let (code, _, err) = ngc.run(&[
        "registry",
        "model",
        "download-version-signature",
        "acme/det:1.0",
        "--dest",
        path_str(&dest),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("not signed"), "{err}");
    let (_, version) = api.get("/v2/org/acme/models/det/versions/1.0", &owner).await;
    assert_eq!(version["modelVersion"]["isSigned"], false, "{version}");

    assert!(!signed_listed(&ngc), "listed as signed before it was");
    // A replica without the signing secret signs nothing, and says why.
    let plain = Server::start(&stores);
    let (status, reply) = plain
        .api()
        .call(
            reqwest::Method::PUT,
            "/v2/org/acme/models/det/versions/1.0/signature",
            &owner,
            None,
        )
        .await;
    assert_eq!(status, 409, "{reply}");
    assert!(reply.to_string().contains("--signing-secret-file"), "{reply}");
    drop(plain);

    // Signed by the server; fetched and verified by OpenSSF's model_signing.
    ngc.ok(&["registry", "model", "sign", "acme/det:1.0"]);
    let (_, version) = api.get("/v2/org/acme/models/det/versions/1.0", &owner).await;
    assert_eq!(version["modelVersion"]["isSigned"], true, "{version}");
    let (_, info) = api.get("/v2/org/acme/models/det", &owner).await;
    assert_eq!(info["model"]["hasSignedVersion"], true, "{info}");
    // Search knows it: `ngc registry model list --signed` finds it.
    assert!(signed_listed(&ngc), "not listed as signed");
    // A version cloned from the signed one is not signed until it is signed itself.
    std::fs::write(work.join("extra.txt"), "extra").unwrap();
    ngc.ok(&[
        "registry",
        "model",
        "upload-version",
        "acme/det:2.0",
        "--source",
        path_str(&work.join("extra.txt")),
        "--base-version",
        "1.0",
    ]);
    let (_, clone) = api.get("/v2/org/acme/models/det/versions/2.0", &owner).await;
    assert_eq!(clone["modelVersion"]["totalFileCount"], 4, "{clone}");
    assert_eq!(clone["modelVersion"]["isSigned"], false, "{clone}");
    ngc.ok(&[
        "registry",
        "model",
        "download-version",
        "acme/det:1.0",
        "--dest",
        path_str(&dest),
    ]);
    ngc.ok(&[
        "registry",
        "model",
        "download-version-signature",
        "acme/det:1.0",
        "--dest",
        path_str(&dest),
    ]);
    let model = dest.join("det_v1.0");
    let signature = model.join("result.sigstore");
    assert!(signature.exists(), "ngc saved no result.sigstore");
    let root_pem = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
        .get(format!("{}/v2/catalog/models/public-key", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(root_pem.starts_with("-----BEGIN CERTIFICATE-----"), "{root_pem}");
    let root = work.join("root.pem");
    std::fs::write(&root, &root_pem).unwrap();
    let (passed, said) = verify(&python, &model, &signature, &root);
    assert!(passed, "model_signing verify: {said}");
    println!("model_signing verify on {backend:?}: {}", said.trim());

    // One byte changed: the verification fails and names the file.
    let weights = model.join("weights.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&weights, bytes).unwrap();
    let (passed, said) = verify(&python, &model, &signature, &root);
    assert!(!passed, "a changed file verified: {said}");
    assert!(said.contains("weights.bin"), "{said}");
    // Another root does not verify it either.
    std::fs::create_dir_all(work.join("other-ca")).unwrap();
    let other = common::tls::make(&work.join("other-ca"));
    std::fs::write(&root, &other.ca_pem).unwrap();
    bytes = std::fs::read(&weights).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&weights, bytes).unwrap();
    let (passed, _) = verify(&python, &model, &signature, &root);
    assert!(!passed, "verified under a root that did not issue it");

    // Hangar's own CLI fetches the same signature; a replica without the secret refuses to
    // sign, saying why.
    let plain = Server::start(&stores);
    let cli = Cli::new(&plain, &work.join("hangar-home"))
        .key(&server.key())
        .org("acme")
        .prefix(&["registry", "model"]);
    let mine = work.join("hangar-dest");
    cli.ok(&["download-version-signature", "acme/det:1.0", "--dest", path_str(&mine)]);
    assert_eq!(
        std::fs::read(mine.join("det_v1.0/result.sigstore")).unwrap(),
        std::fs::read(&signature).unwrap()
    );
    let refused = cli.fails(&["sign", "acme/det:2.0"]);
    assert!(refused.contains("--signing-secret-file"), "{refused}");
    let unsigned = cli.fails(&["download-version-signature", "acme/det:2.0", "--dest", path_str(&mine)]);
    assert!(unsigned.contains("is not signed"), "{unsigned}");
    drop(plain);

    // The same for a resource.
    let (status, reply) = api
        .post("/v2/org/acme/resources", &owner, json!({"name": "notes"}))
        .await;
    assert_eq!(status, 200, "{reply}");
    ngc.ok(&[
        "registry",
        "resource",
        "upload-version",
        "acme/notes:1.0",
        "--source",
        path_str(&src),
    ]);
    ngc.ok(&["registry", "resource", "sign", "acme/notes:1.0"]);
    ngc.ok(&[
        "registry",
        "resource",
        "download-version",
        "acme/notes:1.0",
        "--dest",
        path_str(&dest),
    ]);
    ngc.ok(&[
        "registry",
        "resource",
        "download-version-signature",
        "acme/notes:1.0",
        "--dest",
        path_str(&dest),
    ]);
    std::fs::write(&root, &root_pem).unwrap();
    let resource = dest.join("notes_v1.0");
    let (passed, said) = verify(&python, &resource, &resource.join("result.sigstore"), &root);
    assert!(passed, "model_signing verify of the resource: {said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_models_sqlite() {
    signed_models(Backend::SqliteFolder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_models_postgres() {
    signed_models(Backend::PostgresS3).await;
}

/// Runs `python -m model_signing <args>`: (passed, output).
fn model_signing(python: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(python)
        .args(["-m", "model_signing"])
        .args(args)
        .output()
        .expect("run model_signing");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Publishers sign on their own machine with `model_signing sign key` or `sign certificate` and
/// upload the signature with `hangar registry model sign --signature`: the server keeps it only
/// when a key or certificate the org trusts verifies it and it names exactly the version's
/// files; otherwise it says which key or file failed.
async fn publisher_signatures(backend: Backend) {
    let Some(python) = signing_python() else { return };
    let Some(stores) = common::stores(backend).await else {
        return;
    };
    let server = Server::start_with(&stores, &ServeOptions::signing(&stores));
    let owner = Auth::Bearer(server.key());
    let api = server.api();
    let work = stores.dir.path().join("work");
    let pki = work.join("pki");
    let made = Command::new(&python)
        .arg(common::repo_root().join("crates/hangar-cli/tests/signing/make-pki"))
        .arg(&pki)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let src = work.join("det");
    for (path, content) in [("weights.bin", "w".repeat(3000)), ("cfg/config.json", "{}".into())] {
        let file = src.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    let (status, reply) = api.post("/v2/org/acme/models", &owner, json!({"name": "det"})).await;
    assert_eq!(status, 200, "{reply}");
    let cli = Cli::new(&server, &work.join("hangar-home"))
        .key(&server.key())
        .org("acme");
    let model = cli.prefix(&["registry", "model"]);
    model.ok(&["upload-version", "acme/det:1.0", "--source", path_str(&src)]);
    let sign_key = |key: &str, folder: &Path, signature: &Path| {
        let (ok, said) = model_signing(
            &python,
            &[
                "sign",
                "key",
                "--private_key",
                path_str(&pki.join(key)),
                "--signature",
                path_str(signature),
                path_str(folder),
            ],
        );
        assert!(ok, "model_signing sign key: {said}");
    };
    let sign_certificate = |(certificate, key, chain): (&str, &str, &str), signature: &Path| {
        let (ok, said) = model_signing(
            &python,
            &[
                "sign",
                "certificate",
                "--signing_certificate",
                path_str(&pki.join(certificate)),
                "--private_key",
                path_str(&pki.join(key)),
                "--certificate_chain",
                path_str(&pki.join(chain)),
                "--signature",
                path_str(signature),
                path_str(&src),
            ],
        );
        assert!(ok, "model_signing sign certificate: {said}");
    };
    let upload = |signature: &Path| {
        let out = model.output(&["sign", "acme/det:1.0", "--signature", path_str(signature)]);
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };

    // Signed with the publisher's key, before the org trusts it: refused, saying so.
    let by_key = work.join("by-key.sigstore");
    sign_key("key.pem", &src, &by_key);
    let (ok, said) = upload(&by_key);
    assert!(!ok && said.contains("no key the org trusts verifies it"), "{said}");
    cli.ok(&[
        "key",
        "signing",
        "add",
        "publisher",
        "--public-key",
        path_str(&pki.join("pub.pem")),
    ]);
    let (ok, said) = upload(&by_key);
    assert!(ok && said.contains("verified by key 'publisher'"), "{said}");
    println!("hangar registry model sign --signature on {backend:?}: {}", said.trim());
    let (_, version) = api.get("/v2/org/acme/models/det/versions/1.0", &owner).await;
    assert_eq!(version["modelVersion"]["isSigned"], true, "{version}");
    // What is downloaded is what was uploaded, and model_signing verifies it with the key.
    let dest = work.join("dest");
    model.ok(&["download-version", "acme/det:1.0", "--dest", path_str(&dest)]);
    model.ok(&["download-version-signature", "acme/det:1.0", "--dest", path_str(&dest)]);
    let downloaded = dest.join("det_v1.0");
    let signature = downloaded.join("result.sigstore");
    let (ok, said) = model_signing(
        &python,
        &[
            "verify",
            "key",
            "--public_key",
            path_str(&pki.join("pub.pem")),
            "--signature",
            path_str(&signature),
            "--ignore-paths",
            path_str(&signature),
            path_str(&downloaded),
        ],
    );
    assert!(
        ok && said.contains("Verification succeeded"),
        "model_signing verify key: {said}"
    );

    // A signature of other files names the file; one by a key nobody registered is refused.
    let changed = work.join("changed");
    std::fs::create_dir_all(changed.join("cfg")).unwrap();
    std::fs::write(changed.join("weights.bin"), "x".repeat(3000)).unwrap();
    std::fs::write(changed.join("cfg/config.json"), "{}").unwrap();
    let other_files = work.join("other-files.sigstore");
    sign_key("key.pem", &changed, &other_files);
    let (ok, said) = upload(&other_files);
    assert!(!ok && said.contains("file 'weights.bin' has sha256"), "{said}");
    println!("a signature of other files: {}", said.trim());
    let stranger = work.join("stranger.sigstore");
    sign_key("stranger-key.pem", &src, &stranger);
    let (ok, said) = upload(&stranger);
    assert!(!ok && said.contains("no key the org trusts verifies it"), "{said}");
    println!("a stranger's signature: {}", said.trim());
    let tampered = work.join("tampered.sigstore");
    let mut bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&by_key).unwrap()).unwrap();
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = json!("MEUCIQDtampered");
    std::fs::write(&tampered, bundle.to_string()).unwrap();
    let (ok, said) = upload(&tampered);
    assert!(!ok && said.contains("signature refused"), "{said}");

    // Signed with a certificate the publisher's CA issued: trusted once the CA is registered.
    let by_certificate = work.join("by-certificate.sigstore");
    sign_certificate(("leaf.pem", "leaf-key.pem", "ca.pem"), &by_certificate);
    let (ok, said) = upload(&by_certificate);
    assert!(
        !ok && said.contains("leads to no key or certificate the org trusts"),
        "{said}"
    );
    cli.ok(&[
        "key",
        "signing",
        "add",
        "publisher-ca",
        "--public-key",
        path_str(&pki.join("ca.pem")),
    ]);
    let (ok, said) = upload(&by_certificate);
    assert!(ok && said.contains("verified by key 'publisher-ca'"), "{said}");
    // A certificate that the leaf issued (the leaf is no CA) does not chain to the CA.
    let rogue = work.join("rogue.sigstore");
    sign_certificate(("rogue.pem", "rogue-key.pem", "leaf-and-ca.pem"), &rogue);
    let (ok, said) = upload(&rogue);
    assert!(!ok && said.contains("which must be a CA"), "{said}");
    println!("a certificate the leaf issued: {}", said.trim());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_signatures_sqlite() {
    publisher_signatures(Backend::SqliteFolder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_signatures_postgres() {
    publisher_signatures(Backend::PostgresS3).await;
}
