//! `pir-server build`'s wire sizes against Apple's transcripts: for url-1shard, url-maxcomp and
//! url-50k, the computed `/key`, `/queries` request and response body sizes equal the bodies Apple's
//! code produced, per keyword (issue #7 "Operation").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{USECASE, read, repo};
use pir::proto::{api, api_shared, he, pir as pir_proto};
use pir_server::wire_sizes::WireSizes;
use prost::Message as _;

/// Per-keyword bodies measured in a transcript, and the ciphertext bytes inside them.
#[derive(Debug, PartialEq, Eq)]
struct Measured {
    key: usize,
    query: usize,
    response: usize,
    query_ciphertext_bytes: usize,
    response_ciphertext_bytes: usize,
}

fn ciphertext_bytes(ct: &he::SerializedCiphertext) -> usize {
    use he::serialized_ciphertext::SerializedCiphertextType as T;
    match &ct.serialized_ciphertext_type {
        Some(T::Seeded(s)) => s.poly0.len() + s.seed.len(),
        Some(T::Full(f)) => f.polys.len(),
        None => 0,
    }
}

/// The one value every item gives (all keywords of a transcript have the same sizes).
fn same(values: impl IntoIterator<Item = usize>) -> usize {
    let values: Vec<usize> = values.into_iter().collect();
    assert!(!values.is_empty());
    assert!(values.iter().all(|&v| v == values[0]), "{values:?}");
    values[0]
}

fn measure(api_dir: &Path) -> Measured {
    let body = read(api_dir.join("requests.A.binpb"));
    let requests = api::Requests::decode(body.as_slice()).unwrap();
    let one_keyword = |r: &api::Request| {
        api::Requests {
            requests: vec![r.clone()],
        }
        .encoded_len()
    };
    let query = same(requests.requests.iter().map(one_keyword));
    // Each keyword adds a whole one-keyword body: the figure scales with keywords per body.
    assert_eq!(body.len(), query * requests.requests.len());
    let query_ciphertext_bytes = same(requests.requests.iter().map(|r| {
        let Some(api::request::Request::PirRequest(p)) = &r.request else {
            panic!("not a PIR request")
        };
        p.query
            .as_ref()
            .unwrap()
            .ciphertexts
            .iter()
            .map(ciphertext_bytes)
            .sum()
    }));

    let body = read(api_dir.join("responses.A.binpb"));
    let responses = api::Responses::decode(body.as_slice()).unwrap();
    let one_keyword = |r: &api::Response| {
        api::Responses {
            responses: vec![r.clone()],
        }
        .encoded_len()
    };
    let response = same(responses.responses.iter().map(one_keyword));
    assert_eq!(body.len(), response * responses.responses.len());
    let response_ciphertext_bytes = same(responses.responses.iter().map(|r| {
        let Some(api::response::Response::PirResponse(p)) = &r.response else {
            panic!("not a PIR response")
        };
        p.replies
            .iter()
            .flat_map(|v| &v.ciphertexts)
            .map(ciphertext_bytes)
            .sum()
    }));

    let body = read(api_dir.join("evaluation-keys.binpb"));
    let keys = api_shared::EvaluationKeys::decode(body.as_slice()).unwrap();
    assert_eq!(keys.keys.len(), 1);
    Measured {
        key: body.len(),
        query,
        response,
        query_ciphertext_bytes,
        response_ciphertext_bytes,
    }
}

fn computed(params: &pir_proto::PirParameters) -> WireSizes {
    WireSizes::of(USECASE, std::slice::from_ref(params)).unwrap()
}

fn check(transcript: &Path) -> Measured {
    let params =
        pir_proto::PirParameters::decode(read(transcript.join("url-0.params.binpb")).as_slice())
            .unwrap();
    let measured = measure(&transcript.join("api"));
    let sizes = computed(&params);
    assert_eq!(
        (sizes.evaluation_key, sizes.query, sizes.response),
        (measured.key, measured.query, measured.response),
        "{}: {measured:?}",
        transcript.display()
    );
    measured
}

