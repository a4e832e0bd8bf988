//! Model and resource files over NGC's transfer protocol (ngc-api.md §5) by hand: the request
//! bodies, a one-part upload, big files made on disk, and a look into the stores to check what a
//! request left behind.

use super::{Api, Auth, Backend, Stores};
use base64::Engine;
use futures::TryStreamExt;
use hangar_store::blob::BlobStore;
use hangar_store::meta::MetaStore;
use serde_json::{Value, json};
use sha2::Digest as _;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Once};

/// A file's SHA-256 as NGC's client sends it: standard base64.
pub fn b64_sha256(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

/// The same from a `sha256sum` hex digest.
pub fn hex_to_b64(hex_digest: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hex::decode(hex_digest).expect("hex digest"))
}

/// One version that files go to: `space` is `{OT}` (`/v2/org/{org}[/team/{team}]`), `kind`
/// `models` or `resources`.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub space: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub version: &'a str,
}

impl Target<'_> {
    fn body(&self) -> Value {
        json!({"name": self.name, "version": self.version, "artifactType": self.kind})
    }

    /// The body of `POST {OT}/files/multipart`.
    pub fn start(&self, path: &str, size: u64, sha: &str) -> Value {
        let mut body = self.body();
        body["filePath"] = json!(path);
        body["size"] = json!(size);
        body["sha256"] = json!(sha);
        body
    }

    /// The body of `PUT {OT}/files/multipart`.
    pub fn complete(&self, path: &str, upload_id: &Value, sha: &str) -> Value {
        let mut body = self.body();
        body["filePath"] = json!(path);
        body["uploadID"] = upload_id.clone();
        body["sha256"] = json!(sha);
        body
    }

    /// The body of `POST {OT}/files/commit` adding `files` (path, base64 SHA-256).
    pub fn commit(&self, files: &[(&str, &str)]) -> Value {
        let mut body = self.body();
        body["baseVersion"] = Value::Null;
        body["files"] = files
            .iter()
            .map(|(path, sha)| json!({"commitType": "ADDITION", "filePath": path, "sha256": sha}))
            .collect();
        body
    }

    /// `{OT}/{kind}/{name}`.
    pub fn entity(&self) -> String {
        format!("{}/{}/{}", self.space, self.kind, self.name)
    }

    /// The paths of the version's files, as `GET …/versions/{v}/files` lists them.
    pub async fn listed(&self, api: &Api, auth: &Auth) -> Vec<String> {
        let (s, body) = api
            .get(&format!("{}/versions/{}/files", self.entity(), self.version), auth)
            .await;
        assert_eq!(s, 200, "{body}");
        let key = if self.kind == "models" {
            "modelFiles"
        } else {
            "recipeFiles"
        };
        body[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}: {body}"))
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    }

    /// Starts the upload of `data` as `path` and sends its one part; returns the `uploadID`.
    pub async fn send_one_part(&self, api: &Api, auth: &Auth, path: &str, data: &[u8], sha: &str) -> Value {
        let (s, started) = api
            .post(
                &format!("{}/files/multipart", self.space),
                auth,
                self.start(path, data.len() as u64, sha),
            )
            .await;
        assert_eq!(s, 200, "{started}");
        assert_eq!(started["urls"].as_array().map(Vec::len), Some(1), "{started}");
        let r = api
            .raw()
            .put(started["urls"][0].as_str().unwrap())
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        started["uploadID"].clone()
    }

    /// Uploads `data` as `path` in one part, announcing `sha` as its SHA-256; returns the
    /// status of the completion.
    pub async fn upload_one_part(&self, api: &Api, auth: &Auth, path: &str, data: &[u8], sha: &str) -> u16 {
        let id = self.send_one_part(api, auth, path, data, sha).await;
        let (s, _) = api
            .call(
                reqwest::Method::PUT,
                &format!("{}/files/multipart", self.space),
                auth,
                Some(self.complete(path, &id, sha)),
            )
            .await;
        s.as_u16()
    }
}

/// What the stores hold of file transfers: open uploads, received parts, version files, and
/// every blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub uploads: i64,
    pub parts: i64,
    pub files: i64,
    pub blobs: Vec<String>,
}

/// The database and blob store of a test's server, opened as another replica would open them.
pub struct StoreView {
    pub meta: MetaStore,
    pub blobs: Arc<dyn BlobStore>,
}

