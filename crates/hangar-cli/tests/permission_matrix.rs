//! The permission matrix, in-process (issue 13, item 5; access levels, issue 15): every kind of
//! caller × every action on every surface (OCI registry, NGC REST, Helm repository, data plane)
//! × private and guest-access entities at org and team level, and entities at every other access
//! level (authenticated, entitled, exclusive, approval) at org level. Each row asserts the exact status and the surface's own wire
//! format. What each caller may do is written out by hand below (from the guides' role and
//! scope tables), and the verdict comes from one short ladder — never from the server's own
//! policy code, so a wrong policy shows up as wrong rows:
//!
//! - a credential the server must refuse, or a guest where the access level grants nothing: 401;
//! - allowed: the action's success status;
//! - may see the entity (any read, or its access level lets everyone see it) but not do this: 403;
//! - may not even see it: 404 (the registry answers DENIED for both, so as not to tell).
//!
//! A guest on the registry does what an anonymous client does with the challenge: it asks the
//! token service for an anonymous token and tries again, so its rows end as the ladder says.
//!
//! Rows that disagree with the ladder today because of a known server defect are listed in
//! [`KNOWN_DEFECTS`] with why; they keep the ladder's answer as the expected one.

mod common;

use axum::http::Method;
use common::app::{Reply, TestApp};
use common::charts::chart_tgz;
use common::files::Target;
use common::{Auth, Stores};
use hangar_core::policy::ArtifactOp as Op;
use hangar_core::roles::Role;
use hangar_server::catalog::links::{Principal, Resource, signed_path};
use hangar_store::meta::{ArtifactType, EntityKey, HolderKind};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// Who may do what: the expectation, by hand.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    Model,
    Resource,
    Chart,
}

const ALL_KINDS: &[Kind] = &[Kind::Container, Kind::Model, Kind::Resource, Kind::Chart];
const CONTAINERS: &[Kind] = &[Kind::Container];
const MODELS: &[Kind] = &[Kind::Model];

const READ: &[Op] = &[Op::Get, Op::List, Op::Download];
/// User admins see entities (get, list) but download nothing.
const SEE: &[Op] = &[Op::Get, Op::List];
const WRITE: &[Op] = &[Op::Get, Op::List, Op::Download, Op::Create, Op::Update, Op::Upload];
const ADMIN: &[Op] = &[
    Op::Get,
    Op::List,
    Op::Download,
    Op::Create,
    Op::Update,
    Op::Upload,
    Op::Delete,
];

/// Some things someone may do: `ops` on entities of `kinds` in `org` (in one team of it when
/// `team` is set; in one entity when `entity` is set).
struct Reach {
    org: &'static str,
    team: Option<&'static str>,
    ops: &'static [Op],
    kinds: &'static [Kind],
    entity: Option<&'static str>,
}

fn in_org(org: &'static str, ops: &'static [Op]) -> Reach {
    Reach {
        org,
        team: None,
        ops,
        kinds: ALL_KINDS,
        entity: None,
    }
}

fn in_team(team: &'static str, ops: &'static [Op]) -> Reach {
    Reach {
        team: Some(team),
        ..in_org("acme", ops)
    }
}

/// One caller of the matrix.
struct Who {
    name: &'static str,
    auth: Auth,
    reach: Vec<Reach>,
    /// The server must refuse the credential itself (401 everywhere).
    refused: bool,
    /// A member of an org with a live subscription to the gated places' product.
    subscriber: bool,
    /// Approved by the publisher for the approval-level place's entities.
    approved: bool,
}

impl Who {
    fn guest(&self) -> bool {
        matches!(self.auth, Auth::None)
    }

    /// Whether this caller's grants allow `op` on `kind` at `place` (on entity `path`).
    fn may(&self, kind: Kind, place: &Place, path: &str, op: Op) -> bool {
        self.reach.iter().any(|r| {
            r.org == place.org
                && (r.team.is_none() || r.team == place.team)
                && r.ops.contains(&op)
                && r.kinds.contains(&kind)
                && r.entity.is_none_or(|e| e == path)
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allowed,
    Unauthenticated,
    Hidden,
    Forbidden,
}

/// What an access level grants a caller beyond the roles of the owning org (Catalog guide §4,
/// by hand): `op` is allowed when this says so.
fn offered(who: &Who, access: Access, op: Op) -> bool {
    let view = matches!(op, Op::Get | Op::List);
    let download = op == Op::Download;
    let signed_in = !who.guest();
    match access {
        Access::Private => false,
        Access::Guest => view || download,
        Access::Authenticated => view || (download && signed_in),
        Access::Entitled => view || (download && who.subscriber),
        Access::Exclusive => (view || download) && who.subscriber,
        Access::Approval => view || (download && who.approved),
    }
}

/// The ladder, for `op` on the entity `path` of `kind` at `place`.
fn verdict(who: &Who, kind: Kind, place: &Place, path: &str, op: Op) -> Verdict {
    if who.refused {
        return Verdict::Unauthenticated;
    }
    if who.may(kind, place, path, op) || offered(who, place.access, op) {
        return Verdict::Allowed;
    }
    if who.guest() {
        return Verdict::Unauthenticated;
    }
    let sees = READ
        .iter()
        .any(|r| who.may(kind, place, path, *r) || offered(who, place.access, *r));
    if sees { Verdict::Forbidden } else { Verdict::Hidden }
}

/// The ladder for making something new at `place` (its access level does not count).
fn space_verdict(who: &Who, kind: Kind, place: &Place, path: &str, op: Op) -> Verdict {
    if who.refused || who.guest() {
        return Verdict::Unauthenticated;
    }
    if who.may(kind, place, path, op) {
        Verdict::Allowed
    } else {
        Verdict::Forbidden
    }
}

// ---------------------------------------------------------------------------------------------
// Where things are.

/// An access level, as this test names it (the server's own type is not used for expectations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Private,
    Guest,
    Authenticated,
    Entitled,
    Exclusive,
    Approval,
}

impl Access {
    /// The word of NGC's `accessType` body field as Hangar takes it.
    fn word(self) -> &'static str {
        match self {
            Access::Private => "PRIVATE",
            Access::Guest => "GUEST",
            Access::Authenticated => "AUTHENTICATED",
            Access::Entitled => "ENTITLED",
            Access::Exclusive => "EXCLUSIVE",
            Access::Approval => "APPROVAL",
        }
    }

    fn gated(self) -> bool {
        matches!(self, Access::Entitled | Access::Exclusive)
    }
}

/// The product the gated places' entities belong to.
const PRODUCT: &str = "enterprise";

/// Where a fixture entity of each kind lives, and its access level.
#[derive(Debug, Clone, Copy)]
struct Place {
    label: &'static str,
    org: &'static str,
    team: Option<&'static str>,
    access: Access,
}

const fn place(label: &'static str, team: Option<&'static str>, access: Access) -> Place {
    Place {
        label,
        org: "acme",
        team,
        access,
    }
}

const PLACES: [Place; 8] = [
    place("org-private", None, Access::Private),
    place("org-public", None, Access::Guest),
    place("team-private", Some("vision"), Access::Private),
    place("team-public", Some("vision"), Access::Guest),
    place("org-authenticated", None, Access::Authenticated),
    place("org-entitled", None, Access::Entitled),
    place("org-exclusive", None, Access::Exclusive),
    place("org-approval", None, Access::Approval),
];

/// The places whose level is only about reading: what the owner's roles allow there is the
/// same as at the first four, so only reads are tried.
fn reads_only(place: &Place) -> bool {
    !matches!(place.access, Access::Private | Access::Guest)
}

/// The two spaces where new things are made.
const SPACES: [Place; 2] = [PLACES[0], PLACES[2]];

impl Place {
    /// The products of its entities.
    fn products(&self) -> Vec<&'static str> {
        if self.access.gated() { vec![PRODUCT] } else { vec![] }
    }

