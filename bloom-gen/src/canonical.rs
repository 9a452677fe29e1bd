//! The canonical form of blocklist entries (spec/bloom-prefilter.md §4c): the one function that
//! decides which strings go into both the Bloom filter and the PIR keyword database.
//!
//! A blocklist line becomes one or more [`CanonicalEntry`] strings:
//!
//! 1. Surrounding whitespace is trimmed; blank lines and lines starting with `#` are skipped
//!    ([`parse_line`]).
//! 2. The scheme (`https://`, or a bare `//`), userinfo (`user:pw@`), port (`:8443`) and
//!    fragment (`#…`) are dropped — the device never derives strings containing them.
//! 3. The host is IDNA-mapped and Punycoded (UTS #46, as WHATWG URL does), which also lowercases
//!    it; one trailing `.` is dropped; leading `www.` labels are removed (one, repeated while the
//!    host still starts with `www.`, so the result is a fixed point).
//! 4. The path is kept as written except that runs of `/` collapse to one and a trailing `/` is
//!    dropped (the device derives both slash forms and never an empty segment); a non-empty
//!    `?query` is kept exactly.
//! 5. **Variants** (spec §4c): iOS 27 matches case-insensitively and iOS 26 percent-decodes path
//!    segments, so besides the entry as written (the *primary*) the set also holds the
//!    all-lowercase form and the form with `%XX` escapes in the path decoded — every combination,
//!    at most five strings. Only escapes of printable ASCII other than `%`, `?`, `#` and space are
//!    decoded, so every variant is itself canonical.
//!
//! Lines that can never match a device lookup are rejected with a [`Rejection`] that says why:
//! no host, a host IDNA refuses, wildcards, whitespace or control characters, non-ASCII path or
//! query (the device hashes bytes, spec §7 item 1), IPv6 literals, or more than
//! [`MAX_ENTRY_BYTES`].
//!
//! 6. One exception: the line for Apple's onboarding test keyword [`ONBOARDING_KEYWORD`] also
//!    keeps that exact string (`www.` included), which Apple's validation fetches.
//!
//! The set is closed: canonicalizing the primary yields it again as primary, and canonicalizing
//! any entry of the set yields a subset of the same set that contains that entry
//! (property-tested).
//!
//! Known limit: a path entry under a host with `www.` *inside* it (`a.www.example.com/x`) only
//! matches on iOS 27; iOS 26 combines paths with the host minus every `www.` (spec §4a step 3).

use std::fmt;

/// Longest entry accepted, in bytes. Servers refuse longer request lines (HTTP 414), so such a
/// URL is never loaded.
pub const MAX_ENTRY_BYTES: usize = 8192;

/// Longest host after Punycode (DNS limit, RFC 1035).
pub const MAX_HOST_BYTES: usize = 253;

/// Longest DNS label (RFC 1035).
pub const MAX_LABEL_BYTES: usize = 63;

/// One string exactly as the device hashes it and as the PIR database stores it as a keyword.
///
/// Only this module constructs it (through [`canonicalize`]), so every Bloom entry and every PIR
/// keyword built from one went through the same rules.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CanonicalEntry(String);

impl CanonicalEntry {
    /// The entry.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The entry's bytes (ASCII), what is hashed.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The owned string.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for CanonicalEntry {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CanonicalEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The canonical entries of one blocklist line: the primary form first, then its variants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canonical {
    entries: Vec<CanonicalEntry>,
}

impl Canonical {
    /// The entry as written (host canonicalized, path kept).
    #[must_use]
    pub fn primary(&self) -> &CanonicalEntry {
        // `entries` is never empty: `canonicalize` always pushes the primary first.
        &self.entries[0]
    }

    /// All entries, primary first; 1 to 5 distinct strings.
    #[must_use]
    pub fn entries(&self) -> &[CanonicalEntry] {
        &self.entries
    }

    /// Consumes into the entries, primary first.
    #[must_use]
    pub fn into_entries(self) -> Vec<CanonicalEntry> {
        self.entries
    }
}

