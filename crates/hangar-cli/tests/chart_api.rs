//! Helm charts over HTTP on both backends: chart records through NGC's REST API, versions
//! pushed through ChartMuseum's API (raw body and form), the Helm repository (`index.yaml`,
//! archives) per org and team, bad archives refused with nothing stored, who may do what, and
//! the Helm surface at the root of a configured Helm host.

mod common;

use common::charts::{chart_tgz, raw_tgz, symlink_tgz};
use common::files::StoreView;
use common::registry::sha;
use common::{Api, Auth, ServeOptions, Server, Stores, admin_ok, member};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Pushes an archive through ChartMuseum's upload; returns status and JSON answer.
async fn push(api: &Api, auth: &Auth, space: &str, tgz: Vec<u8>) -> (StatusCode, Value) {
    let req = api
        .raw()
        .post(format!("{}/helm/api/{space}/charts", api.base))
        .header("Content-Type", "application/gzip")
        .body(tgz);
    api.send(with(req, auth)).await
}

fn with(req: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
    match auth {
        Auth::None => req,
        Auth::Bearer(t) => req.bearer_auth(t),
        Auth::Key(k) => req.basic_auth("$oauthtoken", Some(k)),
    }
}

/// GET of a Helm repository path: status, body bytes, headers.
async fn fetch(api: &Api, auth: &Auth, path: &str) -> (StatusCode, Vec<u8>, reqwest::header::HeaderMap) {
    let resp = with(api.raw().get(format!("{}{path}", api.base)), auth)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, resp.bytes().await.expect("body").to_vec(), headers)
}

async fn read_index(api: &Api, auth: &Auth, space: &str) -> Value {
    let (status, body, _) = fetch(api, auth, &format!("/helm/{space}/index.yaml")).await;
    let text = String::from_utf8(body).expect("UTF-8 index");
    assert_eq!(status, 200, "{text}");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("index.yaml does not parse ({e}):\n{text}"))
}

