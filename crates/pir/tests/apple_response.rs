//! Apple's processed databases and recorded `/queries` transcripts (vectors/apple/pir/): every
//! variant the manifest lists is loaded from Apple's `.bin` + params and must answer
//! `requests.*.binpb` with exactly the bytes of `responses.*.binpb` (spec/pir-protocol.md
//! §4.6–4.8, §5.1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use common::{read_json, read_vector, vector_path};
use pir::database::{DatabaseError, ProcessedShard};
use pir::proto::pir::PirParameters;
use prost::Message;
use serde_json::Value;

/// `(variant directory, shard entry)` for every shard of every variant whose files are present.
fn shards() -> Vec<(String, Value)> {
    let manifest = read_json("apple/pir/manifest.json");
    let mut out = Vec::new();
    for variant in manifest["pir"].as_array().expect("pir list") {
        for shard in variant["shards"].as_array().expect("shards") {
            let bin = shard["bin"].as_str().expect("bin path");
            if vector_path(&format!("apple/{bin}")).exists() {
                out.push((
                    variant["directory"].as_str().unwrap().to_string(),
                    shard.clone(),
                ));
            }
        }
    }
    assert!(!out.is_empty(), "no PIR transcript present");
    out
}

fn params_of(shard: &Value) -> PirParameters {
    let txt = shard["params"].as_str().unwrap();
    let bin = txt.replace(".txtpb", ".binpb");
    PirParameters::decode(read_vector(&format!("apple/{bin}")).as_slice()).unwrap()
}

fn load(shard: &Value) -> (PirParameters, Vec<u8>, ProcessedShard) {
    let params = params_of(shard);
    let bytes = read_vector(&format!("apple/{}", shard["bin"].as_str().unwrap()));
    let db = ProcessedShard::from_apple_bin(params.clone(), &bytes).unwrap();
    (params, bytes, db)
}

#[test]
fn apple_bin_loads_with_the_manifest_counts_and_writes_back_identically() {
    for (dir, shard) in shards() {
        let (_, bytes, db) = load(&shard);
        assert_eq!(
            db.plaintext_count() as u64,
            shard["plaintext_count"].as_u64().unwrap(),
            "{dir}"
        );
        assert_eq!(
            db.present_count() as u64,
            shard["non_zero_plaintexts"].as_u64().unwrap(),
            "{dir}"
        );
        assert_eq!(db.to_apple_bin().unwrap(), bytes, "{dir}");
    }
}

#[test]
fn apple_bin_rejects_bad_input() {
    let (_, shard) = shards().into_iter().next().unwrap();
    let (params, bytes, _) = load(&shard);
    let err = |b: &[u8]| ProcessedShard::from_apple_bin(params.clone(), b).unwrap_err();
    assert!(matches!(err(&[]), DatabaseError::Truncated { .. }));
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert_eq!(err(&v2), DatabaseError::UnknownVersion(2));
    let mut count = bytes.clone();
    count[1] = count[1].wrapping_add(1);
    assert!(matches!(err(&count), DatabaseError::PlaintextCount { .. }));
    let mut tag = bytes.clone();
    tag[5] = 7;
    assert!(matches!(
        err(&tag),
        DatabaseError::UnknownTag { index: 0, tag: 7 }
    ));
    assert!(matches!(
        err(&bytes[..bytes.len() - 1]),
        DatabaseError::Truncated { .. }
    ));
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(err(&long), DatabaseError::Trailing(1));
    // A residue of all ones (2^27 - 1 ≥ q0 = 134176769) in the first plaintext.
    let mut range = bytes.clone();
    range[6..10].copy_from_slice(&[0xff; 4]);
    assert!(matches!(
        err(&range),
        DatabaseError::BadPlaintext { index: 0, .. }
    ));
}

