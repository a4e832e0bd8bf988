//! Create and edit (Private Registry guide §3.4, §4.2, §4.6, §5.2, §6.3.2, §6.3.3): the creation
//! hub, and one form per kind for a container repository's, model's, resource's or Helm chart's
//! metadata. The checks and writes are `catalog::publishing` and `catalog::repository_catalog`,
//! as for the REST API; a refused field is marked on the form with why.

use super::error::{WebError, WebResult};
use super::explore::caller_of;
use super::forms::{Fields, see_other};
use super::render::page;
use super::visitor::Visitor;
use crate::auth::Caller;
use crate::catalog::entities::{EntityPath, Found, find};
use crate::catalog::error::DomainError;
use crate::catalog::fields::{RESOURCE_APPLICATIONS, RESOURCE_FRAMEWORKS, RESOURCE_PRECISIONS};
use crate::catalog::kinds::{CHART, Kind, MODEL, RESOURCE};
use crate::catalog::publishing;
use crate::catalog::repository_catalog::{RepoChange, RepoPath, repository, require_new_repository};
use crate::catalog::space::Space;
use crate::identity::contexts::contexts_of;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use hangar_core::policy::{ArtifactKind, ArtifactOp};
use hangar_pages::{Choice, CreateHub, FormField, Preview, PublishPage, markdown};
use hangar_store::meta::{Repository, RepositoryInfo};
use serde::Deserialize;
use serde_json::{Map, Value};

/// How a form shows one field.
#[derive(Clone, Copy)]
enum Widget {
    Text,
    Select(&'static [&'static str]),
    /// A comma-separated list, stored as a list.
    Labels,
    Markdown,
    Check,
}

/// One field of a kind's form: its NGC key, label, widget and help.
type Spec = (&'static str, &'static str, Widget, &'static str);

const TOP: [Spec; 5] = [
    (
        "displayName",
        "Display name",
        Widget::Text,
        "How the catalog titles it.",
    ),
    (
        "shortDescription",
        "Description",
        Widget::Text,
        "One sentence for cards and search results.",
    ),
    ("publisher", "Publisher", Widget::Text, ""),
    ("builtBy", "Built by", Widget::Text, ""),
    (
        "labelsV2",
        "Labels",
        Widget::Labels,
        "Comma-separated, such as: vision, edge",
    ),
];
const LOGO: Spec = ("logo", "Logo URL", Widget::Text, "An https address of an image.");
const OVERVIEW: Spec = ("description", "Overview (Markdown)", Widget::Markdown, "");

/// A kind the pages create: its Explore segment, what the hub says, its form's fields, and
/// (none for containers) its entity kind.
struct Creatable {
    segment: &'static str,
    title: &'static str,
    what: &'static str,
    extra: &'static [Spec],
    kind: Option<&'static Kind>,
}

const CREATABLE: [Creatable; 4] = [
    Creatable {
        segment: "containers",
        title: "Container repository",
        what: "A place for images, described before its first push.",
        extra: &[("isMultinodeEnabled", "Runs on several nodes", Widget::Check, "")],
        kind: None,
    },
    Creatable {
        segment: "models",
        title: "Model",
        what: "Trained weights in versions of files.",
        extra: &[
            ("application", "Application", Widget::Text, "Such as: Object Detection"),
            ("framework", "Framework", Widget::Text, "Such as: PyTorch"),
            ("precision", "Precision", Widget::Text, "Such as: FP16"),
            ("modelFormat", "Model format", Widget::Text, "Such as: onnx"),
        ],
        kind: Some(&MODEL),
    },
    Creatable {
        segment: "resources",
        title: "Resource",
        what: "Scripts, notebooks and guides in versions of files.",
        extra: &[
            ("application", "Application", Widget::Select(RESOURCE_APPLICATIONS), ""),
            (
                "trainingFramework",
                "Framework",
                Widget::Select(RESOURCE_FRAMEWORKS),
                "",
            ),
            ("precision", "Precision", Widget::Select(RESOURCE_PRECISIONS), ""),
            ("quickStartGuide", "Quick start guide (Markdown)", Widget::Markdown, ""),
            ("setup", "Setup (Markdown)", Widget::Markdown, ""),
            ("advanced", "Advanced guide (Markdown)", Widget::Markdown, ""),
            ("performance", "Performance (Markdown)", Widget::Markdown, ""),
        ],
        kind: Some(&RESOURCE),
    },
    Creatable {
        segment: "helm-charts",
        title: "Helm chart",
        what: "Described here; its versions are the archives pushed to it.",
        extra: &[],
        kind: Some(&CHART),
    },
];

fn creatable(segment: &str) -> WebResult<&'static Creatable> {
    CREATABLE
        .iter()
        .find(|c| c.segment == segment)
        .ok_or_else(|| WebError::NotFound(format!("there is nothing to create called '{segment}'")))
}

