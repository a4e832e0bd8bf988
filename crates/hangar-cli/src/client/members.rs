//! Members of an org or of one of its teams: listing, adding (roles or an invitation),
//! changing roles and removing. `org …-user` and `team …-user` are this module at two scopes.

use super::http::{Api, seg};
use super::output::Report;
use super::prompt::confirm_remove;
use super::views::{self, UserColumns};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use serde_json::{Value, json};

/// An org, or a team in it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub org: &'a str,
    pub team: Option<&'a str>,
}

impl<'a> Scope<'a> {
    pub fn org(org: &'a str) -> Scope<'a> {
        Scope { org, team: None }
    }

    /// `GET` lists of members: `/v2/org/{org}[/team/{team}]/users`.
    fn users_path(&self) -> String {
        match self.team {
            None => format!("/v2/org/{}/users", seg(self.org)),
            Some(t) => format!("/v2/org/{}/team/{}/users", seg(self.org), seg(t)),
        }
    }

    /// One member (v3): `/v3/orgs/{org}[/teams/{team}]/users/{user}`.
    fn member_path(&self, user: &str) -> String {
        match self.team {
            None => format!("/v3/orgs/{}/users/{}", seg(self.org), seg(user)),
            Some(t) => format!("/v3/orgs/{}/teams/{}/users/{}", seg(self.org), seg(t), seg(user)),
        }
    }

    /// A member's details: `/v2/org/{org}/users/{id}` or `/v3/orgs/{org}/teams/{team}/users/{id}`.
    pub fn info_path(&self, user: &str) -> String {
        match self.team {
            None => format!("{}/{}", self.users_path(), seg(user)),
            Some(_) => self.member_path(user),
        }
    }

    fn replace_roles_path(&self, user: &str) -> String {
        format!("{}/{}/update-role", self.users_path(), seg(user))
    }

    fn columns(&self) -> UserColumns {
        match self.team {
            None => UserColumns::ORG_ROLES,
            Some(_) => UserColumns::TEAM_ROLES,
        }
    }
}

fn roles_query(roles: &[String]) -> Vec<(&'static str, String)> {
    roles.iter().map(|r| ("roles", r.trim().to_string())).collect()
}

/// NGC's e-mail filter document for user lists.
fn email_filter(email: &str) -> Vec<(&'static str, String)> {
    vec![(
        "q",
        json!({"filters": [{"field": "email", "value": email}]}).to_string(),
    )]
}

async fn list(api: &Api, scope: Scope<'_>, email: Option<&str>) -> Result<Vec<Value>> {
    let query = email.map(email_filter).unwrap_or_default();
    api.get_all(&scope.users_path(), &query, "users").await
}

/// The member with this e-mail address, if any.
pub async fn find_by_email(api: &Api, scope: Scope<'_>, email: &str) -> Result<Option<Value>> {
    let users = list(api, scope, Some(email)).await?;
    Ok(users.into_iter().find(|u| {
        u.get("email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    }))
}

/// `list-users`: members sorted by name, with their roles at the scope.
pub async fn list_users(api: &Api, scope: Scope<'_>, email: Option<&str>) -> Result<Report> {
    let mut users = list(api, scope, email).await?;
    views::sort_users(&mut users);
    let table = views::users_table(&users, scope.org, scope.team);
    Ok(Report::new().table(table).json_list(users))
}

/// A member's details at the scope (`user info`).
pub async fn info(api: &Api, scope: Scope<'_>, user: &str) -> Result<Value> {
    api.get(&scope.info_path(user), &[]).await
}

async fn add_roles(api: &Api, scope: Scope<'_>, user: &str, roles: &[String]) -> Result<Value> {
    api.patch(
        &format!("{}/add-role", scope.member_path(user)),
        &roles_query(roles),
        None,
    )
    .await
}

/// `--add-role`, `--remove-role` or `--role` (replace), as in `ngc … update-user`.
#[derive(Debug, Clone, Default, Args)]
pub struct RoleChangeArgs {
    /// Role to add; repeat for more.
    #[arg(long = "add-role", value_name = "ROLE", conflicts_with = "role")]
    pub add_role: Vec<String>,
    /// Role to remove; repeat for more.
    #[arg(long = "remove-role", value_name = "ROLE", conflicts_with = "role")]
    pub remove_role: Vec<String>,
    /// Replace all roles at this scope with these; repeat for more.
    #[arg(long, value_name = "ROLE")]
    pub role: Vec<String>,
}

/// `update-user`: applies the role change and shows the user's roles afterwards.
pub async fn update_user(api: &Api, scope: Scope<'_>, user: &str, change: &RoleChangeArgs) -> Result<Report> {
    let response = if !change.role.is_empty() {
        api.patch(&scope.replace_roles_path(user), &roles_query(&change.role), None)
            .await?
    } else if change.add_role.is_empty() && change.remove_role.is_empty() {
        bail!("Must use `--add-role` or `--remove-role` arguments.");
    } else {
        let mut last = None;
        if !change.add_role.is_empty() {
            last = Some(add_roles(api, scope, user, &change.add_role).await?);
        }
        if !change.remove_role.is_empty() {
            let path = format!("{}/remove-role", scope.member_path(user));
            last = Some(api.delete(&path, &roles_query(&change.remove_role)).await?);
        }
        last.ok_or_else(|| anyhow!("no role change"))?
    };
    Ok(user_report(
        format!("User '{user}' information updated."),
        &response,
        scope.columns(),
    ))
}

/// A message, then the user of a `{"user": …}` response as a table; json: the response.
pub fn user_report(message: String, response: &Value, columns: UserColumns) -> Report {
    let user = response.get("user").unwrap_or(&Value::Null);
    Report::new()
        .text(message)
        .table(views::user_table(user, columns))
        .json(views::without_status(response.clone()))
}

/// `remove-user`: asks first unless `yes`.
pub async fn remove_user(api: &Api, scope: Scope<'_>, user: &str, yes: bool) -> Result<Report> {
    confirm_remove("user", yes)?;
    api.delete(&scope.member_path(user), &[]).await?;
    let message = match scope.team {
        None => format!("User '{user}' deleted from org '{}'.", scope.org),
        Some(team) => format!("User '{user}' removed from team '{team}' in org '{}'.", scope.org),
    };
    Ok(Report::new().text(message))
}

/// Who to add, with which roles, and the invitation's details if they are not a member yet.
#[derive(Debug, Clone, Default)]
pub struct NewMember {
    /// E-mail address, or the numeric id of an existing member.
    pub user: String,
    pub name: Option<String>,
    /// Roles at the scope (the org, or the team).
    pub roles: Vec<String>,
    /// Org roles as well, when the scope is a team.
    pub org_roles: Vec<String>,
    pub message: Option<String>,
    pub expiry_minutes: Option<i64>,
}

/// The flags of `add-user` shared by `org` and `team`.
#[derive(Debug, Clone, Default, Args)]
pub struct AddUserArgs {
    /// Role to give; repeat for more.
    #[arg(long = "role", value_name = "ROLE", required = true)]
    pub role: Vec<String>,
    /// Message for the invitation mail of a new user.
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// How long an invitation is valid: '1 hour', '6 hours', '24 hours', '1 week', '1 month' or
    /// hours (at most 720) [default: the server's].
    #[arg(long = "invitation-expiry", value_name = "DURATION")]
    pub invitation_expiry: Option<String>,
}

impl AddUserArgs {
    pub fn member(&self, user: &str, name: Option<&str>, org_roles: &[String]) -> Result<NewMember> {
        Ok(NewMember {
            user: user.trim().to_string(),
            name: name.map(str::to_string),
            roles: self.role.clone(),
            org_roles: org_roles.to_vec(),
            message: self.message.clone(),
            expiry_minutes: self.invitation_expiry.as_deref().map(invitation_minutes).transpose()?,
        })
    }
}

/// `add-user`: an org member gets the roles at once; anyone else gets an invitation.
pub async fn add_user(api: &Api, scope: Scope<'_>, new: &NewMember) -> Result<Report> {
    let by_id = !new.user.is_empty() && new.user.chars().all(|c| c.is_ascii_digit());
    let member = by_id || find_by_email(api, Scope::org(scope.org), &new.user).await?.is_some();
    let roles = new.roles.join(", ");
    if member {
        if scope.team.is_some() && !new.org_roles.is_empty() {
            add_roles(api, Scope::org(scope.org), &new.user, &new.org_roles).await?;
        }
        let response = add_roles(api, scope, &new.user, &new.roles).await?;
        let message = match scope.team {
            None => format!(
                "User '{}' roles updated in org '{}' with roles: {roles}",
                new.user, scope.org
            ),
            Some(t) => format!(
                "User '{}' added to team '{t}' in org '{}' with roles: {roles}",
                new.user, scope.org
            ),
        };
        return Ok(user_report(message, &response, scope.columns()));
    }
    let response = api
        .post(
            &format!("/v3/orgs/{}/invitations", seg(scope.org)),
            &invitation_body(scope, new),
        )
        .await?;
    let invited_to = match scope.team {
        None => format!("org '{}'", scope.org),
        Some(t) => format!("team '{t}' in org '{}'", scope.org),
    };
    let invitation = response
        .get("invitation")
        .cloned()
        .unwrap_or_else(|| views::without_status(response));
    Ok(Report::new()
        .text(format!(
            "Activation email sent to '{}', please follow the instructions in the email to complete the activation.",
            new.user
        ))
        .text(format!(
            "User '{}' has been invited to {invited_to} with roles: {roles}",
            new.user
        ))
        .json(invitation))
}

/// `POST /v3/orgs/{org}/invitations`: roles at the team (`resourceGroups: [team]`) or the org.
fn invitation_body(scope: Scope<'_>, new: &NewMember) -> Value {
    let groups: Vec<&str> = scope.team.into_iter().collect();
    let mut roles: Vec<Value> = new
        .roles
        .iter()
        .map(|r| json!({"name": r, "resourceGroups": groups}))
        .collect();
    if scope.team.is_some() {
        roles.extend(new.org_roles.iter().map(|r| json!({"name": r, "resourceGroups": []})));
    }
    let mut body = json!({"email": new.user, "roles": roles});
    if let Some(name) = new.name.as_deref().filter(|n| !n.trim().is_empty()) {
        body["name"] = json!(name);
    }
    if let Some(message) = &new.message {
        body["message"] = json!(message);
    }
    if let Some(minutes) = new.expiry_minutes {
        body["invitationExpirationIn"] = json!(minutes);
    }
    body
}

/// `--invitation-expiry`: `1 hour`, `6 hours`, `24 hours`, `1 week`, `1 month`, or a number of
/// hours up to 720; in minutes.
pub fn invitation_minutes(text: &str) -> Result<i64> {
    let hours = match text.trim() {
        "1 hour" => 1,
        "6 hours" => 6,
        "24 hours" => 24,
        "1 week" => 168,
        "1 month" => 720,
        other => match other.parse::<i64>() {
            Ok(h) if (1..=720).contains(&h) => h,
            _ => bail!(
                "Invalid invitation expiry '{text}'. Valid options: '1 hour', '6 hours', '24 hours', '1 week', '1 month' or a positive integer (max 720 hours/30 days)."
            ),
        },
    };
    Ok(hours * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_per_scope() {
        let org = Scope::org("acme");
        let team = Scope {
            org: "acme",
            team: Some("vision"),
        };
        assert_eq!(org.users_path(), "/v2/org/acme/users");
        assert_eq!(team.users_path(), "/v2/org/acme/team/vision/users");
        assert_eq!(org.member_path("a@b.c"), "/v3/orgs/acme/users/a%40b.c");
        assert_eq!(team.member_path("7"), "/v3/orgs/acme/teams/vision/users/7");
        assert_eq!(org.info_path("7"), "/v2/org/acme/users/7");
        assert_eq!(team.info_path("7"), "/v3/orgs/acme/teams/vision/users/7");
        assert_eq!(org.replace_roles_path("7"), "/v2/org/acme/users/7/update-role");
        assert_eq!(
            team.replace_roles_path("7"),
            "/v2/org/acme/team/vision/users/7/update-role"
        );
    }

    #[test]
    fn invitation_bodies() {
        let new = NewMember {
            user: "b@x".into(),
            name: Some("Bob".into()),
            roles: vec!["REGISTRY_USER".into()],
            org_roles: vec!["REGISTRY_READ".into()],
            message: None,
            expiry_minutes: Some(60),
        };
        let team = invitation_body(
            Scope {
                org: "acme",
                team: Some("vision"),
            },
            &new,
        );
        assert_eq!(
            team,
            json!({"email": "b@x", "name": "Bob", "invitationExpirationIn": 60, "roles": [
                {"name": "REGISTRY_USER", "resourceGroups": ["vision"]},
                {"name": "REGISTRY_READ", "resourceGroups": []}
            ]})
        );
        let org = invitation_body(
            Scope::org("acme"),
            &NewMember {
                name: None,
                expiry_minutes: None,
                ..new
            },
        );
        assert_eq!(
            org,
            json!({"email": "b@x", "roles": [{"name": "REGISTRY_USER", "resourceGroups": []}]})
        );
    }

    #[test]
    fn invitation_expiry() {
        assert_eq!(invitation_minutes("1 week").unwrap(), 10080);
        assert_eq!(invitation_minutes("2").unwrap(), 120);
        assert!(invitation_minutes("721").is_err());
        assert!(invitation_minutes("0").is_err());
        assert!(invitation_minutes("soon").is_err());
    }

    #[test]
    fn email_filter_is_ngc_json() {
        assert_eq!(
            email_filter("a@b.c")[0].1,
            r#"{"filters":[{"field":"email","value":"a@b.c"}]}"#
        );
    }
}