#[test]
fn coefficient_plaintexts_lift_to_apples_eval_bytes() {
    use pir::packing::{bits_per_coeff, bytes_per_plaintext};
    use pir::params_file::from_pir_parameters;
    use pir::plaintext_layout::table_plaintexts;
    for (dir, shard) in shards() {
        let (params, bytes, _) = load(&shard);
        let (index, keyword) = from_pir_parameters(&params).unwrap();
        let enc = params.encryption_parameters.as_ref().unwrap();
        let degree = enc.polynomial_degree as usize;
        let (bits, bpp) = (
            bits_per_coeff(enc.plaintext_modulus).unwrap(),
            bytes_per_plaintext(degree, enc.plaintext_modulus).unwrap(),
        );
        let buckets = read_vector(&format!(
            "apple/{}",
            shard["bin"]
                .as_str()
                .unwrap()
                .replace(".bin", ".buckets.bin")
        ));
        let tables = keyword.unwrap().hash_function_count;
        let entries: Vec<&[u8]> = buckets.chunks(index.entry_size).collect();
        assert_eq!(entries.len(), tables * index.entry_count, "{dir}");
        let plaintexts: Vec<Vec<u64>> = entries
            .chunks(index.entry_count)
            .flat_map(|table| table_plaintexts(table, &index, bits, bpp).unwrap())
            .map(Option::unwrap_or_default)
            .collect();
        let db = ProcessedShard::from_coefficient_plaintexts(params, plaintexts).unwrap();
        assert_eq!(db.to_apple_bin().unwrap(), bytes, "{dir}");
    }
}

/// `(variant entry, query group)` for every group whose files are present.
fn query_groups() -> Vec<(Value, Value)> {
    let manifest = read_json("apple/pir/manifest.json");
    let mut out = Vec::new();
    for variant in manifest["pir"].as_array().unwrap() {
        for group in variant["query_groups"].as_array().unwrap() {
            let present = ["requests", "responses"]
                .iter()
                .all(|k| vector_path(&format!("apple/{}", group[k].as_str().unwrap())).exists());
            if present {
                out.push((variant.clone(), group.clone()));
            }
        }
    }
    assert!(!out.is_empty(), "no query group present");
    out
}

