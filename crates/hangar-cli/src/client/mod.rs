//! The client commands of `hangar`, in NVIDIA's `ngc` grammar and output: `config`, `org`,
//! `team`, `user`, `key`, `invitation` and `registry`.
//!
//! Layout: `settings` (flags > env > file), `http` (authenticated REST client), `tokens`
//! (token cache), `output` (ascii/csv/json), `views` (how API objects are shown), `prompt`
//! (confirmations), `members` (users of an org or team), `target` and `search` (what catalog
//! commands act on, and wildcard lists), `versioned` (what models, resources and charts share),
//! `fields` (flags that become request fields), then one module per command group.

mod approvals;
mod artifact;
mod chart;
mod collection;
mod config;
mod fields;
mod http;
mod image;
mod invitation;
mod key;
mod login;
mod members;
mod org;
mod output;
mod prompt;
mod search;
mod settings;
mod signing_key;
mod target;
mod team;
mod tokens;
mod user;
mod versioned;
mod views;

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use http::Api;
use output::{CSV_UNSUPPORTED, Format, Report};
use settings::{Layer, Settings};
use std::path::PathBuf;
use tokens::TokenCache;

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Configure the client: API key, org, team, output format and server.
    Config(Group<config::ConfigCommand>),
    /// Org commands.
    Org(Group<org::OrgCommand>),
    /// Team commands (the team comes from --team or the configuration).
    Team(Group<team::TeamCommand>),
    /// User commands.
    User(Group<user::UserCommand>),
    /// API key commands: personal, service and legacy keys.
    Key(Group<key::KeyCommand>),
    /// Invitations to join an org or team.
    Invitation(Group<invitation::InvitationCommand>),
    /// Registry commands: container images, models, resources, Helm charts and collections.
    Registry(Group<RegistryCommand>),
}

/// `hangar registry …`: one subcommand group per kind of artifact.
#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Container images.
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Models: versioned file sets with metadata.
    #[command(subcommand)]
    Model(artifact::ArtifactCommand),
    /// Resources (NGC's "recipes"): versioned file sets with metadata.
    #[command(subcommand)]
    Resource(artifact::ArtifactCommand),
    /// Helm charts: packaged charts with metadata.
    #[command(subcommand)]
    Chart(chart::ChartCommand),
    /// Collections: ordered groups of images, charts, models and resources.
    #[command(subcommand)]
    Collection(collection::CollectionCommand),
}

impl RegistryCommand {
    fn supports_csv(&self) -> bool {
        match self {
            RegistryCommand::Image(c) => c.supports_csv(),
            RegistryCommand::Model(c) | RegistryCommand::Resource(c) => c.supports_csv(),
            RegistryCommand::Chart(c) => c.supports_csv(),
            RegistryCommand::Collection(c) => c.supports_csv(),
        }
    }
}

/// A command group with the global client flags.
#[derive(Args)]
pub struct Group<C: Subcommand> {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: C,
}

/// Flags of every client command; each beats its `HANGAR_*` environment variable, which beats
/// the user settings file.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Output format: ascii, csv or json [env: HANGAR_FORMAT_TYPE].
    #[arg(
        long = "format_type",
        alias = "format-type",
        value_enum,
        global = true,
        value_name = "FORMAT",
        hide_possible_values = true
    )]
    format_type: Option<Format>,
    /// Org to use [env: HANGAR_ORG].
    #[arg(long, global = true, value_name = "ORG")]
    org: Option<String>,
    /// Team to use; `no-team` for none [env: HANGAR_TEAM].
    #[arg(long, global = true, value_name = "TEAM")]
    team: Option<String>,
    /// API key [env: HANGAR_API_KEY].
    #[arg(long = "api-key", global = true, value_name = "KEY")]
    api_key: Option<String>,
    /// Server URL [env: HANGAR_BASE_URL] [default: http://127.0.0.1:8080].
    #[arg(long = "base-url", global = true, value_name = "URL")]
    base_url: Option<String>,
    /// PEM file with extra CA certificates for an https server [env: HANGAR_CA_BUNDLE].
    #[arg(long = "ca-bundle", global = true, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
}

