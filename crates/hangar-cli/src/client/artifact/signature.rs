//! `sign` and `download-version-signature` (ngc-api.md §4.8): the server signs a complete
//! version with the org's certificate; the signature (an OpenSSF model-signing bundle) lands in
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

#[derive(Debug, Args)]
pub struct SignArgs {
    /// <org>/[<team>/]<name>:<version>.
    #[arg(value_name = "TARGET")]
    pub target: String,
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
    ctx.api()?.call(Method::PUT, &path, &[], None).await?;
    Ok(Report::new().text(format!(
        "Signed {} '{}:{version}'.",
        kind.wire.title.to_lowercase(),
        target.full_name()
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
