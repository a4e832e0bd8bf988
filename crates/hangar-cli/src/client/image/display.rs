//! How `image list|info` show repositories and images, in `ngc`'s layouts (its
//! `registry/printer/image.py`): the list columns, the repository block and the image block.

use super::super::output::{InfoBlock, Table};
use super::super::views::{field, flag, human_size, items, level_line, list_date, py_bool};
use anyhow::{Result, bail};
use serde_json::Value;

/// A column of `image list`: `ngc`'s column key and its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub key: String,
    pub header: String,
}

/// The columns `--column` accepts (`ngc`'s `columns_dict`), with their default headers.
pub const COLUMNS: [(&str, &str); 12] = [
    ("created", "Created Date"),
    ("description", "Description"),
    ("name", "Name"),
    ("org", "Org"),
    ("permission", "Permission"),
    ("shared", "Shared"),
    ("size", "Image Size"),
    ("tag", "Latest Tag"),
    ("team", "Team"),
    ("updated", "Updated Date"),
    ("labels", "Labels"),
    ("signed", "Signed Tag?"),
];

/// `image list` of repositories: the guide's columns.
pub const REPOSITORY_COLUMNS: [(&str, &str); 6] = [
    ("name", "Name"),
    ("repository", "Repository"),
    ("tag", "Latest Tag"),
    ("size", "Image Size"),
    ("updated", "Updated Date"),
    ("permission", "Permission"),
];

/// `image list <repository>`: its tags.
pub const TAG_COLUMNS: [(&str, &str); 4] = [
    ("tag", "Tag"),
    ("updated", "Updated Date"),
    ("size", "Image Size"),
    ("signed", "Signed?"),
];

impl Column {
    fn new((key, header): (&str, &str)) -> Column {
        Column {
            key: key.to_string(),
            header: header.to_string(),
        }
    }

    /// `--column <key>[=<header>]`.
    pub fn parse(text: &str) -> Result<Column, String> {
        let (key, header) = match text.split_once('=') {
            Some((key, header)) => (key, Some(header).filter(|h| !h.is_empty())),
            None => (text, None),
        };
        let Some((key, default)) = COLUMNS.iter().find(|(k, _)| *k == key) else {
            let valid: Vec<&str> = COLUMNS.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "Invalid value: '{text}' for column. Valid columns are {}.",
                valid.join(", ")
            ));
        };
        Ok(Column::new((key, header.unwrap_or(default))))
    }
}

/// The columns of a list: `defaults` when none were asked for; else those asked for, after
/// `first` unless its key or header is among them (`ngc`'s `check_add_args_columns`).
pub fn list_columns(asked: &[Column], defaults: &[(&str, &str)], first: (&str, &str)) -> Result<Vec<Column>> {
    if asked.is_empty() {
        return Ok(defaults.iter().copied().map(Column::new).collect());
    }
    for (i, column) in asked.iter().enumerate() {
        if asked[..i].iter().any(|c| c.key == column.key) {
            bail!("Duplicate --column arguments are not allowed.");
        }
    }
    let mut columns = Vec::with_capacity(asked.len() + 1);
    if !asked.iter().any(|c| c.key == first.0 || c.header == first.1) {
        columns.push(Column::new(first));
    }
    columns.extend(asked.iter().cloned());
    Ok(columns)
}

/// A table of repositories (search hits made by [`search_repository`]) or of tags.
pub fn list_table(items: &[Value], columns: &[Column]) -> Table {
    let headers: Vec<&str> = columns.iter().map(|c| c.header.as_str()).collect();
    Table::new(&headers).rows(
        items
            .iter()
            .map(|item| columns.iter().map(|c| cell(item, &c.key)).collect()),
    )
}