#[test]
fn url_1shard_sizes_are_the_transcript_bodies() {
    let m = check(&repo().join("vectors/apple/pir/url-1shard"));
    // The figures of issue #7: 3 Galois keys + relin, 2 digits of 3 moduli each, with framing.
    assert_eq!((m.key, m.query, m.response), (340_447, 28_356, 24_624));
    // One seeded ciphertext over the two ciphertext moduli (27 + 28 bits) plus its seed; two
    // replies of two skip-LSB polynomials over q0 (27 − 19 and 27 − 11 bits) plus the count.
    assert_eq!(m.query_ciphertext_bytes, 4096 * 55 / 8 + 32);
    assert_eq!(
        m.response_ciphertext_bytes,
        2 * (2 + 4096 * 8 / 8 + 4096 * 16 / 8)
    );
}

#[test]
fn url_maxcomp_sizes_are_the_transcript_bodies() {
    let m = check(&repo().join("vectors/apple/pir/url-maxcomp"));
    // maxCompression keeps one Galois key of three: the key is about half.
    assert_eq!((m.key, m.query, m.response), (170_249, 28_356, 24_624));
}

/// url-50k's params, as Apple's tool wrote them (the 25 MB transcript stays in shared/vectors).
const URL_50K_PARAMS: &str = r#"
encryption_parameters {
  polynomial_degree: 4096
  plaintext_modulus: 17
  coefficient_moduli: [134176769, 268369921, 268361729]
  security_level: SECURITY_LEVEL_QUANTUM128
  he_scheme: HE_SCHEME_BFV
}
num_entries: 299
entry_size: 1024
dimensions: [25, 6]
keyword_pir_params {
  num_hash_functions: 2
  sharding_function {
    sha256 {
    }
  }
}
algorithm: PIR_ALGORITHM_MUL_PIR
batch_size: 2
evaluation_key_config {
  encryption_parameters {
    polynomial_degree: 4096
    plaintext_modulus: 17
    coefficient_moduli: [134176769, 268369921, 268361729]
    security_level: SECURITY_LEVEL_QUANTUM128
    he_scheme: HE_SCHEME_BFV
  }
  galois_elements: [129, 257, 513, 1025, 2049, 4097]
  has_relin_key: true
}
"#;

/// Measured from shared/vectors/apple/pir/url-50k/api (checked again below when present).
const URL_50K_BODIES: (usize, usize, usize) = (595_744, 28_356, 24_624);

fn url_50k() -> PathBuf {
    repo().join("../shared/vectors/apple/pir/url-50k")
}

#[test]
fn url_50k_sizes_are_the_transcript_bodies() {
    let params: pir_proto::PirParameters = pir::text_format::parse(URL_50K_PARAMS).unwrap();
    let sizes = computed(&params);
    assert_eq!(
        (sizes.evaluation_key, sizes.query, sizes.response),
        URL_50K_BODIES
    );
    let dir = url_50k();
    if dir.join("api/requests.A.binpb").is_file() {
        let m = check(&dir);
        assert_eq!((m.key, m.query, m.response), URL_50K_BODIES);
        let on_disk =
            pir_proto::PirParameters::decode(read(dir.join("url-0.params.binpb")).as_slice())
                .unwrap();
        assert_eq!(on_disk, params);
    } else {
        eprintln!(
            "{} absent: checked against the recorded sizes only",
            dir.display()
        );
    }
}

#[test]
fn the_key_is_the_union_over_shards_and_queries_grow_with_the_shard_index() {
    let params = pir_proto::PirParameters::decode(
        read(repo().join("vectors/apple/pir/url-1shard/url-0.params.binpb")).as_slice(),
    )
    .unwrap();
    let mut maxcomp = pir_proto::PirParameters::decode(
        read(repo().join("vectors/apple/pir/url-maxcomp/url-0.params.binpb")).as_slice(),
    )
    .unwrap();
    let one = computed(&params);
    let compressed = computed(&maxcomp);
    // A use case with both shapes needs every Galois key of either: the uncompressed key.
    maxcomp.num_entries = params.num_entries;
    let both = WireSizes::of(USECASE, &[maxcomp.clone(), params.clone()]).unwrap();
    assert_eq!(both.evaluation_key, one.evaluation_key);
    assert!(compressed.evaluation_key < one.evaluation_key);
    // Shard 1's requests carry `shard_index: 1` (2 bytes); shard 0's leave it out.
    assert_eq!(both.query, one.query + 2);
    // A longer use-case name costs its bytes in every request.
    let longer = WireSizes::of(&format!("{USECASE}xx"), std::slice::from_ref(&params)).unwrap();
    assert_eq!(longer.query, one.query + 2);
    assert_eq!(longer.response, one.response);
    assert!(WireSizes::of(USECASE, &[]).is_err());
}