fn versions_in(index: &Value, name: &str) -> Vec<String> {
    index["entries"][name]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| e["version"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn charts_end_to_end(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let basic = Auth::Key(server.key());

    // The record: a name is needed; a second create conflicts.
    let (s, body) = api
        .post("/v2/org/acme/helm-charts", &owner, json!({"shortDescription": "x"}))
        .await;
    assert_eq!(s, 400, "{body}");
    let create = json!({"name": "web", "shortDescription": "Web server chart", "displayName": "Web",
                        "labelsV2": ["web"], "publisher": "Acme", "builtBy": "ops", "description": "# Web\n"});
    let (s, body) = api.post("/v2/org/acme/helm-charts", &owner, create.clone()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["artifact"]["name"], "web");
    let (s, body) = api.post("/v2/org/acme/helm-charts", &owner, create).await;
    assert_eq!(s, 409, "{body}");

    // The guide's PATCH (§6.5.1), with `labels` and `attributes`.
    let patch = json!({"builtBy": "NVIDIA", "description": "#Le Chart", "displayName": "NGC DOCS TEST",
                       "labels": ["Helm Chart", "Documentation"], "shortDescription": "This chart is for the docs!",
                       "logo": "https://example.com/logo.png", "publisher": "Docs",
                       "attributes": [{"key": "tier", "value": "gold"}]});
    let (s, body) = api.patch("/v2/org/acme/helm-charts/web", &owner, Some(patch)).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api.get("/v2/org/acme/helm-charts/web", &owner).await;
    assert_eq!(s, 200, "{body}");
    for (field, value) in [
        ("displayName", json!("NGC DOCS TEST")),
        ("labels", json!(["Helm Chart", "Documentation"])),
        ("description", json!("#Le Chart")),
        ("builtBy", json!("NVIDIA")),
        ("logo", json!("https://example.com/logo.png")),
        ("attributes", json!([{"key": "tier", "value": "gold"}])),
        ("isReadOnly", json!(false)),
        ("latestVersionId", Value::Null),
    ] {
        assert_eq!(body["artifact"][field], value, "{field}: {body}");
    }
    let (s, body) = api
        .patch(
            "/v2/org/acme/helm-charts/web",
            &owner,
            Some(json!({"modelFormat": "onnx"})),
        )
        .await;
    assert_eq!(s, 400, "{body}");

    // Versions from pushed archives; the same version again is a conflict.
    let files = [
        ("values.yaml", "replicas: 1\n"),
        ("templates/deploy.yaml", "kind: Deployment\n"),
    ];
    let v1 = chart_tgz("web", "0.1.0", &files);
    let (s, body) = push(&api, &owner, "acme", v1.clone()).await;
    assert_eq!((s, &body), (StatusCode::CREATED, &json!({"saved": true})));
    let (s, body) = push(&api, &basic, "acme", v1.clone()).await;
    assert_eq!(s, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("already exists"), "{body}");
    let v2 = chart_tgz("web", "0.2.0", &files);
    assert_eq!(push(&api, &basic, "acme", v2.clone()).await.0, 201);
    // A form upload, as `helm cm-push` sends it, larger than a JSON body may be; a pre-release
    // does not become the latest.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let noise: String = (0..2_500_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from_digit((seed % 16) as u32, 16).unwrap()
        })
        .collect();
    let rc = chart_tgz("web", "0.3.0-rc.1", &[("files/noise.txt", &noise), files[0], files[1]]);
    assert!(rc.len() > 1 << 20, "{}", rc.len());
    let boundary = "hangar-test-boundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"chart\"; filename=\"web-0.3.0-rc.1.tgz\"\r\n\
         Content-Type: application/gzip\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(&rc);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = api
        .raw()
        .post(format!("{}/helm/api/acme/charts", api.base))
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(form);
    let (s, body) = api.send(with(req, &owner)).await;
    assert_eq!(s, 201, "{body}");

    let (_, body) = api.get("/v2/org/acme/helm-charts/web", &owner).await;
    assert_eq!(body["artifact"]["latestVersionId"], "0.2.0", "{body}");
    assert_eq!(body["artifact"]["latestVersionSizeInBytes"], v2.len(), "{body}");
    let (s, body) = api
        .get(
            "/v2/org/acme/helm-charts/web/versions?page-size=1000&sort-order=SEMVER_DESC",
            &owner,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let listed: Vec<&str> = body["artifactVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["0.3.0-rc.1", "0.2.0", "0.1.0"]);
    let first = &body["artifactVersions"][2];
    assert_eq!(first["totalFileCount"], 3, "{first}");
    assert_eq!(first["totalSizeInBytes"], v1.len(), "{first}");
    let (_, body) = api
        .get(
            "/v2/org/acme/helm-charts/web/versions/0.1.0?resolve-labels=false",
            &owner,
        )
        .await;
    assert_eq!(body["artifactVersion"]["status"], "UPLOAD_COMPLETE", "{body}");
    // The file browser: the files inside the archive.
    let (_, body) = api
        .get(
            "/v2/org/acme/helm-charts/web/versions/0.1.0/files?page-size=1000",
            &owner,
        )
        .await;
    let paths: Vec<&str> = body["artifactFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["web/Chart.yaml", "web/templates/deploy.yaml", "web/values.yaml"]
    );
    assert_eq!(body["artifactFiles"][2]["sizeInBytes"], 12);

    // The repository: the index with Basic $oauthtoken and with a token; archives byte for byte.
    let token = Auth::Bearer(api.token(&server.key(), "acme").await);
    for auth in [&basic, &token] {
        let index = read_index(&api, auth, "acme").await;
        assert_eq!(index["apiVersion"], "v1");
        assert_eq!(versions_in(&index, "web"), ["0.3.0-rc.1", "0.2.0", "0.1.0"]);
    }
    let index = read_index(&api, &basic, "acme").await;
    let entry = &index["entries"]["web"][1];
    assert_eq!(entry["name"], "web");
    assert_eq!(entry["appVersion"], "1.0");
    assert_eq!(entry["description"], "The web chart");
    assert_eq!(entry["urls"], json!(["charts/web-0.2.0.tgz"]));
    assert!(
        chrono::DateTime::parse_from_rfc3339(entry["created"].as_str().unwrap()).is_ok(),
        "{entry}"
    );
    let (s, bytes, headers) = fetch(&api, &basic, "/helm/acme/charts/web-0.2.0.tgz").await;
    assert_eq!(s, 200);
    assert_eq!(bytes, v2);
    assert_eq!(headers["content-type"], "application/gzip");
    assert_eq!(format!("sha256:{}", entry["digest"].as_str().unwrap()), sha(&bytes));
    let (s, bytes, _) = fetch(&api, &basic, "/helm/acme/charts/web-0.3.0-rc.1.tgz").await;
    assert_eq!((s, bytes == rc), (StatusCode::OK, true));
    assert_eq!(fetch(&api, &basic, "/helm/acme/charts/web-9.9.9.tgz").await.0, 404);

    // ChartMuseum's reads and delete.
    let (s, body) = api.get("/helm/api/acme/charts", &basic).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["web"].as_array().map(Vec::len), Some(3), "{body}");
    let (_, body) = api.get("/helm/api/acme/charts/web", &basic).await;
    assert_eq!(body[0]["version"], "0.3.0-rc.1", "{body}");
    let (_, body) = api.get("/helm/api/acme/charts/web/0.1.0", &basic).await;
    assert_eq!(body["digest"].as_str().map(|d| format!("sha256:{d}")), Some(sha(&v1)));
    let (s, body) = api.get("/helm/api/acme/charts/nope", &basic).await;
    assert_eq!(s, 404, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let (s, body) = api.delete("/helm/api/acme/charts/web/0.3.0-rc.1", &basic).await;
    assert_eq!((s, body), (StatusCode::OK, json!({"deleted": true})));
    // Removing the latest makes the highest remaining version the latest.
    let (s, _) = api.delete("/v2/org/acme/helm-charts/web/versions/0.2.0", &owner).await;
    assert_eq!(s, 200);
    let (_, body) = api.get("/v2/org/acme/helm-charts/web", &owner).await;
    assert_eq!(body["artifact"]["latestVersionId"], "0.1.0", "{body}");
    assert_eq!(versions_in(&read_index(&api, &basic, "acme").await, "web"), ["0.1.0"]);

    // A team's repository is its own; a push makes the chart's record from Chart.yaml.
    admin_ok(stores, &["team", "create", "acme", "infra"]);
    let (s, body) = push(&api, &basic, "acme/infra", chart_tgz("db", "1.0.0", &[])).await;
    assert_eq!(s, 201, "{body}");
    let (_, body) = api.get("/v2/org/acme/team/infra/helm-charts/db", &owner).await;
    assert_eq!(body["artifact"]["shortDescription"], "The db chart", "{body}");
    assert_eq!(body["artifact"]["teamName"], "infra", "{body}");
    assert_eq!(
        versions_in(&read_index(&api, &basic, "acme/infra").await, "db"),
        ["1.0.0"]
    );
    assert!(read_index(&api, &basic, "acme").await["entries"].get("db").is_none());
    let (s, bytes, _) = fetch(&api, &basic, "/helm/acme/infra/charts/db-1.0.0.tgz").await;
    assert_eq!((s, bytes.is_empty()), (StatusCode::OK, false));

    // The whole chart goes with every version.
    let (s, _) = api.delete("/v2/org/acme/helm-charts/web", &owner).await;
    assert_eq!(s, 200);
    let (s, _) = api.get("/v2/org/acme/helm-charts/web", &owner).await;
    assert_eq!(s, 404);
    assert_eq!(read_index(&api, &basic, "acme").await["entries"], json!({}));
    assert_eq!(fetch(&api, &basic, "/helm/acme/charts/web-0.1.0.tgz").await.0, 404);
}

both_backends!(charts, charts_end_to_end);

async fn bad_archives(stores: &Stores) {
    let options = ServeOptions {
        extra_args: vec!["--max-chart-size".into(), "65536".into()],
        ..Default::default()
    };
    let server = Server::start_with(stores, &options);
    let api = server.api();
    let owner = Auth::Key(server.key());
    let view = StoreView::open(stores).await;
    let before = view.snapshot().await;
    let chart = |extra: &[(&str, &[u8])]| {
        let mut entries: Vec<(&str, &[u8])> = vec![("bad/Chart.yaml", b"apiVersion: v2\nname: bad\nversion: 0.1.0\n")];
        entries.extend_from_slice(extra);
        raw_tgz(&entries)
    };
    let big: Vec<u8> = (0..200_000u32)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "plain text",
            b"not an archive at all".to_vec(),
            StatusCode::BAD_REQUEST,
            "not gzip",
        ),
        (
            "gzip, not tar",
            {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&[7u8; 1000]).unwrap();
                gz.finish().unwrap()
            },
            StatusCode::BAD_REQUEST,
            "gzip tar",
        ),
        (
            "no Chart.yaml",
            raw_tgz(&[("bad/values.yaml", b"a: 1\n")]),
            StatusCode::BAD_REQUEST,
            "no bad/Chart.yaml",
        ),
        (
            "traversal",
            chart(&[("bad/../../../etc/passwd", b"x")]),
            StatusCode::BAD_REQUEST,
            "unsafe path",
        ),
        (
            "absolute",
            raw_tgz(&[("/bad/Chart.yaml", b"apiVersion: v2\nname: bad\nversion: 0.1.0\n")]),
            StatusCode::BAD_REQUEST,
            "unsafe path",
        ),
        (
            "symlink",
            symlink_tgz("bad", "/etc/passwd"),
            StatusCode::BAD_REQUEST,
            "link",
        ),
        (
            "folder not the name",
            raw_tgz(&[("other/Chart.yaml", b"apiVersion: v2\nname: bad\nversion: 0.1.0\n")]),
            StatusCode::BAD_REQUEST,
            "top folder",
        ),
        (
            "not semver",
            raw_tgz(&[("bad/Chart.yaml", b"apiVersion: v2\nname: bad\nversion: latest\n")]),
            StatusCode::BAD_REQUEST,
            "semantic version",
        ),
        (
            "bad name",
            raw_tgz(&[(
                "Bad Name/Chart.yaml",
                b"apiVersion: v2\nname: Bad Name\nversion: 0.1.0\n",
            )]),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            "oversized",
            chart(&[("bad/blob.bin", &big)]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "at most 65536 bytes",
        ),
        ("empty body", vec![], StatusCode::BAD_REQUEST, "no chart archive"),
    ];
    for (what, tgz, status, message) in cases {
        let (s, body) = push(&api, &owner, "acme", tgz).await;
        assert_eq!(s, status, "{what}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{what}: {error}");
    }
    // What the pusher names must be what Chart.yaml says.
    for (query, message) in [
        ("name=other", "name in Chart.yaml is 'bad'"),
        ("version=0.2.0", "version"),
    ] {
        let req = api
            .raw()
            .post(format!("{}/helm/api/acme/charts?{query}", api.base))
            .body(chart(&[]));
        let (s, body) = api.send(with(req, &owner)).await;
        assert_eq!(s, 400, "{body}");
        assert!(body["error"].as_str().unwrap().contains(message), "{body}");
    }
    // Nothing of any of them was kept.
    assert_eq!(view.snapshot().await, before);
    let (s, _) = api.get("/v2/org/acme/helm-charts/bad", &owner).await;
    assert_eq!(s, 404);
    let req = api
        .raw()
        .post(format!("{}/helm/api/acme/charts?name=bad&version=0.1.0", api.base))
        .body(chart(&[]));
    assert_eq!(api.send(with(req, &owner)).await.0, 201);
    assert_eq!(view.snapshot().await.blobs.len(), before.blobs.len() + 1);
}