/// One cell of `image list` (`ngc`'s `ImageOutput` properties): the same keys serve
/// repositories (`latestTag`, `latestImageSize`, `hasSignedTag`) and tags (`tag`, `size`,
/// `isSigned`).
pub fn cell(item: &Value, key: &str) -> String {
    // A field that is there, even when null, wins over its fallback (`hasattr` in `ngc`).
    let either = |first: &str, second: &str| item.get(first).or_else(|| item.get(second));
    match key {
        "created" => list_date(item.get("dateCreated")),
        "description" => field(item, "description"),
        "name" => Some(field(item, "displayName"))
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| field(item, "name")),
        "org" => field(item, "orgName"),
        "permission" => permission(item).to_string(),
        "repository" => field(item, "resourceId"),
        "shared" => {
            let shared = |name: &str| item.get(name).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            if shared("sharedWithOrgs") || shared("sharedWithTeams") {
                "Yes".into()
            } else {
                "No".into()
            }
        }
        "size" => human_size(either("latestImageSize", "size")),
        "tag" => super::super::views::text(either("latestTag", "tag")),
        "team" => field(item, "teamName"),
        "updated" => list_date(item.get("updatedDate")),
        "labels" => general_labels(item).join(", "),
        "signed" => py_bool(
            either("isSigned", "hasSignedTag")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )
        .into(),
        _ => String::new(),
    }
}

/// `"unlocked"` for what anyone may pull without a key (the guide: "Unlocked permissions
/// indicate images that do not require an API key to access"), else `"locked"`.
fn permission(item: &Value) -> &'static str {
    let open = |name: &str| item.get(name).and_then(Value::as_bool).unwrap_or(false);
    if open("guestAccess") || open("isPublic") {
        "unlocked"
    } else {
        "locked"
    }
}

