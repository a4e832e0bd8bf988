//! sha512 digests in the OCI distribution API, over real HTTP on both backends: monolithic and
//! chunked blob uploads, reads, ranges, deletes and mounts by sha512 digest, digest mismatches,
//! manifests of sha512 blobs pushed by tag and by sha512 digest, indexes and referrers of
//! sha512-addressed manifests, and refused algorithms and lengths.
//!
//! sha512 blobs are stored under keys of more than 128 bytes, which the S3 test server of
//! `scripts/test-services` (s3s-fs) cannot hold (see `hangar-store`'s `blob_conformance`); the
//! PostgreSQL + S3 variants of the tests that store sha512 blobs therefore run only with
//! `HANGAR_TEST_S3_LONG_KEYS=1` (an S3 server that holds such keys, moto's for one) and
//! otherwise print a note. The tests of refused digests run on both backends regardless.

mod common;

use common::registry::{OCI_INDEX, OCI_MANIFEST, errors_code, sha};
use common::{Backend, Server, Stores};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha512};
use std::path::PathBuf;

const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// A client of the distribution API holding one token for the repositories it is made for (as
/// Docker asks for a push and a mount's source together), so that no request, however large its
/// body, first goes out without one.
struct Client {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn new(server: &Server, repositories: &[&str]) -> Client {
        let http = reqwest::Client::new();
        let r = http.get(format!("{}/v2/", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let challenge = header(&r, "www-authenticate");
        let field = |k: &str| {
            challenge
                .split(&format!("{k}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("no {k} in {challenge}"))
                .to_string()
        };
        let mut query = vec![("service".to_string(), field("service"))];
        for repository in repositories {
            query.push(("scope".into(), format!("repository:{repository}:pull,push,delete")));
        }
        let token: Value = http
            .get(field("realm"))
            .query(&query)
            .basic_auth("$oauthtoken", Some(server.key()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Client {
            base: server.base.clone(),
            http,
            token: token["token"].as_str().expect("a token").to_string(),
        }
    }

    async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(body).send().await.expect("request")
    }
}

fn sha512(bytes: &[u8]) -> String {
    format!("sha512:{}", hex::encode(Sha512::digest(bytes)))
}

/// Deterministic pseudo-random bytes, different per `seed`.
fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2] ^ seed)
        .collect()
}

/// Whether this backend can store sha512 blobs; prints a note when it cannot.
fn stores_sha512(stores: &Stores) -> bool {
    let can =
        stores.backend == Backend::SqliteFolder || std::env::var("HANGAR_TEST_S3_LONG_KEYS").as_deref() == Ok("1");
    if !can {
        eprintln!(
            "note: the S3 test server may not hold sha512 blobs' long keys; skipped \
             (set HANGAR_TEST_S3_LONG_KEYS=1 for one that can)"
        );
    }
    can
}

/// Every file under the folder backend's `blobs/<algorithm>/`, as `<fan-out>/<hex>`; `None` on
/// S3.
fn stored(stores: &Stores, algorithm: &str) -> Option<Vec<String>> {
    if stores.backend != Backend::SqliteFolder {
        return None;
    }
    let root = PathBuf::from(&stores.blobs).join("blobs").join(algorithm);
    let mut found = Vec::new();
    for fan_out in std::fs::read_dir(&root).into_iter().flatten() {
        let fan_out = fan_out.unwrap().path();
        for file in std::fs::read_dir(&fan_out).unwrap() {
            let file = file.unwrap().path();
            found.push(file.strip_prefix(&root).unwrap().to_str().unwrap().to_string());
        }
    }
    found.sort();
    Some(found)
}

fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_string()
}

async fn status_and_code(r: Response) -> (u16, String) {
    let status = r.status().as_u16();
    (status, errors_code(r).await)
}

/// `POST …/blobs/uploads/?digest=` with the whole blob.
async fn push_monolithic(reg: &Client, name: &str, digest: &str, body: &[u8]) -> Response {
    reg.send(
        Method::POST,
        &format!("/v2/{name}/blobs/uploads/?digest={digest}"),
        &[],
        body.to_vec(),
    )
    .await
}

/// `PUT <location>?digest=` (appending to a query the location may have).
fn with_digest(location: &str, digest: &str) -> String {
    let separator = if location.contains('?') { '&' } else { '?' };
    format!("{location}{separator}digest={digest}")
}

/// A chunked upload of `body` in chunks of `chunk` bytes (the last one sent with the `PUT`),
/// finished with `digest`.
async fn push_chunked(reg: &Client, name: &str, digest: &str, body: &[u8], chunk: usize) -> Response {
    let r = reg
        .send(Method::POST, &format!("/v2/{name}/blobs/uploads/"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202);
    let mut location = header(&r, "location");
    let mut offset = 0;
    while body.len() - offset > chunk {
        let range = format!("{offset}-{}", offset + chunk - 1);
        let r = reg
            .send(
                Method::PATCH,
                &location,
                &[("content-range", &range)],
                body[offset..offset + chunk].to_vec(),
            )
            .await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        assert_eq!(header(&r, "range"), format!("0-{}", offset + chunk - 1));
        location = header(&r, "location");
        offset += chunk;
    }
    let last = &body[offset..];
    let range = format!("{offset}-{}", body.len() - 1);
    let headers: &[(&str, &str)] = if last.is_empty() {
        &[]
    } else {
        &[("content-range", &range)]
    };
    reg.send(Method::PUT, &with_digest(&location, digest), headers, last.to_vec())
        .await
}

/// Asserts `digest` reads back as `body` from `name`: HEAD with its digest and size, GET, and a
/// range.
async fn assert_blob(reg: &Client, name: &str, digest: &str, body: &[u8]) {
    let path = format!("/v2/{name}/blobs/{digest}");
    let r = reg.send(Method::HEAD, &path, &[], vec![]).await;
    assert_eq!(r.status(), 200, "HEAD {path}");
    assert_eq!(header(&r, "docker-content-digest"), digest);
    assert_eq!(header(&r, "content-length"), body.len().to_string());
    let r = reg.send(Method::GET, &path, &[], vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "docker-content-digest"), digest);
    let back = r.bytes().await.unwrap();
    assert!(back.as_ref() == body, "GET {path}: the bytes differ");
    assert_eq!(sha512(&back), sha512(body));
    if body.len() > 10 {
        let r = reg.send(Method::GET, &path, &[("range", "bytes=3-9")], vec![]).await;
        assert_eq!(r.status(), 206);
        assert_eq!(r.bytes().await.unwrap().as_ref(), &body[3..10]);
    }
}

async fn assert_no_blob(reg: &Client, name: &str, digest: &str) {
    let r = reg
        .send(Method::HEAD, &format!("/v2/{name}/blobs/{digest}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 404, "{digest} is in {name}");
}

/// Monolithic sha512 uploads: stored under `blobs/sha512/`, apart from the sha256 blob of the
/// same bytes; read, ranged and deleted by sha512 digest; a mismatch stores nothing.
async fn monolithic_uploads(stores: &Stores) {
    if !stores_sha512(stores) {
        return;
    }
    let server = Server::start(stores);
    let name = "acme/sha512-mono";
    let reg = Client::new(&server, &[name]).await;
    let layer = data(300_000, 1);
    let d = sha512(&layer);

    // A mismatch first: refused, and nothing stored under either digest.
    let wrong = sha512(b"something else");
    let r = push_monolithic(&reg, name, &wrong, &layer).await;
    assert_eq!(status_and_code(r).await, (400, "DIGEST_INVALID".into()));
    assert_no_blob(&reg, name, &wrong).await;
    assert_no_blob(&reg, name, &d).await;
    if let Some(files) = stored(stores, "sha512") {
        assert!(files.is_empty(), "a refused upload left {files:?}");
    }

    let r = push_monolithic(&reg, name, &d, &layer).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(header(&r, "docker-content-digest"), d);
    assert_eq!(header(&r, "location"), format!("/v2/{name}/blobs/{d}"));
    assert_blob(&reg, name, &d, &layer).await;
    let hex = d.strip_prefix("sha512:").unwrap();
    if let Some(files) = stored(stores, "sha512") {
        assert_eq!(files, vec![format!("{}/{hex}", &hex[..2])]);
    }

    // The same bytes by sha256 are another blob, stored where sha256 blobs always were.
    let d256 = sha(&layer);
    assert_no_blob(&reg, name, &d256).await;
    let r = push_monolithic(&reg, name, &d256, &layer).await;
    assert_eq!(r.status(), 201);
    let hex256 = d256.strip_prefix("sha256:").unwrap();
    if let Some(files) = stored(stores, "sha256") {
        assert_eq!(files, vec![format!("{}/{hex256}", &hex256[..2])]);
    }
    // A sha512 digest is checked with sha512: the sha256 of the bytes padded out is refused.
    let padded = format!("sha512:{hex256}{}", "0".repeat(64));
    let r = push_monolithic(&reg, name, &padded, &layer).await;
    assert_eq!(status_and_code(r).await, (400, "DIGEST_INVALID".into()));

    // An empty blob.
    let empty = sha512(b"");
    let r = push_monolithic(&reg, name, &empty, b"").await;
    assert_eq!(r.status(), 201);
    let r = reg
        .send(Method::HEAD, &format!("/v2/{name}/blobs/{empty}"), &[], vec![])
        .await;
    assert_eq!((r.status().as_u16(), header(&r, "content-length")), (200, "0".into()));

    // Deleting the sha512 blob leaves the sha256 one.
    let r = reg
        .send(Method::DELETE, &format!("/v2/{name}/blobs/{d}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202);
    assert_no_blob(&reg, name, &d).await;
    let r = reg
        .send(Method::DELETE, &format!("/v2/{name}/blobs/{d}"), &[], vec![])
        .await;
    assert_eq!(status_and_code(r).await, (404, "BLOB_UNKNOWN".into()));
    assert_blob(&reg, name, &d256, &layer).await;
}
both_backends!(monolithic, monolithic_uploads);

/// Chunked sha512 uploads: several chunks, one streamed chunk with an empty `PUT`, and the whole
/// blob in the `PUT`; a wrong digest at the end is refused and stores nothing under it.
async fn chunked_uploads(stores: &Stores) {
    if !stores_sha512(stores) {
        return;
    }
    let server = Server::start(stores);
    let name = "acme/sha512-chunked";
    let reg = Client::new(&server, &[name]).await;

    let blob = data(250_000, 2);
    let d = sha512(&blob);
    let wrong = sha512(b"not these bytes");
    let r = push_chunked(&reg, name, &wrong, &blob, 100_000).await;
    assert_eq!(status_and_code(r).await, (400, "DIGEST_INVALID".into()));
    assert_no_blob(&reg, name, &wrong).await;
    assert_no_blob(&reg, name, &d).await;
    if let Some(files) = stored(stores, "sha512") {
        assert!(files.is_empty(), "a refused upload left {files:?}");
    }

    let r = push_chunked(&reg, name, &d, &blob, 100_000).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(header(&r, "docker-content-digest"), d);
    assert_eq!(header(&r, "location"), format!("/v2/{name}/blobs/{d}"));
    assert_blob(&reg, name, &d, &blob).await;

    // The whole blob in the PUT that finishes a session.
    let whole = data(70_000, 3);
    let dw = sha512(&whole);
    let r = push_chunked(&reg, name, &dw, &whole, whole.len()).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_blob(&reg, name, &dw, &whole).await;

    // Streamed: one PATCH without Content-Range, then a PUT without a body.
    let streamed = data(90_000, 4);
    let ds = sha512(&streamed);
    for (digest, status) in [(sha512(&whole), 400), (ds.clone(), 201)] {
        let r = reg
            .send(Method::POST, &format!("/v2/{name}/blobs/uploads/"), &[], vec![])
            .await;
        let location = header(&r, "location");
        let r = reg.send(Method::PATCH, &location, &[], streamed.clone()).await;
        assert_eq!(r.status(), 202);
        let location = header(&r, "location");
        let r = reg
            .send(Method::PUT, &with_digest(&location, &digest), &[], vec![])
            .await;
        assert_eq!(r.status(), status, "PUT ?digest={digest}");
        if status == 400 {
            assert_eq!(errors_code(r).await, "DIGEST_INVALID");
        }
    }
    assert_blob(&reg, name, &ds, &streamed).await;
    // The refused upload under an existing blob's digest left that blob as it was.
    assert_blob(&reg, name, &dw, &whole).await;

    if let Some(files) = stored(stores, "sha512") {
        let mut expected: Vec<String> = [&d, &dw, &ds]
            .iter()
            .map(|d| {
                let hex = d.strip_prefix("sha512:").unwrap();
                format!("{}/{hex}", &hex[..2])
            })
            .collect();
        expected.sort();
        assert_eq!(files, expected, "exactly the three verified blobs are stored by sha512");
    }
}
both_backends!(chunked, chunked_uploads);

/// A sha512 blob mounts from another repository by its sha512 digest.
async fn mounts(stores: &Stores) {
    if !stores_sha512(stores) {
        return;
    }
    let server = Server::start(stores);
    let reg = Client::new(&server, &["acme/sha512-source", "acme/sha512-target"]).await;
    let blob = data(5_000, 5);
    let d = sha512(&blob);
    let r = push_monolithic(&reg, "acme/sha512-source", &d, &blob).await;
    assert_eq!(r.status(), 201);
    assert_no_blob(&reg, "acme/sha512-target", &d).await;
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/acme/sha512-target/blobs/uploads/?mount={d}&from=acme/sha512-source"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(header(&r, "docker-content-digest"), d);
    assert_eq!(header(&r, "location"), format!("/v2/acme/sha512-target/blobs/{d}"));
    assert_blob(&reg, "acme/sha512-target", &d, &blob).await;
    // A token without pull on the source gets an upload session, not the blob.
    let target_only = Client::new(&server, &["acme/sha512-other"]).await;
    let r = target_only
        .send(
            Method::POST,
            &format!("/v2/acme/sha512-other/blobs/uploads/?mount={d}&from=acme/sha512-source"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.status(), 202);
    // A blob the source does not have starts an upload session instead.
    let missing = sha512(b"never pushed");
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/acme/sha512-target/blobs/uploads/?mount={missing}&from=acme/sha512-source"),
            &[],
            vec![],
        )
        .await;
    assert_eq!(r.status(), 202);
}
both_backends!(mount, mounts);

fn manifest(config: (&str, usize), layers: &[(&str, usize)], subject: Option<(&str, usize)>) -> Value {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG_TYPE, "digest": config.0, "size": config.1},
        "layers": layers
            .iter()
            .map(|(d, size)| json!({"mediaType": LAYER_TYPE, "digest": d, "size": size}))
            .collect::<Vec<_>>(),
    });
    if let Some((d, size)) = subject {
        m["subject"] = json!({"mediaType": OCI_MANIFEST, "digest": d, "size": size});
    }
    m
}

async fn put_manifest(reg: &Client, name: &str, reference: &str, media: &str, bytes: &[u8]) -> Response {
    reg.send(
        Method::PUT,
        &format!("/v2/{name}/manifests/{reference}"),
        &[("content-type", media)],
        bytes.to_vec(),
    )
    .await
}

/// Asserts the manifest at `reference` is `bytes` with `digest` (HEAD and GET).
async fn assert_manifest(reg: &Client, name: &str, reference: &str, digest: &str, bytes: &[u8]) {
    let path = format!("/v2/{name}/manifests/{reference}");
    let r = reg.send(Method::HEAD, &path, &[], vec![]).await;
    assert_eq!(r.status(), 200, "HEAD {path}");
    assert_eq!(header(&r, "docker-content-digest"), digest, "HEAD {path}");
    assert_eq!(header(&r, "content-length"), bytes.len().to_string());
    let r = reg.send(Method::GET, &path, &[], vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "docker-content-digest"), digest, "GET {path}");
    assert!(
        r.bytes().await.unwrap().as_ref() == bytes,
        "GET {path}: the bytes differ"
    );
}

/// Manifests whose config and layers are sha512 blobs: pushed by tag (addressed by sha256) and by
/// sha512 digest (verified with sha512), pulled back byte for byte with the right
/// `Docker-Content-Digest`; an index of sha512-addressed manifests; referrers of a sha512 subject;
/// deletes by sha512 digest.
async fn manifests(stores: &Stores) {
    if !stores_sha512(stores) {
        return;
    }
    let server = Server::start(stores);
    let name = "acme/sha512-image";
    let reg = Client::new(&server, &[name]).await;
    let config = br#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let layers = [data(120_000, 6), data(33_333, 7)];
    let dc = sha512(&config);
    assert_eq!(push_monolithic(&reg, name, &dc, &config).await.status(), 201);
    let mut descriptors = Vec::new();
    for layer in &layers {
        let d = sha512(layer);
        assert_eq!(push_chunked(&reg, name, &d, layer, 50_000).await.status(), 201);
        descriptors.push((d, layer.len()));
    }
    let refs: Vec<(&str, usize)> = descriptors.iter().map(|(d, s)| (d.as_str(), *s)).collect();

    // Refused: a layer this repository lacks, and a size that does not match.
    let absent = sha512(b"absent layer");
    let m = manifest((&dc, config.len()), &[(&absent, 12)], None);
    let r = put_manifest(&reg, name, "bad", OCI_MANIFEST, &serde_json::to_vec(&m).unwrap()).await;
    assert_eq!(status_and_code(r).await, (400, "MANIFEST_BLOB_UNKNOWN".into()));
    let m = manifest((&dc, config.len() + 1), &refs, None);
    let r = put_manifest(&reg, name, "bad", OCI_MANIFEST, &serde_json::to_vec(&m).unwrap()).await;
    assert_eq!(status_and_code(r).await, (400, "MANIFEST_INVALID".into()));

    // By tag: the manifest is addressed by its sha256.
    let by_tag = serde_json::to_vec_pretty(&manifest((&dc, config.len()), &refs, None)).unwrap();
    let r = put_manifest(&reg, name, "v1", OCI_MANIFEST, &by_tag).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(header(&r, "docker-content-digest"), sha(&by_tag));
    assert_manifest(&reg, name, "v1", &sha(&by_tag), &by_tag).await;
    assert_manifest(&reg, name, &sha(&by_tag), &sha(&by_tag), &by_tag).await;

    // By sha512 digest: verified with sha512 and addressed by it.
    let mut other = manifest((&dc, config.len()), &refs[..1], None);
    other["annotations"] = json!({"org.example": "by sha512"});
    let by_digest = serde_json::to_vec(&other).unwrap();
    let dm = sha512(&by_digest);
    let wrong = sha512(b"another manifest");
    let r = put_manifest(&reg, name, &wrong, OCI_MANIFEST, &by_digest).await;
    assert_eq!(status_and_code(r).await, (400, "DIGEST_INVALID".into()));
    let r = reg
        .send(Method::HEAD, &format!("/v2/{name}/manifests/{wrong}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 404);
    // The sha256 of the bytes in a sha512 reference is no match either.
    let sha256_hex = sha(&by_digest)[7..].to_string();
    let r = put_manifest(
        &reg,
        name,
        &format!("sha512:{sha256_hex}{sha256_hex}"),
        OCI_MANIFEST,
        &by_digest,
    )
    .await;
    assert_eq!(status_and_code(r).await, (400, "DIGEST_INVALID".into()));
    let r = put_manifest(&reg, name, &dm, OCI_MANIFEST, &by_digest).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(header(&r, "docker-content-digest"), dm);
    assert_eq!(header(&r, "location"), format!("/v2/{name}/manifests/{dm}"));
    assert_manifest(&reg, name, &dm, &dm, &by_digest).await;
    let r = reg
        .send(
            Method::GET,
            &format!("/v2/{name}/manifests/{}", sha(&by_digest)),
            &[],
            vec![],
        )
        .await;
    assert_eq!(
        r.status(),
        404,
        "a manifest pushed by sha512 is not found by its sha256"
    );
    // By sha512 digest with a tag parameter.
    let r = reg
        .send(
            Method::PUT,
            &format!("/v2/{name}/manifests/{dm}?tag=v2"),
            &[("content-type", OCI_MANIFEST)],
            by_digest.clone(),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(header(&r, "oci-tag"), "v2");
    assert_manifest(&reg, name, "v2", &dm, &by_digest).await;

    // The layers pull back byte for byte.
    for ((d, _), layer) in descriptors.iter().zip(&layers) {
        assert_blob(&reg, name, d, layer).await;
    }

    // An index whose children are addressed by sha512 (and sha256), pushed by sha512.
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": dm, "size": by_digest.len(),
             "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": OCI_MANIFEST, "digest": sha(&by_tag), "size": by_tag.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    });
    let index = serde_json::to_vec(&index).unwrap();
    let di = sha512(&index);
    let r = put_manifest(&reg, name, &di, OCI_INDEX, &index).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_manifest(&reg, name, &di, &di, &index).await;
    let missing_child = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha512(b"no such manifest"), "size": 2}],
    });
    let r = put_manifest(
        &reg,
        name,
        "broken-index",
        OCI_INDEX,
        &serde_json::to_vec(&missing_child).unwrap(),
    )
    .await;
    assert_eq!(status_and_code(r).await, (400, "MANIFEST_BLOB_UNKNOWN".into()));

    // Referrers of a sha512 subject: an artifact pushed by sha512 digest.
    let empty = b"{}";
    let de = sha512(empty);
    assert_eq!(push_monolithic(&reg, name, &de, empty).await.status(), 201);
    let mut artifact = manifest((&de, empty.len()), &[], Some((&dm, by_digest.len())));
    artifact["artifactType"] = json!("application/vnd.example.sbom");
    artifact["config"]["mediaType"] = json!("application/vnd.oci.empty.v1+json");
    let artifact = serde_json::to_vec(&artifact).unwrap();
    let da = sha512(&artifact);
    let r = put_manifest(&reg, name, &da, OCI_MANIFEST, &artifact).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(header(&r, "oci-subject"), dm);
    let r = reg
        .send(Method::GET, &format!("/v2/{name}/referrers/{dm}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 200);
    let listed: Value = r.json().await.unwrap();
    assert_eq!(
        listed["manifests"],
        json!([{
            "mediaType": OCI_MANIFEST,
            "digest": da,
            "size": artifact.len(),
            "artifactType": "application/vnd.example.sbom",
        }]),
        "{listed}"
    );
    let r = reg
        .send(
            Method::GET,
            &format!("/v2/{name}/referrers/{}", sha(&by_digest)),
            &[],
            vec![],
        )
        .await;
    let listed: Value = r.json().await.unwrap();
    assert_eq!(
        listed["manifests"],
        json!([]),
        "the subject is named by its sha512 only"
    );

    // Deletes by sha512 digest.
    let r = reg
        .send(Method::DELETE, &format!("/v2/{name}/manifests/{da}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202);
    let r = reg
        .send(Method::GET, &format!("/v2/{name}/manifests/{da}"), &[], vec![])
        .await;
    assert_eq!(status_and_code(r).await, (404, "MANIFEST_UNKNOWN".into()));
    let r = reg
        .send(Method::GET, &format!("/v2/{name}/referrers/{dm}"), &[], vec![])
        .await;
    let listed: Value = r.json().await.unwrap();
    assert_eq!(listed["manifests"], json!([]));
}
both_backends!(manifests_of_sha512_blobs, manifests);

/// Refused digests, wherever a digest goes: unsupported algorithms and malformed hex are 400
/// `DIGEST_INVALID`. Stores nothing, so it runs on both backends with any S3 server.
async fn refused_digests(stores: &Stores) {
    let server = Server::start(stores);
    let name = "acme/sha512-refused";
    let reg = Client::new(&server, &[name]).await;
    let body = b"some bytes".to_vec();
    let hex512 = hex::encode(Sha512::digest(&body));
    let hex256 = &sha(&body)[7..];
    let bad = [
        format!("sha384:{}", &hex512[..96]),
        format!("md5:{}", &hex256[..32]),
        format!("sha512:{hex256}"),
        format!("sha512:{}", &hex512[..127]),
        format!("sha512:{hex512}0"),
        format!("sha512:{}", hex512.to_uppercase()),
        format!("sha256:{hex512}"),
        format!("sha256:{}", &hex256[..63]),
        format!("SHA512:{hex512}"),
        "sha512:".to_string(),
    ];
    for d in &bad {
        let r = push_monolithic(&reg, name, d, &body).await;
        assert_eq!(
            status_and_code(r).await,
            (400, "DIGEST_INVALID".into()),
            "POST ?digest={d}"
        );
        let r = reg
            .send(Method::POST, &format!("/v2/{name}/blobs/uploads/"), &[], vec![])
            .await;
        let location = header(&r, "location");
        let r = reg
            .send(Method::PUT, &with_digest(&location, d), &[], body.clone())
            .await;
        assert_eq!(
            status_and_code(r).await,
            (400, "DIGEST_INVALID".into()),
            "PUT ?digest={d}"
        );
        let r = reg
            .send(
                Method::POST,
                &format!("/v2/{name}/blobs/uploads/?mount={d}"),
                &[],
                vec![],
            )
            .await;
        assert_eq!(status_and_code(r).await, (400, "DIGEST_INVALID".into()), "mount={d}");
        for method in [Method::GET, Method::DELETE] {
            let r = reg
                .send(method.clone(), &format!("/v2/{name}/blobs/{d}"), &[], vec![])
                .await;
            assert_eq!(
                status_and_code(r).await,
                (400, "DIGEST_INVALID".into()),
                "{method} blob {d}"
            );
        }
        let r = reg
            .send(Method::HEAD, &format!("/v2/{name}/blobs/{d}"), &[], vec![])
            .await;
        assert_eq!(r.status(), 400, "HEAD blob {d}");
        let r = put_manifest(&reg, name, d, OCI_MANIFEST, b"{}").await;
        assert_eq!(
            status_and_code(r).await,
            (400, "DIGEST_INVALID".into()),
            "PUT manifest {d}"
        );
        let r = reg
            .send(Method::GET, &format!("/v2/{name}/manifests/{d}"), &[], vec![])
            .await;
        assert_eq!(
            status_and_code(r).await,
            (400, "DIGEST_INVALID".into()),
            "GET manifest {d}"
        );
        let r = reg
            .send(Method::GET, &format!("/v2/{name}/referrers/{d}"), &[], vec![])
            .await;
        assert_eq!(
            status_and_code(r).await,
            (400, "DIGEST_INVALID".into()),
            "referrers {d}"
        );
    }
    // A manifest naming a blob by an unsupported algorithm is not a valid manifest.
    let m = manifest((&format!("sha384:{}", &hex512[..96]), 2), &[], None);
    let r = put_manifest(&reg, name, "v1", OCI_MANIFEST, &serde_json::to_vec(&m).unwrap()).await;
    assert_eq!(status_and_code(r).await, (400, "MANIFEST_INVALID".into()));
}
both_backends!(refused, refused_digests);
