//! `hangar key …`: personal keys (the caller's own, in the current org), service keys (the
//! org's), every key visible in the org, and the caller's legacy key. Secrets are shown once,
//! after create, rotate and generate.

use super::Ctx;
use super::http::{Api, seg};
use super::output::Report;
use super::prompt::confirm_remove;
use super::user::my_id;
use super::views;
use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::{Map, Value, json};

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Your personal keys in the current org.
    #[command(subcommand)]
    Personal(PersonalCommand),
    /// The current org's service keys (org owners and user admins).
    #[command(subcommand)]
    Service(ServiceCommand),
    /// List all keys of the current org visible to you.
    List {
        /// Only the keys of this user.
        #[arg(long = "user-id", value_name = "ID")]
        user_id: Option<i64>,
    },
    /// Your legacy key (one per user, valid in all your orgs).
    #[command(subcommand)]
    Legacy(LegacyCommand),
    /// Keys that sign images and models on your own machine (cosign's format).
    #[command(subcommand)]
    Signing(super::signing_key::SigningCommand),
}

#[derive(Subcommand)]
pub enum PersonalCommand {
    /// Create a personal key; its secret is shown once.
    Create {
        /// Key name.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Lifetime: e.g. 1h, 7d, 3M, 12M (default), never, or an RFC 3339 date.
        #[arg(long, value_name = "EXPIRY")]
        expiry: Option<String>,
        /// Service the key may use (NGC_CATALOG, PRIVATE_REGISTRY); repeat for more [default: all
        /// your roles allow].
        #[arg(long = "service", value_name = "SERVICE")]
        service: Vec<String>,
    },
    /// List your personal keys.
    List,
    /// Show a personal key.
    Info(KeyId),
    /// Change a personal key's name, state or services.
    Update {
        #[command(flatten)]
        key: KeyId,
        /// New name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Enable (true) or disable (false) the key.
        #[arg(long, value_name = "BOOL")]
        active: Option<bool>,
        /// Services, replacing the current ones; repeat for more.
        #[arg(long = "service", value_name = "SERVICE")]
        service: Vec<String>,
    },
    /// Replace a personal key's secret; the old one stops working. The new one is shown once.
    Rotate(KeyId),
    /// Delete a personal key.
    Delete(KeyDelete),
}

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Create a service key; its secret is shown once.
    Create {
        /// Key name.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Scope (e.g. ALL_SCOPES, GET_CONTAINER, LIST_CONTAINERS, DOWNLOAD_CONTAINER,
        /// UPLOAD_CONTAINER, GET_ARTIFACT, LIST_ARTIFACTS); repeat for more.
        #[arg(long = "scope", value_name = "SCOPE", required = true)]
        scope: Vec<String>,
        /// Entities the scopes apply to: ALL (default), ALL_CONTAINERS, ALL_MODELS,
        /// ALL_HELM_CHARTS, ALL_RESOURCES, SPECIFIC_CONTAINER, SPECIFIC_MODEL,
        /// SPECIFIC_HELM_CHART or SPECIFIC_RESOURCE.
        #[arg(long = "entity-type", value_name = "TYPE")]
        entity_type: Option<String>,
        /// The entity of a SPECIFIC_* type: org/[team/]name.
        #[arg(long = "entity-value", value_name = "NAME")]
        entity_value: Option<String>,
        /// Lifetime: e.g. 1h, 7d, 3M, 12M (default), never, or an RFC 3339 date.
        #[arg(long, value_name = "EXPIRY")]
        expiry: Option<String>,
    },
    /// List the org's service keys.
    List,
    /// Show a service key.
    Info(KeyId),
    /// Change a service key's name, state, scopes or entities.
    Update {
        #[command(flatten)]
        key: KeyId,
        /// New name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Enable (true) or disable (false) the key.
        #[arg(long, value_name = "BOOL")]
        active: Option<bool>,
        /// Scopes, replacing the current ones; repeat for more.
        #[arg(long = "scope", value_name = "SCOPE")]
        scope: Vec<String>,
        /// New entity type.
        #[arg(long = "entity-type", value_name = "TYPE")]
        entity_type: Option<String>,
        /// New entity value (org/[team/]name).
        #[arg(long = "entity-value", value_name = "NAME")]
        entity_value: Option<String>,
    },
    /// Replace a service key's secret; the old one stops working. The new one is shown once.
    Rotate(KeyId),
    /// Delete a service key.
    Delete(KeyDelete),
}

#[derive(Subcommand)]
pub enum LegacyCommand {
    /// Generate your legacy key (replacing any previous one); its secret is shown once.
    Generate,
    /// Show your legacy key.
    Info,
    /// Delete your legacy key.
    Delete {
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct KeyId {
    /// Key id.
    id: i64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct KeyDelete {
    /// Key id.
    id: i64,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long = "yes")]
    yes: bool,
}

impl KeyCommand {
    pub fn supports_csv(&self) -> bool {
        matches!(
            self,
            KeyCommand::List { .. }
                | KeyCommand::Personal(PersonalCommand::List)
                | KeyCommand::Service(ServiceCommand::List)
        )
    }
}

/// Personal or service: the two kinds managed per org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Personal,
    Service,
}

