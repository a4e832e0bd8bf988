//! Blob store conformance: every case runs against the local folder and against S3.
//!
//! The S3 variants need `HANGAR_TEST_S3_ENDPOINT`, `HANGAR_TEST_S3_BUCKET`,
//! `HANGAR_TEST_S3_ACCESS_KEY`, `HANGAR_TEST_S3_SECRET_KEY` and `HANGAR_TEST_S3_REGION`; without
//! them they print a note and pass, unless `HANGAR_TEST_REQUIRE_ALL=1`. Each S3 test works under
//! its own prefix `s3://<bucket>/test-<uuid>`.
//!
//! sha512 blobs are stored under keys of more than 128 bytes. Real S3 takes keys of up to 1024
//! bytes, but the S3 test server of `scripts/test-services` (s3s-fs) names a metadata file after
//! the base64 of the whole key, which for such keys exceeds the file system's 255 bytes; so the
//! S3 variants store sha512 blobs only when `HANGAR_TEST_S3_LONG_KEYS=1` says the S3 server can
//! (moto's server can, for one), and otherwise print a note.

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use hangar_store::Error;
use hangar_store::blob::{self, Algorithm, BlobInfo, BlobStore, ByteStream, Digest, Hasher};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt};
use std::future::Future;
use std::sync::{Arc, Once};
use std::time::Duration;

/// Writes each case once and runs it as `local::<case>` and `s3::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod local {
            $(
                #[test]
                fn $case() -> anyhow::Result<()> {
                    super::run(async { super::$case(&super::Backend::local().await?).await })
                }
            )*
        }
        mod s3 {
            $(
                #[test]
                fn $case() -> anyhow::Result<()> {
                    super::run(async {
                        match super::Backend::s3().await? {
                            Some(backend) => super::$case(&backend).await,
                            None => Ok(()),
                        }
                    })
                }
            )*
        }
    };
}

conformance!(
    roundtrip_multipart_blob,
    digest_mismatch_leaves_nothing,
    size_mismatch_leaves_nothing,
    put_is_idempotent,
    ranged_get,
    stat_delete_list,
    put_unknown_learns_digest,
    broken_or_abandoned_uploads_leave_nothing_and_are_swept,
    sha512_blobs,
    sha512_mismatch_leaves_nothing,
    concurrent_puts_of_one_blob,
);

const MIB: usize = 1 << 20;

/// Runs a test on its own runtime, after exporting the S3 settings.
fn run(test: impl Future<Output = Result<()>>) -> Result<()> {
    export_aws_env();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(test)
}

/// `blob::open` reads the standard AWS variables: set them from `HANGAR_TEST_S3_*` once, first
/// thing in every test (before its runtime exists).
fn export_aws_env() {
    static EXPORT: Once = Once::new();
    EXPORT.call_once(|| {
        let Some(s3) = S3Settings::from_env() else {
            return;
        };
        for (name, value) in [
            ("AWS_ENDPOINT_URL", &s3.endpoint),
            ("AWS_ACCESS_KEY_ID", &s3.access_key),
            ("AWS_SECRET_ACCESS_KEY", &s3.secret_key),
            ("AWS_REGION", &s3.region),
        ] {
            // SAFETY: every test calls this before doing anything else and waits here until it
            // is done, so no other thread of this binary reads the environment meanwhile.
            unsafe { std::env::set_var(name, value) };
        }
    });
}

/// A store under test, plus raw access to what it stores: its temporary area (`tmp/`) to plant
/// and count leftovers, and the keys of its committed blobs.
struct Backend {
    store: Arc<dyn BlobStore>,
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
}

enum Raw {
    /// The store's root folder.
    Folder(std::path::PathBuf),
    /// The test's own prefix in the bucket.
    S3(Arc<dyn ObjectStore>),
}

