//! Flags that become fields of a request body, shared by models, resources and charts: only the
//! fields given are sent; a file flag sends the file's text.

use anyhow::{Context, Result, bail};
use clap::Args;
use hangar_core::access::AccessLevel;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// How an entity presents itself: `ngc`'s flags of the same names for models, resources and
/// charts (ngc-api.md §4.1, §7).
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct Presentation {
    /// Overview: a markdown file.
    #[arg(long = "overview-filename", value_name = "FILE")]
    pub overview: Option<PathBuf>,
    /// Display name.
    #[arg(long = "display-name", value_name = "NAME")]
    pub display_name: Option<String>,
    /// URL of the logo image.
    #[arg(long, value_name = "URL")]
    pub logo: Option<String>,
    /// Who built it.
    #[arg(long = "built-by", value_name = "NAME")]
    pub built_by: Option<String>,
    /// Who publishes it.
    #[arg(long, value_name = "NAME")]
    pub publisher: Option<String>,
}

impl Presentation {
    /// Puts the given fields into `body` (the overview as `description`).
    pub fn fill(&self, body: &mut Map<String, Value>) -> Result<()> {
        put_strings(
            body,
            &[
                ("displayName", &self.display_name),
                ("logo", &self.logo),
                ("builtBy", &self.built_by),
                ("publisher", &self.publisher),
            ],
        );
        if let Some(file) = &self.overview {
            body.insert(
                "description".into(),
                Value::String(read_text(file, "overview-filename")?),
            );
        }
        Ok(())
    }
}

/// `--add-label` and `--remove-label` of `update`.
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct LabelEdits {
    /// Add a label; repeat for more.
    #[arg(long = "add-label", value_name = "LABEL")]
    pub add: Vec<String>,
    /// Remove a label; repeat for more.
    #[arg(long = "remove-label", value_name = "LABEL")]
    pub remove: Vec<String>,
}

impl LabelEdits {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// The labels after the edits of the entity's current ones (its `labels`), in order.
    pub fn apply(&self, entity: &Value) -> Vec<String> {
        let current = entity.get("labels").and_then(Value::as_array).into_iter().flatten();
        let mut next: Vec<String> = current
            .filter_map(Value::as_str)
            .filter(|l| !self.remove.iter().any(|r| r == l))
            .map(str::to_string)
            .collect();
        for label in &self.add {
            if !next.contains(label) {
                next.push(label.clone());
            }
        }
        next
    }
}

/// Who may see and download an entity beyond its org, and the products it belongs to
/// (registry admins and org owners of its org).
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct OfferArgs {
    /// Access level: PRIVATE, GUEST, AUTHENTICATED, ENTITLED, EXCLUSIVE or APPROVAL.
    #[arg(long = "access-type", value_name = "LEVEL")]
    pub access_type: Option<String>,
    /// A product it belongs to (ENTITLED and EXCLUSIVE need one); repeat for more. Replaces its
    /// products; `--product ''` takes it out of every product.
    #[arg(long = "product", value_name = "NAME")]
    pub products: Vec<String>,
    /// Take it out of every product.
    #[arg(long = "no-products", conflicts_with = "products")]
    pub no_products: bool,
}

impl OfferArgs {
    pub fn is_empty(&self) -> bool {
        self == &OfferArgs::default()
    }

    /// Puts `accessType` and `productNames` into `body`, as given.
    pub fn fill(&self, body: &mut Map<String, Value>) -> Result<()> {
        if let Some(word) = &self.access_type {
            let Some(level) = AccessLevel::parse(word) else {
                let words: Vec<&str> = AccessLevel::ALL.iter().map(|l| l.word()).collect();
                bail!("--access-type must be one of {}.", words.join(", "));
            };
            body.insert("accessType".into(), json!(level.word()));
        }
        if self.no_products || !self.products.is_empty() {
            let names: Vec<&String> = self.products.iter().filter(|p| !p.is_empty()).collect();
            body.insert("productNames".into(), json!(names));
        }
        Ok(())
    }
}

/// The text of the file given to `--{flag}`.
pub fn read_text(file: &Path, flag: &str) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("Cannot read the --{flag} file {}", file.display()))
}

/// Puts the present values into `body`.
pub fn put_strings(body: &mut Map<String, Value>, fields: &[(&str, &Option<String>)]) {
    for (key, value) in fields {
        if let Some(v) = value {
            body.insert(key.to_string(), Value::String(v.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_given_fields_are_sent() {
        let dir = tempfile::tempdir().unwrap();
        let overview = dir.path().join("o.md");
        std::fs::write(&overview, "# Hi").unwrap();
        let mut body = Map::new();
        Presentation {
            overview: Some(overview),
            publisher: Some("Acme".into()),
            ..Presentation::default()
        }
        .fill(&mut body)
        .unwrap();
        assert_eq!(Value::Object(body), json!({"description": "# Hi", "publisher": "Acme"}));
        let missing = Presentation {
            overview: Some(dir.path().join("missing.md")),
            ..Presentation::default()
        };
        let err = missing.fill(&mut Map::new()).unwrap_err().to_string();
        assert!(err.contains("--overview-filename"), "{err}");
    }

    #[test]
    fn offer_fields() {
        let fill = |offer: OfferArgs| {
            let mut body = Map::new();
            offer.fill(&mut body).map(|_| Value::Object(body))
        };
        let offer = OfferArgs {
            access_type: Some("entitled".into()),
            products: vec!["a".into(), "b".into()],
            no_products: false,
        };
        assert_eq!(
            fill(offer).unwrap(),
            json!({"accessType": "ENTITLED", "productNames": ["a", "b"]})
        );
        let clear = OfferArgs {
            products: vec![String::new()],
            ..OfferArgs::default()
        };
        assert_eq!(fill(clear).unwrap(), json!({"productNames": []}));
        let none = OfferArgs {
            no_products: true,
            ..OfferArgs::default()
        };
        assert_eq!(fill(none).unwrap(), json!({"productNames": []}));
        assert_eq!(fill(OfferArgs::default()).unwrap(), json!({}));
        let bad = OfferArgs {
            access_type: Some("public".into()),
            ..OfferArgs::default()
        };
        assert!(fill(bad).unwrap_err().to_string().contains("APPROVAL"));
    }

    #[test]
    fn label_edits_keep_order_and_skip_repeats() {
        let edits = LabelEdits {
            add: vec!["c".into(), "a".into()],
            remove: vec!["b".into()],
        };
        assert_eq!(edits.apply(&json!({"labels": ["a", "b"]})), ["a", "c"]);
        assert_eq!(edits.apply(&json!({})), ["c", "a"]);
        assert!(LabelEdits::default().is_empty() && !edits.is_empty());
    }
}
