//! The Catalog's access levels through real clients (Catalog guide §4), on both backends: wget
//! of a guest-access model with no credential and of an authenticated-access one with another
//! org's token; NVIDIA's `ngc` as a registered user of another org, refused an entitled model
//! until its org subscribes to the product, refused again the moment the subscription expires,
//! and unable even to see an exclusive one without a subscription.

mod common;

use common::ngc::{Ngc, bundle, ngc_paths};
use common::{Api, Auth, Server, Stores, admin_ok, outsider_key};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const WEIGHTS: &[u8] = b"the weights of a gated model, not for everyone";

/// `PATCH {OT}/models/{name}` with `body` as the owner; must succeed.
async fn offer(api: &Api, owner: &str, model: &str, body: Value) {
    let (status, reply) = api
        .patch(
            &format!("/v2/org/acme/models/{model}"),
            &Auth::Bearer(owner.to_string()),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
}

/// `wget` of `url` into `out`, trusting `ca`, with an optional bearer token: wget's exit code.
fn wget(url: &str, ca: &Path, token: Option<&str>, out: &Path) -> i32 {
    let mut cmd = Command::new("timeout");
    cmd.args(["120", "wget", "-q", "--ca-certificate"])
        .arg(ca)
        .arg("-O")
        .arg(out);
    if let Some(token) = token {
        cmd.arg("--header").arg(format!("Authorization: Bearer {token}"));
    }
    let status = cmd.arg(url).status().expect("run wget");
    status.code().unwrap_or(-1)
}

async fn access_levels(stores: &Stores) {
    let Some(paths) = ngc_paths() else {
        return;
    };
    let dir = stores.dir.path();
    let (server, ca) = Server::start_tls(stores);
    let bundle = bundle(dir, &ca.ca_pem);
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let owner_key = server.key();
    let owner = Ngc::new(&paths, &server.base, &bundle, dir.join("owner")).with_key(&owner_key);
    owner.json(&[
        "registry",
        "model",
        "create",
        "acme/gated",
        "--application",
        "OTHER",
        "--framework",
        "Other",
        "--format",
        "bin",
        "--precision",
        "FP32",
        "--short-desc",
        "gated weights",
    ]);
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("w.bin"), WEIGHTS).unwrap();
    let (code, out, err) = owner.run(&[
        "registry",
        "model",
        "upload-version",
        "acme/gated:1.0",
        "--source",
        src.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "upload-version: {out}{err}");

    let api = Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    let beta_key = outsider_key(stores, "beta");
    let beta = Ngc::new(&paths, &server.base, &bundle, dir.join("beta"))
        .with_key(&beta_key)
        .in_org("beta");
    let guest = Ngc::new(&paths, &server.base, &bundle, dir.join("guest"));

    // wget, as the Catalog guide §16.4 has it: a guest-access file with nothing, an
    // authenticated-access one only with a token of some org.
    let file_url = format!("{}/v2/models/acme/gated/versions/1.0/files/w.bin", server.base);
    let fetched = dir.join("wget.bin");
    offer(&api, &owner_key, "gated", json!({"accessType": "GUEST"})).await;
    assert_eq!(
        wget(&file_url, &ca_file, None, &fetched),
        0,
        "guest wget of guest access"
    );
    assert_eq!(std::fs::read(&fetched).unwrap(), WEIGHTS);
    offer(&api, &owner_key, "gated", json!({"accessType": "AUTHENTICATED"})).await;
    assert_ne!(
        wget(&file_url, &ca_file, None, &fetched),
        0,
        "guest wget of authenticated access"
    );
    let token = api.token(&beta_key, "beta").await;
    std::fs::remove_file(&fetched).unwrap();
    assert_eq!(
        wget(&file_url, &ca_file, Some(&token), &fetched),
        0,
        "another org's token fetches authenticated access"
    );
    assert_eq!(std::fs::read(&fetched).unwrap(), WEIGHTS);

    // Entitled: everyone sees it, only subscribers download it.
    admin_ok(
        stores,
        &["product", "create", "enterprise", "--display-name", "Acme Enterprise"],
    );
    offer(
        &api,
        &owner_key,
        "gated",
        json!({"accessType": "ENTITLED", "productNames": ["enterprise"]}),
    )
    .await;
    let got = dir.join("got");
    std::fs::create_dir_all(&got).unwrap();
    let download = [
        "registry",
        "model",
        "download-version",
        "acme/gated:1.0",
        "--dest",
        got.to_str().unwrap(),
    ];
    let downloaded = got.join("gated_v1.0/w.bin");
    for (who, ngc) in [("a guest", &guest), ("a registered user of beta", &beta)] {
        let info = ngc.json(&["registry", "model", "info", "acme/gated"]);
        let model = if info["model"].is_object() {
            &info["model"]
        } else {
            &info
        };
        assert_eq!(model["productNames"], json!(["enterprise"]), "{who} sees: {info}");
        let (code, out, err) = ngc.run(&download);
        assert_ne!(code, 0, "{who} may not download entitled content: {out}{err}");
        assert!(!downloaded.exists(), "{who} got no bytes");
    }
    admin_ok(stores, &["product", "subscribe", "beta", "enterprise"]);
    let (code, out, err) = beta.run(&download);
    assert_eq!(code, 0, "a subscriber downloads: {out}{err}");
    assert_eq!(std::fs::read(&downloaded).unwrap(), WEIGHTS);
    std::fs::remove_file(&downloaded).unwrap();
    let (code, _, _) = guest.run(&download);
    assert_ne!(code, 0, "a guest still may not");

    // The subscription expires: downloads stop at once.
    admin_ok(
        stores,
        &[
            "product",
            "subscribe",
            "beta",
            "enterprise",
            "--expires",
            "2020-01-01T00:00:00Z",
        ],
    );
    let (code, out, err) = beta.run(&download);
    assert_ne!(code, 0, "an expired subscription downloads nothing: {out}{err}");
    assert!(!downloaded.exists());

    // Exclusive: not even seen without a subscription.
    offer(&api, &owner_key, "gated", json!({"accessType": "EXCLUSIVE"})).await;
    for (who, ngc) in [("a guest", &guest), ("a lapsed subscriber", &beta)] {
        let (code, out, _) = ngc.run(&["registry", "model", "info", "acme/gated"]);
        assert_ne!(code, 0, "{who} may not see exclusive content: {out}");
    }
    admin_ok(stores, &["product", "subscribe", "beta", "enterprise"]);
    let info = beta.json(&["registry", "model", "info", "acme/gated"]);
    let model = if info["model"].is_object() {
        &info["model"]
    } else {
        &info
    };
    assert_eq!(model["accessType"], "EXCLUSIVE", "{info}");
    let (code, out, err) = beta.run(&download);
    assert_eq!(code, 0, "a subscriber downloads exclusive content: {out}{err}");
    assert_eq!(std::fs::read(&downloaded).unwrap(), WEIGHTS);
}
both_backends!(catalog_access, access_levels);