    /// `acme[/vision]`.
    fn ns(&self) -> String {
        match self.team {
            Some(team) => format!("{}/{team}", self.org),
            None => self.org.to_string(),
        }
    }

    /// `/v2/org/acme[/team/vision]`.
    fn ngc(&self) -> String {
        match self.team {
            Some(team) => format!("/v2/org/{}/team/{team}", self.org),
            None => format!("/v2/org/{}", self.org),
        }
    }

    /// The name of this place's fixture entity of `kind`.
    fn name(&self, kind: Kind) -> String {
        let suffix = match kind {
            Kind::Container => "app",
            Kind::Model => "model",
            Kind::Resource => "res",
            Kind::Chart => "chart",
        };
        format!("{}-{suffix}", self.label)
    }

    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.ns())
    }

    /// The repository whose images the deletion rows delete, so that the fixture repository
    /// keeps a handful of tags (listing a repository's images reads every one).
    fn doomed_repo(&self) -> String {
        format!("{}-doomed-app", self.label)
    }
}

fn ngc_segment(kind: Kind) -> &'static str {
    match kind {
        Kind::Container => "repos",
        Kind::Model => "models",
        Kind::Resource => "resources",
        Kind::Chart => "helm-charts",
    }
}

const FILE: &[u8] = b"the weights of a fixture model";
const VERSION: &str = "1.0";
const CHART_VERSION: &str = "0.1.0";

// ---------------------------------------------------------------------------------------------
// The actions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    Oci,
    Ngc,
    Helm,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    // The registry, `/v2/<name>/…`.
    OciManifest,
    OciBlob,
    OciTags,
    OciPush,
    OciDelete,
    // NGC's image API.
    RepoInfo,
    RepoImages,
    RepoUpdate,
    RepoRemoveImage,
    // NGC's models, resources and charts.
    Info,
    Versions,
    VersionInfo,
    Update,
    Remove,
    CreateVersion,
    RemoveVersion,
    FileDownload,
    FileUrls,
    // The Helm repository and ChartMuseum's API.
    HelmArchive,
    HelmVersions,
    HelmDescribe,
    HelmPush,
    HelmDelete,
}

/// Every action on one entity, with the kind it is done to.
const ENTITY_ACTS: &[(Act, Kind)] = &[
    (Act::OciManifest, Kind::Container),
    (Act::OciBlob, Kind::Container),
    (Act::OciTags, Kind::Container),
    (Act::OciPush, Kind::Container),
    (Act::OciDelete, Kind::Container),
    (Act::RepoInfo, Kind::Container),
    (Act::RepoImages, Kind::Container),
    (Act::RepoUpdate, Kind::Container),
    (Act::RepoRemoveImage, Kind::Container),
    (Act::Info, Kind::Model),
    (Act::Versions, Kind::Model),
    (Act::VersionInfo, Kind::Model),
    (Act::Update, Kind::Model),
    (Act::Remove, Kind::Model),
    (Act::CreateVersion, Kind::Model),
    (Act::RemoveVersion, Kind::Model),
    (Act::FileDownload, Kind::Model),
    (Act::FileUrls, Kind::Model),
    (Act::Info, Kind::Resource),
    (Act::Versions, Kind::Resource),
    (Act::VersionInfo, Kind::Resource),
    (Act::Update, Kind::Resource),
    (Act::Remove, Kind::Resource),
    (Act::CreateVersion, Kind::Resource),
    (Act::RemoveVersion, Kind::Resource),
    (Act::FileDownload, Kind::Resource),
    (Act::FileUrls, Kind::Resource),
    (Act::Info, Kind::Chart),
    (Act::Versions, Kind::Chart),
    (Act::VersionInfo, Kind::Chart),
    (Act::Update, Kind::Chart),
    (Act::Remove, Kind::Chart),
    (Act::HelmArchive, Kind::Chart),
    (Act::HelmVersions, Kind::Chart),
    (Act::HelmDescribe, Kind::Chart),
    (Act::HelmPush, Kind::Chart),
    (Act::HelmDelete, Kind::Chart),
];

