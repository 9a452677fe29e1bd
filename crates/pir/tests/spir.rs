//! Symmetric PIR (`pir::spir`, spec/pir-protocol.md §3.8, §6.8): RFC 9497 P384-SHA384 VOPRF
//! vectors through our server and client, Apple's OPRF encodings, the entry layout checked with
//! AES-GCM directly, key files, typed errors for malformed input (proptest: never a panic), and
//! an SPIR database processed through the pipeline and queried (OPRF round, keyword PIR through
//! `ShardServer`, opening the value).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes192;
use aes_gcm::{AesGcm, Key, Nonce};
use common::read_json;
use he::rng::NistAes128Ctr;
use pir::client::{KeywordPirClient, SecretKey};
use pir::database::ProcessedShard;
use pir::evaluation_key::EvaluationKeyConfig;
use pir::keyword_database::KeywordValuePair;
use pir::process::{ProcessedDatabase, Progress};
use pir::process_config::ProcessConfig;
use pir::proto::{api_pir, pir as pir_proto};
use pir::server::{PreparedEvaluationKey, ShardServer};
use pir::spir::{
    OprfClient, OprfOutput, ServerPublicKey, ServerSecretKey, SpirError, process_symmetric,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// An RNG that yields fixed bytes, so that the RFC's blind and proof scalar are drawn exactly.
struct FixedRng(Vec<u8>);

impl rand::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(
            dest.len() <= self.0.len(),
            "asked for more bytes than given"
        );
        dest.copy_from_slice(&self.0[..dest.len()]);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand::CryptoRng for FixedRng {}

fn hex_field(value: &serde_json::Value, key: &str) -> Vec<u8> {
    hex::decode(value[key].as_str().unwrap_or_else(|| panic!("{key}"))).unwrap()
}

fn rfc_key() -> (serde_json::Value, ServerSecretKey) {
    let rfc = read_json("pir/spir-rfc9497.json");
    let key = ServerSecretKey::from_bytes(&hex_field(&rfc, "sk_sm_hex")).unwrap();
    (rfc, key)
}

#[test]
fn rfc9497_p384_voprf_vectors_through_our_server_and_client() {
    let (rfc, key) = rfc_key();
    assert_eq!(
        key.public_key().to_bytes().to_vec(),
        hex_field(&rfc, "pk_sm_hex")
    );
    let client = OprfClient::from_client_config(&key.client_config()).unwrap();
    let vectors = rfc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 2);
    for v in vectors {
        let input = hex_field(v, "input_hex");
        let output = hex_field(v, "output_hex");
        let (blinded, request) = client
            .blind(&input, &mut FixedRng(hex_field(v, "blind_hex")))
            .unwrap();
        assert_eq!(request.query_element, hex_field(v, "blinded_element_hex"));
        let response = key
            .blind_evaluate(
                &request,
                &mut FixedRng(hex_field(v, "proof_random_scalar_hex")),
            )
            .unwrap();
        assert_eq!(
            response.evaluated_element,
            hex_field(v, "evaluation_element_hex")
        );
        assert_eq!(response.proof, hex_field(v, "proof_hex"));
        assert_eq!(
            client
                .finalize(blinded, &response)
                .unwrap()
                .as_bytes()
                .to_vec(),
            output
        );
        // The offline, non-blind evaluation gives the same output.
        assert_eq!(key.evaluate(&input).unwrap().as_bytes().to_vec(), output);
    }
}

