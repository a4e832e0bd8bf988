//! `hangar key signing`: `create` makes a cosign-compatible key pair for publishers who sign on
//! their own machine (`cosign.key`, encrypted with a password, and `cosign.pub`), here and never
//! sent anywhere; `add`, `list` and `remove` manage the keys the current org trusts (its owners
//! and registry admins), and `public-key` fetches the org's server-held key.

use super::Ctx;
use super::http::seg;
use super::output::{Report, Table};
use super::prompt::confirm_remove;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hangar_core::cosign;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SigningCommand {
    /// Write a new key pair, cosign.key (encrypted) and cosign.pub, as `cosign generate-key-pair`
    /// does. The password comes from COSIGN_PASSWORD, else it is asked for twice.
    Create {
        /// The folder to write them to.
        #[arg(long = "output-dir", value_name = "DIR", default_value = ".")]
        output_dir: PathBuf,
    },
    /// Trust a public key (cosign.pub) or certificate for the current org's signatures.
    Add {
        /// What the key is called in the org (verdicts name it).
        name: String,
        /// The PEM file of the public key or certificate.
        #[arg(long = "public-key", value_name = "FILE")]
        public_key: PathBuf,
    },
    /// List the keys the current org trusts, its server-held key first.
    List,
    /// Stop trusting a key; signatures it made are no longer verified.
    Remove {
        name: String,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long)]
        yes: bool,
    },
    /// Write the current org's server-held public key (what verifies the images it signs).
    PublicKey {
        /// The file to write; default: print it.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

impl SigningCommand {
    /// Whether the command talks to a server (all but `create`).
    pub fn needs_server(&self) -> bool {
        !matches!(self, SigningCommand::Create { .. })
    }
}

/// The password: `COSIGN_PASSWORD` (as cosign reads it), else typed twice on stdin.
fn password() -> Result<String> {
    if let Ok(password) = std::env::var("COSIGN_PASSWORD") {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| -> Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush().ok();
        Ok(lines.next().transpose()?.unwrap_or_default())
    };
    let first = ask("Enter password for private key: ")?;
    if ask("Enter password for private key again: ")? != first {
        bail!("the passwords do not match");
    }
    Ok(first)
}

/// Writes `text` to a new file (never over an existing one), readable by its owner only when
/// `private`.
fn write_new(path: &Path, text: &str, private: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (is it there already?)", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn keys_path(org: &str) -> String {
    format!("/v2/org/{}/signing-keys", seg(org))
}

fn key_row(k: &Value) -> Vec<String> {
    let text = |f: &str| k[f].as_str().unwrap_or_default().to_string();
    let held = if k["serverHeld"].as_bool() == Some(true) {
        "server"
    } else {
        "registered"
    };
    vec![text("name"), held.to_string(), text("fingerprint"), text("createdDate")]
}

/// The commands that talk to the server.
pub async fn run_remote(ctx: &Ctx, cmd: SigningCommand) -> Result<Report> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    match cmd {
        SigningCommand::Add { name, public_key } => {
            let pem = std::fs::read_to_string(&public_key)
                .with_context(|| format!("cannot read {}", public_key.display()))?;
            let body = api
                .post(&keys_path(org), &json!({"name": name, "publicKey": pem}))
                .await?;
            let key = &body["signingKey"];
            Ok(Report::new()
                .text(format!(
                    "Org '{org}' now trusts key '{name}' ({}).",
                    key["fingerprint"].as_str().unwrap_or_default()
                ))
                .json(key.clone()))
        }
        SigningCommand::List => {
            let body = api.get(&keys_path(org), &[]).await?;
            let keys = body["signingKeys"].as_array().cloned().unwrap_or_default();
            let table = Table::new(&["Name", "Held by", "Fingerprint", "Created"]).rows(keys.iter().map(key_row));
            Ok(Report::new().table(table).json_list(keys))
        }
        SigningCommand::Remove { name, yes } => {
            confirm_remove(&format!("signing key '{name}' of org '{org}'"), yes)?;
            api.delete(&format!("{}/{}", keys_path(org), seg(&name)), &[]).await?;
            Ok(Report::new().text(format!("Org '{org}' no longer trusts key '{name}'.")))
        }
        SigningCommand::PublicKey { output } => {
            let pem = api.text(&format!("/v2/org/{}/containers/public-key", seg(org))).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &pem).with_context(|| format!("cannot write {}", path.display()))?;
                    Ok(Report::new().text(format!("Public key of org '{org}' written to {}", path.display())))
                }
                None => Ok(Report::new().text(pem.trim_end().to_string())),
            }
        }
        SigningCommand::Create { .. } => run(cmd),
    }
}

pub fn run(cmd: SigningCommand) -> Result<Report> {
    match cmd {
        SigningCommand::Create { output_dir } => {
            let (key, public) = (output_dir.join("cosign.key"), output_dir.join("cosign.pub"));
            for path in [&key, &public] {
                if path.exists() {
                    bail!("{} exists already; move it away or choose --output-dir", path.display());
                }
            }
            let password = password()?;
            let pair = cosign::generate(password.as_bytes(), &mut p256::elliptic_curve::rand_core::OsRng)?;
            write_new(&key, &pair.private_pem, true)?;
            write_new(&public, &pair.public_pem, false)?;
            Ok(Report::new().text(format!(
                "Private key written to {}\nPublic key written to {}",
                key.display(),
                public.display()
            )))
        }
        _ => bail!("this command needs a server"),
    }
}
