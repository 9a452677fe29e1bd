//! Check outcomes and the run report printed by the `conformance` binary.

use std::fmt;

/// What became of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The implementation reproduced the transcript.
    Pass,
    /// It did not; the string says how.
    Fail(String),
    /// Not checked; the string says why.
    Skip(String),
}

/// One named check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked, e.g. the file it reproduces.
    pub name: String,
    /// Its outcome.
    pub outcome: Outcome,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Pass => write!(f, "PASS {}", self.name),
            Outcome::Fail(why) => write!(f, "FAIL {}: {why}", self.name),
            Outcome::Skip(why) => write!(f, "SKIP {}: {why}", self.name),
        }
    }
}

/// All checks of one run, in order.
#[derive(Debug, Default)]
pub struct Report {
    /// The checks made.
    pub checks: Vec<Check>,
}

impl Report {
    /// Records a check.
    pub fn push(&mut self, name: impl Into<String>, outcome: Outcome) {
        self.checks.push(Check {
            name: name.into(),
            outcome,
        });
    }

    /// (passed, failed, skipped).
    pub fn counts(&self) -> (usize, usize, usize) {
        self.checks
            .iter()
            .fold((0, 0, 0), |(p, f, s), c| match c.outcome {
                Outcome::Pass => (p + 1, f, s),
                Outcome::Fail(_) => (p, f + 1, s),
                Outcome::Skip(_) => (p, f, s + 1),
            })
    }

    /// The closing line: `N passed, M failed, K skipped`.
    pub fn summary(&self) -> String {
        let (p, f, s) = self.counts();
        format!("{p} passed, {f} failed, {s} skipped")
    }
}
