//! `hangar team …`: the teams of the current org and the members of the current team.

use super::Ctx;
use super::http::seg;
use super::members::{self, AddUserArgs, RoleChangeArgs, Scope};
use super::output::Report;
use super::views;
use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::Value;

#[derive(Subcommand)]
pub enum TeamCommand {
    /// List all accessible teams of the current org.
    List,
    /// Get team details (default: the current team).
    Info {
        /// Team name.
        team: Option<String>,
    },
    /// (For administrators only) Add a user to the current team: an org member gets the roles
    /// at once, anyone else an invitation.
    AddUser {
        /// User e-mail address (or the id of an org member).
        user: String,
        /// User name (for an invitation).
        name: Option<String>,
        #[command(flatten)]
        args: AddUserArgs,
        /// Org role to give as well; repeat for more.
        #[arg(long = "org-role", value_name = "ROLE")]
        org_role: Vec<String>,
    },
    /// (For administrators only) List the users of the current team.
    ListUsers {
        /// Only the user with this e-mail address.
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
    },
    /// (For administrators only) Change a user's roles in the current team.
    UpdateUser {
        /// User id (or e-mail address).
        id: String,
        #[command(flatten)]
        roles: RoleChangeArgs,
    },
    /// (For administrators only) Remove a user from the current team.
    RemoveUser {
        /// User id (or e-mail address).
        id: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

impl TeamCommand {
    pub fn supports_csv(&self) -> bool {
        matches!(self, TeamCommand::List | TeamCommand::ListUsers { .. })
    }
}

pub async fn run(ctx: &Ctx, cmd: TeamCommand) -> Result<Report> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    match cmd {
        TeamCommand::List => {
            let teams = api
                .get_all(&format!("/v2/org/{}/teams", seg(org)), &[], "teams")
                .await?;
            Ok(Report::new().table(views::teams_table(&teams)).json_list(teams))
        }
        TeamCommand::Info { team } => {
            let name = match &team {
                Some(t) => t.as_str(),
                None => ctx.require_team()?,
            };
            let response = api
                .get(&format!("/v2/org/{}/teams/{}", seg(org), seg(name)), &[])
                .await?;
            let team = response.get("team").cloned().unwrap_or(Value::Null);
            Ok(Report::new().block(views::team_block(&team)).json(team))
        }
        TeamCommand::AddUser {
            user,
            name,
            args,
            org_role,
        } => {
            let team = ctx.require_team()?;
            let scope = Scope { org, team: Some(team) };
            if user.contains('@') && members::find_by_email(&api, scope, &user).await?.is_some() {
                bail!(
                    "User with email '{user}' already exists in team '{team}' under org '{org}'. \
                     Please run `update-user` command in order to update existing user."
                );
            }
            members::add_user(&api, scope, &args.member(&user, name.as_deref(), &org_role)?).await
        }
        TeamCommand::ListUsers { email } => {
            let scope = Scope {
                org,
                team: Some(ctx.require_team()?),
            };
            members::list_users(&api, scope, email.as_deref()).await
        }
        TeamCommand::UpdateUser { id, roles } => {
            let scope = Scope {
                org,
                team: Some(ctx.require_team()?),
            };
            members::update_user(&api, scope, &id, &roles).await
        }
        TeamCommand::RemoveUser { id, yes } => {
            let scope = Scope {
                org,
                team: Some(ctx.require_team()?),
            };
            members::remove_user(&api, scope, &id, yes).await
        }
    }
}
