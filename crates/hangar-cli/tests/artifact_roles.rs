//! Who may move the files of models and resources, on both backends: every transfer verb of
//! ngc-api.md §5 (dedupe, multipart start, signed part PUT, completion, commit, file list,
//! signed download URLs, one file, the zip) against members by role and team, personal keys
//! limited to the catalog, service keys by scope and entity filter, and callers with no or a
//! wrong key. Each answer's status is checked exactly, and a refused request must leave the
//! stores as they were (no upload, part, file or blob more).

mod common;

use common::files::{Snapshot, StoreView, Target, b64_sha256};
use common::{Api, Auth, Server, Stores, admin_ok, member};
use hangar_server::catalog::links::{Principal, Resource, signed_path};
use hangar_server::catalog::signing::UrlSigner;
use reqwest::Method;
use serde_json::{Value, json};

const SPACE: &str = "/v2/org/acme/team/vision";
const MODEL: Target = Target {
    space: SPACE,
    kind: "models",
    name: "m",
    version: "2",
};
const RESOURCE: Target = Target {
    space: SPACE,
    kind: "resources",
    name: "r",
    version: "2",
};
/// The complete version the reads go to; `MODEL` and `RESOURCE` name the pending one.
const DONE: &str = "1";

/// What a caller may do with one entity, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Access {
    /// No credentials (or a wrong key): 401 for everything.
    Guest,
    /// Not even visible: 404.
    Hidden,
    /// Listed only: the rest is 403.
    Listed,
    /// Its details and file list.
    Get,
    Download,
    /// Everything a transfer does.
    Upload,
}

/// The transfer verbs; each needs one `Access`.
#[derive(Debug, Clone, Copy)]
enum Verb {
    Dedupe,
    Start,
    /// A part PUT at a URL whose signature was altered, sent with the caller's credentials.
    PartBadSignature,
    Complete,
    Commit,
    ListFiles,
    Urls,
    File,
    Zip,
}

impl Verb {
    const ALL: [Verb; 9] = [
        Verb::Dedupe,
        Verb::Start,
        Verb::PartBadSignature,
        Verb::Complete,
        Verb::Commit,
        Verb::ListFiles,
        Verb::Urls,
        Verb::File,
        Verb::Zip,
    ];

    fn needs(self) -> Access {
        match self {
            Verb::ListFiles => Access::Get,
            Verb::Urls | Verb::File | Verb::Zip => Access::Download,
            _ => Access::Upload,
        }
    }

    fn expected(self, access: Access) -> u16 {
        match (self, access) {
            // Only the signature counts at a data URL: no credential makes up for a bad one.
            (Verb::PartBadSignature, _) => 403,
            (_, Access::Guest) => 401,
            (_, Access::Hidden) => 404,
            (verb, access) if access >= verb.needs() => 200,
            _ => 403,
        }
    }
}

struct Caller {
    who: &'static str,
    auth: Auth,
    model: Access,
    resource: Access,
}

fn service_key(stores: &Stores, name: &str, scopes: &[&str], entity: &[&str]) -> Auth {
    let mut args = vec!["key", "service", "--org", "acme", "--name", name];
    for scope in scopes {
        args.extend(["--scope", scope]);
    }
    args.extend(entity);
    Auth::Bearer(admin_ok(stores, &args))
}

fn key(stores: &Stores, email: &str, grants: &[(&str, Option<&str>)]) -> Auth {
    Auth::Bearer(member(stores, email, grants))
}

