//! How models, resources and their versions are shown, in `ngc`'s layouts (its
//! `registry/printer/model.py` and `resource.py`): the list columns and the info blocks.

use super::Kind;
use crate::client::output::{InfoBlock, Table};
use crate::client::views::{field, flag, human_size, items, label_values, level_line, list_date, offer_lines, text};
use serde_json::Value;

/// `list` of entities: `ngc`'s default columns.
const ENTITY_COLUMNS: [&str; 11] = [
    "Name",
    "Repository",
    "Latest Version",
    "Application",
    "Framework",
    "Precision",
    "Last Modified",
    "Permission",
    "Access Type",
    "Associated Products",
    "Has Signed Version",
];

/// `list <name>:*`: the versions.
const VERSION_COLUMNS: [&str; 10] = [
    "Version",
    "Accuracy",
    "Epochs",
    "Batch Size",
    "GPU Model",
    "Memory Footprint",
    "File Size",
    "Status",
    "Created Date",
    "Signed",
];

pub fn entities_table(entities: &[Value]) -> Table {
    Table::new(&ENTITY_COLUMNS).rows(entities.iter().map(|e| {
        let open = e
            .get("guestAccess")
            .or_else(|| e.get("isPublic"))
            .and_then(Value::as_bool)
            == Some(true);
        vec![
            Some(field(e, "displayName"))
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| field(e, "name")),
            field(e, "resourceId"),
            Some(field(e, "latestVersionIdStr"))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| field(e, "latestVersionId")),
            field(e, "application"),
            field(e, "framework"),
            field(e, "precision"),
            list_date(e.get("updatedDate")),
            if open { "unlocked" } else { "locked" }.into(),
            field(e, "accessType"),
            label_values(e, "productNames"),
            flag(e, "hasSignedVersion"),
        ]
    }))
}

pub fn versions_table(versions: &[Value]) -> Table {
    Table::new(&VERSION_COLUMNS).rows(versions.iter().map(|v| {
        vec![
            field(v, "versionId"),
            field(v, "accuracyReached"),
            field(v, "numberOfEpochs"),
            field(v, "batchSize"),
            field(v, "gpuModel"),
            field(v, "memoryFootprint"),
            human_size(v.get("totalSizeInBytes")),
            field(v, "status"),
            list_date(v.get("createdDate")),
            flag(v, "isSigned"),
        ]
    }))
}

/// A titled block of text lines (overview and documents), when there is text.
fn document(block: InfoBlock, title: &str, body: &str) -> InfoBlock {
    if body.is_empty() {
        return block;
    }
    let mut block = level_line(block, 1, "", title);
    for line in body.lines() {
        block = block.title(&format!("      {line}"));
    }
    block
}

/// `info <name>`.
pub fn entity_block(kind: &Kind, e: &Value) -> InfoBlock {
    let mut block = InfoBlock::new()
        .separator()
        .title(&format!("{} Information", kind.wire.title))
        .label("Name", field(e, "name"))
        .label("Application", field(e, "application"))
        .label("Framework", field(e, kind.wire.framework_field))
        .label("Model Format", field(e, "modelFormat"))
        .label("Precision", field(e, "precision"))
        .label("Short Description", field(e, "shortDescription"))
        .label("Display Name", field(e, "displayName"))
        .label("Logo", field(e, "logo"))
        .label("Org", field(e, "orgName"))
        .label("Team", field(e, "teamName"))
        .label("Built By", field(e, "builtBy"))
        .label("Publisher", field(e, "publisher"))
        .label("Created Date", field(e, "createdDate"))
        .label("Updated Date", field(e, "updatedDate"))
        .label("Has Signed Version", flag(e, "hasSignedVersion"))
        .label("Access Type", field(e, "accessType"));
    block = level_line(block, 1, "", "Labels");
    for label in items(e.get("labels")).iter().filter_map(Value::as_str) {
        block = level_line(block, 1, "", &format!("  {label}"));
    }
    let latest = field(e, "latestVersionIdStr");
    block = block.label("Latest Version ID", latest.clone()).label(
        "Latest Version Size (bytes)",
        if latest.is_empty() {
            "0".into()
        } else {
            field(e, "latestVersionSizeInBytes")
        },
    );
    block = level_line(block, 1, "", "Public Dataset Used");
    let dataset = e.get("publicDatasetUsed").cloned().unwrap_or(Value::Null);
    for (label, key) in [("Name", "name"), ("Link", "link"), ("License", "license")] {
        block = level_line(block, 2, label, &field(&dataset, key));
    }
    for (title, key) in [
        ("Overview", "description"),
        ("Bias", "bias"),
        ("Explainability", "explainability"),
        ("Privacy", "privacy"),
        ("Safety And Security", "safetyAndSecurity"),
        ("Advanced Guide", "advanced"),
        ("Performance", "performance"),
        ("Quick Start Guide", "quickStartGuide"),
        ("Setup", "setup"),
    ] {
        block = document(block, title, &field(e, key));
    }
    // Hangar's own lines come after all of `ngc`'s, which keep its order.
    offer_lines(block, e).separator()
}

