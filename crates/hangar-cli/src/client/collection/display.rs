//! How collections are shown, in `ngc`'s layouts (its `registry/printer/collection.py`): the
//! info block with the items under a heading per kind, and the list columns.

use super::items::heading;
use crate::client::output::{InfoBlock, Table};
use crate::client::views::{field, items, label_values, level_line, list_date, offer_lines};
use hangar_core::wire::Member;
use serde_json::Value;

/// `list`: `ngc`'s default columns.
const COLUMNS: [&str; 6] = [
    "Display Name",
    "Name",
    "Created Date",
    "Updated Date",
    "Access Type",
    "Associated Products",
];

pub fn collections_table(collections: &[Value]) -> Table {
    Table::new(&COLUMNS).rows(collections.iter().map(|c| {
        vec![
            field(c, "displayName"),
            Some(field(c, "resourceId"))
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| full_name(c)),
            list_date(c.get("createdDate")),
            list_date(c.get("updatedDate")),
            field(c, "accessType"),
            label_values(c, "productNames"),
        ]
    }))
}

/// `org/[team/]name` of an entity.
fn full_name(e: &Value) -> String {
    ["orgName", "teamName", "name"]
        .iter()
        .map(|key| field(e, key))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// `info`: the collection, then its items by kind, then the overview.
pub fn collection_block(c: &Value, listed: &[(&Member, Vec<Value>)]) -> InfoBlock {
    let products: Vec<&str> = items(c.get("productNames")).iter().filter_map(Value::as_str).collect();
    let mut block = InfoBlock::new()
        .separator()
        .title("Collection Information")
        .label("Name", field(c, "name"))
        .label("Org", field(c, "orgName"))
        .label("Team", field(c, "teamName"))
        .label("Display Name", field(c, "displayName"))
        .label("Logo", field(c, "logo"))
        .label("Built By", field(c, "builtBy"))
        .label("Publisher", field(c, "publisher"))
        .label("Created Date", field(c, "createdDate"))
        .label("Updated Date", field(c, "updatedDate"))
        .label("Short Description", field(c, "shortDescription"))
        .label("Category", field(c, "category"))
        .label("Access Type", field(c, "accessType"))
        .label("Associated Products", products.join(", "));
    block = level_line(block, 1, "", "Labels");
    for label in items(c.get("labels")).iter().filter_map(Value::as_str) {
        block = level_line(block, 1, "", &format!("  {label}"));
    }
    for (member, items) in listed {
        block = level_line(block, 1, "", &heading(member));
        for item in items {
            block = level_line(block, 1, "", &format!("  {}", full_name(item)));
        }
    }
    let overview = field(c, "description");
    if !overview.is_empty() {
        block = level_line(block, 1, "", "Overview");
        for line in overview.lines() {
            block = block.title(&format!("      {line}"));
        }
    }
    // Hangar's own lines come after all of `ngc`'s, which keep its order.
    offer_lines(block, c).separator()
}
