//! `hangar registry image push|pull` against a real server on both backends: OCI layouts
//! (single image and a two-platform index), docker-archive tarballs both ways, blobs skipped on
//! a second push, and bad inputs.

mod common;

use common::cli::Cli;
use common::{Server, Stores, member, path_str};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("sha256 digest")
}

/// Deterministic bytes that do not compress.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// An OCI image layout written by hand.
struct Layout {
    dir: PathBuf,
    entries: Vec<Value>,
}

/// One image of a layout: its manifest and blobs.
#[derive(Clone)]
struct Image {
    digest: String,
    size: usize,
    config: String,
    layers: Vec<String>,
}

impl Image {
    fn blobs(&self) -> Vec<String> {
        std::iter::once(self.config.clone())
            .chain(self.layers.iter().cloned())
            .collect()
    }
}

impl Layout {
    fn new(dir: PathBuf) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout {
            dir,
            entries: Vec::new(),
        }
    }

    fn blob(&self, bytes: &[u8]) -> String {
        let d = sha(bytes);
        std::fs::write(self.dir.join("blobs/sha256").join(hex_of(&d)), bytes).unwrap();
        d
    }

    fn image(&self, config: &Value, layers: &[&[u8]]) -> Image {
        let config_bytes = serde_json::to_vec(config).unwrap();
        let config_digest = self.blob(&config_bytes);
        let layer_digests: Vec<String> = layers.iter().map(|l| self.blob(l)).collect();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_bytes.len()},
            "layers": layers.iter().zip(&layer_digests).map(|(l, d)| json!({
                "mediaType": OCI_LAYER, "digest": d, "size": l.len()
            })).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        Image {
            digest: self.blob(&bytes),
            size: bytes.len(),
            config: config_digest,
            layers: layer_digests,
        }
    }

    /// An index of images with their platforms; returns its digest.
    fn index(&self, children: &[(&Image, &str, &str)]) -> (String, usize) {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": children.iter().map(|(img, os, arch)| json!({
                "mediaType": OCI_MANIFEST, "digest": img.digest, "size": img.size,
                "platform": {"os": os, "architecture": arch}
            })).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec(&index).unwrap();
        (self.blob(&bytes), bytes.len())
    }

    fn tag(&mut self, media: &str, digest: &str, size: usize, tag: &str) {
        self.entries.push(json!({
            "mediaType": media, "digest": digest, "size": size,
            "annotations": {REF_NAME: tag}
        }));
    }

    fn finish(&self) {
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.entries});
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    }

    fn read(&self, digest: &str) -> Vec<u8> {
        std::fs::read(self.dir.join("blobs/sha256").join(hex_of(digest))).unwrap()
    }
}

/// What the source layout holds: `v1` (config, small layer, 5 MB layer) and `multi` (an
/// index for linux/amd64 and linux/arm64 sharing the small layer).
struct Fixture {
    layout: Layout,
    v1: Image,
    amd: Image,
    arm: Image,
    multi: String,
}

fn fixture(dir: PathBuf) -> Fixture {
    let mut layout = Layout::new(dir);
    let small = b"small layer shared by every image".to_vec();
    let big = noise(5 * 1024 * 1024 + 123, 7);
    let v1 = layout.image(
        &json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}),
        &[&small, &big],
    );
    let amd = layout.image(
        &json!({"architecture": "amd64", "os": "linux"}),
        &[&small, b"amd64 layer"],
    );
    let arm = layout.image(
        &json!({"architecture": "arm64", "os": "linux"}),
        &[&small, b"arm64 layer"],
    );
    let (multi, multi_size) = layout.index(&[(&amd, "linux", "amd64"), (&arm, "linux", "arm64")]);
    layout.tag(OCI_MANIFEST, &v1.digest.clone(), v1.size, "v1");
    layout.tag(OCI_INDEX, &multi, multi_size, "multi");
    layout.finish();
    Fixture {
        layout,
        v1,
        amd,
        arm,
        multi,
    }
}