/// Answers every request of a group the way the service does: the shard named by
/// `shard_index`, the uploaded key whose metadata identifier the request names.
fn answer(variant: &Value, group: &Value) -> Vec<u8> {
    use pir::proto::api::{Requests, Response, Responses, request, response};
    use pir::proto::api_shared::EvaluationKeys;
    use pir::server::{PreparedEvaluationKey, ShardServer};
    let dir = variant["directory"].as_str().unwrap();
    let servers: Vec<ShardServer> = variant["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| ShardServer::new(load(s).2).unwrap())
        .collect();
    let keys = EvaluationKeys::decode(
        read_vector(&format!("apple/{dir}/api/evaluation-keys.binpb")).as_slice(),
    )
    .unwrap();
    let requests = Requests::decode(
        read_vector(&format!("apple/{}", group["requests"].as_str().unwrap())).as_slice(),
    )
    .unwrap();
    let responses = requests
        .requests
        .iter()
        .map(|r| {
            let Some(request::Request::PirRequest(pir)) = &r.request else {
                panic!("not a PIR request");
            };
            let id = &pir.evaluation_key_metadata.as_ref().unwrap().identifier;
            let key = keys
                .keys
                .iter()
                .find(|k| &k.metadata.as_ref().unwrap().identifier == id)
                .and_then(|k| k.evaluation_key.as_ref())
                .expect("uploaded key");
            let server = &servers[pir.shard_index as usize];
            let key = PreparedEvaluationKey::from_proto(server, key).unwrap();
            let reply = server.respond(pir.query.as_ref().unwrap(), &key).unwrap();
            Response {
                response: Some(response::Response::PirResponse(reply)),
            }
        })
        .collect();
    Responses { responses }.encode_to_vec()
}

#[test]
fn responses_match_apples_bytes() {
    for (variant, group) in query_groups() {
        let want = read_vector(&format!("apple/{}", group["responses"].as_str().unwrap()));
        let got = answer(&variant, &group);
        assert!(
            got == want,
            "{} group {}: responses differ ({} bytes vs Apple's {})",
            variant["variant"],
            group["group"],
            got.len(),
            want.len()
        );
    }
}

/// The url-1shard server, its uploaded key and first recorded query.
fn first_query() -> (
    pir::server::ShardServer,
    pir::proto::he::SerializedEvaluationKey,
    pir::proto::pir::EncryptedIndices,
) {
    use pir::proto::api::{Requests, request};
    use pir::proto::api_shared::EvaluationKeys;
    let (_, shard) = shards()
        .into_iter()
        .find(|(d, _)| d.ends_with("url-1shard"))
        .unwrap();
    let server = pir::server::ShardServer::new(load(&shard).2).unwrap();
    let keys = EvaluationKeys::decode(
        read_vector("apple/pir/url-1shard/api/evaluation-keys.binpb").as_slice(),
    )
    .unwrap();
    let requests =
        Requests::decode(read_vector("apple/pir/url-1shard/api/requests.A.binpb").as_slice())
            .unwrap();
    let Some(request::Request::PirRequest(pir)) = &requests.requests[0].request else {
        panic!("not a PIR request");
    };
    (
        server,
        keys.keys[0].evaluation_key.clone().unwrap(),
        pir.query.clone().unwrap(),
    )
}

#[test]
fn malformed_requests_are_typed_errors() {
    use pir::expand::ExpandError;
    use pir::proto::he::serialized_ciphertext::SerializedCiphertextType;
    use pir::server::{PreparedEvaluationKey, ServeError};
    let (server, key_proto, query) = first_query();
    let key = PreparedEvaluationKey::from_proto(&server, &key_proto).unwrap();
    let respond = |q: &pir::proto::pir::EncryptedIndices, k: &PreparedEvaluationKey| {
        server.respond(q, k).unwrap_err()
    };

    for calls in [0, 3, u64::MAX] {
        let mut q = query.clone();
        q.num_pir_calls = calls;
        assert!(
            matches!(respond(&q, &key), ServeError::QueryCount { .. }),
            "{calls}"
        );
    }
    let mut extra = query.clone();
    extra.ciphertexts.push(query.ciphertexts[0].clone());
    assert!(matches!(
        respond(&extra, &key),
        ServeError::Expand(ExpandError::CiphertextCount {
            got: 2,
            expected: 1,
            ..
        })
    ));
    let mut none = query.clone();
    none.ciphertexts.clear();
    assert!(matches!(respond(&none, &key), ServeError::Expand(_)));

    let mut truncated = query.clone();
    if let Some(SerializedCiphertextType::Seeded(s)) =
        &mut truncated.ciphertexts[0].serialized_ciphertext_type
    {
        s.poly0.pop();
    }
    assert!(matches!(
        respond(&truncated, &key),
        ServeError::QueryCiphertext { index: 0, .. }
    ));
    let mut short_seed = query.clone();
    if let Some(SerializedCiphertextType::Seeded(s)) =
        &mut short_seed.ciphertexts[0].serialized_ciphertext_type
    {
        s.seed.truncate(5);
    }
    assert!(matches!(
        respond(&short_seed, &key),
        ServeError::QueryCiphertext { index: 0, .. }
    ));
    let mut empty = query.clone();
    empty.ciphertexts[0].serialized_ciphertext_type = None;
    assert!(matches!(
        respond(&empty, &key),
        ServeError::QueryCiphertext { index: 0, .. }
    ));

    // Without the relinearization key, and without any Galois key.
    let mut no_relin = key_proto.clone();
    no_relin.relin_key = None;
    let no_relin = PreparedEvaluationKey::from_proto(&server, &no_relin).unwrap();
    assert_eq!(respond(&query, &no_relin), ServeError::MissingRelinKey);
    let mut no_galois = key_proto.clone();
    no_galois.galois_key = None;
    let no_galois = PreparedEvaluationKey::from_proto(&server, &no_galois).unwrap();
    assert!(matches!(
        respond(&query, &no_galois),
        ServeError::Expand(ExpandError::MissingGaloisKey { .. })
    ));

    // Malformed keys are refused when prepared.
    let mut even = key_proto.clone();
    let g = even.galois_key.as_mut().unwrap();
    let (&element, ksk) = g.key_switch_keys.iter().next().unwrap();
    let ksk = ksk.clone();
    g.key_switch_keys.insert(element + 1, ksk.clone());
    assert!(matches!(
        PreparedEvaluationKey::from_proto(&server, &even),
        Err(ServeError::EvaluationKey(_))
    ));
    let mut short = key_proto.clone();
    let g = short.galois_key.as_mut().unwrap();
    let mut one_digit = ksk;
    one_digit
        .key_switch_key
        .as_mut()
        .unwrap()
        .ciphertexts
        .truncate(1);
    g.key_switch_keys.insert(element, one_digit);
    assert!(matches!(
        PreparedEvaluationKey::from_proto(&server, &short),
        Err(ServeError::EvaluationKey(_))
    ));
}
