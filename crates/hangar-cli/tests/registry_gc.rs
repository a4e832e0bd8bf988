//! Online garbage collection of the registry's blobs on both backends. A real `hangar serve`
//! takes the pushes; GC passes run in-process (`gc_once`) on the same database and blob store,
//! with the grace period made to pass by moving the recorded times back.

mod common;

use common::app::TestApp;
use common::registry::{CONFIG, OCI_MANIFEST, Registry, image_manifest, sha};
use common::{Backend, Server, Stores};
use futures::StreamExt;
use hangar_server::gc::{GcOptions, GcReport, LEASE, gc_once};
use hangar_server::state::AppState;
use hangar_store::blob::{ByteStream, Digest};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MANIFEST: &str = OCI_MANIFEST;
/// Two hours: more than the grace period of one hour the passes use.
const LONG_AGO: i64 = 2 * 60 * 60;

async fn push_image(reg: &Registry, name: &str, tag: &str, layers: &[&[u8]]) -> String {
    reg.push_layers(name, tag, layers).await.1
}

async fn blob_status(reg: &Registry, name: &str, digest: &str) -> u16 {
    reg.send(Method::GET, &format!("/v2/{name}/blobs/{digest}"), &[], vec![])
        .await
        .status()
        .as_u16()
}

/// Starts a chunked upload with one chunk; returns its location.
async fn start_upload(reg: &Registry, name: &str, chunk: &[u8]) -> String {
    let r = reg
        .send(Method::POST, &format!("/v2/{name}/blobs/uploads/"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let range = format!("0-{}", chunk.len() - 1);
    let r = reg
        .send(Method::PATCH, &location, &[("content-range", &range)], chunk.to_vec())
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    location
}

/// The server's state over the test server's stores, as another replica would open them.
async fn open_state(stores: &Stores) -> AppState {
    TestApp::new(stores).await.state
}

/// A grace period of an hour, uploads expiring after a day.
fn options() -> GcOptions {
    GcOptions {
        grace: Duration::from_secs(60 * 60),
        upload_expiry: Duration::from_secs(24 * 60 * 60),
        keep_lease: Duration::ZERO,
    }
}

async fn gc(state: &AppState, options: &GcOptions) -> GcReport {
    let report = gc_once(state, options).await.expect("a GC pass");
    assert!(!report.skipped, "no other pass runs");
    report
}

/// Moves a time column back by `seconds` (on the rows `filter` selects).
async fn age(state: &AppState, table: &str, column: &str, filter: &str, seconds: i64) {
    let sql = format!("UPDATE {table} SET {column} = {column} - {seconds} {filter}");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(state.meta.pool())
        .await
        .expect("move times back");
}

/// Lets the grace period pass for the blobs found unreferenced so far.
async fn age_candidates(state: &AppState) {
    age(state, "gc_candidates", "first_seen", "", LONG_AGO).await;
}

async fn candidates(state: &AppState) -> Vec<String> {
    let mut found: Vec<String> = state
        .meta
        .gc_candidates()
        .await
        .unwrap()
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    found.sort();
    found
}

async fn stored(state: &AppState, digest: &str) -> bool {
    let d: Digest = digest.parse().unwrap();
    state.blobs.stat(&d).await.unwrap().is_some()
}

/// Stores a blob without linking it anywhere: an abandoned push.
async fn orphan(state: &AppState, data: &[u8]) -> String {
    let d = Digest::sha256(data);
    let body: ByteStream = futures::stream::iter([Ok(data.to_vec().into())]).boxed();
    state.blobs.put(&d, None, body).await.expect("store a blob");
    d.to_string()
}

/// An unreferenced blob goes at the second pass after the grace period; blobs of images and
/// blobs linked by a push in progress stay.
async fn collects_after_grace(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let image = push_image(&reg, "acme/app", "v1", &[b"layer one", b"layer two"]).await;
    let linked = reg.push_blob("acme/app", b"pushed, manifest still to come").await;
    let lost = orphan(&state, b"uploaded, never linked").await;

    let first = gc(&state, &options()).await;
    assert_eq!((first.blobs_seen, first.blobs_deleted), (5, 0), "{first:?}");
    assert_eq!(candidates(&state).await, vec![lost.clone()]);
    // Seen once, but not the grace period ago: kept.
    assert_eq!(gc(&state, &options()).await.blobs_deleted, 0);
    assert!(stored(&state, &lost).await);

    age_candidates(&state).await;
    let third = gc(&state, &options()).await;
    assert_eq!((third.blobs_deleted, third.bytes_freed), (1, 22), "{third:?}");
    assert!(!stored(&state, &lost).await);
    assert!(candidates(&state).await.is_empty());
    for d in [sha(CONFIG), sha(b"layer one"), sha(b"layer two"), linked.clone()] {
        assert!(stored(&state, &d).await, "{d} is referenced");
        assert_eq!(blob_status(&reg, "acme/app", &d).await, 200);
    }
    let r = reg.send(Method::GET, "/v2/acme/app/manifests/v1", &[], vec![]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["docker-content-digest"], image.as_str());
}
both_backends!(unreferenced_blobs, collects_after_grace);

/// The layers of a deleted manifest, and blobs linked long ago that no manifest uses, go after
/// the grace period (with their links); layers that another image uses stay.
async fn collects_deleted_images(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let old = push_image(&reg, "acme/app", "v1", &[b"old layer", b"shared layer"]).await;
    push_image(&reg, "acme/app", "v2", &[b"new layer", b"shared layer"]).await;
    let r = reg
        .send(Method::DELETE, &format!("/v2/acme/app/manifests/{old}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202);
    // Linked recently: maybe a push in progress.
    gc(&state, &options()).await;
    assert!(candidates(&state).await.is_empty());

    age(&state, "repository_blobs", "created_at", "", LONG_AGO).await;
    gc(&state, &options()).await;
    assert_eq!(candidates(&state).await, vec![sha(b"old layer")]);
    age_candidates(&state).await;
    let report = gc(&state, &options()).await;
    assert_eq!(report.blobs_deleted, 1, "{report:?}");
    assert!(!stored(&state, &sha(b"old layer")).await);
    assert_eq!(
        blob_status(&reg, "acme/app", &sha(b"old layer")).await,
        404,
        "unlinked too"
    );
    for d in [sha(CONFIG), sha(b"new layer"), sha(b"shared layer")] {
        assert!(stored(&state, &d).await);
        assert_eq!(blob_status(&reg, "acme/app", &d).await, 200);
    }
    let r = reg.send(Method::GET, "/v2/acme/app/manifests/v2", &[], vec![]).await;
    assert_eq!(r.status(), 200);
    // The deleted layer can be pushed again.
    push_image(&reg, "acme/app", "v1", &[b"old layer", b"shared layer"]).await;
    assert_eq!(blob_status(&reg, "acme/app", &sha(b"old layer")).await, 200);
}
both_backends!(deleted_images, collects_deleted_images);

/// A candidate referenced again before it is due stays, and stops being a candidate; one
/// pushed again while a pass is about to delete it stays too, with its links.
async fn keeps_blobs_referenced_again(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let again = orphan(&state, b"abandoned, then pushed").await;
    gc(&state, &options()).await;
    assert_eq!(candidates(&state).await, vec![again.clone()]);
    push_image(&reg, "acme/app", "v1", &[b"abandoned, then pushed"]).await;
    age_candidates(&state).await;
    age(&state, "repository_blobs", "created_at", "", LONG_AGO).await;
    let report = gc(&state, &options()).await;
    assert_eq!(report.blobs_deleted, 0, "{report:?}");
    assert!(stored(&state, &again).await);
    assert!(candidates(&state).await.is_empty(), "referenced: no longer a candidate");

    // A push that claims a due candidate before a pass marks it keeps it.
    let claimed = reg.push_blob("acme/app", b"pushed again before the mark").await;
    age(&state, "repository_blobs", "created_at", "", LONG_AGO).await;
    gc(&state, &options()).await;
    assert_eq!(candidates(&state).await, vec![claimed.clone()]);
    age_candidates(&state).await;
    reg.push_blob("acme/app", b"pushed again before the mark").await;
    assert!(!state.meta.gc_mark_deleting(&claimed, cutoff()).await.unwrap());
    assert_eq!(gc(&state, &options()).await.blobs_deleted, 0);
    assert!(stored(&state, &claimed).await);
    assert_eq!(blob_status(&reg, "acme/app", &claimed).await, 200);
}
both_backends!(referenced_again, keeps_blobs_referenced_again);

/// Once a pass has marked a blob for deletion, pushes that would use it fail cleanly until the
/// deletion is done: the upload asks to be repeated, and a manifest naming it is taken as a
/// sparse manifest whose layer is absent (it holds nothing). Then the blob can be pushed again,
/// and the manifest holds it from then on. Nothing acknowledged holds deleted bytes.
async fn marked_blobs_refuse_pushes(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let layer: &[u8] = b"marked by a pass";
    let doomed = reg.push_blob("acme/app", layer).await;
    age(&state, "repository_blobs", "created_at", "", LONG_AGO).await;
    gc(&state, &options()).await;
    age_candidates(&state).await;
    // A pass marks the blob, then stops before deleting it (as if it crashed).
    assert!(state.meta.gc_mark_deleting(&doomed, cutoff()).await.unwrap());
    assert_eq!(
        blob_status(&reg, "acme/app", &doomed).await,
        404,
        "the stale link went too"
    );

    let config = reg.push_blob("acme/app", CONFIG).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": CONFIG.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": doomed, "size": layer.len()}],
    }))
    .unwrap();
    let put = |bytes: Vec<u8>| {
        reg.send(
            Method::PUT,
            "/v2/acme/app/manifests/v1",
            &[("content-type", MANIFEST)],
            bytes,
        )
    };
    let r = put(manifest.clone()).await;
    assert_eq!(r.status(), 201, "a sparse manifest: {}", r.text().await.unwrap());
    assert_eq!(blob_status(&reg, "acme/app", &doomed).await, 404, "its layer is absent");
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/acme/app/blobs/uploads/?digest={doomed}"),
            &[],
            layer.to_vec(),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "BLOB_UPLOAD_INVALID", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("garbage collection"),
        "{body}"
    );
    assert_eq!(
        blob_status(&reg, "acme/app", &doomed).await,
        404,
        "the refused upload left no link"
    );

    // The next pass finishes the deletion; then the blob is pushed again, manifest and all.
    let report = gc(&state, &options()).await;
    assert_eq!(report.blobs_deleted, 1, "{report:?}");
    assert!(!stored(&state, &doomed).await);
    assert!(state.meta.gc_unfinished().await.unwrap().is_empty());
    reg.push_blob("acme/app", layer).await;
    assert!(stored(&state, &doomed).await);
    assert_eq!(put(manifest).await.status(), 201);
    assert_eq!(blob_status(&reg, "acme/app", &doomed).await, 200);
    // Pushed after the manifest, the layer is the manifest's: old links do not let GC take it.
    age(&state, "repository_blobs", "created_at", "", LONG_AGO).await;
    gc(&state, &options()).await;
    age_candidates(&state).await;
    assert_eq!(gc(&state, &options()).await.blobs_deleted, 0);
    assert!(stored(&state, &doomed).await);
    assert_eq!(blob_status(&reg, "acme/app", &doomed).await, 200);
}
both_backends!(marked_blobs, marked_blobs_refuse_pushes);

