//! Moving files of model and resource versions (ngc-api.md §5): the dedupe check, multipart
//! uploads driven by the server (signed part URLs, completion without client ETags), the commit
//! of a version's file list (with a base version), and file listings and signed download URLs.

use super::entity::{Download, Entity, Named, See};
use crate::api::extract::{Json, Path, Query};
use crate::api::views::success;
use crate::auth::Caller;
use crate::catalog::access::may_artifact;
use crate::catalog::assembly;
use crate::catalog::entities::{EntityPath, Found, find, find_version};
use crate::catalog::kinds::{Kind, MODEL, RESOURCE};
use crate::catalog::links::{self, PART_LINK_TTL, Principal, Resource, base_url};
use crate::catalog::reuse::reusable;
use crate::catalog::space::SpacePath;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hangar_core::names::{validate_artifact_name, validate_file_path, validate_version};
use hangar_core::policy::ArtifactOp;
use hangar_store::blob::Digest;
use hangar_store::meta::{ArtifactVersion, FileChange, UPLOAD_COMPLETE, UPLOAD_PENDING, VersionFile};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::catalog::limits::PART_SIZE;
/// Files per dedupe request and per commit.
const MAX_FILES_PER_REQUEST: usize = 4000;

/// A file's SHA-256 as NGC sends it (standard base64) as a store digest.
fn sha256_digest(b64: &str) -> ApiResult<Digest> {
    let bytes = STANDARD
        .decode(b64.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| ApiError::BadRequest(format!("'{b64}' is not a base64 SHA-256")))?;
    format!("sha256:{}", hex::encode(bytes))
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("'{b64}' is not a base64 SHA-256")))
}

fn kind_of(artifact_type: &str) -> ApiResult<&'static Kind> {
    match artifact_type {
        "models" | "model" => Ok(&MODEL),
        "resources" | "resource" | "recipes" => Ok(&RESOURCE),
        other => Err(ApiError::BadRequest(format!("unknown artifactType '{other}'"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferTarget {
    name: String,
    version: String,
    artifact_type: String,
}

/// The entity and pending version a transfer request names, if the caller may upload to it.
async fn pending_version(
    state: &AppState,
    caller: &Caller,
    space: &SpacePath,
    target: &TransferTarget,
) -> ApiResult<(&'static Kind, Found, ArtifactVersion)> {
    let kind = kind_of(&target.artifact_type)?;
    validate_artifact_name(&target.name)?;
    validate_version(&target.version)?;
    let path = EntityPath {
        org: space.org.clone(),
        team: space.team.clone(),
        name: target.name.clone(),
        version: Some(target.version.clone()),
    };
    let found = find(state, kind.stored, caller, &path, ArtifactOp::Upload).await?;
    let version = find_version(state, &found, &path).await?;
    if version.status != UPLOAD_PENDING {
        return Err(ApiError::Conflict(format!(
            "{} '{}:{}' is complete; its files cannot change",
            kind.wire.noun, found.artifact.path, version.version
        )));
    }
    Ok((kind, found, version))
}

#[derive(Debug, Deserialize)]
pub struct DedupeRequest {
    files: Vec<DedupeFile>,
}

#[derive(Debug, Deserialize)]
pub struct DedupeFile {
    sha256: String,
}

#[derive(Debug, Deserialize)]
pub struct DedupeQuery {
    /// Hangar's own addition: a pending version whose received files also count as stored, so a
    /// client resuming without state of its own (the browser) need not send them again.
    version: Option<String>,
}

/// `POST {OT}/{kind}/{name}/files[?version=…]`: which of these files need not be sent: bytes
/// stored already in something the caller may download (`catalog::reuse`), or received by the
/// version named. Of bytes the caller may not read the answer is "not stored", whether they are
/// or not.
pub async fn dedupe(
    State(state): State<AppState>,
    named: Named,
    Query(query): Query<DedupeQuery>,
    Json(body): Json<DedupeRequest>,
) -> ApiResult<Json<Value>> {
    let Entity { caller, found, .. } = named.find(&state, ArtifactOp::Upload).await?;
    let resuming = match &query.version {
        Some(version) => {
            validate_version(version)?;
            state.meta.version(found.artifact.id, version).await?
        }
        None => None,
    };
    if body.files.len() > MAX_FILES_PER_REQUEST {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_FILES_PER_REQUEST} files per request"
        )));
    }
    let mut files = vec![];
    for file in body.files {
        let digest = sha256_digest(&file.sha256)?;
        let received = match &resuming {
            Some(version) => state.meta.received_file(version.id, digest.as_str()).await?.is_some(),
            None => false,
        };
        let exists = received || reusable(&state, &caller, &digest).await?.is_some();
        files.push(json!({"sha256": file.sha256, "exists": exists}));
    }
    Ok(Json(success(json!({ "files": files }))))
}