fn callers(stores: &Stores, owner: &Auth) -> Vec<Caller> {
    use Access::*;
    let caller = |who, auth, model, resource| Caller {
        who,
        auth,
        model,
        resource,
    };
    // A registry user whose personal key has only the NGC_CATALOG service (reads).
    member(stores, "catalog@acme.test", &[("REGISTRY_USER", None)]);
    let catalog = Auth::Bearer(admin_ok(
        stores,
        &[
            "key",
            "personal",
            "--org",
            "acme",
            "--user",
            "catalog@acme.test",
            "--service",
            "NGC_CATALOG",
        ],
    ));
    vec![
        caller("org owner", owner.clone(), Upload, Upload),
        caller(
            "registry admin",
            key(stores, "admin@acme.test", &[("REGISTRY_ADMIN", None)]),
            Upload,
            Upload,
        ),
        caller(
            "registry user",
            key(stores, "user@acme.test", &[("REGISTRY_USER", None)]),
            Upload,
            Upload,
        ),
        caller(
            "registry read",
            key(stores, "read@acme.test", &[("REGISTRY_READ", None)]),
            Download,
            Download,
        ),
        caller(
            "user admin only",
            key(stores, "useradmin@acme.test", &[("USER_ADMIN", None)]),
            Get,
            Get,
        ),
        caller(
            "registry user of the team",
            key(stores, "team@acme.test", &[("REGISTRY_USER", Some("vision"))]),
            Upload,
            Upload,
        ),
        caller(
            "registry admin of another team",
            key(stores, "audio@acme.test", &[("REGISTRY_ADMIN", Some("audio"))]),
            Hidden,
            Hidden,
        ),
        caller("personal key for the catalog only", catalog, Download, Download),
        caller("no credentials", Auth::None, Guest, Guest),
        caller("a wrong key", Auth::Bearer("nvapi-hp-wrong".into()), Guest, Guest),
        caller(
            "service: ALL_SCOPES, ALL",
            service_key(stores, "all", &["ALL_SCOPES"], &[]),
            Upload,
            Upload,
        ),
        caller(
            "service: GET_ARTIFACT, LIST_ARTIFACTS, ALL",
            service_key(stores, "reader", &["GET_ARTIFACT", "LIST_ARTIFACTS"], &[]),
            Download,
            Download,
        ),
        caller(
            "service: GET_ARTIFACT, ALL_RESOURCES",
            service_key(stores, "getter", &["GET_ARTIFACT"], &["--entity-type", "ALL_RESOURCES"]),
            Hidden,
            Download,
        ),
        caller(
            "service: LIST_ARTIFACTS, ALL_MODELS",
            service_key(stores, "lister", &["LIST_ARTIFACTS"], &["--entity-type", "ALL_MODELS"]),
            Listed,
            Hidden,
        ),
        caller(
            "service: ALL_SCOPES, SPECIFIC_MODEL acme/vision/m",
            service_key(
                stores,
                "one",
                &["ALL_SCOPES"],
                &["--entity-type", "SPECIFIC_MODEL", "--entity-value", "acme/vision/m"],
            ),
            Upload,
            Hidden,
        ),
        caller(
            "service: DELETE_ARTIFACT, ALL",
            service_key(stores, "deleter", &["DELETE_ARTIFACT"], &[]),
            Hidden,
            Hidden,
        ),
        caller(
            "service: container scopes, ALL",
            service_key(
                stores,
                "containers",
                &["DOWNLOAD_CONTAINER", "UPLOAD_CONTAINER", "LIST_CONTAINERS"],
                &[],
            ),
            Hidden,
            Hidden,
        ),
        caller(
            "service: ALL_SCOPES, ALL_CONTAINERS",
            service_key(stores, "images", &["ALL_SCOPES"], &["--entity-type", "ALL_CONTAINERS"]),
            Hidden,
            Hidden,
        ),
    ]
}

/// The stored file every complete version has.
const DATA_PATH: &str = "data.bin";

fn data(kind: &str) -> Vec<u8> {
    format!("the data of the {kind}").repeat(1000).into_bytes()
}