/// `info <name>:<version>`; `files` adds the file list.
pub fn version_block(kind: &Kind, v: &Value, files: Option<&[Value]>) -> InfoBlock {
    let mut block = InfoBlock::new()
        .separator()
        .title(&format!("{} Version Information", kind.wire.title))
        .label("Id", field(v, "versionId"))
        .label("Batch Size", field(v, "batchSize"))
        .label("Memory Footprint", field(v, "memoryFootprint"))
        .label("Number Of Epochs", field(v, "numberOfEpochs"))
        .label("Accuracy Reached", field(v, "accuracyReached"))
        .label("GPU Model", field(v, "gpuModel"))
        .label("Created Date", field(v, "createdDate"))
        .label("Description", "");
    for line in field(v, "description").lines() {
        block = block.title(&format!("      {line}"));
    }
    block = block
        .label("Status", field(v, "status"))
        .label("Signed", flag(v, "isSigned"))
        .label("Total File Count", text(v.get("totalFileCount")))
        .label("Total Size", human_size(v.get("totalSizeInBytes")));
    if let Some(files) = files {
        block = level_line(block, 1, "", "File List");
        for file in files {
            block = level_line(block, 1, &field(file, "path"), &human_size(file.get("sizeInBytes")));
        }
    }
    let links = items(v.get("otherContents"));
    if !links.is_empty() {
        block = block.label("Additional Resources", "");
        for link in links {
            block = level_line(block, 1, &field(link, "key"), &field(link, "value"));
        }
    }
    let metrics = items(v.get("customMetrics"));
    if !metrics.is_empty() {
        block = block.label("Custom Metrics", "");
        for table in metrics {
            block = level_line(block, 1, &field(table, "name"), "");
            for pair in items(table.get("attributes")) {
                block = level_line(block, 2, &field(pair, "key"), &field(pair, "value"));
            }
        }
    }
    for (title, key) in [
        ("Performance", "performance"),
        ("Quick Start Guide", "quickStartGuide"),
        ("Setup", "setup"),
        ("Release Notes", "releaseNotes"),
    ] {
        block = document(block, title, &field(v, key));
    }
    block.separator()
}

#[cfg(test)]
mod tests {
    use super::super::{MODEL, RESOURCE};
    use super::*;
    use crate::client::search::search_entity;
    use serde_json::json;

    #[test]
    fn entity_rows() {
        let hit = json!({"resourceId": "acme/det", "name": "det", "dateModified": "2026-01-02T03:04:05.000Z",
            "attributes": [{"key": "format", "value": "onnx"}, {"key": "latestVersionIdStr", "value": "2"}],
            "labels": [{"key": "productNames", "values": ["a", "b"]}]});
        let table = entities_table(&[search_entity(&hit)]);
        assert_eq!(table.rows[0][1], "acme/det");
        assert_eq!(table.rows[0][2], "2");
        assert_eq!(table.rows[0][6], "Jan 02, 2026");
        assert_eq!(table.rows[0][7], "locked");
        assert_eq!(table.rows[0][9], "a, b");
    }

    #[test]
    fn blocks() {
        let e = json!({"name": "r", "trainingFramework": "PyTorch", "labels": ["x"], "setup": "step 1\nstep 2"});
        let text = entity_block(&RESOURCE, &e).render(200);
        assert!(text.contains(" Resource Information"), "{text}");
        assert!(text.contains("   Framework: PyTorch"), "{text}");
        assert!(text.contains("      step 2"), "{text}");
        assert!(text.contains("   Latest Version Size (bytes): 0"), "{text}");
        let v = json!({"versionId": "1", "totalSizeInBytes": 2048, "status": "UPLOAD_COMPLETE",
            "customMetrics": [{"name": "t", "attributes": [{"key": "acc", "value": "0.9"}]}]});
        let files = [json!({"path": "a/b.bin", "sizeInBytes": 3})];
        let text = version_block(&MODEL, &v, Some(&files)).render(200);
        assert!(text.contains("   Total Size: 2 KB"), "{text}");
        assert!(text.contains("a/b.bin: 3 B"), "{text}");
        assert!(text.contains("acc: 0.9"), "{text}");
    }
}
