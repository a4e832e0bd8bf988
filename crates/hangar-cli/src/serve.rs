//! `hangar serve`.

use crate::settings::{StoreArgs, path_text};
use anyhow::{Context, Result, bail};
use clap::Args;
use hangar_server::gc::GcConfig;
use hangar_server::identity::bootstrap::InitialOrg;
use hangar_server::server::{ServeConfig, Server};
use hangar_server::state::Settings;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "HANGAR_LISTEN")]
    listen: Option<SocketAddr>,
    /// Blob store: a folder, or `s3://bucket/prefix` with endpoint, region and credentials from
    /// AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [default: <data-dir>/blobs].
    #[arg(long, env = "HANGAR_BLOBS")]
    blobs: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key the server speaks only HTTPS.
    #[arg(long, env = "HANGAR_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "HANGAR_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Lifetime of issued bearer tokens, in seconds [default: 900].
    #[arg(long, env = "HANGAR_TOKEN_TTL")]
    token_ttl: Option<i64>,
    /// Name of the org created on first start [default: hangar].
    #[arg(long, env = "HANGAR_INIT_ORG")]
    init_org: Option<String>,
    /// Display name of that org [default: the org name].
    #[arg(long, env = "HANGAR_INIT_ORG_DISPLAY_NAME")]
    init_org_display_name: Option<String>,
    /// E-mail of the first org owner [default: admin@hangar.local].
    #[arg(long, env = "HANGAR_INIT_OWNER_EMAIL")]
    init_owner_email: Option<String>,
    /// Name of the first org owner [default: Hangar Admin].
    #[arg(long, env = "HANGAR_INIT_OWNER_NAME")]
    init_owner_name: Option<String>,
    /// Service name in the registry's token challenge [default: hangar].
    #[arg(long, env = "HANGAR_REGISTRY_SERVICE")]
    registry_service: Option<String>,
    /// Default lifetime of invitations, in minutes [default: 10080, a week].
    #[arg(long, env = "HANGAR_INVITATION_EXPIRY_MINUTES")]
    invitation_expiry_minutes: Option<i64>,
    /// Largest image layer a push may upload, in bytes [default: 10000000000, 10 GB].
    #[arg(long, env = "HANGAR_MAX_LAYER_SIZE")]
    max_layer_size: Option<u64>,
    /// Per-org total image size that triggers a warning on push, in bytes [default: 1 TB].
    #[arg(long, env = "HANGAR_ORG_IMAGE_SOFT_LIMIT")]
    org_image_soft_limit: Option<u64>,
    /// Seconds between garbage-collection passes of the blob store; 0 turns GC off in this
    /// process (one replica at a time runs a pass) [default: 3600].
    #[arg(long, env = "HANGAR_GC_INTERVAL")]
    gc_interval: Option<u64>,
    /// Seconds a blob must stay unreferenced before GC deletes it; pushes that take longer
    /// between uploading a layer and its manifest should raise it [default: 3600].
    #[arg(long, env = "HANGAR_GC_GRACE")]
    gc_grace: Option<u64>,
    /// Seconds an idle upload session lives before GC deletes it [default: 86400].
    #[arg(long, env = "HANGAR_UPLOAD_EXPIRY")]
    upload_expiry: Option<u64>,
    /// Bytes of model and resource files an org may store, each distinct file counted once;
    /// uploads that would pass it are refused [default: 5000000000000, 5 TB].
    #[arg(long, env = "HANGAR_ORG_ARTIFACT_QUOTA")]
    org_artifact_quota: Option<u64>,
    /// Largest Helm chart archive a push may send, in bytes [default: 20971520, 20 MiB].
    #[arg(long, env = "HANGAR_MAX_CHART_SIZE")]
    max_chart_size: Option<u64>,
    /// A host name whose requests all go to the Helm repository, at the root of the host (as
    /// NGC clients expect of `helm.ngc.nvidia.com`); repeat for several, or separate by commas.
    /// Under any other name the Helm repository is at `/helm` [default: none].
    #[arg(long, env = "HANGAR_HELM_HOST", value_delimiter = ',')]
    helm_host: Vec<String>,
    /// Seconds this server may answer registry reads (credentials, repositories, tags) from
    /// memory; with several replicas, a change made through one is seen by the others within
    /// this time. 0 turns the cache off [default: 2].
    #[arg(long, env = "HANGAR_READ_CACHE")]
    read_cache: Option<u64>,
    /// Seconds a download URL handed out for a model or resource file (or a whole version as a
    /// zip) stays good; each use also checks that its holder may still download [default: 3600].
    #[arg(long, env = "HANGAR_DOWNLOAD_URL_TTL")]
    download_url_ttl: Option<u64>,
    /// The URL people reach this server at (e.g. `https://hangar.example.com`), used in the
    /// links of mails and of the first start [default: the address a request named].
    #[arg(long, env = "HANGAR_PUBLIC_URL")]
    public_url: Option<String>,
    /// A file whose content (at least 16 characters) encrypts the signing keys the server holds
    /// in the database; the same on every replica. Without it the server signs nothing.
    #[arg(long, env = "HANGAR_SIGNING_SECRET_FILE", value_name = "FILE")]
    signing_secret_file: Option<PathBuf>,
    /// Addresses of load balancers in front of this server: from them, the client is the one
    /// `X-Forwarded-For` names (sign-in throttling is per client address); repeat or separate
    /// by commas [default: none].
    #[arg(long, env = "HANGAR_TRUSTED_PROXY", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// Seconds without a request after which a browser session ends [default: 43200, 12 h].
    #[arg(long, env = "HANGAR_SESSION_IDLE")]
    session_idle: Option<u64>,
    /// Seconds after signing in at which a browser session ends, however much it is used
    /// [default: 604800, 7 days].
    #[arg(long, env = "HANGAR_SESSION_LIFETIME")]
    session_lifetime: Option<u64>,
    /// Log filter, e.g. `info` or `hangar_server=debug` [default: info; RUST_LOG also works].
    #[arg(long, env = "HANGAR_LOG")]
    log: Option<String>,
}

