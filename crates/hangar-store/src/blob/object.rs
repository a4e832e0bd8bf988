//! The blob store over `object_store`: one implementation for the local folder and for S3.

use super::upload::{self, Expect};
use super::{BlobInfo, BlobStore, ByteStream, Digest, direct, local};
use crate::{Error, Result};
use async_trait::async_trait;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::limit::LimitStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetResult, GetResultPayload, ObjectStore, ObjectStoreExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Committed blobs live at `blobs/<algorithm>/<first two hex>/<hex>`.
const BLOBS: &str = "blobs";
/// Uploads whose digest is not known yet are staged at `tmp/<uuid>`.
const TMP: &str = "tmp";
/// The largest object S3's CopyObject accepts; bigger staged blobs are streamed again instead.
const S3_COPY_LIMIT: u64 = 5 << 30;

/// How uploads become visible.
enum Backend {
    /// A local folder: every upload is written (and fsynced) in `tmp/` with direct I/O, then
    /// renamed into place.
    /// `tmp_dir` is that folder on disk.
    Local { tmp_dir: PathBuf },
    /// S3: an upload with a known digest goes straight to its final key as a multipart upload
    /// that is completed only after verification (an incomplete multipart upload is invisible).
    /// Uploads staged in `tmp/` are copied into place server-side when at most `copy_limit`
    /// bytes, otherwise streamed again into a new multipart upload.
    /// Each upload buffers its parts in memory (S3 takes a part whole): `uploads` bounds how many
    /// run at once; the others wait for a permit before reading their body.
    Remote { copy_limit: u64, uploads: Semaphore },
}

pub(super) struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    /// `store` for reading blobs. In S3 it lets a bounded number of reads stream at once, since
    /// each holds a connection whose read buffer grows to ~400 KiB (hyper's default, which
    /// reqwest does not let us lower); a read's permit lasts as long as its stream.
    reads: Arc<dyn ObjectStore>,
    backend: Backend,
}

impl ObjectBlobStore {
    /// A store in a local folder; `fs` must have fsync enabled for commits to be durable.
    pub(super) fn local(fs: LocalFileSystem) -> Result<Self> {
        let tmp_dir = fs.path_to_filesystem(&Path::from(TMP))?;
        std::fs::create_dir_all(&tmp_dir)?;
        let store: Arc<dyn ObjectStore> = Arc::new(fs);
        Ok(ObjectBlobStore {
            reads: store.clone(),
            store,
            backend: Backend::Local { tmp_dir },
        })
    }

    /// A store in S3 (or another store with multipart uploads and server-side copy), with at
    /// most `max_reads` blob reads streaming and `max_uploads` uploads running at once.
    pub(super) fn remote(store: Arc<dyn ObjectStore>, max_reads: usize, max_uploads: usize) -> Self {
        ObjectBlobStore {
            reads: Arc::new(LimitStore::new(store.clone(), max_reads)),
            store,
            backend: Backend::Remote {
                copy_limit: S3_COPY_LIMIT,
                uploads: Semaphore::new(max_uploads),
            },
        }
    }

