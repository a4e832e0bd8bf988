//! `hangar user who|info|update`.

use super::Ctx;
use super::http::Api;
use super::members::{self, Scope, user_report};
use super::output::Report;
use super::views::{self, UserColumns};
use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Show the current user (the API key's owner).
    Who,
    /// Get a user's details in the current org (or current team).
    Info {
        /// User id (or e-mail address).
        id: String,
    },
    /// Update the current user.
    Update {
        /// New user name.
        #[arg(short = 'n', long, value_name = "NAME")]
        name: Option<String>,
    },
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
        UserCommand::Who => Ok(details(me(ctx, &api).await?)),
        UserCommand::Info { id } => {
            let scope = Scope {
                org: ctx.org()?,
                team: ctx.team(),
            };
            Ok(details(members::info(&api, scope, &id).await?))
        }
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

/// The id of the current user, for `?user-id=` filters.
pub async fn my_id(ctx: &Ctx, api: &Api) -> Result<String> {
    let response = me(ctx, api).await?;
    let id = views::text(response.pointer("/user/id"));
    if id.is_empty() {
        anyhow::bail!("The server did not say who the current user is.");
    }
    Ok(id)
}
