//! `hangar registry image sign` (the server signs a tag with the org's server-held key, as
//! cosign would) and `require-signatures` (pulls of the org, a team or a repository then need a
//! signature verified against a key the org trusts).

use super::super::Ctx;
use super::super::http::seg;
use super::super::output::Report;
use super::super::target::Target;
use super::super::views::without_status;
use anyhow::Result;
use clap::Args;
use serde_json::json;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The image to sign: <org>/[<team>/]<image>:<tag>.
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Args)]
pub struct RequireArgs {
    /// A repository, <org>/[<team>/]<image>; without it, the current team (--team) or org.
    #[arg(value_name = "REPOSITORY")]
    pub repository: Option<String>,
    /// Stop requiring signatures there.
    #[arg(long)]
    pub off: bool,
}

pub async fn sign(ctx: &Ctx, args: SignArgs) -> Result<Report> {
    let api = ctx.api()?;
    let image = Target::resolve(&args.image, ctx)?;
    let tag = image.require_tag("sign", "an image tag: <org>/[<team>/]<image>:<tag>")?;
    let body = api
        .post(
            &format!("{}/images/{}/signature", image.path("repos"), seg(tag)),
            &json!({}),
        )
        .await?;
    let signed_by: Vec<&str> = body["signedBy"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str())
        .collect();
    Ok(Report::new()
        .text(format!(
            "Successfully signed image '{}' ({}); verified by: {}.",
            args.image,
            body["digest"].as_str().unwrap_or_default(),
            signed_by.join(", ")
        ))
        .json(without_status(body)))
}

pub async fn require(ctx: &Ctx, args: RequireArgs) -> Result<Report> {
    let api = ctx.api()?;
    let (org, body, what) = match &args.repository {
        Some(text) => {
            let repo = Target::resolve(text, ctx)?;
            let full = match &repo.team {
                Some(team) => format!("{}/{team}/{}", repo.org, repo.name),
                None => format!("{}/{}", repo.org, repo.name),
            };
            let what = format!("repository '{full}'");
            (repo.org, json!({"repository": full, "require": !args.off}), what)
        }
        None => {
            let org = ctx.org()?.to_string();
            match ctx.team() {
                Some(team) => {
                    let what = format!("team '{org}/{team}'");
                    (org, json!({"team": team, "require": !args.off}), what)
                }
                None => {
                    let what = format!("org '{org}'");
                    (org, json!({"require": !args.off}), what)
                }
            }
        }
    };
    let answer = api
        .post(&format!("/v2/org/{}/signature-requirements", seg(&org)), &body)
        .await?;
    let verdict = if args.off { "no longer requires" } else { "now requires" };
    Ok(Report::new()
        .text(format!("Pulling images of {what} {verdict} a verified signature."))
        .json(without_status(answer)))
}
