//! The OCI distribution API over real HTTP on both backends: token auth, uploads (monolithic,
//! chunked, resumed), manifests, tags, referrers, catalog, permissions and bad input.

mod common;

use common::registry::{CONFIG, OCI_INDEX, OCI_MANIFEST, Registry, errors_code, image_manifest, sha};
use common::{Server, Stores, admin_ok, member};
use reqwest::Method;
use serde_json::{Value, json};

async fn push_pull_and_errors(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    // The challenge, and a login.
    let r = reqwest::get(format!("{}/v2/", server.base)).await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        challenge.starts_with("Bearer realm=\"http://") && challenge.contains("/token\""),
        "{challenge}"
    );
    assert_eq!(reg.send(Method::GET, "/v2/", &[], vec![]).await.status(), 200);

    let digest = reg.push_image("acme/web", "v1").await;
    let r = reg.send(Method::GET, "/v2/acme/web/manifests/v1", &[], vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["docker-content-digest"], digest.as_str());
    let body = r.bytes().await.unwrap();
    assert_eq!(sha(&body), digest);
    let r = reg
        .send(Method::HEAD, &format!("/v2/acme/web/manifests/{digest}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 200);

    // Ranged blob reads.
    let layer = reg.push_blob("acme/web", b"0123456789").await;
    let r = reg
        .send(
            Method::GET,
            &format!("/v2/acme/web/blobs/{layer}"),
            &[("range", "bytes=2-5")],
            vec![],
        )
        .await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 2-5/10");
    assert_eq!(&r.bytes().await.unwrap()[..], b"2345");

    // Chunked upload, an out-of-order chunk refused, and a resume after an interruption.
    let r = reg.send(Method::POST, "/v2/acme/web/blobs/uploads/", &[], vec![]).await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let r = reg
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "0-4"), ("content-type", "application/octet-stream")],
            b"hello".to_vec(),
        )
        .await;
    assert_eq!(r.status(), 202);
    let r = reg
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "10-14")],
            b"later".to_vec(),
        )
        .await;
    assert_eq!(r.status(), 416, "out-of-order chunk");
    // "Interrupted": the client asks where the upload stands and carries on from there.
    let r = reg.send(Method::GET, &location, &[], vec![]).await;
    assert_eq!(
        (r.status().as_u16(), r.headers()["range"].to_str().unwrap()),
        (204, "0-4")
    );
    let r = reg
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "5-10")],
            b" world".to_vec(),
        )
        .await;
    assert_eq!(r.status(), 202);
    let whole = sha(b"hello world");
    let r = reg
        .send(
            Method::PUT,
            &format!("{location}?digest={}", sha(b"wrong")),
            &[],
            vec![],
        )
        .await;
    assert_eq!(errors_code(r).await, "DIGEST_INVALID");
    let r = reg
        .send(Method::PUT, &format!("{location}?digest={whole}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 201);
    let r = reg
        .send(Method::GET, &format!("/v2/acme/web/blobs/{whole}"), &[], vec![])
        .await;
    assert_eq!(&r.bytes().await.unwrap()[..], b"hello world");

    // Bad manifests.
    let missing = image_manifest(&sha(b"nope"), &[], None);
    let r = reg
        .push_manifest(
            "acme/web",
            "bad",
            "application/vnd.oci.image.manifest.v1+json",
            &missing,
        )
        .await;
    assert_eq!(
        (r.status().as_u16(), errors_code(r).await.as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN")
    );
    let r = reg
        .send(
            Method::PUT,
            "/v2/acme/web/manifests/bad",
            &[("content-type", "application/vnd.oci.image.manifest.v1+json")],
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(errors_code(r).await, "MANIFEST_INVALID");
    let r = reg
        .push_manifest(
            "acme/web",
            &sha(b"other"),
            "application/vnd.oci.image.manifest.v1+json",
            &missing,
        )
        .await;
    assert_eq!(errors_code(r).await, "DIGEST_INVALID");
    let r = reg
        .send(Method::GET, "/v2/acme/web/manifests/nosuchtag", &[], vec![])
        .await;
    assert_eq!(
        (r.status().as_u16(), errors_code(r).await.as_str()),
        (404, "MANIFEST_UNKNOWN")
    );
    let r = reg.send(Method::GET, "/v2/Acme/Web/manifests/v1", &[], vec![]).await;
    assert_eq!(errors_code(r).await, "NAME_INVALID");
    let r = reg
        .send(Method::GET, "/v2/acme/web/blobs/sha256:zzz", &[], vec![])
        .await;
    assert_eq!(errors_code(r).await, "DIGEST_INVALID");

    // Referrers with an artifactType filter.
    let config = reg.push_blob("acme/web", CONFIG).await;
    let mut sig = image_manifest(&config, &[], Some((&digest, body.len())));
    sig["artifactType"] = json!("application/vnd.example.signature");
    let r = reg
        .push_manifest(
            "acme/web",
            &sha(&serde_json::to_vec(&sig).unwrap()),
            "application/vnd.oci.image.manifest.v1+json",
            &sig,
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["oci-subject"], digest.as_str());
    let r = reg
        .send(
            Method::GET,
            &format!("/v2/acme/web/referrers/{digest}?artifactType=application/vnd.example.signature"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.headers()["oci-filters-applied"], "artifactType");
    let index: Value = r.json().await.unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1, "{index}");
    let r = reg
        .send(
            Method::GET,
            &format!("/v2/acme/web/referrers/{digest}?artifactType=other/type"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["manifests"], json!([]));

    // Tags with pagination, then deletes.
    reg.push_image("acme/web", "v2").await;
    reg.push_image("acme/web", "v3").await;
    let r = reg.send(Method::GET, "/v2/acme/web/tags/list?n=2", &[], vec![]).await;
    assert!(r.headers()["link"].to_str().unwrap().contains("last=v2"));
    assert_eq!(r.json::<Value>().await.unwrap()["tags"], json!(["v1", "v2"]));
    let r = reg
        .send(Method::GET, "/v2/acme/web/tags/list?n=2&last=v2", &[], vec![])
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["tags"], json!(["v3"]));
    let r = reg.send(Method::DELETE, "/v2/acme/web/manifests/v3", &[], vec![]).await;
    assert_eq!(r.status(), 202);
    let r = reg
        .send(Method::DELETE, &format!("/v2/acme/web/manifests/{digest}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202);
    let r = reg.send(Method::GET, "/v2/acme/web/manifests/v1", &[], vec![]).await;
    assert_eq!(r.status(), 404);
    let r = reg.send(Method::GET, "/v2/_catalog", &[], vec![]).await;
    assert_eq!(r.json::<Value>().await.unwrap()["repositories"], json!(["acme/web"]));
}
both_backends!(protocol, push_pull_and_errors);

async fn permissions(stores: &Stores) {
    let server = Server::start(stores);
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    admin_ok(stores, &["org", "create", "nvidia"]);
    let owner = Registry::new(&server, Some(server.key()));
    owner.push_image("acme/web", "v1").await;
    owner.push_image("acme/vision/detector", "v1").await;
    let reader = Registry::new(&server, Some(member(stores, "r@acme.test", &[("REGISTRY_READ", None)])));
    let user = Registry::new(&server, Some(member(stores, "u@acme.test", &[("REGISTRY_USER", None)])));
    let admin = Registry::new(
        &server,
        Some(member(stores, "a@acme.test", &[("REGISTRY_ADMIN", None)])),
    );
    let other_team = Registry::new(
        &server,
        Some(member(stores, "t@acme.test", &[("REGISTRY_USER", Some("vision"))])),
    );
    let anonymous = Registry::new(&server, None);

    assert_eq!(
        reader
            .send(Method::GET, "/v2/acme/web/manifests/v1", &[], vec![])
            .await
            .status(),
        200
    );
    let r = reader
        .send(Method::POST, "/v2/acme/web/blobs/uploads/", &[], vec![])
        .await;
    assert_eq!(
        (r.status().as_u16(), errors_code(r).await.as_str()),
        (401, "UNAUTHORIZED"),
        "the token lacks push"
    );
    user.push_image("acme/web", "v2").await;
    let r = user
        .send(Method::DELETE, "/v2/acme/web/manifests/v2", &[], vec![])
        .await;
    assert!(r.status() == 401 || r.status() == 403, "{}", r.status());
    assert_eq!(
        admin
            .send(Method::DELETE, "/v2/acme/web/manifests/v2", &[], vec![])
            .await
            .status(),
        202
    );
    assert_eq!(
        anonymous
            .send(Method::GET, "/v2/acme/web/manifests/v1", &[], vec![])
            .await
            .status(),
        401
    );
    // A team member sees their team's repository and not the org's others in the catalog.
    let r = other_team.send(Method::GET, "/v2/_catalog", &[], vec![]).await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["repositories"],
        json!(["acme/vision/detector"])
    );
    // An org-level reader sees into every team.
    let r = reader.send(Method::GET, "/v2/_catalog", &[], vec![]).await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["repositories"],
        json!(["acme/vision/detector", "acme/web"])
    );
    assert_eq!(
        other_team
            .send(Method::GET, "/v2/acme/web/manifests/v1", &[], vec![])
            .await
            .status(),
        401
    );
    // Reserved namespaces: not even the org owner may push.
    admin_ok(
        stores,
        &[
            "role",
            "grant",
            "owner@acme.test",
            "--org",
            "nvidia",
            "--role",
            "ORG_OWNER",
        ],
    );
    let legacy = Registry::new(
        &server,
        Some(admin_ok(stores, &["key", "legacy", "--user", "owner@acme.test"])),
    );
    let r = legacy
        .send(Method::POST, "/v2/nvidia/cuda/blobs/uploads/", &[], vec![])
        .await;
    assert!(r.status() == 401 || r.status() == 403, "{}", r.status());
    // Basic auth with the key works too.
    let r = reqwest::Client::new()
        .get(format!("{}/v2/acme/web/tags/list", server.base))
        .basic_auth("$oauthtoken", Some(server.key()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
both_backends!(roles, permissions);

async fn limits(stores: &Stores) {
    let options = common::ServeOptions {
        extra_args: ["--max-layer-size", "1000", "--org-image-soft-limit", "100"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    let server = Server::start_with(stores, &options);
    let reg = Registry::new(&server, Some(server.key()));
    // A layer larger than the maximum is refused, monolithic or chunked, and nothing is stored.
    let big = vec![7u8; 2000];
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/acme/big/blobs/uploads/?digest={}", sha(&big)),
            &[],
            big.clone(),
        )
        .await;
    assert_eq!(
        (r.status().as_u16(), errors_code(r).await.as_str()),
        (413, "SIZE_INVALID")
    );
    let r = reg.send(Method::POST, "/v2/acme/big/blobs/uploads/", &[], vec![]).await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let r = reg.send(Method::PATCH, &location, &[], big[..600].to_vec()).await;
    assert_eq!(r.status(), 202);
    let r = reg.send(Method::PATCH, &location, &[], big[600..].to_vec()).await;
    assert_eq!(r.status(), 413, "the upload is refused when it reaches the maximum");
    let r = reg
        .send(Method::HEAD, &format!("/v2/acme/big/blobs/{}", sha(&big)), &[], vec![])
        .await;
    assert_eq!(r.status(), 404);
    // Above the org's soft limit a push succeeds with a warning, and the usage is reported.
    let config = reg.push_blob("acme/small", CONFIG).await;
    let layer = reg.push_blob("acme/small", &[1u8; 500]).await;
    let manifest = image_manifest(&config, &[(&layer, 500)], None);
    let r = reg
        .push_manifest(
            "acme/small",
            "v1",
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        )
        .await;
    assert_eq!(r.status(), 201);
    assert!(
        r.headers()["warning"].to_str().unwrap().contains("soft limit"),
        "{:?}",
        r.headers()
    );
    let info: Value = reqwest::Client::new()
        .get(format!("{}/v2/orgs/acme", server.base))
        .bearer_auth(server.key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["organizations"]["imageStorage"]["usedBytes"],
        json!(500 + CONFIG.len()),
        "{info}"
    );
}
both_backends!(size_limits, limits);

async fn tags_as_parameters(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let config = reg.push_blob("acme/app", CONFIG).await;
    let manifest = image_manifest(&config, &[], None);
    let digest = sha(&serde_json::to_vec(&manifest).unwrap());
    let path = format!("{digest}?tag=1.2.3&tag=latest");
    let r = reg
        .push_manifest(
            "acme/app",
            &path,
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        )
        .await;
    assert_eq!(r.status(), 201);
    let accepted: Vec<&str> = r
        .headers()
        .get_all("oci-tag")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(accepted, ["1.2.3", "latest"]);
    let r = reg.send(Method::GET, "/v2/acme/app/tags/list", &[], vec![]).await;
    assert_eq!(r.json::<Value>().await.unwrap()["tags"], json!(["1.2.3", "latest"]));
    let bad = format!("{digest}?tag=-bad");
    let r = reg
        .push_manifest(
            "acme/app",
            &bad,
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        )
        .await;
    assert_eq!(errors_code(r).await, "MANIFEST_INVALID");
}
both_backends!(tag_parameters, tags_as_parameters);

fn sha512(bytes: &[u8]) -> String {
    format!("sha512:{}", hex::encode(<sha2::Sha512 as sha2::Digest>::digest(bytes)))
}

/// sha512 blobs and manifests: monolithic and chunked uploads, mismatches, manifests that refer
/// to sha512 blobs, pushed by tag and by sha512 digest. On the SQLite + folder backend only: the
/// S3 test server cannot hold keys this long (see blob_conformance's `holds_sha512_keys`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha512_digests() {
    let Some(stores) = common::stores(common::Backend::SqliteFolder).await else {
        return;
    };
    let server = Server::start(&stores);
    let reg = Registry::new(&server, Some(server.key()));
    let layer = vec![42u8; 70_000];
    let d = sha512(&layer);
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/acme/sha/blobs/uploads/?digest={d}"),
            &[],
            layer.clone(),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = reg
        .send(Method::HEAD, &format!("/v2/acme/sha/blobs/{d}"), &[], vec![])
        .await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["docker-content-digest"].to_str().unwrap()
        ),
        (200, d.as_str())
    );
    let r = reg
        .send(Method::GET, &format!("/v2/acme/sha/blobs/{d}"), &[], vec![])
        .await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), &layer[..]);

    // Chunked, finished with a sha512 digest.
    let config = br#"{"architecture":"arm64","os":"linux"}"#.to_vec();
    let config_digest = sha512(&config);
    let r = reg.send(Method::POST, "/v2/acme/sha/blobs/uploads/", &[], vec![]).await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let r = reg
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "0-9")],
            config[..10].to_vec(),
        )
        .await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let separator = if location.contains('?') { '&' } else { '?' };
    let wrong = sha512(b"something else");
    let r = reg
        .send(
            Method::PUT,
            &format!("{location}{separator}digest={wrong}"),
            &[("content-range", &format!("10-{}", config.len() - 1))],
            config[10..].to_vec(),
        )
        .await;
    assert_eq!(errors_code(r).await, "DIGEST_INVALID");
    let r = reg
        .send(Method::HEAD, &format!("/v2/acme/sha/blobs/{wrong}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 404, "nothing stored under the wrong digest");
    let r = reg.send(Method::POST, "/v2/acme/sha/blobs/uploads/", &[], vec![]).await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let r = reg
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "0-9")],
            config[..10].to_vec(),
        )
        .await;
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let separator = if location.contains('?') { '&' } else { '?' };
    let r = reg
        .send(
            Method::PUT,
            &format!("{location}{separator}digest={config_digest}"),
            &[],
            config[10..].to_vec(),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // A manifest of sha512 blobs, by tag and by its sha512 digest.
    let mut manifest = image_manifest(&config_digest, &[(&d, layer.len())], None);
    manifest["config"]["size"] = json!(config.len());
    let r = reg
        .push_manifest("acme/sha", "v1", common::registry::OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let by_digest = sha512(&bytes);
    let r = reg
        .push_manifest("acme/sha", &by_digest, common::registry::OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["docker-content-digest"].to_str().unwrap(), by_digest);
    let r = reg
        .send(Method::GET, &format!("/v2/acme/sha/manifests/{by_digest}"), &[], vec![])
        .await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), &bytes[..]);
    let r = reg
        .push_manifest(
            "acme/sha",
            &sha512(b"not it"),
            common::registry::OCI_MANIFEST,
            &manifest,
        )
        .await;
    assert_eq!(errors_code(r).await, "DIGEST_INVALID");
}

