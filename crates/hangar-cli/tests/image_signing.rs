//! Signed images (issue 18, Catalog guide §12), on both backends, with real clients.
//!
//! Debian 13's skopeo 1.18 and podman 5.4 (`scripts/test-services` unpacks them; Debian 12's
//! are built with sigstore disabled) sign and verify: skopeo signs with a key from `hangar key
//! signing create` while it pushes (`--sign-by-sigstore-private-key`, sigstore attachments
//! turned on in `registries.d`), and podman pull and skopeo copy verify with a `policy.json` that
//! requires `sigstoreSigned` by a public key. The server checks every pushed signature against
//! the keys the org trusts: `isSigned` only once the publisher's key is registered, with the
//! reason shown before. `hangar registry image sign` signs with the org's server-held key,
//! which both verify with the key from `/v2/org/{org}/containers/public-key`. A signature
//! requirement refuses unsigned pulls with an OCI DENIED that says why, through skopeo, podman
//! and the Docker engine (Debian 12's), on a second replica too.

mod common;

use common::Auth;
use common::cli::Cli;
use common::clients::{Clients, Dockerd, creds, docker_available, have, host, require_all};
use common::registry::{OCI_MANIFEST, Registry, image_manifest, make_image};
use common::{ServeOptions, Server, Stores, admin_ok, member, path_str};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const PASSWORD: &str = "correct horse battery staple";

/// The folder with Debian 13's skopeo and podman (`scripts/test-services`); None (the test is
/// skipped) without it.
fn sigstore_clients() -> Option<PathBuf> {
    match std::env::var("HANGAR_TEST_SIGSTORE_CLIENTS") {
        Ok(dir) if Path::new(&dir).join("skopeo").exists() && Path::new(&dir).join("podman").exists() => {
            Some(PathBuf::from(dir))
        }
        _ => {
            assert!(
                !require_all(),
                "HANGAR_TEST_REQUIRE_ALL=1 but HANGAR_TEST_SIGSTORE_CLIENTS is not set (scripts/test-services install)"
            );
            eprintln!("note: no sigstore-enabled skopeo and podman; skipping");
            None
        }
    }
}

/// Sigstore-enabled skopeo and podman: sigstore attachments on for every registry, and a
/// signature policy per run (the clients' HOME holds podman's: `~/.config/containers`).
struct Signer {
    bin: PathBuf,
    dir: PathBuf,
    config: PathBuf,
}

impl Signer {
    fn new(bin: PathBuf, dir: &Path, clients: &Clients) -> Signer {
        let home = clients
            .env
            .iter()
            .find(|(k, _)| k == "HOME")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap();
        let config = home.join(".config/containers");
        std::fs::create_dir_all(config.join("registries.d")).unwrap();
        std::fs::write(
            config.join("registries.d/default.yaml"),
            "default-docker:\n  use-sigstore-attachments: true\n",
        )
        .unwrap();
        std::fs::write(dir.join("password"), PASSWORD).unwrap();
        let signer = Signer {
            bin,
            dir: dir.to_path_buf(),
            config,
        };
        signer.set_policy(None);
        signer
    }

    /// The signature policy in force: only images signed by `public_key` (`sigstoreSigned`),
    /// or anything.
    fn set_policy(&self, public_key: Option<&Path>) {
        let policy = match public_key {
            Some(key) => json!({
                "default": [{"type": "reject"}],
                "transports": {
                    "docker": {"": [{"type": "sigstoreSigned", "keyPath": path_str(key),
                                     "signedIdentity": {"type": "matchRepository"}}]},
                    "oci": {"": [{"type": "insecureAcceptAnything"}]},
                },
            }),
            None => json!({"default": [{"type": "insecureAcceptAnything"}]}),
        };
        std::fs::write(self.config.join("policy.json"), policy.to_string()).unwrap();
    }

