//! How charts and their versions are shown, in the layouts of the Private Registry guide §6.4
//! (`ngc`'s `registry/printer/chart.py`): the info blocks and the list tables.

use crate::client::output::{InfoBlock, Table};
use crate::client::views::{date, field, human_size, items, level_line, list_date, offer_lines, text};
use serde_json::{Value, json};

/// `list` of charts.
const CHART_COLUMNS: [&str; 8] = [
    "Name",
    "Repository",
    "Version",
    "Size",
    "Created By",
    "Description",
    "Created Date",
    "Last Modified",
];

/// `list <name>:*`.
const VERSION_COLUMNS: [&str; 4] = ["Version", "File Count", "File Size", "Created Date"];

/// A size, empty when there is none or it is zero (`ngc`'s list of charts).
fn size_if_any(value: Option<&Value>) -> String {
    match value.and_then(Value::as_f64) {
        Some(bytes) if bytes > 0.0 => human_size(value),
        _ => String::new(),
    }
}

/// Charts found by a search (entities made of search hits).
pub fn charts_table(charts: &[Value]) -> Table {
    Table::new(&CHART_COLUMNS).rows(charts.iter().map(|c| {
        vec![
            field(c, "name"),
            field(c, "resourceId"),
            field(c, "latestVersionIdStr"),
            size_if_any(c.get("latestVersionSizeInBytes")),
            field(c, "createdBy"),
            field(c, "description"),
            list_date(c.get("createdDate")),
            list_date(c.get("updatedDate")),
        ]
    }))
}

pub fn versions_table(versions: &[Value]) -> Table {
    Table::new(&VERSION_COLUMNS).rows(versions.iter().map(|v| {
        vec![
            field(v, "id"),
            text(v.get("totalFileCount")),
            human_size(v.get("totalSizeInBytes")),
            list_date(v.get("createdDate")),
        ]
    }))
}

/// `info <name>`, and what `create` and `update` print.
pub fn chart_block(c: &Value) -> InfoBlock {
    let mut block = InfoBlock::new()
        .separator()
        .title("Chart Information")
        .label("Name", field(c, "name"))
        .label("Short Description", field(c, "shortDescription"))
        .label("Display Name", field(c, "displayName"))
        .label("Team", field(c, "teamName"))
        .label("Publisher", field(c, "publisher"))
        .label("Built By", field(c, "builtBy"))
        .label("Labels", "");
    for label in items(c.get("labels")).iter().filter_map(Value::as_str) {
        block = level_line(block, 0, "", label);
    }
    let latest = field(c, "latestVersionIdStr");
    let size = Some(field(c, "latestVersionSizeInBytes")).filter(|s| !s.is_empty() && s != "0");
    let size = size.unwrap_or_else(|| if latest.is_empty() { "" } else { "0" }.into());
    block = block
        .label("Logo", field(c, "logo"))
        .label("Created Date", date(c.get("createdDate")))
        .label("Updated Date", date(c.get("updatedDate")))
        .label("Read Only", text(c.get("isReadOnly")))
        .label("Latest Version ID", latest)
        .label("Latest Version Size (bytes)", size)
        .label("Overview", "");
    for line in field(c, "description").lines() {
        block = level_line(block, 1, "", line);
    }
    // Hangar's own lines come after all of `ngc`'s, which keep its order.
    offer_lines(block, c).separator()
}

/// `info <name>:<version>` and what `push` prints; `files` adds the archive's file list.
pub fn version_block(v: &Value, files: Option<&[Value]>) -> InfoBlock {
    let mut block = InfoBlock::new()
        .separator()
        .title("Chart Version Information")
        .label("Created Date", date(v.get("createdDate")))
        .label("Updated Date", date(v.get("updatedDate")))
        .label("Version ID", field(v, "id"))
        .label("Total File Count", text(v.get("totalFileCount")))
        .label("Total Size", human_size(v.get("totalSizeInBytes")))
        .label("Status", field(v, "status"));
    if let Some(files) = files {
        block = block.label("File List", "");
        for file in files {
            let line = format!("{} - {}", field(file, "path"), human_size(file.get("sizeInBytes")));
            block = level_line(block, 0, "", &line);
        }
    }
    block.separator()
}

/// `ngc`'s JSON of a version: the version and its file list (empty unless asked for).
pub fn version_json(v: Value, files: Vec<Value>) -> Value {
    json!({"version": v, "file_list": files})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_block_follows_the_guide() {
        let chart = json!({"name": "ngcdocstest", "shortDescription": "Doc testing chart", "labels": ["a"],
            "createdDate": "2021-03-22T18:48:36.000Z", "isReadOnly": false, "description": "line 1\nline 2"});
        let text = chart_block(&chart).render(200);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], " Chart Information");
        assert_eq!(lines[2], "   Name: ngcdocstest");
        assert!(text.contains("   Labels:\n     a\n   Logo:\n"), "{text}");
        assert!(text.contains("   Created Date: 2021-03-22 18:48:36 UTC\n"), "{text}");
        assert!(text.contains("   Read Only: False\n"), "{text}");
        assert!(
            text.contains("   Latest Version ID:\n   Latest Version Size (bytes):\n"),
            "{text}"
        );
        assert!(
            text.contains("   Overview:\n       line 1\n       line 2\n   Access Level:\n   Products:\n---"),
            "{text}"
        );
        let pushed = json!({"latestVersionIdStr": "0.1.0", "latestVersionSizeInBytes": 10664});
        assert!(
            chart_block(&pushed)
                .render(200)
                .contains("   Latest Version Size (bytes): 10664\n")
        );
        let no_size = json!({"latestVersionIdStr": "0.1.0", "latestVersionSizeInBytes": null});
        assert!(
            chart_block(&no_size)
                .render(200)
                .contains("   Latest Version Size (bytes): 0\n")
        );
    }

    #[test]
    fn version_block_and_tables() {
        let v = json!({"id": "0.1.0", "totalFileCount": 11, "totalSizeInBytes": 10664, "status": "UPLOAD_COMPLETE",
            "createdDate": "2021-03-22T18:54:44.000Z"});
        let files = [json!({"path": "c/Chart.yaml", "sizeInBytes": 120})];
        let text = version_block(&v, Some(&files)).render(200);
        assert!(
            text.contains(
                "   Version ID: 0.1.0\n   Total File Count: 11\n   Total Size: 10.41 KB\n   Status: UPLOAD_COMPLETE\n"
            ),
            "{text}"
        );
        assert!(text.contains("   File List:\n     c/Chart.yaml - 120 B\n"), "{text}");
        assert_eq!(
            versions_table(&[v]).rows[0],
            ["0.1.0", "11", "10.41 KB", "Mar 22, 2021"]
        );
        let hit = json!({"name": "web", "resourceId": "acme/web", "latestVersionIdStr": "1.0.0",
            "latestVersionSizeInBytes": 0, "createdBy": "a@b", "description": "d"});
        assert_eq!(
            charts_table(&[hit]).rows[0][..6],
            ["web", "acme/web", "1.0.0", "", "a@b", "d"]
        );
    }
}