/// Sleeps until Unix second `second` begins.
async fn sleep_until_second(second: i64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let target = Duration::from_secs(u64::try_from(second).unwrap());
    if let Some(wait) = target.checked_sub(now) {
        tokio::time::sleep(wait).await;
    }
}

/// When the link of `digest` into a repository was made (whole seconds, as stored).
async fn linked_at(state: &AppState, digest: &str) -> i64 {
    sqlx::query_scalar("SELECT created_at FROM repository_blobs WHERE digest = $1")
        .bind(digest)
        .fetch_one(state.meta.pool())
        .await
        .expect("the link")
}

/// A push's link keeps its blob for the whole grace period, although times are stored in whole
/// seconds and a pass reads the references and notes candidates in separate statements. Here,
/// with a grace period of 2 s: a pass reads the references at the start of second S, a push
/// links a layer in that second, and the pass notes the layer as unreferenced since S (as it
/// does when its read came just before the link). The next pass runs in second S + 2, when the
/// link is 1 to 2 s old: it must keep the layer, and the manifest that follows is accepted.
async fn keeps_fresh_links_at_second_boundaries(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let grace = GcOptions {
        grace: Duration::from_secs(2),
        ..options()
    };
    let config = reg.push_blob("acme/app", CONFIG).await;
    // Each try needs the push within second S and the whole pass within second S + 2; a busy
    // machine can miss either, then the next try (with another layer) runs.
    for attempt in 0..5 {
        let layer = format!("linked while a pass ran, try {attempt}").into_bytes();
        sleep_until_second(hangar_store::meta::now() + 1).await;
        let seen = hangar_store::meta::now();
        let pushed = reg.push_blob("acme/app", &layer).await;
        if linked_at(&state, &pushed).await != seen {
            continue;
        }
        let earlier = state.meta.gc_note(&[], &[pushed.as_str()], seen).await.unwrap();
        assert!(earlier.is_empty(), "a new candidate: {earlier:?}");

        sleep_until_second(seen + 2).await;
        let report = gc(&state, &grace).await;
        if hangar_store::meta::now() != seen + 2 {
            continue;
        }
        let manifest = image_manifest(&config, &[(&pushed, layer.len())], None);
        let r = reg.push_manifest("acme/app", "v1", MANIFEST, &manifest).await;
        let status = r.status();
        assert_eq!(status, 201, "after {report:?}: {}", r.text().await.unwrap());
        assert_eq!(report.blobs_deleted, 0, "{report:?}");
        assert!(stored(&state, &pushed).await);
        assert!(
            !candidates(&state).await.contains(&pushed),
            "the fresh link is a reference"
        );
        return;
    }
    panic!("no try ran its steps within the seconds it needs (the machine is too busy)");
}
both_backends!(fresh_links, keeps_fresh_links_at_second_boundaries);