impl IntoIterator for Canonical {
    type Item = CanonicalEntry;
    type IntoIter = std::vec::IntoIter<CanonicalEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Why a line can never match a device lookup.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The line is not valid UTF-8.
    #[error("not valid UTF-8")]
    InvalidUtf8,
    /// A control character (including NUL and DEL).
    #[error("control character U+{0:04X}")]
    ControlCharacter(u32),
    /// Whitespace inside the line.
    #[error(
        "whitespace inside the entry (hosts-file lines such as '0.0.0.0 example.com' are not URLs)"
    )]
    Whitespace,
    /// Longer than [`MAX_ENTRY_BYTES`].
    #[error("{0} bytes long; the limit is {MAX_ENTRY_BYTES}")]
    TooLong(usize),
    /// No host (e.g. a bare path or `https://`).
    #[error("no host")]
    NoHost,
    /// `*`: the device matches exact strings only; a bare host already covers its subdomains.
    #[error("wildcards are not supported (a bare host entry already matches all its subdomains)")]
    Wildcard,
    /// `[::1]`-style hosts.
    #[error("IPv6 literal hosts are not supported")]
    Ipv6,
    /// A port that is not a number in 0..=65535.
    #[error("invalid port {0:?}")]
    InvalidPort(String),
    /// IDNA refused the host, or it breaks DNS length rules.
    #[error("invalid host {host:?}: {reason}")]
    InvalidHost {
        /// The host as written.
        host: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Non-ASCII in the path or query (the host is Punycoded; the rest is hashed as bytes).
    #[error("non-ASCII character in the path or query (percent-encode it)")]
    NonAscii,
}

impl Rejection {
    /// A short stable name for the kind of rejection (for summaries).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::InvalidUtf8 => "invalid UTF-8",
            Rejection::ControlCharacter(_) => "control character",
            Rejection::Whitespace => "whitespace",
            Rejection::TooLong(_) => "over-long",
            Rejection::NoHost => "no host",
            Rejection::Wildcard => "wildcard",
            Rejection::Ipv6 => "IPv6 literal",
            Rejection::InvalidPort(_) => "invalid port",
            Rejection::InvalidHost { .. } => "invalid host",
            Rejection::NonAscii => "non-ASCII path or query",
        }
    }
}

/// What one input line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Blank or a `#` comment.
    Skip,
    /// Canonical entries.
    Entries(Canonical),
    /// A line that can never match.
    Rejected(Rejection),
}

/// Classifies one line of a blocklist (without its line terminator; a trailing `\r` is
/// tolerated) and canonicalizes it. This is the whole per-line rule the binary applies.
#[must_use]
pub fn parse_line(line: &[u8]) -> Line {
    let Ok(text) = std::str::from_utf8(line) else {
        return Line::Rejected(Rejection::InvalidUtf8);
    };
    let text = trim(text);
    if text.is_empty() || text.starts_with('#') {
        return Line::Skip;
    }
    match canonicalize(text) {
        Ok(c) => Line::Entries(c),
        Err(r) => Line::Rejected(r),
    }
}

fn trim(s: &str) -> &str {
    s.trim_start_matches('\u{feff}')
        .trim_matches(|c: char| c.is_ascii_whitespace())
}

