//! Request bodies read as byte streams with a size limit, remembering why one stopped short.
//! The blob store reports a body that broke off (the client went away or sent less than it
//! announced: the client's fault) and its own I/O failures (a full disk, S3 down) alike as I/O
//! errors, so the cause is recorded here, where the body is read.

use axum::body::{Body, Bytes};
use futures::{StreamExt, TryStreamExt};
use hangar_store::blob::ByteStream;
use std::sync::{Arc, OnceLock};

/// Why a request body failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// More bytes came than the limit allows.
    #[error("the body is larger than the server allows")]
    TooLarge,
    /// The body could not be read to its end (truncated, connection lost, timed out).
    #[error("the request body broke off before its end: {0}")]
    Broken(String),
}

/// Where a body stream records its fault, for whoever maps the error that came out of the
/// store or parser it fed.
#[derive(Debug, Clone, Default)]
pub struct Watch(Arc<OnceLock<Fault>>);

impl Watch {
    pub fn fault(&self) -> Option<&Fault> {
        self.0.get()
    }

    /// Records `fault` (the first one stays) and returns it as the stream's error.
    fn note(&self, fault: Fault) -> std::io::Error {
        if let Fault::Broken(why) = &fault {
            tracing::info!(error = %why, "a request body broke off before its end");
        }
        let error = std::io::Error::other(fault.to_string());
        let _ = self.0.set(fault);
        error
    }
}

/// The request body as a byte stream that fails once more than `limit` bytes came, or when the
/// body breaks off; `watch` tells which.
pub fn limited(body: Body, limit: u64, watch: &Watch) -> ByteStream {
    let watch = watch.clone();
    let mut seen = 0u64;
    body.into_data_stream()
        .map(move |chunk| {
            let chunk = chunk.map_err(|e| watch.note(Fault::Broken(e.to_string())))?;
            seen += chunk.len() as u64;
            if seen > limit {
                return Err(watch.note(Fault::TooLarge));
            }
            Ok(chunk)
        })
        .boxed()
}

/// The whole body, when it has at most `limit` bytes and arrives whole.
pub async fn read_whole(body: Body, limit: usize) -> Result<Bytes, Fault> {
    let watch = Watch::default();
    let collected = limited(body, limit as u64, &watch)
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await;
    match collected {
        Ok(all) => Ok(Bytes::from(all)),
        Err(e) => Err(watch.fault().cloned().unwrap_or(Fault::Broken(e.to_string()))),
    }
}