/// The values of a search hit's `general` labels.
fn general_labels(item: &Value) -> Vec<String> {
    items(item.get("labels"))
        .iter()
        .filter(|l| l.get("key").and_then(Value::as_str) == Some("general"))
        .flat_map(|l| strings(l.get("values")))
        .collect()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    items(value)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// A search hit (`/v2/search/…/resources/CONTAINER`) as `ngc` sees a repository
/// (`RepositorySearchTransformer`): `dateModified` is `updatedDate`, each attribute a field
/// (`size` is `latestImageSize`), each label set one space-joined string.
pub fn search_repository(resource: &Value) -> Value {
    let mut out = resource.clone();
    let Value::Object(map) = &mut out else { return out };
    map.insert(
        "updatedDate".into(),
        resource.get("dateModified").cloned().unwrap_or(Value::Null),
    );
    for attribute in items(resource.get("attributes")) {
        if let Some(key) = attribute.get("key").and_then(Value::as_str) {
            let key = if key == "size" { "latestImageSize" } else { key };
            map.insert(key.to_string(), attribute.get("value").cloned().unwrap_or(Value::Null));
        }
    }
    for label in items(resource.get("labels")) {
        if let Some(key) = label.get("key").and_then(Value::as_str) {
            map.insert(key.to_string(), Value::String(strings(label.get("values")).join(" ")));
        }
    }
    out
}

/// `image info <repo>`; `details` adds the overview.
pub fn repository_block(repo: &Value, details: bool) -> InfoBlock {
    let public = if repo.get("isPublic").and_then(Value::as_bool).unwrap_or(false) {
        "Yes"
    } else {
        "No"
    };
    let products = match repo.get("productNames") {
        Some(Value::Array(_)) => strings(repo.get("productNames")).join(", "),
        other => super::super::views::text(other),
    };
    let mut block = InfoBlock::new()
        .title("Image Repository Information")
        .label("Name", field(repo, "name"))
        .label("Display Name", field(repo, "displayName"))
        .label("Short Description", field(repo, "shortDescription"))
        .label("Built By", field(repo, "builtBy"))
        .label("Publisher", field(repo, "publisher"))
        .label("Multinode Support", field(repo, "isMultinodeEnabled"))
        .label("Multi-Arch Support", field(repo, "isMultiArchitecture"))
        .label("Logo", field(repo, "logo"))
        .label("Labels", strings(repo.get("labels")).join(", "))
        .label("Public", public)
        .label("Access Type", field(repo, "accessType"))
        .label("Associated Products", products)
        .label("Access Level", field(repo, "accessLevel"))
        .label("Last Updated", list_date(repo.get("updatedDate")))
        .label("Latest Image Size", human_size(repo.get("latestImageSize")))
        .label("Signed Tag?", field(repo, "hasSignedTag"))
        .label("Latest Tag", field(repo, "latestTag"))
        .label("Tags", "");
    for tag in strings(repo.get("tags")) {
        block = level_line(block, 1, "", &tag);
    }
    if details {
        block = block.label("Overview", "");
        for line in field(repo, "description").lines() {
            block = level_line(block, 1, "", line);
        }
    }
    block
}

/// `image info <repo>:<tag>`: the tag's metadata (`…/tags/{tag}`) and its image
/// (`…/images/{tag}`), each architecture with its size and digest; `layers` adds the layers.
pub fn image_block(tag: &Value, image: &Value, layers: bool) -> InfoBlock {
    let mut block = InfoBlock::new()
        .separator()
        .title("Image Information")
        .label("Name", format!("{}:{}", field(image, "name"), field(image, "tag")));
    for variant in items(tag.get("architectureVariants")) {
        block = block.label("Architecture", field(variant, "architecture"));
        block = level_line(block, 1, "Image Size", &human_size(variant.get("compressedSize")));
        block = level_line(block, 1, "Digest", &field(variant, "digest"));
    }
    block = block
        .label("Schema Version", field(image, "schemaVersion"))
        .label("Signed?", flag(tag, "isSigned"));
    let names = |key: &str| -> Vec<String> {
        items(tag.get(key))
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    let signed_by = names("signedBy");
    if !signed_by.is_empty() {
        block = block.label("Signed By", signed_by.join(", "));
    }
    for problem in names("signatureProblems") {
        block = block.label("Unverified Signature", problem);
    }
    block = block
        .label("Last Updated", list_date(tag.get("updatedDate")))
        .label("Malware Scan Status", field(tag, "malwareScanStatus"))
        .label("Malware Scan Date", field(tag, "malwareScanDate"));
    if layers {
        block = block.title("Layers");
        for layer in items(image.get("fsLayers")) {
            // `ngc`'s `add_line(blobSum, level=4)`.
            block = block.title(&format!("{}{}", "  ".repeat(4), field(layer, "blobSum")));
        }
    }
    block.separator()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ngc_sizes_dates_and_lines() {
        let size = |v: Value| human_size(Some(&v));
        assert_eq!(size(json!(0)), "0 B");
        assert_eq!(size(json!(62)), "62 B");
        assert_eq!(size(json!(1024)), "1 KB");
        assert_eq!(size(json!(1536)), "1.5 KB");
        assert_eq!(size(json!(63_197_266)), "60.27 MB");
        assert_eq!(size(json!(2_544_000_000u64)), "2.37 GB");
        assert_eq!(human_size(None), "");
        assert_eq!(list_date(Some(&json!("2019-10-18T07:49:43.000Z"))), "Oct 18, 2019");
        assert_eq!(list_date(Some(&json!("soon"))), "soon");
        let block = level_line(InfoBlock::new(), 1, "", "v1");
        let block = level_line(block, 1, "Digest", "sha256:x");
        assert_eq!(block.render(80), "       v1\n     Digest: sha256:x");
    }

    #[test]
    fn search_hits_become_repositories() {
        let hit = json!({"resourceId": "acme/web", "name": "web", "displayName": "", "guestAccess": false,
            "dateModified": "2026-01-02T03:04:05.000Z", "labels": [{"key": "general", "values": ["a", "b"]}],
            "attributes": [{"key": "latestTag", "value": "v1"}, {"key": "size", "value": 2048},
                {"key": "hasSignedTag", "value": true}]});
        let repo = search_repository(&hit);
        assert_eq!(
            (repo["latestTag"].as_str(), repo["latestImageSize"].as_u64()),
            (Some("v1"), Some(2048))
        );
        assert_eq!(repo["general"], "a b");
        let columns = list_columns(&[], &REPOSITORY_COLUMNS, ("repository", "Repository")).unwrap();
        let table = list_table(std::slice::from_ref(&repo), &columns);
        assert_eq!(
            table.rows[0],
            ["web", "acme/web", "v1", "2 KB", "Jan 02, 2026", "locked"]
        );
        let public = search_repository(&json!({"isPublic": true}));
        assert_eq!(cell(&public, "permission"), "unlocked");
        assert_eq!(
            (cell(&repo, "labels"), cell(&repo, "signed"), cell(&repo, "shared")),
            ("a, b".to_string(), "True".to_string(), "No".to_string())
        );
    }

    #[test]
    fn tag_cells() {
        let tag = json!({"tag": "v1", "size": 1536, "isSigned": false, "updatedDate": "2026-01-02T03:04:05.000Z"});
        let columns = list_columns(&[], &TAG_COLUMNS, ("tag", "Tag")).unwrap();
        let table = list_table(&[tag], &columns);
        assert_eq!(table.rows[0], ["v1", "Jan 02, 2026", "1.5 KB", "False"]);
    }

    #[test]
    fn asked_columns() {
        let asked = [
            Column::parse("signed").unwrap(),
            Column::parse("labels=Topics").unwrap(),
        ];
        let columns = list_columns(&asked, &REPOSITORY_COLUMNS, ("repository", "Repository")).unwrap();
        let headers: Vec<&str> = columns.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(headers, ["Repository", "Signed Tag?", "Topics"]);
        // The first column is not added again when asked for by key or by header.
        let asked = [Column::parse("tag").unwrap(), Column::parse("size").unwrap()];
        let columns = list_columns(&asked, &TAG_COLUMNS, ("tag", "Tag")).unwrap();
        let keys: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["tag", "size"]);
        assert!(Column::parse("repository").is_err());
        assert!(
            Column::parse("nope=X")
                .unwrap_err()
                .contains("Invalid value: 'nope=X' for column.")
        );
        let twice = [Column::parse("org").unwrap(), Column::parse("org=Owner").unwrap()];
        assert!(list_columns(&twice, &TAG_COLUMNS, ("tag", "Tag")).is_err());
    }

    #[test]
    fn blocks() {
        let repo = json!({"name": "web", "labels": ["a", "b"], "isPublic": true, "tags": ["v2", "v1"],
            "latestImageSize": 2048, "isMultinodeEnabled": false, "description": "x\n\ny"});
        let text = repository_block(&repo, true).render(80);
        for line in [
            "   Labels: a, b\n",
            "   Public: Yes\n",
            "   Access Type:\n   Associated Products:\n",
            "   Latest Image Size: 2 KB\n",
            "   Multinode Support: False\n",
            "   Tags:\n       v2\n       v1\n   Overview:\n       x\n       \n       y",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        let tag = json!({"isSigned": true, "architectureVariants": [
            {"architecture": "amd64", "compressedSize": 10, "digest": "sha256:a"},
            {"architecture": "arm64", "compressedSize": 20, "digest": "sha256:b"}]});
        let image = json!({"name": "web", "tag": "v1", "schemaVersion": 2});
        let text = image_block(&tag, &image, false).render(40);
        assert!(
            text.contains(
                "   Architecture: amd64\n     Image Size: 10 B\n     Digest: sha256:a\n   Architecture: arm64\n"
            ),
            "{text}"
        );
        assert!(text.contains("   Signed?: True\n"), "{text}");
        assert!(text.starts_with("-----") && text.ends_with("-----"), "{text}");
        let image = json!({"name": "web", "tag": "v1", "fsLayers": [{"blobSum": "sha256:l1"}]});
        let text = image_block(&tag, &image, true).render(40);
        assert!(text.contains("\n Layers\n         sha256:l1\n-----"), "{text}");
    }
}