#[test]
fn apples_oprf_encodings_parse_and_its_response_is_the_rfc_answer() {
    let apple = &read_json("pir/pir.json")["oprf_encodings"];
    let (rfc, key) = rfc_key();
    // Apple's blinded element is a valid point the server evaluates.
    let request = api_pir::OprfRequest {
        query_element: hex_field(apple, "blinded_element_hex"),
        config_id: Vec::new(),
    };
    let evaluated = key
        .blind_evaluate(&request, &mut StdRng::seed_from_u64(1))
        .unwrap();
    assert_eq!(evaluated.evaluated_element.len(), 49);
    assert_eq!(evaluated.proof.len(), 96);
    // Apple's evaluated element and proof are RFC vector 1's: they parse, verify under the RFC
    // key for the RFC blind of input 00, and finalize to the RFC output.
    let response = api_pir::OprfResponse {
        evaluated_element: hex_field(apple, "evaluated_element_hex"),
        proof: hex_field(apple, "proof_hex"),
    };
    let v = &rfc["vectors"][0];
    let client = OprfClient::new(key.public_key());
    let (blinded, _) = client
        .blind(b"\x00", &mut FixedRng(hex_field(v, "blind_hex")))
        .unwrap();
    let output = client.finalize(blinded, &response).unwrap();
    assert_eq!(output.as_bytes().to_vec(), hex_field(v, "output_hex"));
    // For another blind the same response is a wrong proof.
    let (other, _) = client
        .blind(b"\x00", &mut StdRng::seed_from_u64(2))
        .unwrap();
    assert_eq!(
        client.finalize(other, &response),
        Err(SpirError::ProofVerification)
    );
}

#[test]
fn entries_are_aes192_gcm_under_the_outputs_last_24_bytes_with_its_first_12_as_nonce() {
    let (rfc, key) = rfc_key();
    let out = hex_field(&rfc["vectors"][0], "output_hex");
    let output = key.evaluate(b"\x00").unwrap();
    assert_eq!(output.oblivious_keyword(), &out[..16]);
    let value = b"a value of some length".to_vec();
    let sealed = output.seal(&value).unwrap();
    assert_eq!(sealed.len(), value.len() + 16);
    // Independently of our code: Apple's layout (§3.8), empty AAD, ciphertext ‖ tag.
    let mut k = [0u8; 24];
    k.copy_from_slice(&out[24..]);
    let mut n = [0u8; 12];
    n.copy_from_slice(&out[..12]);
    let cipher = AesGcm::<Aes192, U12>::new(&Key::<AesGcm<Aes192, U12>>::from(k));
    assert_eq!(
        cipher
            .encrypt(&Nonce::<U12>::from(n), value.as_slice())
            .unwrap(),
        sealed
    );
    assert_eq!(output.open(&sealed).unwrap(), value);
    // Tampering, another keyword's key, short entries: typed errors.
    let mut tampered = sealed.clone();
    tampered[0] ^= 1;
    assert_eq!(output.open(&tampered), Err(SpirError::Decryption));
    let other = key.evaluate(b"\x01").unwrap();
    assert_eq!(other.open(&sealed), Err(SpirError::Decryption));
    assert_eq!(
        output.open(&sealed[..15]),
        Err(SpirError::EntryTooShort { len: 15 })
    );
    // An empty value seals to its tag alone.
    assert_eq!(output.open(&output.seal(b"").unwrap()).unwrap(), b"");
}

#[test]
fn key_files_are_96_hex_digits_and_bad_keys_are_typed_errors() {
    let (rfc, key) = rfc_key();
    let hex = rfc["sk_sm_hex"].as_str().unwrap();
    assert_eq!(key.to_hex(), hex);
    let loaded = ServerSecretKey::from_hex(&format!("  {}\n", hex.to_uppercase())).unwrap();
    assert_eq!(loaded.to_bytes(), key.to_bytes());
    assert_eq!(
        ServerSecretKey::from_hex(&hex[..94]).unwrap_err(),
        SpirError::KeyLength { len: 47 }
    );
    assert!(matches!(
        ServerSecretKey::from_hex(&hex[..95]),
        Err(SpirError::KeyHex(_))
    ));
    assert!(matches!(
        ServerSecretKey::from_hex(&format!("0x{}", &hex[2..])),
        Err(SpirError::KeyHex(_))
    ));
    assert_eq!(
        ServerSecretKey::from_bytes(&[1; 40]).unwrap_err(),
        SpirError::KeyLength { len: 40 }
    );
    assert_eq!(
        ServerSecretKey::from_bytes(&[0; 48]).unwrap_err(),
        SpirError::KeyOutOfRange
    );
    // n, the P-384 group order, is not a valid scalar; n - 1 is.
    let n = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";
    assert_eq!(
        ServerSecretKey::from_hex(n).unwrap_err(),
        SpirError::KeyOutOfRange
    );
    assert!(ServerSecretKey::from_hex(&format!("{}2", &n[..95])).is_ok());
    // Generated keys round-trip through their file text; the Debug form hides the scalar.
    let generated = ServerSecretKey::generate(&mut StdRng::seed_from_u64(3));
    let text = generated.to_hex();
    assert_eq!(text.len(), 96);
    assert_eq!(
        ServerSecretKey::from_hex(&text).unwrap().to_bytes(),
        generated.to_bytes()
    );
    assert!(!format!("{generated:?}").contains(&text));
}