/// Canonicalizes one blocklist entry (a URL, or a host with optional path and query).
///
/// ```
/// let c = bloom_gen::canonicalize("https://user@WWW.Example.com:8443/Path/?q=1#top").unwrap();
/// let all: Vec<&str> = c.entries().iter().map(|e| e.as_str()).collect();
/// assert_eq!(all, ["example.com/Path?q=1", "example.com/path?q=1"]);
/// assert_eq!(bloom_gen::canonicalize("bücher.de").unwrap().primary().as_str(), "xn--bcher-kva.de");
/// ```
pub fn canonicalize(input: &str) -> Result<Canonical, Rejection> {
    let s = trim(input);
    if s.len() > MAX_ENTRY_BYTES {
        return Err(Rejection::TooLong(s.len()));
    }
    check_chars(s)?;
    let rest = strip_scheme(s);
    let auth_end = memchr::memchr3(b'/', b'?', b'#', rest.as_bytes()).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let host = canonical_host(authority)?;

    let tail = match memchr::memchr(b'#', tail.as_bytes()) {
        Some(i) => &tail[..i],
        None => tail,
    };
    let (path, query) = match memchr::memchr(b'?', tail.as_bytes()) {
        Some(i) => (&tail[..i], Some(&tail[i + 1..])),
        None => (tail, None),
    };
    if !path.is_ascii() || !query.is_none_or(str::is_ascii) {
        return Err(Rejection::NonAscii);
    }
    let mut primary =
        String::with_capacity(host.len() + path.len() + query.map_or(0, |q| q.len() + 1));
    primary.push_str(&host);
    push_path(&mut primary, path);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        primary.push('?');
        primary.push_str(q);
    }
    if primary.len() > MAX_ENTRY_BYTES {
        return Err(Rejection::TooLong(primary.len()));
    }
    let mut entries = variants(primary);
    if entries[0].0 == ONBOARDING_CANONICAL {
        entries.push(CanonicalEntry(ONBOARDING_KEYWORD.to_owned()));
    }
    Ok(Canonical { entries })
}

/// Apple's onboarding test keyword: Apple validates a deployment by fetching exactly this string
/// from the PIR service (apple/pir-service-example `Onboarding.md`, checklist item 3), so the
/// canonical set of that line keeps it, `www.` and all, next to the stripped form.
pub const ONBOARDING_KEYWORD: &str = "www.apple.com/url-filter-test";

pub(crate) const ONBOARDING_CANONICAL: &str = "apple.com/url-filter-test";

/// No control characters, no whitespace (ASCII fast path).
fn check_chars(s: &str) -> Result<(), Rejection> {
    if s.is_ascii() {
        return match s.bytes().find(|&b| b <= b' ' || b == 0x7f) {
            Some(b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ') => Err(Rejection::Whitespace),
            Some(b) => Err(Rejection::ControlCharacter(u32::from(b))),
            None => Ok(()),
        };
    }
    for c in s.chars() {
        if c.is_control() && !c.is_whitespace() {
            return Err(Rejection::ControlCharacter(u32::from(c)));
        }
        if c.is_whitespace() {
            return Err(Rejection::Whitespace);
        }
    }
    Ok(())
}

/// Drops `scheme://` (RFC 3986 scheme syntax) or a leading `//`.
fn strip_scheme(s: &str) -> &str {
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_alphabetic) {
        let end = b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
            .unwrap_or(b.len());
        if b[end..].starts_with(b"://") {
            return &s[end + 3..];
        }
    }
    s.strip_prefix("//").unwrap_or(s)
}

/// Userinfo and port dropped, IDNA/Punycode (lowercases), trailing dot and leading `www.` gone.
fn canonical_host(authority: &str) -> Result<String, Rejection> {
    let hostport = match memchr::memrchr(b'@', authority.as_bytes()) {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    if hostport.starts_with('[') {
        return Err(Rejection::Ipv6);
    }
    let host = match memchr::memrchr(b':', hostport.as_bytes()) {
        Some(i) => {
            let port = &hostport[i + 1..];
            let valid = port.is_empty()
                || (port.len() <= 5
                    && port.bytes().all(|b| b.is_ascii_digit())
                    && port.parse::<u32>().is_ok_and(|p| p <= 65535));
            if !valid {
                return Err(Rejection::InvalidPort(port.to_owned()));
            }
            &hostport[..i]
        }
        None => hostport,
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err(Rejection::NoHost);
    }
    if host.contains('*') {
        return Err(Rejection::Wildcard);
    }
    let invalid = |reason| Rejection::InvalidHost {
        host: host.to_owned(),
        reason,
    };
    let ascii = to_ascii(host).ok_or_else(|| invalid("IDNA (UTS #46) refuses it"))?;
    if !ascii.is_ascii() {
        return Err(invalid("not ASCII after Punycode"));
    }
    if ascii.len() > MAX_HOST_BYTES {
        return Err(invalid("longer than 253 bytes"));
    }
    if ascii
        .split('.')
        .any(|l| l.is_empty() || l.len() > MAX_LABEL_BYTES)
    {
        return Err(invalid("empty label or label longer than 63 bytes"));
    }
    let mut h: &str = &ascii;
    while let Some(rest) = h.strip_prefix("www.") {
        h = rest;
    }
    Ok(h.to_owned())
}

/// UTS #46 ToASCII as WHATWG URL applies it. Hosts made only of lowercase ASCII letters, digits,
/// `-`, `_` and `.`, with no `xn--` label, map to themselves, so they skip the full algorithm (the
/// property tests check this shortcut against `idna`).
fn to_ascii(host: &str) -> Option<std::borrow::Cow<'_, str>> {
    if is_plain_ascii_host(host) {
        return Some(std::borrow::Cow::Borrowed(host));
    }
    idna::domain_to_ascii_cow(host.as_bytes(), idna::AsciiDenyList::URL).ok()
}

