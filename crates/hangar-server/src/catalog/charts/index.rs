//! The Helm repository index (`index.yaml`). Each version's entry is rendered once, when it is
//! pushed, as the YAML of one list item, and each chart's items are kept together, newest
//! first; an index is those under their chart names, so building one costs a database read of
//! one row per chart and string copies, however many versions there are.

use super::archive::ChartContents;
use serde_json::{Map, Value, json};
use std::fmt::Write;

/// Where a version's archive is, relative to the index (Helm resolves it against the
/// repository URL).
pub fn chart_url(name: &str, version: &str) -> String {
    format!("charts/{name}-{version}.tgz")
}

/// Chart.yaml fields that Helm reads as strings, though YAML reads `appVersion: 1.0` as a
/// number: written as numbers into an index, they would make Helm refuse the whole index.
const TEXT_FIELDS: &[&str] = &["name", "version", "appVersion", "kubeVersion", "description", "type"];

/// A version's index entry: Chart.yaml's fields plus where and what the archive is.
pub fn entry(contents: &ChartContents, digest_hex: &str, created: &str) -> Value {
    let mut entry: Map<String, Value> = contents.chart.clone();
    for field in TEXT_FIELDS {
        if let Some(value @ (Value::Number(_) | Value::Bool(_))) = entry.get(*field) {
            let text = value.to_string();
            entry.insert(field.to_string(), Value::String(text));
        }
    }
    entry.insert("created".into(), json!(created));
    entry.insert("digest".into(), json!(digest_hex));
    entry.insert("urls".into(), json!([chart_url(&contents.name, &contents.version)]));
    Value::Object(entry)
}

/// `entry` as one item of a YAML list nested two levels deep (`entries: name: - …`).
pub fn entry_yaml(entry: &Value) -> Result<String, serde_saphyr::ser_error::Error> {
    let yaml = serde_saphyr::to_string(entry)?;
    let mut item = String::with_capacity(yaml.len() + 64);
    for (i, line) in yaml.lines().enumerate() {
        item.push_str(if i == 0 { "  - " } else { "    " });
        item.push_str(line);
        item.push('\n');
    }
    Ok(item)
}

/// One chart's versions in an index: its name and the rendered items of its versions, newest
/// first, one after another.
pub struct IndexedName<'a> {
    pub name: &'a str,
    pub entries: &'a str,
}

/// The whole `index.yaml`.
pub fn render(names: &[IndexedName<'_>], generated: &str) -> String {
    let size: usize = names.iter().map(|n| n.entries.len()).sum();
    let mut out = String::with_capacity(size + 64 * names.len() + 128);
    out.push_str("apiVersion: v1\n");
    if names.is_empty() {
        out.push_str("entries: {}\n");
    } else {
        out.push_str("entries:\n");
    }
    for chart in names {
        // Chart names are [a-z0-9._-], which YAML reads as plain strings unless they look
        // like numbers or booleans; quoting keeps them strings.
        let _ = writeln!(out, "  \"{}\":", chart.name);
        out.push_str(chart.entries);
    }
    let _ = writeln!(out, "generated: \"{generated}\"");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_index_that_reads_back() {
        let contents = ChartContents {
            chart: serde_json::from_value(json!({
                "apiVersion": "v2", "name": "demo", "version": "0.1.0", "appVersion": 1.5,
                "description": "multi\nline: with colon", "keywords": ["a", "b"],
                "maintainers": [{"name": "x", "email": "x@y"}],
            }))
            .expect("map"),
            name: "demo".into(),
            version: "0.1.0".into(),
            files: vec![],
        };
        let e = entry(&contents, "ab12", "2026-12-02T00:00:00Z");
        let item = entry_yaml(&e).expect("yaml");
        let index = render(
            &[IndexedName {
                name: "demo",
                entries: &format!("{item}{item}"),
            }],
            "2026-12-02T00:00:01Z",
        );
        let back: Value = serde_saphyr::from_str(&index).expect("index parses");
        assert_eq!(back["apiVersion"], "v1");
        assert_eq!(back["entries"]["demo"][1], e);
        assert_eq!(back["entries"]["demo"][0]["urls"][0], "charts/demo-0.1.0.tgz");
        assert_eq!(back["entries"]["demo"][0]["appVersion"], "1.5");
        let empty: Value = serde_saphyr::from_str(&render(&[], "t")).expect("empty parses");
        assert_eq!(empty["entries"], json!({}));
    }
}