impl Creatable {
    fn policy(&self) -> ArtifactKind {
        self.kind.map_or(ArtifactKind::Container, |k| k.policy)
    }

    fn specs(&self) -> Vec<Spec> {
        let mut specs = TOP.to_vec();
        specs.extend(self.extra.iter().copied());
        specs.push(LOGO);
        specs.push(OVERVIEW);
        specs
    }

    /// The form's fields with their values (from stored metadata, or what was typed).
    fn form_fields(&self, value_of: impl Fn(&str) -> String) -> Vec<FormField> {
        self.specs()
            .into_iter()
            .map(|(key, label, widget, help)| {
                let value = value_of(key);
                let (widget, options) = match widget {
                    Widget::Text => ("text", vec![]),
                    Widget::Labels => ("labels", vec![]),
                    Widget::Markdown => ("markdown", vec![]),
                    Widget::Check => ("check", vec![]),
                    Widget::Select(allowed) => {
                        let mut options = vec![Choice {
                            value: String::new(),
                            label: "(not set)".into(),
                            selected: value.is_empty(),
                        }];
                        options.extend(allowed.iter().map(|a| Choice {
                            value: a.to_string(),
                            label: a.replace('_', " "),
                            selected: value.eq_ignore_ascii_case(a),
                        }));
                        ("select", options)
                    }
                };
                FormField {
                    key: key.into(),
                    label: label.into(),
                    widget,
                    value,
                    options,
                    help: help.into(),
                    error: String::new(),
                }
            })
            .collect()
    }

    /// The typed fields as the JSON body the REST API takes: a list for labels, a flag for a
    /// check box; empty fields left out when creating (and cleared when editing).
    fn body(&self, fields: &Fields, creating: bool) -> Map<String, Value> {
        let mut body = Map::new();
        for (key, _, widget, _) in self.specs() {
            let typed = fields.get(key);
            let value = match widget {
                Widget::Check => Value::Bool(typed == "on"),
                Widget::Labels => Value::from(
                    typed
                        .split(',')
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>(),
                ),
                _ if typed.is_empty() && creating => continue,
                _ => Value::String(typed.replace("\r\n", "\n")),
            };
            body.insert(key.to_string(), value);
        }
        body
    }
}

/// A stored metadata value as a form shows it.
fn shown(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        Some(Value::Bool(true)) => "on".into(),
        _ => String::new(),
    }
}

/// The repository's metadata as NGC's fields, for the form.
fn repository_fields(info: &RepositoryInfo) -> Value {
    serde_json::json!({
        "displayName": info.display_name, "shortDescription": info.short_description,
        "publisher": info.publisher, "builtBy": info.built_by, "labelsV2": info.labels,
        "logo": info.logo, "description": info.description, "isMultinodeEnabled": info.is_multinode,
    })
}

/// The form's fields as a repository change.
fn repository_change(body: &Map<String, Value>) -> RepoChange {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    RepoChange {
        display_name: text("displayName"),
        short_description: text("shortDescription"),
        description: text("description"),
        labels: body
            .get("labelsV2")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect()),
        logo: text("logo"),
        publisher: text("publisher"),
        built_by: text("builtBy"),
        is_multinode: body.get("isMultinodeEnabled").and_then(Value::as_bool),
    }
}