impl GlobalArgs {
    fn layer(&self) -> Layer {
        Layer {
            api_key: self.api_key.clone(),
            org: self.org.clone(),
            team: self.team.clone(),
            format_type: self.format_type.map(|f| f.name().to_string()),
            base_url: self.base_url.clone(),
            ca_bundle: self.ca_bundle.as_ref().map(|p| p.to_string_lossy().into_owned()),
            session_key: None,
            email: None,
        }
    }
}

/// Everything a command needs: the settings in force and the layers they came from.
pub struct Ctx {
    pub settings: Settings,
    pub home: PathBuf,
    pub flags: Layer,
    pub env: Layer,
    pub file: Layer,
}

impl Ctx {
    pub fn format(&self) -> Format {
        self.settings.format.value
    }

    pub fn token_cache(&self) -> TokenCache {
        TokenCache::new(settings::tokens_path(&self.home))
    }

    pub fn config_path(&self) -> PathBuf {
        settings::config_path(&self.home)
    }

    /// The REST client for these settings.
    pub fn api(&self) -> Result<Api> {
        Api::new(&self.settings, self.token_cache())
    }

    pub fn org(&self) -> Result<&str> {
        self.settings.org.as_ref().map(|o| o.value.as_str()).ok_or_else(|| {
            anyhow!(
                "Missing org - If Authenticated, org is also required. Give --org, set HANGAR_ORG or run `hangar config set --org <org>`."
            )
        })
    }

    pub fn team(&self) -> Option<&str> {
        self.settings.team.as_ref().map(|t| t.value.as_str())
    }

    pub fn require_team(&self) -> Result<&str> {
        self.team()
            .ok_or_else(|| anyhow!("Provide team name using --team option or set team name using `hangar config set`."))
    }
}

impl ClientCommand {
    fn global(&self) -> &GlobalArgs {
        match self {
            ClientCommand::Config(g) => &g.global,
            ClientCommand::Org(g) => &g.global,
            ClientCommand::Team(g) => &g.global,
            ClientCommand::User(g) => &g.global,
            ClientCommand::Key(g) => &g.global,
            ClientCommand::Invitation(g) => &g.global,
            ClientCommand::Registry(g) => &g.global,
        }
    }

    /// Whether the command has a CSV form: lists, and the `config` commands.
    fn supports_csv(&self) -> bool {
        match self {
            ClientCommand::Config(g) => g.command.supports_csv(),
            ClientCommand::Org(g) => g.command.supports_csv(),
            ClientCommand::Team(g) => g.command.supports_csv(),
            ClientCommand::User(g) => g.command.supports_csv(),
            ClientCommand::Key(g) => g.command.supports_csv(),
            ClientCommand::Invitation(g) => g.command.supports_csv(),
            ClientCommand::Registry(g) => g.command.supports_csv(),
        }
    }
}

