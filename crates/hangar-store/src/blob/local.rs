//! What the local folder needs beyond `object_store`: fast reads and sweeping the temporary area.

use super::ByteStream;
use crate::Result;
use futures::{StreamExt, TryStreamExt, stream};
use std::io::{ErrorKind, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Chunk size for reading local blobs. `object_store` reads local files 8 KiB at a time, which
/// measured 7-9x slower than 1 MiB chunks.
const READ_CHUNK: u64 = 1 << 20;

/// Streams `range` of an open file in 1 MiB chunks; a file shorter than `range` is an error.
pub(super) fn read_range(file: std::fs::File, range: Range<u64>) -> ByteStream {
    let open = async move {
        let mut file = tokio::fs::File::from_std(file);
        file.seek(SeekFrom::Start(range.start)).await?;
        Ok::<_, std::io::Error>((file, range.end.saturating_sub(range.start)))
    };
    stream::once(open)
        .map_ok(|state| {
            stream::try_unfold(state, |(mut file, remaining)| async move {
                if remaining == 0 {
                    return Ok(None);
                }
                let len = remaining.min(READ_CHUNK);
                let mut chunk = vec![0; len as usize];
                file.read_exact(&mut chunk).await?;
                Ok(Some((bytes::Bytes::from(chunk), (file, remaining - len))))
            })
        })
        .try_flatten()
        .boxed()
}

/// Removes the files directly in `dir` last modified more than `older_than` ago.
///
/// `LocalFileSystem` stages uploads as `<key>#<n>` and hides such files from listings, so a
/// crashed upload's staging file is only visible to the file system itself.
pub(super) async fn sweep_dir(dir: &Path, older_than: Duration) -> Result<u64> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let now = SystemTime::now();
    let mut removed = 0;
    while let Some(entry) = entries.next_entry().await? {
        let meta = match entry.metadata().await {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let age = now.duration_since(meta.modified()?).unwrap_or_default();
        if !meta.is_file() || age < older_than {
            continue;
        }
        match tokio::fs::remove_file(entry.path()).await {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(removed)
}
