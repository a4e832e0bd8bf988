//! Streaming a body into one multipart upload while hashing it, with bounded memory.

use super::{Algorithm, BlobInfo, ByteStream, Digest, Hasher};
use crate::{Error, Result};
use futures::StreamExt;
use object_store::{MultipartUpload, WriteMultipart};

/// Default part size. S3 needs at least 5 MiB per part (except the last) and allows 10,000
/// parts, so uploads of unknown size are limited to about 78 GiB.
const PART_SIZE: u64 = 8 << 20;
/// The most parts S3 accepts in one multipart upload.
const MAX_PARTS: u64 = 10_000;
/// Parts uploaded concurrently; memory per upload stays below `(MAX_IN_FLIGHT + 1) * part size`.
const MAX_IN_FLIGHT: usize = 2;

/// What the bytes must hash to; the upload is aborted unless they do.
pub(super) struct Expect<'a> {
    pub digest: Option<&'a Digest>,
    pub size: Option<u64>,
}

/// The length of the bytes streamed so far, checked against what the blob must be.
pub(super) struct Tally<'a> {
    expect: Expect<'a>,
    size: u64,
}

impl<'a> Tally<'a> {
    pub(super) fn new(expect: Expect<'a>) -> Self {
        Tally { expect, size: 0 }
    }

    /// The algorithm to hash with: the expected digest's; unknown content is named by its
    /// SHA-256, as clients expect.
    pub(super) fn hasher(&self) -> Hasher {
        Hasher::new(self.expect.digest.map_or(Algorithm::Sha256, Digest::algorithm))
    }

    /// Counts `len` more bytes; a body longer than expected fails as soon as it is.
    pub(super) fn count(&mut self, len: usize) -> Result<()> {
        self.size += len as u64;
        match self.expect.size {
            Some(expected) if self.size > expected => Err(Error::SizeMismatch {
                expected,
                actual: self.size,
            }),
            _ => Ok(()),
        }
    }

    /// The blob, if its size and `digest` are the expected ones.
    pub(super) fn finish(self, digest: Digest) -> Result<BlobInfo> {
        check(self.expect, digest, self.size)
    }
}

/// Streams `body` into `upload`, hashing it, and completes the upload only if the content matches
/// `expect`; otherwise (or on any error) the upload is aborted and nothing becomes visible.
pub(super) async fn write_verified(
    upload: Box<dyn MultipartUpload>,
    expect: Expect<'_>,
    mut body: ByteStream,
) -> Result<BlobInfo> {
    let mut writer = Writer::new(upload, part_size(expect.size));
    let mut tally = Tally::new(expect);
    let mut hasher = tally.hasher();
    let streamed: Result<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            tally.count(chunk.len())?;
            hasher.update(&chunk);
            writer.put(chunk).await?;
        }
        Ok(())
    }
    .await;
    let info = streamed.and_then(|()| tally.finish(hasher.finish()));
    match info {
        Ok(info) => {
            writer.finish().await?;
            Ok(info)
        }
        Err(e) => {
            writer.abort().await;
            Err(e)
        }
    }
}

fn check(expect: Expect<'_>, digest: Digest, size: u64) -> Result<BlobInfo> {
    if let Some(expected) = expect.size.filter(|&expected| expected != size) {
        return Err(Error::SizeMismatch { expected, actual: size });
    }
    if let Some(expected) = expect.digest.filter(|&expected| *expected != digest) {
        return Err(Error::DigestMismatch {
            expected: expected.to_string(),
            actual: digest.to_string(),
        });
    }
    Ok(BlobInfo { digest, size })
}

/// The part size for an upload: the default, or larger when a known size needs it to stay within
/// S3's part limit.
fn part_size(size: Option<u64>) -> usize {
    let needed = size.map_or(0, |size| size.div_ceil(MAX_PARTS).next_multiple_of(1 << 20));
    usize::try_from(needed.max(PART_SIZE)).unwrap_or(usize::MAX)
}

/// A [`WriteMultipart`] that is aborted in the background when dropped unfinished (for example
/// when the client disconnects and the request future is dropped), so S3 does not keep the parts.
struct Writer {
    inner: Option<WriteMultipart>,
}

impl Writer {
    fn new(upload: Box<dyn MultipartUpload>, part_size: usize) -> Self {
        Writer {
            inner: Some(WriteMultipart::new_with_chunk_size(upload, part_size)),
        }
    }

    async fn put(&mut self, chunk: bytes::Bytes) -> Result<()> {
        let writer = self
            .inner
            .as_mut()
            .ok_or_else(|| std::io::Error::other("upload already closed"))?;
        writer.wait_for_capacity(MAX_IN_FLIGHT).await?;
        writer.put(chunk);
        Ok(())
    }

    async fn finish(mut self) -> Result<()> {
        if let Some(writer) = self.inner.take() {
            writer.finish().await?;
        }
        Ok(())
    }

    async fn abort(mut self) {
        if let Some(writer) = self.inner.take() {
            abort(writer).await;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let (Some(writer), Ok(runtime)) = (self.inner.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(abort(writer));
        }
    }
}

async fn abort(writer: WriteMultipart) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "could not abort an unfinished blob upload");
    }
}
