//! Rendering of command results in `ngc`'s three output formats.
//!
//! A command builds a [`Report`]: the parts shown in `ascii` (and `csv`) mode, in order, and
//! the one JSON document shown in `json` mode. The layouts follow NVIDIA's `ngc` CLI:
//! - tables: prettytable style (`+---+` rules, `|` columns, left aligned, a rule under the header);
//! - information blocks: `" Title"`, `"   Label: value"` and dash separators as wide as the longest
//!   line (at least 52 characters, at most the console width);
//! - csv: one row per table row, cells trimmed, `\n` line ends;
//! - json: sorted keys, four-space indentation, non-ASCII escaped; a list is printed as
//!   `[` + the pretty objects joined by `,` + `]`.

use anyhow::Result;
use clap::ValueEnum;
use comfy_table::{ContentArrangement, ContentLineStyle, LineStyle, TableStyle};
use serde_json::{Map, Value};
use std::io::Write;

/// The output format (`--format_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Ascii,
    Csv,
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Ascii => "ascii",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ascii" => Some(Format::Ascii),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// The error of a command that has no CSV form.
pub const CSV_UNSUPPORTED: &str =
    "The CLI format_type is currently set to csv.  This command does not support CSV formatted output.";

/// Width of the dash separators of information blocks, before growing to fit the lines.
const MIN_SEPARATOR: usize = 52;
/// Console width assumed when it cannot be detected (as `ngc` does when not on a terminal).
const DEFAULT_CONSOLE_WIDTH: usize = 80;

/// A table: header row and data rows; cells may hold several lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(mut self, cells: Vec<String>) -> Table {
        self.rows.push(cells);
        self
    }

    pub fn rows(mut self, rows: impl IntoIterator<Item = Vec<String>>) -> Table {
        self.rows.extend(rows);
        self
    }

    /// prettytable's layout, without any wrapping of long cells.
    pub fn to_ascii(&self) -> String {
        let style = TableStyle::new()
            .top_border(LineStyle::new('+', '-', '+', '+'))
            .header_lines(ContentLineStyle::new('|', '|', '|'))
            .header_separator(LineStyle::new('+', '-', '+', '+'))
            .content_lines(ContentLineStyle::new('|', '|', '|'))
            .bottom_border(LineStyle::new('+', '-', '+', '+'));
        let mut table = comfy_table::Table::new();
        table
            .load_style(style)
            .set_content_arrangement(ContentArrangement::Disabled)
            .force_no_tty()
            .set_header(self.headers.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        // Like prettytable, an empty table closes with a second rule under the header's.
        table.to_string()
    }

    pub fn to_csv(&self) -> Result<String> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        writer.write_record(self.headers.iter().map(|h| h.trim()))?;
        for row in &self.rows {
            writer.write_record(row.iter().map(|c| c.trim()))?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write CSV: {e}"))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum BlockLine {
    Title(String),
    Label(String, String),
    Separator,
}

/// An information block (`ngc … info`): title, labelled values and separators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InfoBlock {
    lines: Vec<BlockLine>,
}

impl InfoBlock {
    pub fn new() -> InfoBlock {
        InfoBlock::default()
    }

    pub fn title(mut self, title: &str) -> InfoBlock {
        self.lines.push(BlockLine::Title(title.to_string()));
        self
    }

    pub fn label(mut self, label: &str, value: impl Into<String>) -> InfoBlock {
        self.lines.push(BlockLine::Label(label.to_string(), value.into()));
        self
    }

    /// A label line only when the value is not empty.
    pub fn label_if(self, label: &str, value: impl Into<String>) -> InfoBlock {
        let value = value.into();
        if value.is_empty() {
            self
        } else {
            self.label(label, value)
        }
    }

    pub fn separator(mut self) -> InfoBlock {
        self.lines.push(BlockLine::Separator);
        self
    }