#[test]
fn malformed_points_wrong_proofs_and_configs_are_typed_errors() {
    let (rfc, key) = rfc_key();
    let client = OprfClient::new(key.public_key());
    let mut rng = StdRng::seed_from_u64(4);
    let (_, good_request) = client.blind(b"example.com", &mut rng).unwrap();
    let good = key.blind_evaluate(&good_request, &mut rng).unwrap();
    let server_with = |query_element: Vec<u8>| {
        key.blind_evaluate(
            &api_pir::OprfRequest {
                query_element,
                config_id: Vec::new(),
            },
            &mut StdRng::seed_from_u64(5),
        )
    };
    let element = good_request.query_element.clone();
    // Wrong lengths, trailing bytes, uncompressed tags, x off the curve.
    for bad in [
        Vec::new(),
        element[..48].to_vec(),
        [element.clone(), vec![0]].concat(),
    ] {
        assert!(matches!(
            server_with(bad),
            Err(SpirError::Length {
                what: "query_element",
                expected: 49,
                ..
            })
        ));
    }
    let mut tag4 = element.clone();
    tag4[0] = 4;
    let mut off_curve = vec![2u8];
    off_curve.extend([0xff; 48]);
    for bad in [tag4, off_curve, vec![0; 49]] {
        assert_eq!(
            server_with(bad),
            Err(SpirError::InvalidElement {
                what: "query_element"
            })
        );
    }

    let finalize_with = |response: &api_pir::OprfResponse| {
        let (blinded, _) = client
            .blind(b"example.com", &mut StdRng::seed_from_u64(4))
            .unwrap();
        client.finalize(blinded, response)
    };
    assert!(finalize_with(&good).is_ok());
    let mut short_proof = good.clone();
    short_proof.proof.pop();
    assert!(matches!(
        finalize_with(&short_proof),
        Err(SpirError::Length { what: "proof", .. })
    ));
    let mut big_scalar = good.clone();
    big_scalar.proof[..48].fill(0xff);
    assert_eq!(finalize_with(&big_scalar), Err(SpirError::InvalidProof));
    let mut flipped = good.clone();
    flipped.proof[95] ^= 1;
    assert_eq!(finalize_with(&flipped), Err(SpirError::ProofVerification));
    let mut bad_element = good.clone();
    bad_element.evaluated_element[0] = 4;
    assert_eq!(
        finalize_with(&bad_element),
        Err(SpirError::InvalidElement {
            what: "evaluated_element"
        })
    );
    // An answer under another key does not verify against the published one.
    let other = ServerSecretKey::generate(&mut StdRng::seed_from_u64(6));
    let forged = other
        .blind_evaluate(&good_request, &mut StdRng::seed_from_u64(7))
        .unwrap();
    assert_eq!(finalize_with(&forged), Err(SpirError::ProofVerification));

    let mut config = key.client_config();
    config.config_type = 0;
    assert_eq!(
        OprfClient::from_client_config(&config),
        Err(SpirError::UnsupportedConfigType(0))
    );
    config.config_type = 1;
    config.server_public_key.truncate(33);
    assert!(matches!(
        OprfClient::from_client_config(&config),
        Err(SpirError::Length {
            what: "server public key",
            ..
        })
    ));
    assert_eq!(
        ServerPublicKey::from_bytes(&hex_field(&rfc, "pk_sm_hex")).unwrap(),
        key.public_key()
    );
}

fn no_progress(_: Progress) {}

