//! `hangar user who|info|update`.

use super::Ctx;
use super::http::Api;
use super::members::{self, Scope, user_report};
use super::output::{Report, Table};
use super::views::{self, UserColumns};
use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Show the current user (the API key's owner).
    Who,
    /// Show the signed-in user (e-mail login or API key): name, e-mail, orgs, teams and roles.
    Me,
    /// List your sessions: signed-in browsers and e-mail logins.
    Sessions,
    /// End one of your sessions (a browser or an e-mail login) by its id.
    EndSession {
        /// Session id (from `hangar user sessions`).
        id: i64,
    },
    /// Get a user's details in the current org (or current team).
    Info {
        /// User id (or e-mail address).
        id: String,
    },
    /// Your requests for access to entities that need the publisher's approval.
    AccessRequests,
    /// Update the current user.
    Update {
        /// New user name.
        #[arg(short = 'n', long, value_name = "NAME")]
        name: Option<String>,
    },
}

impl UserCommand {
    /// Only the list has a CSV form, as with `ngc`'s other detail commands.
    pub fn supports_csv(&self) -> bool {
        matches!(self, UserCommand::Sessions | UserCommand::AccessRequests)
    }
}

/// The current user: `GET /v2/users/me[?org-name=…]`.
pub async fn me(ctx: &Ctx, api: &Api) -> Result<Value> {
    let query: Vec<(&str, String)> = ctx.settings.org.iter().map(|o| ("org-name", o.value.clone())).collect();
    api.get("/v2/users/me", &query).await
}

/// A user's full details table; json: the `{"user": …}` response.
fn details(response: Value) -> Report {
    let table = views::user_table(response.get("user").unwrap_or(&Value::Null), UserColumns::FULL);
    Report::new().table(table).json(views::without_status(response))
}

pub async fn run(ctx: &Ctx, cmd: UserCommand) -> Result<Report> {
    let api = ctx.api()?;
    match cmd {
        UserCommand::Who | UserCommand::Me => Ok(details(me(ctx, &api).await?)),
        UserCommand::Sessions => Ok(sessions_report(sessions(&api).await?)),
        UserCommand::EndSession { id } => {
            end_session(&api, id).await?;
            Ok(Report::new().text(format!("Session {id} ended.")))
        }
        UserCommand::Info { id } => {
            let scope = Scope {
                org: ctx.org()?,
                team: ctx.team(),
            };
            Ok(details(members::info(&api, scope, &id).await?))
        }
        UserCommand::AccessRequests => super::approvals::mine(&api).await,
        UserCommand::Update { name: None } => Ok(Report::new().text("No information to be updated.")),
        UserCommand::Update { name: Some(name) } => {
            let response = api.patch("/v2/users/me", &[], Some(&json!({"name": name}))).await?;
            Ok(user_report(
                "Current user's information updated.".into(),
                &response,
                UserColumns::IDENTITY,
            ))
        }
    }
}

/// The caller's sessions: `{"sessions": [{id, type, …, current}]}`.
pub async fn sessions(api: &Api) -> Result<Value> {
    api.get("/v2/users/me/sessions", &[]).await
}

pub async fn end_session(api: &Api, id: i64) -> Result<()> {
    api.delete(&format!("/v2/users/me/sessions/{id}"), &[]).await.map(drop)
}

fn sessions_report(response: Value) -> Report {
    let sessions = response
        .get("sessions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let columns = [
        ("id", "Id"),
        ("type", "Type"),
        ("deviceId", "Device"),
        ("clientAddress", "Address"),
        ("createdDate", "Signed In"),
        ("lastUsedDate", "Last Used"),
        ("expiresDate", "Expires"),
        ("current", "Current"),
    ];
    let table = Table::new(&columns.map(|(_, title)| title)).rows(
        sessions
            .iter()
            .map(|s| columns.iter().map(|(key, _)| views::text(s.get(*key))).collect()),
    );
    Report::new().table(table).json(Value::Array(sessions))
}

/// The id of the current user, for `?user-id=` filters.
pub async fn my_id(ctx: &Ctx, api: &Api) -> Result<String> {
    let response = me(ctx, api).await?;
    let id = views::text(response.pointer("/user/id"));
    if id.is_empty() {
        anyhow::bail!("The server did not say who the current user is.");
    }
    Ok(id)
}
