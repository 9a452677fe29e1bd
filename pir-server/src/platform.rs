//! The client platform, parsed from `User-Agent` (pir-protocol.md §1.3), and the features each
//! platform supports (§1.4.2).
//!
//! Apple's service matches the whole header against an iOS pattern first, then a macOS one; a
//! header that matches neither means "no platform", which disables compatibility rewriting.

use std::sync::LazyLock;

use regex::Regex;

/// An operating system whose configs may need rewriting for old releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Ios,
    MacOs,
}

/// A parsed client platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    pub os: Os,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

// `.*` is greedy, as in Apple's pattern, so the last matching version in the header wins; the
// patch group takes a single digit, exactly as Apple's does.
static IOS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^.*iOS/(\d+)\.(\d+)\.?(\d)?.*$").ok());
static MACOS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^.*Macintosh; OS X (\d+)\.(\d+)\.?(\d)?.*$").ok());

impl Platform {
    /// Parses a `User-Agent` value; `None` when it names no platform we know.
    pub fn from_user_agent(user_agent: &str) -> Option<Self> {
        Self::parse_with(&IOS, Os::Ios, user_agent)
            .or_else(|| Self::parse_with(&MACOS, Os::MacOs, user_agent))
    }

    fn parse_with(pattern: &Option<Regex>, os: Os, user_agent: &str) -> Option<Self> {
        let caps = pattern.as_ref()?.captures(user_agent)?;
        // Digits that do not fit (or are non-ASCII digits) mean "no platform", as in Apple's parse.
        let major = caps.get(1)?.as_str().parse().ok()?;
        let minor = caps.get(2)?.as_str().parse().ok()?;
        let patch = match caps.get(3) {
            Some(p) => p.as_str().parse().ok()?,
            None => 0,
        };
        Some(Platform {
            os,
            major,
            minor,
            patch,
        })
    }

    fn at_least(&self, ios: (u32, u32), macos: (u32, u32)) -> bool {
        let min = match self.os {
            Os::Ios => ios,
            Os::MacOs => macos,
        };
        (self.major, self.minor) >= min
    }

    /// Whether the client understands `PIRFixedShardConfig` (iOS 18.2, macOS 15.2).
    pub fn supports_fixed_shard_config(&self) -> bool {
        self.at_least((18, 2), (15, 2))
    }

    /// Whether the client understands sharding functions other than SHA-256 (iOS 18.2, macOS 15.2).
    pub fn supports_non_sha256_sharding(&self) -> bool {
        self.at_least((18, 2), (15, 2))
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let os = match self.os {
            Os::Ios => "iOS",
            Os::MacOs => "macOS",
        };
        write!(f, "{os} {}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(os: Os, major: u32, minor: u32, patch: u32) -> Option<Platform> {
        Some(Platform {
            os,
            major,
            minor,
            patch,
        })
    }

    #[test]
    fn parses_apple_examples() {
        assert_eq!(
            Platform::from_user_agent("com.apple.ciphermld/1.0 iOS/18.2 (iPhone)"),
            p(Os::Ios, 18, 2, 0)
        );
        assert_eq!(
            Platform::from_user_agent("com.apple.ciphermld/1.2 (Macintosh; OS X 15.0.1; XXXXX) x"),
            p(Os::MacOs, 15, 0, 1)
        );
    }

    #[test]
    fn patch_takes_one_digit_and_greedy_prefix_takes_the_last_version() {
        assert_eq!(
            Platform::from_user_agent("iOS/17.4.12"),
            p(Os::Ios, 17, 4, 1)
        );
        assert_eq!(
            Platform::from_user_agent("x iOS/17.4 y iOS/18.3"),
            p(Os::Ios, 18, 3, 0)
        );
    }

    #[test]
    fn ios_is_tried_first() {
        let ua = "Macintosh; OS X 14.1 iOS/18.2";
        assert_eq!(Platform::from_user_agent(ua), p(Os::Ios, 18, 2, 0));
    }

    #[test]
    fn unknown_or_malformed_is_none() {
        for ua in [
            "",
            "curl/8.0",
            "iOS/18",
            "iOS/x.2",
            "Android 14",
            "iOS/99999999999.1",
        ] {
            assert_eq!(Platform::from_user_agent(ua), None, "{ua}");
        }
    }

    #[test]
    fn feature_thresholds() {
        let ios = |major, minor| Platform {
            os: Os::Ios,
            major,
            minor,
            patch: 0,
        };
        let mac = |major, minor| Platform {
            os: Os::MacOs,
            major,
            minor,
            patch: 0,
        };
        assert!(!ios(18, 1).supports_fixed_shard_config());
        assert!(ios(18, 2).supports_fixed_shard_config());
        assert!(ios(26, 0).supports_non_sha256_sharding());
        assert!(!mac(15, 1).supports_non_sha256_sharding());
        assert!(mac(15, 2).supports_fixed_shard_config());
    }
}
