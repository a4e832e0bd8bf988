//! Opening a blob store from its location: a folder path, `file:///abs/path`, or
//! `s3://bucket[/prefix]`.

use super::BlobStore;
use super::object::ObjectBlobStore;
use crate::{Error, Result};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::{ClientConfigKey, ObjectStore};
use std::sync::Arc;

/// Opens the blob store at `location`:
///
/// - a folder path or `file:///abs/path`: a local folder, created if missing;
/// - `s3://bucket[/prefix]`: S3, configured from the usual AWS environment variables
///   (`AWS_ENDPOINT_URL` or `AWS_ENDPOINT`, `AWS_REGION` or `AWS_DEFAULT_REGION`,
///   `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_TIMEOUT` (of one
///   request; 10 minutes unless set), …). With an endpoint set, requests are path-style, and
///   plain HTTP is allowed when the endpoint is `http://`.
///
/// Nothing is contacted yet; a wrong S3 setting shows up at the first operation.
pub async fn open(location: &str) -> Result<Arc<dyn BlobStore>> {
    let store = match location.strip_prefix("s3://") {
        Some(rest) => s3(rest)?,
        None => folder(folder_path(location)?).await?,
    };
    Ok(Arc::new(store))
}

fn folder_path(location: &str) -> Result<&str> {
    if let Some(path) = location.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(Error::Config(format!(
                "a file URL needs an absolute path (file:///abs/path): {location}"
            )));
        }
        if path.contains(['%', '?', '#']) {
            return Err(Error::Config(format!(
                "escaped or decorated file URLs are not supported, give the folder as a plain path: {location}"
            )));
        }
        return Ok(path);
    }
    if location.contains("://") {
        return Err(Error::Config(format!(
            "unsupported blob store location {location:?}: use a folder path, file:///abs/path or s3://bucket[/prefix]"
        )));
    }
    if location.is_empty() {
        return Err(Error::Config("the blob store location is empty".into()));
    }
    Ok(location)
}

async fn folder(path: &str) -> Result<ObjectBlobStore> {
    let config = |e: &dyn std::fmt::Display| Error::Config(format!("blob folder {path}: {e}"));
    tokio::fs::create_dir_all(path).await.map_err(|e| config(&e))?;
    let fs = LocalFileSystem::new_with_prefix(path)
        .map_err(|e| config(&e))?
        .with_fsync(true);
    ObjectBlobStore::local(fs)
}

/// How long one S3 request may take unless `AWS_TIMEOUT` says otherwise. object_store's own
/// 30 seconds is too short for completing a multipart upload of a few GiB, which S3-compatible
/// servers put together while the request waits (its retry then finds the upload gone, and the
/// file is refused); a download streamed for longer is resumed by object_store with a range.
const S3_REQUEST_TIMEOUT: &str = "10 minutes";

/// Blob reads streaming from S3 at once. Each holds a connection whose read buffer grows to
/// ~400 KiB; more readers wait for one to finish (scripts/bench-load: 200 clients on S3 peaked
/// at ~300 MiB unbounded).
const S3_MAX_READS: usize = 64;
/// Uploads into S3 at once; each buffers its parts in memory, up to 24 MiB for blobs above
/// 8 MiB, so more uploads wait before reading their body.
const S3_MAX_UPLOADS: usize = 16;

/// `rest` is what follows `s3://`: `bucket[/prefix]`.
fn s3(rest: &str) -> Result<ObjectBlobStore> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(Error::Config(format!(
            "an S3 location needs a bucket (s3://bucket[/prefix]): s3://{rest}"
        )));
    }
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_conditional_put(S3ConditionalPut::ETagMatch);
    if std::env::var_os("AWS_TIMEOUT").is_none() {
        builder = builder.with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), S3_REQUEST_TIMEOUT);
    }
    let endpoint = builder
        .get_config_value(&AmazonS3ConfigKey::S3Endpoint)
        .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::Endpoint));
    if let Some(endpoint) = endpoint {
        builder = builder.with_virtual_hosted_style_request(false);
        if endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
    }
    let s3 = builder
        .build()
        .map_err(|e| Error::Config(format!("S3 blob store s3://{rest}: {e}")))?;
    let prefix = prefix.trim_matches('/');
    let store: Arc<dyn ObjectStore> = match prefix {
        "" => Arc::new(s3),
        prefix => Arc::new(PrefixStore::new(s3, prefix)),
    };
    Ok(ObjectBlobStore::remote(store, S3_MAX_READS, S3_MAX_UPLOADS))
}
