//! The exact target allow-list: inner authority → fixed upstream (RFC 9458 §6.3, §6.10; spec
//! §1.7). No DNS of client-supplied names; anything not listed is refused before forwarding.

use std::collections::BTreeMap;

use crate::error::GatewayError;

/// A fixed upstream: `http://host:port` or `https://host:port` plus an optional base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    origin: String,
    base_path: String,
}

impl Upstream {
    /// Parses an upstream base URL such as `http://127.0.0.1:8080`, `http://pir:80/v1` or
    /// `https://pir.internal` (TLS to the upstream, verified against the forwarder's roots).
    pub fn parse(url: &str) -> Result<Self, GatewayError> {
        let bad = |why: &str| GatewayError::Config(format!("upstream {url:?}: {why}"));
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest)
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains(['@', '?', '#']) {
            return Err(bad("bad authority"));
        }
        authority
            .parse::<http::uri::Authority>()
            .map_err(|_| bad("bad authority"))?;
        Ok(Self {
            origin: format!("{scheme}://{authority}"),
            base_path: path.trim_end_matches('/').to_owned(),
        })
    }

    /// `scheme://host:port`, the unit of connection pooling.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The URL to send an inner request with this path and query to.
    #[must_use]
    pub fn url_for(&self, path_and_query: &str) -> String {
        format!("{}{}{}", self.origin, self.base_path, path_and_query)
    }
}

/// Public authority (as the device names it) → upstream.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    targets: BTreeMap<String, Upstream>,
}

impl AllowList {
    /// Builds from `(authority, upstream URL)` pairs; authorities are matched case-insensitively.
    pub fn new<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, GatewayError> {
        let mut targets = BTreeMap::new();
        for (host, url) in pairs {
            let host = host.trim().to_ascii_lowercase();
            if host.is_empty() || host.contains(['/', '@', ':']) {
                return Err(GatewayError::Config(format!(
                    "target host {host:?} must be a bare host name"
                )));
            }
            if targets
                .insert(host.clone(), Upstream::parse(url)?)
                .is_some()
            {
                return Err(GatewayError::Config(format!(
                    "target {host:?} listed twice"
                )));
            }
        }
        Ok(Self { targets })
    }

    /// The configured upstreams.
    pub fn upstreams(&self) -> impl Iterator<Item = &Upstream> {
        self.targets.values()
    }

    /// Number of targets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether no target is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The upstream for an inner authority; an explicit `:443` is the same origin, any other
    /// port is not allowed.
    pub fn resolve(&self, authority: &str) -> Result<&Upstream, GatewayError> {
        let lower = authority.to_ascii_lowercase();
        let host = lower.strip_suffix(":443").unwrap_or(&lower);
        self.targets.get(host).ok_or(GatewayError::TargetForbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_only() {
        let list = AllowList::new([("Service.Example.net", "http://127.0.0.1:9/base/")]).unwrap();
        let up = list.resolve("service.example.net:443").unwrap();
        assert_eq!(
            up.url_for("/queries?x=1"),
            "http://127.0.0.1:9/base/queries?x=1"
        );
        assert!(list.resolve("SERVICE.example.net").is_ok());
        for bad in [
            "evil.example.net",
            "service.example.net:8443",
            "x.service.example.net",
            "",
        ] {
            assert!(
                matches!(list.resolve(bad), Err(GatewayError::TargetForbidden)),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_bad_config() {
        assert!(AllowList::new([("a", "ftp://x")]).is_err());
        assert!(AllowList::new([("a", "https://")]).is_err());
        let tls = AllowList::new([("a", "https://pir.internal:8443/v1")]).unwrap();
        assert_eq!(
            tls.resolve("a").unwrap().url_for("/q"),
            "https://pir.internal:8443/v1/q"
        );
        assert!(AllowList::new([("a:1", "http://x")]).is_err());
        assert!(AllowList::new([("a", "http://x"), ("A", "http://y")]).is_err());
        assert!(AllowList::new([("a", "http://")]).is_err());
    }
}
