//! Real third-party chart clients against `hangar serve`, on both backends:
//!
//! - NVIDIA's `ngc` CLI (PyPI ngcsdk 4.37.0) over TLS: `registry chart create|push|pull|list|info|
//!   update|remove` in the org and in a team, with a legacy key and an `nvapi-` key, and the
//!   refusals a registry-read member gets. Its chart bytes go to the hard-coded
//!   `https://helm.ngc.nvidia.com` (ngc-api.md §7, §11(b)); `HTTPS_PROXY` points at a local
//!   CONNECT proxy (tests/common/proxy.rs) that tunnels that name to the server, which is started
//!   with `--helm-host helm.ngc.nvidia.com` and a certificate naming it.
//! - The Helm v4 SDK (PyPI helm-sdkpy, driven by tests/helm/helm-client): a chart linted,
//!   packaged and pushed to `oci://127.0.0.1:PORT/acme[/vision]`, checked as OCI content.
//! - The Helm repository: charts uploaded ChartMuseum-style, `index.yaml` checked field by field
//!   and loaded by the Helm SDK (`repo add`, then a chart read through the index).
//!
//! The clients come from `scripts/test-services install` (venvs named by HANGAR_TEST_NGC_PYTHON
//! and HANGAR_TEST_HELM_PYTHON; `ngc` is run by scripts/ngc). Without them a test says so and
//! passes, unless `HANGAR_TEST_REQUIRE_ALL=1`: then it fails.

mod common;

use common::charts::helm_client;
use common::ngc::{Ngc, bundle, column, ngc_paths};
use common::proxy::ConnectProxy;
use common::registry::{OCI_MANIFEST, Registry, sha};
use common::{Api, Auth, ServeOptions, Server, Stores, admin_ok, member, path_str};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The Helm repository host the ngc CLI hard-codes (production environment).
const HELM_HOST: &str = "helm.ngc.nvidia.com";
/// Every client command is bounded by this many seconds.
const CLIENT_TIMEOUT: &str = "300";
const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const HELM_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

fn require_all() -> bool {
    std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() == Ok("1")
}

/// The values of the environment variables `names`, or None (a note) when one is missing;
/// under `HANGAR_TEST_REQUIRE_ALL=1` a missing one fails the test.
fn tools(names: &[&str]) -> Option<Vec<String>> {
    let values: Vec<Option<String>> = names
        .iter()
        .map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        .collect();
    if values.iter().all(Option::is_some) {
        return Some(values.into_iter().flatten().collect());
    }
    assert!(
        !require_all(),
        "HANGAR_TEST_REQUIRE_ALL=1 but {names:?} are not all set (scripts/test-services)"
    );
    eprintln!("note: {names:?} not set (run scripts/test); skipping");
    None
}

/// `host:port` of a server's base URL.
fn authority(server: &Server) -> String {
    server
        .base
        .split("://")
        .nth(1)
        .expect("base URL")
        .trim_end_matches('/')
        .to_string()
}

fn socket(server: &Server) -> SocketAddr {
    authority(server).parse().expect("server address")
}

/// A packaged chart as `helm package` lays it out: `name/Chart.yaml`, `name/values.yaml` and a
/// template, in a gzip tar.
fn chart_tgz(name: &str, version: &str, description: &str) -> Vec<u8> {
    let chart_yaml = format!(
        "apiVersion: v2\nname: {name}\ndescription: {description}\ntype: application\nversion: {version}\nappVersion: \"{version}-app\"\n"
    );
    let files: [(&str, String); 3] = [
        ("Chart.yaml", chart_yaml),
        ("values.yaml", format!("image: {name}\ntag: \"{version}\"\n")),
        (
            "templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  image: {{ .Values.image | quote }}\n".to_string(),
        ),
    ];
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        tar.append_data(&mut header, format!("{name}/{path}"), text.as_bytes())
            .expect("tar entry");
    }
    tar.into_inner().expect("tar").finish().expect("gzip")
}

