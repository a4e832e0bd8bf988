//! `hangar org …`: orgs, their teams and their members.

use super::Ctx;
use super::http::seg;
use super::members::{self, AddUserArgs, RoleChangeArgs, Scope};
use super::output::Report;
use super::prompt::confirm_remove;
use super::views;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum OrgCommand {
    /// List all accessible organizations.
    List,
    /// Get organization details (default: the current org).
    Info {
        /// Organization name.
        org: Option<String>,
    },
    /// (For administrators only) Add a user to the current org, or to --team: a member gets
    /// the roles at once, anyone else an invitation.
    AddUser {
        /// User e-mail address.
        email: String,
        /// User name (for an invitation).
        name: Option<String>,
        #[command(flatten)]
        args: AddUserArgs,
    },
    /// (For administrators only) Mail a member of the current org a one-time link to set a new
    /// password (it goes to the outbox until SMTP is configured; using it signs the member out
    /// everywhere).
    ResetPassword {
        /// User id or e-mail address.
        user: String,
    },
    /// (For administrators only) Add (create) a team in the current org.
    AddTeam {
        /// Team name (lowercase).
        name: String,
        /// Team description.
        description: String,
    },
    /// (For administrators only) Update the description of a team.
    UpdateTeam {
        /// Team name.
        name: String,
        /// New team description.
        description: String,
    },
    /// (For administrators only) Remove a team from the current org.
    RemoveTeam {
        /// Team name.
        name: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// (For administrators only) List the users of the current org.
    ListUsers {
        /// Only the user with this e-mail address.
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
    },
    /// (For administrators only) Change a user's roles in the current org.
    UpdateUser {
        /// User id (or e-mail address).
        id: String,
        #[command(flatten)]
        roles: RoleChangeArgs,
    },
    /// (For administrators only) Remove a user from the current org.
    RemoveUser {
        /// User id (or e-mail address).
        id: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

impl OrgCommand {
    pub fn supports_csv(&self) -> bool {
        matches!(self, OrgCommand::List | OrgCommand::ListUsers { .. })
    }
}

fn team_path(org: &str, team: &str) -> String {
    format!("/v2/org/{}/teams/{}", seg(org), seg(team))
}

/// A team's information block after a message; json: the team.
fn team_report(message: String, response: &Value) -> Report {
    let team = response.get("team").cloned().unwrap_or(Value::Null);
    Report::new().text(message).block(views::team_block(&team)).json(team)
}

pub async fn run(ctx: &Ctx, cmd: OrgCommand) -> Result<Report> {
    let api = ctx.api()?;
    match cmd {
        OrgCommand::List => {
            let orgs = api.get_all("/v2/orgs", &[], "organizations").await?;
            Ok(Report::new().table(views::orgs_table(&orgs)).json_list(orgs))
        }
        OrgCommand::Info { org } => {
            let name = match &org {
                Some(o) => o.as_str(),
                None => ctx.org()?,
            };
            let response = api.get(&format!("/v2/orgs/{}", seg(name)), &[]).await?;
            let org = response.get("organizations").cloned().unwrap_or(Value::Null);
            Ok(Report::new().block(views::org_block(&org)).json(org))
        }
        OrgCommand::AddUser { email, name, args } => {
            let scope = Scope {
                org: ctx.org()?,
                team: ctx.team(),
            };
            members::add_user(&api, scope, &args.member(&email, name.as_deref(), &[])?).await
        }
        OrgCommand::AddTeam { name, description } => {
            let org = ctx.org()?;
            let body = json!({"name": name, "description": description});
            let response = api.post(&format!("/v2/org/{}/teams", seg(org)), &body).await?;
            Ok(team_report("Team created.".into(), &response))
        }
        OrgCommand::UpdateTeam { name, description } => {
            let path = team_path(ctx.org()?, &name);
            api.patch(&path, &[], Some(&json!({"description": description})))
                .await?;
            let response = api.get(&path, &[]).await?;
            Ok(team_report(format!("Team {name} information updated."), &response))
        }
        OrgCommand::RemoveTeam { name, yes } => {
            let org = ctx.org()?;
            confirm_remove("team", yes)?;
            api.delete(&team_path(org, &name), &[]).await?;
            Ok(Report::new().text(format!("Team '{name}' removed from org '{org}'.")))
        }
        OrgCommand::ResetPassword { user } => {
            let org = ctx.org()?;
            let path = format!("/v2/org/{}/users/{}/password-reset", seg(org), seg(&user));
            let response = api.post(&path, &json!({})).await?;
            let email = views::text(response.get("email"));
            Ok(Report::new()
                .text(format!(
                    "A password reset link for '{email}' was mailed (see the outbox); it works once, until {}.",
                    views::text(response.get("expiresDate"))
                ))
                .json(views::without_status(response)))
        }
        OrgCommand::ListUsers { email } => members::list_users(&api, Scope::org(ctx.org()?), email.as_deref()).await,
        OrgCommand::UpdateUser { id, roles } => members::update_user(&api, Scope::org(ctx.org()?), &id, &roles).await,
        OrgCommand::RemoveUser { id, yes } => members::remove_user(&api, Scope::org(ctx.org()?), &id, yes).await,
    }
}
