//! The metadata fields of models, resources and their versions (ngc-api.md §4.1, §4.6, §6):
//! which a body may carry, and what each may hold. Bodies are checked whole before anything is
//! stored; unknown fields are refused by name.

use super::error::{DomainError, DomainResult};
use hangar_core::names::validate_text;
use serde_json::{Map, Value};

use super::limits::{
    DISPLAY_NAME, DOCUMENT, LABEL as MAX_LABEL, LABELS as MAX_LABELS, SHORT_DESCRIPTION, SHORT_TEXT, URL,
};

const MAX_LINKS: usize = 20;
/// Custom metrics (Private Registry guide §4.6.3): at most 3 tables of 12 key/value pairs.
pub const MAX_METRIC_TABLES: usize = 3;
pub const MAX_METRIC_PAIRS: usize = 12;

pub const RESOURCE_APPLICATIONS: &[&str] = &[
    "CLASSIFICATION",
    "OBJECT_DETECTION",
    "SEGMENTATION",
    "TRANSLATION",
    "TEXT_TO_SPEECH",
    "RECOMMENDER",
    "SENTIMENT",
    "NLP",
    "KUBEFLOW_PIPELINE",
    "OTHER",
    "SPEAKER_VERIFICATION",
    "PUNCTUATION_AND_CAPITALIZATION",
    "DIALOG_STATE_TRACKING",
    "SPEAKER_DIARIZATION",
    "SPEAKER_RECOGNITION",
    "SPEECH_SYNTHESIS",
    "VOICE_ACTIVITY_DETECTION",
    "SPEECH_RECOGNITION",
    "LANGUAGE_MODELING",
    "NAMED_ENTITY_RECOGNITION",
    "TEXT_CLASSIFICATION",
    "TEXT_PROCESSING",
    "QUESTION_ANSWERING",
    "CONTENT_GENERATION",
];
pub const RESOURCE_FRAMEWORKS: &[&str] = &[
    "TensorFlow",
    "Caffe2",
    "CNTK",
    "Torch",
    "PyTorch",
    "MXNet",
    "Keras",
    "Other",
    "TransferLearningToolkit",
    "TensorFlow2",
];
pub const RESOURCE_PRECISIONS: &[&str] = &["FP16", "FP32", "INT8", "FPBOTH", "OTHER", "ALL"];
/// A collection's use case (ngcsdk's `CollectionCategoryTypeEnum`).
pub const COLLECTION_CATEGORIES: &[&str] = &[
    "HEALTHCARE",
    "SMART_CITIES",
    "RETAIL",
    "MANUFACTURING",
    "SUPERCOMPUTING",
    "ROBOTICS",
    "AUTOMOTIVE",
    "TELECOMMUNICATIONS",
    "FINANCE",
    "OIL_AND_GAS",
    "NATURAL_LANGUAGE_PROCESSING",
    "AUTOMATIC_SPEECH_RECOGNITION",
    "INTELLIGENT_VIDEO_ANALYTICS",
    "OBJECT_DETECTION",
    "IMAGE_CLASSIFICATION",
    "ANNOTATION",
    "IMAGE_SYNTHESIS",
    "MACHINE_LEARNING",
    "DEEP_LEARNING",
    "INFRASTRUCTURE",
    "HIGH_PERFORMANCE_COMPUTING",
    "WINDOWS_RTX_ACCELERATED_MODELS",
    "BEGINNER",
    "ADVANCED",
];
const LINK_TYPES: &[&str] = &["NGC", "Github", "Other"];

/// What one field may hold.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    Text(usize),
    Url,
    OneOf(&'static [&'static str]),
    Labels,
    /// `publicDatasetUsed`: `{name, link, license}`; `{}` changes nothing.
    Dataset,
    Number,
    Count,
    /// `otherContents`: `[{key: NGC|Github|Other, value: URL}]`.
    Links,
    /// `customMetrics`: `[{name, attributes: [{key, value}]}]`.
    Metrics,
    /// `attributes`: `[{key, value}]`, free text.
    Attributes,
}