/// A push that finds the blob it stored gone (a pass deleted it between the store and the link)
/// fails without touching the link that another push made meanwhile with the same bytes, whose
/// manifest is then accepted. Here a mount is that push: the bytes are deleted just before it
/// and stored again just after it, as a pass and the other push would.
async fn keeps_links_of_other_pushes(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let layer: &[u8] = b"pushed twice at once";
    let pushed = reg.push_blob("acme/other", layer).await;
    let config = reg.push_blob("acme/app", CONFIG).await;
    reg.push_blob("acme/app", layer).await;

    state.blobs.delete(&pushed.parse().unwrap()).await.unwrap();
    let r = reg
        .http
        .post(format!(
            "{}/v2/acme/app/blobs/uploads/?mount={pushed}&from=acme/other",
            reg.base
        ))
        .basic_auth("$oauthtoken", reg.key.as_ref())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "the blob is gone: an upload instead of the mount");
    orphan(&state, layer).await;

    let manifest = image_manifest(&config, &[(&pushed, layer.len())], None);
    let r = reg.push_manifest("acme/app", "v1", MANIFEST, &manifest).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(blob_status(&reg, "acme/app", &pushed).await, 200);
}
both_backends!(links_of_other_pushes, keeps_links_of_other_pushes);

/// The cutoff of a pass with the grace period of [`options`], now.
fn cutoff() -> i64 {
    hangar_server::gc::cutoff(hangar_store::meta::now(), options().grace)
}