impl Kind {
    fn wire(self) -> &'static str {
        match self {
            Kind::Personal => "PERSONAL",
            Kind::Service => "SERVICE",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Personal => "personal",
            Kind::Service => "service",
        }
    }
}

const LEGACY_PATH: &str = "/v3/users/me/legacy-key";

fn keys_path(org: &str) -> String {
    format!("/v3/orgs/{}/keys", seg(org))
}

fn key_path(org: &str, id: i64) -> String {
    format!("{}/{id}", keys_path(org))
}

/// The key's block after a message; json: the key.
fn key_report(message: Option<String>, response: &Value) -> Report {
    let key = response.get("key").cloned().unwrap_or(Value::Null);
    let report = match message {
        Some(m) => Report::new().text(m),
        None => Report::new(),
    };
    report.block(views::key_block(&key)).json(key)
}

/// A message, the secret, then the key's block; json: `{"key", "secret"}`. The secret comes
/// first so that it is the first key-like word of the output (the block shows the key's hint).
fn secret_report(message: String, response: &Value) -> Report {
    let key = response.get("key").cloned().unwrap_or(Value::Null);
    let secret = views::field(response, "secret");
    Report::new()
        .text(message)
        .text(views::secret_lines(&secret))
        .block(views::key_block(&key))
        .json(views::without_status(response.clone()))
}

/// Adds the `Some` values and non-empty lists to a request body.
fn body(pairs: &[(&str, Option<Value>)]) -> Value {
    let mut map = Map::new();
    for (name, value) in pairs {
        if let Some(v) = value {
            map.insert(name.to_string(), v.clone());
        }
    }
    Value::Object(map)
}

fn list_value(items: &[String]) -> Option<Value> {
    (!items.is_empty()).then(|| json!(items))
}

struct Keys<'a> {
    api: Api,
    ctx: &'a Ctx,
}

impl Keys<'_> {
    fn org(&self) -> Result<&str> {
        self.ctx.org()
    }

    async fn list(&self, query: &[(&str, String)]) -> Result<Report> {
        let response = self.api.get(&keys_path(self.org()?), query).await?;
        let keys = response
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(Report::new().table(views::keys_table(&keys)).json_list(keys))
    }

    /// The key, checked to be of `kind`.
    async fn get(&self, kind: Kind, id: i64) -> Result<Value> {
        let response = self.api.get(&key_path(self.org()?, id), &[]).await?;
        let actual = response
            .pointer("/key/type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if actual != kind.wire() {
            let hint = if actual == "SERVICE" { "service" } else { "personal" };
            bail!(
                "Key {id} is a {actual} key, not a {} key; use `hangar key {hint} …`.",
                kind.wire()
            );
        }
        Ok(response)
    }

    async fn create(&self, kind: Kind, request: Value) -> Result<Report> {
        let path = format!("{}/{}", keys_path(self.org()?), kind.word());
        let response = self.api.post(&path, &request).await?;
        let title = match kind {
            Kind::Personal => "Personal key created.",
            Kind::Service => "Service key created.",
        };
        Ok(secret_report(title.into(), &response))
    }

    async fn info(&self, kind: Kind, id: i64) -> Result<Report> {
        Ok(key_report(None, &self.get(kind, id).await?))
    }

    async fn update(&self, kind: Kind, id: i64, change: Value) -> Result<Report> {
        if change.as_object().is_none_or(Map::is_empty) {
            bail!("Nothing to update: give at least one new value.");
        }
        self.get(kind, id).await?;
        let response = self.api.patch(&key_path(self.org()?, id), &[], Some(&change)).await?;
        Ok(key_report(Some(format!("Key '{id}' updated.")), &response))
    }

    async fn rotate(&self, kind: Kind, id: i64) -> Result<Report> {
        self.get(kind, id).await?;
        let response = self
            .api
            .post(&format!("{}/rotate", key_path(self.org()?, id)), &json!({}))
            .await?;
        Ok(secret_report(format!("Key '{id}' rotated."), &response))
    }

    async fn delete(&self, kind: Kind, args: &KeyDelete) -> Result<Report> {
        self.get(kind, args.id).await?;
        confirm_remove(&format!("{} key '{}'", kind.word(), args.id), args.yes)?;
        self.api.delete(&key_path(self.org()?, args.id), &[]).await?;
        Ok(Report::new().text(format!("Key '{}' deleted.", args.id)))
    }
}

pub async fn run(ctx: &Ctx, cmd: KeyCommand) -> Result<Report> {
    // Made on this machine: no server, no API key needed.
    let cmd = match cmd {
        KeyCommand::Signing(cmd) if !cmd.needs_server() => return super::signing_key::run(cmd),
        other => other,
    };
    let keys = Keys { api: ctx.api()?, ctx };
    match cmd {
        KeyCommand::Personal(cmd) => personal(&keys, cmd).await,
        KeyCommand::Service(cmd) => service(&keys, cmd).await,
        KeyCommand::List { user_id } => {
            let query: Vec<(&str, String)> = user_id.iter().map(|id| ("user-id", id.to_string())).collect();
            keys.list(&query).await
        }
        KeyCommand::Legacy(cmd) => legacy(&keys.api, cmd).await,
        KeyCommand::Signing(cmd) => super::signing_key::run_remote(ctx, cmd).await,
    }
}

