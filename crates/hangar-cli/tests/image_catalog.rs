//! NGC's image API over the registry on both backends: repository metadata, tags with sizes,
//! architectures and signatures, set-latest, removal, search with wildcards, public
//! repositories for guests, and who may do what.

mod common;

use common::registry::{CONFIG, OCI_INDEX, OCI_MANIFEST, Registry, image_manifest, sha};
use common::{Auth, Server, Stores, admin_ok, member};
use reqwest::Method;
use serde_json::{Value, json};

const OT: &str = "/v2/org/acme";

fn tag_names(images: &Value) -> Vec<&str> {
    images["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tag"].as_str().unwrap())
        .collect()
}

fn search_ids(body: &Value) -> Vec<&str> {
    body["results"][0]["resources"]
        .as_array()
        .map(|r| r.iter().map(|x| x["resourceId"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

fn q(query: &str) -> String {
    let q = json!({"fields": ["name"], "filters": [], "orderBy": [{"field": "score", "value": "ASC"}],
                   "page": 0, "pageSize": 100, "query": query, "queryFields": ["name"]});
    format!("q={}", percent_encode(&q.to_string()))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn tags_sizes_and_architectures(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Key(server.key());
    let reg = Registry::new(&server, Some(server.key()));
    let (_, v1) = reg
        .push_layers("acme/web", "v1", &[b"first layer", b"second layer"])
        .await;
    let v1_size = CONFIG.len() + 11 + 12;
    // Tag times are in seconds; later pushes must be later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let ((_, amd_size), (_, arm_size)) = reg.push_index("acme/web", "multi").await;

    let (status, repo) = api.get(&format!("{OT}/repos/web?resolve-labels=false"), &owner).await;
    assert_eq!(status, 200, "{repo}");
    assert_eq!(repo["name"], "web");
    assert_eq!(repo["resourceId"], "acme/web");
    assert_eq!(repo["latestTag"], "multi", "the most recent push is the latest");
    assert_eq!(
        repo["latestImageSize"], amd_size,
        "an index's size is its first platform's"
    );
    assert_eq!(repo["isMultiArchitecture"], true);
    assert_eq!(repo["tags"], json!(["multi", "v1"]));

    let (status, images) = api.get(&format!("{OT}/repos/web/images"), &owner).await;
    assert_eq!(status, 200, "{images}");
    assert_eq!(tag_names(&images), ["multi", "v1"]);
    assert_eq!(images["paginationInfo"]["totalResults"], 2);
    let multi = &images["images"][0];
    let variants = multi["architectureVariants"].as_array().unwrap();
    assert_eq!(variants.len(), 2, "{multi}");
    assert_eq!(
        (variants[0]["os"].as_str(), variants[0]["architecture"].as_str()),
        (Some("linux"), Some("amd64"))
    );
    assert_eq!(variants[0]["compressedSize"], amd_size);
    assert_eq!(variants[1]["architecture"], "arm64/v8");
    assert_eq!(variants[1]["compressedSize"], arm_size);
    let single = &images["images"][1];
    assert_eq!(single["size"], v1_size);
    assert_eq!(single["digest"], v1.as_str());
    assert_eq!(
        single["architectureVariants"][0]["architecture"], "amd64",
        "read from the config"
    );
    assert_eq!(single["isSigned"], false);

    let (status, image) = api.get(&format!("{OT}/repos/web/images/multi"), &owner).await;
    assert_eq!(status, 200, "{image}");
    assert_eq!(image["architecture"], "amd64, arm64/v8");
    let (status, image) = api.get(&format!("{OT}/repos/web/images/v1"), &owner).await;
    assert_eq!((status.as_u16(), image["fsLayers"].as_array().unwrap().len()), (200, 2));
    let (status, _) = api.get(&format!("{OT}/repos/web/images/nope"), &owner).await;
    assert_eq!(status, 404);
    let (status, _) = api.get(&format!("{OT}/repos/web/images/bad%20tag"), &owner).await;
    assert_eq!(status, 400);

    // Set latest; the repository follows.
    let (status, tag) = api
        .patch(
            &format!("{OT}/repos/web/tags/v1?set-latest=true"),
            &owner,
            Some(json!({})),
        )
        .await;
    assert_eq!((status.as_u16(), tag["tag"].as_str()), (200, Some("v1")), "{tag}");
    let (_, repo) = api.get(&format!("{OT}/repos/web"), &owner).await;
    assert_eq!(
        (repo["latestTag"].as_str(), repo["latestImageSize"].as_u64()),
        (Some("v1"), Some(v1_size as u64))
    );
    assert_eq!(repo["isMultiArchitecture"], false);
    let (status, _) = api
        .patch(
            &format!("{OT}/repos/web/tags/nope?set-latest=true"),
            &owner,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 404);

    // Signatures count only once verified against the org's keys (tests/image_signing.rs): a
    // cosign signature that no key verifies is kept with why, and is no image tag.
    let sig_tag = format!("{}.sig", v1.replacen(':', "-", 1));
    let payload = reg.push_blob("acme/web", b"cosign signature payload").await;
    let mut signature = image_manifest(&reg.push_blob("acme/web", b"{}").await, &[(&payload, 24)], None);
    signature["config"]["size"] = json!(2);
    signature["layers"][0]["mediaType"] = json!("application/vnd.dev.cosign.simplesigning.v1+json");
    signature["layers"][0]["annotations"] = json!({"dev.cosignproject.cosign/signature": "bm90IGEgc2lnbmF0dXJl"});
    let r = reg.push_manifest("acme/web", &sig_tag, OCI_MANIFEST, &signature).await;
    assert_eq!(r.status(), 201);
    let (status, tag) = api.get(&format!("{OT}/repos/web/tags/v1"), &owner).await;
    assert_eq!((status.as_u16(), &tag["isSigned"]), (200, &json!(false)), "{tag}");
    assert_eq!(tag["signatureProblems"], json!(["its payload is not JSON"]), "{tag}");
    // A sparse signature naming a payload of another repository: never read from there.
    let elsewhere = br#"{"critical":{"image":{"docker-manifest-digest":"secret"}}}"#;
    signature["layers"][0]["digest"] = json!(reg.push_blob("acme/elsewhere", elsewhere).await);
    signature["layers"][0]["size"] = json!(elsewhere.len());
    let r = reg.push_manifest("acme/web", &sig_tag, OCI_MANIFEST, &signature).await;
    assert_eq!(r.status(), 201);
    let (_, tag) = api.get(&format!("{OT}/repos/web/tags/v1"), &owner).await;
    assert_eq!(
        tag["signatureProblems"],
        json!(["its payload is not JSON", "its payload was not pushed"]),
        "{tag}"
    );
    let (_, repo) = api.get(&format!("{OT}/repos/web"), &owner).await;
    assert_eq!(repo["hasSignedTag"], false);
    assert_eq!(repo["tags"], json!(["multi", "v1"]), "signature tags are not images");
    let (_, multi_digest) = {
        let r = reg
            .send(
                Method::HEAD,
                "/v2/acme/web/manifests/multi",
                &[("accept", OCI_INDEX)],
                vec![],
            )
            .await;
        ((), r.headers()["docker-content-digest"].to_str().unwrap().to_string())
    };
    let notary = reg.push_blob("acme/web", b"notary signature").await;
    let mut referrer = image_manifest(&reg.push_blob("acme/web", b"{}").await, &[(&notary, 16)], None);
    referrer["config"]["size"] = json!(2);
    referrer["artifactType"] = json!("application/vnd.cncf.notary.signature");
    referrer["subject"] = json!({"mediaType": OCI_INDEX, "digest": multi_digest, "size": 1});
    let bytes = serde_json::to_vec(&referrer).unwrap();
    let r = reg
        .push_manifest("acme/web", &sha(&bytes), OCI_MANIFEST, &referrer)
        .await;
    assert_eq!(r.status(), 201);
    let (_, images) = api.get(&format!("{OT}/repos/web/images"), &owner).await;
    assert_eq!(
        images["images"][0]["isSigned"], false,
        "a Notary signature is not verified: {images}"
    );

    // Removing one tag; then the whole repository.
    let (status, _) = api.delete(&format!("{OT}/repos/web/images/multi"), &owner).await;
    assert_eq!(status, 200);
    let (_, images) = api.get(&format!("{OT}/repos/web/images"), &owner).await;
    assert_eq!(tag_names(&images), ["v1"]);
    let r = reg.send(Method::GET, "/v2/acme/web/manifests/multi", &[], vec![]).await;
    assert_eq!(r.status(), 404);
    let (status, _) = api.delete(&format!("{OT}/repos/web/images/multi"), &owner).await;
    assert_eq!(status, 404);
    let (status, _) = api.delete(&format!("{OT}/repos/web"), &owner).await;
    assert_eq!(status, 200);
    let (status, _) = api.get(&format!("{OT}/repos/web"), &owner).await;
    assert_eq!(status, 404);
    let r = reg.send(Method::GET, "/v2/acme/web/manifests/v1", &[], vec![]).await;
    assert_eq!(r.status(), 404);
}
both_backends!(tags, tags_sizes_and_architectures);

async fn metadata_search_and_public(stores: &Stores) {
    let server = Server::start(stores);
    let api = server.api();
    let owner = Auth::Key(server.key());
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    admin_ok(stores, &["team", "create", "acme", "other"]);
    let reg = Registry::new(&server, Some(server.key()));
    reg.push_image("acme/nginx-proxy", "1.0").await;
    reg.push_image("acme/vision/detector", "2.0").await;

    // Create with metadata before any push; a second create conflicts.
    let (status, created) = api
        .post(
            &format!("{OT}/repos"),
            &owner,
            json!({"name": "planned", "shortDescription": "coming soon", "labelsV2": ["ml"]}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        (created["shortDescription"].as_str(), created["latestTag"].is_null()),
        (Some("coming soon"), true)
    );
    let (status, _) = api
        .post(&format!("{OT}/repos"), &owner, json!({"name": "planned"}))
        .await;
    assert_eq!(status, 409);
    let (status, _) = api
        .post(&format!("{OT}/repos"), &owner, json!({"name": "Bad Name"}))
        .await;
    assert_eq!(status, 400);

    // Update every field; bad updates change nothing.
    let update = json!({"displayName": "Nginx Proxy", "shortDescription": "A proxy.", "description": "# Overview\nfast",
                        "labelsV2": ["web", "proxy"], "logo": "https://example.com/logo.png", "publisher": "Acme",
                        "builtBy": "Ada", "isMultinodeEnabled": true});
    let (status, repo) = api
        .patch(&format!("{OT}/repos/nginx-proxy"), &owner, Some(update))
        .await;
    assert_eq!(status, 200, "{repo}");
    let (_, repo) = api
        .get(&format!("{OT}/repos/nginx-proxy?resolve-labels=false"), &owner)
        .await;
    for (field, value) in [
        ("displayName", json!("Nginx Proxy")),
        ("shortDescription", json!("A proxy.")),
        ("description", json!("# Overview\nfast")),
        ("labels", json!(["web", "proxy"])),
        ("logo", json!("https://example.com/logo.png")),
        ("publisher", json!("Acme")),
        ("builtBy", json!("Ada")),
        ("isMultinodeEnabled", json!(true)),
        ("isPublic", json!(false)),
        ("latestTag", json!("1.0")),
    ] {
        assert_eq!(repo[field], value, "{field}: {repo}");
    }
    for bad in [
        json!({"colour": "red"}),
        json!({"labelsV2": ["x".repeat(65)]}),
        json!({"labelsV2": (0..51).map(|i| format!("l{i}")).collect::<Vec<_>>()}),
        json!({"displayName": "bell\u{7}"}),
        json!({"name": "renamed"}),
    ] {
        let (status, body) = api
            .patch(&format!("{OT}/repos/nginx-proxy"), &owner, Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad} → {body}");
    }
    let (_, again) = api.get(&format!("{OT}/repos/nginx-proxy"), &owner).await;
    assert_eq!(again["labels"], repo["labels"]);

    // Search: globs on org[/team]/name; team repositories only for those who see the team.
    let (status, found) = api
        .get(
            &format!("/v2/search/org/acme/resources/CONTAINER?{}", q("resourceId:*nginx*")),
            &owner,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(search_ids(&found), ["acme/nginx-proxy"]);
    let attributes = &found["results"][0]["resources"][0]["attributes"];
    assert!(
        attributes
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "latestTag" && a["value"] == "1.0"),
        "{attributes}"
    );
    let (_, all) = api
        .get(
            &format!("/v2/search/org/acme/resources/CONTAINER?{}", q("resourceId:acme/*")),
            &owner,
        )
        .await;
    assert_eq!(
        search_ids(&all),
        ["acme/nginx-proxy", "acme/planned", "acme/vision/detector"]
    );
    let (_, none) = api
        .get(
            &format!("/v2/search/org/acme/resources/CONTAINER?{}", q("resourceId:*nothing*")),
            &owner,
        )
        .await;
    assert_eq!(
        (none["resultTotal"].as_u64(), none["resultPageTotal"].as_u64()),
        (Some(0), Some(0))
    );
    let reader = Auth::Key(member(stores, "r@acme.test", &[("REGISTRY_READ", None)]));
    let outsider = Auth::Key(member(stores, "t@acme.test", &[("REGISTRY_READ", Some("other"))]));
    let (_, seen) = api
        .get(
            &format!("/v2/search/org/acme/resources/CONTAINER?{}", q("resourceId:acme/*")),
            &outsider,
        )
        .await;
    assert!(!search_ids(&seen).contains(&"acme/vision/detector"), "{seen}");
    let (status, _) = api.get(&format!("{OT}/team/vision/repos/detector"), &outsider).await;
    assert_eq!(status, 404, "another team's repository is invisible");
    let (status, detector) = api.get(&format!("{OT}/team/vision/repos/detector"), &reader).await;
    assert_eq!((status.as_u16(), detector["teamName"].as_str()), (200, Some("vision")));

    // Roles: readers read, users may not make public or delete, admins may.
    let user = Auth::Key(member(stores, "u@acme.test", &[("REGISTRY_USER", None)]));
    let (status, _) = api
        .patch(
            &format!("{OT}/repos/nginx-proxy"),
            &reader,
            Some(json!({"publisher": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = api
        .patch(
            &format!("{OT}/repos/nginx-proxy"),
            &user,
            Some(json!({"publisher": "Ops"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .patch(
            &format!("{OT}/repos/nginx-proxy"),
            &user,
            Some(json!({"isPublic": true})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = api.delete(&format!("{OT}/repos/nginx-proxy/images/1.0"), &user).await;
    assert_eq!(status, 403);
    let (status, _) = api.delete(&format!("{OT}/repos/planned"), &reader).await;
    assert_eq!(status, 403);

    // Public: guests find and read it, and only it.
    let (_, nothing) = api
        .get(
            &format!("/v2/search/catalog/resources/CONTAINER?{}", q("*")),
            &Auth::None,
        )
        .await;
    assert_eq!(search_ids(&nothing), Vec::<&str>::new());
    let (status, _) = api.get("/v2/repos/acme/nginx-proxy", &Auth::None).await;
    assert_eq!(status, 401);
    let (status, _) = api
        .patch(
            &format!("{OT}/repos/nginx-proxy"),
            &owner,
            Some(json!({"isPublic": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, public) = api
        .get(
            &format!("/v2/search/catalog/resources/CONTAINER?{}", q("*")),
            &Auth::None,
        )
        .await;
    assert_eq!(search_ids(&public), ["acme/nginx-proxy"]);
    let (status, repo) = api
        .get("/v2/repos/acme/nginx-proxy?resolve-labels=false", &Auth::None)
        .await;
    assert_eq!(
        (status.as_u16(), repo["canGuestPull"].as_bool()),
        (200, Some(true)),
        "{repo}"
    );
    let (status, images) = api.get("/v2/repos/acme/nginx-proxy/images", &Auth::None).await;
    assert_eq!((status.as_u16(), tag_names(&images)), (200, vec!["1.0"]));
    let (status, image) = api.get("/v2/repos/acme/nginx-proxy/images/1.0", &Auth::None).await;
    assert_eq!((status.as_u16(), image["tag"].as_str()), (200, Some("1.0")));
    // Anonymous pulls of the public repository, with a token from the token service.
    let anonymous = Registry::new(&server, None);
    let r = anonymous
        .send(Method::GET, "/v2/acme/nginx-proxy/manifests/1.0", &[], vec![])
        .await;
    assert_eq!(r.status(), 200);
    let r = anonymous
        .send(Method::GET, "/v2/acme/vision/detector/manifests/2.0", &[], vec![])
        .await;
    assert_eq!(r.status(), 401);
    let r = anonymous
        .send(Method::POST, "/v2/acme/nginx-proxy/blobs/uploads/", &[], vec![])
        .await;
    assert_eq!(r.status(), 401, "public is read-only");
    let (status, _) = api.get("/v2/repos/acme/vision/detector", &Auth::None).await;
    assert_eq!(status, 401);
    let (status, _) = api
        .patch(
            &format!("{OT}/repos/nginx-proxy"),
            &Auth::None,
            Some(json!({"publisher": "x"})),
        )
        .await;
    assert_eq!(status, 401);

    // The org listing shows org-level repositories; the team listing the team's.
    let (_, listing) = api.get(&format!("{OT}/repos"), &reader).await;
    let names: Vec<&str> = listing["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nginx-proxy", "planned"]);
    let (_, listing) = api.get(&format!("{OT}/team/vision/repos"), &reader).await;
    assert_eq!(listing["repositories"][0]["resourceId"], "acme/vision/detector");
}
both_backends!(metadata, metadata_search_and_public);
