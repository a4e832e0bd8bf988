//! `hangar admin`: operator commands straight on the database (no server needed). Commands that
//! create a key print only the secret on stdout, so scripts can capture it.

use crate::settings::StoreArgs;
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use hangar_core::names::{normalize_email, validate_org, validate_team};
use hangar_core::roles::Role;
use hangar_server::catalog::products;
use hangar_server::identity::keys::{
    PersonalKeyRequest, ServiceKeyRequest, issue_legacy_key, issue_personal_key, issue_service_key,
};
use hangar_server::identity::mail::{RESET_LINK_SECONDS, when};
use hangar_store::meta::{MetaStore, Org, PasswordPurpose, RoleChange, User, now};

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Orgs.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Teams.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Grant or revoke roles.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Products and orgs' subscriptions to them.
    #[command(subcommand)]
    Product(ProductCommand),
    /// Issue API keys; prints the secret, once.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Print a one-time link (valid 24 hours) for a user to set a new password, such as the
    /// owner who lost the first start's link. Using it ends the user's sessions.
    PasswordLink {
        /// The user's e-mail.
        email: String,
        /// The URL people reach the server at, to print a whole link [default: the
        /// settings' public_url; else only the path is printed].
        #[arg(long, env = "HANGAR_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Show the mail outbox (invitations waiting to be delivered by hand).
    Outbox {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    Create {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    Create {
        /// Lowercase letters, digits, `-` and `_`, like org names: `nv-ai-enterprise`.
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    List,
    Update {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Deletes the product, its subscriptions and its place on entities.
    Remove {
        name: String,
    },
    /// Subscribes an org to a product, or changes the end of its subscription.
    Subscribe {
        org: String,
        product: String,
        /// An RFC 3339 time or a date (2027-01-31) [default: no end].
        #[arg(long)]
        expires: Option<String>,
    },
    Unsubscribe {
        org: String,
        product: String,
    },
    /// The subscriptions of one org, or of every org.
    Subscriptions {
        org: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    Create {
        org: String,
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    Create {
        email: String,
        #[arg(long)]
        name: String,
        /// May do anything in every org, including pushing to reserved namespaces.
        #[arg(long)]
        platform_admin: bool,
    },
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    email: String,
    #[arg(long)]
    org: String,
    #[arg(long)]
    team: Option<String>,
    /// ORG_OWNER, REGISTRY_ADMIN, REGISTRY_USER, REGISTRY_READ, USER_ADMIN, USER_READ.
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    Grant(RoleArgs),
    Revoke(RoleArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// A personal key for a member of an org.
    Personal {
        #[arg(long)]
        org: String,
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "admin-issued key")]
        name: String,
        /// 1h … 12M, never, or an RFC 3339 date.
        #[arg(long)]
        expiry: Option<String>,
        /// NGC_CATALOG, PRIVATE_REGISTRY [default: all the user's roles allow].
        #[arg(long = "service")]
        services: Vec<String>,
    },
    /// A service key owned by an org.
    Service {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        #[arg(long, default_value = "ALL")]
        entity_type: String,
        #[arg(long)]
        entity_value: Option<String>,
        #[arg(long)]
        expiry: Option<String>,
    },
    /// A user's legacy key (replaces their previous one).
    Legacy {
        #[arg(long)]
        user: String,
    },
}

pub async fn run(args: AdminArgs) -> Result<()> {
    let file = args.store.file()?;
    let database = args.store.database(&file);
    let meta = MetaStore::open(&database)
        .await
        .with_context(|| format!("cannot open database {database}"))?;
    let result = execute(&meta, args.command).await;
    meta.close().await;
    result
}

async fn org(meta: &MetaStore, name: &str) -> Result<Org> {
    meta.org(name).await?.ok_or_else(|| anyhow!("org '{name}' not found"))
}

async fn user(meta: &MetaStore, email: &str) -> Result<User> {
    let email = normalize_email(email)?;
    meta.user_by_email(&email)
        .await?
        .ok_or_else(|| anyhow!("user '{email}' not found"))
}

async fn execute(meta: &MetaStore, command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::Org(OrgCommand::Create {
            name,
            display_name,
            description,
        }) => {
            validate_org(&name)?;
            let display = display_name.unwrap_or_else(|| name.clone());
            let org = meta.create_org(&name, &display, &description).await?;
            eprintln!("Created org '{}' (id {}).", org.name, org.id);
        }
        AdminCommand::Org(OrgCommand::List) => {
            for org in meta.all_orgs().await? {
                println!("{}\t{}", org.name, org.display_name);
            }
        }
        AdminCommand::Team(TeamCommand::Create {
            org: org_name,
            name,
            description,
        }) => {
            validate_team(&name)?;
            let org = org(meta, &org_name).await?;
            let team = meta.create_team(org.id, &name, &description).await?;
            eprintln!("Created team '{}' in org '{}'.", team.name, org.name);
        }
        AdminCommand::User(UserCommand::Create {
            email,
            name,
            platform_admin,
        }) => {
            let email = normalize_email(&email)?;
            let user = meta.create_user(&email, &name, platform_admin).await?;
            eprintln!("Created user {} (id {}).", user.email, user.id);
        }
        AdminCommand::Role(RoleCommand::Grant(r)) => change_roles(meta, r, true).await?,
        AdminCommand::Role(RoleCommand::Revoke(r)) => change_roles(meta, r, false).await?,
        AdminCommand::Product(command) => product(meta, command).await?,
        AdminCommand::Key(key) => println!("{}", issue_key(meta, key).await?),
        AdminCommand::PasswordLink { email, public_url } => {
            let user = user(meta, &email).await?;
            let expires = now() + RESET_LINK_SECONDS;
            let (_, token) = meta
                .create_password_link(user.id, PasswordPurpose::Reset, None, expires, None)
                .await?;
            let base = public_url.unwrap_or_default();
            eprintln!("One-time link for {} to set a password (valid 24 hours):", user.email);
            println!("{}/password/{token}", base.trim_end_matches('/'));
        }
        AdminCommand::Outbox { limit } => {
            for mail in meta.outbox(limit).await? {
                println!("To: {}\nSubject: {}\n\n{}\n", mail.recipient, mail.subject, mail.body);
            }
        }
    }
    Ok(())
}

async fn product(meta: &MetaStore, command: ProductCommand) -> Result<()> {
    match command {
        ProductCommand::Create {
            name,
            display_name,
            description,
        } => {
            let product = products::create(meta, &name, display_name.as_deref(), &description).await?;
            eprintln!("Created product '{}'.", product.name);
        }
        ProductCommand::List => {
            for p in meta.products().await? {
                println!("{}\t{}\t{}", p.name, p.display_name, p.description);
            }
        }
        ProductCommand::Update {
            name,
            display_name,
            description,
        } => {
            products::update(meta, &name, display_name.as_deref(), description.as_deref()).await?;
            eprintln!("Updated product '{name}'.");
        }
        ProductCommand::Remove { name } => {
            meta.delete_product(&name).await?;
            eprintln!("Removed product '{name}'.");
        }
        ProductCommand::Subscribe { org, product, expires } => {
            let expires_at = expires.as_deref().map(products::parse_expiry).transpose()?;
            products::subscribe(meta, &org, &product, expires_at).await?;
            let until = expires_at.map_or("no end".to_string(), when);
            eprintln!("Org '{org}' subscribes to '{product}' until {until}.");
        }
        ProductCommand::Unsubscribe { org, product } => {
            products::unsubscribe(meta, &org, &product).await?;
            eprintln!("Org '{org}' no longer subscribes to '{product}'.");
        }
        ProductCommand::Subscriptions { org: name } => {
            let org_id = match &name {
                Some(name) => Some(org(meta, name).await?.id),
                None => None,
            };
            for s in meta.subscriptions(org_id).await? {
                let until = s.expires_at.map_or("-".to_string(), when);
                let lapsed = if s.expires_at.is_some_and(|t| t <= now()) {
                    "\texpired"
                } else {
                    ""
                };
                println!("{}\t{}\t{until}{lapsed}", s.org, s.product.name);
            }
        }
    }
    Ok(())
}

async fn change_roles(meta: &MetaStore, args: RoleArgs, grant: bool) -> Result<()> {
    let org = org(meta, &args.org).await?;
    let user = user(meta, &args.email).await?;
    let team_id = match &args.team {
        Some(name) => Some(meta.require_team(&org, name).await?.id),
        None => None,
    };
    let roles: Vec<Role> = args.roles.iter().map(|r| r.parse()).collect::<Result<_, _>>()?;
    let change = if grant {
        RoleChange::Add(&roles)
    } else {
        RoleChange::Remove(&roles)
    };
    meta.change_roles(user.id, org.id, team_id, change).await?;
    eprintln!(
        "Roles of {} in {} updated.",
        user.email,
        args.team.map_or(org.name, |t| format!("{}/{t}", args.org))
    );
    Ok(())
}

async fn issue_key(meta: &MetaStore, command: KeyCommand) -> Result<String> {
    let (key, secret) = match command {
        KeyCommand::Personal {
            org: org_name,
            user: email,
            name,
            expiry,
            services,
        } => {
            let org = org(meta, &org_name).await?;
            let owner = user(meta, &email).await?;
            let services = (!services.is_empty()).then_some(services);
            issue_personal_key(meta, &owner, &org, &PersonalKeyRequest { name, expiry, services }, None).await?
        }
        KeyCommand::Service {
            org: org_name,
            name,
            scopes,
            entity_type,
            entity_value,
            expiry,
        } => {
            let org = org(meta, &org_name).await?;
            let request = ServiceKeyRequest {
                name,
                expiry,
                scopes,
                entity_type: Some(entity_type),
                entity_value,
            };
            issue_service_key(meta, &org, &request, None).await?
        }
        KeyCommand::Legacy { user: email } => issue_legacy_key(meta, &user(meta, &email).await?, None).await?,
    };
    if !key.active {
        bail!("the new key is inactive");
    }
    eprintln!(
        "Created {} key {} ('{}'). The secret is shown only once:",
        key.kind.name().to_lowercase(),
        key.id,
        key.name
    );
    Ok(secret)
}