impl Act {
    fn op(self) -> Op {
        use Act::*;
        match self {
            OciManifest | OciBlob | FileDownload | FileUrls | HelmArchive => Op::Download,
            OciTags | RepoImages => Op::List,
            RepoInfo | Info | Versions | VersionInfo | HelmVersions | HelmDescribe => Op::Get,
            RepoUpdate | Update => Op::Update,
            OciPush | CreateVersion | HelmPush => Op::Upload,
            OciDelete | RepoRemoveImage | Remove | RemoveVersion | HelmDelete => Op::Delete,
        }
    }

    fn surface(self) -> Surface {
        use Act::*;
        match self {
            OciManifest | OciBlob | OciTags | OciPush | OciDelete => Surface::Oci,
            HelmArchive | HelmVersions | HelmDescribe | HelmPush | HelmDelete => Surface::Helm,
            _ => Surface::Ngc,
        }
    }

    /// The status of success.
    fn ok(self) -> u16 {
        use Act::*;
        match self {
            OciPush | HelmPush => 201,
            OciDelete => 202,
            FileDownload => 302,
            _ => 200,
        }
    }
}

/// A request to send, and what it is about.
struct Request {
    method: Method,
    uri: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// The entity the verdict is about (a doomed copy for deletions).
    path: String,
}

impl Request {
    fn new(method: Method, uri: String, path: String) -> Request {
        Request {
            method,
            uri,
            headers: vec![],
            body: vec![],
            path,
        }
    }

    fn json(mut self, body: Value) -> Request {
        self.headers.push(("content-type", "application/json".into()));
        self.body = serde_json::to_vec(&body).expect("JSON");
        self
    }

