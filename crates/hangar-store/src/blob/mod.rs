//! The content-addressed blob store: bytes by sha256 or sha512 digest, in a local folder or in S3.
//!
//! Layout inside the store: committed blobs at `blobs/<algorithm>/<first two hex>/<hex>`
//! (`blobs/sha256/…`, `blobs/sha512/…`: the same bytes under each algorithm are two blobs, and
//! a sha512 key is about 150 bytes, well within S3's 1024), temporary upload data under `tmp/`.
//! Nothing half-written or unverified is ever visible under `blobs/`:
//!
//! - local folder: every upload is written to a staging file `tmp/<uuid>` with direct I/O while
//!   being hashed (see `direct`); only after verification is it fsynced and renamed into
//!   `blobs/` (the rename fsyncs the directories it changes). A crash leaves only files in
//!   `tmp/`, which [`BlobStore::sweep_temp`] removes.
//! - S3: an upload with a known digest is a multipart upload to the final key, completed only
//!   after the digest and size matched and aborted otherwise; an incomplete multipart upload is
//!   invisible. [`BlobStore::put_unknown`] stages a completed object at `tmp/<uuid>`, then copies
//!   it into place. A crash can leave incomplete multipart uploads, which `object_store` cannot
//!   list: give the bucket a lifecycle rule `AbortIncompleteMultipartUpload`.

mod connect;
mod direct;
mod local;
mod object;
mod upload;

pub use connect::open;
pub use hangar_core::digest::{Algorithm, Digest, Hasher};

use crate::Result;
use async_trait::async_trait;
use futures::stream::BoxStream;
use std::time::Duration;

/// A stream of blob bytes, as taken by uploads and returned by downloads.
pub type ByteStream = BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// The blobs `parts` one after another as one stream, read lazily: for putting the chunks or
/// parts of an upload together.
pub fn concat(store: std::sync::Arc<dyn BlobStore>, parts: Vec<Digest>) -> ByteStream {
    use futures::StreamExt;
    futures::stream::iter(parts)
        .then(move |part| {
            let store = store.clone();
            async move { store.get(&part, None).await }
        })
        .map(|part| match part {
            Ok(stream) => stream,
            Err(e) => futures::stream::once(async move { Err(std::io::Error::other(e.to_string())) }).boxed(),
        })
        .flatten()
        .boxed()
}

/// A committed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub digest: Digest,
    pub size: u64,
}

/// A store may bound how many reads stream and how many puts run at once (S3 does, to bound the
/// memory their buffers take); the others wait. So a caller must not hold a read's stream while
/// it waits for a put or another read, except as the body of that put (as [`concat`] does).
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `body` into the store, hashing it with `expected`'s algorithm while writing;
    /// commits under `expected` only if that digest (and `expected_size` when given) match;
    /// otherwise nothing becomes visible and
    /// [`Error::DigestMismatch`](crate::Error::DigestMismatch) /
    /// [`Error::SizeMismatch`](crate::Error::SizeMismatch) is returned (a body longer than
    /// `expected_size` is refused as soon as it passes that size). Idempotent when the blob
    /// already exists: the stream is still consumed, verified and written again, which refreshes
    /// the blob's modification time. Memory stays bounded (a few upload parts of at least 8 MiB
    /// each).
    async fn put(&self, expected: &Digest, expected_size: Option<u64>, body: ByteStream) -> Result<BlobInfo>;

    /// Like [`BlobStore::put`], but the digest (sha256) is learned from the data (for uploads
    /// whose digest comes at the end). Uploads of unknown size are limited to about 78 GiB (S3
    /// part count).
    async fn put_unknown(&self, body: ByteStream) -> Result<BlobInfo>;

    /// The size of a committed blob, or `None` if there is none.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>>;

    /// Streams bytes `[start, end)` of a blob (`end` exclusive; `None` = to the end; an `end`
    /// beyond the blob is clamped to its size, as in HTTP). A `start` past the end (or past `end`)
    /// is [`Error::RangeNotSatisfiable`](crate::Error::RangeNotSatisfiable); `start` equal to the
    /// size gives an empty stream. A missing blob is [`Error::NotFound`](crate::Error::NotFound).
    async fn get(&self, digest: &Digest, range: Option<(u64, Option<u64>)>) -> Result<ByteStream>;

    /// Removes a blob; removing a missing blob is not an error.
    async fn delete(&self, digest: &Digest) -> Result<()>;

    /// Every committed blob of every algorithm (for GC), streamed; each digest names its
    /// algorithm (`sha256:…`, `sha512:…`).
    fn list(&self) -> BoxStream<'static, Result<BlobInfo>>;

    /// Removes temporary upload data last modified more than `older_than` ago (crash leftovers)
    /// and returns how many items were removed. Pick an age well above the longest upload: a
    /// swept in-progress upload fails (it never commits anything partial).
    async fn sweep_temp(&self, older_than: Duration) -> Result<u64>;
}
