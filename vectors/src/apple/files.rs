//! Per-file checks: size and SHA-256 as listed, then for HE protobuf messages a decode and
//! re-encode that must give back the same bytes (SwiftProtobuf's deterministic encoding).

use std::path::Path;

use he::proto;
use prost::Message;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::report::{Outcome, Report};

/// Checks one `files[]` entry of the manifest.
pub(super) fn check(dir: &Path, entry: &Value, report: &mut Report) {
    let Some(rel) = entry.get("path").and_then(Value::as_str) else {
        report.push(
            "manifest files[] entry",
            Outcome::Fail("entry without a path".into()),
        );
        return;
    };
    let format = entry.get("format").and_then(Value::as_str).unwrap_or("");
    let bytes = match super::read(dir, rel) {
        Ok(b) => b,
        Err(outcome) => {
            report.push(format!("integrity {rel}"), outcome);
            return;
        }
    };
    report.push(format!("integrity {rel}"), integrity(entry, &bytes));
    if let Some(outcome) = round_trip(format, &bytes) {
        report.push(format!("protobuf re-encoding {rel}"), outcome);
    } else if !rel.starts_with("he/") {
        // he/ files' contents are checked by the `he` suite; other kinds await their own suite.
        report.push(
            format!("content {rel}"),
            Outcome::Skip(format!("kind {format:?} not handled yet (PIR suite)")),
        );
    }
}

fn integrity(entry: &Value, bytes: &[u8]) -> Outcome {
    let size = entry.get("size").and_then(Value::as_u64);
    if size != Some(bytes.len() as u64) {
        return Outcome::Fail(format!("size {} != listed {size:?}", bytes.len()));
    }
    let digest = hex::encode(Sha256::digest(bytes));
    match entry.get("sha256").and_then(Value::as_str) {
        Some(listed) if listed == digest => Outcome::Pass,
        listed => Outcome::Fail(format!("sha256 {digest} != listed {listed:?}")),
    }
}

/// Decodes and re-encodes the HE messages this crate knows; `None` for other formats (their
/// checks belong to other modules).
fn round_trip(format: &str, bytes: &[u8]) -> Option<Outcome> {
    let prefix = "binpb:apple.swift_homomorphic_encryption.v1.";
    let name = format.strip_prefix(prefix)?;
    let again = match name {
        "SerializedCiphertext" => reencode::<proto::SerializedCiphertext>(bytes),
        "SerializedSecretKey" => reencode::<proto::SerializedSecretKey>(bytes),
        "SerializedEvaluationKey" => reencode::<proto::SerializedEvaluationKey>(bytes),
        "EvaluationKeyConfig" => reencode::<proto::EvaluationKeyConfig>(bytes),
        "SerializedPlaintext" => reencode::<proto::SerializedPlaintext>(bytes),
        other => return Some(Outcome::Skip(format!("message {other} not handled yet"))),
    };
    Some(match again {
        Ok(again) if again == bytes => Outcome::Pass,
        Ok(again) => Outcome::Fail(format!(
            "re-encoded to {} bytes, differs from the {} recorded",
            again.len(),
            bytes.len()
        )),
        Err(e) => Outcome::Fail(format!("decode: {e}")),
    })
}

fn reencode<M: Message + Default>(bytes: &[u8]) -> Result<Vec<u8>, prost::DecodeError> {
    Ok(M::decode(bytes)?.encode_to_vec())
}