fn read_index(dir: &Path) -> Vec<Value> {
    let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index.json")).unwrap();
    index["manifests"].as_array().expect("manifests").clone()
}

fn entry<'a>(entries: &'a [Value], tag: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["annotations"][REF_NAME] == tag)
        .unwrap_or_else(|| panic!("no entry {tag} in {entries:?}"))
}

/// Checks that `dir` holds each digest with the same bytes as the source layout.
fn same_blobs(source: &Layout, dir: &Path, digests: &[String]) {
    for d in digests {
        let pulled = std::fs::read(dir.join("blobs/sha256").join(hex_of(d))).unwrap_or_else(|e| panic!("{d}: {e}"));
        assert!(pulled == source.read(d), "blob {d} differs");
    }
}

/// Every file of a tarball, by path.
fn untar(path: &Path) -> HashMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(std::fs::File::open(path).expect("tarball"));
    let mut out = HashMap::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.insert(name, bytes);
    }
    out
}

/// Writes a `docker save`-style tarball: config, two layers (the second gzip-compressed) and a
/// third layer that is a symbolic link to the first, as old Docker versions write them.
fn docker_archive(path: &Path, config: &[u8], plain: &[u8], gzipped: &[u8]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    let manifest = json!([{
        "Config": "0123abcd.json",
        "RepoTags": ["example/app:1.0"],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"],
    }]);
    add("0123abcd.json", config);
    add("aaa/layer.tar", plain);
    add("bbb/layer.tar", gzipped);
    add("repositories", br#"{"example/app":{"1.0":"ccc"}}"#);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_cksum();
    b.append_link(&mut h, "ccc/layer.tar", "../aaa/layer.tar").unwrap();
    b.into_inner().unwrap();
}

/// A manifest straight from the registry, with Basic `$oauthtoken:<key>`.
async fn registry_manifest(server: &Server, key: &str, name: &str, reference: &str) -> (Value, String) {
    let r = reqwest::Client::new()
        .get(format!("{}/v2/{name}/manifests/{reference}", server.base))
        .basic_auth("$oauthtoken", Some(key))
        .header("accept", format!("{OCI_MANIFEST}, {OCI_INDEX}, {DOCKER_MANIFEST}"))
        .send()
        .await
        .expect("manifest request");
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    (serde_json::from_slice(&bytes).unwrap(), sha(&bytes))
}

async fn round_trips(stores: &Stores) {
    let server = Server::start(stores);
    let key = server.key();
    let dir = stores.dir.path();
    let guest = Cli::new(&server, &dir.join("home"));
    let cli = guest.key(&key);
    let fx = fixture(dir.join("src"));
    let src = path_str(&fx.layout.dir).to_string();

    // Push a single image: three blobs, one of them above the monolithic limit.
    let pushed = cli.json(&["registry", "image", "push", "acme/web:v1", "--source", &src]);
    assert_eq!(pushed["reference"], "acme/web:v1");
    assert_eq!(pushed["digest"], fx.v1.digest.as_str());
    assert_eq!(pushed["sourceFormat"], "oci-layout");
    assert_eq!(
        (pushed["blobs"].as_u64(), pushed["alreadyPresent"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(pushed["bytes"], pushed["uploadedBytes"]);
    let (manifest, digest) = registry_manifest(&server, &key, "acme/web", "v1").await;
    assert_eq!(digest, fx.v1.digest);
    assert_eq!(manifest["layers"][1]["digest"], fx.v1.layers[1].as_str());

    // Again: every blob is there already.
    let again = cli.ok(&["registry", "image", "push", "acme/web:v1", "--source", &src]);
    assert_eq!(
        again.trim(),
        format!(
            "Pushed acme/web:v1 ({}), 3 blobs, 5.24 MB (3 already present)",
            fx.v1.digest
        )
    );

    // The two-platform index: children first, then the index under the tag.
    let pushed = cli.json(&["registry", "image", "push", "acme/web:multi", "--source", &src]);
    assert_eq!(pushed["digest"], fx.multi.as_str());
    assert_eq!(pushed["mediaType"], OCI_INDEX);
    assert_eq!(pushed["manifests"], 3);
    assert_eq!(pushed["platforms"], json!(["linux/amd64", "linux/arm64"]));
    assert_eq!(
        (pushed["blobs"].as_u64(), pushed["alreadyPresent"].as_u64()),
        (Some(5), Some(1))
    );
    let (index, digest) = registry_manifest(&server, &key, "acme/web", "multi").await;
    assert_eq!(digest, fx.multi);
    assert_eq!(index["manifests"][1]["digest"], fx.arm.digest.as_str());

    // Pull into a new folder: the same bytes, named by tag in index.json.
    let out = dir.join("out");
    let pulled = cli.json(&["registry", "image", "pull", "acme/web:v1", "--dest", path_str(&out)]);
    assert_eq!(pulled["format"], "oci");
    assert_eq!(pulled["digest"], fx.v1.digest.as_str());
    assert_eq!(
        (pulled["blobs"].as_u64(), pulled["alreadyPresent"].as_u64()),
        (Some(3), Some(0))
    );
    same_blobs(&fx.layout, &out, &fx.v1.blobs());
    same_blobs(&fx.layout, &out, std::slice::from_ref(&fx.v1.digest));
    let entries = read_index(&out);
    assert_eq!(entries.len(), 1);
    assert_eq!(entry(&entries, "v1")["digest"], fx.v1.digest.as_str());
    assert_eq!(
        std::fs::read_to_string(out.join("oci-layout")).unwrap(),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );

    // Every platform of the index into the same folder; the shared layer is reused.
    let pulled = cli.json(&["registry", "image", "pull", "acme/web:multi", "--dest", path_str(&out)]);
    assert_eq!(pulled["digest"], fx.multi.as_str());
    assert_eq!(
        (pulled["blobs"].as_u64(), pulled["alreadyPresent"].as_u64()),
        (Some(5), Some(1))
    );
    let mut all = fx.amd.blobs();
    all.extend(fx.arm.blobs());
    all.extend([fx.amd.digest.clone(), fx.arm.digest.clone(), fx.multi.clone()]);
    same_blobs(&fx.layout, &out, &all);
    let entries = read_index(&out);
    assert_eq!(entries.len(), 2);
    assert_eq!(entry(&entries, "multi")["mediaType"], OCI_INDEX);
    assert_eq!(entry(&entries, "v1")["digest"], fx.v1.digest.as_str());
    // Pulling a tag again finds every blob in place.
    let pulled = cli.json(&["registry", "image", "pull", "acme/web:v1", "--dest", path_str(&out)]);
    assert_eq!(
        (pulled["alreadyPresent"].as_u64(), pulled["downloadedBytes"].as_u64()),
        (Some(3), Some(0))
    );

    // One platform only.
    let arm_out = dir.join("arm");
    let pulled = cli.json(&[
        "registry",
        "image",
        "pull",
        "acme/web:multi",
        "--platform",
        "linux/arm64",
        "--dest",
        path_str(&arm_out),
    ]);
    assert_eq!(pulled["digest"], fx.arm.digest.as_str());
    assert_eq!(pulled["indexDigest"], fx.multi.as_str());
    let entries = read_index(&arm_out);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["digest"], fx.arm.digest.as_str());
    assert_eq!(entries[0]["platform"]["architecture"], "arm64");
    same_blobs(&fx.layout, &arm_out, &fx.arm.blobs());
    assert!(!arm_out.join("blobs/sha256").join(hex_of(&fx.amd.config)).exists());

    // A docker-archive (chosen by the .tar name): manifest.json names the verified layers.
    let tarball = dir.join("web-v1.tar");
    let line = cli.ok(&["registry", "image", "pull", "acme/web:v1", "--dest", path_str(&tarball)]);
    assert!(
        line.starts_with(&format!("Pulled acme/web:v1 ({}) to ", fx.v1.digest))
            && line.trim_end().ends_with("3 blobs, 5.24 MB (0 already present)"),
        "{line}"
    );
    let files = untar(&tarball);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let host = server.base.trim_start_matches("http://");
    assert_eq!(manifest[0]["RepoTags"], json!([format!("{host}/acme/web:v1")]));
    assert_eq!(manifest[0]["Config"], format!("blobs/sha256/{}", hex_of(&fx.v1.config)));
    let layers: Vec<&str> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(layers.len(), 2);
    for (path, digest) in layers.iter().zip(&fx.v1.layers) {
        assert_eq!(*path, format!("blobs/sha256/{}", hex_of(digest)));
        assert_eq!(sha(&files[*path]), *digest);
        assert!(files[*path] == fx.layout.read(digest));
    }
    let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
    assert_eq!(index["manifests"][0]["digest"], fx.v1.digest.as_str());
    assert_eq!(index["manifests"][0]["annotations"][REF_NAME], "v1");
    assert!(files.contains_key("oci-layout"));
    assert!(
        std::fs::read_dir(dir)
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".partial")),
        "no temporary file is left"
    );

    // A docker-archive of an index is one platform: this machine's unless --platform says.
    let host_arch = if std::env::consts::ARCH == "aarch64" {
        &fx.arm
    } else {
        &fx.amd
    };
    let multi_tar = dir.join("multi.tar");
    let pulled = cli.json(&[
        "registry",
        "image",
        "pull",
        "acme/web:multi",
        "--dest",
        path_str(&multi_tar),
    ]);
    assert_eq!(pulled["format"], "docker-archive");
    if matches!(std::env::consts::ARCH, "x86_64" | "aarch64") {
        assert_eq!(pulled["digest"], host_arch.digest.as_str());
    }
    let pulled = cli.json(&[
        "registry",
        "image",
        "pull",
        "acme/web:multi",
        "--platform",
        "linux/arm64",
        "--format",
        "docker-archive",
        "--dest",
        path_str(&multi_tar),
    ]);
    assert_eq!(pulled["digest"], fx.arm.digest.as_str());
    let files = untar(&multi_tar);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(
        manifest[0]["Config"],
        format!("blobs/sha256/{}", hex_of(&fx.arm.config))
    );

    // The docker-archive we wrote pushes back (converted to a Docker schema 2 manifest).
    let pushed = cli.json(&[
        "registry",
        "image",
        "push",
        "acme/copy:v1",
        "--source",
        path_str(&tarball),
    ]);
    assert_eq!(pushed["sourceFormat"], "docker-archive");
    assert_eq!(pushed["mediaType"], DOCKER_MANIFEST);
    let (manifest, _) = registry_manifest(&server, &key, "acme/copy", "v1").await;
    assert_eq!(manifest["config"]["digest"], fx.v1.config.as_str());
    assert_eq!(manifest["layers"][1]["digest"], fx.v1.layers[1].as_str());

    // A folder we pulled is a layout we can push from, picking the entry by tag.
    let pushed = cli.json(&[
        "registry",
        "image",
        "push",
        "acme/mirror:multi",
        "--source",
        path_str(&out),
    ]);
    assert_eq!(pushed["digest"], fx.multi.as_str());

    // A bare repository name goes into the configured org.
    let pushed = cli.json(&[
        "registry",
        "image",
        "push",
        "tools:multi",
        "--org",
        "acme",
        "--source",
        &src,
        "--platform",
        "linux/amd64",
    ]);
    assert_eq!(pushed["reference"], "acme/tools:multi");
    assert_eq!(pushed["digest"], fx.amd.digest.as_str());
}

async fn docker_archives(stores: &Stores) {
    let server = Server::start(stores);
    let key = server.key();
    let dir = stores.dir.path();
    let guest = Cli::new(&server, &dir.join("home"));
    let cli = guest.key(&key);
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let plain = noise(3000, 3);
    let mut gzipped = vec![0x1f, 0x8b, 0x08, 0x00];
    gzipped.extend(noise(2000, 5));
    let path = dir.join("app.tar");
    docker_archive(&path, config, &plain, &gzipped);

    let pushed = cli.json(&["registry", "image", "push", "acme/app:1.0", "--source", path_str(&path)]);
    assert_eq!(pushed["sourceFormat"], "docker-archive");
    assert_eq!(
        (pushed["blobs"].as_u64(), pushed["alreadyPresent"].as_u64()),
        (Some(3), Some(0))
    );
    let (manifest, digest) = registry_manifest(&server, &key, "acme/app", "1.0").await;
    assert_eq!(pushed["digest"], digest.as_str());
    assert_eq!(manifest["mediaType"], DOCKER_MANIFEST);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    assert_eq!(manifest["config"]["digest"], sha(config).as_str());
    assert_eq!(manifest["config"]["size"], config.len());
    let layers = manifest["layers"].as_array().unwrap();
    let got: Vec<(&str, &str, u64)> = layers
        .iter()
        .map(|l| {
            (
                l["mediaType"].as_str().unwrap(),
                l["digest"].as_str().unwrap(),
                l["size"].as_u64().unwrap(),
            )
        })
        .collect();
    let (p, g) = (sha(&plain), sha(&gzipped));
    assert_eq!(
        got,
        vec![
            ("application/vnd.docker.image.rootfs.diff.tar", p.as_str(), 3000),
            ("application/vnd.docker.image.rootfs.diff.tar.gzip", g.as_str(), 2004),
            ("application/vnd.docker.image.rootfs.diff.tar", p.as_str(), 3000),
        ]
    );

    // Pushed again: nothing to send.
    let again = cli.ok(&["registry", "image", "push", "acme/app:1.0", "--source", path_str(&path)]);
    assert_eq!(
        again.trim(),
        format!("Pushed acme/app:1.0 ({digest}), 3 blobs, 0.01 MB (3 already present)")
    );
    // The archive holds one image, so any tag takes it.
    cli.ok(&[
        "registry",
        "image",
        "push",
        "acme/app:other",
        "--source",
        path_str(&path),
    ]);

    // Back into a layout: the very bytes of the archive.
    let out = dir.join("app");
    let pulled = cli.json(&["registry", "image", "pull", "acme/app:1.0", "--dest", path_str(&out)]);
    assert_eq!(pulled["blobs"], 3);
    for (d, bytes) in [(sha(config), config.to_vec()), (p, plain), (g, gzipped)] {
        assert!(std::fs::read(out.join("blobs/sha256").join(hex_of(&d))).unwrap() == bytes);
    }
    // By digest.
    let by_digest = format!("acme/app@{digest}");
    let pulled = cli.json(&[
        "registry",
        "image",
        "pull",
        &by_digest,
        "--dest",
        path_str(&dir.join("app2")),
    ]);
    assert_eq!(pulled["digest"], digest.as_str());
    assert!(read_index(&dir.join("app2"))[0]["annotations"].get(REF_NAME).is_none());
}

async fn bad_inputs(stores: &Stores) {
    let server = Server::start(stores);
    let key = server.key();
    let dir = stores.dir.path();
    let guest = Cli::new(&server, &dir.join("home"));
    let cli = guest.key(&key);
    let fx = fixture(dir.join("src"));
    let src = path_str(&fx.layout.dir).to_string();
    let k = Some(key.as_str());
    let push = |image: &str, source: &str| {
        vec!["registry", "image", "push", image, "--source", source]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let fails = |key: Option<&str>, args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        key.map_or(guest.clone(), |k| guest.key(k)).fails(&args)
    };

    let missing = dir.join("nope");
    let err = fails(k, &push("acme/web:v1", path_str(&missing)));
    assert!(err.contains("does not exist"), "{err}");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = fails(k, &push("acme/web:v1", path_str(&empty)));
    assert!(err.contains("not an OCI image layout"), "{err}");
    let junk = dir.join("junk.tar");
    std::fs::write(&junk, noise(4000, 9)).unwrap();
    let err = fails(k, &push("acme/web:v1", path_str(&junk)));
    assert!(err.contains("tar"), "{err}");
    let err = fails(k, &push("acme/web:nope", &src));
    assert!(
        err.contains("Tag 'nope' is not in") && err.contains("v1, multi"),
        "{err}"
    );
    let err = fails(
        k,
        &push(
            "acme/web@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            &src,
        ),
    );
    assert!(err.contains("needs a tag"), "{err}");
    let err = fails(k, &push("Acme/web:v1", &src));
    assert!(err.contains("Invalid image reference"), "{err}");
    let mut bad_platform = push("acme/web:multi", &src);
    bad_platform.extend(["--platform".into(), "linux/s390x".into()]);
    let err = fails(k, &bad_platform);
    assert!(
        err.contains("no linux/s390x variant") && err.contains("linux/amd64, linux/arm64"),
        "{err}"
    );

    // Credentials.
    let err = fails(Some("nvapi-not-a-real-key"), &push("acme/web:v1", &src));
    assert!(err.contains("invalid API key"), "{err}");
    let err = fails(None, &push("acme/web:v1", &src));
    assert!(err.contains("API key"), "{err}");
    let reader = member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]);
    let err = fails(Some(&reader), &push("acme/web:v1", &src));
    assert!(err.contains("DENIED") && err.contains("push to 'acme/web'"), "{err}");

    // The registry's own errors show their OCI code.
    cli.ok(&push("acme/web:v1", &src).iter().map(String::as_str).collect::<Vec<_>>());
    let pull = |image: &str, dest: &Path| {
        vec!["registry", "image", "pull", image, "--dest", path_str(dest)]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let err = fails(k, &pull("acme/web:nope", &dir.join("p1")));
    assert!(err.contains("MANIFEST_UNKNOWN"), "{err}");
    let err = fails(k, &pull("acme/web:nope", &dir.join("p1.tar")));
    assert!(err.contains("MANIFEST_UNKNOWN"), "{err}");
    assert!(!dir.join("p1.tar").exists());
    let err = fails(Some("nvapi-not-a-real-key"), &pull("acme/web:v1", &dir.join("p1")));
    assert!(err.contains("invalid API key"), "{err}");
    let err = fails(k, &pull("acme/web:v1", &fx.layout.dir.join("index.json")));
    assert!(err.contains("not a folder"), "{err}");
    std::fs::create_dir_all(dir.join("stuff")).unwrap();
    std::fs::write(dir.join("stuff/notes.txt"), "x").unwrap();
    let err = fails(k, &pull("acme/web:v1", &dir.join("stuff")));
    assert!(err.contains("not empty and not an OCI image layout"), "{err}");
    // A reader may pull.
    guest.key(&reader).ok(&pull("acme/web:v1", &dir.join("p2"))
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let mut csv = pull("acme/web:v1", &dir.join("p3"));
    csv.extend(["--format_type".into(), "csv".into()]);
    let err = fails(k, &csv);
    assert!(err.contains("does not support CSV"), "{err}");

    // A corrupt blob (same size, other bytes) is refused by the registry.
    let small = &fx.v1.layers[0];
    let file = fx.layout.dir.join("blobs/sha256").join(hex_of(small));
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let err = fails(k, &push("acme/corrupt:v1", &src));
    assert!(err.contains("DIGEST_INVALID"), "{err}");
    // A missing one is found before anything is sent.
    std::fs::remove_file(&file).unwrap();
    let err = fails(k, &push("acme/corrupt:v1", &src));
    assert!(err.contains("is missing from"), "{err}");
}

both_backends!(oci_layouts_round_trip, round_trips);
both_backends!(docker_archives_push_and_pull, docker_archives);
both_backends!(bad_inputs_fail_with_one_line, bad_inputs);