    /// The block's text; separators are as wide as the longest line (at least 52), but no wider
    /// than `console_width`.
    pub fn render(&self, console_width: usize) -> String {
        let texts: Vec<Option<String>> = self
            .lines
            .iter()
            .map(|line| match line {
                BlockLine::Title(t) => Some(format!(" {t}")),
                BlockLine::Label(l, v) if v.is_empty() => Some(format!("   {l}:")),
                BlockLine::Label(l, v) => Some(format!("   {l}: {v}")),
                BlockLine::Separator => None,
            })
            .collect();
        let longest = texts.iter().flatten().map(|t| t.chars().count()).max().unwrap_or(0);
        let width = longest.max(MIN_SEPARATOR).min(console_width.max(1));
        let dashes = "-".repeat(width);
        texts
            .into_iter()
            .map(|t| t.unwrap_or_else(|| dashes.clone()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One piece of human-readable output.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Table(Table),
    Block(InfoBlock),
}

/// What `json` mode prints.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum JsonOut {
    #[default]
    Nothing,
    Object(Value),
    List(Vec<Value>),
}

/// A command's result in every format.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    parts: Vec<Part>,
    json: JsonOut,
}

impl Report {
    pub fn new() -> Report {
        Report::default()
    }

    pub fn text(mut self, text: impl Into<String>) -> Report {
        self.parts.push(Part::Text(text.into()));
        self
    }

    pub fn table(mut self, table: Table) -> Report {
        self.parts.push(Part::Table(table));
        self
    }

    pub fn block(mut self, block: InfoBlock) -> Report {
        self.parts.push(Part::Block(block));
        self
    }

    pub fn json(mut self, value: Value) -> Report {
        self.json = JsonOut::Object(value);
        self
    }

    pub fn json_list(mut self, items: Vec<Value>) -> Report {
        self.json = JsonOut::List(items);
        self
    }

    /// The full text in `format`, each part ending with a newline.
    pub fn render(&self, format: Format, console_width: usize) -> Result<String> {
        let mut out = String::new();
        match format {
            Format::Json => match &self.json {
                JsonOut::Nothing => {}
                JsonOut::Object(v) => out.push_str(&json_text(v)),
                JsonOut::List(items) => out.push_str(&json_list_text(items)),
            },
            Format::Ascii | Format::Csv => {
                for part in &self.parts {
                    match (part, format) {
                        (Part::Text(t), _) => out.push_str(t),
                        (Part::Table(t), Format::Csv) => out.push_str(t.to_csv()?.trim_end_matches('\n')),
                        (Part::Table(t), _) => out.push_str(&t.to_ascii()),
                        (Part::Block(b), _) => out.push_str(&b.render(console_width)),
                    }
                    out.push('\n');
                }
            }
        }
        if format == Format::Json && !out.is_empty() {
            out.push('\n');
        }
        Ok(out)
    }

    pub fn print(&self, format: Format) -> Result<()> {
        let text = self.render(format, console_width())?;
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
            // A reader that stopped early (`| head`) is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        }
    }
}

/// The console width: `COLUMNS`, else the terminal's, else 80.
pub fn console_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
    {
        return cols.max(1);
    }
    comfy_table::Table::new()
        .width()
        .map(usize::from)
        .unwrap_or(DEFAULT_CONSOLE_WIDTH)
}

/// A copy of `value` whose object keys are sorted at every level.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                if let Some(v) = map.get(key) {
                    out.insert(key.clone(), sorted(v));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Python's `json.dumps(value, indent=4, sort_keys=True)` (with `ensure_ascii`).
pub fn json_text(value: &Value) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    // Serializing a `Value` into memory cannot fail.
    if serde::Serialize::serialize(&sorted(value), &mut ser).is_err() {
        return String::from("null");
    }
    escape_non_ascii(&String::from_utf8_lossy(&buf))
}

/// `ngc`'s list layout: `[` + pretty objects joined by `,` + `]`.
pub fn json_list_text(items: &[Value]) -> String {
    let inner: Vec<String> = items.iter().map(json_text).collect();
    format!("[{}]", inner.join(","))
}

