//! Use cases and their versions (pir-protocol.md §1.10): each use case name keeps its last few
//! database versions, keyed by config id, so devices holding the previous config keep working after
//! an update; a query naming a dropped version gets 410 and the device refetches `/config`.
//!
//! Generic over the loaded use case so the versioning rules are tested apart from PIR.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// A config id: SHA-256 of the use case's serialized `PIRConfig`.
pub type ConfigId = [u8; 32];

/// How many versions a use case keeps unless told otherwise (Apple's default).
pub const DEFAULT_VERSION_COUNT: usize = 2;

/// The outcome of looking up a use case version for a query.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a, T> {
    Found(&'a Arc<T>),
    /// The name is known but this version is not (or no longer) served: 410.
    UnknownConfig,
    /// No use case of this name: 400.
    UnknownUsecase,
}

#[derive(Debug)]
struct Versions<T> {
    /// Oldest first; the last is the one `/config` hands out.
    versions: VecDeque<(ConfigId, Arc<T>)>,
}

/// Every use case this process serves, by name, with its versions.
#[derive(Debug)]
pub struct UsecaseStore<T> {
    usecases: BTreeMap<String, Versions<T>>,
}

impl<T> Default for UsecaseStore<T> {
    fn default() -> Self {
        Self {
            usecases: BTreeMap::new(),
        }
    }
}

impl<T> Clone for UsecaseStore<T> {
    fn clone(&self) -> Self {
        let usecases = self
            .usecases
            .iter()
            .map(|(name, v)| {
                (
                    name.clone(),
                    Versions {
                        versions: v.versions.clone(),
                    },
                )
            })
            .collect();
        Self { usecases }
    }
}

impl<T> UsecaseStore<T> {
    /// Adds `usecase` as the newest version of `name`, keeping at most `version_count` versions.
    /// Re-adding a config id already held makes it the newest without duplicating it (a reload of
    /// unchanged files). `version_count == 0` removes the use case.
    pub fn insert(
        &mut self,
        name: &str,
        config_id: ConfigId,
        usecase: Arc<T>,
        version_count: usize,
    ) {
        if version_count == 0 {
            self.usecases.remove(name);
            return;
        }
        let entry = self
            .usecases
            .entry(name.to_owned())
            .or_insert_with(|| Versions {
                versions: VecDeque::new(),
            });
        entry.versions.retain(|(id, _)| *id != config_id);
        entry.versions.push_back((config_id, usecase));
        while entry.versions.len() > version_count {
            entry.versions.pop_front();
        }
    }

    /// Removes a use case and all its versions.
    pub fn remove(&mut self, name: &str) {
        self.usecases.remove(name);
    }

    /// The newest version of `name`, with its config id.
    pub fn latest(&self, name: &str) -> Option<(&ConfigId, &Arc<T>)> {
        self.usecases
            .get(name)?
            .versions
            .back()
            .map(|(id, u)| (id, u))
    }

    /// The version of `name` with this config id.
    pub fn get(&self, name: &str, config_id: &[u8]) -> Lookup<'_, T> {
        let Some(entry) = self.usecases.get(name) else {
            return Lookup::UnknownUsecase;
        };
        entry
            .versions
            .iter()
            .find(|(id, _)| id.as_slice() == config_id)
            .map_or(Lookup::UnknownConfig, |(_, u)| Lookup::Found(u))
    }

    /// Use case names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.usecases.keys().map(String::as_str)
    }

    /// How many versions of `name` are served.
    pub fn version_count(&self, name: &str) -> usize {
        self.usecases.get(name).map_or(0, |v| v.versions.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> ConfigId {
        [b; 32]
    }

    #[test]
    fn keeps_the_newest_versions_and_410s_the_dropped_one() {
        let mut store = UsecaseStore::default();
        store.insert(
            "app.url.filtering",
            id(1),
            Arc::new("v1"),
            DEFAULT_VERSION_COUNT,
        );
        store.insert(
            "app.url.filtering",
            id(2),
            Arc::new("v2"),
            DEFAULT_VERSION_COUNT,
        );
        assert_eq!(
            store.latest("app.url.filtering").map(|(i, u)| (*i, **u)),
            Some((id(2), "v2"))
        );
        assert_eq!(
            store.get("app.url.filtering", &id(1)),
            Lookup::Found(&Arc::new("v1"))
        );
        store.insert(
            "app.url.filtering",
            id(3),
            Arc::new("v3"),
            DEFAULT_VERSION_COUNT,
        );
        assert_eq!(
            store.get("app.url.filtering", &id(1)),
            Lookup::UnknownConfig
        );
        assert_eq!(
            store.get("app.url.filtering", &id(2)),
            Lookup::Found(&Arc::new("v2"))
        );
        assert_eq!(store.get("other", &id(2)), Lookup::UnknownUsecase);
        assert_eq!(
            store.get("app.url.filtering", b"short"),
            Lookup::UnknownConfig
        );
    }

    #[test]
    fn re_adding_a_version_moves_it_to_newest_without_duplicating() {
        let mut store = UsecaseStore::default();
        store.insert("u", id(1), Arc::new(1), 2);
        store.insert("u", id(2), Arc::new(2), 2);
        store.insert("u", id(1), Arc::new(1), 2);
        assert_eq!(store.version_count("u"), 2);
        assert_eq!(store.latest("u").map(|(i, _)| *i), Some(id(1)));
        // id(2) is now the oldest and is the one dropped next.
        store.insert("u", id(3), Arc::new(3), 2);
        assert_eq!(store.get("u", &id(2)), Lookup::UnknownConfig);
        assert_eq!(store.get("u", &id(1)), Lookup::Found(&Arc::new(1)));
    }

    #[test]
    fn version_count_zero_removes_only_that_usecase() {
        let mut store = UsecaseStore::default();
        store.insert("a", id(1), Arc::new(()), 2);
        store.insert("b", id(1), Arc::new(()), 2);
        store.insert("a", id(2), Arc::new(()), 0);
        assert_eq!(store.names().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn shrinking_the_version_count_drops_the_oldest() {
        let mut store = UsecaseStore::default();
        for i in 1..=5 {
            store.insert("u", id(i), Arc::new(i), 5);
        }
        store.insert("u", id(6), Arc::new(6), 1);
        assert_eq!(store.version_count("u"), 1);
        assert_eq!(store.latest("u").map(|(i, _)| *i), Some(id(6)));
    }
}
