//! A whole version as one zip, streamed as it is written: stored (not compressed) entries with
//! data descriptors, zip64 where sizes need it, no temporary file, memory bounded by a pipe.

use async_zip::tokio::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use axum::body::Body;
use futures::{AsyncWriteExt, StreamExt};
use hangar_store::blob::{BlobStore, Digest};
use hangar_store::meta::VersionFile;
use std::sync::Arc;
use tokio::io::DuplexStream;
use tokio_util::io::ReaderStream;

/// Bytes in flight between the zip writer and the response.
const PIPE: usize = 1 << 20;

/// The zip of `files` as a response body, written while it is sent. A zip whose writing fails
/// does not end like a complete one: the body fails too.
pub fn zip_body(blobs: Arc<dyn BlobStore>, files: Vec<VersionFile>) -> Body {
    let (writer, reader) = tokio::io::duplex(PIPE);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let result = write_zip(blobs, files, writer).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "a zip download stopped");
        }
        let _ = done_tx.send(result);
    });
    let failed = futures::stream::once(async move {
        match done_rx.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(Err(e)),
            Err(_) => Some(Err(std::io::Error::other("the zip writer stopped"))),
        }
    })
    .filter_map(std::future::ready);
    Body::from_stream(ReaderStream::new(reader).chain(failed))
}

async fn write_zip(blobs: Arc<dyn BlobStore>, files: Vec<VersionFile>, writer: DuplexStream) -> std::io::Result<()> {
    let zip_error = |e: async_zip::error::ZipError| std::io::Error::other(e.to_string());
    let mut zip = ZipFileWriter::with_tokio(writer);
    for file in files {
        let digest: Digest = file
            .digest
            .parse()
            .map_err(|_| std::io::Error::other(format!("stored digest {}", file.digest)))?;
        let mut bytes = blobs
            .get(&digest, None)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let entry = ZipEntryBuilder::new(file.path.into(), Compression::Stored);
        let mut entry = zip.write_entry_stream(entry).await.map_err(zip_error)?;
        while let Some(chunk) = bytes.next().await {
            entry.write_all(&chunk?).await?;
        }
        entry.close().await.map_err(zip_error)?;
    }
    zip.close().await.map_err(zip_error)?;
    Ok(())
}