/// The shortcut's condition (public to the crate for the property test).
pub(crate) fn is_plain_ascii_host(host: &str) -> bool {
    host.bytes()
        .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.'))
        && !host.starts_with("xn--")
        && memchr::memmem::find(host.as_bytes(), b".xn--").is_none()
}

/// Appends `path` with `/` runs collapsed and any trailing `/` dropped.
fn push_path(out: &mut String, path: &str) {
    if !path.ends_with('/') && memchr::memmem::find(path.as_bytes(), b"//").is_none() {
        // Already normalized (empty, or `/a/b`): no split needed.
        if path.is_empty() || path.starts_with('/') {
            out.push_str(path);
            return;
        }
    }
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
}

/// The primary form plus its closure under lowercasing and path percent-decoding.
fn variants(primary: String) -> Vec<CanonicalEntry> {
    let mut out = vec![CanonicalEntry(primary)];
    let mut i = 0;
    while let Some(e) = out.get(i) {
        let e = e.as_str();
        let lower = (e.bytes().any(|b| b.is_ascii_uppercase())).then(|| e.to_ascii_lowercase());
        let decoded = decode_path(e);
        for s in [lower, decoded].into_iter().flatten() {
            if !out.iter().any(|x| x.0 == s) {
                out.push(CanonicalEntry(s));
            }
        }
        i += 1;
    }
    out
}

