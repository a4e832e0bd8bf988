//! The one thing the local folder needs beyond `object_store`: sweeping its temporary area.
//!
//! `LocalFileSystem` stages every upload as `<key>#<n>` and hides such files from listings, so a
//! crashed upload's staging file is only visible to the file system itself.

use crate::Result;
use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Removes the files directly in `dir` last modified more than `older_than` ago.
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
