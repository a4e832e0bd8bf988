//! Stored bytes are never claimed by their digest alone (issue 12, items 1 and 2). Bytes held
//! by a private model version, a container repository and a chart of one team are offered, by
//! digest, to four callers — an org-level member of the same org (who may read them), a member
//! of another team, the owner of another org, and a former member — through every path that
//! attaches stored bytes without sending them: NGC's dedupe check, a model commit with and
//! without a base version, a cross-repository mount (from the repository and from anywhere),
//! and a Helm chart pushed over OCI. Only the reader may use them; everyone else is told
//! "not stored" and must upload. Runs in-process on both backends.

mod common;

use axum::http::Method;
use common::app::{Reply, TestApp};
use common::charts::chart_tgz;
use common::files::{Target, b64_sha256};
use common::{Auth, Stores};
use hangar_core::roles::Role;
use serde_json::json;
use sha2::Digest as _;

fn hex_sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

fn ok(reply: &Reply, what: &str) {
    assert!(reply.status.is_success(), "{what}: {} {}", reply.status, reply.text());
}

/// Version `version` of model `mine` in `space` (`/v2/org/{org}[/team/{team}]`).
fn mine<'a>(space: &'a str, version: &'a str) -> Target<'a> {
    Target {
        space,
        kind: "models",
        name: "mine",
        version,
    }
}

/// The bytes of one team, one kind of holder each.
struct Held {
    model_file: Vec<u8>,
    layer: Vec<u8>,
    chart: Vec<u8>,
}

/// Team `vision` of acme: a private model with a file, a repository with a layer, a chart.
async fn hold(app: &TestApp, alice: &Auth) -> Held {
    let held = Held {
        model_file: b"weights that only team vision may read".to_vec(),
        layer: b"a layer of a private image of team vision".to_vec(),
        chart: chart_tgz("secret", "0.1.0", &[("values.yaml", "password: hunter2\n")]),
    };
    let secret = Target {
        space: "/v2/org/acme/team/vision",
        kind: "models",
        name: "secret",
        version: "1",
    };
    app.version_with(alice, &secret, &[("weights.bin", &held.model_file)])
        .await;
    let pushed = app
        .send(
            Method::POST,
            &format!("/v2/acme/vision/app/blobs/uploads/?digest={}", hex_sha256(&held.layer)),
            alice,
            &[("content-type", "application/octet-stream")],
            held.layer.clone(),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text());
    let chart = app
        .send(
            Method::POST,
            "/helm/api/acme/vision/charts",
            alice,
            &[("content-type", "application/gzip")],
            held.chart.clone(),
        )
        .await;
    assert_eq!(chart.status, 201, "{}", chart.text());
    held
}

/// One caller who tries to use the held bytes, and where their own things live.
struct Taker {
    who: &'static str,
    auth: Auth,
    /// `/v2/org/{org}[/team/{team}]` of their model.
    space: &'static str,
    /// `org/[team/]` of their repositories.
    repos: &'static str,
    may_read: bool,
}

async fn takers(app: &TestApp) -> Vec<Taker> {
    let (_, sam) = app.user("sam@acme.test", &[("acme", None, Role::RegistryUser)]).await;
    let (_, tom) = app
        .user("tom@acme.test", &[("acme", Some("audio"), Role::RegistryUser)])
        .await;
    app.org("rival").await;
    let (_, otto) = app.user("otto@rival.test", &[("rival", None, Role::OrgOwner)]).await;
    app.org("fredco").await;
    let (fred_user, fred) = app
        .user(
            "fred@fredco.test",
            &[
                ("acme", Some("vision"), Role::RegistryUser),
                ("fredco", None, Role::OrgOwner),
            ],
        )
        .await;
    app.remove(&fred_user, "acme").await;
    let taker = |who, auth, space, repos, may_read| Taker {
        who,
        auth,
        space,
        repos,
        may_read,
    };
    vec![
        taker("same org", sam, "/v2/org/acme", "acme/", true),
        taker("other team", tom, "/v2/org/acme/team/audio", "acme/audio/", false),
        taker("other org", otto, "/v2/org/rival", "rival/", false),
        taker("former member", fred, "/v2/org/fredco", "fredco/", false),
    ]
}

/// What one row saw: `true` when the caller got to use the bytes.
async fn dedupe(app: &TestApp, t: &Taker, model: &str, data: &[u8]) -> bool {
    let reply = app
        .call(
            Method::POST,
            &format!("{}/models/{model}/files", t.space),
            &t.auth,
            Some(json!({"files": [{"sha256": b64_sha256(data)}]})),
        )
        .await;
    ok(&reply, "dedupe");
    reply.json()["files"][0]["exists"].as_bool().expect("exists")
}