async fn personal(keys: &Keys<'_>, cmd: PersonalCommand) -> Result<Report> {
    let kind = Kind::Personal;
    match cmd {
        PersonalCommand::Create { name, expiry, service } => {
            let request = body(&[
                ("name", Some(json!(name))),
                ("expiry", expiry.map(Value::from)),
                ("services", list_value(&service)),
            ]);
            keys.create(kind, request).await
        }
        PersonalCommand::List => {
            let me = my_id(keys.ctx, &keys.api).await?;
            keys.list(&[("kind", kind.wire().into()), ("user-id", me)]).await
        }
        PersonalCommand::Info(k) => keys.info(kind, k.id).await,
        PersonalCommand::Update {
            key,
            name,
            active,
            service,
        } => {
            let change = body(&[
                ("name", name.map(Value::from)),
                ("active", active.map(Value::from)),
                ("services", list_value(&service)),
            ]);
            keys.update(kind, key.id, change).await
        }
        PersonalCommand::Rotate(k) => keys.rotate(kind, k.id).await,
        PersonalCommand::Delete(args) => keys.delete(kind, &args).await,
    }
}

async fn service(keys: &Keys<'_>, cmd: ServiceCommand) -> Result<Report> {
    let kind = Kind::Service;
    match cmd {
        ServiceCommand::Create {
            name,
            scope,
            entity_type,
            entity_value,
            expiry,
        } => {
            let request = body(&[
                ("name", Some(json!(name))),
                ("expiry", expiry.map(Value::from)),
                ("scopes", Some(json!(scope))),
                ("entityType", entity_type.map(Value::from)),
                ("entityValue", entity_value.map(Value::from)),
            ]);
            keys.create(kind, request).await
        }
        ServiceCommand::List => keys.list(&[("kind", kind.wire().into())]).await,
        ServiceCommand::Info(k) => keys.info(kind, k.id).await,
        ServiceCommand::Update {
            key,
            name,
            active,
            scope,
            entity_type,
            entity_value,
        } => {
            let change = body(&[
                ("name", name.map(Value::from)),
                ("active", active.map(Value::from)),
                ("scopes", list_value(&scope)),
                ("entityType", entity_type.map(Value::from)),
                ("entityValue", entity_value.map(Value::from)),
            ]);
            keys.update(kind, key.id, change).await
        }
        ServiceCommand::Rotate(k) => keys.rotate(kind, k.id).await,
        ServiceCommand::Delete(args) => keys.delete(kind, &args).await,
    }
}

async fn legacy(api: &Api, cmd: LegacyCommand) -> Result<Report> {
    match cmd {
        LegacyCommand::Generate => {
            let response = api.post(LEGACY_PATH, &json!({})).await?;
            Ok(secret_report("Legacy key generated.".into(), &response))
        }
        LegacyCommand::Info => Ok(key_report(None, &api.get(LEGACY_PATH, &[]).await?)),
        LegacyCommand::Delete { yes } => {
            confirm_remove("your legacy key", yes)?;
            api.delete(LEGACY_PATH, &[]).await?;
            Ok(Report::new().text("Legacy key deleted."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::output::Format;

    #[test]
    fn bodies_hold_only_given_values() {
        let b = body(&[
            ("name", Some(json!("x"))),
            ("expiry", None),
            ("services", list_value(&[])),
        ]);
        assert_eq!(b, json!({"name": "x"}));
        let b = body(&[("active", Some(json!(false))), ("scopes", list_value(&["A".into()]))]);
        assert_eq!(b, json!({"active": false, "scopes": ["A"]}));
    }

    #[test]
    fn secrets_are_labelled_and_in_json() {
        let response =
            json!({"key": {"id": 9, "name": "ci", "type": "SERVICE"}, "secret": "nvapi-s3cret", "requestStatus": {}});
        let report = secret_report("Service key created.".into(), &response);
        let ascii = report.render(Format::Ascii, 80).unwrap();
        assert!(ascii.starts_with(
            "Service key created.\nAPI Key: nvapi-s3cret\nSave this key now; it will not be shown again.\n---"
        ));
        assert!(ascii.ends_with("---\n"));
        let json: Value = serde_json::from_str(&report.render(Format::Json, 80).unwrap()).unwrap();
        assert_eq!(
            json,
            json!({"key": {"id": 9, "name": "ci", "type": "SERVICE"}, "secret": "nvapi-s3cret"})
        );
    }

    #[test]
    fn key_paths() {
        assert_eq!(key_path("acme", 4), "/v3/orgs/acme/keys/4");
        assert_eq!(keys_path("a b"), "/v3/orgs/a%20b/keys");
    }
}
