//! Which replica group answers which shard (issue #10 "Beyond one node"; pir-protocol.md §1.6:
//! every `PIRRequest` names its `shard_index`, and shards are independent), and the split of one
//! `/queries` body into per-group bodies and the merge of their replies back in request order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::Uri;
use pir::proto::api;

use crate::server_config::RouterConfig;

/// A `[router]` section that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    #[error("no [[router.group]] configured")]
    NoGroups,
    #[error("group {group}: {message}")]
    Group { group: String, message: String },
    #[error("use case {usecase}: shard {shard} is held by both group {first} and group {second}")]
    Overlap {
        usecase: String,
        shard: u32,
        first: String,
        second: String,
    },
    #[error("group_timeout_ms must be ≥ 1")]
    ZeroTimeout,
}

/// One replica group: replicas that each hold the same shards, tried round robin.
#[derive(Debug)]
pub struct Group {
    pub name: String,
    /// `scheme://authority` of each replica.
    pub replicas: Vec<Uri>,
    next: AtomicUsize,
}

impl Group {
    /// The replicas to try for one call, in order: the next one round robin, then the one after
    /// it (the same one again when the group has a single replica).
    pub fn attempt_order(&self) -> [&Uri; 2] {
        let n = self.replicas.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        [&self.replicas[first], &self.replicas[(first + 1) % n]]
    }
}

/// A shard range `lo..=hi` held by group `group`.
#[derive(Debug, Clone, Copy)]
struct Held {
    lo: u32,
    hi: u32,
    group: usize,
}

/// The groups and the shard → group map of every use case.
#[derive(Debug)]
pub struct Topology {
    pub groups: Vec<Group>,
    routes: HashMap<String, Vec<Held>>,
}

/// Parses `"0-3,8"`: comma-separated indices or inclusive ranges.
fn parse_shards(spec: &str) -> Result<Vec<(u32, u32)>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("{spec:?}: {s:?} is not a shard index"))
        };
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (number(lo)?, number(hi)?),
            None => {
                let i = number(part)?;
                (i, i)
            }
        };
        if lo > hi {
            return Err(format!("{spec:?}: range {lo}-{hi} is empty"));
        }
        out.push((lo, hi));
    }
    Ok(out)
}

fn parse_replica(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("replica {url:?} is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(format!(
            "replica {url:?}: expected http://host:port (TLS ends in front of the router)"
        ));
    }
    if uri.path() != "/" || uri.query().is_some() {
        return Err(format!("replica {url:?}: no path allowed"));
    }
    Ok(uri)
}