    fn skopeo(&self, clients: &Clients, args: &[&str]) -> (bool, String, String) {
        let registries_d = self.config.join("registries.d");
        let policy = self.config.join("policy.json");
        let mut all = vec!["--policy", path_str(&policy), "--registries.d", path_str(&registries_d)];
        all.extend(args);
        clients.run(path_str(&self.bin.join("skopeo")), &all)
    }

    /// `podman pull` (podman 5, which checks the policy) into storage of its own.
    fn podman_pull(&self, clients: &Clients, creds: &str, image: &str) -> (bool, String, String) {
        let storage = tempfile::tempdir_in(&self.dir).unwrap();
        let args = ["pull", "--tls-verify=false", "--creds", creds, image];
        clients.podman_in(path_str(&self.bin.join("podman")), storage.path(), &args)
    }
}

async fn tag_json(api: &common::Api, auth: &Auth, repo: &str, tag: &str) -> Value {
    let (status, body) = api.get(&format!("/v2/org/acme/repos/{repo}/tags/{tag}"), auth).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn signed_images(stores: &Stores) {
    let Some(bin) = sigstore_clients() else {
        return;
    };
    if !have("skopeo") || !have("podman") {
        return;
    }
    let server = Server::start_with(stores, &ServeOptions::signing(stores));
    let key = server.key();
    let owner = Auth::Bearer(key.clone());
    let api = server.api();
    let registry = host(&server);
    let clients = Clients::new(stores);
    let work = stores.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let signer = Signer::new(bin, &work, &clients);
    let cli = Cli::new(&server, &work.join("hangar-home")).key(&key).org("acme");

    // Key pairs made by `hangar key signing create` (cosign's format), on this machine.
    for name in ["release", "stranger"] {
        let dir = work.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let out = cli.output_with_input(
            &["key", "signing", "create", "--output-dir", path_str(&dir)],
            &format!("{PASSWORD}\n{PASSWORD}\n"),
        );
        assert!(out.status.success(), "{out:?}");
    }
    let release_key = work.join("release/cosign.key");
    let release_pub = work.join("release/cosign.pub");
    let stranger_pub = work.join("stranger/cosign.pub");

    let layout = work.join("layout");
    let image = make_image(&layout, "v1", &["--layers", "20K,4K"]);
    make_image(&layout, "v2", &["--layers", "8K"]);
    let src = |tag: &str| format!("oci:{}:{tag}", path_str(&layout));
    let dst = |reference: &str| format!("docker://{registry}/{reference}");
    let owner_creds = creds(&key);
    let password_file = work.join("password");

    // skopeo signs while it pushes; the signature is stored, but no key of the org verifies it.
    let (ok, out, err) = signer.skopeo(
        &clients,
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &owner_creds,
            "--sign-by-sigstore-private-key",
            path_str(&release_key),
            "--sign-passphrase-file",
            path_str(&password_file),
            &src("v1"),
            &dst("acme/web:v1"),
        ],
    );
    assert!(ok, "signed push: {out}\n{err}");
    let tag = tag_json(&api, &owner, "web", "v1").await;
    assert_eq!(tag["digest"], image["digest"]);
    assert_eq!(tag["isSigned"], false, "{tag}");
    let problems = tag["signatureProblems"].to_string();
    assert!(problems.contains("trusts no signing key"), "{tag}");
    let info = cli.ok(&["registry", "image", "info", "acme/web:v1"]);
    assert!(
        info.contains("Signed?: False") && info.contains("Unverified Signature: the org trusts no signing key yet"),
        "{info}"
    );
    // Nothing of acme is public yet: a guest learns nothing of its keys.
    let (status, _) = api.get("/v2/org/acme/signing-keys", &Auth::None).await;
    assert_eq!(status, 404);
    // The catalog page (the repository made public) says so too, and why.
    let (status, body) = api
        .call(
            Method::PATCH,
            "/v2/org/acme/repos/web",
            &owner,
            Some(json!({"isPublic": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let page = || async {
        let url = format!("{}/catalog/containers/acme/web?section=tags", server.base);
        reqwest::get(url).await.unwrap().text().await.unwrap()
    };
    let html = page().await;
    assert!(
        html.contains(
            r#"<span class="badge unverified" title="the org trusts no signing key yet">Signature not verified</span>"#
        ),
        "{html}"
    );

    // A reader may see the keys but not change them.
    let reader = member(stores, "reader@example.com", &[("REGISTRY_READ", None)]);
    let (status, body) = api
        .post(
            "/v2/org/acme/signing-keys",
            &Auth::Bearer(reader.clone()),
            json!({"name": "sneaky", "publicKey": std::fs::read_to_string(&stranger_pub).unwrap()}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // A private key is refused, with why.
    let refused = cli.fails(&["key", "signing", "add", "oops", "--public-key", path_str(&release_key)]);
    assert!(refused.contains("never a private key"), "{refused}");

    // Registering the publisher's key makes the stored signature verified.
    cli.ok(&[
        "key",
        "signing",
        "add",
        "release",
        "--public-key",
        path_str(&release_pub),
    ]);
    let tag = tag_json(&api, &owner, "web", "v1").await;
    assert_eq!(
        (tag["isSigned"].clone(), tag["signedBy"].clone()),
        (json!(true), json!(["release"])),
        "{tag}"
    );
    let info = cli.ok(&["registry", "image", "info", "acme/web:v1"]);
    assert!(
        info.contains("Signed?: True") && info.contains("Signed By: release"),
        "{info}"
    );
    let html = page().await;
    assert!(
        html.contains(r#"<span class="badge signed" title="Verified with release">Signed</span>"#),
        "{html}"
    );
    // A guest who sees the public repository sees the keys too ("View all public keys"), and
    // fetches the org's server-held key as `ngc registry image publickey` does.
    assert!(
        html.contains("View all public keys")
            && html.contains("<strong>release</strong> <span class=\"muted\">Registered</span>"),
        "{html}"
    );
    let guest_pem = reqwest::get(format!("{}/v2/catalog/containers/public-key?org=acme", server.base))
        .await
        .unwrap();
    assert_eq!(guest_pem.status(), 200);
    assert!(
        guest_pem
            .text()
            .await
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let (status, _) = api.get("/v2/org/nobody-here/signing-keys", &Auth::None).await;
    assert_eq!(status, 404);
    let listed = cli.ok(&[
        "registry",
        "image",
        "list",
        "acme/*",
        "--signed",
        "--format_type",
        "json",
    ]);
    assert!(listed.contains("acme/web") || listed.contains("\"web\""), "{listed}");

    // podman and skopeo verify on pull: with the publisher's key they pass, with another they
    // fail. (success of podman pull, success of skopeo copy, their errors)
    let pulled = work.join("pulled");
    let verified_pull = |public_key: &Path, reference: &str| {
        signer.set_policy(Some(public_key));
        let podman = signer.podman_pull(&clients, &owner_creds, &format!("{registry}/{reference}"));
        let skopeo = signer.skopeo(
            &clients,
            &[
                "copy",
                "--remove-signatures",
                "--src-tls-verify=false",
                "--src-creds",
                &owner_creds,
                &dst(reference),
                &format!("oci:{}:x", path_str(&pulled)),
            ],
        );
        signer.set_policy(None);
        (
            podman.0,
            skopeo.0,
            format!("podman: {}\nskopeo: {}", podman.2.trim(), skopeo.2.trim()),
        )
    };
    let (podman_ok, skopeo_ok, err) = verified_pull(&release_pub, "acme/web:v1");
    assert!(podman_ok && skopeo_ok, "verified pull: {err}");
    let (podman_ok, skopeo_ok, err) = verified_pull(&stranger_pub, "acme/web:v1");
    assert!(
        !podman_ok && !skopeo_ok,
        "a pull verified with another key passed: {err}"
    );
    assert_eq!(err.matches("signature verification failed").count(), 2, "{err}");
    eprintln!("verified with another key:\n{err}");

    // The server signs v2 with the org's key; skopeo verifies it with the org's public key.
    let push_unsigned = |tag: &str, reference: &str| {
        let args = ["copy", "--dest-tls-verify=false", "--dest-creds", &owner_creds];
        clients.ok("skopeo", &[&args[..], &[&src(tag), &dst(reference)]].concat())
    };
    push_unsigned("v2", "acme/web:v2");
    assert_eq!(tag_json(&api, &owner, "web", "v2").await["isSigned"], false);
    let refused = Cli::new(&server, &work.join("reader-home"))
        .key(&reader)
        .org("acme")
        .fails(&["registry", "image", "sign", "acme/web:v2"]);
    assert!(refused.contains("owners and registry admins"), "{refused}");
    cli.ok(&["registry", "image", "sign", "acme/web:v2"]);
    let tag = tag_json(&api, &owner, "web", "v2").await;
    assert_eq!(tag["signedBy"], json!(["hangar"]), "{tag}");
    let hangar_pub = work.join("hangar.pub");
    cli.ok(&["key", "signing", "public-key", "--output", path_str(&hangar_pub)]);
    let (podman_ok, skopeo_ok, err) = verified_pull(&hangar_pub, "acme/web:v2");
    assert!(podman_ok && skopeo_ok, "pull of the server-signed image: {err}");
    let (podman_ok, skopeo_ok, err) = verified_pull(&release_pub, "acme/web:v2");
    assert!(
        !podman_ok && !skopeo_ok,
        "the server's signature verified with the publisher's key: {err}"
    );
    let keys = cli.ok(&["key", "signing", "list", "--format_type", "json"]);
    assert!(keys.contains("\"hangar\"") && keys.contains("\"release\""), "{keys}");

    // Require signatures for the org: unsigned pulls are refused, with why, by every client.
    push_unsigned("v1", "acme/plain:v1");
    cli.ok(&["registry", "image", "require-signatures"]);
    let why = "acme requires signed images";
    let system_pull = |reference: &str| {
        clients.run(
            "skopeo",
            &[
                "copy",
                "--remove-signatures",
                "--src-tls-verify=false",
                "--src-creds",
                &owner_creds,
                &dst(reference),
                &format!("oci:{}:y", path_str(&pulled)),
            ],
        )
    };
    let (ok, _, err) = system_pull("acme/plain:v1");
    assert!(
        !ok && err.contains(why) && err.contains("it has no signature"),
        "skopeo: {err}"
    );
    eprintln!("skopeo pull refused: {}", err.trim());
    let (ok, out, err) = system_pull("acme/web:v1");
    assert!(ok, "a signed image stays pullable: {out}\n{err}");
    let podman = podman_pull(&clients, &registry, &key, "acme/plain:v1");
    assert!(!podman.0 && podman.2.contains(why), "podman: {}", podman.2);
    eprintln!("podman pull refused: {}", podman.2.trim());
    assert!(
        podman_pull(&clients, &registry, &key, "acme/web:v2").0,
        "podman signed pull"
    );
    if docker_available() {
        let engine_dir = work.join("dockerd");
        std::fs::create_dir_all(&engine_dir).unwrap();
        let engine = Dockerd::start(&engine_dir, &clients);
        let (ok, _, err) = engine.docker(
            &clients,
            &["login", "-u", "$oauthtoken", "--password-stdin", &registry],
            Some(&key),
        );
        assert!(ok, "docker login: {err}");
        let (ok, out, err) = engine.docker(&clients, &["pull", &format!("{registry}/acme/plain:v1")], None);
        assert!(!ok && err.contains(why), "docker: {out}\n{err}");
        eprintln!("docker pull refused: {}", err.trim());
        let (ok, out, err) = engine.docker(&clients, &["pull", &format!("{registry}/acme/web:v1")], None);
        assert!(ok, "docker signed pull: {out}\n{err}");
    }
    // Another replica refuses the same.
    let replica = Server::start(stores);
    let (ok, _, err) = clients.run(
        "skopeo",
        &[
            "inspect",
            "--tls-verify=false",
            "--creds",
            &owner_creds,
            &format!("docker://{}/acme/plain:v1", host(&replica)),
        ],
    );
    assert!(!ok && err.contains(why), "replica: {err}");
    drop(replica);

    // No longer trusting the publisher's key: its image is unverified, and refused.
    cli.ok(&["key", "signing", "remove", "release", "-y"]);
    let tag = tag_json(&api, &owner, "web", "v1").await;
    assert_eq!(tag["isSigned"], false, "{tag}");
    let (ok, _, err) = system_pull("acme/web:v1");
    assert!(
        !ok && err.contains("its signature is not verified: no key the org trusts verifies it"),
        "{err}"
    );
    // Off for the org, on for one repository only.
    cli.ok(&["registry", "image", "require-signatures", "--off"]);
    cli.ok(&["registry", "image", "require-signatures", "acme/plain"]);
    let (ok, _, err) = system_pull("acme/plain:v1");
    assert!(!ok && err.contains("acme/plain requires signed images"), "{err}");
    let (ok, out, err) = system_pull("acme/web:v1");
    assert!(ok, "web is not covered: {out}\n{err}");
    // On for a team: its repositories need signatures, the org's others do not.
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    push_unsigned("v1", "acme/vision/app:v1");
    cli.ok(&["registry", "image", "require-signatures", "--team", "vision"]);
    let (ok, _, err) = system_pull("acme/vision/app:v1");
    assert!(!ok && err.contains("acme/vision requires signed images"), "{err}");
    cli.ok(&["registry", "image", "require-signatures", "--team", "vision", "--off"]);
    let (ok, out, err) = system_pull("acme/vision/app:v1");
    assert!(ok, "the team no longer requires signatures: {out}\n{err}");
    let (_, requirements) = api.get("/v2/org/acme/signature-requirements", &owner).await;
    assert_eq!(
        requirements["requirements"],
        json!([{"kind": "repository", "path": "acme/plain"}]),
        "{requirements}"
    );

    // An image dressed up as a signature (cosign's artifact type, a simple-signing layer, no
    // signature tag) is no signature: refused like any unsigned image.
    let reg = Registry::new(&server, Some(key.clone()));
    let payload = reg.push_blob("acme/plain", b"{}").await;
    let mut disguised = image_manifest(&reg.push_blob("acme/plain", b"{}").await, &[(&payload, 2)], None);
    disguised["config"]["size"] = json!(2);
    disguised["artifactType"] = json!("application/vnd.dev.cosign.artifact.sig.v1+json");
    disguised["layers"][0]["mediaType"] = json!("application/vnd.dev.cosign.simplesigning.v1+json");
    let r = reg
        .push_manifest("acme/plain", "disguised", OCI_MANIFEST, &disguised)
        .await;
    assert_eq!(r.status(), 201);
    let r = reg
        .send(Method::GET, "/v2/acme/plain/manifests/disguised", &[], vec![])
        .await;
    assert_eq!(r.status(), 403, "a disguised image was served");
    // A requirement outlives its repository until it is lifted.
    let (status, _) = api.call(Method::DELETE, "/v2/org/acme/repos/plain", &owner, None).await;
    assert_eq!(status, 200);
    cli.ok(&["registry", "image", "require-signatures", "acme/plain", "--off"]);
    let (_, requirements) = api.get("/v2/org/acme/signature-requirements", &owner).await;
    assert_eq!(requirements["requirements"], json!([]), "{requirements}");
}
both_backends!(signed, signed_images);

/// `podman pull` as root with vfs storage: (success, stdout, stderr).
fn podman_pull(clients: &Clients, registry: &str, key: &str, reference: &str) -> (bool, String, String) {
    // podman reads REGISTRY_AUTH_FILE even with --creds.
    let auth_file = clients.dir.join("auth.json");
    if !auth_file.exists() {
        std::fs::write(&auth_file, "{}").unwrap();
    }
    let image = format!("{registry}/{reference}");
    clients.podman(&["pull", "--tls-verify=false", "--creds", &creds(key), &image])
}
