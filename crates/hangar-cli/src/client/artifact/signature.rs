//! `sign` and `download-version-signature` (ngc-api.md §4.8): the server signs a complete
//! version with the org's certificate, or keeps a signature the publisher made
//! (`--signature`, checked against the files and the org's trusted keys); the signature (an OpenSSF model-signing bundle) lands in
//! `<dest>/<name>_v<version>/result.sigstore`, beside the files `download-version` puts there.

use super::Kind;
use crate::client::Ctx;
use crate::client::http::data_client;
use crate::client::output::Report;
use crate::client::search::Reader;
use crate::client::target::Target;
use crate::client::views::field;
use anyhow::{Context, Result, bail};
use clap::Args;
use reqwest::Method;
use std::path::PathBuf;

/// The largest signature bundle the server takes.
const MAX_SIGNATURE: u64 = 1 << 20;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// <org>/[<team>/]<name>:<version>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// A signature you made yourself (`model_signing sign key|certificate … --signature FILE`)
    /// to upload instead: the server keeps it only if it signs exactly the version's files with
    /// a key or certificate the org trusts.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SignatureArgs {
    /// <org>/[<team>/]<name>[:<version>] (default: the latest version).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Folder to download into.
    #[arg(short = 'd', long = "dest", value_name = "DIR", default_value = ".")]
    pub dest: PathBuf,
}

/// `sign <target>`: asks the server to sign the version.
pub async fn sign(ctx: &Ctx, kind: &'static Kind, args: SignArgs) -> Result<Report> {
    let target = Target::resolve(&args.target, ctx)?;
    let version = target
        .require_tag("sign", "<org>/[<team>/]<name>:<version>")?
        .to_string();
    let path = format!("{}/signature", kind.wire.version_path(&target, &version));
    let bundle = match &args.signature {
        Some(file) => {
            let size = std::fs::metadata(file)
                .with_context(|| format!("cannot read {}", file.display()))?
                .len();
            if size > MAX_SIGNATURE {
                bail!(
                    "{} is {size} bytes: a signature bundle is at most {MAX_SIGNATURE}",
                    file.display()
                );
            }
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let bundle: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a signature bundle (JSON)", file.display()))?;
            if bundle.get("mediaType").and_then(|m| m.as_str()).is_none() {
                bail!("{} is not a sigstore bundle: it has no mediaType", file.display());
            }
            Some(bundle)
        }
        None => None,
    };
    let answer = ctx.api()?.call(Method::PUT, &path, &[], bundle.as_ref()).await?;
    Ok(Report::new().text(format!(
        "Signed {} '{}:{version}' (verified by key '{}').",
        kind.wire.title.to_lowercase(),
        target.full_name(),
        field(&answer, "signedBy")
    )))
}

/// `download-version-signature <target>`: the version's `result.sigstore`.
pub async fn download(ctx: &Ctx, kind: &'static Kind, args: SignatureArgs) -> Result<Report> {
    let reader = Reader::new(ctx)?;
    let target = Target::resolve(&args.target, ctx)?;
    let version = kind.wire.complete_version(&reader, &target).await?;
    if kind.wire.version(&reader, &target, &version).await?.get("isSigned") != Some(&serde_json::Value::Bool(true)) {
        bail!("{} '{}:{version}' is not signed.", kind.wire.title, target.full_name());
    }
    let path = format!("{}/signature", kind.wire.version_path(&target, &version));
    let url = field(&reader.get(&path, &[]).await?, "url");
    if url.is_empty() {
        bail!("the server gave no signature URL");
    }
    let response = data_client(&ctx.settings)?.get(&url).send().await?.error_for_status()?;
    let bundle = response.bytes().await?;
    let folder = args.dest.join(format!("{}_v{version}", target.name));
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let file = folder.join("result.sigstore");
    std::fs::write(&file, &bundle).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(Report::new().text(format!("Signature saved to {}", file.display())))
}
