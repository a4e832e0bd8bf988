//! Access requests for entities at the APPROVAL level, the same for images, models, resources
//! and charts: `request-access`, `access-requests`, `approve`, `deny`, `revoke`; and
//! `hangar user access-requests`, the caller's own.

use super::Ctx;
use super::http::{Api, seg};
use super::output::{Report, Table};
use super::target::Target;
use super::views::{self, without_status};
use anyhow::Result;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Ask the publisher for access to an entity that needs approval.
    RequestAccess(RequestArgs),
    /// List the requests for access to an entity (its registry admins and org owners).
    AccessRequests(ListArgs),
    /// Let a user download the entity (also one who has not asked).
    Approve(AnswerArgs),
    /// Refuse a pending request.
    Deny(AnswerArgs),
    /// Take back an approval.
    Revoke(AnswerArgs),
}

#[derive(Args)]
pub struct RequestArgs {
    /// <org>/[<team>/]<name>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// A note to the publisher: who you are, what you need it for.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub note: String,
}

#[derive(Args)]
pub struct ListArgs {
    /// <org>/[<team>/]<name>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Only the requests in this state: PENDING, APPROVED, DENIED or REVOKED.
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
}

#[derive(Args)]
pub struct AnswerArgs {
    /// <org>/[<team>/]<name>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// The user's e-mail.
    #[arg(long, value_name = "EMAIL")]
    pub user: String,
}

impl AccessCommand {
    pub fn supports_csv(&self) -> bool {
        matches!(self, AccessCommand::AccessRequests(_))
    }
}

/// `{OT}/{segment}/{name}/access-requests`.
fn requests_path(ctx: &Ctx, target: &str, segment: &str) -> Result<String> {
    Ok(format!(
        "{}/access-requests",
        Target::resolve(target, ctx)?.path(segment)
    ))
}

/// Runs `cmd` for an entity whose REST segment is `segment` (`repos`, `models`, …).
pub async fn run(ctx: &Ctx, segment: &str, cmd: AccessCommand) -> Result<Report> {
    let api = ctx.api()?;
    let (args, answer) = match cmd {
        AccessCommand::RequestAccess(args) => {
            let path = requests_path(ctx, &args.target, segment)?;
            let response = api.post(&path, &json!({"note": args.note})).await?;
            return Ok(one("Access requested.", response));
        }
        AccessCommand::AccessRequests(args) => {
            let path = requests_path(ctx, &args.target, segment)?;
            let query: Vec<(&str, String)> = args.state.iter().map(|s| ("state", s.clone())).collect();
            return Ok(listing(api.get(&path, &query).await?));
        }
        AccessCommand::Approve(args) => (args, "APPROVED"),
        AccessCommand::Deny(args) => (args, "DENIED"),
        AccessCommand::Revoke(args) => (args, "REVOKED"),
    };
    let path = format!("{}/{}", requests_path(ctx, &args.target, segment)?, seg(&args.user));
    let response = api
        .call(Method::PUT, &path, &[], Some(&json!({"state": answer})))
        .await?;
    Ok(one(&format!("Access request {}.", answer.to_lowercase()), response))
}

/// `hangar user access-requests`.
pub async fn mine(api: &Api) -> Result<Report> {
    Ok(listing(api.get("/v2/users/me/access-requests", &[]).await?))
}

fn one(message: &str, response: Value) -> Report {
    let request = response.get("accessRequest").cloned().unwrap_or(Value::Null);
    Report::new()
        .text(format!("{message}\n{}", line(&request).join("  ")))
        .json(without_status(response))
}

const COLUMNS: [(&str, &str); 7] = [
    ("entityName", "Entity"),
    ("entityType", "Type"),
    ("userEmail", "User"),
    ("state", "State"),
    ("requestedDate", "Requested"),
    ("decidedDate", "Decided"),
    ("note", "Note"),
];

fn line(request: &Value) -> Vec<String> {
    COLUMNS.iter().map(|(key, _)| views::text(request.get(*key))).collect()
}

fn listing(response: Value) -> Report {
    let requests = response
        .get("accessRequests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let table = Table::new(&COLUMNS.map(|(_, title)| title)).rows(requests.iter().map(line));
    Report::new().table(table).json(Value::Array(requests))
}
