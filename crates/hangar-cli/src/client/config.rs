//! `hangar config set|current|clear-cache|clear`.

use super::Ctx;
use super::http::{Api, seg};
use super::login;
use super::output::{Report, Table};
use super::settings::{self, Layer, NO_ORG, NO_TEAM, Settings, Source, mask};
use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Save the given global flags (--api-key, --org, --team, --format_type, --base-url,
    /// --ca-bundle) in the user settings file, after checking the key, org and team with the
    /// server. A new --org without --team clears the saved team. With `--auth-option email`,
    /// log in through the browser instead of with an API key.
    Set {
        /// How to sign in: with an API key (--api-key), or `email`: open the printed link,
        /// sign in to Hangar there and approve this login.
        #[arg(long = "auth-option", value_enum)]
        auth_option: Option<AuthOption>,
        /// The e-mail to log in as with `--auth-option email` [default: the saved one].
        #[arg(long)]
        email: Option<String>,
    },
    /// Show the settings in force and where each comes from.
    Current,
    /// Delete the cached bearer tokens.
    ClearCache,
    /// Delete the user settings file and the token cache.
    Clear,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthOption {
    #[value(name = "api-key")]
    ApiKey,
    Email,
}

impl ConfigCommand {
    /// `config` commands accept every format (so `config set --format_type ascii` can leave csv).
    pub fn supports_csv(&self) -> bool {
        true
    }
}

pub async fn run(ctx: &Ctx, cmd: ConfigCommand) -> Result<Report> {
    match cmd {
        ConfigCommand::Set {
            auth_option: Some(AuthOption::Email),
            email,
        } => login::email_login(ctx, email).await,
        ConfigCommand::Set { email: Some(_), .. } => {
            bail!("--email goes with `--auth-option email` (an e-mail login).")
        }
        ConfigCommand::Set { .. } => set(ctx).await,
        ConfigCommand::Current => Ok(current(&ctx.settings)),
        ConfigCommand::ClearCache => {
            ctx.token_cache().clear()?;
            Ok(Report::new().text("Successfully cleared cache values."))
        }
        ConfigCommand::Clear => {
            settings::remove_file(&ctx.config_path())?;
            ctx.token_cache().clear()?;
            Ok(Report::new().text("Successfully cleared configuration."))
        }
    }
}

/// The settings file after `config set` with `flags`: only what was given changes; a new org
/// without a team clears the team; `no-org`/`no-team` clear; a new API key replaces an e-mail
/// login.
pub fn updated_file(file: &Layer, flags: &Layer) -> Layer {
    let mut out = file.clone();
    let given = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let new_org = given(&flags.org);
    let org_changed = new_org.is_some() && new_org != given(&file.org);
    for (target, source) in [
        (&mut out.api_key, &flags.api_key),
        (&mut out.org, &flags.org),
        (&mut out.team, &flags.team),
        (&mut out.format_type, &flags.format_type),
        (&mut out.base_url, &flags.base_url),
        (&mut out.ca_bundle, &flags.ca_bundle),
    ] {
        if let Some(value) = given(source) {
            *target = Some(value);
        }
    }
    if given(&flags.api_key).is_some() {
        out.session_key = None;
    }
    if org_changed && given(&flags.team).is_none() {
        out.team = None;
    }
    if out.org.as_deref() == Some(NO_ORG) {
        out.org = None;
        out.team = None;
    }
    if out.team.as_deref() == Some(NO_TEAM) {
        out.team = None;
    }
    if let Some(url) = &out.base_url {
        out.base_url = settings::normalize_base_url(url).ok().or(out.base_url.clone());
    }
    out
}

/// Python's list repr, as `ngc` shows choices: `['a', 'b']`.
pub fn py_list(names: &[String]) -> String {
    format!(
        "[{}]",
        names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
    )
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Checks the key, org and team in force with the server (as `ngc config set` does).
pub async fn validate(api: &Api, settings: &Settings) -> Result<()> {
    if !api.signed_in() {
        if settings.org.is_some() || settings.team.is_some() {
            bail!("Invalid org - If not Authenticated, org cannot be set.");
        }
        return Ok(());
    }
    let orgs = names(&api.get_all("/v2/orgs", &[], "organizations").await?);
    let Some(org) = &settings.org else {
        bail!(
            "Missing org - If Authenticated, org is also required. Choose from {}.",
            py_list(&orgs)
        );
    };
    if !orgs.contains(&org.value) {
        bail!("Invalid org. Choose from {}.", py_list(&orgs));
    }
    if let Some(team) = &settings.team {
        let teams = names(
            &api.get_all(&format!("/v2/org/{}/teams", seg(&org.value)), &[], "teams")
                .await?,
        );
        if !teams.contains(&team.value) {
            bail!("Invalid team. Choose from {}.", py_list(&teams));
        }
    }
    Ok(())
}

async fn set(ctx: &Ctx) -> Result<Report> {
    if ctx.flags.is_empty() {
        bail!("Nothing to set: give one or more of --api-key, --org, --team, --format_type, --base-url, --ca-bundle.");
    }
    let file = updated_file(&ctx.file, &ctx.flags);
    let settings = settings::resolve(&ctx.flags, &ctx.env, &file)?;
    let api = Api::new(&settings, ctx.token_cache())?;
    validate(&api, &settings).await?;
    let path = ctx.config_path();
    settings::save_file(&path, &file)?;
    Ok(Report::new().text(format!("Successfully saved configuration to {}.", path.display())))
}

/// `config current`: key, value (the API key masked) and source of each setting.
pub fn current(s: &Settings) -> Report {
    let mut rows: Vec<(&str, String, &str)> = Vec::new();
    if let Some(key) = &s.api_key {
        rows.push(("apikey", mask(&key.value), key.source.label()));
    }
    if let Some(session) = &s.session_key {
        rows.push(("session_key", mask(&session.value), session.source.label()));
    }
    if let Some(email) = &s.email {
        rows.push(("email", email.clone(), Source::File.label()));
    }
    rows.push((
        "format_type",
        s.format.value.name().to_string(),
        s.format.source.label(),
    ));
    if let Some(org) = &s.org {
        rows.push(("org", org.value.clone(), org.source.label()));
    }
    if let Some(team) = &s.team {
        rows.push(("team", team.value.clone(), team.source.label()));
    }
    rows.push(("base_url", s.base_url.value.clone(), s.base_url.source.label()));
    if let Some(ca) = &s.ca_bundle {
        rows.push(("ca_bundle", ca.value.to_string_lossy().into_owned(), ca.source.label()));
    }
    let json = rows
        .iter()
        .map(|(k, v, src)| json!({"key": k, "value": v, "source": src}))
        .collect();
    let table = Table::new(&["key", "value", "source"]).rows(
        rows.into_iter()
            .map(|(k, v, src)| vec![k.to_string(), v, src.to_string()]),
    );
    Report::new().table(table).json_list(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::output::Format;

    fn layer(org: Option<&str>, team: Option<&str>) -> Layer {
        Layer {
            org: org.map(str::to_string),
            team: team.map(str::to_string),
            ..Layer::default()
        }
    }

    #[test]
    fn set_keeps_what_was_not_given() {
        let file = Layer {
            api_key: Some("k".into()),
            ..layer(Some("o"), Some("t"))
        };
        let flags = Layer {
            format_type: Some("json".into()),
            ..Layer::default()
        };
        let out = updated_file(&file, &flags);
        assert_eq!(
            out,
            Layer {
                format_type: Some("json".into()),
                ..file.clone()
            }
        );
    }

    #[test]
    fn a_new_api_key_replaces_the_email_login() {
        let file = Layer {
            session_key: Some("hgdev-x".into()),
            email: Some("jane@example.com".into()),
            ..layer(Some("o"), None)
        };
        let out = updated_file(&file, &layer(Some("o"), None));
        assert_eq!(out.session_key.as_deref(), Some("hgdev-x"));
        let key = Layer {
            api_key: Some("nvapi-k".into()),
            ..Layer::default()
        };
        let out = updated_file(&file, &key);
        assert_eq!((out.api_key.as_deref(), out.session_key), (Some("nvapi-k"), None));
        assert_eq!(out.email.as_deref(), Some("jane@example.com"));
    }

    #[test]
    fn new_org_resets_team_unless_given() {
        let file = layer(Some("o"), Some("t"));
        assert_eq!(updated_file(&file, &layer(Some("p"), None)), layer(Some("p"), None));
        assert_eq!(
            updated_file(&file, &layer(Some("p"), Some("u"))),
            layer(Some("p"), Some("u"))
        );
        assert_eq!(updated_file(&file, &layer(Some("o"), None)), file);
        assert_eq!(
            updated_file(&file, &layer(None, Some("no-team"))),
            layer(Some("o"), None)
        );
        assert_eq!(updated_file(&file, &layer(Some("no-org"), None)), layer(None, None));
        let url = Layer {
            base_url: Some("http://h:1/".into()),
            ..Layer::default()
        };
        assert_eq!(
            updated_file(&Layer::default(), &url).base_url.as_deref(),
            Some("http://h:1")
        );
    }

    #[test]
    fn choices_look_like_ngc() {
        assert_eq!(py_list(&["a".into(), "b".into()]), "['a', 'b']");
        assert_eq!(py_list(&[]), "[]");
    }

    #[test]
    fn current_masks_the_key_and_names_sources() {
        let flags = Layer {
            api_key: Some("nvapi-secret-1234".into()),
            ..Layer::default()
        };
        let env = Layer {
            format_type: Some("csv".into()),
            ..Layer::default()
        };
        let file = layer(Some("acme"), Some("vision"));
        let s = settings::resolve(&flags, &env, &file).unwrap();
        let report = current(&s);
        let csv = report.render(Format::Csv, 80).unwrap();
        assert_eq!(
            csv,
            "key,value,source\n\
             apikey,*************1234,global argument\n\
             format_type,csv,environment variable\n\
             org,acme,user settings\n\
             team,vision,user settings\n\
             base_url,http://127.0.0.1:8080,default value\n"
        );
        let json: Value = serde_json::from_str(&report.render(Format::Json, 80).unwrap()).unwrap();
        assert_eq!(
            json[0],
            json!({"key": "apikey", "value": "*************1234", "source": "global argument"})
        );
        let ascii = report.render(Format::Ascii, 80).unwrap();
        assert!(ascii.starts_with("+-------------+-----------------------+----------------------+\n| key "));
    }
}
