//! Canonicalizing many lines without allocating (spec/bloom-prefilter.md §4c): the same entries
//! as [`parse_line`], handed to a callback as bytes instead of as owned strings.
//!
//! Most blocklist lines are plain: printable ASCII, a host that is already lowercase LDH (plus
//! `_`) with no `xn--` label, no userinfo or port, and a path and query with neither capitals
//! nor `%` (so the entry has no variants). For those the canonical entry is computed here in one
//! pass over the bytes, without UTS #46 (which maps such a host to itself) and usually without a
//! copy: the entry is then a slice of the line itself. Any other line goes through
//! [`parse_line`], so both paths give the same result by construction wherever the fast path
//! declines; where it accepts, the property tests compare it with [`parse_line`].

use crate::canonical::{
    Line, MAX_ENTRY_BYTES, MAX_HOST_BYTES, MAX_LABEL_BYTES, ONBOARDING_CANONICAL, Rejection,
    parse_line,
};

/// What one line was, once its entries have been handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Blank or a `#` comment.
    Skip,
    /// This many canonical entries (1 to 5) were passed to the callback, primary first.
    Entries(usize),
    /// A line that can never match; nothing was passed to the callback.
    Rejected(Rejection),
}

/// Reusable state for canonicalizing a stream of lines: one buffer for the entries that are not
/// a slice of their line. Cheap to create; keep one per thread.
#[derive(Clone, Debug, Default)]
pub struct Canonicalizer {
    buf: Vec<u8>,
}

impl Canonicalizer {
    /// A canonicalizer with an empty buffer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Classifies and canonicalizes one line exactly like [`parse_line`] and calls `emit` with
    /// the bytes of each entry, in the order of [`crate::Canonical::entries`].
    pub fn parse_line(&mut self, line: &[u8], mut emit: impl FnMut(&[u8])) -> Parsed {
        match self.plain(line) {
            Some(Plain::Skip) => Parsed::Skip,
            Some(Plain::Slice(range)) => {
                // `plain` returns ranges inside `line`.
                emit(line.get(range).unwrap_or_default());
                Parsed::Entries(1)
            }
            Some(Plain::Buffer) => {
                emit(&self.buf);
                Parsed::Entries(1)
            }
            None => match parse_line(line) {
                Line::Skip => Parsed::Skip,
                Line::Rejected(r) => Parsed::Rejected(r),
                Line::Entries(c) => {
                    for e in c.entries() {
                        emit(e.as_bytes());
                    }
                    Parsed::Entries(c.entries().len())
                }
            },
        }
    }

    /// The fast path: `None` whenever the line needs anything beyond it (non-ASCII, whitespace
    /// or control characters inside, userinfo, port, IPv6, wildcard, capitals in the host, an
    /// `xn--` label, a bad label, capitals or `%` after the host, the onboarding entry, or a
    /// rejection of any kind). One pass over the host and one over the rest.
    fn plain(&mut self, line: &[u8]) -> Option<Plain> {
        let s = line.trim_ascii();
        if s.is_empty() {
            return Some(Plain::Skip);
        }
        // Checked before the comment test: `parse_line` refuses invalid UTF-8 even in comments.
        if s.len() > MAX_ENTRY_BYTES || !all_printable_ascii(s) {
            return None;
        }
        if s.first() == Some(&b'#') {
            return Some(Plain::Skip);
        }
        // Offsets below are relative to `line`.
        let base = line.len() - line.trim_ascii_start().len();
        let rest = base + scheme_len(s);
        let after = line.get(rest..base + s.len())?;

        // The host: plain bytes up to the first `/`, `?` or `#`, labels checked on the way.
        if after.starts_with(b"xn--") {
            return None;
        }
        let mut i = 0;
        let mut label_start = 0;
        while let Some(&b) = after.get(i) {
            match HOST_CLASS[usize::from(b)] {
                HOST => {}
                DOT => {
                    if i == label_start || i - label_start > MAX_LABEL_BYTES {
                        return None;
                    }
                    label_start = i + 1;
                    if after
                        .get(label_start..)
                        .is_some_and(|l| l.starts_with(b"xn--"))
                    {
                        return None;
                    }
                }
                END => break,
                _ => return None,
            }
            i += 1;
        }
        let last_label = i - label_start;
        // An empty last label is the one trailing `.` the canonical form drops.
        let dotted = last_label == 0;
        let host_len = if dotted { i.checked_sub(1)? } else { i };
        if host_len == 0 || host_len > MAX_HOST_BYTES || last_label > MAX_LABEL_BYTES {
            return None;
        }
        let mut host = after.get(..host_len)?;
        let mut host_start = rest;
        while let Some(h) = host.strip_prefix(b"www.") {
            host = h;
            host_start += 4;
        }

        // Path and query: where the query and fragment start, and whether the path needs its
        // slashes normalized.
        let tail_start = rest + i;
        let tail = after.get(i..)?;
        let mut end = tail.len();
        let mut query_at = None;
        let mut double_slash = false;
        let mut prev = 0u8;
        for (j, &b) in tail.iter().enumerate() {
            match b {
                b'#' => {
                    end = j;
                    break;
                }
                b'A'..=b'Z' | b'%' => return None,
                b'?' if query_at.is_none() => query_at = Some(j),
                b'/' if prev == b'/' && query_at.is_none() => double_slash = true,
                _ => {}
            }
            prev = b;
        }
        let path_len = query_at.unwrap_or(end);
        let path = tail.get(..path_len)?;
        let query = match query_at {
            Some(q) => tail.get(q + 1..end)?,
            None => &[][..],
        };
        let normalized = !double_slash && !path.ends_with(b"/");
        let out = if !dotted && normalized {
            let entry_end = if query.is_empty() { path_len } else { end };
            Plain::Slice(host_start..tail_start + entry_end)
        } else {
            self.buf.clear();
            self.buf.extend_from_slice(host);
            for segment in path.split(|&b| b == b'/').filter(|s| !s.is_empty()) {
                self.buf.push(b'/');
                self.buf.extend_from_slice(segment);
            }
            if !query.is_empty() {
                self.buf.push(b'?');
                self.buf.extend_from_slice(query);
            }
            Plain::Buffer
        };
        let entry = match &out {
            Plain::Slice(r) => line.get(r.clone())?,
            _ => &self.buf[..],
        };
        (entry != ONBOARDING_CANONICAL.as_bytes()).then_some(out)
    }
}

