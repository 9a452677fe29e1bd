//! Checks of the manifest's `pir` section, one variant (`pir[]` entry) at a time: each shard's
//! processed `.bin` loads with its params (`pir::database`) and writes back to the same bytes,
//! and each query group's `requests.*.binpb`, answered by `pir::server` on Apple's database
//! with the uploaded `evaluation-keys.binpb`, gives exactly `responses.*.binpb`. The `content`
//! SKIP lines `files` leaves for these files become the outcome of these checks.

use std::path::Path;

use pir::database::ProcessedShard;
use pir::proto::api::{Requests, Response, Responses, request, response};
use pir::proto::api_shared::EvaluationKeys;
use pir::proto::pir::PirParameters;
use pir::server::{PreparedEvaluationKey, ShardServer};
use prost::Message;
use serde_json::Value;

use super::he::fail;
use crate::report::{Outcome, Report};

/// Reports the checks of one `pir[]` variant entry.
pub(super) fn check(root: &Path, variant: &Value, report: &mut Report) {
    let dir = variant
        .get("directory")
        .and_then(Value::as_str)
        .unwrap_or("pir/?");
    let shards = variant
        .get("shards")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut servers = Vec::with_capacity(shards.len());
    for shard in shards {
        let bin = shard.get("bin").and_then(Value::as_str).unwrap_or("?");
        let (outcome, server) = load_shard(root, shard);
        settle(report, bin, outcome.clone());
        if let Some(params) = params_path(shard) {
            settle(report, &params, outcome);
        }
        servers.push(server);
    }
    let keys_rel = format!("{dir}/api/evaluation-keys.binpb");
    let keys = super::read(root, &keys_rel).and_then(|b| {
        EvaluationKeys::decode(b.as_slice()).map_err(|e| Outcome::Fail(format!("decode: {e}")))
    });
    let groups = variant
        .get("query_groups")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut key_outcome = Outcome::Skip("no query group used the key".into());
    for group in groups {
        let requests = group.get("requests").and_then(Value::as_str).unwrap_or("?");
        let responses = group
            .get("responses")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let outcome = match &keys {
            Ok(keys) => answer(root, requests, responses, &servers, keys),
            Err(o) => o.clone(),
        };
        if matches!(outcome, Outcome::Pass) || !matches!(key_outcome, Outcome::Pass) {
            key_outcome = outcome.clone();
        }
        settle(report, requests, outcome.clone());
        settle(report, responses, outcome);
    }
    settle(report, &keys_rel, key_outcome);
}

/// The binary params file next to a shard's `.txtpb` params.
fn params_path(shard: &Value) -> Option<String> {
    let txt = shard.get("params").and_then(Value::as_str)?;
    Some(txt.strip_suffix(".txtpb")?.to_string() + ".binpb")
}

/// Loads a shard from Apple's `.bin` and params, checks it writes back to the same bytes, and
/// prepares its server.
fn load_shard(root: &Path, shard: &Value) -> (Outcome, Option<ShardServer>) {
    let run = || -> Result<ShardServer, Outcome> {
        let bin_rel = shard.get("bin").and_then(Value::as_str).unwrap_or("?");
        let params_rel = params_path(shard).ok_or_else(|| Outcome::Fail("no params".into()))?;
        let params = PirParameters::decode(super::read(root, &params_rel)?.as_slice())
            .map_err(|e| Outcome::Fail(format!("params decode: {e}")))?;
        let bin = super::read(root, bin_rel)?;
        let db = ProcessedShard::from_apple_bin(params, &bin).map_err(fail)?;
        let listed = shard.get("plaintext_count").and_then(Value::as_u64);
        if listed != Some(db.plaintext_count() as u64) {
            return Err(Outcome::Fail(format!(
                "{} plaintexts; the manifest lists {listed:?}",
                db.plaintext_count()
            )));
        }
        if db.to_apple_bin().map_err(fail)? != bin {
            return Err(Outcome::Fail("re-serialized .bin differs".into()));
        }
        ShardServer::new(db).map_err(fail)
    };
    match run() {
        Ok(server) => (Outcome::Pass, Some(server)),
        Err(o) => (o, None),
    }
}

/// Answers every request of a group on its shard with the key its metadata names and compares
/// the encoded `Responses` with the recorded bytes.
fn answer(
    root: &Path,
    requests_rel: &str,
    responses_rel: &str,
    servers: &[Option<ShardServer>],
    keys: &EvaluationKeys,
) -> Outcome {
    let run = || -> Result<Outcome, Outcome> {
        let want = super::read(root, responses_rel)?;
        let requests = Requests::decode(super::read(root, requests_rel)?.as_slice())
            .map_err(|e| Outcome::Fail(format!("requests decode: {e}")))?;
        let mut responses = Vec::with_capacity(requests.requests.len());
        for (i, r) in requests.requests.iter().enumerate() {
            let Some(request::Request::PirRequest(pir)) = &r.request else {
                return Err(Outcome::Skip(format!("request {i} is not a PIR request")));
            };
            let id = pir
                .evaluation_key_metadata
                .as_ref()
                .map(|m| m.identifier.as_slice());
            let key = keys
                .keys
                .iter()
                .find(|k| k.metadata.as_ref().map(|m| m.identifier.as_slice()) == id)
                .and_then(|k| k.evaluation_key.as_ref())
                .ok_or_else(|| Outcome::Fail(format!("request {i}: no uploaded key")))?;
            let server = servers
                .get(pir.shard_index as usize)
                .ok_or_else(|| Outcome::Fail(format!("request {i}: shard out of range")))?
                .as_ref()
                .ok_or_else(|| Outcome::Skip("its shard did not load".into()))?;
            let query = pir
                .query
                .as_ref()
                .ok_or_else(|| Outcome::Fail(format!("request {i}: no query")))?;
            let key = PreparedEvaluationKey::from_proto(server, key).map_err(fail)?;
            let reply = server.respond(query, &key).map_err(fail)?;
            responses.push(Response {
                response: Some(response::Response::PirResponse(reply)),
            });
        }
        let got = Responses { responses }.encode_to_vec();
        Ok(if got == want {
            Outcome::Pass
        } else {
            Outcome::Fail(format!(
                "responses differ ({} bytes computed, {} recorded)",
                got.len(),
                want.len()
            ))
        })
    };
    run().unwrap_or_else(|o| o)
}

/// Records `outcome` as the content check of `rel`, replacing the SKIP `files` left for it.
fn settle(report: &mut Report, rel: &str, outcome: Outcome) {
    let name = format!("content {rel}");
    match report
        .checks
        .iter_mut()
        .find(|c| c.name == name && matches!(c.outcome, Outcome::Skip(_)))
    {
        Some(check) => check.outcome = outcome,
        // An absent file already has its integrity SKIP; say it once.
        None if matches!(outcome, Outcome::Skip(_)) => {}
        None => report.push(name, outcome),
    }
}
