//! `hangar key signing create`: a cosign-compatible key pair for publishers who sign on their
//! own machine (`cosign.key`, encrypted with a password, and `cosign.pub`, which the org's
//! admins register as trusted). Made here, never sent anywhere.

use super::output::Report;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hangar_core::cosign;
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
    }
}