impl Topology {
    /// Checks and indexes `config`: at least one group, each with replicas and shards, replica
    /// URLs `http://host:port`, and no shard of a use case held by two groups.
    ///
    /// # Errors
    /// [`TopologyError`] naming the first problem.
    pub fn from_config(config: &RouterConfig) -> Result<Self, TopologyError> {
        if config.groups.is_empty() {
            return Err(TopologyError::NoGroups);
        }
        if config.group_timeout_ms == 0 {
            return Err(TopologyError::ZeroTimeout);
        }
        let mut groups = Vec::with_capacity(config.groups.len());
        let mut routes: HashMap<String, Vec<Held>> = HashMap::new();
        for (g, group) in config.groups.iter().enumerate() {
            let bad = |message: String| TopologyError::Group {
                group: group.name.clone(),
                message,
            };
            if group.replicas.is_empty() {
                return Err(bad("no replicas".into()));
            }
            if group.shards.is_empty() {
                return Err(bad("no shards".into()));
            }
            let replicas = group
                .replicas
                .iter()
                .map(|r| parse_replica(r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?;
            for (usecase, spec) in &group.shards {
                let held = routes.entry(usecase.clone()).or_default();
                for (lo, hi) in parse_shards(spec).map_err(|m| bad(format!("{usecase}: {m}")))? {
                    if let Some(other) = held.iter().find(|h| h.lo <= hi && lo <= h.hi) {
                        return Err(TopologyError::Overlap {
                            usecase: usecase.clone(),
                            shard: lo.max(other.lo),
                            first: config.groups[other.group].name.clone(),
                            second: group.name.clone(),
                        });
                    }
                    held.push(Held { lo, hi, group: g });
                }
            }
            groups.push(Group {
                name: group.name.clone(),
                replicas,
                next: AtomicUsize::new(0),
            });
        }
        Ok(Self { groups, routes })
    }

    /// The group that answers `usecase`'s shard `shard`, if one is configured.
    pub fn group_for(&self, usecase: &str, shard: u32) -> Option<usize> {
        self.routes
            .get(usecase)?
            .iter()
            .find(|h| h.lo <= shard && shard <= h.hi)
            .map(|h| h.group)
    }

    /// Where a request goes that names no configured shard (OPRF, an unknown use case, a shard
    /// beyond the map, no request type): the use case's first group, else the first group. It
    /// holds the use case's full config, so it answers what a single server would (400 unknown
    /// use case / shard out of range / unknown request type, 410 for a dropped config).
    pub fn default_group(&self, usecase: &str) -> usize {
        self.routes
            .get(usecase)
            .and_then(|held| held.iter().map(|h| h.group).min())
            .unwrap_or(0)
    }

    /// The group for one `Request` of a `/queries` body.
    pub fn route(&self, request: &api::Request) -> usize {
        let shard = match &request.request {
            Some(api::request::Request::PirRequest(r)) => Some(r.shard_index),
            _ => None,
        };
        shard
            .and_then(|s| self.group_for(&request.usecase, s))
            .unwrap_or_else(|| self.default_group(&request.usecase))
    }

    /// Splits a body's requests by group, each keeping its fields; every part remembers the
    /// positions its requests had in the body. Parts come in group order; groups without
    /// requests are left out.
    pub fn split(&self, requests: Vec<api::Request>) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        for (position, request) in requests.into_iter().enumerate() {
            let group = self.route(&request);
            let part = match parts.iter_mut().position(|p| p.group == group) {
                Some(i) => &mut parts[i],
                None => {
                    parts.push(Part {
                        group,
                        positions: Vec::new(),
                        body: api::Requests::default(),
                    });
                    let last = parts.len() - 1;
                    &mut parts[last]
                }
            };
            part.positions.push(position);
            part.body.requests.push(request);
        }
        parts.sort_by_key(|p| p.group);
        parts
    }
}

/// The requests of one body that go to one group.
#[derive(Debug, Clone)]
pub struct Part {
    pub group: usize,
    /// Where each request of `body` stood in the original body.
    pub positions: Vec<usize>,
    pub body: api::Requests,
}

/// A group's reply that does not fit what it was sent.
#[derive(Debug, thiserror::Error)]
#[error("group answered {got} responses to {sent} requests")]
pub struct MergeError {
    pub got: usize,
    pub sent: usize,
}

/// Puts every group's responses back at their requests' positions: one `Response` per
/// `Request`, in the original order (pir-protocol.md §1.6).
///
/// # Errors
/// [`MergeError`] when a group answered a different number of responses than it was sent.
pub fn merge(
    total: usize,
    replies: Vec<(Vec<usize>, api::Responses)>,
) -> Result<api::Responses, MergeError> {
    let mut slots: Vec<Option<api::Response>> = vec![None; total];
    for (positions, responses) in replies {
        if responses.responses.len() != positions.len() {
            return Err(MergeError {
                got: responses.responses.len(),
                sent: positions.len(),
            });
        }
        for (position, response) in positions.into_iter().zip(responses.responses) {
            if let Some(slot) = slots.get_mut(position) {
                *slot = Some(response);
            }
        }
    }
    let responses = slots
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or(MergeError {
            got: 0,
            sent: total,
        })?;
    Ok(api::Responses { responses })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::collections::BTreeMap;

    use pir::proto::api_pir;

    use super::*;
    use crate::server_config::GroupConfig;

    /// Name, replica URLs, (use case, shards) of one group.
    type Spec<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);