/// A symmetric-PIR usecase in memory: the OPRF key, the keyword-PIR client, one server per shard.
struct Deployment {
    oprf_key: ServerSecretKey,
    oprf: OprfClient,
    client: KeywordPirClient,
    servers: Vec<ShardServer>,
    keys: Vec<PreparedEvaluationKey>,
}

impl Deployment {
    fn new(db: ProcessedDatabase<ProcessedShard>, oprf_key: ServerSecretKey) -> Self {
        let config = &db.usecase.pir_config;
        // The client learns the OPRF public key from the usecase's PIRConfig, as a device does.
        let spir_config = config
            .keyword_pir_params
            .as_ref()
            .and_then(|k| k.symmetric_pir_client_config.clone())
            .expect("symmetric_pir_client_config in PIRConfig");
        let oprf = OprfClient::from_client_config(&spir_config).unwrap();
        let ep = config.encryption_parameters.clone().unwrap();
        let secret = SecretKey::generate(&ep, &mut NistAes128Ctr::new(&[9; 32])).unwrap();
        let key = secret
            .evaluation_key(
                &EvaluationKeyConfig::from_proto(&db.usecase.evaluation_key_config),
                &mut NistAes128Ctr::new(&[10; 32]),
            )
            .unwrap();
        let client = KeywordPirClient::from_pir_config(config, secret).unwrap();
        let servers: Vec<ShardServer> = db
            .shards
            .into_iter()
            .map(|s| ShardServer::new(s).unwrap())
            .collect();
        let keys = servers
            .iter()
            .map(|s| PreparedEvaluationKey::from_proto(s, &key).unwrap())
            .collect();
        Self {
            oprf_key,
            oprf,
            client,
            servers,
            keys,
        }
    }

    /// Keyword PIR for `keyword` as it is stored.
    fn pir(&self, keyword: &[u8], seed: u8) -> Option<Vec<u8>> {
        let query = self
            .client
            .query(keyword, &mut NistAes128Ctr::new(&[seed; 32]))
            .unwrap();
        let s = query.shard_index;
        let response = self.servers[s]
            .respond(&query.encrypted, &self.keys[s])
            .unwrap();
        self.client.decrypt(keyword, &response).unwrap()
    }

    /// The device's `symmetricPirRequest`: OPRF round, keyword PIR, open.
    fn lookup(&self, keyword: &[u8], seed: u8) -> Option<Vec<u8>> {
        let mut rng = StdRng::seed_from_u64(u64::from(seed));
        let (blinded, request) = self.oprf.blind(keyword, &mut rng).unwrap();
        let response = self.oprf_key.blind_evaluate(&request, &mut rng).unwrap();
        let output = self.oprf.finalize(blinded, &response).unwrap();
        self.pir(output.oblivious_keyword(), seed)
            .map(|entry| output.open(&entry).unwrap())
    }
}