    /// In S3, a permit to run one upload. It is taken before any read the upload makes (a
    /// restream, the chunks of an upload put together), so permits are always taken in the
    /// same order, upload then read, and cannot deadlock.
    async fn upload_permit(&self) -> Result<Option<SemaphorePermit<'_>>> {
        match &self.backend {
            Backend::Remote { uploads, .. } => Ok(Some(uploads.acquire().await.map_err(std::io::Error::other)?)),
            Backend::Local { .. } => Ok(None),
        }
    }

    async fn write(&self, path: &Path, expect: Expect<'_>, body: ByteStream) -> Result<BlobInfo> {
        let upload = self.store.put_multipart(path).await?;
        upload::write_verified(upload, expect, body).await
    }

    /// Stages `body` at a fresh `tmp/` key, then moves it to its final key.
    async fn stage_and_promote(&self, expect: Expect<'_>, body: ByteStream) -> Result<BlobInfo> {
        let id = uuid::Uuid::new_v4().to_string();
        let tmp = Path::from_iter([TMP, &id]);
        let info = match &self.backend {
            Backend::Local { tmp_dir } => direct::stage(&tmp_dir.join(&id), expect, body).await?,
            Backend::Remote { .. } => {
                let _upload = self.upload_permit().await?;
                self.write(&tmp, expect, body).await?
            }
        };
        let dest = blob_path(&info.digest);
        let promoted = match &self.backend {
            Backend::Local { .. } => self.store.rename(&tmp, &dest).await.map_err(Error::from),
            Backend::Remote { copy_limit, .. } if info.size <= *copy_limit => {
                self.store.copy(&tmp, &dest).await.map_err(Error::from)
            }
            Backend::Remote { .. } => self.restream(&tmp, &dest, &info).await,
        };
        // After a local rename the staged file is already gone; otherwise it is removed here, and
        // if that fails `sweep_temp` removes it later.
        if let Err(e) = self.store.delete(&tmp).await
            && !matches!(e, object_store::Error::NotFound { .. })
        {
            tracing::warn!(error = %e, path = %tmp, "could not remove a staged upload");
        }
        promoted.map(|()| info)
    }

    /// Copies a staged blob into place by streaming it through a new, verified multipart upload.
    async fn restream(&self, tmp: &Path, dest: &Path, info: &BlobInfo) -> Result<()> {
        let _upload = self.upload_permit().await?;
        let body = byte_stream(self.reads.get(tmp).await?);
        let expect = Expect {
            digest: Some(&info.digest),
            size: Some(info.size),
        };
        self.write(dest, expect, body).await.map(drop)
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(&self, expected: &Digest, expected_size: Option<u64>, body: ByteStream) -> Result<BlobInfo> {
        let expect = Expect {
            digest: Some(expected),
            size: expected_size,
        };
        match self.backend {
            Backend::Local { .. } => self.stage_and_promote(expect, body).await,
            Backend::Remote { .. } => {
                let _upload = self.upload_permit().await?;
                self.write(&blob_path(expected), expect, body).await
            }
        }
    }

    async fn put_unknown(&self, body: ByteStream) -> Result<BlobInfo> {
        self.stage_and_promote(
            Expect {
                digest: None,
                size: None,
            },
            body,
        )
        .await
    }

    async fn stat(&self, digest: &Digest) -> Result<Option<u64>> {
        match self.store.head(&blob_path(digest)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, digest: &Digest, range: Option<(u64, Option<u64>)>) -> Result<ByteStream> {
        let path = blob_path(digest);
        let not_found = |e| match e {
            object_store::Error::NotFound { .. } => Error::NotFound(digest.to_string()),
            e => Error::from(e),
        };
        let mut options = GetOptions::new();
        if let Some((start, end)) = range {
            let size = self.store.head(&path).await.map_err(not_found)?.size;
            let end = end.map_or(size, |end| end.min(size));
            if start > end {
                return Err(Error::RangeNotSatisfiable);
            }
            if start == end {
                return Ok(stream::empty().boxed());
            }
            options = options.with_range(Some(start..end));
        }
        let result = self.reads.get_opts(&path, options).await;
        Ok(byte_stream(result.map_err(not_found)?))
    }

    async fn delete(&self, digest: &Digest) -> Result<()> {
        match self.store.delete(&blob_path(digest)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn list(&self) -> BoxStream<'static, Result<BlobInfo>> {
        self.store
            .list(Some(&Path::from(BLOBS)))
            .map_err(Error::from)
            .try_filter_map(|meta| async move {
                let digest = parse_blob_path(&meta.location);
                if digest.is_none() {
                    tracing::warn!(path = %meta.location, "ignoring a file that is not a blob in the blob store");
                }
                Ok(digest.map(|digest| BlobInfo {
                    digest,
                    size: meta.size,
                }))
            })
            .boxed()
    }

    async fn sweep_temp(&self, older_than: Duration) -> Result<u64> {
        if let Backend::Local { tmp_dir } = &self.backend {
            return local::sweep_dir(tmp_dir, older_than).await;
        }
        let Some(cutoff) = chrono::TimeDelta::from_std(older_than)
            .ok()
            .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
        else {
            return Ok(0);
        };
        let mut staged = self.store.list(Some(&Path::from(TMP)));
        let mut removed = 0;
        while let Some(meta) = staged.try_next().await? {
            if meta.last_modified > cutoff {
                continue;
            }
            match self.store.delete(&meta.location).await {
                Ok(()) => removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(removed)
    }
}

/// The bytes of a get result; local files are read in large chunks (see [`local::read_range`]).
fn byte_stream(result: GetResult) -> ByteStream {
    match result.payload {
        GetResultPayload::File(file, _) => local::read_range(file, result.range),
        GetResultPayload::Stream(stream) => stream.map_err(std::io::Error::from).boxed(),
    }
}

fn blob_path(digest: &Digest) -> Path {
    let hex = digest.hex();
    Path::from_iter([BLOBS, digest.algorithm().as_str(), &hex[..2], hex])
}

/// The digest a committed blob's key names, if it is a well-formed blob key.
fn parse_blob_path(path: &Path) -> Option<Digest> {
    let parts: Vec<_> = path.parts().collect();
    let [root, algorithm, fan_out, hex] = parts.as_slice() else {
        return None;
    };
    let digest: Digest = format!("{}:{}", algorithm.as_ref(), hex.as_ref()).parse().ok()?;
    (root.as_ref() == BLOBS && digest.hex().get(..2) == Some(fan_out.as_ref())).then_some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    /// The S3 code paths in memory, staged blobs above `copy_limit` streamed into place, with at
    /// most `permits` reads and uploads at once.
    fn remote_in_memory(copy_limit: u64, permits: usize) -> ObjectBlobStore {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        ObjectBlobStore {
            reads: Arc::new(LimitStore::new(store.clone(), permits)),
            store,
            backend: Backend::Remote {
                copy_limit,
                uploads: Semaphore::new(permits),
            },
        }
    }

    /// The S3 path for staged blobs above the copy limit (5 GiB in production), with a limit of 0.
    #[tokio::test]
    async fn staged_blob_above_copy_limit_is_streamed_into_place() -> Result<()> {
        let store = remote_in_memory(0, 1);
        let data = bytes::Bytes::from(vec![7u8; 3 << 20]);
        let body = stream::iter([Ok(data.clone())]).boxed();
        let info = store.put_unknown(body).await?;
        assert_eq!(info.digest, Digest::sha256(&data));
        let stored: Vec<bytes::Bytes> = store.get(&info.digest, None).await?.try_collect().await?;
        assert_eq!(stored.concat(), data);
        assert_eq!(store.store.list(Some(&Path::from(TMP))).count().await, 0);
        Ok(())
    }

    /// Uploads that read (streaming a staged blob into place, putting chunks together) next to
    /// plain reads, with one permit of each: every permit order must let them all finish.
    #[tokio::test]
    async fn uploads_that_read_finish_with_one_permit_each() -> Result<()> {
        let store: Arc<dyn BlobStore> = Arc::new(remote_in_memory(0, 1));
        let chunk = |n: u8| bytes::Bytes::from(vec![n; 256 << 10]);
        let body = |data: bytes::Bytes| stream::iter([Ok(data)]).boxed();
        let parts = vec![
            store.put_unknown(body(chunk(1))).await?.digest,
            store.put_unknown(body(chunk(2))).await?.digest,
        ];
        let whole = Digest::sha256(&[chunk(1), chunk(2)].concat());
        let work = (0..4u8).map(|i| {
            let store = store.clone();
            let (parts, whole) = (parts.clone(), whole.clone());
            async move {
                match i % 4 {
                    0 => store.put_unknown(body(chunk(10 + i))).await.map(drop),
                    1 => store
                        .put(&whole, None, super::super::concat(store.clone(), parts))
                        .await
                        .map(drop),
                    _ => {
                        let read: Vec<bytes::Bytes> = store.get(&parts[0], None).await?.try_collect().await?;
                        assert_eq!(read.concat(), chunk(1));
                        Ok(())
                    }
                }
            }
        });
        // A deadlock fails the test instead of hanging it.
        let all = tokio::time::timeout(Duration::from_secs(60), futures::future::try_join_all(work)).await;
        all.expect("uploads and reads waited on each other's permits")?;
        Ok(())
    }
}