    fn config(groups: &[Spec<'_>]) -> RouterConfig {
        RouterConfig {
            group_timeout_ms: 1000,
            shared_key_store: false,
            http2: false,
            retry_after_secs: 1,
            groups: groups
                .iter()
                .map(|(name, replicas, shards)| GroupConfig {
                    name: (*name).into(),
                    replicas: replicas.iter().map(|r| (*r).to_owned()).collect(),
                    shards: shards
                        .iter()
                        .map(|(u, s)| ((*u).to_owned(), (*s).to_owned()))
                        .collect::<BTreeMap<_, _>>(),
                })
                .collect(),
        }
    }

    fn pir(usecase: &str, shard: u32) -> api::Request {
        api::Request {
            usecase: usecase.into(),
            request: Some(api::request::Request::PirRequest(api_pir::PirRequest {
                shard_index: shard,
                ..Default::default()
            })),
        }
    }

    #[test]
    fn shards_route_to_their_group_and_the_rest_to_the_first() {
        let t = Topology::from_config(&config(&[
            ("a", &["http://10.0.0.1:8080"], &[("u", "0-1,4")]),
            ("b", &["http://10.0.0.2:8080/"], &[("u", "2-3"), ("v", "0")]),
        ]))
        .unwrap();
        assert_eq!(t.group_for("u", 0), Some(0));
        assert_eq!(t.group_for("u", 1), Some(0));
        assert_eq!(t.group_for("u", 3), Some(1));
        assert_eq!(t.group_for("u", 4), Some(0));
        assert_eq!(t.group_for("u", 5), None);
        assert_eq!(t.route(&pir("u", 9)), 0);
        assert_eq!(t.route(&pir("v", 7)), 1, "v's first group");
        assert_eq!(t.route(&pir("w", 2)), 0);
        let none = api::Request {
            usecase: "v".into(),
            request: None,
        };
        assert_eq!(t.route(&none), 1);
    }

    #[test]
    fn bad_sections_are_refused() {
        let cases: Vec<RouterConfig> = vec![
            config(&[]),
            config(&[("a", &[], &[("u", "0")])]),
            config(&[("a", &["http://h:1"], &[])]),
            config(&[("a", &["https://h:1"], &[("u", "0")])]),
            config(&[("a", &["http://h:1/pir"], &[("u", "0")])]),
            config(&[("a", &["http://h:1"], &[("u", "3-1")])]),
            config(&[("a", &["http://h:1"], &[("u", "x")])]),
            config(&[
                ("a", &["http://h:1"], &[("u", "0-4")]),
                ("b", &["http://h:2"], &[("u", "4-6")]),
            ]),
        ];
        for case in cases {
            assert!(Topology::from_config(&case).is_err(), "{case:?}");
        }
        let mut zero = config(&[("a", &["http://h:1"], &[("u", "0")])]);
        zero.group_timeout_ms = 0;
        assert!(Topology::from_config(&zero).is_err());
    }

    #[test]
    fn split_then_merge_keeps_order_and_fields() {
        let t = Topology::from_config(&config(&[
            ("a", &["http://h:1"], &[("u", "0")]),
            ("b", &["http://h:2", "http://h:3"], &[("u", "1")]),
        ]))
        .unwrap();
        let body = vec![pir("u", 1), pir("u", 0), pir("u", 1), pir("u", 0)];
        let parts = t.split(body.clone());
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].group, parts[0].positions.clone()),
            (0, vec![1, 3])
        );
        assert_eq!(
            (parts[1].group, parts[1].positions.clone()),
            (1, vec![0, 2])
        );
        assert_eq!(parts[1].body.requests[0], body[0]);
        // Each group "answers" with a response that names the request's position.
        let answer = |p: &Part| {
            let responses = p
                .positions
                .iter()
                .map(|&i| api::Response {
                    response: Some(api::response::Response::PirResponse(api_pir::PirResponse {
                        replies: vec![Default::default(); i],
                        stash: None,
                    })),
                })
                .collect();
            (p.positions.clone(), api::Responses { responses })
        };
        let merged = merge(4, parts.iter().map(answer).collect()).unwrap();
        for (i, r) in merged.responses.iter().enumerate() {
            let Some(api::response::Response::PirResponse(p)) = &r.response else {
                unreachable!()
            };
            assert_eq!(p.replies.len(), i);
        }
        let short = (vec![0, 2], api::Responses::default());
        assert!(merge(4, vec![short]).is_err());
        assert!(merge(4, vec![answer(&parts[0])]).is_err(), "a part missing");
    }

    #[test]
    fn round_robin_then_the_next_replica() {
        let t = Topology::from_config(&config(&[(
            "a",
            &["http://h:1", "http://h:2", "http://h:3"],
            &[("u", "0")],
        )]))
        .unwrap();
        let order = |o: [&Uri; 2]| o.map(|u| u.port_u16().unwrap_or(0));
        assert_eq!(order(t.groups[0].attempt_order()), [1, 2]);
        assert_eq!(order(t.groups[0].attempt_order()), [2, 3]);
        assert_eq!(order(t.groups[0].attempt_order()), [3, 1]);
    }
}
