//! User tiers (spec §5.1): each tier has its own key, so the key reveals only the tier.

use serde::{Deserialize, Serialize};

/// A tier name, e.g. `tier1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tier(pub String);

impl From<&str> for Tier {
    fn from(s: &str) -> Tier {
        Tier(s.to_owned())
    }
}
