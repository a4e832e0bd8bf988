//! The flags of `create` and `update` (`ngc registry chart create|update`, ngc-api.md §7), as
//! the bodies of `POST` and `PATCH {OT}/helm-charts/…`: only the fields given are sent.

use crate::client::fields::{LabelEdits, OfferArgs, Presentation, put_strings};
use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// <org>/[<team>/]<name>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Short description.
    #[arg(long = "short-desc", value_name = "DESC")]
    pub short_desc: String,
    /// A label; repeat for more.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub presentation: Presentation,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// <org>/[<team>/]<name>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Short description.
    #[arg(long = "short-desc", value_name = "DESC")]
    pub short_desc: Option<String>,
    /// Set the labels, replacing the chart's; repeat for more.
    #[arg(long = "label", value_name = "LABEL", conflicts_with_all = ["add", "remove"])]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub edits: LabelEdits,
    #[command(flatten)]
    pub presentation: Presentation,
    #[command(flatten)]
    pub offer: OfferArgs,
}

impl CreateArgs {
    /// The create body (`name` included).
    pub fn body(&self, name: &str) -> Result<Value> {
        let mut body = Map::new();
        body.insert("name".into(), json!(name));
        body.insert("shortDescription".into(), json!(self.short_desc));
        if !self.labels.is_empty() {
            body.insert("labelsV2".into(), json!(self.labels));
        }
        self.presentation.fill(&mut body)?;
        Ok(Value::Object(body))
    }
}

impl UpdateArgs {
    /// Whether the body depends on the chart's current labels.
    pub fn edits_labels(&self) -> bool {
        !self.edits.is_empty()
    }

    /// The PATCH body; `chart` is the chart as it is now (needed for --add-label and
    /// --remove-label).
    pub fn body(&self, chart: &Value) -> Result<Value> {
        let mut body = Map::new();
        put_strings(&mut body, &[("shortDescription", &self.short_desc)]);
        if !self.labels.is_empty() {
            body.insert("labelsV2".into(), json!(self.labels));
        } else if self.edits_labels() {
            body.insert("labelsV2".into(), json!(self.edits.apply(chart)));
        }
        self.presentation.fill(&mut body)?;
        self.offer.fill(&mut body)?;
        if body.is_empty() {
            bail!(
                "Nothing to update: give --short-desc, --overview-filename, --display-name, --label, --add-label, --remove-label, --logo, --publisher, --built-by, --access-type or --product."
            );
        }
        Ok(Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(clap::Subcommand)]
    enum Command {
        Create(CreateArgs),
        Update(UpdateArgs),
    }

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("chart").chain(args.iter().copied())).map(|c| c.command)
    }

    fn update(args: &[&str]) -> UpdateArgs {
        match parse(&[&["update", "acme/c"], args].concat()).unwrap() {
            Command::Update(u) => u,
            Command::Create(_) => unreachable!(),
        }
    }

    #[test]
    fn create_needs_a_short_description() {
        let err = parse(&["create", "acme/c"]).err().unwrap().to_string();
        assert!(err.contains("--short-desc"), "{err}");
        let Command::Create(args) =
            parse(&["create", "acme/c", "--short-desc", "s", "--label", "a", "--logo", "u"]).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(
            args.body("c").unwrap(),
            json!({"name": "c", "shortDescription": "s", "labelsV2": ["a"], "logo": "u"})
        );
    }

    #[test]
    fn update_bodies() {
        let chart = json!({"labels": ["a", "b"]});
        assert_eq!(
            update(&["--publisher", "P", "--built-by", "B"]).body(&chart).unwrap(),
            json!({"publisher": "P", "builtBy": "B"})
        );
        let edits = update(&["--add-label", "c", "--remove-label", "a"]);
        assert!(edits.edits_labels());
        assert_eq!(edits.body(&chart).unwrap(), json!({"labelsV2": ["b", "c"]}));
        assert_eq!(
            update(&["--label", "x"]).body(&chart).unwrap(),
            json!({"labelsV2": ["x"]})
        );
        assert!(parse(&["update", "acme/c", "--label", "x", "--add-label", "y"]).is_err());
        let err = update(&[]).body(&chart).unwrap_err().to_string();
        assert!(err.contains("Nothing to update"), "{err}");
    }
}