/// Creates the entity with a complete version `DONE` holding `DATA_PATH`, and the pending
/// version the writes go to.
async fn prepare(api: &Api, owner: &Auth, target: &Target<'_>) {
    let (s, body) = api
        .post(&format!("{SPACE}/{}", target.kind), owner, json!({"name": target.name}))
        .await;
    assert_eq!(s, 200, "{body}");
    let done = Target {
        version: DONE,
        ..*target
    };
    for version in [DONE, target.version] {
        let (s, body) = api
            .post(
                &format!("{}/versions", target.entity()),
                owner,
                json!({"versionId": version}),
            )
            .await;
        assert_eq!(s, 200, "{body}");
    }
    let data = data(target.kind);
    let sha = b64_sha256(&data);
    assert_eq!(done.upload_one_part(api, owner, DATA_PATH, &data, &sha).await, 200);
    let (s, body) = api
        .post(
            &format!("{SPACE}/files/commit"),
            owner,
            done.commit(&[(DATA_PATH, &sha)]),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = api
        .patch(
            &format!("{}/versions/{DONE}", target.entity()),
            owner,
            Some(json!({"status": "UPLOAD_COMPLETE"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

/// Sends `verb` as `auth`; returns the status and the NGC error word of a refusal (or of a
/// body that is not NGC JSON), and checks a successful download's bytes.
async fn attempt(api: &Api, auth: &Auth, target: &Target<'_>, verb: Verb, n: usize) -> (u16, Option<String>) {
    let data = data(target.kind);
    let sha = b64_sha256(&data);
    let done = format!("{}/versions/{DONE}", target.entity());
    let (method, path, body) = match verb {
        Verb::Dedupe => (
            Method::POST,
            format!("{}/files", target.entity()),
            Some(json!({"files": [{"sha256": sha}]})),
        ),
        Verb::Start => {
            let mine = format!("started by caller {n}");
            (
                Method::POST,
                format!("{SPACE}/files/multipart"),
                Some(target.start(&format!("s-{n}.bin"), mine.len() as u64, &b64_sha256(mine.as_bytes()))),
            )
        }
        Verb::PartBadSignature | Verb::Complete => unreachable!("sent by complete()"),
        Verb::Commit => (
            Method::POST,
            format!("{SPACE}/files/commit?upload-pending=True"),
            Some(target.commit(&[(&format!("k-{n}.bin"), &sha)])),
        ),
        Verb::ListFiles => (Method::GET, format!("{done}/files?page-size=1000"), None),
        Verb::Urls => (Method::GET, format!("{}/{DONE}/files", target.entity()), None),
        Verb::File => (Method::GET, format!("{done}/files/{DATA_PATH}"), None),
        Verb::Zip => (Method::GET, format!("{done}/zip"), None),
    };
    let mut req = api.raw().request(method, format!("{}{path}", api.base));
    req = with_auth(req, auth);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let bytes = r.bytes().await.expect("body");
    if status == 200 {
        match verb {
            Verb::File => assert!(bytes[..] == data[..], "{verb:?}: the stored bytes"),
            Verb::Zip => assert!(bytes.starts_with(b"PK\x03\x04"), "{verb:?}: a zip"),
            _ => {
                serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|_| panic!("{verb:?}: not JSON"));
            }
        }
        return (status, None);
    }
    (status, Some(error_word(&bytes)))
}

fn with_auth(req: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
    match auth {
        Auth::None => req,
        Auth::Bearer(t) => req.bearer_auth(t),
        Auth::Key(k) => req.basic_auth("$oauthtoken", Some(k)),
    }
}

/// `requestStatus.statusCode` of an NGC error body, or what else the body was.
fn error_word(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(body) => match body["requestStatus"]["statusCode"].as_str() {
            Some(word) if body["requestStatus"]["statusDescription"].is_string() => word.to_string(),
            _ => format!("not an NGC error: {body}"),
        },
        Err(_) => format!("not JSON: {}", String::from_utf8_lossy(bytes)),
    }
}

fn word_of(status: u16) -> &'static str {
    match status {
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        _ => "?",
    }
}

async fn role_matrix(stores: &Stores) {
    let server = Server::start(stores);
    let api = Api::new(&server.base, None);
    let view = StoreView::open(stores).await;
    let owner = Auth::Bearer(server.key());
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    admin_ok(stores, &["team", "create", "acme", "audio"]);
    for target in [MODEL, RESOURCE] {
        prepare(&api, &owner, &target).await;
    }
    // A client that never reuses a connection: a refused part PUT closes it.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();

    let callers = callers(stores, &owner);
    let mut failures = vec![];
    let mut committed = [vec![], vec![]];
    for (n, caller) in callers.iter().enumerate() {
        for (k, (target, access)) in [(MODEL, caller.model), (RESOURCE, caller.resource)]
            .into_iter()
            .enumerate()
        {
            for verb in Verb::ALL {
                let expected = verb.expected(access);
                let before = view.snapshot().await;
                let (status, word, before) = match verb {
                    Verb::PartBadSignature | Verb::Complete => {
                        complete(&api, &http, &view, &owner, &caller.auth, &target, verb, n).await
                    }
                    _ => {
                        let (s, w) = attempt(&api, &caller.auth, &target, verb, n).await;
                        (s, w, before)
                    }
                };
                let after = view.snapshot().await;
                let what = format!("{}: {} {verb:?}", caller.who, target.kind);
                if status != expected {
                    failures.push(format!("{what}: {status} (expected {expected}) {word:?}"));
                    continue;
                }
                if let Some(word) = &word
                    && word != word_of(status)
                {
                    failures.push(format!("{what}: {status} with {word}"));
                }
                let changed = stored_change(&before, &after);
                let allowed_change = match (verb, status) {
                    (Verb::Start, 200) => "1 upload more",
                    (Verb::Complete, 200) => "1 upload less",
                    (Verb::Commit, 200) => "1 file more",
                    _ => "nothing",
                };
                if changed != allowed_change {
                    failures.push(format!("{what}: {status} left {changed} (expected {allowed_change})"));
                }
                if let (Verb::Commit, 200) = (verb, status) {
                    committed[k].push(format!("k-{n}.bin"));
                }
            }
        }
    }
    for (k, target) in [MODEL, RESOURCE].iter().enumerate() {
        let mut listed: Vec<String> = target
            .listed(&api, &owner)
            .await
            .into_iter()
            .filter(|p| p.starts_with("k-"))
            .collect();
        listed.sort();
        committed[k].sort();
        if listed != committed[k] {
            failures.push(format!(
                "{}: the pending version has {listed:?}, only {:?} were committed",
                target.kind, committed[k]
            ));
        }
    }
    assert!(failures.is_empty(), "transfer role matrix:\n{}", failures.join("\n"));

    bad_part_urls(&api, &http, &view, &owner).await;
}
both_backends!(transfer_roles, role_matrix);

/// What changed between two snapshots, in words.
fn stored_change(before: &Snapshot, after: &Snapshot) -> String {
    match (
        after.uploads - before.uploads,
        after.parts - before.parts,
        after.files - before.files,
        after.blobs == before.blobs,
    ) {
        (0, 0, 0, true) => "nothing".into(),
        (1, 0, 0, true) => "1 upload more".into(),
        // The completed upload's one part goes with it; its blob is the file's.
        (-1, -1, 0, true) => "1 upload less".into(),
        (0, 0, 1, true) => "1 file more".into(),
        (u, p, f, same) => format!("uploads {u:+}, parts {p:+}, files {f:+}, blobs the same: {same}"),
    }
}

/// The owner sends the one part of a new file; then the caller tries a part PUT at an altered
/// URL (`PartBadSignature`) or the completion (`Complete`). Returns the status, the error word
/// and the stores as they were after the owner's part.
#[allow(clippy::too_many_arguments)]
async fn complete(
    api: &Api,
    http: &reqwest::Client,
    view: &StoreView,
    owner: &Auth,
    auth: &Auth,
    target: &Target<'_>,
    verb: Verb,
    n: usize,
) -> (u16, Option<String>, Snapshot) {
    let path = format!("c-{n}-{verb:?}.bin");
    let data = format!("{path} of caller {n} in {}", target.kind).into_bytes();
    let sha = b64_sha256(&data);
    let (s, started) = api
        .post(
            &format!("{SPACE}/files/multipart"),
            owner,
            target.start(&path, data.len() as u64, &sha),
        )
        .await;
    assert_eq!(s, 200, "{started}");
    let url = started["urls"][0].as_str().unwrap();
    let before_part = view.snapshot().await;
    let req = match verb {
        Verb::PartBadSignature => with_auth(http.put(url.replace("signature=", "signature=AAAA")), auth).body(data),
        _ => {
            let r = http.put(url).body(data).send().await.unwrap();
            assert_eq!(r.status(), 200);
            with_auth(http.put(format!("{}{SPACE}/files/multipart", api.base)), auth).json(&target.complete(
                &path,
                &started["uploadID"],
                &sha,
            ))
        }
    };
    let before = match verb {
        Verb::PartBadSignature => before_part,
        _ => view.snapshot().await,
    };
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let word = (status != 200).then(|| error_word(&bytes));
    (status, word, before)
}

/// Data URLs taken apart: an expired signature, a changed expiry, part, upload or method, no
/// signature at all, and a good URL of an upload that is complete. None of them stores a byte.
async fn bad_part_urls(api: &Api, http: &reqwest::Client, view: &StoreView, owner: &Auth) {
    let data = b"a part sent where it must not go".to_vec();
    let sha = b64_sha256(&data);
    let (s, started) = api
        .post(
            &format!("{SPACE}/files/multipart"),
            owner,
            MODEL.start("urls.bin", data.len() as u64, &sha),
        )
        .await;
    assert_eq!(s, 200, "{started}");
    let url = started["urls"][0].as_str().unwrap().to_string();
    let id = started["uploadID"].as_str().unwrap();
    let path = format!("/data/uploads/{id}/1");
    let signer = UrlSigner::load(&view.meta).await.expect("the server's URL signer");
    let query = |name: &str| {
        url.split_once(&format!("{name}="))
            .and_then(|(_, rest)| rest.split('&').next())
            .unwrap_or_else(|| panic!("{name} in the URL"))
            .to_string()
    };
    let expires: i64 = query("expires").parse().expect("expires is a number");
    let by = query("by");
    let holder = Principal::parse(&by).expect("a holder");
    let part = |n| Resource::Part { upload: id, part: n };
    let now = chrono::Utc::now().timestamp();
    let base = &api.base;
    let bad = [
        (
            "expired",
            format!("{base}{}", signed_path(&signer, part(1), holder, now - 60)),
        ),
        (
            "expiry changed",
            url.replace(&format!("expires={expires}"), &format!("expires={}", expires + 1000)),
        ),
        ("another part", url.replace(&format!("{id}/1?"), &format!("{id}/2?"))),
        (
            "another upload",
            url.replace(id, "00000000-0000-0000-0000-000000000000"),
        ),
        (
            "signed for a file read",
            format!(
                "{base}{}",
                signed_path(
                    &signer,
                    Resource::File {
                        version: 1,
                        path: "urls.bin"
                    },
                    holder,
                    now + 3600
                )
            )
            .replace("/data/versions/1/files/urls.bin", &path),
        ),
        ("handed to someone else", url.replace(&format!("by={by}"), "by=guest")),
        ("no signature", format!("{base}{path}")),
        ("a malformed signature", url.replace("signature=", "signature=%25%25")),
    ];
    let before = view.snapshot().await;
    for (why, bad_url) in bad {
        assert_ne!(bad_url, url, "{why}: the URL must differ");
        let r = http.put(&bad_url).body(data.clone()).send().await.unwrap();
        let status = r.status().as_u16();
        let word = error_word(&r.bytes().await.unwrap());
        assert_eq!((status, word.as_str()), (403, "FORBIDDEN"), "{why}: {bad_url}");
        assert_eq!(view.snapshot().await, before, "{why}: nothing stored");
    }
    // The good URL works once the bad ones are refused, and no more once the file is complete.
    let r = http.put(&url).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (s, body) = api
        .call(
            Method::PUT,
            &format!("{SPACE}/files/multipart"),
            owner,
            Some(MODEL.complete("urls.bin", &started["uploadID"], &sha)),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let before = view.snapshot().await;
    let r = http.put(&url).body(data).send().await.unwrap();
    assert_eq!(r.status(), 404, "the upload is complete");
    assert_eq!(error_word(&r.bytes().await.unwrap()), "NOT_FOUND");
    assert_eq!(view.snapshot().await, before, "nothing stored after completion");
}
