//! The metadata flags of `create`, `update` and `upload-version` (`ngc`'s flags, ngc-api.md
//! §4.1, §4.4, §4.6 and the Private Registry guide §5.4), turned into NGC request bodies. Only
//! the fields given are sent, except what `ngc` always sends (`publicDatasetUsed`, a version's
//! `description`).

use super::Kind;
use crate::client::fields::{LabelEdits, OfferArgs, Presentation, put_strings, read_text};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// Custom metrics (Private Registry guide §4.3): at most 3 tables of 12 key/value pairs.
const MAX_METRIC_TABLES: usize = 3;
const MAX_METRIC_PAIRS: usize = 12;

/// Fields of an entity that both `create` and `update` set.
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct EntityArgs {
    #[command(flatten)]
    pub presentation: Presentation,
    /// Name of the public dataset used.
    #[arg(long = "public-dataset-name", value_name = "NAME")]
    pub dataset_name: Option<String>,
    /// Link to the public dataset used.
    #[arg(long = "public-dataset-link", value_name = "URL")]
    pub dataset_link: Option<String>,
    /// License of the public dataset used.
    #[arg(long = "public-dataset-license", value_name = "LICENSE")]
    pub dataset_license: Option<String>,
    /// Models: a file with the bias statement.
    #[arg(long = "bias-filename", value_name = "FILE")]
    pub bias: Option<PathBuf>,
    /// Models: a file with the explainability statement.
    #[arg(long = "explainability-filename", value_name = "FILE")]
    pub explainability: Option<PathBuf>,
    /// Models: a file with the privacy statement.
    #[arg(long = "privacy-filename", value_name = "FILE")]
    pub privacy: Option<PathBuf>,
    /// Models: a file with the safety and security statement.
    #[arg(long = "safety-security-filename", value_name = "FILE")]
    pub safety: Option<PathBuf>,
    /// Resources: a file with the advanced guide.
    #[arg(long = "advanced-filename", value_name = "FILE")]
    pub advanced: Option<PathBuf>,
}

/// Documents of resources (entity and version) — performance, quick start, setup, release notes.
#[derive(Debug, Clone, Default, Args)]
pub struct DocumentArgs {
    /// Resources: a file with performance data.
    #[arg(long = "performance-filename", value_name = "FILE")]
    pub performance: Option<PathBuf>,
    /// Resources: a file with the quick start guide.
    #[arg(long = "quick-start-guide-filename", value_name = "FILE")]
    pub quick_start: Option<PathBuf>,
    /// Resources: a file with setup instructions.
    #[arg(long = "setup-filename", value_name = "FILE")]
    pub setup: Option<PathBuf>,
    /// Resources (versions): a file with the release notes.
    #[arg(long = "release-notes-filename", value_name = "FILE")]
    pub release_notes: Option<PathBuf>,
}