enum Plain {
    Skip,
    Slice(std::ops::Range<usize>),
    Buffer,
}

/// Every byte in `!`..=`~` (no space, no control, no non-ASCII); branch-free so it vectorizes.
fn all_printable_ascii(s: &[u8]) -> bool {
    s.iter().fold(0u8, |bad, &b| {
        bad | u8::from(b.wrapping_sub(0x21) > 0x7e - 0x21)
    }) == 0
}

/// Length of a leading `scheme://` (RFC 3986 scheme syntax) or `//`, as
/// [`crate::canonical`] strips it.
fn scheme_len(s: &[u8]) -> usize {
    if s.first().is_some_and(u8::is_ascii_alphabetic) {
        let end = s
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
            .unwrap_or(s.len());
        if s.get(end..).is_some_and(|r| r.starts_with(b"://")) {
            return end + 3;
        }
    }
    if s.starts_with(b"//") { 2 } else { 0 }
}

/// Host byte classes for the fast path: bytes UTS #46 maps to themselves (`a-z 0-9 - _`), the
/// label separator, the bytes that end the authority (`/ ? #`), and everything else (0).
const HOST: u8 = 1;
const DOT: u8 = 2;
const END: u8 = 3;
static HOST_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => HOST,
            b'.' => DOT,
            b'/' | b'?' | b'#' => END,
            _ => 0,
        };
        b += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(line: &str) -> (Parsed, Vec<String>) {
        let mut out = Vec::new();
        let p = Canonicalizer::new().parse_line(line.as_bytes(), |e| {
            out.push(String::from_utf8(e.to_vec()).unwrap());
        });
        (p, out)
    }

    #[test]
    fn plain_lines_take_the_fast_path() {
        let mut c = Canonicalizer::new();
        for (line, want) in [
            (
                "https://host1.example.org/path/1",
                "host1.example.org/path/1",
            ),
            ("www.www.example.com/a?q=1#f", "example.com/a?q=1"),
            ("  example.com.//a//b/?  ", "example.com/a/b"),
            ("ex_ample.com?", "ex_ample.com"),
            ("www.", "www"),
        ] {
            assert!(
                matches!(
                    c.plain(line.as_bytes()),
                    Some(Plain::Slice(_) | Plain::Buffer)
                ),
                "{line}"
            );
            assert_eq!(entries(line), (Parsed::Entries(1), vec![want.to_owned()]));
        }
    }

    #[test]
    fn other_lines_fall_back() {
        let mut c = Canonicalizer::new();
        for line in [
            "Example.com",
            "example.com/A",
            "example.com/%41",
            "u@example.com",
            "example.com:443",
            "xn--bcher-kva.de",
            "a.xn--p1ai",
            "bücher.de",
            "www.apple.com/url-filter-test",
            "*.example.com",
            "a b",
            ".example.com",
            "https://",
        ] {
            assert!(c.plain(line.as_bytes()).is_none(), "{line}");
        }
        assert_eq!(
            entries("www.apple.com/url-filter-test").1,
            ["apple.com/url-filter-test", "www.apple.com/url-filter-test"]
        );
        assert_eq!(entries("https://").0, Parsed::Rejected(Rejection::NoHost));
        assert_eq!(entries(" # c").0, Parsed::Skip);
    }
}
