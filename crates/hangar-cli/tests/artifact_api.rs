//! Models and resources over the NGC REST API on both backends: create with every metadata
//! field, info, update, versions (create, list in version order, commit, set-latest, remove),
//! removal rights, bad input, and search with `resourceId` globs.

mod common;

use common::files::{Target, b64_sha256, zip_listing};
use common::{Auth, Server, Stores, admin_ok, member};
use serde_json::{Value, json};

/// A version of an org-level model.
fn model<'a>(name: &'a str, version: &'a str) -> Target<'a> {
    Target {
        space: "/v2/org/acme",
        kind: "models",
        name,
        version,
    }
}

fn strings(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

async fn models_end_to_end(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let create = json!({
        "name": "det", "application": "OBJECT_DETECTION", "framework": "PyTorch", "modelFormat": "onnx",
        "precision": "FP16", "shortDescription": "a detector", "description": "# Overview\n",
        "displayName": "Detector", "labelsV2": ["vision", "edge"], "logo": "https://example.com/logo.png",
        "publicDatasetUsed": {"name": "coco", "link": "https://cocodataset.org", "license": "CC-BY"},
        "builtBy": "me", "publisher": "Acme"
    });
    let (s, body) = api.post("/v2/org/acme/models", &owner, create.clone()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["model"]["name"], "det");
    let (s, body) = api.post("/v2/org/acme/models", &owner, create).await;
    assert_eq!(s, 409, "{body}");

    let (s, body) = api.get("/v2/org/acme/models/det?resolve-labels=false", &owner).await;
    assert_eq!(s, 200, "{body}");
    let model = &body["model"];
    for (field, value) in [
        ("application", json!("OBJECT_DETECTION")),
        ("modelFormat", json!("onnx")),
        ("displayName", json!("Detector")),
        ("labels", json!(["vision", "edge"])),
        (
            "publicDatasetUsed",
            json!({"name": "coco", "link": "https://cocodataset.org", "license": "CC-BY"}),
        ),
        ("orgName", json!("acme")),
        ("latestVersionIdStr", Value::Null),
    ] {
        assert_eq!(model[field], value, "{field}: {model}");
    }

    // The CLI's update: labels in full, an empty dataset meaning "no change".
    let (s, body) = api
        .patch(
            "/v2/org/acme/models/det",
            &owner,
            Some(json!({"displayName": "Renamed", "labelsV2": ["edge"], "publicDatasetUsed": {}})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["model"]["displayName"], "Renamed");
    assert_eq!(body["model"]["labels"], json!(["edge"]));
    assert_eq!(body["model"]["publicDatasetUsed"]["name"], "coco");

    // Versions: pending until committed, listed newest semantic version first.
    let metrics = json!([{"name": "metrics", "attributes": [{"key": "acc", "value": "0.9"}]}]);
    for v in ["1.9", "1.10", "1.2"] {
        let body = json!({"versionId": v, "description": "v", "accuracyReached": 0.91, "batchSize": 8,
                          "gpuModel": "A100", "memoryFootprint": "1GB", "numberOfEpochs": 10,
                          "otherContents": [{"key": "Other", "value": "https://example.com/x"}],
                          "customMetrics": metrics});
        let (s, created) = api.post("/v2/org/acme/models/det/versions", &owner, body).await;
        assert_eq!(s, 200, "{created}");
        assert_eq!(created["modelVersion"]["status"], "UPLOAD_PENDING");
    }
    let (s, _) = api
        .post("/v2/org/acme/models/det/versions", &owner, json!({"versionId": "1.9"}))
        .await;
    assert_eq!(s, 409);
    let (s, list) = api
        .get(
            "/v2/org/acme/models/det/versions?page-size=1000&sort-order=SEMVER_DESC",
            &owner,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let order: Vec<&str> = list["modelVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["versionId"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["1.10", "1.9", "1.2"]);
    let (s, _) = api
        .patch(
            "/v2/org/acme/models/det/versions/1.2?set-latest=true",
            &owner,
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 400, "a pending version cannot be the latest");
    for v in ["1.2", "1.10"] {
        let (s, body) = api
            .patch(
                &format!("/v2/org/acme/models/det/versions/{v}"),
                &owner,
                Some(json!({"status": "UPLOAD_COMPLETE"})),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["modelVersion"]["status"], "UPLOAD_COMPLETE");
    }
    let (_, body) = api.get("/v2/org/acme/models/det", &owner).await;
    assert_eq!(
        body["model"]["latestVersionIdStr"], "1.10",
        "the last commit is the latest"
    );
    let (s, body) = api
        .patch(
            "/v2/org/acme/models/det/versions/1.2?set-latest=true",
            &owner,
            Some(json!({"gpuModel": "H100"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, body) = api.get("/v2/org/acme/models/det/versions/1.2", &owner).await;
    let version = &body["modelVersion"];
    assert_eq!(version["gpuModel"], "H100");
    assert_eq!(version["customMetrics"], metrics);
    assert_eq!(version["storageVersion"], "V2");
    let (_, body) = api.get("/v2/org/acme/models/det", &owner).await;
    assert_eq!(body["model"]["latestVersionIdStr"], "1.2");

    // Removing the latest version falls back to the newest other complete one.
    let (s, _) = api.delete("/v2/org/acme/models/det/versions/1.2", &owner).await;
    assert_eq!(s, 200);
    let (_, body) = api.get("/v2/org/acme/models/det", &owner).await;
    assert_eq!(body["model"]["latestVersionIdStr"], "1.10");
    let (s, _) = api.get("/v2/org/acme/models/det/versions/1.2", &owner).await;
    assert_eq!(s, 404);

    // Search: wildcards over org/[team/]name.
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    let (s, _) = api
        .post(
            "/v2/org/acme/team/vision/models",
            &owner,
            json!({"name": "seg", "application": "x"}),
        )
        .await;
    assert_eq!(s, 200);
    let search = |q: &str| {
        let q = json!({"query": format!("resourceId:{q}"), "page": 0, "pageSize": 100}).to_string();
        let path = format!("/v2/search/org/acme/resources/MODEL?q={}", urlencode(&q));
        let api = server.api();
        let owner = owner.clone();
        async move {
            let (s, body) = api.get(&path, &owner).await;
            assert_eq!(s, 200, "{body}");
            body["results"][0]["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["resourceId"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("acme/*").await, ["acme/det", "acme/vision/seg"]);
    assert_eq!(search("acme/vision/*").await, ["acme/vision/seg"]);
    assert_eq!(search("*de*").await, ["acme/det"]);

    // Removing a whole model.
    let (s, _) = api.delete("/v2/org/acme/models/det", &owner).await;
    assert_eq!(s, 200);
    let (s, _) = api.get("/v2/org/acme/models/det", &owner).await;
    assert_eq!(s, 404);
}
both_backends!(models, models_end_to_end);

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn resources_and_rights(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let good = json!({"name": "recipe", "application": "object_detection", "trainingFramework": "pytorch",
                      "precision": "FP32", "modelFormat": "zip", "shortDescription": "s",
                      "advanced": "a", "performance": "p", "quickStartGuide": "q", "setup": "s"});
    let (s, body) = api.post("/v2/org/acme/resources", &owner, good).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["recipe"]["application"], "OBJECT_DETECTION");
    assert_eq!(body["recipe"]["trainingFramework"], "PyTorch");
    assert_eq!(body["recipe"]["framework"], "PyTorch");

    // Bad input: clear 400s, nothing stored.
    for (bad, why) in [
        (json!({"name": "Bad Name"}), "name"),
        (json!({"name": "r2", "precision": "FP64"}), "precision"),
        (json!({"name": "r2", "trainingFramework": "Jax"}), "trainingFramework"),
        (json!({"name": "r2", "colour": "red"}), "colour"),
        (json!({"name": "r2", "logo": "file:///etc/passwd"}), "logo"),
        (json!({"application": "OTHER"}), "name"),
    ] {
        let (s, body) = api.post("/v2/org/acme/resources", &owner, bad).await;
        assert_eq!(s, 400, "{body}");
        assert!(body.to_string().contains(why), "{why}: {body}");
    }
    let (_, list) = api.get("/v2/org/acme/resources", &owner).await;
    assert_eq!(list["recipes"].as_array().unwrap().len(), 1, "{list}");
    let (s, body) = api
        .post(
            "/v2/org/acme/resources/recipe/versions",
            &owner,
            json!({"versionId": "1", "releaseNotes": "n", "customMetrics": []}),
        )
        .await;
    assert_eq!(s, 400, "resources have no metrics: {body}");
    for bad in ["../x", "a b", ".hidden"] {
        let (s, body) = api
            .post(
                "/v2/org/acme/resources/recipe/versions",
                &owner,
                json!({"versionId": bad}),
            )
            .await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    let too_many: Vec<Value> = (0..13).map(|i| json!({"key": format!("k{i}"), "value": "1"})).collect();
    let (s, body) = api.post("/v2/org/acme/models", &owner, json!({"name": "m"})).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api
        .post(
            "/v2/org/acme/models/m/versions",
            &owner,
            json!({"versionId": "1", "customMetrics": [{"name": "t", "attributes": too_many}]}),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("at most 12"), "{body}");

    // Rights: a reader sees, a registry user creates and may remove only what they created, a
    // registry admin removes anything.
    let reader = Auth::Bearer(member(stores, "read@acme.test", &[("REGISTRY_READ", None)]));
    let user = Auth::Bearer(member(stores, "user@acme.test", &[("REGISTRY_USER", None)]));
    let other = Auth::Bearer(member(stores, "other@acme.test", &[("REGISTRY_USER", None)]));
    let admin = Auth::Bearer(member(stores, "admin@acme.test", &[("REGISTRY_ADMIN", None)]));
    let (s, _) = api.get("/v2/org/acme/resources/recipe", &reader).await;
    assert_eq!(s, 200);
    let (s, _) = api
        .post("/v2/org/acme/resources", &reader, json!({"name": "mine"}))
        .await;
    assert_eq!(s, 403);
    let (s, _) = api
        .patch("/v2/org/acme/resources/recipe", &reader, Some(json!({"setup": "x"})))
        .await;
    assert_eq!(s, 403);
    let (s, body) = api.post("/v2/org/acme/resources", &user, json!({"name": "mine"})).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = api
        .patch("/v2/org/acme/resources/mine", &user, Some(json!({"isPublic": true})))
        .await;
    assert_eq!(s, 403, "only admins make things public");
    let (s, _) = api.delete("/v2/org/acme/resources/mine", &other).await;
    assert_eq!(s, 403, "not the creator");
    let (s, _) = api.delete("/v2/org/acme/resources/recipe", &user).await;
    assert_eq!(s, 403, "not the creator");
    let (s, _) = api.delete("/v2/org/acme/resources/mine", &user).await;
    assert_eq!(s, 200, "the creator");
    let (s, _) = api.delete("/v2/org/acme/resources/recipe", &admin).await;
    assert_eq!(s, 200, "a registry admin");

    // Public entities: guests read them, and the public catalog lists them.
    let (s, _) = api
        .patch("/v2/org/acme/models/m", &owner, Some(json!({"isPublic": true})))
        .await;
    assert_eq!(s, 200);
    let (s, body) = api.get("/v2/org/acme/models/m", &Auth::None).await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = api.delete("/v2/org/acme/models/m", &Auth::None).await;
    assert_eq!(s, 401);
    let (s, body) = api.get("/v2/search/catalog/resources/MODEL", &Auth::None).await;
    assert_eq!(s, 200);
    assert_eq!(
        strings(&json!(
            body["results"][0]["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["resourceId"].clone())
                .collect::<Vec<_>>()
        )),
        ["acme/m"]
    );
}
both_backends!(resources, resources_and_rights);

/// The transfer protocol of ngc-api.md §5 by hand, as curl would speak it: dedupe, multipart
/// start, signed part URLs (tampered, wrong size), completion with a digest check, commit,
/// listing, signed download URLs with ranges (path traversal: artifact_transfer.rs).
async fn transfers_over_http(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    let http = reqwest::Client::new();
    api.post("/v2/org/acme/models", &owner, json!({"name": "m"})).await;
    let (s, _) = api
        .post("/v2/org/acme/models/m/versions", &owner, json!({"versionId": "1"}))
        .await;
    assert_eq!(s, 200);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sha = b64_sha256(&data);
    let (s, body) = api
        .post(
            "/v2/org/acme/models/m/files",
            &owner,
            json!({"files": [{"sha256": sha}]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &body["files"][0]["exists"]),
        (200, &json!(false)),
        "{body}"
    );

    let start = |path: &str, size: usize, sha: &str| json!({"name": "m", "version": "1", "artifactType": "models", "filePath": path, "size": size, "sha256": sha});
    let (s, started) = api
        .post(
            "/v2/org/acme/files/multipart",
            &owner,
            start("data.bin", data.len(), &sha),
        )
        .await;
    assert_eq!(s, 200, "{started}");
    let url = started["urls"][0].as_str().unwrap().to_string();
    assert_eq!(started["urls"].as_array().unwrap().len(), 1);
    let tampered = url.replace("signature=", "signature=x");
    let r = http.put(&tampered).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        !r.headers().contains_key("connection"),
        "the unread body is read off the connection, which stays open"
    );
    let r = http.put(&url).body(data[..10].to_vec()).send().await.unwrap();
    assert_eq!(r.status(), 400, "a short part");
    let r = http.put(&url).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let complete = json!({"name": "m", "version": "1", "artifactType": "models", "filePath": "data.bin",
                          "uploadID": started["uploadID"], "sha256": sha});
    let r = http
        .put(format!("{}/v2/org/acme/files/multipart", server.base))
        .bearer_auth(server.key())
        .json(&complete)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let empty_sha = b64_sha256(b"");
    let (_, empty) = api
        .post(
            "/v2/org/acme/files/multipart",
            &owner,
            start("empty.txt", 0, &empty_sha),
        )
        .await;
    let r = http.put(empty["urls"][0].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let commit = json!({"name": "m", "artifactType": "models", "version": "1", "baseVersion": null, "files": [
        {"commitType": "ADDITION", "filePath": "data.bin", "sha256": sha},
        {"commitType": "ADDITION", "filePath": "empty.txt", "sha256": empty_sha}]});
    let (s, body) = api
        .post("/v2/org/acme/files/commit?upload-pending=True", &owner, commit)
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = api.get("/v2/org/acme/models/m/1/files", &owner).await;
    assert_eq!(s, 400, "no downloads before the version is complete");
    let (s, _) = api
        .patch(
            "/v2/org/acme/models/m/versions/1",
            &owner,
            Some(json!({"status": "UPLOAD_COMPLETE"})),
        )
        .await;
    assert_eq!(s, 200);

    let (s, listed) = api
        .get("/v2/org/acme/models/m/versions/1/files?page-size=1000", &owner)
        .await;
    assert_eq!(s, 200);
    assert_eq!(listed["modelFiles"][0]["path"], "data.bin");
    assert_eq!(listed["modelFiles"][0]["sizeInBytes"], data.len());
    let (s, urls) = api.get("/v2/org/acme/models/m/1/files", &owner).await;
    assert_eq!(s, 200, "{urls}");
    assert_eq!(urls["filepath"], json!(["data.bin", "empty.txt"]));
    let data_url = urls["urls"][0].as_str().unwrap();
    let got = http.get(data_url).send().await.unwrap().bytes().await.unwrap();
    assert!(got[..] == data[..], "byte-identical download");
    let r = http.get(data_url).header("range", "bytes=2-5").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(&r.bytes().await.unwrap()[..], &data[2..6]);
    let r = http
        .get(urls["urls"][1].as_str().unwrap())
        .header("range", "bytes=0--1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "NGC's empty-file range");
    assert!(r.bytes().await.unwrap().is_empty());
    let (_, one) = api.get("/v2/org/acme/models/m/1/files?path=empty.txt", &owner).await;
    assert_eq!(one["urls"].as_array().unwrap().len(), 1, "{one}");

    // The Catalog guide's recipes: a token, then curl or wget of one file.
    let token = api.token(&server.key(), "acme").await;
    let file_url = format!("{}/v2/org/acme/models/m/versions/1/files/data.bin", server.base);
    let dir = stores.dir.path().join("fetched");
    std::fs::create_dir_all(&dir).unwrap();
    let auth = format!("Authorization: Bearer {token}");
    let curl = std::process::Command::new("curl")
        .args(["-sSfLO", &file_url, "-H", &auth, "-H", "Content-Type: application/json"])
        .current_dir(&dir)
        .status()
        .expect("run curl");
    assert!(curl.success());
    assert!(std::fs::read(dir.join("data.bin")).unwrap() == data, "curl -LO");
    let wget = std::process::Command::new("wget")
        .args(["-q", "--header", &auth, "-O", "wget.bin", &file_url])
        .current_dir(&dir)
        .status()
        .expect("run wget");
    assert!(wget.success());
    assert!(std::fs::read(dir.join("wget.bin")).unwrap() == data, "wget");
    // The guide's wget pipelines (Catalog guide §16.4.2, §17.4.2) verbatim, with this host: the
    // file and zip URLs answer with a redirect whose Location the second wget fetches, saving
    // under the name the data plane gives.
    for (what, url, saved) in [
        (
            "zip",
            format!("{}/v2/org/acme/models/m/versions/1/zip", server.base),
            "m_v1.zip",
        ),
        ("file", file_url.clone(), "data.bin"),
    ] {
        let piped = dir.join(format!("pipeline-{what}"));
        std::fs::create_dir_all(&piped).unwrap();
        let pipeline = format!(
            "wget --header=\"Authorization: Bearer $TOKEN\" \\\n\
             --header=\"Content-Type: application/json\" \\\n\
             '{url}' \\\n\
             2>&1 \\\n\
             | awk '/Location:/ {{print $2}}' \\\n\
             | xargs wget --content-disposition"
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &pipeline])
            .env("TOKEN", &token)
            .current_dir(&piped)
            .output()
            .expect("run the wget pipeline");
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            piped.join(saved).exists(),
            "{what}: no {saved}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if what == "zip" {
            assert_eq!(zip_listing(&piped.join(saved))["data.bin"][0], data.len());
        } else {
            // The first wget follows the redirect too (NGC's S3 refuses it, this data plane
            // does not): whatever it saved is the file as well.
            for entry in std::fs::read_dir(&piped).unwrap() {
                let path = entry.unwrap().path();
                assert!(std::fs::read(&path).unwrap() == data, "{}", path.display());
            }
        }
    }
    let r = http
        .get(format!("{}/v2/org/acme/models/m/versions/1/files/../../x", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status() == 400 || r.status() == 404, "{}", r.status());

    // The whole version as one zip, checked with Python's zipfile.
    let zip_url = format!("{}/v2/org/acme/models/m/versions/1/zip", server.base);
    let curl = std::process::Command::new("curl")
        .args(["-sSfL", "-o", "m.zip", &zip_url, "-H", &auth])
        .current_dir(&dir)
        .status()
        .expect("run curl");
    assert!(curl.success());
    let listed = zip_listing(&dir.join("m.zip"));
    let hex = |d: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(d))
    };
    assert_eq!(
        listed,
        json!({"data.bin": [data.len(), hex(&data)], "empty.txt": [0, hex(b"")]})
    );

    // The catalog's guest paths: refused while private, open once public.
    let guest_file = format!("{}/v2/models/acme/m/versions/1/files/data.bin", server.base);
    assert_eq!(http.get(&guest_file).send().await.unwrap().status(), 401);
    let (s, _) = api
        .patch("/v2/org/acme/models/m", &owner, Some(json!({"isPublic": true})))
        .await;
    assert_eq!(s, 200);
    let got = http.get(&guest_file).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert!(got.bytes().await.unwrap()[..] == data[..]);
    for path in [
        "/v2/models/acme/m",
        "/v2/models/acme/m/versions",
        "/v2/models/acme/m/versions/1",
        "/v2/models/acme/m/versions/1/files",
        "/v2/models/acme/m/versions/1/zip",
        "/v2/models/org/acme/m/1/files",
    ] {
        let r = http.get(format!("{}{path}", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let guest_dir = dir.join("guest");
    std::fs::create_dir_all(&guest_dir).unwrap();
    let wget = std::process::Command::new("wget")
        .args([
            "-q",
            "--content-disposition",
            &format!(
                "{}/v2/models/org/acme/m/1/files?redirect=true&path=data.bin",
                server.base
            ),
        ])
        .current_dir(&dir)
        .status()
        .expect("run wget");
    assert!(wget.success());
    assert!(
        std::fs::read(dir.join("data.bin")).unwrap() == data,
        "wget --content-disposition"
    );
    let r = http
        .get(format!("{}/v2/models/acme/m/versions/1/files/data.bin", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"data.bin\"");
    let (s, _) = api
        .patch("/v2/org/acme/models/m", &owner, Some(json!({"isPublic": false})))
        .await;
    assert_eq!(s, 200);

    // Stored once: the same bytes are known to every entity now.
    let (_, body) = api
        .post(
            "/v2/org/acme/models/m/files",
            &owner,
            json!({"files": [{"sha256": sha}]}),
        )
        .await;
    assert_eq!(body["files"][0]["exists"], true);

    // Bytes that do not match the announced SHA-256 are refused at completion.
    api.post("/v2/org/acme/models/m/versions", &owner, json!({"versionId": "2"}))
        .await;
    let lie = b64_sha256(b"something else");
    let status = model("m", "2")
        .upload_one_part(&api, &owner, "x.bin", b"abc", &lie)
        .await;
    assert_eq!(status, 400);

    // A reader may download but not upload.
    let reader = member(stores, "read@acme.test", &[("REGISTRY_READ", None)]);
    let (s, _) = api
        .post(
            "/v2/org/acme/files/multipart",
            &Auth::Bearer(reader.clone()),
            start("r.bin", 1, &sha),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = api.get("/v2/org/acme/models/m/1/files", &Auth::Bearer(reader)).await;
    assert_eq!(s, 200);
}
both_backends!(transfers, transfers_over_http);

/// The per-org quota counts each stored file once and refuses an upload that would pass it
/// when the upload starts.
async fn quota(stores: &Stores) {
    let server = Server::start_with(
        stores,
        &common::ServeOptions {
            extra_args: vec!["--org-artifact-quota".into(), "150000".into()],
            ..Default::default()
        },
    );
    let api = server.api();
    let owner = Auth::Bearer(server.key());
    api.post("/v2/org/acme/models", &owner, json!({"name": "q"})).await;
    api.post("/v2/org/acme/models/q/versions", &owner, json!({"versionId": "1"}))
        .await;
    let data = vec![7u8; 100_000];
    let start = |path: &str, size: usize, sha: &str| json!({"name": "q", "version": "1", "artifactType": "models", "filePath": path, "size": size, "sha256": sha});
    let sha = b64_sha256(&data);
    assert_eq!(
        model("q", "1")
            .upload_one_part(&api, &owner, "a.bin", &data, &sha)
            .await,
        200
    );
    let commit = json!({"name": "q", "artifactType": "models", "version": "1",
                        "files": [{"commitType": "ADDITION", "filePath": "a.bin", "sha256": sha}]});
    let (s, _) = api.post("/v2/org/acme/files/commit", &owner, commit).await;
    assert_eq!(s, 200);

    let other = b64_sha256(&[1u8; 60_000]);
    let (s, body) = api
        .post("/v2/org/acme/files/multipart", &owner, start("b.bin", 60_000, &other))
        .await;
    assert_eq!(s, 413, "{body}");
    assert!(body.to_string().contains("quota"), "{body}");
    let (s, body) = api
        .post(
            "/v2/org/acme/files/multipart",
            &owner,
            start("copy.bin", data.len(), &sha),
        )
        .await;
    assert_eq!(s, 200, "a file stored already costs nothing: {body}");
}
both_backends!(quotas, quota);