/// Fields of a version that `upload-version` and `update <name:version>` set.
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct VersionArgs {
    /// Accuracy reached with this version.
    #[arg(long = "accuracy-reached", value_name = "ACCURACY")]
    pub accuracy: Option<f64>,
    /// Batch size of this version.
    #[arg(long = "batch-size", value_name = "SIZE")]
    pub batch_size: Option<u64>,
    /// GPU used to train this version.
    #[arg(long = "gpu-model", value_name = "GPU")]
    pub gpu_model: Option<String>,
    /// Memory footprint of this version.
    #[arg(long = "memory-footprint", value_name = "FOOTPRINT")]
    pub memory: Option<String>,
    /// Number of epochs of this version.
    #[arg(long = "num-epochs", value_name = "EPOCHS")]
    pub epochs: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// <org>/[<team>/]<name>.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Application (resources: CLASSIFICATION, OBJECT_DETECTION, SEGMENTATION, TRANSLATION,
    /// TEXT_TO_SPEECH, RECOMMENDER, SENTIMENT, NLP, KUBEFLOW_PIPELINE, OTHER, …).
    #[arg(long, value_name = "APP")]
    pub application: String,
    /// Framework used for training (resources: TensorFlow, Caffe2, CNTK, Torch, PyTorch, MXNet,
    /// Keras, Other, …).
    #[arg(long, value_name = "FWK")]
    pub framework: String,
    /// Format of the model.
    #[arg(long, value_name = "FMT")]
    pub format: String,
    /// Precision (resources: FP16, FP32, INT8, FPBOTH, OTHER).
    #[arg(long, value_name = "PREC")]
    pub precision: String,
    /// Short description.
    #[arg(long = "short-desc", value_name = "DESC")]
    pub short_desc: String,
    /// A label; repeat for more.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub entity: EntityArgs,
    #[command(flatten)]
    pub documents: DocumentArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// <org>/[<team>/]<name>[:<version>].
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Application.
    #[arg(long, value_name = "APP")]
    pub application: Option<String>,
    /// Framework used for training.
    #[arg(long, value_name = "FWK")]
    pub framework: Option<String>,
    /// Format of the model.
    #[arg(long, value_name = "FMT")]
    pub format: Option<String>,
    /// Precision.
    #[arg(long, value_name = "PREC")]
    pub precision: Option<String>,
    /// Short description.
    #[arg(long = "short-desc", value_name = "DESC")]
    pub short_desc: Option<String>,
    #[command(flatten)]
    pub labels: LabelEdits,
    #[command(flatten)]
    pub entity: EntityArgs,
    #[command(flatten)]
    pub documents: DocumentArgs,
    /// Versions: full description.
    #[arg(long, value_name = "DESC")]
    pub desc: Option<String>,
    #[command(flatten)]
    pub version: VersionArgs,
    /// Versions: make this version the latest.
    #[arg(long = "set-latest")]
    pub set_latest: bool,
    /// Make the entity public: anyone may see and download it without a key (registry admins
    /// and org owners).
    #[arg(long, conflicts_with = "no_public")]
    pub public: bool,
    /// Make the entity private again (registry admins and org owners).
    #[arg(long = "no-public")]
    pub no_public: bool,
    #[command(flatten)]
    pub offer: OfferArgs,
}

/// The metadata of a new version (`upload-version`).
#[derive(Debug, Clone, Default, Args)]
pub struct NewVersionArgs {
    /// Full description of the version.
    #[arg(long, value_name = "DESC")]
    pub desc: Option<String>,
    #[command(flatten)]
    pub version: VersionArgs,
    #[command(flatten)]
    pub documents: DocumentArgs,
    /// Models: a link to more about this version (with --link-type).
    #[arg(long, value_name = "URL", requires = "link_type")]
    pub link: Option<String>,
    /// Models: the kind of --link: NGC, Github or Other.
    #[arg(long = "link-type", value_name = "TYPE", requires = "link", value_parser = ["NGC", "Github", "Other"])]
    pub link_type: Option<String>,
    /// Models: a custom metrics table, JSON `{"name", "attributes": [{"key", "value"}]}`; up to
    /// 3 files of 12 pairs.
    #[arg(long = "metrics-file", alias = "credentials-file", value_name = "FILE")]
    pub metrics: Vec<PathBuf>,
}

impl NewVersionArgs {
    /// The version-create body.
    pub fn body(&self, kind: &Kind, version: &str) -> Result<Value> {
        let model = kind.wire.segment == "models";
        if !model && (self.link.is_some() || !self.metrics.is_empty()) {
            bail!("--link and --metrics-file are for models.");
        }
        let mut body = Map::new();
        body.insert("versionId".into(), json!(version));
        body.insert("description".into(), json!(self.desc.clone().unwrap_or_default()));
        self.version.fill(&mut body);
        self.documents.fill(kind, true, &mut body)?;
        if let (Some(link), Some(link_type)) = (&self.link, &self.link_type) {
            body.insert("otherContents".into(), json!([{"key": link_type, "value": link}]));
        }
        if !self.metrics.is_empty() {
            body.insert("customMetrics".into(), Value::Array(metrics(&self.metrics)?));
        }
        Ok(Value::Object(body))
    }
}

/// Puts the contents of the given files into `body`; a flag `kind` does not take is refused.
fn put_files(body: &mut Map<String, Value>, fields: &[(&str, &Option<PathBuf>, &str, bool)]) -> Result<()> {
    for (key, file, flag, allowed) in fields {
        let Some(file) = file else { continue };
        if !allowed {
            bail!("--{flag} cannot be used here.");
        }
        body.insert(key.to_string(), Value::String(read_text(file, flag)?));
    }
    Ok(())
}