/// `GET /create`.
pub async fn hub(State(state): State<AppState>, visitor: Visitor) -> WebResult<Response> {
    visitor.signed_in()?;
    let mut kinds: Vec<(String, String, String)> = CREATABLE
        .iter()
        .map(|c| {
            (
                format!("/create/{}", c.segment),
                c.title.to_string(),
                c.what.to_string(),
            )
        })
        .collect();
    kinds.push((
        "/create/clone".into(),
        "Clone a version".into(),
        "A new version of a model or resource that starts from one of its versions.".into(),
    ));
    let template = CreateHub {
        chrome: visitor.chrome(&state).await?,
        kinds,
    };
    Ok(visitor.respond(page(&template)))
}

#[derive(Deserialize, Default)]
pub struct CloneQuery {
    /// `models/org/[team/]name:version`.
    #[serde(default)]
    base: String,
}

/// `GET /create/clone[?base=models/org/name:version]`: the versions the visitor may clone, or
/// (with `base`) on to its upload page.
pub async fn clone_pick(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<CloneQuery>,
) -> WebResult<Response> {
    let signed = visitor.signed_in()?;
    if let Some((entity, version)) = q.base.rsplit_once(':') {
        return Ok(see_other(&format!(
            "/upload/{entity}?clone={}",
            super::forms::encode(version)
        )));
    }
    let caller = caller_of(&state, &visitor).await?;
    let mut versions = vec![];
    for context in contexts_of(&state.meta, signed.account.user.id).await? {
        let space = Space::find(&state, &context.org, context.team.as_deref()).await?;
        let team = Some(space.team.as_ref().map(|t| t.id));
        for (segment, kind) in [("models", &MODEL), ("resources", &RESOURCE)] {
            for artifact in state.meta.artifacts_of(kind.stored, space.org.id, team).await? {
                if !space.allows(&caller, kind.policy, ArtifactOp::Upload, Some(&artifact.path)) {
                    continue;
                }
                for v in state.meta.versions(artifact.id).await? {
                    if v.status == hangar_store::meta::UPLOAD_COMPLETE {
                        versions.push(Choice {
                            value: format!("{segment}/{}:{}", artifact.path, v.version),
                            label: format!("{} {}:{}", kind.wire.noun, artifact.path, v.version),
                            selected: false,
                        });
                    }
                }
            }
        }
    }
    let template = hangar_pages::ClonePick {
        chrome: visitor.chrome(&state).await?,
        versions,
    };
    Ok(visitor.respond(page(&template)))
}