pub async fn run(cmd: ClientCommand) -> Result<()> {
    let home = settings::home_dir()?;
    let flags = cmd.global().layer();
    let env = Layer::from_env(|name| std::env::var(name).ok());
    let file = settings::load_file(&settings::config_path(&home))?;
    let settings = settings::resolve(&flags, &env, &file)?;
    let ctx = Ctx {
        settings,
        home,
        flags,
        env,
        file,
    };
    if ctx.format() == Format::Csv && !cmd.supports_csv() {
        bail!("{CSV_UNSUPPORTED}");
    }
    let report: Report = match cmd {
        ClientCommand::Config(g) => config::run(&ctx, g.command).await?,
        ClientCommand::Org(g) => org::run(&ctx, g.command).await?,
        ClientCommand::Team(g) => team::run(&ctx, g.command).await?,
        ClientCommand::User(g) => user::run(&ctx, g.command).await?,
        ClientCommand::Key(g) => key::run(&ctx, g.command).await?,
        ClientCommand::Invitation(g) => invitation::run(&ctx, g.command).await?,
        ClientCommand::Registry(g) => match g.command {
            RegistryCommand::Image(c) => image::run(&ctx, c).await?,
            RegistryCommand::Model(c) => artifact::run(&ctx, &artifact::MODEL, c).await?,
            RegistryCommand::Resource(c) => artifact::run(&ctx, &artifact::RESOURCE, c).await?,
            RegistryCommand::Chart(c) => chart::run(&ctx, c).await?,
            RegistryCommand::Collection(c) => collection::run(&ctx, c).await?,
        },
    };
    report.print(ctx.format())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: ClientCommand,
    }

    fn parse(args: &[&str]) -> Result<ClientCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("hangar").chain(args.iter().copied())).map(|c| c.command)
    }

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_before_and_after_the_subcommand() {
        let cmd = parse(&[
            "org",
            "--org",
            "a",
            "list",
            "--format_type",
            "json",
            "--team",
            "no-team",
        ])
        .unwrap();
        let layer = cmd.global().layer();
        assert_eq!(layer.org.as_deref(), Some("a"));
        assert_eq!(layer.format_type.as_deref(), Some("json"));
        assert_eq!(layer.team.as_deref(), Some("no-team"));
        let cmd = parse(&["key", "personal", "list", "--api-key", "k", "--base-url", "http://h:1"]).unwrap();
        assert_eq!(cmd.global().layer().api_key.as_deref(), Some("k"));
        assert!(parse(&["org", "list", "--format_type", "yaml"]).is_err());
    }

    #[test]
    fn csv_only_for_lists() {
        let csv = |args: &[&str]| parse(args).unwrap().supports_csv();
        assert!(csv(&["org", "list"]));
        assert!(csv(&["org", "list-users"]));
        assert!(csv(&["team", "list-users", "--email", "a@b"]));
        assert!(csv(&["key", "list"]));
        assert!(csv(&["key", "service", "list"]));
        assert!(csv(&["invitation", "list"]));
        assert!(csv(&["config", "current"]));
        assert!(csv(&["config", "set"]));
        assert!(csv(&["registry", "chart", "list", "acme/*"]));
        assert!(!csv(&["registry", "chart", "info", "acme/c"]));
        assert!(csv(&["registry", "collection", "list", "acme/*"]));
        assert!(!csv(&["registry", "collection", "info", "acme/kit"]));
        assert!(!csv(&["org", "info"]));
        assert!(!csv(&["user", "who"]));
        assert!(!csv(&["team", "info", "t"]));
        assert!(!csv(&["key", "personal", "info", "3"]));
    }

    #[test]
    fn destructive_commands_take_yes() {
        for args in [
            &["org", "remove-team", "t", "-y"][..],
            &["org", "remove-user", "3", "--yes"],
            &["team", "remove-user", "3", "-y"],
            &["key", "personal", "delete", "3", "-y"],
            &["key", "service", "delete", "3", "-y"],
            &["key", "legacy", "delete", "-y"],
            &["invitation", "delete", "a@b.c", "-y"],
            &["registry", "chart", "remove", "acme/c:1.0.0", "-y"],
            &["registry", "collection", "remove", "acme/kit", "-y"],
        ] {
            assert!(parse(args).is_ok(), "{args:?}");
        }
    }

    #[test]
    fn role_flags() {
        assert!(
            parse(&[
                "org",
                "update-user",
                "3",
                "--add-role",
                "A",
                "--add-role",
                "B",
                "--remove-role",
                "C"
            ])
            .is_ok()
        );
        assert!(parse(&["org", "update-user", "3", "--role", "A", "--add-role", "B"]).is_err());
        assert!(
            parse(&["org", "add-user", "a@b.c", "A B"]).is_err(),
            "--role is required"
        );
        assert!(
            parse(&[
                "org",
                "add-user",
                "a@b.c",
                "A B",
                "--role",
                "REGISTRY_USER",
                "--team",
                "t"
            ])
            .is_ok()
        );
        assert!(parse(&["key", "personal", "update", "3", "--active", "false"]).is_ok());
        assert!(parse(&["key", "personal", "update", "3", "--active", "maybe"]).is_err());
        assert!(
            parse(&["key", "service", "create", "--name", "ci"]).is_err(),
            "--scope is required"
        );
    }
}