/// The fields a body may carry: several lists, searched in order.
pub type Spec = &'static [&'static [(&'static str, Field)]];

/// What every kind of entity has (Private Registry guide §6.5.1 lists the chart's).
const COMMON: &[(&str, Field)] = &[
    ("shortDescription", Field::Text(SHORT_DESCRIPTION)),
    ("description", Field::Text(DOCUMENT)),
    ("displayName", Field::Text(DISPLAY_NAME)),
    ("labelsV2", Field::Labels),
    ("logo", Field::Url),
    ("builtBy", Field::Text(SHORT_TEXT)),
    ("publisher", Field::Text(SHORT_TEXT)),
];
const ENTITY: &[(&str, Field)] = &[
    ("modelFormat", Field::Text(SHORT_TEXT)),
    ("publicDatasetUsed", Field::Dataset),
];
const MODEL_ENTITY: &[(&str, Field)] = &[
    ("application", Field::Text(SHORT_TEXT)),
    ("framework", Field::Text(SHORT_TEXT)),
    ("precision", Field::Text(SHORT_TEXT)),
    ("bias", Field::Text(DOCUMENT)),
    ("explainability", Field::Text(DOCUMENT)),
    ("privacy", Field::Text(DOCUMENT)),
    ("safetyAndSecurity", Field::Text(DOCUMENT)),
];
const RESOURCE_ENTITY: &[(&str, Field)] = &[
    ("application", Field::OneOf(RESOURCE_APPLICATIONS)),
    ("trainingFramework", Field::OneOf(RESOURCE_FRAMEWORKS)),
    ("precision", Field::OneOf(RESOURCE_PRECISIONS)),
    ("advanced", Field::Text(DOCUMENT)),
    ("performance", Field::Text(DOCUMENT)),
    ("quickStartGuide", Field::Text(DOCUMENT)),
    ("setup", Field::Text(DOCUMENT)),
];
const VERSION: &[(&str, Field)] = &[
    ("description", Field::Text(DOCUMENT)),
    ("accuracyReached", Field::Number),
    ("batchSize", Field::Count),
    ("gpuModel", Field::Text(SHORT_TEXT)),
    ("memoryFootprint", Field::Text(SHORT_TEXT)),
    ("numberOfEpochs", Field::Count),
];
const MODEL_VERSION: &[(&str, Field)] = &[("otherContents", Field::Links), ("customMetrics", Field::Metrics)];
const RESOURCE_VERSION: &[(&str, Field)] = &[
    ("performance", Field::Text(DOCUMENT)),
    ("quickStartGuide", Field::Text(DOCUMENT)),
    ("releaseNotes", Field::Text(DOCUMENT)),
    ("setup", Field::Text(DOCUMENT)),
];

const COLLECTION_ENTITY: &[(&str, Field)] = &[("category", Field::OneOf(COLLECTION_CATEGORIES))];
const CHART_ENTITY: &[(&str, Field)] = &[("attributes", Field::Attributes)];

pub const MODEL_FIELDS: Spec = &[COMMON, ENTITY, MODEL_ENTITY];
pub const RESOURCE_FIELDS: Spec = &[COMMON, ENTITY, RESOURCE_ENTITY];
pub const CHART_FIELDS: Spec = &[COMMON, CHART_ENTITY];
pub const COLLECTION_FIELDS: Spec = &[COMMON, COLLECTION_ENTITY];
/// A chart version is what its archive says; it has no fields of its own (and a collection
/// has no versions).
pub const CHART_VERSION_FIELDS: Spec = &[];
pub const MODEL_VERSION_FIELDS: Spec = &[VERSION, MODEL_VERSION];
pub const RESOURCE_VERSION_FIELDS: Spec = &[VERSION, RESOURCE_VERSION];

fn bad(message: String) -> DomainError {
    DomainError::Invalid(message)
}

fn text(key: &str, value: &Value, max: usize) -> DomainResult<String> {
    let text = value.as_str().ok_or_else(|| bad(format!("'{key}' must be a string")))?;
    validate_text("field", text, max).map_err(|e| bad(format!("'{key}': {e}")))?;
    Ok(text.to_string())
}

/// An http(s) URL, or empty (none: clears it).
fn url(key: &str, value: &Value) -> DomainResult<String> {
    let url = text(key, value, URL)?;
    let web = url.starts_with("https://") || url.starts_with("http://");
    if !(url.is_empty() || web) || url.contains(char::is_whitespace) {
        return Err(bad(format!("'{key}' must be an http(s) URL")));
    }
    Ok(url)
}

fn list<'a>(key: &str, value: &'a Value, max: usize) -> DomainResult<&'a Vec<Value>> {
    let items = value.as_array().ok_or_else(|| bad(format!("'{key}' must be a list")))?;
    if items.len() > max {
        return Err(bad(format!("'{key}' may have at most {max} entries")));
    }
    Ok(items)
}