pub async fn run(args: ServeArgs) -> Result<()> {
    let file = args.store.file()?;
    init_logging(args.log.as_deref().or(file.log.as_deref()));
    let data_dir = args.store.data_dir(&file);
    let database = args.store.database(&file);
    let listen = match (args.listen, &file.listen) {
        (Some(addr), _) => addr,
        (None, Some(text)) => text
            .parse()
            .with_context(|| format!("invalid listen address '{text}'"))?,
        (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let tls = match (args.tls_cert.or(file.tls_cert), args.tls_key.or(file.tls_key)) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => bail!("TLS needs both a certificate (--tls-cert) and a key (--tls-key)"),
    };
    let token_ttl = args.token_ttl.or(file.token_ttl).unwrap_or(900);
    if !(60..=86_400).contains(&token_ttl) {
        bail!("--token-ttl must be between 60 and 86400 seconds");
    }
    let defaults = Settings::default();
    let download_url_ttl = args
        .download_url_ttl
        .or(file.download_url_ttl)
        .map_or(defaults.download_url_ttl, Duration::from_secs);
    if !(Duration::from_secs(60)..=Duration::from_secs(7 * 24 * 60 * 60)).contains(&download_url_ttl) {
        bail!("--download-url-ttl must be between 60 seconds and 7 days");
    }
    let session_idle = args
        .session_idle
        .or(file.session_idle)
        .map_or(defaults.session_idle, Duration::from_secs);
    let session_lifetime = args
        .session_lifetime
        .or(file.session_lifetime)
        .map_or(defaults.session_lifetime, Duration::from_secs);
    if session_idle < Duration::from_secs(60) || session_lifetime < Duration::from_secs(60) {
        bail!("--session-idle and --session-lifetime must be at least 60 seconds");
    }
    if session_lifetime > Duration::from_secs(366 * 24 * 60 * 60) {
        bail!("--session-lifetime must be at most a year");
    }
    let public_url = args
        .public_url
        .or(file.public_url)
        .map(|u| u.trim_end_matches('/').to_string());
    if let Some(url) = &public_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!("--public-url must start with http:// or https://");
    }
    let signing_secret = match args.signing_secret_file.or(file.signing_secret_file) {
        Some(path) => {
            let secret = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read --signing-secret-file {}", path.display()))?
                .trim()
                .to_string();
            if secret.chars().count() < 16 {
                bail!(
                    "the signing secret in {} must be at least 16 characters",
                    path.display()
                );
            }
            Some(secret)
        }
        None => None,
    };
    let org = args.init_org.or(file.init_org).unwrap_or_else(|| "hangar".into());
    let config = ServeConfig {
        listen,
        database,
        blobs: args
            .blobs
            .or(file.blobs)
            .unwrap_or_else(|| path_text(&data_dir.join("blobs"))),
        tls: tls.clone(),
        token_ttl_seconds: token_ttl,
        initial: InitialOrg {
            display_name: args
                .init_org_display_name
                .or(file.init_org_display_name)
                .unwrap_or_else(|| org.clone()),
            org,
            owner_email: args
                .init_owner_email
                .or(file.init_owner_email)
                .unwrap_or_else(|| "admin@hangar.local".into()),
            owner_name: args
                .init_owner_name
                .or(file.init_owner_name)
                .unwrap_or_else(|| "Hangar Admin".into()),
        },
        settings: Settings {
            registry_service: args
                .registry_service
                .or(file.registry_service)
                .unwrap_or(defaults.registry_service),
            invitation_expiry_minutes: args
                .invitation_expiry_minutes
                .or(file.invitation_expiry_minutes)
                .unwrap_or(defaults.invitation_expiry_minutes),
            max_layer_bytes: args
                .max_layer_size
                .or(file.max_layer_size)
                .unwrap_or(defaults.max_layer_bytes),
            org_image_soft_limit_bytes: args
                .org_image_soft_limit
                .or(file.org_image_soft_limit)
                .unwrap_or(defaults.org_image_soft_limit_bytes),
            org_artifact_quota_bytes: args
                .org_artifact_quota
                .or(file.org_artifact_quota)
                .unwrap_or(defaults.org_artifact_quota_bytes),
            max_chart_bytes: args
                .max_chart_size
                .or(file.max_chart_size)
                .unwrap_or(defaults.max_chart_bytes),
            helm_hosts: if args.helm_host.is_empty() {
                file.helm_hosts.unwrap_or_default()
            } else {
                args.helm_host
            },
            tls: tls.is_some(),
            read_cache: args
                .read_cache
                .or(file.read_cache)
                .map_or(defaults.read_cache, Duration::from_secs),
            download_url_ttl,
            public_url: public_url.clone(),
            signing_secret,
            trusted_proxies: if args.trusted_proxy.is_empty() {
                file.trusted_proxies.unwrap_or_default()
            } else {
                args.trusted_proxy
            },
            session_idle,
            session_lifetime,
        },
        gc: gc_config(
            args.gc_interval.or(file.gc_interval),
            args.gc_grace.or(file.gc_grace),
            args.upload_expiry.or(file.upload_expiry),
        )?,
    };
    let server = Server::start(config.clone()).await.context("cannot start the server")?;
    if let Some(first) = &server.bootstrapped {
        println!("Created org '{}' with owner {}.", first.org.name, first.owner.email);
        println!(
            "Initial API key for {} (personal, org '{}', never expires). Save it now; it is shown only once:",
            first.owner.email, first.org.name
        );
        println!("{}", first.secret);
    }
    let scheme = if server.is_tls() { "https" } else { "http" };
    if let Some(first) = &server.bootstrapped {
        let base = public_url.unwrap_or_else(|| {
            format!(
                "{scheme}://{}",
                server.local_addr().map(|a| a.to_string()).unwrap_or_default()
            )
        });
        println!(
            "Set the owner's password (one-time link, valid 7 days; `hangar admin password-link` makes a new one):"
        );
        println!("{base}/password/{}", first.password_token);
    }
    println!(
        "Hangar listening on {scheme}://{} (database {}, blobs {})",
        server.local_addr()?,
        redact(&config.database),
        config.blobs
    );
    server.run().await?;
    Ok(())
}

fn gc_config(interval: Option<u64>, grace: Option<u64>, upload_expiry: Option<u64>) -> Result<GcConfig> {
    let defaults = GcConfig::default();
    let upload_expiry = upload_expiry.map_or(defaults.upload_expiry, Duration::from_secs);
    if upload_expiry < Duration::from_secs(60) {
        bail!("--upload-expiry must be at least 60 seconds");
    }
    Ok(GcConfig {
        every: match interval {
            Some(0) => None,
            Some(seconds) => Some(Duration::from_secs(seconds)),
            None => defaults.every,
        },
        grace: grace.map_or(defaults.grace, Duration::from_secs),
        upload_expiry,
    })
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => match url[start + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..start + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

fn init_logging(filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match filter {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