/// Opens a test's blob store in this process.
async fn open_blobs(stores: &Stores) -> hangar_store::Result<Arc<dyn BlobStore>> {
    static AWS_ENV: Once = Once::new();
    if stores.backend == Backend::PostgresS3 {
        // Every test's S3 settings are the same; they are set once, before any store reads them.
        AWS_ENV.call_once(|| {
            for (name, value) in &stores.env {
                // SAFETY: set once per process, before this process opens any S3 store.
                unsafe { std::env::set_var(name, value) };
            }
        });
    }
    hangar_store::blob::open(&stores.blobs).await
}

/// Deletes every blob and staged upload of a test's store, ignoring errors: it runs when the
/// test's `Stores` is dropped, also while a failed test unwinds.
pub(super) async fn discard_blobs(stores: &Stores) {
    let Ok(blobs) = open_blobs(stores).await else {
        return;
    };
    if let Ok(all) = blobs.list().try_collect::<Vec<_>>().await {
        for blob in all {
            let _ = blobs.delete(&blob.digest).await;
        }
    }
    let _ = blobs.sweep_temp(std::time::Duration::ZERO).await;
}

/// Tests that move a gigabyte or more take turns, so that the suite's peak of disk space is
/// one such test's (CI machines may have little more than the build and that to spare).
pub async fn big_data_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

impl StoreView {
    pub async fn open(stores: &Stores) -> StoreView {
        let meta = MetaStore::open(&stores.database).await.expect("open the database");
        let blobs = open_blobs(stores).await.expect("open the blob store");
        StoreView { meta, blobs }
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(self.meta.pool())
            .await
            .expect("count rows")
    }

    /// Deletes every blob and staged upload, so a test of big files leaves no gigabytes in the
    /// test services' S3 server (a folder store goes with the test's temp folder anyway).
    pub async fn remove_blobs(&self) {
        let blobs: Vec<_> = self.blobs.list().try_collect().await.expect("list blobs");
        for blob in blobs {
            self.blobs.delete(&blob.digest).await.expect("delete a blob");
        }
        self.blobs
            .sweep_temp(std::time::Duration::ZERO)
            .await
            .expect("remove staged uploads");
    }

    pub async fn snapshot(&self) -> Snapshot {
        let mut blobs: Vec<String> = self
            .blobs
            .list()
            .map_ok(|b| b.digest.to_string())
            .try_collect()
            .await
            .expect("list blobs");
        blobs.sort();
        Snapshot {
            uploads: self.count("file_uploads").await,
            parts: self.count("file_upload_parts").await,
            files: self.count("artifact_files").await,
            blobs,
        }
    }
}

/// Writes `size` bytes to `path`, streaming: one pseudo-random MiB, repeated with each copy's
/// number in its first 8 bytes (so every MiB differs and a misplaced one changes the hash);
/// returns the file's SHA-256 (hex, from `sha256sum`: a debug build hashes much slower).
pub fn make_big_file(path: &Path, size: u64, seed: u64) -> String {
    const CHUNK: u64 = 1 << 20;
    let mut file =
        std::io::BufWriter::with_capacity(CHUNK as usize, std::fs::File::create(path).expect("create big file"));
    let mut x = seed | 1;
    let mut chunk: Vec<u8> = (0..CHUNK / 8)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect();
    let mut written = 0u64;
    while written < size {
        chunk[..8].copy_from_slice(&(written / CHUNK).to_le_bytes());
        let n = CHUNK.min(size - written) as usize;
        file.write_all(&chunk[..n]).expect("write big file");
        written += n as u64;
    }
    file.flush().expect("flush big file");
    sha256sum(path)
}

/// The hex SHA-256 of a file, by `sha256sum`.
pub fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

/// The entries of a zip as Python's `zipfile` reads them, `{name: [size, sha256 hex]}`, each
/// read to its end in one pass (which checks its CRC-32, checked again here against the
/// directory's); panics if Python finds the zip broken.
pub fn zip_listing(zip: &Path) -> Value {
    const CHECK: &str = "import hashlib, json, sys, zipfile, zlib
z = zipfile.ZipFile(sys.argv[1])
out = {}
for i in z.infolist():
    h, crc = hashlib.sha256(), 0
    with z.open(i) as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
            crc = zlib.crc32(chunk, crc)
    assert crc == i.CRC, f'{i.filename}: CRC {crc:08x}, directory says {i.CRC:08x}'
    out[i.filename] = [i.file_size, h.hexdigest()]
print(json.dumps(out))
";
    let out = std::process::Command::new("python3")
        .args(["-c", CHECK])
        .arg(zip)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "zipfile: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("zipfile's listing")
}