impl Backend {
    /// Whether the store can hold sha512 blobs' long keys (see the top of this file); prints a
    /// note when it cannot.
    fn holds_sha512_keys(&self) -> bool {
        let holds = match self.raw {
            Raw::Folder(_) => true,
            Raw::S3(_) => std::env::var("HANGAR_TEST_S3_LONG_KEYS").as_deref() == Ok("1"),
        };
        if !holds {
            eprintln!(
                "note: sha512 blobs not stored on S3: the S3 test server may not hold keys of more than 128 bytes \
                 (set HANGAR_TEST_S3_LONG_KEYS=1 for one that can)"
            );
        }
        holds
    }

    async fn local() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("blobs-root");
        let store = blob::open(root.to_str().context("temp dir path is not UTF-8")?).await?;
        Ok(Backend {
            store,
            raw: Raw::Folder(root),
            _dir: Some(dir),
        })
    }

    async fn s3() -> Result<Option<Self>> {
        let Some(s3) = S3Settings::from_env() else {
            if std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() == Ok("1") {
                bail!("HANGAR_TEST_REQUIRE_ALL=1 but the HANGAR_TEST_S3_* variables are not set");
            }
            eprintln!("note: S3 variant skipped (set HANGAR_TEST_S3_* to run it)");
            return Ok(None);
        };
        let prefix = format!("test-{}", uuid::Uuid::new_v4());
        let store = blob::open(&format!("s3://{}/{prefix}", s3.bucket)).await?;
        let raw = AmazonS3Builder::new()
            .with_endpoint(&s3.endpoint)
            .with_allow_http(s3.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_access_key_id(&s3.access_key)
            .with_secret_access_key(&s3.secret_key)
            .build()?;
        Ok(Some(Backend {
            store,
            raw: Raw::S3(Arc::new(PrefixStore::new(raw, prefix.as_str()))),
            _dir: None,
        }))
    }

    /// Leaves a stray file in the temporary area, as a crash between staging and commit would.
    async fn plant_temp_leftover(&self) -> Result<()> {
        match &self.raw {
            Raw::Folder(root) => {
                let dir = root.join("tmp");
                tokio::fs::create_dir_all(&dir).await?;
                tokio::fs::write(dir.join("planted-leftover"), b"partial").await?;
            }
            Raw::S3(raw) => {
                raw.put(
                    &Path::from("tmp/planted-leftover"),
                    Bytes::from_static(b"partial").into(),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// How many items the temporary area holds (for the folder: including staging files that
    /// `object_store` hides from listings).
    async fn temp_entries(&self) -> Result<usize> {
        match &self.raw {
            Raw::Folder(root) => match std::fs::read_dir(root.join("tmp")) {
                Ok(entries) => Ok(entries.count()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
                Err(e) => Err(e.into()),
            },
            Raw::S3(raw) => Ok(raw.list(Some(&Path::from("tmp"))).try_collect::<Vec<_>>().await?.len()),
        }
    }

    /// The keys of everything under `blobs/`, relative to the store's root, sorted.
    async fn blob_keys(&self) -> Result<Vec<String>> {
        let mut keys = match &self.raw {
            Raw::Folder(root) => {
                let mut keys = Vec::new();
                let mut dirs = vec![root.join("blobs")];
                while let Some(dir) = dirs.pop() {
                    let entries = match std::fs::read_dir(&dir) {
                        Ok(entries) => entries,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e.into()),
                    };
                    for entry in entries {
                        let path = entry?.path();
                        if path.is_dir() {
                            dirs.push(path);
                        } else {
                            let key = path.strip_prefix(root)?.to_str().context("not UTF-8")?;
                            keys.push(key.to_string());
                        }
                    }
                }
                keys
            }
            Raw::S3(raw) => {
                raw.list(Some(&Path::from("blobs")))
                    .map_ok(|meta| meta.location.to_string())
                    .try_collect()
                    .await?
            }
        };
        keys.sort();
        Ok(keys)
    }

    async fn list(&self) -> Result<Vec<BlobInfo>> {
        let mut all: Vec<BlobInfo> = self.store.list().try_collect().await?;
        all.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(all)
    }

    async fn read(&self, digest: &Digest, range: Option<(u64, Option<u64>)>) -> Result<Vec<u8>> {
        let chunks: Vec<Bytes> = self.store.get(digest, range).await?.try_collect().await?;
        Ok(chunks.concat())
    }

    /// Asserts that no blob is visible and no temporary data is left.
    async fn assert_empty(&self, digests: &[&Digest]) -> Result<()> {
        for digest in digests {
            ensure!(self.store.stat(digest).await?.is_none(), "{digest} is visible");
        }
        ensure!(self.list().await?.is_empty(), "the store lists blobs");
        ensure!(self.temp_entries().await? == 0, "temporary data is left behind");
        Ok(())
    }
}

struct S3Settings {
    endpoint: String,
    bucket: String,
    access_key: String,
    secret_key: String,
    region: String,
}

impl S3Settings {
    fn from_env() -> Option<Self> {
        let var = |name: &str| {
            std::env::var(format!("HANGAR_TEST_S3_{name}"))
                .ok()
                .filter(|v| !v.is_empty())
        };
        Some(S3Settings {
            endpoint: var("ENDPOINT")?,
            bucket: var("BUCKET")?,
            access_key: var("ACCESS_KEY")?,
            secret_key: var("SECRET_KEY")?,
            region: var("REGION")?,
        })
    }
}

/// Deterministic pseudo-random bytes (xorshift), different per `seed`.
fn data(len: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect::<Vec<u8>>()
        .into()
}

/// `data` as a stream of odd-sized chunks.
fn chunked(data: &Bytes) -> ByteStream {
    const SIZES: [usize; 5] = [1, 4093, 65_537, 1_000_003, 3 * MIB + 7];
    let mut chunks = Vec::new();
    let mut rest = data.clone();
    for size in SIZES.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        chunks.push(Ok(rest.split_to((*size).min(rest.len()))));
    }
    stream::iter(chunks).boxed()
}

fn len(data: &Bytes) -> u64 {
    data.len() as u64
}

// ---- cases ----

async fn roundtrip_multipart_blob(b: &Backend) -> Result<()> {
    let blob = data(12 * MIB + 3, 1);
    let digest = Digest::sha256(&blob);
    let info = b.store.put(&digest, Some(len(&blob)), chunked(&blob)).await?;
    ensure!(
        info == BlobInfo {
            digest: digest.clone(),
            size: len(&blob)
        }
    );
    ensure!(b.store.stat(&digest).await? == Some(len(&blob)));
    let read = b.read(&digest, None).await?;
    ensure!(
        read.len() == blob.len() && Digest::sha256(&read) == digest,
        "content differs"
    );
    let (start, end) = (MIB + 5, 5 * MIB + 3);
    let middle = b.read(&digest, Some((start as u64, Some(end as u64)))).await?;
    ensure!(middle == blob[start..end], "ranged content differs");
    ensure!(b.list().await? == vec![info]);
    ensure!(b.temp_entries().await? == 0);
    Ok(())
}

async fn digest_mismatch_leaves_nothing(b: &Backend) -> Result<()> {
    let blob = data(9 * MIB, 2);
    let wrong = Digest::sha256(b"something else");
    match b.store.put(&wrong, None, chunked(&blob)).await {
        Err(Error::DigestMismatch { expected, actual }) => {
            ensure!(expected == wrong.to_string() && actual == Digest::sha256(&blob).to_string());
        }
        other => bail!("expected a digest mismatch, got {other:?}"),
    }
    b.assert_empty(&[&wrong, &Digest::sha256(&blob)]).await
}

async fn size_mismatch_leaves_nothing(b: &Backend) -> Result<()> {
    let blob = data(9 * MIB, 3);
    let digest = Digest::sha256(&blob);
    for claimed in [len(&blob) + 1, len(&blob) - 1, 0] {
        match b.store.put(&digest, Some(claimed), chunked(&blob)).await {
            Err(Error::SizeMismatch { expected, .. }) if expected == claimed => {}
            other => bail!("claimed {claimed}: expected a size mismatch, got {other:?}"),
        }
    }
    b.assert_empty(&[&digest]).await
}

async fn put_is_idempotent(b: &Backend) -> Result<()> {
    let blob = data(6 * MIB + 11, 4);
    let digest = Digest::sha256(&blob);
    let first = b.store.put(&digest, Some(len(&blob)), chunked(&blob)).await?;
    let second = b.store.put(&digest, None, chunked(&blob)).await?;
    ensure!(first == second);
    // A wrong body for an existing blob is still refused, and the blob stays intact.
    let other = data(len(&blob) as usize, 5);
    ensure!(matches!(
        b.store.put(&digest, None, chunked(&other)).await,
        Err(Error::DigestMismatch { .. })
    ));
    ensure!(b.list().await? == vec![first]);
    ensure!(Digest::sha256(&b.read(&digest, None).await?) == digest);
    Ok(())
}

async fn ranged_get(b: &Backend) -> Result<()> {
    let blob = data(1000, 6);
    let digest = Digest::sha256(&blob);
    b.store.put(&digest, Some(1000), chunked(&blob)).await?;
    for (range, expected) in [
        ((0, None), &blob[..]),
        ((10, None), &blob[10..]),
        ((10, Some(20)), &blob[10..20]),
        ((999, None), &blob[999..]),
        ((990, Some(5000)), &blob[990..]),
        ((1000, None), &[][..]),
        ((5, Some(5)), &[][..]),
    ] {
        ensure!(b.read(&digest, Some(range)).await? == expected, "range {range:?}");
    }
    for range in [(1001, None), (20, Some(10)), (2000, Some(3000))] {
        ensure!(
            matches!(b.store.get(&digest, Some(range)).await, Err(Error::RangeNotSatisfiable)),
            "range {range:?} should not be satisfiable"
        );
    }

    let empty = Digest::sha256(b"");
    ensure!(b.store.put(&empty, Some(0), stream::empty().boxed()).await?.size == 0);
    ensure!(b.store.stat(&empty).await? == Some(0));
    ensure!(b.read(&empty, None).await?.is_empty());
    ensure!(b.read(&empty, Some((0, None))).await?.is_empty());
    ensure!(matches!(
        b.store.get(&empty, Some((1, None))).await,
        Err(Error::RangeNotSatisfiable)
    ));

    let missing = Digest::sha256(b"missing");
    for range in [None, Some((0, None)), Some((3, Some(4)))] {
        ensure!(
            matches!(b.store.get(&missing, range).await, Err(Error::NotFound(_))),
            "range {range:?}"
        );
    }
    Ok(())
}

async fn stat_delete_list(b: &Backend) -> Result<()> {
    let blobs = [data(0, 7), data(1, 8), data(300_000, 9)];
    let mut expected = Vec::new();
    for blob in &blobs {
        expected.push(b.store.put(&Digest::sha256(blob), None, chunked(blob)).await?);
    }
    expected.sort_by(|a, b| a.digest.cmp(&b.digest));
    ensure!(b.list().await? == expected);
    for info in &expected {
        ensure!(b.store.stat(&info.digest).await? == Some(info.size));
    }

    let gone = expected.remove(1);
    b.store.delete(&gone.digest).await?;
    b.store.delete(&gone.digest).await?; // deleting a missing blob is fine
    ensure!(b.store.stat(&gone.digest).await?.is_none());
    ensure!(matches!(b.store.get(&gone.digest, None).await, Err(Error::NotFound(_))));
    ensure!(b.list().await? == expected);
    ensure!(b.store.stat(&Digest::sha256(b"never stored")).await?.is_none());
    Ok(())
}

async fn put_unknown_learns_digest(b: &Backend) -> Result<()> {
    let blob = data(10 * MIB + 5, 10);
    let info = b.store.put_unknown(chunked(&blob)).await?;
    ensure!(
        info == BlobInfo {
            digest: Digest::sha256(&blob),
            size: len(&blob)
        }
    );
    ensure!(b.store.stat(&info.digest).await? == Some(len(&blob)));
    ensure!(Digest::sha256(&b.read(&info.digest, None).await?) == info.digest);
    // The same content again, and a small blob.
    ensure!(b.store.put_unknown(chunked(&blob)).await? == info);
    let small = b.store.put_unknown(chunked(&Bytes::from_static(b"hello"))).await?;
    ensure!(small.digest == Digest::sha256(b"hello") && small.size == 5);
    ensure!(b.list().await?.len() == 2);
    ensure!(b.temp_entries().await? == 0, "staged data is left behind");
    Ok(())
}

async fn broken_or_abandoned_uploads_leave_nothing_and_are_swept(b: &Backend) -> Result<()> {
    let blob = data(9 * MIB, 11);
    let digest = Digest::sha256(&blob);
    let broken = || {
        chunked(&blob)
            .chain(stream::iter([Err(std::io::Error::other("client went away"))]))
            .boxed()
    };

    ensure!(matches!(b.store.put(&digest, None, broken()).await, Err(Error::Io(_))));
    ensure!(matches!(b.store.put_unknown(broken()).await, Err(Error::Io(_))));
    b.assert_empty(&[&digest]).await?;

    // A crash: the uploads stop mid-stream and never run their cleanup.
    for known_digest in [true, false] {
        let (reached, stalled) = tokio::sync::oneshot::channel();
        let body = chunked(&blob)
            .chain(stream::once(async move {
                let _ = reached.send(());
                std::future::pending().await
            }))
            .boxed();
        let mut upload = match known_digest {
            true => b.store.put(&digest, None, body),
            false => b.store.put_unknown(body),
        };
        let finished = tokio::select! {
            result = &mut upload => Some(result),
            _ = stalled => None,
        };
        if let Some(result) = finished {
            bail!("a stalled upload finished: {result:?}");
        }
        std::mem::forget(upload);
    }
    b.plant_temp_leftover().await?;
    ensure!(b.store.stat(&digest).await?.is_none() && b.list().await?.is_empty());

    let leftovers = b.temp_entries().await?;
    ensure!(leftovers >= 1);
    ensure!(
        b.store.sweep_temp(Duration::from_secs(3600)).await? == 0,
        "fresh temporary data was swept"
    );
    ensure!(b.temp_entries().await? == leftovers);
    ensure!(b.store.sweep_temp(Duration::ZERO).await? as usize == leftovers);
    b.assert_empty(&[&digest]).await
}

/// sha512 blobs: hashed with their own algorithm while streaming, stored at
/// `blobs/sha512/<first two hex>/<hex>` apart from the sha256 blob of the same bytes (whose key
/// is unchanged), listed, read, ranged and deleted by their sha512 digest.
async fn sha512_blobs(b: &Backend) -> Result<()> {
    if !b.holds_sha512_keys() {
        return Ok(());
    }
    let blob = data(9 * MIB + 5, 21);
    let sha512 = Hasher::digest(Algorithm::Sha512, &blob);
    let sha256 = Digest::sha256(&blob);
    ensure!(sha512.algorithm() == Algorithm::Sha512 && sha512.as_str().len() == "sha512:".len() + 128);
    let info = b.store.put(&sha512, Some(len(&blob)), chunked(&blob)).await?;
    ensure!(info.digest == sha512 && info.size == len(&blob));
    ensure!(b.store.stat(&sha512).await? == Some(len(&blob)));
    ensure!(
        b.store.stat(&sha256).await?.is_none(),
        "the same bytes under sha256 are another blob"
    );
    ensure!(b.read(&sha512, None).await? == blob, "content differs");
    ensure!(b.read(&sha512, Some((5, Some(105)))).await? == blob[5..105]);
    ensure!(b.read(&sha512, Some((MIB as u64, None))).await? == blob[MIB..]);
    // Idempotent, like sha256 blobs.
    ensure!(b.store.put(&sha512, None, chunked(&blob)).await? == info);

    // The sha256 blob of the same bytes lives beside it; each goes on its own.
    let info256 = b.store.put(&sha256, Some(len(&blob)), chunked(&blob)).await?;
    let (hex512, hex256) = (sha512.hex(), sha256.hex());
    ensure!(
        b.blob_keys().await?
            == vec![
                format!("blobs/sha256/{}/{hex256}", &hex256[..2]),
                format!("blobs/sha512/{}/{hex512}", &hex512[..2]),
            ],
        "blob keys: {:?}",
        b.blob_keys().await?
    );
    ensure!(b.list().await? == vec![info256.clone(), info.clone()]);
    b.store.delete(&sha512).await?;
    b.store.delete(&sha512).await?;
    ensure!(b.store.stat(&sha512).await?.is_none());
    ensure!(matches!(b.store.get(&sha512, None).await, Err(Error::NotFound(_))));
    ensure!(b.store.stat(&sha256).await? == Some(len(&blob)));
    ensure!(b.list().await? == vec![info256]);

    // The empty blob, and a digest learned from the data is still sha256.
    let empty = Hasher::digest(Algorithm::Sha512, b"");
    ensure!(b.store.put(&empty, Some(0), stream::empty().boxed()).await?.size == 0);
    ensure!(b.store.stat(&empty).await? == Some(0) && b.read(&empty, None).await?.is_empty());
    let learned = b.store.put_unknown(chunked(&Bytes::from_static(b"hello"))).await?;
    ensure!(learned.digest == Digest::sha256(b"hello"));
    ensure!(b.temp_entries().await? == 0);
    Ok(())
}

/// A sha512 upload whose bytes hash to something else, or whose size is wrong, leaves nothing.
async fn sha512_mismatch_leaves_nothing(b: &Backend) -> Result<()> {
    if !b.holds_sha512_keys() {
        return Ok(());
    }
    let blob = data(9 * MIB, 22);
    let actual = Hasher::digest(Algorithm::Sha512, &blob);
    let wrong = Hasher::digest(Algorithm::Sha512, b"something else");
    match b.store.put(&wrong, None, chunked(&blob)).await {
        Err(Error::DigestMismatch { expected, actual: got }) => {
            ensure!(
                expected == wrong.to_string() && got == actual.to_string(),
                "{expected} / {got}"
            );
        }
        other => bail!("expected a digest mismatch, got {other:?}"),
    }
    // The sha256 of the bytes, given as sha512 hex padded out, is refused too.
    let padded: Digest = format!("sha512:{}{}", Digest::sha256(&blob).hex(), "0".repeat(64)).parse()?;
    ensure!(matches!(
        b.store.put(&padded, None, chunked(&blob)).await,
        Err(Error::DigestMismatch { .. })
    ));
    for claimed in [len(&blob) + 1, len(&blob) - 1] {
        match b.store.put(&actual, Some(claimed), chunked(&blob)).await {
            Err(Error::SizeMismatch { expected, .. }) if expected == claimed => {}
            other => bail!("claimed {claimed}: expected a size mismatch, got {other:?}"),
        }
    }
    b.assert_empty(&[&wrong, &padded, &actual, &Digest::sha256(&blob)])
        .await?;
    ensure!(b.blob_keys().await?.is_empty(), "keys: {:?}", b.blob_keys().await?);
    Ok(())
}

async fn concurrent_puts_of_one_blob(b: &Backend) -> Result<()> {
    let blob = data(10 * MIB + 1, 13);
    let digest = Digest::sha256(&blob);
    let (first, second, third) = tokio::join!(
        b.store.put(&digest, Some(len(&blob)), chunked(&blob)),
        b.store.put(&digest, None, chunked(&blob)),
        b.store.put_unknown(chunked(&blob)),
    );
    let expected = BlobInfo {
        digest: digest.clone(),
        size: len(&blob),
    };
    ensure!(first? == expected && second? == expected && third? == expected);
    ensure!(b.list().await? == vec![expected]);
    ensure!(Digest::sha256(&b.read(&digest, None).await?) == digest);
    ensure!(b.temp_entries().await? == 0);
    Ok(())
}

#[test]
fn open_rejects_bad_locations() -> Result<()> {
    run(open_locations())
}

async fn open_locations() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("file://{}", dir.path().join("via-url").display());
    let store = blob::open(&url).await?;
    ensure!(store.list().try_collect::<Vec<_>>().await?.is_empty());
    for bad in [
        "",
        "ftp://host/x",
        "s3://",
        "s3:///prefix",
        "file://relative/path",
        "file:///a%20b",
    ] {
        ensure!(
            matches!(blob::open(bad).await, Err(Error::Config(_))),
            "{bad:?} was accepted"
        );
    }
    Ok(())
}
