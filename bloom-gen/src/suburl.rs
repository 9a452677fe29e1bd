//! The strings a device derives from a URL being loaded, each tested against the Bloom filter
//! (spec/bloom-prefilter.md §4a for iOS/macOS 26, §4b for the iOS/macOS 27 default parser).
//!
//! Used by `bloom-gen check` and by the device simulator. The iOS 26 rules follow the decompiled
//! `NEURLParser +matchingStringsForURL:` step by step, quirks included (every `www.` substring is
//! removed for the "bare" host; the `?query/` form; the bare TLD; the raw string after `://`). The
//! iOS 27 rules follow Apple's documentation of the default `ParsingConfiguration` (medium
//! confidence, spec §7 item 3): lowercase, one leading `www.` stripped, every parent domain but
//! the TLD, path hierarchy with and without trailing `/`, query, fragment, and the whole set again
//! with the explicit (or scheme-default) port.
//!
//! ```
//! use bloom_gen::{Os, sub_urls};
//! let subs = sub_urls("https://www.example.com/a/b/c?id=123#fragment", Os::Ios26).unwrap();
//! assert_eq!(subs.len(), 26);
//! assert!(subs.iter().any(|s| s == "example.com/a/b"));
//! ```

use crate::Error;

/// Which device parser to emulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Os {
    /// iOS/macOS 26.x (`NEURLParser`), spec §4a.
    #[default]
    Ios26,
    /// iOS/macOS 27 with the default `ParsingConfiguration`, spec §4b.
    Ios27,
}

/// The parts of an absolute URL, after the system has Punycoded the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlParts {
    /// Scheme, lowercased.
    pub scheme: String,
    /// Host, Punycoded (IDNA lowercases it, as WebKit's URL parser does).
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// Path as written (still percent-encoded), may be empty.
    pub path: String,
    /// Query without `?`, if a `?` is present.
    pub query: Option<String>,
    /// Fragment without `#`, if a `#` is present.
    pub fragment: Option<String>,
    /// The URL string the system passes (Punycoded host) with everything up to `://` removed.
    pub after_scheme: String,
}

/// Splits an absolute `scheme://authority/path?query#fragment` URL the way NSURL does for the
/// parts the device uses.
pub fn parse_url(url: &str) -> Result<UrlParts, Error> {
    let url = url.trim();
    if let Some(c) = url.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::Url(format!(
            "URL contains {c:?}; the system would not load it"
        )));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(Error::Url(format!(
            "{url:?} has no scheme; the device sees absolute URLs"
        )));
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (raw_host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !hostport.ends_with(']') => {
            let port = if p.is_empty() {
                None
            } else {
                Some(
                    p.parse::<u16>()
                        .map_err(|_| Error::Url(format!("invalid port {p:?}")))?,
                )
            };
            (h, port)
        }
        _ => (hostport, None),
    };
    if raw_host.is_empty() {
        return Err(Error::Url(
            "no host: the device fails the load ('failed to parse url')".into(),
        ));
    }
    let host = idna::domain_to_ascii_cow(raw_host.as_bytes(), idna::AsciiDenyList::URL)
        .map_err(|_| Error::Url(format!("invalid host {raw_host:?}")))?
        .into_owned();
    let (before_frag, fragment) = match tail.split_once('#') {
        Some((b, f)) => (b, Some(f.to_owned())),
        None => (tail, None),
    };
    let (path, query) = match before_frag.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (before_frag, None),
    };
    let mut after_scheme = String::with_capacity(rest.len());
    if let Some(u) = userinfo {
        after_scheme.push_str(u);
        after_scheme.push('@');
    }
    after_scheme.push_str(&host);
    after_scheme.push_str(&hostport[raw_host.len()..]);
    after_scheme.push_str(tail);
    Ok(UrlParts {
        scheme: scheme.to_ascii_lowercase(),
        host,
        port,
        path: path.to_owned(),
        query,
        fragment,
        after_scheme,
    })
}

/// The sub-URL strings the device derives for `url`, in generation order, without duplicates.
pub fn sub_urls(url: &str, os: Os) -> Result<Vec<String>, Error> {
    let parts = parse_url(url)?;
    Ok(match os {
        Os::Ios26 => ios26(&parts),
        Os::Ios27 => ios27(&parts),
    })
}

/// An insertion-ordered set (the device uses an `NSMutableSet`; order is ours, for display).
#[derive(Default)]
struct Out(Vec<String>);

impl Out {
    fn add(&mut self, s: String) {
        if !self.0.contains(&s) {
            self.0.push(s);
        }
    }
    /// `s` and, unless it already ends in `/`, `s/`.
    fn add_both(&mut self, s: &str) {
        self.add(s.to_owned());
        if !s.ends_with('/') {
            self.add(format!("{s}/"));
        }
    }
}

fn ios26(u: &UrlParts) -> Vec<String> {
    let mut out = Out::default();
    let w = if u.host.starts_with("www.") {
        u.host.clone()
    } else {
        format!("www.{}", u.host)
    };
    // Step 2: every dot-suffix of W, including the bare TLD.
    let labels: Vec<&str> = w.split('.').collect();
    for i in 0..labels.len() {
        out.add_both(&labels[i..].join("."));
    }
    // Step 3: B = W with every "www." removed.
    let b = w.replace("www.", "");
    out.add_both(&b);
    // Step 4: path components appended to both B and W.
    let (mut b, mut w) = (b, w);
    for comp in path_components(&u.path) {
        b = append_path_component(&b, &comp);
        w = append_path_component(&w, &comp);
        out.add(b.clone());
        out.add(w.clone());
        for s in [&b, &w] {
            if !s.ends_with('/') {
                out.add(format!("{s}/"));
            }
        }
    }
    // Steps 5–6: `?query` then `#fragment`, each with a `/`-suffixed form.
    let mut tail_forms = |b: &mut String, w: &mut String, sep: char, part: &Option<String>| {
        if let Some(p) = part {
            *b = format!("{b}{sep}{p}");
            *w = format!("{w}{sep}{p}");
            out.add(b.clone());
            out.add(w.clone());
            for s in [&*b, &*w] {
                if !s.ends_with('/') {
                    out.add(format!("{s}/"));
                }
            }
        }
    };
    tail_forms(&mut b, &mut w, '?', &u.query);
    tail_forms(&mut b, &mut w, '#', &u.fragment);
    // Step 7: the string after "://", raw.
    out.add(u.after_scheme.clone());
    out.0
}