/// Idle upload sessions expire and their chunks go after the grace period; live sessions and
/// their chunks stay; old temporary data is swept.
async fn expires_uploads(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let idle = start_upload(&reg, "acme/app", b"chunk of an idle upload").await;
    let live = start_upload(&reg, "acme/app", b"chunk of a live upload").await;
    let idle_id = idle.rsplit('/').next().unwrap();
    age(
        &state,
        "uploads",
        "updated_at",
        &format!("WHERE id = '{idle_id}'"),
        2 * 24 * 60 * 60,
    )
    .await;
    let leftover = std::path::Path::new(&stores.blobs).join("tmp").join("crash-leftover");
    if stores.backend == Backend::SqliteFolder {
        std::fs::create_dir_all(leftover.parent().unwrap()).unwrap();
        std::fs::write(&leftover, b"half an upload").unwrap();
        let file = std::fs::File::options().write(true).open(&leftover).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(2 * 24 * 60 * 60))
            .unwrap();
    }

    let report = gc(&state, &options()).await;
    assert_eq!(report.uploads_expired, 1, "{report:?}");
    if stores.backend == Backend::SqliteFolder {
        assert_eq!(report.temp_swept, 1, "{report:?}");
        assert!(!leftover.exists());
    }
    assert_eq!(reg.send(Method::GET, &idle, &[], vec![]).await.status(), 404);
    assert_eq!(reg.send(Method::GET, &live, &[], vec![]).await.status(), 204);
    assert_eq!(candidates(&state).await, vec![sha(b"chunk of an idle upload")]);

    age_candidates(&state).await;
    let report = gc(&state, &options()).await;
    assert_eq!((report.blobs_deleted, report.uploads_expired), (1, 0), "{report:?}");
    assert!(!stored(&state, &sha(b"chunk of an idle upload")).await);
    assert!(stored(&state, &sha(b"chunk of a live upload")).await);
    let whole = sha(b"chunk of a live upload");
    let r = reg
        .send(Method::PUT, &format!("{live}?digest={whole}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 201, "the live upload still finishes");
    assert_eq!(blob_status(&reg, "acme/app", &whole).await, 200);
}
both_backends!(upload_sessions, expires_uploads);

/// One pass at a time across replicas: a held lease makes other passes skip, an expired one is
/// taken over, and of two concurrent passes only one works.
async fn one_pass_at_a_time(stores: &Stores) {
    let _server = Server::start(stores);
    let state = open_state(stores).await;
    let meta = &state.meta;
    assert!(meta.acquire_lease(LEASE, "other-replica", 600).await.unwrap());
    assert!(!meta.acquire_lease(LEASE, "third-replica", 600).await.unwrap());
    let report = gc_once(&state, &options()).await.unwrap();
    assert!(report.skipped, "{report:?}");
    assert_eq!(meta.lease(LEASE).await.unwrap().unwrap().0, "other-replica");
    // The holder renews; when it releases, the next pass runs and frees the lease after it.
    assert!(meta.acquire_lease(LEASE, "other-replica", 600).await.unwrap());
    meta.release_lease(LEASE, "other-replica", 0).await.unwrap();
    gc(&state, &options()).await;
    // A lease of a replica that died expires.
    assert!(meta.acquire_lease(LEASE, "crashed-replica", 0).await.unwrap());
    gc(&state, &options()).await;

    let mut lost = vec![];
    for i in 0..5 {
        lost.push(orphan(&state, format!("abandoned blob {i}").as_bytes()).await);
    }
    gc(&state, &options()).await;
    age_candidates(&state).await;
    // A finished pass keeps the lease for a while, so the two passes cannot run one after the
    // other either.
    let keep = GcOptions {
        keep_lease: Duration::from_secs(60),
        ..options()
    };
    let (a, b) = tokio::join!(gc_once(&state, &keep), gc_once(&state, &keep));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.skipped != b.skipped, "exactly one pass runs: {a:?} {b:?}");
    assert_eq!(a.blobs_deleted + b.blobs_deleted, 5);
    for d in &lost {
        assert!(!stored(&state, d).await);
    }
}
both_backends!(lease, one_pass_at_a_time);