fn hex_sha(bytes: &[u8]) -> String {
    sha(bytes).trim_start_matches("sha256:").to_string()
}

// ------------------------------------------------------------------------------------------
// ngc

/// The rows of ngc's csv output, by column title.
fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let titles: Vec<String> = reader
        .headers()
        .expect("csv header")
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            titles
                .iter()
                .cloned()
                .zip(r.expect("csv row").iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The NGC error text the REST API gives for a request.
async fn api_refusal(api: &Api, method: Method, path: &str, key: &str, body: Option<Value>) -> String {
    let (status, body) = api.call(method, path, &Auth::Bearer(key.to_string()), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    let text = common::api::error_text(&body).to_string();
    assert!(!text.is_empty(), "{path}: no statusDescription in {body}");
    text
}

/// Every `ngc registry chart` verb on `scope` (`acme` or `acme/vision`), as `ngc` with a key
/// that may write, and as `reader` (registry-read member).
async fn chart_verbs(ngc: &Ngc, reader: &Ngc, api: &Api, scope: &str) {
    let name = "webapp";
    let target = format!("{scope}/{name}");
    let at = |v: &str| format!("{target}:{v}");
    let rest = match scope.split_once('/') {
        Some((org, team)) => format!("/v2/org/{org}/team/{team}/helm-charts"),
        None => format!("/v2/org/{scope}/helm-charts"),
    };

    let made = ngc.json(&["registry", "chart", "create", &target, "--short-desc", "A web app"]);
    assert_eq!(made["name"], name, "{made}");
    let again = ngc.refused(&["registry", "chart", "create", &target, "--short-desc", "again"]);
    assert!(again.contains("already exists"), "{again}");

    let src = ngc.home.join(format!("src-{}", scope.replace('/', "-")));
    std::fs::create_dir_all(&src).unwrap();
    let v1 = chart_tgz(name, "0.1.0", "first webapp");
    let v2 = chart_tgz(name, "0.2.0", "second webapp");
    std::fs::write(src.join("webapp-0.1.0.tgz"), &v1).unwrap();
    std::fs::write(src.join("webapp-0.2.0.tgz"), &v2).unwrap();
    let source = path_str(&src);
    ngc.ok(&["registry", "chart", "push", &at("0.1.0"), "--source", source]);
    ngc.ok(&["registry", "chart", "push", &at("0.2.0"), "--source", source]);
    let twice = ngc.refused(&["registry", "chart", "push", &at("0.1.0"), "--source", source]);
    assert!(twice.contains("already exists"), "{twice}");

    let pull = |who: &Ngc, what: &str, dir: &str| -> PathBuf {
        let dest = who.home.join(dir);
        std::fs::create_dir_all(&dest).unwrap();
        who.ok(&["registry", "chart", "pull", what, "--dest", path_str(&dest)]);
        dest
    };
    let latest = pull(ngc, &target, &format!("latest-{}", scope.replace('/', "-")));
    let got = std::fs::read(latest.join("webapp-0.2.0.tgz")).expect("pulled the latest version");
    assert!(got == v2, "pull without a version: byte-identical 0.2.0");
    let first = pull(ngc, &at("0.1.0"), &format!("first-{}", scope.replace('/', "-")));
    let got = std::fs::read(first.join("webapp-0.1.0.tgz")).expect("pulled 0.1.0");
    assert!(got == v1, "pull 0.1.0: byte-identical");

    let found = ngc.json(&["registry", "chart", "list", &format!("{scope}/*")]);
    assert_eq!(column(&found, "name"), [name], "{found}");
    // The json rows are ngc's Repository objects, which drop the search attributes; the table
    // shows them (Version: latestVersionIdStr, Size: latestVersionSizeInBytes).
    let table = ngc.ok(&[
        "registry",
        "chart",
        "list",
        &format!("{scope}/*"),
        "--format_type",
        "csv",
    ]);
    let rows = csv_rows(&table);
    assert_eq!(rows.len(), 1, "{table}");
    assert_eq!(
        (
            rows[0]["Name"].as_str(),
            rows[0]["Repository"].as_str(),
            rows[0]["Version"].as_str()
        ),
        (name, target.as_str(), "0.2.0"),
        "{table}"
    );
    assert!(!rows[0]["Size"].is_empty(), "{table}");
    let versions = ngc.json(&["registry", "chart", "list", &format!("{target}:*")]);
    assert_eq!(column(&versions, "id"), ["0.2.0", "0.1.0"], "{versions}");
    for row in versions.as_array().unwrap() {
        let size = row["totalSizeInBytes"].as_u64().unwrap_or_else(|| panic!("{row}"));
        let expected = if row["id"] == "0.1.0" { v1.len() } else { v2.len() };
        assert_eq!(size, expected as u64, "{row}");
    }
    let table = ngc.ok(&[
        "registry",
        "chart",
        "list",
        &format!("{target}:0.*"),
        "--format_type",
        "ascii",
    ]);
    assert!(table.contains("0.1.0") && table.contains("0.2.0"), "{table}");

    let info = ngc.json(&["registry", "chart", "info", &target]);
    assert_eq!(info["name"], name, "{info}");
    assert_eq!(info["shortDescription"], "A web app", "{info}");
    assert_eq!(info["latestVersionId"], "0.2.0", "{info}");
    let version = ngc.json(&["registry", "chart", "info", &at("0.1.0"), "--files"]);
    assert_eq!(version["version"]["id"], "0.1.0", "{version}");
    assert_eq!(version["version"]["status"], "UPLOAD_COMPLETE", "{version}");
    assert_eq!(version["version"]["totalSizeInBytes"], v1.len(), "{version}");
    let mut files = column(&version["file_list"], "path");
    files.sort();
    assert_eq!(
        files,
        [
            "webapp/Chart.yaml",
            "webapp/templates/configmap.yaml",
            "webapp/values.yaml"
        ],
        "the archive's files: {version}"
    );

    ngc.json(&[
        "registry",
        "chart",
        "update",
        &target,
        "--display-name",
        "Web App",
        "--short-desc",
        "The web app",
    ]);
    let info = ngc.json(&["registry", "chart", "info", &target]);
    assert_eq!(info["displayName"], "Web App", "{info}");
    assert_eq!(info["shortDescription"], "The web app", "{info}");

    // A registry-read member reads, and is refused every change with the server's message.
    let read = pull(reader, &at("0.2.0"), &format!("reader-{}", scope.replace('/', "-")));
    assert!(
        std::fs::read(read.join("webapp-0.2.0.tgz")).unwrap() == v2,
        "reader pull"
    );
    let info = reader.json(&["registry", "chart", "info", &target]);
    assert_eq!(info["latestVersionId"], "0.2.0", "{info}");
    let message = api_refusal(
        api,
        Method::POST,
        &rest,
        reader.key(),
        Some(serde_json::json!({"name": "other", "shortDescription": "x"})),
    )
    .await;
    let out = reader.refused(&[
        "registry",
        "chart",
        "create",
        &format!("{scope}/other"),
        "--short-desc",
        "x",
    ]);
    assert!(out.contains(&message), "create as a reader: {message:?} in {out}");
    std::fs::write(src.join("webapp-0.3.0.tgz"), chart_tgz(name, "0.3.0", "third")).unwrap();
    let out = reader.refused(&["registry", "chart", "push", &at("0.3.0"), "--source", source]);
    // ngc replaces the server's 403 text on a push by its own (registry/api/chart.py).
    assert!(out.contains("access is denied"), "push as a reader: {out}");
    let message = api_refusal(
        api,
        Method::DELETE,
        &format!("{rest}/{name}/versions/0.1.0"),
        reader.key(),
        None,
    )
    .await;
    let out = reader.refused(&["registry", "chart", "remove", &at("0.1.0"), "-y"]);
    assert!(out.contains(&message), "remove as a reader: {message:?} in {out}");
    let message = api_refusal(api, Method::DELETE, &format!("{rest}/{name}"), reader.key(), None).await;
    let out = reader.refused(&["registry", "chart", "remove", &target, "-y"]);
    assert!(out.contains(&message), "remove chart as a reader: {message:?} in {out}");
    let versions = ngc.json(&["registry", "chart", "list", &format!("{target}:*")]);
    assert_eq!(
        column(&versions, "id"),
        ["0.2.0", "0.1.0"],
        "nothing changed: {versions}"
    );

    ngc.ok(&["registry", "chart", "remove", &at("0.1.0"), "-y"]);
    let versions = ngc.json(&["registry", "chart", "list", &format!("{target}:*")]);
    assert_eq!(column(&versions, "id"), ["0.2.0"], "{versions}");
    let gone = ngc.home.join(format!("gone-{}", scope.replace('/', "-")));
    std::fs::create_dir_all(&gone).unwrap();
    ngc.refused(&["registry", "chart", "pull", &at("0.1.0"), "--dest", path_str(&gone)]);
    assert!(
        !gone.join("webapp-0.1.0.tgz").exists(),
        "a removed version is not pulled"
    );
    ngc.ok(&["registry", "chart", "remove", &target, "-y"]);
    ngc.refused(&["registry", "chart", "info", &target]);
}

async fn ngc_charts(stores: &Stores) {
    let Some(paths) = ngc_paths() else {
        return;
    };
    let dir = stores.dir.path();
    let ca = common::tls::make_with_names(dir, &[HELM_HOST]);
    let server = Server::start_with(
        stores,
        &ServeOptions {
            tls: Some((ca.cert.clone(), ca.key.clone())),
            extra_args: vec!["--helm-host".into(), HELM_HOST.into()],
        },
    );
    let proxy = ConnectProxy::start(&[(&format!("{HELM_HOST}:443"), socket(&server))]);
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    let legacy = admin_ok(stores, &["key", "legacy", "--user", "owner@acme.test"]);
    let reader_key = member(
        stores,
        "reader@acme.test",
        &[("REGISTRY_READ", None), ("REGISTRY_READ", Some("vision"))],
    );
    let bundle = bundle(dir, &ca.ca_pem);
    let api = Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    let ngc = |key: &str, home: &str| {
        Ngc::new(&paths, &server.base, &bundle, dir.join(home))
            .with_key(key)
            .through_proxy(&proxy.url())
            .timeout(CLIENT_TIMEOUT)
    };
    let reader = ngc(&reader_key, "ngc-reader");
    // The org with a legacy key (token service, Bearer JWT on the Helm host too); the team
    // with the owner's nvapi- personal key (the key itself is the bearer).
    chart_verbs(&ngc(&legacy, "ngc-legacy"), &reader, &api, "acme").await;
    chart_verbs(&ngc(&server.key(), "ngc-nvapi"), &reader, &api, "acme/vision").await;

    assert_eq!(
        proxy.refused(),
        Vec::<String>::new(),
        "nothing else went through the proxy"
    );
    let tunnels = proxy.tunnelled();
    assert!(
        tunnels.iter().any(|t| t == &format!("{HELM_HOST}:443")),
        "chart bytes went to the Helm host: {tunnels:?}"
    );
    assert!(
        tunnels.iter().any(|t| t == &authority(&server)),
        "API calls went through the proxy too: {tunnels:?}"
    );
}
both_backends!(ngc_chart_commands, ngc_charts);

// ------------------------------------------------------------------------------------------
// Helm SDK

/// A GET through the registry (Docker token auth with the key); returns status and bytes.
async fn registry_get(reg: &Registry, path: &str, accept: &str) -> (u16, Vec<u8>) {
    let r = reg.send(Method::GET, path, &[("accept", accept)], vec![]).await;
    let status = r.status().as_u16();
    (status, r.bytes().await.unwrap().to_vec())
}

async fn helm_oci(stores: &Stores) {
    let Some(python) = tools(&["HANGAR_TEST_HELM_PYTHON"]) else {
        return;
    };
    let python = &python[0];
    let server = Server::start(stores);
    let key = server.key();
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    let host = authority(&server);
    let reg = Registry::new(&server, Some(key.clone()));
    let api = server.api();
    for (remote, name, version) in [
        ("acme", "hello", "0.3.1"),
        ("acme/vision", "vision-hello", "1.0.0-rc.1"),
    ] {
        let work = stores.dir.path().join(format!("helm-{name}"));
        let report = helm_client(python, "oci", &work, &[&host, remote, &key, name, version], &[]);
        let packaged = std::fs::read(report["package"].as_str().expect("package path")).unwrap();
        assert_eq!(
            report["package"].as_str().unwrap(),
            path_str(&work.join("dist").join(format!("{name}-{version}.tgz"))),
            "{report}"
        );
        assert_eq!(report["digest"].as_str(), Some(hex_sha(&packaged).as_str()), "{report}");
        let shown = report["show"].as_str().unwrap_or_default();
        assert!(
            shown.contains(&format!("name: {name}")) && shown.contains(&format!("version: {version}")),
            "Chart.yaml read back over OCI: {shown}"
        );
        assert!(
            !report["bad_login_error"].as_str().unwrap_or_default().is_empty(),
            "{report}"
        );

        let repository = format!("{remote}/{name}");
        let (status, body) = registry_get(&reg, &format!("/v2/{repository}/manifests/{version}"), OCI_MANIFEST).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let manifest: Value = serde_json::from_slice(&body).expect("manifest JSON");
        assert_eq!(manifest["config"]["mediaType"], HELM_CONFIG, "{manifest}");
        let layers = manifest["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), 1, "{manifest}");
        assert_eq!(layers[0]["mediaType"], HELM_LAYER, "{manifest}");
        assert_eq!(layers[0]["digest"], sha(&packaged), "{manifest}");
        assert_eq!(layers[0]["size"], packaged.len(), "{manifest}");
        let (status, layer) = registry_get(&reg, &format!("/v2/{repository}/blobs/{}", sha(&packaged)), "*/*").await;
        assert_eq!(status, 200);
        assert!(layer == packaged, "the layer is the packaged chart, byte for byte");
        let config_digest = manifest["config"]["digest"].as_str().expect("config digest");
        let (status, config) = registry_get(&reg, &format!("/v2/{repository}/blobs/{config_digest}"), "*/*").await;
        assert_eq!(status, 200);
        let config: Value = serde_json::from_slice(&config).expect("Helm config JSON");
        assert_eq!(
            (config["name"].as_str(), config["version"].as_str()),
            (Some(name), Some(version)),
            "{config}"
        );
        let (status, tags) = registry_get(&reg, &format!("/v2/{repository}/tags/list"), "*/*").await;
        assert_eq!(status, 200);
        let tags: Value = serde_json::from_slice(&tags).unwrap();
        // OCI tags cannot hold `+`; Helm keeps `-` pre-releases as they are.
        assert_eq!(tags["tags"], serde_json::json!([version]), "{tags}");

        // The pushed chart is a chart version for the NGC API and the Helm repository too.
        let rest = match remote.split_once('/') {
            Some((org, team)) => format!("/v2/org/{org}/team/{team}/helm-charts/{name}"),
            None => format!("/v2/org/{remote}/helm-charts/{name}"),
        };
        let (status, body) = api.get(&rest, &Auth::Bearer(key.clone())).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["artifact"]["latestVersionId"], version, "{body}");
        let url = format!("{}/helm/{remote}/index.yaml", server.base);
        let (status, index) = fetch(&api, &url, &Auth::Key(key.clone())).await;
        assert_eq!(status, 200);
        let index: Value = serde_saphyr::from_slice(&index).expect("index YAML");
        let entry = &index["entries"][name][0];
        assert_eq!(
            (entry["version"].as_str(), entry["digest"].as_str()),
            (Some(version), Some(hex_sha(&packaged).as_str())),
            "{index}"
        );
    }
}
both_backends!(helm_sdk_oci_push, helm_oci);

// ------------------------------------------------------------------------------------------
// Helm repository index

/// POST of a chart package ChartMuseum-style; returns status and JSON body.
async fn upload(api: &Api, path: &str, key: &str, tgz: &[u8]) -> (StatusCode, Value) {
    let req = api
        .raw()
        .post(format!("{}{path}", api.base))
        .basic_auth("$oauthtoken", Some(key))
        .header("content-type", "application/gzip")
        .body(tgz.to_vec());
    api.send(req).await
}

/// GET with Basic `$oauthtoken:key` (or none); returns status and bytes.
async fn fetch(api: &Api, url: &str, auth: &Auth) -> (StatusCode, Vec<u8>) {
    let mut req = api.raw().get(url);
    req = match auth {
        Auth::None => req,
        Auth::Bearer(t) => req.bearer_auth(t),
        Auth::Key(k) => req.basic_auth("$oauthtoken", Some(k)),
    };
    let resp = req.send().await.expect("request");
    (resp.status(), resp.bytes().await.expect("body").to_vec())
}

/// A URL from an index, resolved against the repository's URL (which ends in `/`).
fn resolve(repo: &str, url: &str) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    match url.strip_prefix('/') {
        Some(abs) => {
            let origin: String = repo.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
            format!("{origin}/{abs}")
        }
        None => format!("{repo}{url}"),
    }
}

/// Checks a repository's index.yaml against what was uploaded (name → version → package):
/// returns the index bytes.
async fn check_index(api: &Api, repo: &str, key: &str, uploaded: &BTreeMap<&str, BTreeMap<&str, Vec<u8>>>) -> Vec<u8> {
    let (status, bytes) = fetch(api, &format!("{repo}index.yaml"), &Auth::Key(key.to_string())).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let text = String::from_utf8(bytes.clone()).expect("UTF-8 index");
    let index: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("index.yaml is not YAML ({e}): {text}"));
    assert_eq!(index["apiVersion"], "v1", "{text}");
    let entries = index["entries"]
        .as_object()
        .unwrap_or_else(|| panic!("entries: {text}"));
    assert_eq!(
        entries.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        uploaded.keys().copied().collect::<BTreeSet<_>>(),
        "{text}"
    );
    for (name, versions) in uploaded {
        let listed = entries[*name].as_array().unwrap_or_else(|| panic!("{name}: {text}"));
        let mut seen = BTreeSet::new();
        for entry in listed {
            let version = entry["version"].as_str().unwrap_or_else(|| panic!("version: {entry}"));
            seen.insert(version);
            let tgz = versions
                .get(version)
                .unwrap_or_else(|| panic!("unexpected {name} {version}"));
            assert_eq!(entry["name"], *name, "{entry}");
            assert_eq!(entry["apiVersion"], "v2", "{entry}");
            assert_eq!(entry["appVersion"], format!("{version}-app"), "{entry}");
            assert_eq!(entry["description"], format!("{name} {version}"), "{entry}");
            let created = entry["created"].as_str().unwrap_or_else(|| panic!("created: {entry}"));
            chrono::DateTime::parse_from_rfc3339(created).unwrap_or_else(|e| panic!("created {created:?}: {e}"));
            let digest = entry["digest"].as_str().unwrap_or_else(|| panic!("digest: {entry}"));
            let urls = entry["urls"].as_array().filter(|u| !u.is_empty());
            let url = urls.unwrap_or_else(|| panic!("urls: {entry}"))[0]
                .as_str()
                .expect("url");
            let url = resolve(repo, url);
            let (status, got) = fetch(api, &url, &Auth::Key(key.to_string())).await;
            assert_eq!(status, 200, "{url}");
            assert!(got == *tgz, "{url}: the uploaded package, byte for byte");
            assert_eq!(digest, hex_sha(&got), "{name} {version}: digest of the download");
        }
        assert_eq!(seen, versions.keys().copied().collect(), "{name}: {text}");
    }
    bytes
}