/// The digest `reference` resolves to through `reg`, or the status when it does not.
async fn resolve(reg: &Registry, name: &str, reference: &str) -> Result<String, u16> {
    let r = reg
        .send(Method::HEAD, &format!("/v2/{name}/manifests/{reference}"), &[], vec![])
        .await;
    match r.status().as_u16() {
        200 => Ok(r.headers()["docker-content-digest"].to_str().unwrap().to_string()),
        status => Err(status),
    }
}

/// Asks until `check` holds, for at most 5 s (twice the default read-cache time and slack);
/// returns how long it took.
async fn within_cache_time<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) -> f64 {
    let start = std::time::Instant::now();
    while !check().await {
        assert!(start.elapsed().as_secs() < 5, "{what}: not seen within 5 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    start.elapsed().as_secs_f64()
}

/// Two replicas over the same stores, each with its read cache (default 2 s): a client reads its
/// own writes through the replica it wrote through; new tags show on the other replica at once;
/// a moved tag, a deleted manifest and a revoked key reach it within the cache time.
async fn replicas_with_read_caches(stores: &Stores) {
    let a = Server::start(stores);
    let b = Server::start(stores);
    let owner = common::Auth::Bearer(a.key());
    let (ra, rb) = (Registry::new(&a, Some(a.key())), Registry::new(&b, Some(a.key())));
    let first = ra.push_layers("acme/cached", "v1", &[b"first"]).await.1;
    assert_eq!(
        resolve(&rb, "acme/cached", "v1").await,
        Ok(first.clone()),
        "new tag, at once"
    );

    let second = ra.push_layers("acme/cached", "v1", &[b"second"]).await.1;
    assert_eq!(resolve(&ra, "acme/cached", "v1").await, Ok(second.clone()), "own write");
    let took = within_cache_time("the moved tag", || async {
        resolve(&rb, "acme/cached", "v1").await == Ok(second.clone())
    })
    .await;
    eprintln!("the moved tag reached the other replica after {took:.1} s");

    let r = ra
        .send(
            Method::DELETE,
            &format!("/v2/acme/cached/manifests/{second}"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(resolve(&ra, "acme/cached", "v1").await, Err(404), "own delete");
    within_cache_time("the delete", || async {
        resolve(&rb, "acme/cached", "v1").await == Err(404)
    })
    .await;

    let (s, made) = a
        .api()
        .post("/v3/orgs/acme/keys/personal", &owner, json!({"name": "short-lived"}))
        .await;
    assert_eq!(s, 201, "{made}");
    let secret = made["secret"].as_str().unwrap().to_string();
    let basic = |server: &Server| {
        let url = format!("{}/v2/acme/cached/manifests/{first}", server.base);
        let secret = secret.clone();
        async move {
            let r = reqwest::Client::new()
                .head(url)
                .basic_auth("$oauthtoken", Some(secret))
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(basic(&b).await, 200);
    let id = made["key"]["id"].as_i64().unwrap();
    let (s, _) = a.api().delete(&format!("/v3/orgs/acme/keys/{id}"), &owner).await;
    assert_eq!(s, 200);
    assert_eq!(basic(&a).await, 401, "revoked, through the replica that revoked it");
    let took = within_cache_time("the revocation", || async { basic(&b).await == 401 }).await;
    eprintln!("the revocation reached the other replica after {took:.1} s");
}
both_backends!(replicas, replicas_with_read_caches);

/// A Docker token for `scope` (space-separated scopes), with Basic `$oauthtoken:<key>`.
async fn token_for(server: &Server, key: &str, scope: &str) -> String {
    let r = reqwest::Client::new()
        .get(format!("{}/token", server.base))
        .query(&[("service", "hangar"), ("scope", scope)])
        .basic_auth("$oauthtoken", Some(key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

async fn post_mount(server: &Server, token: &str, target: &str, digest: &str, source: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/v2/{target}/blobs/uploads/?mount={digest}&from={source}",
            server.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Cross-repository mounts: a token without pull on the source, held by someone who may pull
/// from it, is challenged for both scopes (as Distribution does); with them the blob is mounted.
/// Someone who may not read the source gets an ordinary upload session instead.
async fn cross_repository_mounts(stores: &Stores) {
    let server = Server::start(stores);
    let owner = server.key();
    let reg = Registry::new(&server, Some(owner.clone()));
    let layer = reg.push_blob("acme/src", b"a layer to share").await;

    let push_only = token_for(&server, &owner, "repository:acme/dst:pull,push").await;
    let r = post_mount(&server, &push_only, "acme/dst", &layer, "acme/src").await;
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        challenge.contains(r#"scope="repository:acme/dst:pull,push repository:acme/src:pull""#)
            && challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    let both = token_for(
        &server,
        &owner,
        "repository:acme/dst:pull,push repository:acme/src:pull",
    )
    .await;
    let r = post_mount(&server, &both, "acme/dst", &layer, "acme/src").await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["location"], format!("/v2/acme/dst/blobs/{layer}").as_str());
    let r = reg
        .send(Method::HEAD, &format!("/v2/acme/dst/blobs/{layer}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 200, "the mounted blob is in the target");

    // A team member may push into the team's space but not read acme/src: no challenge, no
    // mount, an upload session.
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    let member_key = member(stores, "team@acme.test", &[("REGISTRY_USER", Some("vision"))]);
    let scopes = "repository:acme/vision/dst:pull,push repository:acme/src:pull";
    let token = token_for(&server, &member_key, scopes).await;
    let r = post_mount(&server, &token, "acme/vision/dst", &layer, "acme/src").await;
    assert_eq!(r.status(), 202, "falls back to an upload");
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/v2/acme/vision/dst/blobs/uploads/")
    );
}
both_backends!(mounts, cross_repository_mounts);

/// Creates the org `org` with an owner and returns the owner's key.
fn org_owner(stores: &Stores, org: &str) -> String {
    let email = format!("owner@{org}.test");
    admin_ok(stores, &["org", "create", org]);
    admin_ok(stores, &["user", "create", &email, "--name", &email]);
    admin_ok(stores, &["role", "grant", &email, "--org", org, "--role", "ORG_OWNER"]);
    admin_ok(stores, &["key", "personal", "--org", org, "--user", &email])
}

/// Mounts as clients without a token cache send them (the conformance suite with
/// `OCI_CACHE_AUTH=false`): no token, one challenge, one token for exactly the challenged scope,
/// one retry. The first challenge names everything a mount needs, so that one retry mounts the
/// blob; a caller who may not read the source gets an upload session after the same dance.
async fn mounts_after_one_challenge(stores: &Stores) {
    let server = Server::start(stores);
    let owner = Registry::new(&server, Some(server.key()));
    let layer = owner.push_blob("acme/src", b"a layer mounted in one round").await;
    let mount = |target: &str, source: &str| format!("/v2/{target}/blobs/uploads/?mount={layer}&from={source}");

    let r = reqwest::Client::new()
        .post(format!("{}{}", server.base, mount("acme/dst", "acme/src")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        challenge.contains(r#"scope="repository:acme/dst:pull,push repository:acme/src:pull""#),
        "{challenge}"
    );
    // `send` is that client: it asks /token for the challenged scope and retries once.
    let r = owner
        .send(Method::POST, &mount("acme/dst", "acme/src"), &[], vec![])
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], format!("/v2/acme/dst/blobs/{layer}").as_str());

    // Another org's owner may not read acme/src: an upload session, not the blob.
    let other = Registry::new(&server, Some(org_owner(stores, "beta")));
    let r = other
        .send(Method::POST, &mount("beta/dst", "acme/src"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202, "falls back to an upload");
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/v2/beta/dst/blobs/uploads/"), "{location}");
    let r = other
        .send(Method::HEAD, &format!("/v2/beta/dst/blobs/{layer}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 404, "nothing was mounted");
    // Nor the other way round.
    let theirs = other.push_blob("beta/src", b"beta's own layer").await;
    let r = owner
        .send(
            Method::POST,
            &format!("/v2/acme/dst/blobs/uploads/?mount={theirs}&from=beta/src"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.status(), 202, "falls back to an upload");
}
both_backends!(mount_in_one_round, mounts_after_one_challenge);

/// Sparse manifests (OCI lets a registry take them): an index naming children that were not
/// pushed is stored and served, and a child pushed later is served too; an image manifest may
/// name layers not in the repository. Naming a digest claims nothing: another org's layer named
/// so is neither readable through the repository nor held against garbage collection. A layer
/// pushed after the manifest is the manifest's from then on.
async fn sparse_manifests(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let (amd, amd_len, _) = reg.push_platform("acme/multi", "amd64", b"amd64 layer").await;
    let config = reg.push_blob("acme/multi", CONFIG).await;
    let later: &[u8] = b"arm64 layer, pushed after its manifest";
    let other = Registry::new(&server, Some(org_owner(stores, "beta")));
    let foreign = other.push_blob("beta/private", b"beta's private layer").await;
    let arm_manifest = image_manifest(&config, &[(&sha(later), later.len()), (&foreign, 20)], None);
    let arm_bytes = serde_json::to_vec(&arm_manifest).unwrap();
    let arm = sha(&arm_bytes);
    let child = |digest: &str, size: usize, arch: &str| json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": {"os": "linux", "architecture": arch}});
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [child(&amd, amd_len, "amd64"), child(&arm, arm_bytes.len(), "arm64")],
    });
    let r = reg.push_manifest("acme/multi", "sparse", OCI_INDEX, &index).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = reg
        .send(Method::GET, "/v2/acme/multi/manifests/sparse", &[], vec![])
        .await;
    assert_eq!(r.bytes().await.unwrap(), serde_json::to_vec(&index).unwrap());
    let r = reg
        .send(Method::GET, &format!("/v2/acme/multi/manifests/{arm}"), &[], vec![])
        .await;
    assert_eq!(errors_code(r).await, "MANIFEST_UNKNOWN");

    // The child, itself sparse: neither of its layers is in acme/multi.
    let r = reg.push_manifest("acme/multi", &arm, OCI_MANIFEST, &arm_manifest).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = reg
        .send(Method::GET, &format!("/v2/acme/multi/manifests/{arm}"), &[], vec![])
        .await;
    assert_eq!(r.bytes().await.unwrap(), arm_bytes);
    let r = reg
        .send(Method::GET, &format!("/v2/acme/multi/blobs/{foreign}"), &[], vec![])
        .await;
    assert_eq!(errors_code(r).await, "BLOB_UNKNOWN", "naming a digest reads nothing");
    let view = common::files::StoreView::open(stores).await;
    let held = |digests: Vec<String>| {
        let meta = view.meta.clone();
        async move {
            let names: Vec<&str> = digests.iter().map(String::as_str).collect();
            meta.gc_referenced(&names, i64::MAX).await.unwrap()
        }
    };
    let found = held(vec![foreign.clone(), config.clone()]).await;
    assert!(found.contains(&config), "the config is held");
    assert!(!found.contains(&foreign), "a digest named by hash alone holds nothing");

    let pushed = reg.push_blob("acme/multi", later).await;
    assert!(held(vec![pushed.clone()]).await.contains(&pushed), "pushed later, held");
    let r = reg
        .send(Method::GET, &format!("/v2/acme/multi/blobs/{pushed}"), &[], vec![])
        .await;
    assert_eq!(r.bytes().await.unwrap(), later);
    let owner = common::Auth::Bearer(server.key());
    let (status, image) = server.api().get("/v2/org/acme/repos/multi/images/sparse", &owner).await;
    assert_eq!(status, 200, "{image}");
}
both_backends!(sparse, sparse_manifests);
