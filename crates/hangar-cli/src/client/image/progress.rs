//! Per-blob progress bars on stderr (only when it is a terminal) and the transfer totals.

use super::media::megabytes;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Progress {
    multi: MultiProgress,
    visible: bool,
    /// Whether a bar that stays on screen was drawn.
    drawn: AtomicBool,
}

impl Progress {
    pub fn new() -> Progress {
        let visible = std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
            visible,
            drawn: AtomicBool::new(false),
        }
    }

    /// A bar for `len` bytes of the blob `digest`, labelled with its short digest; it stays on
    /// screen when finished.
    pub fn bar(&self, digest: &str, len: u64, message: &str) -> ProgressBar {
        let bar = self.transient(digest, len, message);
        if !bar.is_hidden() {
            self.drawn.store(true, Ordering::Relaxed);
        }
        bar
    }

    /// A bar the caller removes with `finish_and_clear`.
    pub fn transient(&self, digest: &str, len: u64, message: &str) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let short: String = digest.split(':').nth(1).unwrap_or(digest).chars().take(12).collect();
        let style = ProgressStyle::with_template(
            "{prefix:12} {msg:>9} [{bar:30.cyan/blue}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(style);
        bar.set_prefix(short);
        bar.set_message(message.to_string());
        bar
    }

    /// Ends the bars' last line, so the summary starts on its own.
    pub fn done(&self) {
        if self.drawn.load(Ordering::Relaxed) {
            eprintln!();
        }
    }
}

/// What a transfer moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Distinct blobs (configs and layers) of the image.
    pub blobs: usize,
    /// Their total size.
    pub bytes: u64,
    /// Blobs that were already at the destination (or mounted there).
    pub present: usize,
    /// Bytes sent or received.
    pub transferred: u64,
}

impl Totals {
    pub fn add(&mut self, size: u64, transferred: bool) {
        self.blobs += 1;
        self.bytes += size;
        if transferred {
            self.transferred += size;
        } else {
            self.present += 1;
        }
    }

    /// `N blobs, X MB (Y already present)`.
    pub fn text(&self) -> String {
        format!(
            "{} blob{}, {} ({} already present)",
            self.blobs,
            if self.blobs == 1 { "" } else { "s" },
            megabytes(self.bytes),
            self.present
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals() {
        let mut t = Totals::default();
        t.add(1_500_000, true);
        assert_eq!(t.text(), "1 blob, 1.50 MB (0 already present)");
        t.add(500_000, false);
        assert_eq!(t.text(), "2 blobs, 2.00 MB (1 already present)");
        assert_eq!(t.transferred, 1_500_000);
    }
}