impl EntityArgs {
    fn fill(&self, kind: &Kind, body: &mut Map<String, Value>) -> Result<()> {
        self.presentation.fill(body)?;
        let model = kind.wire.segment == "models";
        put_files(
            body,
            &[
                ("bias", &self.bias, "bias-filename", model),
                ("explainability", &self.explainability, "explainability-filename", model),
                ("privacy", &self.privacy, "privacy-filename", model),
                ("safetyAndSecurity", &self.safety, "safety-security-filename", model),
                ("advanced", &self.advanced, "advanced-filename", !model),
            ],
        )?;
        let mut dataset = Map::new();
        put_strings(
            &mut dataset,
            &[
                ("name", &self.dataset_name),
                ("link", &self.dataset_link),
                ("license", &self.dataset_license),
            ],
        );
        body.insert("publicDatasetUsed".into(), Value::Object(dataset));
        Ok(())
    }
}

impl DocumentArgs {
    /// Entity documents (`version`: false) or version documents; resources only.
    fn fill(&self, kind: &Kind, version: bool, body: &mut Map<String, Value>) -> Result<()> {
        let resource = kind.wire.segment == "resources";
        put_files(
            body,
            &[
                ("performance", &self.performance, "performance-filename", resource),
                (
                    "quickStartGuide",
                    &self.quick_start,
                    "quick-start-guide-filename",
                    resource,
                ),
                ("setup", &self.setup, "setup-filename", resource),
                (
                    "releaseNotes",
                    &self.release_notes,
                    "release-notes-filename",
                    resource && version,
                ),
            ],
        )
    }
}

impl VersionArgs {
    pub fn fill(&self, body: &mut Map<String, Value>) {
        put_strings(
            body,
            &[("gpuModel", &self.gpu_model), ("memoryFootprint", &self.memory)],
        );
        if let Some(a) = self.accuracy {
            body.insert("accuracyReached".into(), json!(a));
        }
        if let Some(b) = self.batch_size {
            body.insert("batchSize".into(), json!(b));
        }
        if let Some(e) = self.epochs {
            body.insert("numberOfEpochs".into(), json!(e));
        }
    }

    fn is_empty(&self) -> bool {
        *self == VersionArgs::default()
    }
}

impl CreateArgs {
    /// The create body (`name` included).
    pub fn body(&self, kind: &Kind, name: &str) -> Result<Value> {
        let mut body = Map::new();
        body.insert("name".into(), json!(name));
        body.insert("application".into(), json!(self.application));
        body.insert(kind.wire.framework_field.into(), json!(self.framework));
        body.insert("modelFormat".into(), json!(self.format));
        body.insert("precision".into(), json!(self.precision));
        body.insert("shortDescription".into(), json!(self.short_desc));
        if !self.labels.is_empty() {
            body.insert("labelsV2".into(), json!(self.labels));
        }
        self.entity.fill(kind, &mut body)?;
        self.documents.fill(kind, false, &mut body)?;
        Ok(Value::Object(body))
    }
}

impl UpdateArgs {
    /// The entity PATCH body; `entity` is the entity as it is now.
    pub fn entity_body(&self, kind: &Kind, entity: &Value) -> Result<Value> {
        if self.desc.is_some() || !self.version.is_empty() || self.set_latest {
            bail!(
                "--desc, --accuracy-reached, --batch-size, --gpu-model, --memory-footprint, --num-epochs and --set-latest need a version: <org>/[<team>/]<name>:<version>."
            );
        }
        let mut body = Map::new();
        put_strings(
            &mut body,
            &[
                ("application", &self.application),
                (kind.wire.framework_field, &self.framework),
                ("modelFormat", &self.format),
                ("precision", &self.precision),
                ("shortDescription", &self.short_desc),
            ],
        );
        if !self.labels.is_empty() {
            body.insert("labelsV2".into(), json!(self.labels.apply(entity)));
        }
        if self.public || self.no_public {
            body.insert("isPublic".into(), json!(self.public));
        }
        self.offer.fill(&mut body)?;
        self.entity.fill(kind, &mut body)?;
        self.documents.fill(kind, false, &mut body)?;
        Ok(Value::Object(body))
    }

    /// The version PATCH body.
    pub fn version_body(&self, kind: &Kind) -> Result<Value> {
        let entity_only = self.application.is_some()
            || self.framework.is_some()
            || self.format.is_some()
            || self.precision.is_some()
            || self.short_desc.is_some()
            || !self.labels.is_empty()
            || self.public
            || self.no_public
            || !self.offer.is_empty()
            || self.entity != EntityArgs::default();
        if entity_only {
            bail!(
                "Only version fields can be updated for a version; leave out the version to update the {}.",
                kind.wire.noun
            );
        }
        let mut body = Map::new();
        put_strings(&mut body, &[("description", &self.desc)]);
        self.version.fill(&mut body);
        self.documents.fill(kind, true, &mut body)?;
        Ok(Value::Object(body))
    }
}