/// Decodes `%XX` escapes of printable ASCII (except `%`, `?`, `#`, space) in the path part of a
/// canonical entry and re-normalizes its slashes; `None` if nothing changes.
fn decode_path(entry: &str) -> Option<String> {
    memchr::memchr(b'%', entry.as_bytes())?;
    let path_start = entry.find('/')?;
    let path_end = entry.find('?').unwrap_or(entry.len());
    if path_end < path_start {
        return None;
    }
    let (head, rest) = entry.split_at(path_start);
    let (path, query) = rest.split_at(path_end - path_start);
    if !path.contains('%') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut decoded = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(v) = bytes.get(i + 1..i + 3).and_then(hex_byte)
            && (0x21..=0x7e).contains(&v)
            && !matches!(v, b'%' | b'?' | b'#')
        {
            decoded.push(char::from(v));
            i += 3;
            continue;
        }
        decoded.push(char::from(b));
        i += 1;
    }
    let mut out = String::with_capacity(entry.len());
    out.push_str(head);
    push_path(&mut out, &decoded);
    out.push_str(query);
    (out != entry).then_some(out)
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let s = std::str::from_utf8(two).ok()?;
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u8::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &str) -> Vec<String> {
        canonicalize(s)
            .unwrap()
            .into_iter()
            .map(CanonicalEntry::into_string)
            .collect()
    }

    #[test]
    fn strips_scheme_userinfo_port_fragment_www_and_trailing_slash() {
        assert_eq!(
            all("https://user:pw@www.example.com:8443/a/b/#frag"),
            ["example.com/a/b"]
        );
        assert_eq!(all("//example.com/"), ["example.com"]);
        assert_eq!(all("www.www.example.com"), ["example.com"]);
        assert_eq!(all("example.com."), ["example.com"]);
        assert_eq!(all("www"), ["www"]);
        assert_eq!(all("example.com:"), ["example.com"]);
        assert_eq!(all("example.com//a///b//"), ["example.com/a/b"]);
    }

    #[test]
    fn keeps_query_and_drops_empty_query() {
        assert_eq!(all("example.com/?q=1"), ["example.com?q=1"]);
        assert_eq!(all("example.com/a/?q=1&r=/x/"), ["example.com/a?q=1&r=/x/"]);
        assert_eq!(all("example.com/a?"), ["example.com/a"]);
        assert_eq!(all("example.com?q#f"), ["example.com?q"]);
    }

    #[test]
    fn idna_punycodes_and_lowercases_host() {
        assert_eq!(
            all("BÜCHER.de/X"),
            ["xn--bcher-kva.de/X", "xn--bcher-kva.de/x"]
        );
        assert_eq!(all("xn--bcher-kva.de"), ["xn--bcher-kva.de"]);
    }

    #[test]
    fn variants_lowercase_and_decode() {
        assert_eq!(
            all("example.com/A%41"),
            [
                "example.com/A%41",
                "example.com/a%41",
                "example.com/AA",
                "example.com/aA",
                "example.com/aa"
            ]
        );
        // %20, %25, %3F, %23 and non-ASCII escapes stay encoded.
        assert_eq!(
            all("example.com/a%20b%25%3f%23%C3%BC"),
            [
                "example.com/a%20b%25%3f%23%C3%BC",
                "example.com/a%20b%25%3f%23%c3%bc"
            ]
        );
        // %2F decodes to a slash and the path is re-normalized.
        assert_eq!(
            all("example.com/a%2F%2fb%2F"),
            [
                "example.com/a%2F%2fb%2F",
                "example.com/a%2f%2fb%2f",
                "example.com/a/b"
            ]
        );
        // The query is never decoded.
        assert_eq!(all("example.com/x?a=%41"), ["example.com/x?a=%41"]);
    }

    #[test]
    fn rejections() {
        let r = |s: &str| canonicalize(s).unwrap_err();
        assert_eq!(r("https://"), Rejection::NoHost);
        assert_eq!(r("/just/a/path"), Rejection::NoHost);
        assert_eq!(r("*.example.com"), Rejection::Wildcard);
        assert_eq!(r("0.0.0.0 example.com"), Rejection::Whitespace);
        assert_eq!(r("exa\u{0}mple.com"), Rejection::ControlCharacter(0));
        assert_eq!(r("http://[::1]/"), Rejection::Ipv6);
        assert_eq!(r("example.com:http"), Rejection::InvalidPort("http".into()));
        assert_eq!(
            r("example.com:70000"),
            Rejection::InvalidPort("70000".into())
        );
        assert_eq!(r("example.com/ü"), Rejection::NonAscii);
        assert!(matches!(r("exa<mple.com"), Rejection::InvalidHost { .. }));
        assert!(matches!(r(".example.com"), Rejection::InvalidHost { .. }));
        assert!(matches!(
            r(&format!("{}.com", "a".repeat(64))),
            Rejection::InvalidHost { .. }
        ));
        assert_eq!(
            r(&format!("example.com/{}", "a".repeat(MAX_ENTRY_BYTES))),
            Rejection::TooLong(MAX_ENTRY_BYTES + 12)
        );
    }

    #[test]
    fn lines() {
        assert_eq!(parse_line(b""), Line::Skip);
        assert_eq!(parse_line(b"   \r"), Line::Skip);
        assert_eq!(parse_line(b"# comment"), Line::Skip);
        assert_eq!(
            parse_line(b"\xff\xfe"),
            Line::Rejected(Rejection::InvalidUtf8)
        );
        assert!(matches!(
            parse_line(b"\xef\xbb\xbfexample.com\r"),
            Line::Entries(_)
        ));
    }
}