both_backends!(refused, bad_archives);

/// Who may do what (Private Registry guide §6.4.3, §6.4.7): readers read; registry users
/// create and push but do not remove, not even their own; registry admins remove; guests and
/// members of another team see nothing.
async fn permissions(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    admin_ok(stores, &["team", "create", "acme", "infra"]);
    admin_ok(stores, &["team", "create", "acme", "other"]);
    let reader = Auth::Key(member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]));
    let user = Auth::Key(member(stores, "user@acme.test", &[("REGISTRY_USER", None)]));
    let admin = Auth::Key(member(stores, "admin@acme.test", &[("REGISTRY_ADMIN", None)]));
    let outsider = Auth::Key(member(stores, "other@acme.test", &[("REGISTRY_ADMIN", Some("other"))]));
    let team_user = Auth::Key(member(stores, "infra@acme.test", &[("REGISTRY_USER", Some("infra"))]));
    let tgz = chart_tgz("app", "1.0.0", &[]);

    let record = json!({"name": "app", "shortDescription": "s"});
    let (s, body) = api.post("/v2/org/acme/helm-charts", &reader, record.clone()).await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = push(&api, &reader, "acme", tgz.clone()).await;
    assert_eq!(s, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("may not push"), "{body}");
    let (s, body) = push(&api, &Auth::None, "acme", tgz.clone()).await;
    assert_eq!(s, 401, "{body}");
    let (s, body) = api.post("/v2/org/acme/helm-charts", &user, record).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(push(&api, &user, "acme", tgz.clone()).await.0, 201);
    assert_eq!(
        push(&api, &team_user, "acme/infra", chart_tgz("tool", "0.1.0", &[]))
            .await
            .0,
        201
    );

    // Reads.
    assert_eq!(versions_in(&read_index(&api, &reader, "acme").await, "app"), ["1.0.0"]);
    let (s, bytes, _) = fetch(&api, &reader, "/helm/acme/charts/app-1.0.0.tgz").await;
    assert_eq!((s, bytes == tgz), (StatusCode::OK, true));
    let (s, _, headers) = fetch(&api, &Auth::None, "/helm/acme/index.yaml").await;
    assert_eq!(s, 401);
    assert!(
        headers["www-authenticate"].to_str().unwrap().starts_with("Basic"),
        "{headers:?}"
    );
    assert_eq!(fetch(&api, &Auth::None, "/helm/acme/charts/app-1.0.0.tgz").await.0, 401);
    // A member of one team sees neither the org's charts nor another team's.
    assert_eq!(fetch(&api, &outsider, "/helm/acme/index.yaml").await.0, 403);
    assert_eq!(fetch(&api, &outsider, "/helm/acme/infra/index.yaml").await.0, 403);
    assert_eq!(
        fetch(&api, &outsider, "/helm/acme/infra/charts/tool-0.1.0.tgz").await.0,
        404
    );
    assert_eq!(
        versions_in(&read_index(&api, &team_user, "acme/infra").await, "tool"),
        ["0.1.0"]
    );
    let (s, _) = api.get("/v2/org/acme/team/infra/helm-charts/tool", &outsider).await;
    assert_eq!(s, 404);

    // Changes: registry users update; only admins remove, even what a registry user made.
    let (s, body) = api
        .patch(
            "/v2/org/acme/helm-charts/app",
            &reader,
            Some(json!({"displayName": "X"})),
        )
        .await;
    assert_eq!(s, 403, "{body}");
    let (s, body) = api
        .patch("/v2/org/acme/helm-charts/app", &user, Some(json!({"displayName": "X"})))
        .await;
    assert_eq!(s, 200, "{body}");
    for auth in [&reader, &user] {
        let (s, body) = api.delete("/v2/org/acme/helm-charts/app/versions/1.0.0", auth).await;
        assert_eq!(s, 403, "{body}");
        let (s, body) = api.delete("/v2/org/acme/helm-charts/app", auth).await;
        assert_eq!(s, 403, "{body}");
        let (s, body) = api.delete("/helm/api/acme/charts/app/1.0.0", auth).await;
        assert_eq!(s, 403, "{body}");
        assert!(body["error"].is_string(), "{body}");
    }
    let (s, body) = api.delete("/helm/api/acme/charts/app/1.0.0", &admin).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api.delete("/v2/org/acme/helm-charts/app", &admin).await;
    assert_eq!(s, 200, "{body}");
}