/// NSURL `pathComponents`: `/` first for an absolute path, then the non-empty segments,
/// percent-decoded (kept raw if they do not decode to UTF-8).
fn path_components(path: &str) -> Vec<String> {
    let mut comps = Vec::new();
    if path.starts_with('/') {
        comps.push("/".to_owned());
    }
    comps.extend(
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode),
    );
    comps
}

/// NSString `stringByAppendingPathComponent:`: join with `/`, collapse `/` runs, drop a
/// trailing `/`.
fn append_path_component(base: &str, comp: &str) -> String {
    let joined = format!("{base}/{comp}");
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" => 80,
        "https" => 443,
        "ftp" => 21,
        "ftps" => 990,
        "ssh" => 22,
        "telnet" => 23,
        _ => return None,
    })
}

fn ios27(u: &UrlParts) -> Vec<String> {
    let mut out = Out::default();
    let host = u.host.to_ascii_lowercase();
    let host = host
        .strip_prefix("www.")
        .filter(|h| !h.is_empty())
        .unwrap_or(&host);
    let labels: Vec<&str> = host.split('.').collect();
    let levels = labels.len().saturating_sub(1).max(1);
    let domains: Vec<String> = (0..levels).map(|i| labels[i..].join(".")).collect();
    let segments: Vec<String> = u
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let port = u.port.or_else(|| default_port(&u.scheme));
    let mut hosts: Vec<String> = domains.clone();
    if let Some(p) = port {
        hosts.extend(domains.iter().map(|d| format!("{d}:{p}")));
    }
    for h in hosts {
        let mut cur = h;
        out.add_both(&cur);
        for seg in &segments {
            cur = format!("{cur}/{seg}");
            out.add_both(&cur);
        }
        let bases = match &u.query {
            Some(q) => {
                let forms = [format!("{cur}?{q}"), format!("{cur}/?{q}")];
                for f in &forms {
                    out.add(f.clone());
                }
                forms
            }
            None => [cur.clone(), format!("{cur}/")],
        };
        if let Some(f) = &u.fragment {
            for b in &bases {
                out.add(format!("{b}#{f}"));
            }
        }
    }
    out.0
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .fold(Vec::new(), |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ios26_matches_apple_doc_list_plus_tld() {
        let subs = sub_urls("https://www.example.com/a/b/c?id=123#fragment", Os::Ios26).unwrap();
        let expected = [
            "www.example.com",
            "www.example.com/",
            "example.com",
            "example.com/",
            "com",
            "com/",
            "example.com/a",
            "www.example.com/a",
            "example.com/a/",
            "www.example.com/a/",
            "example.com/a/b",
            "www.example.com/a/b",
            "example.com/a/b/",
            "www.example.com/a/b/",
            "example.com/a/b/c",
            "www.example.com/a/b/c",
            "example.com/a/b/c/",
            "www.example.com/a/b/c/",
            "example.com/a/b/c?id=123",
            "www.example.com/a/b/c?id=123",
            "example.com/a/b/c?id=123/",
            "www.example.com/a/b/c?id=123/",
            "example.com/a/b/c?id=123#fragment",
            "www.example.com/a/b/c?id=123#fragment",
            "example.com/a/b/c?id=123#fragment/",
            "www.example.com/a/b/c?id=123#fragment/",
        ];
        assert_eq!(subs, expected);
    }

    #[test]
    fn ios26_quirks() {
        let subs = sub_urls("http://u:p@a.www.example.com:8080/x%41//y/", Os::Ios26).unwrap();
        assert!(subs.contains(&"a.example.com/xA/y".to_owned()));
        assert!(subs.contains(&"www.a.www.example.com/xA".to_owned()));
        assert!(subs.contains(&"www.example.com".to_owned()));
        assert_eq!(subs.last().unwrap(), "u:p@a.www.example.com:8080/x%41//y/");
        assert!(
            !subs
                .iter()
                .any(|s| s.contains("8080") && s != subs.last().unwrap())
        );
    }

    #[test]
    fn ios27_matches_apple_doc_count() {
        let subs = sub_urls(
            "https://www.sub1.example.com/a/b/c?id=123#fragment",
            Os::Ios27,
        )
        .unwrap();
        assert_eq!(subs.len(), 48, "{subs:#?}");
        for s in [
            "example.com",
            "sub1.example.com/a/b/",
            "example.com/a/b/c/?id=123",
            "sub1.example.com:443/a/b/c?id=123#fragment",
        ] {
            assert!(subs.contains(&s.to_owned()), "{s}");
        }
        assert!(!subs.iter().any(|s| s.starts_with("www.") || s == "com"));
    }

    #[test]
    fn punycodes_host_and_refuses_relative() {
        let subs = sub_urls("https://Bücher.de/", Os::Ios26).unwrap();
        assert!(subs.contains(&"xn--bcher-kva.de".to_owned()));
        assert!(sub_urls("example.com/a", Os::Ios26).is_err());
        assert!(sub_urls("https:///a", Os::Ios26).is_err());
    }
}
