//! Everything printed on stderr: rejected lines, the progress bar, the summary and size advice.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::input::{Processed, Stats};

/// Inputs at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 16 << 20;

/// Bitmaps above this get the neagent memory warning.
pub const WARN_BYTES: u64 = 64 << 20;

/// Prints rejected lines (up to a limit) and tallies them by kind.
pub struct Rejections {
    name: String,
    max: usize,
    shown: usize,
    pub by_kind: BTreeMap<&'static str, u64>,
    progress: Option<ProgressBar>,
}

impl Rejections {
    pub fn new(name: &str, max: usize, progress: Option<ProgressBar>) -> Self {
        Self {
            name: name.to_owned(),
            max,
            shown: 0,
            by_kind: BTreeMap::new(),
            progress,
        }
    }

    pub fn take(&mut self, out: &Processed) {
        for (k, v) in &out.by_kind {
            *self.by_kind.entry(k).or_default() += v;
        }
        for r in &out.rejected {
            if self.shown >= self.max {
                break;
            }
            self.shown += 1;
            let msg = format!(
                "{}:{}: rejected: {}: {}",
                self.name, r.line, r.reason, r.excerpt
            );
            match &self.progress {
                Some(p) => p.suspend(|| eprintln!("bloom-gen: {msg}")),
                None => eprintln!("bloom-gen: {msg}"),
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }

    /// `"3 (2 no host, 1 wildcard)"`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .by_kind
            .iter()
            .map(|(k, v)| format!("{} {k}", group(*v)))
            .collect();
        if parts.is_empty() {
            "0 rejected".into()
        } else {
            format!("{} rejected ({})", group(self.total()), parts.join(", "))
        }
    }

    pub fn unshown(&self) -> u64 {
        self.total().saturating_sub(self.shown as u64)
    }
}

/// A progress bar on stderr, only for large (or unknown-size) input, only on a terminal.
pub fn progress(len: Option<u64>, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match len {
        Some(n) if n < PROGRESS_MIN_BYTES => return None,
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{spinner} reading {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} reading stdin: {bytes} ({bytes_per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    Some(bar)
}

/// `12345678` → `"12,345,678"`.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as B/KiB/MiB/GiB.
pub fn size(bytes: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1 << 20 {
        format!("{:.1} KiB", b / 1024.0)
    } else if bytes < 1 << 30 {
        format!("{:.1} MiB", b / f64::from(1u32 << 20))
    } else {
        format!("{:.2} GiB", b / f64::from(1u32 << 30))
    }
}

/// A rate as a percentage with enough digits.
pub fn pct(p: f64) -> String {
    let v = p * 100.0;
    if v >= 1.0 {
        format!("{v:.2}%")
    } else if v >= 0.01 {
        format!("{v:.3}%")
    } else {
        format!("{v:.2e}%")
    }
}

/// The line-count part of the summary.
pub fn lines_summary(stats: &Stats, rejections: &Rejections) -> String {
    format!(
        "read {} lines: {} kept, {} skipped (blank or comment), {}",
        group(stats.lines),
        group(stats.kept),
        group(stats.skipped),
        rejections.describe()
    )
}

/// A spinner for a phase without a known length (dedupe, fill), when a bar was shown.
pub fn spinner(shown: bool, msg: &'static str) -> Option<ProgressBar> {
    if !shown {
        return None;
    }
    let s = ProgressBar::new_spinner().with_message(msg);
    s.set_draw_target(ProgressDrawTarget::stderr());
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(s)
}