both_backends!(roles, permissions);

/// Under a configured Helm host name the repository is at the root, as NGC clients expect of
/// `helm.ngc.nvidia.com`, and nothing else is there; under any other name it is at the root
/// too (the Catalog guide's `helm repo add` URLs) and at `/helm`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_host_routing() {
    let Some(stores) = common::stores(common::Backend::SqliteFolder).await else {
        return;
    };
    let options = ServeOptions {
        extra_args: vec!["--helm-host".into(), "helm.example.test,charts.example.test".into()],
        ..Default::default()
    };
    let server = Server::start_with(&stores, &options);
    let api = server.api();
    let key = server.key();
    let port = server.base.rsplit(':').next().unwrap().trim_end_matches('/');
    let on = |host: &str, method: reqwest::Method, path: &str| {
        api.raw()
            .request(method, format!("{}{path}", api.base))
            .header("Host", format!("{host}:{port}"))
            .basic_auth("$oauthtoken", Some(&key))
    };
    let tgz = chart_tgz("edge", "2.0.0", &[]);
    let resp = on("helm.example.test", reqwest::Method::POST, "/api/acme/charts")
        .body(tgz.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"saved": true}));
    for host in ["helm.example.test", "CHARTS.example.test"] {
        let resp = on(host, reqwest::Method::GET, "/acme/charts/edge-2.0.0.tgz")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{host}");
        assert_eq!(resp.bytes().await.unwrap().to_vec(), tgz);
        let resp = on(host, reqwest::Method::GET, "/acme/index.yaml").send().await.unwrap();
        assert_eq!(resp.status(), 200, "{host}");
        assert!(resp.text().await.unwrap().contains("edge-2.0.0.tgz"));
    }
    // The REST API is not on the Helm host; elsewhere the repository is at the root and at /helm.
    let resp = on(
        "helm.example.test",
        reqwest::Method::GET,
        "/v2/org/acme/helm-charts/edge",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = on("127.0.0.1", reqwest::Method::GET, "/acme/index.yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = on("127.0.0.1", reqwest::Method::GET, "/acme/vision/index.yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "no team vision: Helm's error");
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    let resp = on("127.0.0.1", reqwest::Method::GET, "/helm/acme/index.yaml")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// A chart pushed as an OCI artifact (as `helm push oci://…` does) is stored by the registry
/// and recorded as a version of the chart of the same name; a tag that is not the chart's
/// version stays a plain artifact.
async fn oci_charts(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let key = server.key();
    let basic = Auth::Key(key.clone());
    let registry = common::registry::Registry::new(&server, Some(key));
    let tgz = chart_tgz("api", "1.2.3+build.4", &[("values.yaml", "a: 1\n")]);
    let config = br#"{"name":"api","version":"1.2.3+build.4","apiVersion":"v2"}"#.to_vec();
    let layer = registry.push_blob("acme/api", &tgz).await;
    let config_digest = registry.push_blob("acme/api", &config).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": layer, "size": tgz.len()}],
    });
    let media = "application/vnd.oci.image.manifest.v1+json";
    for tag in ["1.2.3_build.4", "stable"] {
        let resp = registry.push_manifest("acme/api", tag, media, &manifest).await;
        assert_eq!(resp.status(), 201, "{tag}");
    }
    let resp = registry
        .send(
            reqwest::Method::GET,
            "/v2/acme/api/manifests/stable",
            &[("Accept", media)],
            vec![],
        )
        .await;
    let pulled: Value = resp.json().await.expect("manifest");
    assert_eq!(
        pulled["config"]["mediaType"],
        "application/vnd.cncf.helm.config.v1+json"
    );

    let (s, body) = api.get("/v2/org/acme/helm-charts/api/versions", &basic).await;
    assert_eq!(s, 200, "{body}");
    let ids: Vec<&str> = body["artifactVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1.2.3+build.4"]);
    let index = read_index(&api, &basic, "acme").await;
    assert_eq!(
        index["entries"]["api"][0]["digest"]
            .as_str()
            .map(|d| format!("sha256:{d}")),
        Some(layer)
    );
    let (s, bytes, _) = fetch(&api, &basic, "/helm/acme/charts/api-1.2.3+build.4.tgz").await;
    assert_eq!((s, bytes == tgz), (StatusCode::OK, true));
}