/// `--metrics-file` contents: `{"name", "attributes": [{"key","value"}]}` per file, checked
/// against the guide's limits.
pub fn metrics(files: &[PathBuf]) -> Result<Vec<Value>> {
    if files.len() > MAX_METRIC_TABLES {
        bail!("At most {MAX_METRIC_TABLES} metrics files can be given.");
    }
    files
        .iter()
        .map(|file| {
            let text = read_text(file, "metrics-file")?;
            let table: Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", file.display()))?;
            let name = table.get("name").and_then(Value::as_str);
            let attributes = table.get("attributes").and_then(Value::as_array);
            let (Some(name), Some(attributes)) = (name, attributes) else {
                bail!(
                    "{} must be {{\"name\": …, \"attributes\": [{{\"key\": …, \"value\": …}}]}}",
                    file.display()
                );
            };
            if attributes.len() > MAX_METRIC_PAIRS {
                bail!(
                    "{}: a metrics table holds at most {MAX_METRIC_PAIRS} key/value pairs, not {}.",
                    file.display(),
                    attributes.len()
                );
            }
            let pairs: Vec<Value> = attributes
                .iter()
                .map(|a| {
                    let key = a.get("key").and_then(Value::as_str);
                    let value = a.get("value").map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                    match (key, value) {
                        (Some(k), Some(v)) => Ok(json!({"key": k, "value": v})),
                        _ => bail!("{}: every attribute needs a key and a value.", file.display()),
                    }
                })
                .collect::<Result<_>>()?;
            Ok(json!({"name": name, "attributes": pairs}))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{MODEL, RESOURCE};
    use super::*;

    fn create(framework: &str) -> CreateArgs {
        CreateArgs {
            target: "acme/m".into(),
            application: "OTHER".into(),
            framework: framework.into(),
            format: "onnx".into(),
            precision: "FP16".into(),
            short_desc: "s".into(),
            labels: vec!["a".into()],
            entity: EntityArgs {
                dataset_name: Some("coco".into()),
                ..EntityArgs::default()
            },
            documents: DocumentArgs::default(),
        }
    }

    #[test]
    fn create_bodies_use_the_kinds_framework_field() {
        let body = create("PyTorch").body(&MODEL, "m").unwrap();
        assert_eq!(body["framework"], "PyTorch");
        assert_eq!(body["publicDatasetUsed"], json!({"name": "coco"}));
        assert_eq!(body["labelsV2"], json!(["a"]));
        let body = create("PyTorch").body(&RESOURCE, "r").unwrap();
        assert_eq!(body["trainingFramework"], "PyTorch");
        assert!(body.get("framework").is_none());
    }

    #[test]
    fn documents_are_checked_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("setup.md");
        std::fs::write(&file, "# setup").unwrap();
        let mut args = create("Other");
        args.documents.setup = Some(file.clone());
        assert!(args.body(&MODEL, "m").is_err());
        assert_eq!(args.body(&RESOURCE, "r").unwrap()["setup"], "# setup");
        args.documents.release_notes = Some(file);
        assert!(args.body(&RESOURCE, "r").is_err(), "release notes belong to versions");
    }

    #[test]
    fn metrics_limits() {
        let dir = tempfile::tempdir().unwrap();
        let table = |n: usize| {
            let pairs: Vec<Value> = (0..n).map(|i| json!({"key": format!("k{i}"), "value": i})).collect();
            json!({"name": "t", "attributes": pairs}).to_string()
        };
        let ok = dir.path().join("ok.json");
        std::fs::write(&ok, table(12)).unwrap();
        let big = dir.path().join("big.json");
        std::fs::write(&big, table(13)).unwrap();
        let parsed = metrics(std::slice::from_ref(&ok)).unwrap();
        assert_eq!(parsed[0]["attributes"][3], json!({"key": "k3", "value": "3"}));
        assert!(metrics(&[big]).unwrap_err().to_string().contains("at most 12"));
        assert!(metrics(&[ok.clone(), ok.clone(), ok.clone(), ok]).is_err());
    }
}