#[test]
fn an_spir_database_answers_present_keywords_with_their_values_and_nothing_else() {
    let rows: Vec<KeywordValuePair> = (0..40)
        .map(|i| {
            KeywordValuePair::new(
                format!("blocked{i}.example").into_bytes(),
                vec![b'v'; 1 + i % 7],
            )
        })
        .collect();
    let config = ProcessConfig::from_json(
        r#"{"inputDatabase":"input.txtpb","outputDatabase":"url-SHARD_ID.bin",
            "outputPirParameters":"url-SHARD_ID.params.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","sharding":{"shardCount":2},
            "symmetricPirArguments":{"databaseEncryptionKeyFilePath":"k.txt"},
            "databaseType":"keyword"}"#,
    )
    .unwrap();
    let oprf_key = ServerSecretKey::generate(&mut StdRng::seed_from_u64(11));
    let db = process_symmetric(
        &rows,
        &config,
        &oprf_key,
        &mut StdRng::seed_from_u64(12),
        &no_progress,
    )
    .unwrap();
    assert_eq!(db.shards.len(), 2);
    for shard in &db.shards {
        let params: &pir_proto::PirParameters = shard.parameters();
        assert_eq!(
            params
                .keyword_pir_params
                .as_ref()
                .unwrap()
                .symmetric_pir_client_config,
            Some(oprf_key.client_config())
        );
    }
    let deployment = Deployment::new(db, oprf_key);
    for (i, row) in rows.iter().enumerate().step_by(13) {
        assert_eq!(
            deployment.lookup(&row.keyword, i as u8),
            Some(row.value.clone()),
            "row {i}"
        );
    }
    assert_eq!(deployment.lookup(b"absent.example", 1), None);
    // The plaintext keyword is not what the database is keyed on.
    assert_eq!(deployment.pir(&rows[0].keyword, 2), None);
    // A stored entry is sealed: opening it under another keyword's output fails.
    let first = deployment.oprf_key.evaluate(&rows[0].keyword).unwrap();
    let entry = deployment.pir(first.oblivious_keyword(), 3).unwrap();
    let second: OprfOutput = deployment.oprf_key.evaluate(&rows[1].keyword).unwrap();
    assert_eq!(second.open(&entry), Err(SpirError::Decryption));
    assert_eq!(first.open(&entry).unwrap(), rows[0].value);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn key_and_point_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120),
                                          text in ".{0,120}") {
        let _ = ServerSecretKey::from_bytes(&bytes);
        let _ = ServerSecretKey::from_hex(&text);
        let _ = ServerPublicKey::from_bytes(&bytes);
        let config = pir_proto::SymmetricPirClientConfig {
            server_public_key: bytes.clone(),
            config_type: i32::from(bytes.first().copied().unwrap_or(1) % 3),
        };
        let _ = OprfClient::from_client_config(&config);
    }

    #[test]
    fn oprf_messages_and_entries_never_panic(query in proptest::collection::vec(any::<u8>(), 0..60),
                                             element in proptest::collection::vec(any::<u8>(), 0..60),
                                             proof in proptest::collection::vec(any::<u8>(), 0..110),
                                             entry in proptest::collection::vec(any::<u8>(), 0..40),
                                             prefix in 0u8..5) {
        let key = ServerSecretKey::from_bytes(&[7; 48]).unwrap();
        // Bias towards the right lengths and point tags so parsing gets past the length checks.
        let mut query = query;
        if query.len() >= 49 { query.truncate(49); query[0] = prefix; }
        let request = api_pir::OprfRequest { query_element: query, config_id: Vec::new() };
        let _ = key.blind_evaluate(&request, &mut StdRng::seed_from_u64(1));
        let client = OprfClient::new(key.public_key());
        let (blinded, _) = client.blind(b"k", &mut StdRng::seed_from_u64(2)).unwrap();
        let mut element = element;
        if element.len() >= 49 { element.truncate(49); element[0] = prefix; }
        let mut proof = proof;
        if proof.len() >= 96 { proof.truncate(96); }
        let response = api_pir::OprfResponse { evaluated_element: element, proof };
        prop_assert!(client.finalize(blinded, &response).is_err());
        let output = key.evaluate(b"k").unwrap();
        prop_assert!(output.open(&entry).is_err());
    }
}

#[test]
fn a_bucket_size_that_fits_the_plaintext_values_but_not_their_tags_is_a_typed_error() {
    let rows = vec![KeywordValuePair::new(b"a.example".to_vec(), vec![1; 20])];
    let json = |size: usize| {
        format!(
            r#"{{"inputDatabase":"i.txtpb","outputDatabase":"o.bin","outputPirParameters":"o.txtpb",
                "rlweParameters":"n_4096_logq_27_28_28_logt_5",
                "cuckooTableArguments":{{"maxSerializedBucketSize":{size}}}}}"#
        )
    };
    let key = ServerSecretKey::generate(&mut StdRng::seed_from_u64(13));
    let run = |size: usize| {
        process_symmetric(
            &rows,
            &ProcessConfig::from_json(&json(size)).unwrap(),
            &key,
            &mut StdRng::seed_from_u64(14),
            &no_progress,
        )
    };
    // 11 + 20 passes Apple's check on the plaintext values; the sealed value needs 16 more.
    assert!(matches!(
        run(31),
        Err(SpirError::Pir(pir::PirError::InvalidProcessConfig(_)))
    ));
    assert!(matches!(
        run(30),
        Err(SpirError::Pir(pir::PirError::InvalidProcessConfig(_)))
    ));
    assert!(run(47).is_ok());
}