both_backends!(oci, oci_charts);

/// Garbage collection keeps the archives of chart versions and takes those of removed ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collected_when_removed() {
    let Some(stores) = common::stores(common::Backend::SqliteFolder).await else {
        return;
    };
    let options = ServeOptions {
        extra_args: ["--gc-interval", "1", "--gc-grace", "1"].map(String::from).to_vec(),
        ..Default::default()
    };
    let server = Server::start_with(&stores, &options);
    let api = server.api();
    let key = Auth::Key(server.key());
    let view = StoreView::open(&stores).await;
    let tgz = chart_tgz("kept", "1.0.0", &[]);
    assert_eq!(push(&api, &key, "acme", tgz.clone()).await.0, 201);
    let digest = sha(&tgz);
    gc_passes(&server, 3).await;
    assert!(
        view.snapshot().await.blobs.contains(&digest),
        "a live chart's archive was collected"
    );
    let (s, bytes, _) = fetch(&api, &key, "/helm/acme/charts/kept-1.0.0.tgz").await;
    assert_eq!((s, bytes == tgz), (StatusCode::OK, true));
    assert_eq!(api.delete("/v2/org/acme/helm-charts/kept", &key).await.0, 200);
    gc_passes(&server, 3).await;
    assert!(
        !view.snapshot().await.blobs.contains(&digest),
        "a removed chart's archive was kept"
    );
}