/// Refuses a new file that would take the org past its quota (files the org stores already
/// cost nothing more).
async fn check_quota(state: &AppState, found: &Found, size: i64, digest: &Digest) -> ApiResult<()> {
    let org = &found.space.org;
    if state.meta.org_stores_file(org.id, digest.as_str()).await? {
        return Ok(());
    }
    let quota = state.settings.org_artifact_quota_bytes;
    let used = state.meta.org_artifact_bytes(org.id).await? as u64;
    if used.saturating_add(size as u64) > quota {
        return Err(ApiError::PayloadTooLarge(format!(
            "org '{}' stores {used} bytes of models and resources; {size} more would pass its quota of {quota} bytes",
            org.name
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartUpload {
    #[serde(flatten)]
    target: TransferTarget,
    file_path: String,
    size: i64,
    sha256: String,
    #[serde(rename = "uploadID")]
    upload_id: Option<String>,
    part_number_list: Option<Vec<i64>>,
}

/// `POST {OT}/files/multipart`: the upload of one file (the same one again when the client
/// resumes), with a signed URL per part: all of them, or those of `partNumberList`; and the
/// numbers of the parts received already (`partsReceived`).
pub async fn start_upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(space): Path<SpacePath>,
    Json(body): Json<StartUpload>,
) -> ApiResult<Json<Value>> {
    let (_, found, version) = pending_version(&state, &caller, &space, &body.target).await?;
    validate_file_path(&body.file_path)?;
    if body.size < 0 {
        return Err(ApiError::BadRequest("a file size cannot be negative".into()));
    }
    let digest = sha256_digest(&body.sha256)?;
    check_quota(&state, &found, body.size, &digest).await?;
    let upload = state
        .meta
        .file_upload(version.id, &body.file_path, body.size, digest.as_str(), PART_SIZE)
        .await?;
    if body.upload_id.as_ref().is_some_and(|id| *id != upload.id) {
        tracing::info!(path = %body.file_path, "an upload was resumed under a new id (the old one expired or changed)");
    }
    let parts = body
        .part_number_list
        .unwrap_or_else(|| (1..=upload.part_count()).collect());
    if let Some(bad) = parts.iter().find(|p| **p < 1 || **p > upload.part_count()) {
        return Err(ApiError::BadRequest(format!(
            "part {bad} is outside 1..={}",
            upload.part_count()
        )));
    }
    let base = base_url(&state, &headers);
    let principal = Principal::of(&caller);
    let urls: Vec<String> = parts
        .iter()
        .map(|p| {
            let part = Resource::Part {
                upload: &upload.id,
                part: *p,
            };
            links::link(&state, &base, part, principal, PART_LINK_TTL)
        })
        .collect();
    // Hangar's own addition: the parts already stored, so a client can resume without state of
    // its own (NGC's client ignores it and keeps its own).
    let received: Vec<i64> = upload
        .parts
        .iter()
        .filter(|(n, _, size)| *size == upload.part_len(*n))
        .map(|(n, _, _)| *n)
        .collect();
    Ok(Json(
        json!({"uploadID": upload.id, "urls": urls, "partsReceived": received}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteUpload {
    #[serde(flatten)]
    target: TransferTarget,
    file_path: String,
    #[serde(rename = "uploadID")]
    upload_id: String,
}

/// How long a completion waits for its file to be put together before it answers 200 and
/// keeps the connection alive with a space every [`KEEP_ALIVE`] until the outcome, as S3's
/// CompleteMultipartUpload does: NGC's client gives up after 30 s without a byte (then
/// retries, and after a 400 assumes the file complete), and a file of a few GB takes longer.
/// NGC's client reads only the status, so its commit waits for the file ([`ASSEMBLY_WAIT`]).
const COMPLETE_PATIENCE: Duration = Duration::from_secs(20);
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// How long a commit waits for files whose uploads are still being put together (NGC's client
/// waits 5 minutes for its commit).
const ASSEMBLY_WAIT: Duration = Duration::from_secs(240);

/// How long a completion's assembly may wait for another one (on another replica) of the same
/// file before giving up.
const COMPLETION_LIMIT: Duration = Duration::from_secs(60 * 60);

/// `PUT {OT}/files/multipart`: the parts are all there; the file is put together and checked.
/// That runs on its own task, so a client that stops waiting does not stop it.
pub async fn complete_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(space): Path<SpacePath>,
    Json(body): Json<CompleteUpload>,
) -> ApiResult<Response> {
    let (_, _, version) = pending_version(&state, &caller, &space, &body.target).await?;
    let upload = state
        .meta
        .file_upload_by_id(&body.upload_id)
        .await?
        .filter(|u| u.version_id == version.id && u.path == body.file_path)
        .ok_or_else(|| ApiError::BadRequest(format!("upload '{}' is not open", body.upload_id)))?;
    let mut task = finish_in_background(
        state,
        upload.id,
        version.id,
        upload.path,
        upload.digest,
        COMPLETION_LIMIT,
    );
    match tokio::time::timeout(COMPLETE_PATIENCE, &mut task).await {
        Ok(done) => {
            joined(done)?;
            Ok(Json(success(json!({}))).into_response())
        }
        Err(_) => Ok(kept_alive(task)),
    }
}

/// [`assembly::finish`] on a task of its own, within `limit`.
fn finish_in_background(
    state: AppState,
    upload_id: String,
    version_id: i64,
    path: String,
    digest: String,
    limit: Duration,
) -> JoinHandle<ApiResult<()>> {
    tokio::spawn(async move {
        let deadline = Instant::now() + limit;
        assembly::finish(&state, &upload_id, version_id, &path, &digest, deadline)
            .await
            .map_err(ApiError::from)
    })
}

fn joined(done: Result<ApiResult<()>, tokio::task::JoinError>) -> ApiResult<()> {
    done.map_err(|e| ApiError::Internal(format!("putting a file together: {e}")))?
}

/// 200 at once, a space every [`KEEP_ALIVE`] while `task` runs, then its outcome as the JSON
/// body: NGC's success, or its error (`requestStatus`; the file is then not stored, so a commit
/// of it is refused too).
fn kept_alive(task: JoinHandle<ApiResult<()>>) -> Response {
    let body = futures::stream::unfold(Some(task), |task| async move {
        let mut task = task?;
        tokio::select! {
            done = &mut task => {
                let outcome = match joined(done) {
                    Ok(()) => success(json!({})),
                    Err(e) => {
                        tracing::warn!(error = %e, "a file could not be put together");
                        e.body()
                    }
                };
                Some((Ok::<_, std::io::Error>(Bytes::from(outcome.to_string())), None))
            }
            () = tokio::time::sleep(KEEP_ALIVE) => Some((Ok(Bytes::from_static(b" ")), Some(task))),
        }
    });
    ([(CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commit {
    #[serde(flatten)]
    target: TransferTarget,
    #[serde(default)]
    files: Vec<CommitFile>,
    base_version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitFile {
    commit_type: String,
    file_path: String,
    sha256: Option<String>,
}

/// `POST {OT}/files/commit`: sets files of a pending version to stored blobs (or removes them);
/// with `baseVersion`, first copies that version's file list.
pub async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    Path(space): Path<SpacePath>,
    Json(body): Json<Commit>,
) -> ApiResult<Json<Value>> {
    let (kind, found, version) = pending_version(&state, &caller, &space, &body.target).await?;
    if body.files.len() > MAX_FILES_PER_REQUEST {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_FILES_PER_REQUEST} files per commit"
        )));
    }
    if let Some(base) = &body.base_version {
        validate_version(base)?;
        if !may_artifact(&state, &caller, ArtifactOp::Download, &found.artifact).await? {
            return Err(ApiError::Forbidden(format!(
                "you may not read {} '{}', so no version of it can be a base",
                kind.wire.noun, found.artifact.path
            )));
        }
        let base = state
            .meta
            .version(found.artifact.id, base)
            .await?
            .filter(|b| b.status == UPLOAD_COMPLETE)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "{} has no complete version '{base}' to start from",
                    kind.wire.noun
                ))
            })?;
        state.meta.copy_files(base.id, version.id).await?;
    }
    let mut changes = vec![];
    let deadline = Instant::now() + ASSEMBLY_WAIT;
    for file in body.files {
        validate_file_path(&file.file_path)?;
        match file.commit_type.as_str() {
            "ADDITION" | "MODIFICATION" => {
                let b64 = file
                    .sha256
                    .ok_or_else(|| ApiError::BadRequest(format!("'{}' needs its sha256", file.file_path)))?;
                let digest = sha256_digest(&b64)?;
                let size = committable(&state, &caller, &version, &file.file_path, &digest, deadline)
                    .await?
                    .ok_or_else(|| ApiError::BadRequest(format!("'{}' has not been uploaded", file.file_path)))?;
                changes.push(FileChange::Add(VersionFile {
                    path: file.file_path,
                    digest: digest.to_string(),
                    size: size as i64,
                }));
            }
            "DELETION" | "REMOVAL" => changes.push(FileChange::Remove(file.file_path)),
            other => return Err(ApiError::BadRequest(format!("unknown commitType '{other}'"))),
        }
    }
    state.meta.commit_files(version.id, &changes).await?;
    Ok(Json(success(json!({}))))
}

/// The size of the file `digest` if the caller may commit it into `version`: the version
/// received it through an upload (whose assembly, when it still runs or its server died, is
/// waited for or taken over until `deadline`), or the caller may read stored bytes of it
/// elsewhere (`catalog::reuse`).
async fn committable(
    state: &AppState,
    caller: &Caller,
    version: &ArtifactVersion,
    path: &str,
    digest: &Digest,
    deadline: Instant,
) -> ApiResult<Option<u64>> {
    if let Some(size) = state.meta.received_file(version.id, digest.as_str()).await? {
        return Ok(Some(size as u64));
    }
    let complete_upload = state
        .meta
        .file_upload_at(version.id, path)
        .await?
        .filter(|u| u.digest == digest.as_str() && u.missing_part().is_none());
    if let Some(upload) = complete_upload {
        let limit = deadline.saturating_duration_since(Instant::now());
        let task = finish_in_background(state.clone(), upload.id, version.id, upload.path, upload.digest, limit);
        // An assembly this commit took over goes on after the commit gives up.
        return match tokio::time::timeout(limit, task).await {
            Ok(done) => joined(done).map(|()| Some(upload.size as u64)),
            Err(_) => Err(ApiError::Conflict(format!(
                "'{path}' is still being put together; commit again in a while"
            ))),
        };
    }
    Ok(reusable(state, caller, digest).await?)
}

#[derive(Debug, Deserialize)]
pub struct FilesQuery {
    pub path: Option<String>,
}

/// The version of a found entity, if it is complete.
async fn downloadable(state: &AppState, entity: &Entity<Download>) -> ApiResult<ArtifactVersion> {
    let version = find_version(state, &entity.found, &entity.path).await?;
    if version.status != UPLOAD_COMPLETE {
        return Err(ApiError::BadRequest(format!(
            "{} '{}:{}' is still being uploaded",
            entity.kind.wire.noun, entity.found.artifact.path, version.version
        )));
    }
    Ok(version)
}

/// `GET {OT}/{kind}/{name}/versions/{version}/files`: the files of a version (of a chart: the
/// files inside its archive).
pub async fn list_files(
    State(state): State<AppState>,
    Entity { kind, path, found, .. }: Entity<See>,
) -> ApiResult<Json<Value>> {
    let version = find_version(&state, &found, &path).await?;
    let files: Vec<Value> = if kind.has_file_uploads() {
        let files = state.meta.version_files(version.id).await?;
        files
            .iter()
            .map(|f| json!({"path": f.path, "sizeInBytes": f.size, "sha256": f.digest}))
            .collect()
    } else {
        let files = state.meta.chart_files(version.id).await?;
        files
            .iter()
            .map(|f| json!({"path": f.path, "sizeInBytes": f.size}))
            .collect()
    };
    let total = files.len();
    Ok(Json(success(json!({
        kind.wire.files_key: files,
        "paginationInfo": {"index": 0, "size": total.max(1), "totalPages": 1, "totalResults": total},
    }))))
}

/// `GET {OT}/{kind}/{name}/{version}/files[?path=…]`: signed download URLs, of every file or
/// of one.
pub async fn file_urls(
    State(state): State<AppState>,
    headers: HeaderMap,
    named: Named,
    Query(query): Query<FilesQuery>,
) -> ApiResult<Json<Value>> {
    let entity = named.load::<Download>(&state).await?;
    let version = downloadable(&state, &entity).await?;
    let mut files = state.meta.version_files(version.id).await?;
    if let Some(wanted) = &query.path {
        files.retain(|f| f.path == *wanted);
        if files.is_empty() {
            return Err(ApiError::NotFound(format!("no file '{wanted}' in this version")));
        }
    }
    let base = base_url(&state, &headers);
    let principal = Principal::of(&entity.caller);
    let ttl = state.settings.download_url_ttl;
    let urls: Vec<String> = files
        .iter()
        .map(|f| {
            let file = Resource::File {
                version: version.id,
                path: &f.path,
            };
            links::link(&state, &base, file, principal, ttl)
        })
        .collect();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    Ok(Json(success(json!({"filepath": paths, "urls": urls}))))
}

/// `GET {OT}/{kind}/{name}/versions/{version}/files/{path}`: one file, as NGC answers it: a
/// redirect to a short-lived data-plane URL that serves the bytes (with ranges) under the file's
/// name, which the Catalog guide's `curl -LO` follows and its wget pipeline reads from the
/// `Location` header.
pub async fn download_file(
    State(state): State<AppState>,
    Extension(kind): Extension<&'static Kind>,
    caller: Caller,
    headers: HeaderMap,
    Path(path): Path<FilePath>,
) -> ApiResult<Response> {
    let (path, file) = path.split();
    let entity = Named { kind, caller, path }.load(&state).await?;
    redirect_to_file(&state, &headers, &entity, &file).await
}

/// The redirect to file `path` of the version `entity` names.
pub(super) async fn redirect_to_file(
    state: &AppState,
    headers: &HeaderMap,
    entity: &Entity<Download>,
    path: &str,
) -> ApiResult<Response> {
    let version = downloadable(state, entity).await?;
    validate_file_path(path)?;
    let files = state.meta.version_files(version.id).await?;
    if !files.iter().any(|f| f.path == path) {
        return Err(ApiError::NotFound(format!("no file '{path}' in this version")));
    }
    let file = Resource::File {
        version: version.id,
        path,
    };
    Ok(redirect(state, &entity.caller, headers, file))
}

/// `GET {OT}/{kind}/{name}/versions/{version}/zip`: the whole version as one zip
/// (`<name>_v<version>.zip`), through a redirect to the data plane as for one file.
pub async fn download_zip(
    State(state): State<AppState>,
    headers: HeaderMap,
    entity: Entity<Download>,
) -> ApiResult<Response> {
    let version = downloadable(&state, &entity).await?;
    Ok(redirect(
        &state,
        &entity.caller,
        &headers,
        Resource::Zip { version: version.id },
    ))
}

/// 302 to the data-plane URL of `resource`, made for the caller.
fn redirect(state: &AppState, caller: &Caller, headers: &HeaderMap, resource: Resource) -> Response {
    let base = base_url(state, headers);
    let url = links::link(
        state,
        &base,
        resource,
        Principal::of(caller),
        state.settings.download_url_ttl,
    );
    (StatusCode::FOUND, [(LOCATION, url)]).into_response()
}

/// `{org}[/team/{team}]/{kind}/{name}/versions/{version}/files/{path}` of a request path.
#[derive(Debug, Deserialize)]
pub struct FilePath {
    org: String,
    team: Option<String>,
    name: String,
    version: String,
    path: String,
}

impl FilePath {
    /// The version this names, and the file's path in it.
    fn split(self) -> (EntityPath, String) {
        let entity = EntityPath {
            org: self.org,
            team: self.team,
            name: self.name,
            version: Some(self.version),
        };
        (entity, self.path)
    }
}
