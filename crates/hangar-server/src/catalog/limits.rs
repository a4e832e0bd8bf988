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
