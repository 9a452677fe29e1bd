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
    /// rejection of any kind).
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
        let after = line.get(rest..)?;
        let auth_len = memchr::memchr3(b'/', b'?', b'#', after).unwrap_or(after.len());
        let mut host = line.get(rest..rest + auth_len)?;
        let dotted = host.last() == Some(&b'.');
        if dotted {
            host = host.get(..host.len() - 1)?;
        }
        if !is_plain_lowercase_host(host) {
            return None;
        }
        let mut host_start = rest;
        while let Some(h) = host.strip_prefix(b"www.") {
            host = h;
            host_start += 4;
        }
        let tail_start = rest + auth_len;
        let tail_end = base + s.len();
        let tail = line.get(tail_start..tail_end)?;
        let tail = match memchr::memchr(b'#', tail) {
            Some(i) => tail.get(..i)?,
            None => tail,
        };
        if tail.iter().any(|&b| b.is_ascii_uppercase() || b == b'%') {
            return None;
        }
        let (path, query) = match memchr::memchr(b'?', tail) {
            Some(i) => (tail.get(..i)?, tail.get(i + 1..)?),
            None => (tail, &[][..]),
        };
        let path_ok = !path.ends_with(b"/") && memchr::memmem::find(path, b"//").is_none();
        let end = if query.is_empty() {
            tail_start + path.len()
        } else {
            tail_start + tail.len()
        };
        let out = if !dotted && path_ok {
            Plain::Slice(host_start..end)
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

/// A host UTS #46 maps to itself and the DNS length rules accept: only `a-z 0-9 - _ .`, labels of
/// 1 to 63 bytes, at most 253 bytes, no label starting with `xn--`.
fn is_plain_lowercase_host(host: &[u8]) -> bool {
    if host.is_empty() || host.len() > MAX_HOST_BYTES {
        return false;
    }
    let mut label_len = 0usize;
    for (i, &b) in host.iter().enumerate() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {
                if label_len == 0 && b == b'x' && host.get(i..i + 4) == Some(b"xn--") {
                    return false;
                }
                label_len += 1;
                if label_len > MAX_LABEL_BYTES {
                    return false;
                }
            }
            b'.' => {
                if label_len == 0 {
                    return false;
                }
                label_len = 0;
            }
            _ => return false,
        }
    }
    label_len > 0
}

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
