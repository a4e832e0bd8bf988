//! `hangar invitation accept|list|delete`.

use super::Ctx;
use super::http::seg;
use super::output::Report;
use super::prompt::confirm_remove;
use super::views::{self, UserColumns};
use anyhow::Result;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum InvitationCommand {
    /// Accept an invitation with the token from its mail (no API key needed). Shows your user
    /// and your first personal key, once.
    Accept {
        /// Invitation token.
        token: String,
        /// Your name, if the invitation has none or you prefer another.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// (For administrators only) List the current org's pending invitations.
    List,
    /// (For administrators only) Withdraw the current org's invitations for an e-mail address.
    Delete {
        /// The invited e-mail address.
        email: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
}

impl InvitationCommand {
    pub fn supports_csv(&self) -> bool {
        matches!(self, InvitationCommand::List)
    }
}

pub async fn run(ctx: &Ctx, cmd: InvitationCommand) -> Result<Report> {
    let api = ctx.api()?;
    match cmd {
        InvitationCommand::Accept { token, name } => {
            let mut request = json!({"token": token.trim()});
            if let Some(name) = name {
                request["name"] = json!(name);
            }
            let response = api
                .call_anonymous(Method::POST, "/v3/invitations/accept", Some(&request))
                .await?;
            Ok(accepted(&response))
        }
        InvitationCommand::List => {
            let org = ctx.org()?;
            let path = format!("/v3/orgs/{}/invitations", seg(org));
            let invitations = api.get_all(&path, &[], "invitations").await?;
            Ok(Report::new()
                .table(views::invitations_table(&invitations))
                .json_list(invitations))
        }
        InvitationCommand::Delete { email, yes } => {
            let org = ctx.org()?;
            confirm_remove(&format!("the invitation for '{email}'"), yes)?;
            api.delete(
                &format!("/v3/orgs/{}/invitations", seg(org)),
                &[("email", email.clone())],
            )
            .await?;
            Ok(Report::new().text(format!("Invitation for '{email}' to the '{org}' organization deleted.")))
        }
    }
}

/// The new member, then their first personal key and its secret (or why there is none).
fn accepted(response: &Value) -> Report {
    let user = response.get("user").unwrap_or(&Value::Null);
    let key = response.get("apiKey").unwrap_or(&Value::Null);
    let mut report = Report::new()
        .text("Invitation accepted.")
        .table(views::user_table(user, UserColumns::FULL));
    let secret = views::field(key, "secret");
    if !secret.is_empty() {
        let org = views::field(key, "orgName");
        report = report
            .text(views::secret_lines(&secret))
            .text(format!("Use it with: hangar config set --api-key <key> --org {org}"))
            .block(views::key_block(key));
    } else if let Some(why) = key.get("error").and_then(Value::as_str) {
        report = report.text(format!("No personal key was created: {why}"));
    }
    report.json(views::without_status(response.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::output::Format;

    #[test]
    fn acceptance_shows_the_secret_once() {
        let response = json!({
            "user": {"id": 3, "name": "Bob", "email": "b@x", "roles": []},
            "apiKey": {"id": 8, "type": "PERSONAL", "name": "first key", "orgName": "acme", "secret": "nvapi-xyz"},
            "requestStatus": {"statusCode": "SUCCESS"}
        });
        let text = accepted(&response).render(Format::Ascii, 80).unwrap();
        assert!(text.starts_with("Invitation accepted.\n+"));
        assert_eq!(text.matches("nvapi-xyz").count(), 1);
        assert!(text.contains("API Key: nvapi-xyz\nSave this key now; it will not be shown again.\n"));
        assert!(text.contains("--org acme\n---"));
        let json: Value = serde_json::from_str(&accepted(&response).render(Format::Json, 80).unwrap()).unwrap();
        assert!(json.get("requestStatus").is_none());
        assert_eq!(json["apiKey"]["secret"], "nvapi-xyz");
        let no_key = json!({"user": {}, "apiKey": {"error": "too many keys"}});
        assert!(
            accepted(&no_key)
                .render(Format::Ascii, 80)
                .unwrap()
                .ends_with("No personal key was created: too many keys\n")
        );
    }
}
