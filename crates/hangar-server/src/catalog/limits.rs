//! Sizes of the catalog text fields shared by every kind of entity.

pub const DISPLAY_NAME: usize = 200;
pub const SHORT_DESCRIPTION: usize = 1000;
/// Markdown documents: the overview, setup, release notes and the like.
pub const DOCUMENT: usize = 256 * 1024;
pub const LABELS: usize = 50;
pub const LABEL: usize = 64;
pub const URL: usize = 2048;
/// Names of people and organizations (publisher, built-by) and other short values.
pub const SHORT_TEXT: usize = 200;

/// NGC's client cuts every file into parts of exactly this many bytes (ngc-api.md §5.1); the
/// browser upload does the same.
pub const PART_SIZE: i64 = 500_000_000;
