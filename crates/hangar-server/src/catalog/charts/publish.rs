//! Pushing a chart archive: the body is streamed into a temporary file while it is hashed and
//! counted, read and checked there, then put into the blob store by digest and recorded as a
//! complete version. A refused archive leaves nothing behind.

use super::{archive, index};
use crate::auth::Caller;
use crate::catalog::access::may_artifact;
use crate::catalog::error::{DomainError, DomainResult};
use crate::catalog::space::Space;
use crate::state::AppState;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use hangar_core::names::validate_text;
use hangar_core::policy::{ArtifactKind, ArtifactOp};
use hangar_store::blob::{Algorithm, Digest, Hasher};
use hangar_store::meta::{Artifact, ArtifactType, ArtifactVersion, ChartFile, NewArtifact, NewChartVersion};
use serde_json::{Value, json};
use std::io::{Seek, Write};

pub struct Pushed {
    pub artifact: Artifact,
    pub version: ArtifactVersion,
}

/// An archive received whole into an unnamed temporary file (gone when dropped).
pub struct Received {
    file: std::fs::File,
    digest: Digest,
    size: u64,
}

/// Whether the caller may push charts into `space` at all; checked before the body is read.
pub fn may_push(caller: &Caller, space: &Space) -> DomainResult<()> {
    let allowed = [ArtifactOp::Upload, ArtifactOp::Create]
        .into_iter()
        .any(|op| space.allows(caller, ArtifactKind::Chart, op, None));
    match allowed {
        true => Ok(()),
        false if caller.is_guest() => Err(DomainError::Unauthenticated),
        false => Err(DomainError::Forbidden(format!(
            "you may not push charts to '{}'",
            space.namespace()
        ))),
    }
}

/// What the pusher says the archive is (`?name=…&version=…`); a different Chart.yaml is refused.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Expected {
    pub name: Option<String>,
    pub version: Option<String>,
}

impl Expected {
    fn check(&self, contents: &archive::ChartContents) -> DomainResult<()> {
        for (what, expected, found) in [
            ("name", &self.name, &contents.name),
            ("version", &self.version, &contents.version),
        ] {
            if let Some(expected) = expected
                && expected != found
            {
                return Err(DomainError::Invalid(format!(
                    "the chart's {what} in Chart.yaml is '{found}', not '{expected}'"
                )));
            }
        }
        Ok(())
    }
}

/// Receives, checks, stores and records one chart archive pushed into `space` by a caller who
/// passed [`may_push`]. The chart's record is made from Chart.yaml when it does not exist yet
/// and the caller may create charts.
pub async fn push<S, E>(
    state: &AppState,
    caller: &Caller,
    space: &Space,
    expected: &Expected,
    body: S,
) -> DomainResult<Pushed>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let received = receive(body, state.settings.max_chart_bytes).await?;
    let reader = received.file.try_clone().map_err(internal)?;
    let contents = read_archive(std::io::BufReader::new(reader)).await?;
    expected.check(&contents)?;
    record(
        state,
        caller,
        space,
        &contents,
        &received.digest,
        received.size,
        Some(&received),
    )
    .await
}

/// Reads and checks an archive, off the async threads.
pub async fn read_archive(reader: impl std::io::Read + Send + 'static) -> DomainResult<archive::ChartContents> {
    tokio::task::spawn_blocking(move || archive::read(reader))
        .await
        .map_err(internal)?
        .map_err(|e| DomainError::Invalid(e.to_string()))
}

