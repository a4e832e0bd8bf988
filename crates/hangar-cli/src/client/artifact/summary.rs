//! Progress of a transfer (a bar for bytes and one for files, on stderr when it is a terminal)
//! and the completion summary of the guides (Private Registry §5.2, Catalog §16.3).

use crate::client::output::Report;
use crate::client::views::human_size;
use chrono::{DateTime, Local};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::time::Instant;

/// Upload or download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upload,
    Download,
}

impl Direction {
    fn word(self) -> (&'static str, &'static str) {
        match self {
            Direction::Upload => ("Upload", "uploaded"),
            Direction::Download => ("Download", "downloaded"),
        }
    }
}

pub struct Progress {
    _multi: MultiProgress,
    pub bytes: ProgressBar,
    pub files: ProgressBar,
}

impl Progress {
    pub fn new(total_bytes: u64, total_files: u64, what: &str) -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style = |template: &str| {
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ")
        };
        let bytes = multi.add(ProgressBar::new(total_bytes));
        bytes.set_style(style(
            "{msg:10} [{bar:30.cyan/blue}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4}",
        ));
        bytes.set_message(what.to_string());
        let files = multi.add(ProgressBar::new(total_files));
        files.set_style(style("{msg:10} [{bar:30.green/blue}] {pos:>10}/{len:<10} files"));
        files.set_message("");
        Progress {
            _multi: multi,
            bytes,
            files,
        }
    }

    pub fn finish(&self) {
        self.bytes.finish_and_clear();
        self.files.finish_and_clear();
    }
}

/// What a finished transfer did.
pub struct Summary {
    pub direction: Direction,
    /// `name[version=v]` for uploads, `name_vversion` for downloads.
    pub transfer_id: String,
    pub local_path: String,
    pub files: u64,
    /// Bytes of the version's files (sent, found already stored, or received).
    pub bytes: u64,
    /// Bytes that actually crossed the network.
    pub transferred: u64,
    pub started: DateTime<Local>,
    pub clock: Instant,
}

impl Summary {
    fn time(t: DateTime<Local>) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }

    pub fn report(&self) -> Report {
        let (title, done) = self.direction.word();
        let seconds = self.clock.elapsed().as_secs_f64();
        let ended = self.started + chrono::Duration::milliseconds((seconds * 1000.0) as i64);
        let speed = if seconds > 0.0 {
            self.transferred as f64 / seconds
        } else {
            0.0
        };
        let size = human_size(Some(&json!(self.bytes)));
        let rate = format!("{}/s", human_size(Some(&json!(speed.round() as u64))));
        let duration = format!("{}s", seconds.round() as u64);
        let dashes = "-".repeat(52);
        let text = format!(
            "{Done} {size} in {duration}, {Title} speed: {rate}\n{dashes}\n\
             Transfer id: {id} {Title} status: Completed.\n\
             {Done} local path: {path}\n\
             Total files {done}: {files}\n\
             Total {done} size: {size}\n\
             Started at: {start}\n\
             Completed at: {end}\n\
             Duration taken: {duration} seconds\n{dashes}",
            Title = title,
            Done = capitalised(done),
            id = self.transfer_id,
            path = self.local_path,
            files = self.files,
            start = Self::time(self.started),
            end = Self::time(ended),
        );
        let key = done.trim_end_matches("ed");
        let json: Value = json!({
            format!("{key}_start"): Self::time(self.started),
            format!("{key}_end"): Self::time(ended),
            format!("{key}_time"): duration,
            format!("files_{done}"): self.files,
            format!("size_{done}"): size,
            format!("bytes_{done}"): self.bytes,
            "bytes_transferred": self.transferred,
            "speed": rate,
            "local_path": self.local_path,
            "transfer_id": self.transfer_id,
            "status": "COMPLETED",
        });
        Report::new().text(text).json(json)
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::output::Format;

    #[test]
    fn summaries_follow_the_guide() {
        let summary = Summary {
            direction: Direction::Upload,
            transfer_id: "cmr[version=1]".into(),
            local_path: "/data/cmr".into(),
            files: 26,
            bytes: 137_707,
            transferred: 137_707,
            started: Local::now(),
            clock: Instant::now(),
        };
        let text = summary.report().render(Format::Ascii, 80).unwrap();
        assert!(
            text.contains("Transfer id: cmr[version=1] Upload status: Completed."),
            "{text}"
        );
        assert!(text.contains("Uploaded local path: /data/cmr"), "{text}");
        assert!(text.contains("Total files uploaded: 26"), "{text}");
        assert!(text.contains("Total uploaded size: 134.48 KB"), "{text}");
        let json: Value = serde_json::from_str(&summary.report().render(Format::Json, 80).unwrap()).unwrap();
        assert_eq!(json["files_uploaded"], 26);
        assert_eq!(json["status"], "COMPLETED");
        assert!(json["upload_start"].is_string(), "{json}");
    }
}