/// A JSON object with exactly the allowed keys (all strings or numbers when `scalars`).
fn object<'a>(key: &str, value: &'a Value, allowed: &[&str]) -> DomainResult<&'a Map<String, Value>> {
    let map = value
        .as_object()
        .ok_or_else(|| bad(format!("'{key}' entries must be objects")))?;
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(format!("'{key}' has an unknown field '{unknown}'")));
    }
    Ok(map)
}

/// Checks one field; returns what to store, or `None` for "no change".
fn check(key: &str, field: Field, value: &Value) -> DomainResult<Option<Value>> {
    let checked = match field {
        Field::Text(max) => Value::String(text(key, value, max)?),
        Field::Url => Value::String(url(key, value)?),
        Field::OneOf(allowed) => {
            let given = text(key, value, SHORT_TEXT)?;
            let found = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(&given))
                .ok_or_else(|| bad(format!("'{key}' must be one of {}", allowed.join(", "))))?;
            Value::String(found.to_string())
        }
        Field::Labels => {
            let mut labels = vec![];
            for label in list(key, value, MAX_LABELS)? {
                let label = text(key, label, MAX_LABEL)?;
                if label.trim().is_empty() {
                    return Err(bad("a label must not be empty".into()));
                }
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            Value::from(labels)
        }
        Field::Dataset => {
            let map = object(key, value, &["name", "link", "license"])?;
            if map.is_empty() {
                return Ok(None);
            }
            let mut dataset = Map::new();
            for (k, v) in map {
                let checked = if k == "link" {
                    url(key, v)?
                } else {
                    text(key, v, SHORT_TEXT)?
                };
                dataset.insert(k.clone(), Value::String(checked));
            }
            Value::Object(dataset)
        }
        Field::Number => {
            let number = value.as_f64().filter(|n| n.is_finite());
            Value::from(number.ok_or_else(|| bad(format!("'{key}' must be a number")))?)
        }
        Field::Count => Value::from(
            value
                .as_u64()
                .ok_or_else(|| bad(format!("'{key}' must be a whole number, 0 or more")))?,
        ),
        Field::Links => {
            let mut links = vec![];
            for link in list(key, value, MAX_LINKS)? {
                let map = object(key, link, &["key", "value"])?;
                let kind = text(key, map.get("key").unwrap_or(&Value::Null), SHORT_TEXT)?;
                let kind = LINK_TYPES
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(&kind))
                    .ok_or_else(|| bad(format!("a link type must be one of {}", LINK_TYPES.join(", "))))?;
                let target = url(key, map.get("value").unwrap_or(&Value::Null))?;
                links.push(serde_json::json!({"key": kind, "value": target}));
            }
            Value::from(links)
        }
        Field::Attributes => {
            let mut attributes = vec![];
            for pair in list(key, value, MAX_LINKS)? {
                let pair = object(key, pair, &["key", "value"])?;
                let k = text(key, pair.get("key").unwrap_or(&Value::Null), SHORT_TEXT)?;
                let v = text(key, pair.get("value").unwrap_or(&Value::Null), SHORT_TEXT)?;
                attributes.push(serde_json::json!({"key": k, "value": v}));
            }
            Value::from(attributes)
        }
        Field::Metrics => {
            let tables = list(key, value, MAX_METRIC_TABLES).map_err(|_| {
                bad(format!(
                    "at most {MAX_METRIC_TABLES} custom metrics tables, each a JSON object"
                ))
            })?;
            let mut checked = vec![];
            for table in tables {
                let map = object(key, table, &["name", "attributes"])?;
                let name = text(key, map.get("name").unwrap_or(&Value::Null), SHORT_TEXT)?;
                let pairs =
                    list(key, map.get("attributes").unwrap_or(&Value::Null), MAX_METRIC_PAIRS).map_err(|_| {
                        bad(format!(
                            "custom metrics '{name}': at most {MAX_METRIC_PAIRS} key/value pairs"
                        ))
                    })?;
                let mut attributes = vec![];
                for pair in pairs {
                    let pair = object(key, pair, &["key", "value"])?;
                    let k = text(key, pair.get("key").unwrap_or(&Value::Null), SHORT_TEXT)?;
                    let v = match pair.get("value") {
                        Some(Value::Number(n)) => n.to_string(),
                        Some(v) => text(key, v, SHORT_TEXT)?,
                        None => return Err(bad(format!("custom metrics '{name}': '{k}' has no value"))),
                    };
                    attributes.push(serde_json::json!({"key": k, "value": v}));
                }
                checked.push(serde_json::json!({"name": name, "attributes": attributes}));
            }
            Value::from(checked)
        }
    };
    Ok(Some(checked))
}