/// A push that finds its blobs in the repository by HEAD skips their uploads: the blobs stay
/// for the grace period even when their links are stale and a pass has them as due candidates.
async fn keeps_blobs_found_by_head(stores: &Stores) {
    let server = Server::start(stores);
    let reg = Registry::new(&server, Some(server.key()));
    let state = open_state(stores).await;
    let layer: &[u8] = b"found by HEAD";
    let (manifest, old) = reg.push_layers("acme/app", "v1", &[layer]).await;
    let r = reg
        .send(Method::DELETE, &format!("/v2/acme/app/manifests/{old}"), &[], vec![])
        .await;
    assert_eq!(r.status(), 202);
    age(&state, "repository_blobs", "created_at", "", LONG_AGO).await;
    gc(&state, &options()).await;
    assert_eq!(candidates(&state).await.len(), 2, "the config and the layer");
    age_candidates(&state).await;

    for d in [sha(CONFIG), sha(layer)] {
        let r = reg
            .send(Method::HEAD, &format!("/v2/acme/app/blobs/{d}"), &[], vec![])
            .await;
        assert_eq!(r.status(), 200, "{d}: the push skips its upload");
    }
    let report = gc(&state, &options()).await;
    assert_eq!(report.blobs_deleted, 0, "{report:?}");
    let r = reg.push_manifest("acme/app", "v1", MANIFEST, &manifest).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(blob_status(&reg, "acme/app", &sha(layer)).await, 200);
}
both_backends!(found_by_head, keeps_blobs_found_by_head);