async fn helm_repository(stores: &Stores) {
    let Some(python) = tools(&["HANGAR_TEST_HELM_PYTHON"]) else {
        return;
    };
    let server = Server::start(stores);
    let key = server.key();
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    let api = server.api();
    let package = |name: &str, version: &str| chart_tgz(name, version, &format!("{name} {version}"));
    let mut org: BTreeMap<&str, BTreeMap<&str, Vec<u8>>> = BTreeMap::new();
    for (name, version) in [("alpha", "1.0.0"), ("alpha", "1.1.0"), ("beta", "0.1.0")] {
        let tgz = package(name, version);
        let (status, body) = upload(&api, "/helm/api/acme/charts", &key, &tgz).await;
        assert_eq!(
            (status, &body),
            (StatusCode::CREATED, &serde_json::json!({"saved": true}))
        );
        org.entry(name).or_default().insert(version, tgz);
    }
    // ChartMuseum's API at the root of the host is the same one.
    let (status, body) = upload(&api, "/api/acme/charts", &key, &org["alpha"]["1.0.0"]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(!body["error"].as_str().unwrap_or_default().is_empty(), "{body}");
    let (status, body) = upload(&api, "/helm/api/acme/charts", &key, b"not a chart").await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(!body["error"].as_str().unwrap_or_default().is_empty(), "{body}");
    let mut team: BTreeMap<&str, BTreeMap<&str, Vec<u8>>> = BTreeMap::new();
    let tgz = package("gamma", "0.5.0");
    let (status, body) = upload(&api, "/helm/api/acme/vision/charts", &key, &tgz).await;
    assert_eq!(
        (status, &body),
        (StatusCode::CREATED, &serde_json::json!({"saved": true}))
    );
    team.entry("gamma").or_default().insert("0.5.0", tgz);

    // The Catalog guide's repository URL, `https://<host>/<org>`, with only the host changed;
    // the same repository is under /helm.
    let repo = format!("{}/acme/", server.base);
    let index = check_index(&api, &repo, &key, &org).await;
    check_index(&api, &format!("{}/helm/acme/", server.base), &key, &org).await;
    check_index(&api, &format!("{}/acme/vision/", server.base), &key, &team).await;
    check_index(&api, &format!("{}/helm/acme/vision/", server.base), &key, &team).await;
    let (status, _) = fetch(&api, &format!("{repo}index.yaml"), &Auth::Bearer(key.clone())).await;
    assert_eq!(status, 200, "Bearer with the key");
    let (status, _) = fetch(&api, &format!("{repo}index.yaml"), &Auth::None).await;
    assert_eq!(status, 401, "a private org's index needs credentials");

    let work = stores.dir.path().join("helm-repo");
    let report = helm_client(
        &python[0],
        "repo",
        &work,
        &[repo.trim_end_matches('/'), &key, "alpha"],
        &[],
    );
    assert_eq!(
        report["repos"],
        serde_json::json!([{"name": "hangar", "url": repo.trim_end_matches('/')}]),
        "{report}"
    );
    let charts: BTreeSet<&str> = report["charts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(charts, ["alpha", "beta"].into(), "{report}");
    let shown = report["show"].as_str().unwrap_or_default();
    assert!(
        shown.contains("name: alpha") && shown.contains("version: 1.1.0"),
        "the newest alpha, read through the index: {shown}"
    );
    // The same index as served to the test, but for the time it was generated.
    let cached = std::fs::read_to_string(report["index"].as_str().unwrap()).expect("Helm's cached index");
    let without_generated = |text: &str| -> Value {
        let mut index: Value = serde_saphyr::from_str(text).expect("index YAML");
        index.as_object_mut().expect("index map").remove("generated");
        index
    };
    assert_eq!(
        without_generated(&cached),
        without_generated(std::str::from_utf8(&index).unwrap()),
        "Helm cached the index it was served"
    );
    assert!(
        !report["bad_key_error"].as_str().unwrap_or_default().is_empty(),
        "{report}"
    );
}
both_backends!(helm_repository_index, helm_repository);