/// Records a checked archive as a new complete version; `received` is put into the blob store
/// first unless the archive is there already.
pub async fn record(
    state: &AppState,
    caller: &Caller,
    space: &Space,
    contents: &archive::ChartContents,
    digest: &Digest,
    size: u64,
    received: Option<&Received>,
) -> DomainResult<Pushed> {
    let artifact = chart_for(state, caller, space, contents).await?;
    let taken = || {
        DomainError::Conflict(format!(
            "{}-{} already exists in the repository",
            contents.name, contents.version
        ))
    };
    if state.meta.version(artifact.id, &contents.version).await?.is_some() {
        return Err(taken());
    }
    if let Some(received) = received {
        store(state, received).await?;
    }
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let entry = index::entry(contents, digest.hex(), &created);
    let entry_yaml = index::entry_yaml(&entry).map_err(internal)?;
    let files: Vec<ChartFile> = contents
        .files
        .iter()
        .map(|(path, size)| ChartFile {
            path: path.clone(),
            size: *size as i64,
        })
        .collect();
    let version = state
        .meta
        .create_chart_version(
            &artifact,
            &NewChartVersion {
                version: &contents.version,
                created_by: caller.user.as_ref().map(|u| u.id),
                digest: digest.as_str(),
                size: size as i64,
                entry: &entry,
                entry_yaml: &entry_yaml,
                files: &files,
            },
        )
        .await
        .map_err(|e| match e {
            hangar_store::Error::Conflict(_) => taken(),
            other => other.into(),
        })?;
    Ok(Pushed { artifact, version })
}

/// The chart the archive is a version of, made now if needed.
async fn chart_for(
    state: &AppState,
    caller: &Caller,
    space: &Space,
    contents: &archive::ChartContents,
) -> DomainResult<Artifact> {
    let full = space.full_name(&contents.name);
    if let Some(existing) = state.meta.artifact(ArtifactType::Chart, &full).await? {
        if may_artifact(state, caller, ArtifactOp::Upload, &existing).await? {
            return Ok(existing);
        }
        return Err(DomainError::Forbidden(format!(
            "you may not push versions of chart '{full}'"
        )));
    }
    if !space.allows(caller, ArtifactKind::Chart, ArtifactOp::Create, Some(&full)) {
        return Err(DomainError::Forbidden(format!(
            "chart '{full}' does not exist and you may not create charts in '{}'",
            space.namespace()
        )));
    }
    let mut metadata = serde_json::Map::new();
    if let Some(description) = contents.chart.get("description").and_then(Value::as_str)
        && validate_text("description", description, crate::catalog::limits::SHORT_DESCRIPTION).is_ok()
    {
        metadata.insert("shortDescription".into(), json!(description));
    }
    let created = state
        .meta
        .create_artifact(&NewArtifact {
            kind: ArtifactType::Chart,
            org_id: space.org.id,
            team_id: space.team.as_ref().map(|t| t.id),
            path: &full,
            name: &contents.name,
            created_by: caller.user.as_ref().map(|u| u.id),
            metadata: &Value::Object(metadata),
        })
        .await;
    match created {
        Ok(artifact) => Ok(artifact),
        // Made meanwhile by another push.
        Err(hangar_store::Error::Conflict(_)) => state
            .meta
            .artifact(ArtifactType::Chart, &full)
            .await?
            .ok_or_else(|| DomainError::Conflict(format!("chart '{full}' changed meanwhile; push again"))),
        Err(other) => Err(other.into()),
    }
}

async fn receive<S, E>(mut body: S, max: u64) -> DomainResult<Received>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let file = tempfile::tempfile().map_err(internal)?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| DomainError::Invalid(format!("the upload broke off: {e}")))?;
        size += chunk.len() as u64;
        if size > max {
            return Err(DomainError::TooLarge(format!(
                "a chart archive may be at most {max} bytes"
            )));
        }
        hasher.update(&chunk);
        // At most 20 MiB by default, through a 1 MiB buffer: small blocking writes.
        writer.write_all(&chunk).map_err(internal)?;
    }
    if size == 0 {
        return Err(DomainError::Invalid(
            "the request has no chart archive in its body".into(),
        ));
    }
    let mut file = writer.into_inner().map_err(|e| internal(e.error()))?;
    file.rewind().map_err(internal)?;
    Ok(Received {
        file,
        digest: hasher.finish(),
        size,
    })
}

/// Puts the received archive into the blob store under its digest.
async fn store(state: &AppState, received: &Received) -> DomainResult<()> {
    let mut copy = received.file.try_clone().map_err(internal)?;
    copy.rewind().map_err(internal)?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(copy))
        .map_err(std::io::Error::other)
        .boxed();
    state.blobs.put(&received.digest, Some(received.size), stream).await?;
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(e.to_string())
}
