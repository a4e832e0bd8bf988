//! Models and resources over the NGC REST API on both backends: create with every metadata
//! field, info, update, versions (create, list in version order, commit, set-latest, remove),
//! removal rights, bad input, and search with `resourceId` globs.

mod common;

use common::{Auth, Server, Stores, admin_ok, member};
use serde_json::{Value, json};

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