/// The orgs and teams the caller may create `what` in, `chosen` selected (else the session's
/// org or team).
async fn spaces(
    state: &AppState,
    visitor: &Visitor,
    caller: &Caller,
    what: &Creatable,
    chosen: &str,
) -> WebResult<Vec<Choice>> {
    let signed = visitor.signed_in()?;
    let current = super::visitor::context_value(signed).unwrap_or_default();
    let chosen = if chosen.is_empty() { current.as_str() } else { chosen };
    let mut out = Vec::new();
    for context in contexts_of(&state.meta, signed.account.user.id).await? {
        let target = hangar_core::policy::Target::team(&context.org, context.team.as_deref());
        let action = hangar_core::policy::Action::Artifact(what.policy(), ArtifactOp::Create);
        if caller.allowed(action, &target) {
            out.push(Choice {
                selected: context.value() == chosen,
                value: context.value(),
                label: context.label(),
            });
        }
    }
    if out.is_empty() {
        return Err(WebError::Forbidden(format!(
            "You may not create a {} in any organization or team: that takes Registry User, Registry Admin or Org Owner.",
            what.title.to_lowercase()
        )));
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct SpaceQuery {
    #[serde(default)]
    space: String,
}

/// `GET /create/{kind}[?space=org/team]`.
pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(segment): Path<String>,
    Query(q): Query<SpaceQuery>,
) -> WebResult<Response> {
    let what = creatable(&segment)?;
    visitor.signed_in()?;
    let caller = caller_of(&state, &visitor).await?;
    let template = PublishPage {
        chrome: visitor.chrome(&state).await?,
        heading: format!("Create a {}", what.title.to_lowercase()),
        action: format!("/create/{}", what.segment),
        creating: true,
        spaces: spaces(&state, &visitor, &caller, what, &q.space).await?,
        name: String::new(),
        name_error: String::new(),
        fields: what.form_fields(|_| String::new()),
        error: String::new(),
        submit: format!("Create {}", what.title.to_lowercase()),
        cancel: "/create".into(),
    };
    Ok(visitor.respond(page(&template)))
}

/// Marks a refusal on the form: on the field it names (`'displayName' …`, or the name), else
/// above the form. Refusals of the caller, or failures, are the error page.
fn mark(template: &mut PublishPage, e: DomainError) -> WebResult<()> {
    let why = match e {
        DomainError::Invalid(why) | DomainError::Conflict(why) => why,
        DomainError::Store(hangar_store::Error::Conflict(what)) => format!("{what} already exists"),
        other => return Err(other.into()),
    };
    let field = template
        .fields
        .iter_mut()
        .find(|f| why.starts_with(&format!("'{}'", f.key)) || why.starts_with(&f.label.to_lowercase()));
    match field {
        Some(field) => field.error = why,
        None if template.creating && (why.contains("name") || why.contains("already exists")) => {
            template.name_error = why
        }
        None => template.error = why,
    }
    Ok(())
}

/// `POST /create/{kind}`: space, name and the kind's fields.
pub async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(segment): Path<String>,
    fields: Fields,
) -> WebResult<Response> {
    let what = creatable(&segment)?;
    let caller = visitor.acting(&state, &fields.get("csrf")).await?;
    let chosen = fields.get("space");
    let (org, team) = match chosen.split_once('/') {
        Some((org, team)) => (org.to_string(), Some(team.to_string())),
        None => (chosen.clone(), None),
    };
    let space = Space::find(&state, &org, team.as_deref()).await?;
    let name = fields.get("name").trim().to_string();
    let body = what.body(&fields, true);
    let created = match what.kind {
        Some(kind) => create_entity(&state, &caller, kind, space, &name, &body).await,
        None => create_repository(&state, &caller, &space, &name, &body).await,
    };
    match created {
        Ok(full) => Ok(see_other(&format!("/catalog/{}/{full}", what.segment))),
        Err(e) => {
            let mut template = PublishPage {
                chrome: visitor.chrome(&state).await?,
                heading: format!("Create a {}", what.title.to_lowercase()),
                action: format!("/create/{}", what.segment),
                creating: true,
                spaces: spaces(&state, &visitor, &caller, what, &chosen).await?,
                name,
                name_error: String::new(),
                fields: what.form_fields(|key| fields.get(key)),
                error: String::new(),
                submit: format!("Create {}", what.title.to_lowercase()),
                cancel: "/create".into(),
            };
            mark(&mut template, e)?;
            let mut response = page(&template);
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(visitor.respond(response))
        }
    }
}

async fn create_entity(
    state: &AppState,
    caller: &Caller,
    kind: &Kind,
    space: Space,
    name: &str,
    body: &Map<String, Value>,
) -> Result<String, DomainError> {
    let full = publishing::require_create(caller, kind, &space, name)?;
    let metadata = publishing::with_fields(kind.fields, &Value::Null, body, &[])?;
    publishing::create_entity(state, caller, kind, space, (name, &full), &metadata).await?;
    Ok(full)
}

async fn create_repository(
    state: &AppState,
    caller: &Caller,
    space: &Space,
    name: &str,
    body: &Map<String, Value>,
) -> Result<String, DomainError> {
    let full = require_new_repository(state, caller, space, name).await?;
    // Checked before anything is made.
    repository_change(body).apply(&mut RepositoryInfo::default())?;
    let mut repo = state
        .meta
        .ensure_repository(space.org.id, space.team.as_ref().map(|t| t.id), &full)
        .await?;
    repository_change(body).apply(&mut repo.info)?;
    state.meta.update_repository_info(repo.id, &repo.info).await?;
    Ok(full)
}