/// Waits until the server has logged `n` more garbage-collection passes (at most 30 s).
async fn gc_passes(server: &Server, n: usize) {
    let start = server.logged(&["GC pass done"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while server.logged(&["GC pass done"]) < start + n && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(server.logged(&["GC pass done"]) >= start + n, "no GC passes");
}

/// Versions pushed to one chart at the same time all land in its index (each push puts the
/// chart's part of the index together again, taking turns on the chart).
async fn concurrent_pushes(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let key = Auth::Key(server.key());
    let versions: Vec<String> = (0..12).map(|i| format!("1.{i}.0")).collect();
    let pushes = versions
        .iter()
        .map(|v| push(&api, &key, "acme", chart_tgz("busy", v, &[])));
    for (status, body) in futures::future::join_all(pushes).await {
        assert_eq!(status, 201, "{body}");
    }
    let mut listed = versions_in(&read_index(&api, &key, "acme").await, "busy");
    assert_eq!(listed.len(), versions.len(), "{listed:?}");
    listed.reverse();
    assert_eq!(listed, versions, "newest first");
    let (_, body) = api.get("/v2/org/acme/helm-charts/busy", &key).await;
    assert_eq!(body["artifact"]["latestVersionId"], "1.11.0", "{body}");
}

both_backends!(concurrent, concurrent_pushes);