async fn commit_row(app: &TestApp, t: &Taker, version: &str, base: Option<&str>, data: &[u8]) -> bool {
    let target = mine(t.space, version);
    app.new_version(&t.auth, &target).await;
    let reply = app.commit(&t.auth, &target, base, &[("taken.bin", data)]).await;
    match reply.status.as_u16() {
        200 => true,
        400 => {
            assert!(reply.text().contains("has not been uploaded"), "{}", reply.text());
            false
        }
        other => panic!("commit: {other} {}", reply.text()),
    }
}

async fn mount_row(app: &TestApp, t: &Taker, repo: &str, data: &[u8], from: Option<&str>) -> bool {
    let mut uri = format!("/v2/{}{repo}/blobs/uploads/?mount={}", t.repos, hex_sha256(data));
    if let Some(from) = from {
        uri.push_str(&format!("&from={from}"));
    }
    let reply = app.send(Method::POST, &uri, &t.auth, &[], vec![]).await;
    match reply.status.as_u16() {
        201 => true,
        202 => false,
        other => panic!("mount: {other} {}", reply.text()),
    }
}

/// A Helm chart pushed over OCI whose layer is the held archive, never uploaded here.
async fn oci_chart_row(app: &TestApp, t: &Taker, chart: &[u8]) -> bool {
    let repo = format!("{}secret", t.repos);
    let config = br#"{"name":"secret","version":"0.1.0","apiVersion":"v2"}"#;
    let pushed = app
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={}", hex_sha256(config)),
            &t.auth,
            &[],
            config.to_vec(),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json",
                   "digest": hex_sha256(config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "digest": hex_sha256(chart), "size": chart.len()}],
    });
    let reply = app
        .send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/0.1.0"),
            &t.auth,
            &[("content-type", "application/vnd.oci.image.manifest.v1+json")],
            serde_json::to_vec(&manifest).unwrap(),
        )
        .await;
    let versions = app
        .call(
            Method::GET,
            &format!("{}/helm-charts/secret/versions", t.space),
            &t.auth,
            None,
        )
        .await;
    let recorded = versions.status == 200 && versions.text().contains("0.1.0");
    match reply.status.as_u16() {
        201 => true,
        400 => {
            assert!(reply.text().contains("MANIFEST_BLOB_UNKNOWN"), "{}", reply.text());
            assert!(!recorded, "a refused push records no chart version");
            false
        }
        other => panic!("OCI chart push: {other} {}", reply.text()),
    }
}

async fn table(stores: &Stores) {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    app.team("acme", "vision").await;
    app.team("acme", "audio").await;
    let (_, alice) = app
        .user("alice@acme.test", &[("acme", Some("vision"), Role::RegistryUser)])
        .await;
    let held = hold(&app, &alice).await;
    let kinds: [(&str, &[u8]); 3] = [
        ("model file", &held.model_file),
        ("image layer", &held.layer),
        ("chart archive", &held.chart),
    ];
    let mut rows = 0;
    let mut wrong = vec![];
    for t in takers(&app).await {
        // Their own model, with a complete base version holding a file of their own.
        let own = format!("own {}", t.who).into_bytes();
        app.version_with(&t.auth, &mine(t.space, "base"), &[("own.bin", &own)])
            .await;
        for (n, (kind, data)) in kinds.iter().enumerate() {
            let seen = [
                ("dedupe", dedupe(&app, &t, "mine", data).await),
                ("commit", commit_row(&app, &t, &format!("plain-{n}"), None, data).await),
                (
                    "commit on a base version",
                    commit_row(&app, &t, &format!("based-{n}"), Some("base"), data).await,
                ),
            ];
            for (path, used) in seen {
                rows += 1;
                if used != t.may_read {
                    wrong.push(format!("{path} of the {kind} by {}: used = {used}", t.who));
                }
            }
        }
        let mounts = [
            (
                "mount from the repository",
                mount_row(&app, &t, "mounted", &held.layer, Some("acme/vision/app")).await,
            ),
            (
                "mount from anywhere",
                mount_row(&app, &t, "anywhere", &held.layer, None).await,
            ),
        ];
        for (path, used) in mounts {
            rows += 1;
            if used != t.may_read {
                wrong.push(format!("{path} by {}: used = {used}", t.who));
            }
        }
        // Recording a chart from an OCI push needs the archive in the pusher's repository:
        // nobody gets it by digest, not even a reader (who may mount or upload it).
        rows += 1;
        if oci_chart_row(&app, &t, &held.chart).await {
            wrong.push(format!("OCI chart push by {}: recorded from bytes never sent", t.who));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {rows} rows wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!("{rows} rows as expected");
}

both_backends!(stored_bytes_need_read_access, table);