/// What an edit form is about: an entity, or a container repository.
pub(super) enum Editing {
    Entity(&'static Kind, Found),
    Repository(Repository),
}

/// `org[/team]/name` of a page address, as the entity or repository path.
pub(super) fn split_path(rest: &str) -> WebResult<(String, Option<String>, String)> {
    let parts: Vec<&str> = rest.split('/').collect();
    match parts[..] {
        [org, name] => Ok((org.into(), None, name.into())),
        [org, team, name] => Ok((org.into(), Some(team.into()), name.into())),
        _ => Err(WebError::NotFound(format!("there is nothing at '{rest}'"))),
    }
}

/// The entity or repository at `rest` of the `segment` kind, if the caller may do `op` to it.
pub(super) async fn editing(
    state: &AppState,
    caller: &Caller,
    segment: &str,
    rest: &str,
    op: ArtifactOp,
) -> WebResult<Editing> {
    let what = creatable(segment)?;
    let (org, team, name) = split_path(rest)?;
    Ok(match what.kind {
        Some(kind) => {
            let path = EntityPath {
                org,
                team,
                name,
                version: None,
            };
            Editing::Entity(kind, find(state, kind.stored, caller, &path, op).await?)
        }
        None => {
            let path = RepoPath {
                org,
                team,
                repo: name,
                tag: None,
            };
            Editing::Repository(repository(state, caller, &path, op).await?.1)
        }
    })
}

fn edit_page(what: &Creatable, rest: &str, chrome: hangar_pages::Chrome, fields: Vec<FormField>) -> PublishPage {
    PublishPage {
        chrome,
        heading: format!("Edit {} {rest}", what.title.to_lowercase()),
        action: format!("/edit/{}/{rest}", what.segment),
        creating: false,
        spaces: vec![],
        name: String::new(),
        name_error: String::new(),
        fields,
        error: String::new(),
        submit: "Save".into(),
        cancel: format!("/catalog/{}/{rest}", what.segment),
    }
}

/// `GET /edit/{kind}/{org}[/{team}]/{name}`.
pub async fn edit_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((segment, rest)): Path<(String, String)>,
) -> WebResult<Response> {
    visitor.signed_in()?;
    let what = creatable(&segment)?;
    let caller = caller_of(&state, &visitor).await?;
    let current = match editing(&state, &caller, &segment, &rest, ArtifactOp::Update).await? {
        Editing::Entity(_, found) => found.artifact.metadata,
        Editing::Repository(repo) => repository_fields(&repo.info),
    };
    let fields = what.form_fields(|key| shown(current.get(key)));
    let template = edit_page(what, &rest, visitor.chrome(&state).await?, fields);
    Ok(visitor.respond(page(&template)))
}

/// `POST /edit/{kind}/{org}[/{team}]/{name}`: every field of the form replaces the stored one.
pub async fn edit(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((segment, rest)): Path<(String, String)>,
    fields: Fields,
) -> WebResult<Response> {
    let what = creatable(&segment)?;
    let caller = visitor.acting(&state, &fields.get("csrf")).await?;
    let body = what.body(&fields, false);
    let saved: Result<(), DomainError> = match editing(&state, &caller, &segment, &rest, ArtifactOp::Update).await? {
        Editing::Entity(kind, found) => {
            async {
                let metadata = publishing::with_fields(kind.fields, &found.artifact.metadata, &body, &[])?;
                Ok(state
                    .meta
                    .update_artifact(found.artifact.id, &metadata, found.artifact.access)
                    .await?)
            }
            .await
        }
        Editing::Repository(mut repo) => {
            async {
                repository_change(&body).apply(&mut repo.info)?;
                Ok(state.meta.update_repository_info(repo.id, &repo.info).await?)
            }
            .await
        }
    };
    match saved {
        Ok(()) => Ok(see_other(&format!("/catalog/{}/{rest}?done=saved", what.segment))),
        Err(e) => {
            let fields = what.form_fields(|key| fields.get(key));
            let mut template = edit_page(what, &rest, visitor.chrome(&state).await?, fields);
            mark(&mut template, e)?;
            let mut response = page(&template);
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(visitor.respond(response))
        }
    }
}

/// `POST /preview`: the Markdown of the form's field named by `preview`, rendered and
/// sanitized as the entity page will show it.
pub async fn preview(visitor: Visitor, fields: Fields) -> WebResult<Response> {
    visitor.signed_in()?;
    visitor.check_csrf(&fields.get("csrf"))?;
    let text = fields.get(&fields.get("preview"));
    Ok(page(&Preview { html: markdown(&text) }))
}