    fn gzip(mut self, body: Vec<u8>) -> Request {
        self.headers.push(("content-type", "application/gzip".into()));
        self.body = body;
        self
    }
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// The request of `act` on the entity of `kind` at `place`, row `row`; what must be there first
/// (a doomed copy to delete) is made by the owner now.
async fn request(fx: &Fixture, act: Act, kind: Kind, place: &Place, row: usize) -> Request {
    let app = &fx.app;
    let name = place.name(kind);
    let path = place.path(&name);
    let entity = format!("{}/{}/{name}", place.ngc(), ngc_segment(kind));
    let helm_api = format!("/api/{}/charts", place.ns());
    let get = |uri: String| Request::new(Method::GET, uri, path.clone());
    match act {
        Act::OciManifest => get(format!("/v2/{path}/manifests/v1")),
        Act::OciBlob => get(format!("/v2/{path}/blobs/{}", fx.layer(place))),
        Act::OciTags => get(format!("/v2/{path}/tags/list")),
        Act::OciPush => {
            let data = format!("row {row}").into_bytes();
            let mut r = Request::new(
                Method::POST,
                format!("/v2/{path}/blobs/uploads/?digest={}", sha256(&data)),
                path.clone(),
            );
            r.headers.push(("content-type", "application/octet-stream".into()));
            r.body = data;
            r
        }
        Act::OciDelete => {
            let path = place.path(&place.doomed_repo());
            let (digest, _) = app
                .push_image(&fx.owner, &path, &format!("doomed-{row}"), &row.to_string())
                .await;
            Request::new(Method::DELETE, format!("/v2/{path}/manifests/{digest}"), path)
        }
        Act::RepoInfo => get(entity),
        Act::RepoImages => get(format!("{entity}/images")),
        Act::RepoUpdate => Request::new(Method::PATCH, entity, path).json(json!({"description": "changed"})),
        Act::RepoRemoveImage => {
            let (name, tag) = (place.doomed_repo(), format!("doomed-{row}"));
            let path = place.path(&name);
            app.push_image(&fx.owner, &path, &tag, &row.to_string()).await;
            let uri = format!("{}/repos/{name}/images/{tag}", place.ngc());
            Request::new(Method::DELETE, uri, path)
        }
        Act::Info => get(entity),
        Act::Versions => get(format!("{entity}/versions")),
        Act::VersionInfo => {
            let version = if kind == Kind::Chart { CHART_VERSION } else { VERSION };
            get(format!("{entity}/versions/{version}"))
        }
        Act::Update => Request::new(Method::PATCH, entity, path).json(json!({"description": "changed"})),
        Act::Remove => {
            let doomed = format!("{}-doomed-{row}", place.label);
            let made = app
                .call(
                    Method::POST,
                    &format!("{}/{}", place.ngc(), ngc_segment(kind)),
                    &fx.owner,
                    Some(json!({"name": doomed, "accessType": place.access.word(), "productNames": place.products()})),
                )
                .await;
            assert_eq!(made.status, 200, "{}", made.text());
            Request::new(
                Method::DELETE,
                format!("{}/{}/{doomed}", place.ngc(), ngc_segment(kind)),
                place.path(&doomed),
            )
        }
        Act::CreateVersion => {
            Request::new(Method::POST, format!("{entity}/versions"), path).json(json!({"versionId": format!("r{row}")}))
        }
        Act::RemoveVersion => {
            let made = app
                .call(
                    Method::POST,
                    &format!("{entity}/versions"),
                    &fx.owner,
                    Some(json!({"versionId": format!("doomed-{row}")})),
                )
                .await;
            assert_eq!(made.status, 200, "{}", made.text());
            Request::new(Method::DELETE, format!("{entity}/versions/doomed-{row}"), path)
        }
        Act::FileDownload => get(format!("{entity}/versions/{VERSION}/files/weights.bin")),
        Act::FileUrls => get(format!("{entity}/{VERSION}/files")),
        Act::HelmArchive => get(format!("/{}/charts/{name}-{CHART_VERSION}.tgz", place.ns())),
        Act::HelmVersions => get(format!("{helm_api}/{name}")),
        Act::HelmDescribe => get(format!("{helm_api}/{name}/{CHART_VERSION}")),
        Act::HelmPush => Request::new(Method::POST, helm_api, path).gzip(chart_tgz(&name, &format!("0.2.{row}"), &[])),
        Act::HelmDelete => {
            let version = format!("0.0.{row}");
            push_chart(app, &fx.owner, place, &name, &version).await;
            Request::new(Method::DELETE, format!("{helm_api}/{name}/{version}"), path)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What comes back, per surface.

fn body_json(reply: &Reply) -> Option<Value> {
    serde_json::from_slice(&reply.body).ok()
}

/// Whether `reply` is the answer `verdict` must get on `surface` (`ok`: the success status).
/// `None` when it is; otherwise what is wrong.
fn check(surface: Surface, verdict: Verdict, ok: u16, reply: &Reply) -> Option<String> {
    let status = reply.status.as_u16();
    let json = body_json(reply);
    let ngc_word = |j: &Value| j["requestStatus"]["statusCode"].as_str().map(str::to_string);
    let oci_code = |j: &Value| j["errors"][0]["code"].as_str().map(str::to_string);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    let (want_status, format_ok) = match (verdict, surface) {
        (Verdict::Allowed, Surface::Ngc) if ok == 200 => {
            (200, json.as_ref().and_then(ngc_word).as_deref() == Some("SUCCESS"))
        }
        (Verdict::Allowed, _) => (ok, true),
        (Verdict::Unauthenticated, Surface::Oci) => (
            401,
            json.as_ref().and_then(oci_code).as_deref() == Some("UNAUTHORIZED")
                && challenge.starts_with("Bearer realm="),
        ),
        (Verdict::Unauthenticated, Surface::Helm) => (401, helm_error(&json) && challenge.starts_with("Basic realm=")),
        (Verdict::Unauthenticated, _) => (401, json.as_ref().and_then(ngc_word).as_deref() == Some("UNAUTHORIZED")),
        (Verdict::Hidden | Verdict::Forbidden, Surface::Oci) => {
            (403, json.as_ref().and_then(oci_code).as_deref() == Some("DENIED"))
        }
        (Verdict::Hidden | Verdict::Forbidden, Surface::Data) => {
            (403, json.as_ref().and_then(ngc_word).as_deref() == Some("FORBIDDEN"))
        }
        (Verdict::Hidden, Surface::Helm) => (404, helm_error(&json)),
        (Verdict::Forbidden, Surface::Helm) => (403, helm_error(&json)),
        (Verdict::Hidden, Surface::Ngc) => (404, json.as_ref().and_then(ngc_word).as_deref() == Some("NOT_FOUND")),
        (Verdict::Forbidden, Surface::Ngc) => (403, json.as_ref().and_then(ngc_word).as_deref() == Some("FORBIDDEN")),
    };
    if status == want_status && format_ok {
        return None;
    }
    let mut body = reply.text();
    body.truncate(160);
    Some(format!(
        "want {want_status} in {surface:?} format, got {status} [{challenge}] {body}"
    ))
}

/// Helm's error body: `{"error": "…"}` and nothing of NGC's.
fn helm_error(json: &Option<Value>) -> bool {
    json.as_ref()
        .is_some_and(|j| j["error"].is_string() && j.get("requestStatus").is_none())
}

// ---------------------------------------------------------------------------------------------
// The fixture: orgs acme and beta, teams vision and audio, the entities of every place, and a
// caller of every kind.

struct Fixture {
    app: TestApp,
    owner: Auth,
    /// The layer digest of each place's image, by place label.
    layers: Vec<(&'static str, String)>,
}

impl Fixture {
    fn layer(&self, place: &Place) -> &str {
        let found = self.layers.iter().find(|(label, _)| *label == place.label);
        &found.expect("a fixture image").1
    }
}

async fn push_chart(app: &TestApp, auth: &Auth, place: &Place, name: &str, version: &str) {
    let pushed = app
        .send(
            Method::POST,
            &format!("/api/{}/charts", place.ns()),
            auth,
            &[("content-type", "application/gzip")],
            chart_tgz(name, version, &[]),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text());
}

async fn fixture(stores: &Stores) -> Fixture {
    let app = TestApp::new(stores).await;
    app.org("acme").await;
    app.org("beta").await;
    app.team("acme", "vision").await;
    app.team("acme", "audio").await;
    for org in ["gamma", "delta", "epsilon"] {
        app.org(org).await;
    }
    catalog_rights(&app).await;
    let (_, owner) = app.user("owner@acme.test", &[("acme", None, Role::OrgOwner)]).await;
    let mut layers = vec![];
    for place in &PLACES {
        let publish = json!({"accessType": place.access.word(), "productNames": place.products()});
        let (_, layer) = app
            .push_image(&owner, &place.path(&place.name(Kind::Container)), "v1", "fixture")
            .await;
        layers.push((place.label, layer));
        app.push_image(&owner, &place.path(&place.doomed_repo()), "v1", "fixture")
            .await;
        for name in [place.name(Kind::Container), place.doomed_repo()] {
            let repo_uri = format!("{}/repos/{name}", place.ngc());
            let made = app.call(Method::PATCH, &repo_uri, &owner, Some(publish.clone())).await;
            assert_eq!(made.status, 200, "{}", made.text());
        }
        for kind in [Kind::Model, Kind::Resource] {
            let name = place.name(kind);
            let space = place.ngc();
            let target = Target {
                space: &space,
                kind: ngc_segment(kind),
                name: &name,
                version: VERSION,
            };
            app.version_with(&owner, &target, &[("weights.bin", FILE)]).await;
        }
        push_chart(&app, &owner, place, &place.name(Kind::Chart), CHART_VERSION).await;
        for kind in [Kind::Model, Kind::Resource, Kind::Chart] {
            let uri = format!("{}/{}/{}", place.ngc(), ngc_segment(kind), place.name(kind));
            let made = app.call(Method::PATCH, &uri, &owner, Some(publish.clone())).await;
            assert_eq!(made.status, 200, "{}", made.text());
        }
    }
    Fixture { app, owner, layers }
}

/// The product, its subscription by org gamma, and an expired one by org delta.
async fn catalog_rights(app: &TestApp) {
    let meta = &app.state.meta;
    let now = chrono::Utc::now().timestamp();
    let product = meta.create_product(PRODUCT, "Enterprise", "").await.expect("a product");
    for (org, expires) in [("gamma", None), ("delta", Some(now - 1))] {
        let org = meta.require_org(org).await.expect("org");
        meta.subscribe(org.id, product.id, expires)
            .await
            .expect("a subscription");
    }
}

/// `user` approved for every entity of the approval place.
async fn approve(app: &TestApp, user: i64) {
    let approval = PLACES
        .iter()
        .find(|p| p.access == Access::Approval)
        .expect("an approval place");
    let meta = &app.state.meta;
    let repo = meta
        .repository(&approval.path(&approval.name(Kind::Container)))
        .await
        .unwrap()
        .expect("repository");
    let mut entities = vec![EntityKey {
        kind: HolderKind::Repository,
        id: repo.id,
    }];
    for (kind, stored) in [
        (Kind::Model, ArtifactType::Model),
        (Kind::Resource, ArtifactType::Resource),
        (Kind::Chart, ArtifactType::Chart),
    ] {
        let path = approval.path(&approval.name(kind));
        let artifact = meta.artifact(stored, &path).await.unwrap().expect("entity");
        entities.push(EntityKey {
            kind: HolderKind::Artifact(stored),
            id: artifact.id,
        });
    }
    for entity in entities {
        meta.decide_access_request(entity, user, "APPROVED", user, None)
            .await
            .expect("an approval");
    }
}

/// A caller of every kind the identity model has.
async fn callers(fx: &Fixture) -> Vec<Who> {
    let app = &fx.app;
    let who = |name, auth, reach| Who {
        name,
        auth,
        reach,
        refused: false,
        subscriber: false,
        approved: false,
    };
    let member = |email: &'static str, team: Option<&'static str>, role| async move {
        app.user(email, &[("acme", team, role)]).await
    };
    let (_, registry_admin) = member("ra@acme.test", None, Role::RegistryAdmin).await;
    let (ru_user, registry_user) = member("ru@acme.test", None, Role::RegistryUser).await;
    let (_, registry_read) = member("rr@acme.test", None, Role::RegistryRead).await;
    let (_, user_admin) = member("ua@acme.test", None, Role::UserAdmin).await;
    // User Read alone makes nobody a member: in team audio, with Registry Read there.
    let (_, user_read) = app
        .user(
            "ur@acme.test",
            &[
                ("acme", Some("audio"), Role::RegistryRead),
                ("acme", Some("audio"), Role::UserRead),
            ],
        )
        .await;
    let (_, team_admin) = member("ta@acme.test", Some("vision"), Role::RegistryAdmin).await;
    let (_, team_user) = member("tu@acme.test", Some("vision"), Role::RegistryUser).await;
    let (_, team_read) = member("tr@acme.test", Some("vision"), Role::RegistryRead).await;
    let (_, other_team) = member("audio@acme.test", Some("audio"), Role::RegistryUser).await;
    let (former_user, former) = member("former@acme.test", None, Role::RegistryAdmin).await;
    app.remove(&former_user, "acme").await;
    let (_, beta_owner) = app.user("owner@beta.test", &[("beta", None, Role::OrgOwner)]).await;
    let platform = app
        .state
        .meta
        .create_user("root@hangar.test", "root", true)
        .await
        .expect("a platform admin");
    let (_, platform_key) = hangar_server::identity::keys::issue_legacy_key(&app.state.meta, &platform, None)
        .await
        .expect("a legacy key");
    let personal_full = app.personal_key(&ru_user, "acme", None).await;
    let personal_catalog = app.personal_key(&ru_user, "acme", Some(&["NGC_CATALOG"])).await;
    let all = ("ALL", None);
    let service_all = app.service_key("acme", &["ALL_SCOPES"], all).await;
    let service_read = app
        .service_key(
            "acme",
            &[
                "GET_CONTAINER",
                "LIST_CONTAINERS",
                "DOWNLOAD_CONTAINER",
                "GET_ARTIFACT",
                "LIST_ARTIFACTS",
            ],
            all,
        )
        .await;
    let service_get = app.service_key("acme", &["GET_CONTAINER"], all).await;
    let service_containers = app.service_key("acme", &["ALL_SCOPES"], ("ALL_CONTAINERS", None)).await;
    let service_one = app
        .service_key(
            "acme",
            &["ALL_SCOPES"],
            ("SPECIFIC_MODEL", Some("acme/vision/team-private-model")),
        )
        .await;
    let beta_service = app.service_key("beta", &["ALL_SCOPES"], all).await;
    let (_, subscriber) = app
        .user("user@gamma.test", &[("gamma", None, Role::RegistryUser)])
        .await;
    let subscriber_service = app.service_key("gamma", &["GET_ARTIFACT", "LIST_ARTIFACTS"], all).await;
    let (_, lapsed) = app
        .user("user@delta.test", &[("delta", None, Role::RegistryUser)])
        .await;
    let (approved_user, approved) = app
        .user("user@epsilon.test", &[("epsilon", None, Role::RegistryRead)])
        .await;
    approve(app, approved_user.id).await;
    let only = |kinds, ops| Reach {
        kinds,
        ..in_org("acme", ops)
    };
    vec![
        who("guest", Auth::None, vec![]),
        Who {
            refused: true,
            ..who("unknown key", Auth::Key("nvapi-hp-no-such-key".into()), vec![])
        },
        who("org owner", fx.owner.clone(), vec![in_org("acme", ADMIN)]),
        who("registry admin", registry_admin, vec![in_org("acme", ADMIN)]),
        who("registry user", registry_user, vec![in_org("acme", WRITE)]),
        who("registry read", registry_read, vec![in_org("acme", READ)]),
        who("user admin", user_admin, vec![in_org("acme", SEE)]),
        who("user read", user_read, vec![in_team("audio", READ)]),
        who("team admin", team_admin, vec![in_team("vision", ADMIN)]),
        who("team user", team_user, vec![in_team("vision", WRITE)]),
        who("team read", team_read, vec![in_team("vision", READ)]),
        who("other team user", other_team, vec![in_team("audio", WRITE)]),
        who(
            "personal key (all services)",
            personal_full,
            vec![in_org("acme", WRITE)],
        ),
        who(
            "personal key (catalog only)",
            personal_catalog,
            vec![in_org("acme", READ)],
        ),
        who("service key, all scopes", service_all, vec![in_org("acme", ADMIN)]),
        who("service key, read scopes", service_read, vec![in_org("acme", READ)]),
        who(
            "service key, get container only",
            service_get,
            vec![only(CONTAINERS, &[Op::Get])],
        ),
        who(
            "service key, all containers",
            service_containers,
            vec![only(CONTAINERS, ADMIN)],
        ),
        who(
            "service key, one model",
            service_one,
            vec![Reach {
                entity: Some("acme/vision/team-private-model"),
                ..only(MODELS, ADMIN)
            }],
        ),
        who("other org's owner", beta_owner, vec![in_org("beta", ADMIN)]),
        who("other org's service key", beta_service, vec![in_org("beta", ADMIN)]),
        who("former member", former, vec![]),
        Who {
            subscriber: true,
            ..who("subscriber", subscriber, vec![in_org("gamma", WRITE)])
        },
        Who {
            subscriber: true,
            ..who("subscriber's service key", subscriber_service, vec![])
        },
        who(
            "member of an org whose subscription expired",
            lapsed,
            vec![in_org("delta", WRITE)],
        ),
        Who {
            approved: true,
            ..who("approved user", approved, vec![in_org("epsilon", READ)])
        },
        who(
            "platform admin",
            Auth::Key(platform_key),
            vec![in_org("acme", ADMIN), in_org("beta", ADMIN)],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The rows.

/// Rows that disagree with the ladder because of a known server defect: the callers, a part
/// of the row's name, a part of the place's label, and why. They must still fail; one that
/// passes is reported, so the list shrinks as defects are fixed.
struct Defect {
    who: &'static [&'static str],
    row: &'static str,
    place: &'static str,
    why: &'static str,
}

/// Rows whose answer today is not the ladder's, with why. Empty: every defect the matrix found
/// (Helm refusals in NGC JSON, the image API hiding what a key may get, a guest's repository
/// create, public repositories missing from `/v2/_catalog`) is fixed.
const KNOWN_DEFECTS: &[Defect] = &[];

#[allow(dead_code)] // for rows listed in KNOWN_DEFECTS
const fn defect(who: &'static [&'static str], row: &'static str, place: &'static str, why: &'static str) -> Defect {
    Defect { who, row, place, why }
}

fn known_defect(who: &str, row: &str) -> Option<&'static str> {
    KNOWN_DEFECTS
        .iter()
        .find(|d| d.who.contains(&who) && row.contains(d.row) && row.contains(d.place))
        .map(|d| d.why)
}

#[derive(Default)]
struct Tally {
    rows: usize,
    wrong: Vec<String>,
    known: Vec<String>,
    fixed: Vec<String>,
}

impl Tally {
    fn record(&mut self, who: &Who, row: String, problem: Option<String>) {
        self.rows += 1;
        match (problem, known_defect(who.name, &row)) {
            (None, None) => {}
            (None, Some(_)) => self.fixed.push(format!("{}: {row}", who.name)),
            (Some(p), Some(why)) => self.known.push(format!("{}: {row}: {p} ({why})", who.name)),
            (Some(p), None) => self.wrong.push(format!("{}: {row}: {p}", who.name)),
        }
    }
}

async fn entity_rows(fx: &Fixture, who: &Who, tally: &mut Tally) {
    for place in &PLACES {
        for &(act, kind) in ENTITY_ACTS {
            if reads_only(place) && !act.op().reads() {
                continue;
            }
            let req = request(fx, act, kind, place, tally.rows).await;
            let expected = match (act, verdict(who, kind, place, &req.path, act.op())) {
                // A push names its chart in the body: a caller who may not push into the space
                // is refused for the space, before anything tells whether the chart exists.
                (Act::HelmPush, Verdict::Hidden) => Verdict::Forbidden,
                (_, v) => v,
            };
            let headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let mut reply = fx
                .app
                .send(req.method.clone(), &req.uri, &who.auth, &headers, req.body.clone())
                .await;
            if act.surface() == Surface::Oci
                && who.guest()
                && let Some(token) = anonymous_token(&fx.app, &reply).await
            {
                reply = fx.app.send(req.method, &req.uri, &token, &headers, req.body).await;
            }
            let problem = check(act.surface(), expected, act.ok(), &reply);
            tally.record(who, format!("{act:?} {kind:?} {} ({expected:?})", place.label), problem);
        }
    }
}

/// What an anonymous registry client does with a challenge: asks the token service it names
/// for the scope it names, without credentials. The bearer token, if the reply was a challenge.
async fn anonymous_token(app: &TestApp, reply: &Reply) -> Option<Auth> {
    let challenge = reply.header("www-authenticate")?.strip_prefix("Bearer ")?;
    let param = |name: &str| {
        let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
        let len = challenge[start..].find('"')?;
        Some(challenge[start..start + len].to_string())
    };
    let uri = format!(
        "{}?service={}&scope={}",
        param("realm")?,
        param("service")?,
        param("scope")?.replace(' ', "+")
    );
    let token = app.send(Method::GET, &uri, &Auth::None, &[], vec![]).await;
    assert_eq!(token.status, 200, "an anonymous token: {}", token.text());
    Some(Auth::Bearer(token.json()["token"].as_str()?.to_string()))
}

/// Listings: 200 (the registry's catalog: 401 to a guest), and the place's entity listed
/// exactly when the caller may list it.
async fn listing_rows(fx: &Fixture, who: &Who, tally: &mut Tally) {
    let catalog = fx.app.send(Method::GET, "/v2/_catalog", &who.auth, &[], vec![]).await;
    for place in &PLACES {
        let mut listings = vec![("registry catalog", Kind::Container, Surface::Oci, &catalog)];
        let ngc: Vec<(Kind, Reply)> = ngc_lists(fx, who, place).await;
        for (kind, reply) in &ngc {
            let what = match kind {
                Kind::Container => "NGC repos list",
                Kind::Model => "NGC models list",
                Kind::Resource => "NGC resources list",
                Kind::Chart => "NGC charts list",
            };
            listings.push((what, *kind, Surface::Ngc, reply));
        }
        let index = fx
            .app
            .send(
                Method::GET,
                &format!("/{}/index.yaml", place.ns()),
                &who.auth,
                &[],
                vec![],
            )
            .await;
        let museum = fx
            .app
            .send(
                Method::GET,
                &format!("/api/{}/charts", place.ns()),
                &who.auth,
                &[],
                vec![],
            )
            .await;
        let searches = catalog_searches(fx, who, place).await;
        for (kind, reply) in &searches {
            listings.push(("catalog search", *kind, Surface::Ngc, reply));
        }
        listings.push(("Helm index.yaml", Kind::Chart, Surface::Helm, &index));
        listings.push(("ChartMuseum list", Kind::Chart, Surface::Helm, &museum));
        for (what, kind, surface, reply) in listings {
            let name = place.name(kind);
            let path = place.path(&name);
            let lists = verdict(who, kind, place, &path, Op::List);
            // A guest gets the public part of a listing; the registry's catalog is only for
            // callers who sign in.
            let unauthenticated = who.refused || (who.guest() && surface == Surface::Oci);
            let expected = if unauthenticated {
                Verdict::Unauthenticated
            } else {
                Verdict::Allowed
            };
            let mut problem = check(surface, expected, 200, reply);
            if problem.is_none() && expected == Verdict::Allowed {
                let listed = listed(surface, reply, &path, &name);
                let want = lists == Verdict::Allowed;
                if listed != want {
                    problem = Some(format!("{name} listed = {listed}, want {want}"));
                }
            }
            tally.record(who, format!("{what} {} ({lists:?})", place.label), problem);
        }
    }
}

/// The search API's catalog (everything the caller may see), per kind, for the place's space:
/// the search index must hide and show exactly what the verdict does.
async fn catalog_searches(fx: &Fixture, who: &Who, place: &Place) -> Vec<(Kind, Reply)> {
    let mut out = vec![];
    for kind in ALL_KINDS {
        let word = match kind {
            Kind::Container => "CONTAINER",
            Kind::Model => "MODEL",
            Kind::Resource => "RECIPE",
            Kind::Chart => "HELM_CHART",
        };
        let q = json!({"query": format!("resourceId:{}/*", place.ns()), "pageSize": 1000}).to_string();
        let uri = format!(
            "/v2/search/catalog/resources/{word}?q={}",
            utf8_percent_encode(&q, NON_ALPHANUMERIC)
        );
        out.push((*kind, fx.app.call(Method::GET, &uri, &who.auth, None).await));
    }
    out
}

/// NGC's listings of the place's space, one per kind.
async fn ngc_lists(fx: &Fixture, who: &Who, place: &Place) -> Vec<(Kind, Reply)> {
    let mut out = vec![];
    for kind in ALL_KINDS {
        let uri = format!("{}/{}", place.ngc(), ngc_segment(*kind));
        out.push((*kind, fx.app.call(Method::GET, &uri, &who.auth, None).await));
    }
    out
}

/// Whether a listing names the entity: the registry catalog and NGC's lists by full path or
/// name, Helm's by chart name.
fn listed(surface: Surface, reply: &Reply, path: &str, name: &str) -> bool {
    match surface {
        Surface::Helm => {
            let text = reply.text();
            text.contains(&format!("\n  \"{name}\":")) || body_json(reply).is_some_and(|j| j.get(name).is_some())
        }
        _ => {
            let text = reply.text();
            text.contains(&format!("\"{path}\"")) || text.contains(&format!("\"{name}\""))
        }
    }
}

/// Making new things in each space: an NGC entity of every kind, a repository by OCI push,
/// a chart by Helm push.
async fn create_rows(fx: &Fixture, who: &Who, tally: &mut Tally) {
    for place in &SPACES {
        for kind in ALL_KINDS {
            let name = format!("new-{}", tally.rows);
            let path = place.path(&name);
            let expected = space_verdict(who, *kind, place, &path, Op::Create);
            let uri = format!("{}/{}", place.ngc(), ngc_segment(*kind));
            let reply = fx
                .app
                .call(Method::POST, &uri, &who.auth, Some(json!({"name": name})))
                .await;
            let problem = check(Surface::Ngc, expected, 200, &reply);
            tally.record(
                who,
                format!("NGC create {kind:?} in {} ({expected:?})", place.ns()),
                problem,
            );
        }
        let name = format!("new-{}", tally.rows);
        let path = place.path(&name);
        let expected = space_verdict(who, Kind::Container, place, &path, Op::Upload);
        let reply = fx.app.push_blob(&who.auth, &path, b"a first layer").await;
        let problem = check(Surface::Oci, expected, 201, &reply);
        tally.record(
            who,
            format!("OCI push to a new repository in {} ({expected:?})", place.ns()),
            problem,
        );

        let name = format!("new-{}", tally.rows);
        let path = place.path(&name);
        let expected = space_verdict(who, Kind::Chart, place, &path, Op::Create);
        let reply = fx
            .app
            .send(
                Method::POST,
                &format!("/api/{}/charts", place.ns()),
                &who.auth,
                &[("content-type", "application/gzip")],
                chart_tgz(&name, "1.0.0", &[]),
            )
            .await;
        let problem = check(Surface::Helm, expected, 201, &reply);
        tally.record(
            who,
            format!("Helm push of a new chart in {} ({expected:?})", place.ns()),
            problem,
        );
    }
}

/// The data plane: a link made out to this caller, for a file and for the zip of each place's
/// model, works exactly while the caller may download.
async fn data_rows(fx: &Fixture, who: &Who, tally: &mut Tally) {
    if who.refused {
        return;
    }
    let principal = match fx.app.key_id(&who.auth).await {
        Some(id) => Principal::Key(id),
        None => Principal::Guest,
    };
    let soon = chrono::Utc::now().timestamp() + 600;
    for place in &PLACES {
        let version = version_id(fx, place).await;
        let path = place.path(&place.name(Kind::Model));
        let expected = match verdict(who, Kind::Model, place, &path, Op::Download) {
            // The link names its holder; whoever it is, it is refused alike.
            Verdict::Unauthenticated => Verdict::Forbidden,
            other => other,
        };
        let file = Resource::File {
            version,
            path: "weights.bin",
        };
        for (what, resource) in [("file", file), ("zip", Resource::Zip { version })] {
            let link = signed_path(&fx.app.state.urls, resource, principal, soon);
            let reply = fx.app.send(Method::GET, &link, &Auth::None, &[], vec![]).await;
            let mut problem = check(Surface::Data, expected, 200, &reply);
            if problem.is_none() && what == "file" && expected == Verdict::Allowed && &reply.body[..] != FILE {
                problem = Some("the file's bytes differ".into());
            }
            tally.record(
                who,
                format!("data-plane {what} link {} ({expected:?})", place.label),
                problem,
            );
        }
    }
}

async fn version_id(fx: &Fixture, place: &Place) -> i64 {
    let meta = &fx.app.state.meta;
    let path = place.path(&place.name(Kind::Model));
    let artifact = meta.artifact(ArtifactType::Model, &path).await.unwrap().expect("model");
    meta.version(artifact.id, VERSION).await.unwrap().expect("version").id
}

/// Links that are not good whoever holds them: expired, made out to someone else, unsigned.
async fn bad_link_rows(fx: &Fixture, tally: &mut Tally) {
    let owner = Who {
        name: "org owner's link",
        auth: fx.owner.clone(),
        reach: vec![],
        refused: false,
        subscriber: false,
        approved: false,
    };
    let owner_key = Principal::Key(fx.app.key_id(&fx.owner).await.expect("a key"));
    let now = chrono::Utc::now().timestamp();
    for place in &PLACES {
        let version = version_id(fx, place).await;
        let file = Resource::File {
            version,
            path: "weights.bin",
        };
        let good = signed_path(&fx.app.state.urls, file, owner_key, now + 600);
        let cases = [
            ("expired", signed_path(&fx.app.state.urls, file, owner_key, now - 1)),
            ("made out to someone else", good.replace("by=k", "by=k1")),
            (
                "made out to a guest",
                good.replace(&format!("by=k{}", key_number(owner_key)), "by=guest"),
            ),
            (
                "unsigned",
                good.split("&signature=").next().unwrap_or_default().to_string(),
            ),
        ];
        for (what, link) in cases {
            let reply = fx.app.send(Method::GET, &link, &Auth::None, &[], vec![]).await;
            let problem = check(Surface::Data, Verdict::Forbidden, 200, &reply);
            tally.record(&owner, format!("data-plane link {what} {}", place.label), problem);
        }
    }
}

fn key_number(principal: Principal) -> i64 {
    match principal {
        Principal::Key(id) => id,
        Principal::Guest | Principal::Session(_) => unreachable!("a key"),
    }
}

async fn matrix(stores: &Stores) {
    let started = Instant::now();
    let fx = fixture(stores).await;
    let built = started.elapsed();
    let mut tally = Tally::default();
    for who in callers(&fx).await {
        entity_rows(&fx, &who, &mut tally).await;
        listing_rows(&fx, &who, &mut tally).await;
        create_rows(&fx, &who, &mut tally).await;
        data_rows(&fx, &who, &mut tally).await;
    }
    bad_link_rows(&fx, &mut tally).await;
    eprintln!(
        "permission matrix on {:?}: {} rows in {:.2?} (fixture {:.2?}); {} known defects",
        stores.backend,
        tally.rows,
        started.elapsed(),
        built,
        tally.known.len()
    );
    for known in &tally.known {
        eprintln!("  known defect: {known}");
    }
    assert!(
        tally.fixed.is_empty(),
        "rows listed in KNOWN_DEFECTS now pass; take them off the list:\n{}",
        tally.fixed.join("\n")
    );
    assert!(
        tally.wrong.is_empty(),
        "{} of {} rows wrong:\n{}",
        tally.wrong.len(),
        tally.rows,
        tally.wrong.join("\n")
    );
}

both_backends!(permission_matrix, matrix);