/// Checks every field of `body` against `spec` and writes the given ones into `into`; fields
/// in `skip` are the caller's to handle. `labels` is taken as `labelsV2`; `null` changes nothing.
pub fn apply(spec: Spec, body: &Map<String, Value>, skip: &[&str], into: &mut Map<String, Value>) -> DomainResult<()> {
    let mut changes = vec![];
    for (key, value) in body {
        if skip.contains(&key.as_str()) || value.is_null() {
            continue;
        }
        let name = if key == "labels" { "labelsV2" } else { key.as_str() };
        let field = spec
            .iter()
            .flat_map(|list| list.iter())
            .find(|(known, _)| *known == name)
            .map(|(_, field)| *field)
            .ok_or_else(|| bad(format!("unknown field '{key}'")))?;
        if let Some(checked) = check(key, field, value)? {
            changes.push((name.to_string(), checked));
        }
    }
    into.extend(changes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn applied(spec: Spec, body: Value) -> DomainResult<Value> {
        let mut into = Map::new();
        apply(spec, body.as_object().unwrap(), &["name"], &mut into)?;
        Ok(Value::Object(into))
    }

    #[test]
    fn fields_are_checked_and_stored() {
        let got = applied(
            MODEL_FIELDS,
            json!({"name": "m", "application": "x", "labels": ["a", "a", "b"], "publicDatasetUsed": {},
                   "logo": "https://example.com/l.png"}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"application": "x", "labelsV2": ["a", "b"], "logo": "https://example.com/l.png"})
        );
        for bad in [
            json!({"colour": "red"}),
            json!({"logo": "javascript:alert(1)"}),
            json!({"labelsV2": "a"}),
            json!({"trainingFramework": "PyTorch"}),
        ] {
            assert!(applied(MODEL_FIELDS, bad.clone()).is_err(), "{bad}");
        }
        let got = applied(
            RESOURCE_FIELDS,
            json!({"precision": "fp16", "trainingFramework": "pytorch"}),
        )
        .unwrap();
        assert_eq!(got, json!({"precision": "FP16", "trainingFramework": "PyTorch"}));
        assert!(applied(RESOURCE_FIELDS, json!({"precision": "FP64"})).is_err());
    }

    #[test]
    fn chart_fields_are_the_guides() {
        let got = applied(
            CHART_FIELDS,
            json!({"displayName": "D", "labels": ["Helm Chart"], "builtBy": "NVIDIA",
                   "attributes": [{"key": "k", "value": "v"}]}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"displayName": "D", "labelsV2": ["Helm Chart"], "builtBy": "NVIDIA",
                   "attributes": [{"key": "k", "value": "v"}]})
        );
        assert!(applied(CHART_FIELDS, json!({"modelFormat": "onnx"})).is_err());
        assert!(applied(CHART_FIELDS, json!({"attributes": [{"key": "k"}]})).is_err());
    }

    #[test]
    fn metrics_are_limited_to_three_tables_of_twelve() {
        let table = |n: usize| json!({"name": "t", "attributes": (0..n).map(|i| json!({"key": format!("k{i}"), "value": i})).collect::<Vec<_>>()});
        let ok = applied(
            MODEL_VERSION_FIELDS,
            json!({"customMetrics": [table(12), table(1), table(0)]}),
        )
        .unwrap();
        assert_eq!(
            ok["customMetrics"][0]["attributes"][11],
            json!({"key": "k11", "value": "11"})
        );
        let err = applied(MODEL_VERSION_FIELDS, json!({"customMetrics": [table(13)]})).unwrap_err();
        assert!(err.to_string().contains("at most 12"), "{err}");
        let err = applied(
            MODEL_VERSION_FIELDS,
            json!({"customMetrics": [table(1), table(1), table(1), table(1)]}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("at most 3"), "{err}");
        assert!(applied(MODEL_VERSION_FIELDS, json!({"batchSize": -1})).is_err());
        assert!(
            applied(
                MODEL_VERSION_FIELDS,
                json!({"otherContents": [{"key": "Blog", "value": "https://x"}]})
            )
            .is_err()
        );
    }
}