/// Replaces every non-ASCII character with `\uXXXX` escapes (UTF-16, as Python does). Only
/// string contents can hold such characters, so the JSON stays valid.
fn escape_non_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ascii_table_is_prettytable_style() {
        let t = Table::new(&["Name", "Display Name"])
            .row(vec!["acme".into(), "Acme Corp".into()])
            .row(vec!["b".into(), "".into()]);
        let expected = "\
+------+--------------+
| Name | Display Name |
+------+--------------+
| acme | Acme Corp    |
| b    |              |
+------+--------------+";
        assert_eq!(t.to_ascii(), expected);
    }

    #[test]
    fn empty_ascii_table_has_two_closing_rules() {
        let t = Table::new(&["Id", "Name"]);
        assert_eq!(
            t.to_ascii(),
            "+----+------+\n| Id | Name |\n+----+------+\n+----+------+"
        );
    }

    #[test]
    fn multi_line_cells_span_lines() {
        let t = Table::new(&["User Id", "Org [Roles]"]).row(vec!["1".into(), "a [X]\nb [Y,Z]".into()]);
        let expected = "\
+---------+-------------+
| User Id | Org [Roles] |
+---------+-------------+
| 1       | a [X]       |
|         | b [Y,Z]     |
+---------+-------------+";
        assert_eq!(t.to_ascii(), expected);
    }

    #[test]
    fn csv_trims_and_quotes() {
        let t = Table::new(&["key", "value"])
            .row(vec![" a ".into(), "x,y".into()])
            .row(vec!["b".into(), "l1\nl2".into()]);
        assert_eq!(t.to_csv().unwrap(), "key,value\na,\"x,y\"\nb,\"l1\nl2\"\n");
    }

    #[test]
    fn info_block_layout() {
        let b = InfoBlock::new()
            .title("Team Information")
            .separator()
            .label("ID", "3")
            .label("Description", "")
            .separator();
        let dashes = "-".repeat(52);
        assert_eq!(
            b.render(80),
            format!(" Team Information\n{dashes}\n   ID: 3\n   Description:\n{dashes}")
        );
    }

    #[test]
    fn info_block_separator_grows_to_longest_line_up_to_console() {
        let long = "x".repeat(60);
        let b = InfoBlock::new().separator().label("Name", long.clone());
        assert_eq!(b.render(200).lines().next().unwrap().len(), 69);
        assert_eq!(b.render(80).lines().next().unwrap().len(), 69);
        assert_eq!(b.render(58).lines().next().unwrap().len(), 58);
        let skip = InfoBlock::new().label_if("Empty", "").label_if("Full", "v");
        assert_eq!(skip.render(80), "   Full: v");
    }

    #[test]
    fn json_is_sorted_four_space_and_ascii() {
        let v = json!({"b": 1, "a": {"z": [1, "é"], "y": null}, "c": {}});
        let expected = "{\n    \"a\": {\n        \"y\": null,\n        \"z\": [\n            1,\n            \"\\u00e9\"\n        ]\n    },\n    \"b\": 1,\n    \"c\": {}\n}";
        assert_eq!(json_text(&v), expected);
        assert_eq!(escape_non_ascii("🚀"), "\\ud83d\\ude80");
    }

    #[test]
    fn json_list_uses_ngc_layout() {
        assert_eq!(json_list_text(&[]), "[]");
        let items = vec![json!({"a": 1}), json!({"b": 2})];
        assert_eq!(json_list_text(&items), "[{\n    \"a\": 1\n},{\n    \"b\": 2\n}]");
        let parsed: Value = serde_json::from_str(&json_list_text(&items)).unwrap();
        assert_eq!(parsed, json!([{"a": 1}, {"b": 2}]));
    }

    #[test]
    fn report_renders_per_format() {
        let r = Report::new()
            .text("Team created.")
            .table(Table::new(&["Id"]).row(vec!["1".into()]))
            .json(json!({"id": 1}));
        assert_eq!(
            r.render(Format::Ascii, 80).unwrap(),
            "Team created.\n+----+\n| Id |\n+----+\n| 1  |\n+----+\n"
        );
        assert_eq!(r.render(Format::Csv, 80).unwrap(), "Team created.\nId\n1\n");
        assert_eq!(r.render(Format::Json, 80).unwrap(), "{\n    \"id\": 1\n}\n");
        assert_eq!(Report::new().text("x").render(Format::Json, 80).unwrap(), "");
    }

    #[test]
    fn format_names() {
        assert_eq!(Format::parse(" JSON "), Some(Format::Json));
        assert_eq!(Format::parse("yaml"), None);
        assert_eq!(Format::Csv.name(), "csv");
    }
}
