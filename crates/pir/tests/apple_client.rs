//! Our client against Apple's transcripts (vectors/apple/README.md "What an implementation must
//! reproduce" item 5 and the decryption half of item 2): from the manifest's seeds, the secret
//! key, the evaluation-key upload and every `requests.*.binpb` byte for byte; Apple's
//! `responses.*.binpb` decrypt to the manifest's values. Walks `apple/pir/manifest.json`.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "vector tests fail loudly on malformed vectors"
)]

mod common;

use common::{read_json, read_vector};
use he::rng::NistAes128Ctr;
use pir::client::{KeywordPirClient, SecretKey};
use pir::evaluation_key::EvaluationKeyConfig;
use pir::proto::{api, api_pir, api_shared, he as he_proto};
use prost::Message;
use serde_json::Value;

fn seed(value: &Value) -> [u8; 32] {
    hex::decode(value.as_str().expect("seed"))
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing"))
}

/// What a device holds after `/config` and `/key`: the config, its id and the key status.
struct Session {
    config: api_pir::PirConfig,
    config_id: Vec<u8>,
    key_status: api_shared::KeyStatus,
}

fn session(variant: &Value) -> Session {
    let dir = format!("apple/{}", str_of(variant, "directory"));
    let response = api::ConfigResponse::decode(
        read_vector(&format!("{dir}/api/config-response.binpb")).as_slice(),
    )
    .expect("config response");
    let config = response
        .configs
        .get(str_of(variant, "usecase"))
        .expect("usecase config");
    let Some(api::config::Config::PirConfig(pir_config)) = &config.config else {
        panic!("not a PIR config");
    };
    assert_eq!(hex::encode(&config.config_id), str_of(variant, "config_id"));
    Session {
        config: pir_config.clone(),
        config_id: config.config_id.clone(),
        key_status: response.key_info.first().expect("key info").clone(),
    }
}

fn secret_key(variant: &Value, session: &Session) -> SecretKey {
    let parameters = session
        .config
        .encryption_parameters
        .as_ref()
        .expect("encryption parameters");
    let mut stream = NistAes128Ctr::new(&seed(&variant["client_secret_key_seed"]));
    SecretKey::generate(parameters, &mut stream).expect("secret key")
}

fn variants() -> Vec<Value> {
    read_json("apple/pir/manifest.json")["pir"]
        .as_array()
        .expect("pir")
        .clone()
}

#[test]
fn secret_key_and_evaluation_key_upload_from_their_seeds_are_apples() {
    for variant in variants() {
        let dir = format!("apple/{}", str_of(&variant, "directory"));
        let session = session(&variant);
        let key = secret_key(&variant, &session);
        let recorded = he_proto::SerializedSecretKey::decode(
            read_vector(&format!("{dir}/client/secret_key.binpb")).as_slice(),
        )
        .expect("secret key");
        assert!(key.to_proto().expect("serializes") == recorded, "{dir}");
        // The recorded key loads back to the same key.
        let parameters = key.encryption_parameters().clone();
        let loaded = SecretKey::from_proto(&parameters, &recorded).expect("loads");
        assert!(loaded.to_proto().expect("serializes") == recorded);

        let key_config = session.key_status.key_config.as_ref().expect("key config");
        let mut stream = NistAes128Ctr::new(&seed(&variant["client_evaluation_key_seed"]));
        let evaluation_key = key
            .evaluation_key(&EvaluationKeyConfig::from_proto(key_config), &mut stream)
            .expect("evaluation key");
        let upload = api_shared::EvaluationKeys {
            keys: vec![api_shared::EvaluationKey {
                metadata: Some(api_shared::EvaluationKeyMetadata {
                    timestamp: variant["key_timestamp"].as_u64().expect("timestamp"),
                    identifier: session.config.evaluation_key_config_hash.clone(),
                }),
                evaluation_key: Some(evaluation_key),
            }],
        };
        assert!(
            upload.encode_to_vec() == read_vector(&format!("{dir}/api/evaluation-keys.binpb")),
            "{dir}: evaluation-key upload differs"
        );
    }
}

#[test]
fn requests_are_reproduced_byte_for_byte_and_responses_decrypt_to_the_manifest_values() {
    let mut queries_checked = 0;
    for variant in variants() {
        let session = session(&variant);
        let usecase = str_of(&variant, "usecase");
        let client =
            KeywordPirClient::from_pir_config(&session.config, secret_key(&variant, &session))
                .expect("client");
        assert_eq!(
            client.shard_count() as u64,
            variant["config_shard_count"].as_u64().expect("shard count")
        );
        let metadata = api_shared::EvaluationKeyMetadata {
            timestamp: variant["key_timestamp"].as_u64().expect("timestamp"),
            identifier: session.config.evaluation_key_config_hash.clone(),
        };
        assert_eq!(
            hex::encode(&metadata.identifier),
            str_of(&variant, "evaluation_key_config_hash")
        );
        for group in variant["query_groups"].as_array().expect("groups") {
            let queries = group["queries"].as_array().expect("queries");
            let mut requests = api::Requests::default();
            for (i, query) in queries.iter().enumerate() {
                assert_eq!(query["request_index"].as_u64(), Some(i as u64));
                let keyword = str_of(query, "keyword").as_bytes();
                let mut stream = NistAes128Ctr::new(&seed(&query["query_seed"]));
                let encrypted = client.query(keyword, &mut stream).expect("query");
                assert_eq!(
                    encrypted.shard_index as u64,
                    query["shard_index"].as_u64().expect("shard")
                );
                let buckets: Vec<u64> = query["bucket_indices"]
                    .as_array()
                    .expect("buckets")
                    .iter()
                    .map(|b| b.as_u64().expect("bucket"))
                    .collect();
                assert_eq!(
                    encrypted
                        .bucket_indices
                        .iter()
                        .map(|&b| b as u64)
                        .collect::<Vec<_>>(),
                    buckets
                );
                let request = encrypted
                    .to_pir_request(metadata.clone(), &session.config_id)
                    .expect("request");
                requests.requests.push(api::Request {
                    usecase: usecase.to_owned(),
                    request: Some(api::request::Request::PirRequest(request)),
                });
            }
            let recorded = read_vector(&format!("apple/{}", str_of(group, "requests")));
            assert!(
                requests.encode_to_vec() == recorded,
                "{}: requests differ from Apple's",
                str_of(group, "requests")
            );

            let responses = api::Responses::decode(
                read_vector(&format!("apple/{}", str_of(group, "responses"))).as_slice(),
            )
            .expect("responses");
            assert_eq!(responses.responses.len(), queries.len());
            for (query, response) in queries.iter().zip(&responses.responses) {
                let Some(api::response::Response::PirResponse(response)) = &response.response
                else {
                    panic!("not a PIR response");
                };
                let keyword = str_of(query, "keyword").as_bytes();
                let value = client.decrypt(keyword, response).expect("decrypts");
                let expected = query["expected_value_hex"]
                    .as_str()
                    .map(|h| hex::decode(h).expect("hex"));
                assert_eq!(
                    query["present"].as_bool().expect("present"),
                    expected.is_some()
                );
                assert_eq!(value, expected, "{}", str_of(query, "keyword"));
                queries_checked += 1;
            }
        }
    }
    assert!(queries_checked >= 12, "{queries_checked} queries checked");
}

#[test]
fn malformed_responses_are_typed_errors() {
    let variant = variants().into_iter().next().expect("a variant");
    let session = session(&variant);
    let client = KeywordPirClient::from_pir_config(&session.config, secret_key(&variant, &session))
        .expect("client");
    let group = &variant["query_groups"][0];
    let responses = api::Responses::decode(
        read_vector(&format!("apple/{}", str_of(group, "responses"))).as_slice(),
    )
    .expect("responses");
    let Some(api::response::Response::PirResponse(good)) = &responses.responses[0].response else {
        panic!("not a PIR response");
    };
    let keyword = str_of(&group["queries"][0], "keyword").as_bytes();

    let mut fewer = good.clone();
    fewer.replies.pop();
    assert!(matches!(
        client.decrypt(keyword, &fewer),
        Err(pir::client::ClientError::InvalidResponse(_))
    ));

    let mut truncated = good.clone();
    if let Some(he_proto::serialized_ciphertext::SerializedCiphertextType::Full(full)) =
        truncated.replies[0].ciphertexts[0]
            .serialized_ciphertext_type
            .as_mut()
    {
        full.polys.truncate(full.polys.len() / 2);
    }
    assert!(matches!(
        client.decrypt(keyword, &truncated),
        Err(pir::client::ClientError::He(_))
    ));

    let mut empty_reply = good.clone();
    empty_reply.replies[1].ciphertexts.clear();
    assert!(matches!(
        client.decrypt(keyword, &empty_reply),
        Err(pir::client::ClientError::InvalidResponse(_))
    ));
}

#[test]
fn configs_a_client_cannot_follow_are_refused() {
    let variant = variants().into_iter().next().expect("a variant");
    let session = session(&variant);
    let key = || secret_key(&variant, &session);
    let with_shard = |edit: &dyn Fn(&mut api_pir::PirShardConfig)| {
        let mut config = session.config.clone();
        edit(&mut config.shard_configs[0]);
        KeywordPirClient::from_pir_config(&config, key())
    };
    assert!(with_shard(&|_| {}).is_ok());
    // A hypercube smaller than the entries it should address.
    assert!(matches!(
        with_shard(&|s| s.dimensions = vec![1, 1]),
        Err(pir::client::ClientError::Pir(_))
    ));
    // A shape whose queries would be a quarter of a million ciphertexts.
    assert!(matches!(
        with_shard(&|s| {
            s.num_entries = 1_000_000_000;
            s.dimensions = vec![500_000_000, 1];
        }),
        Err(pir::client::ClientError::Pir(_))
    ));
    let mut no_shards = session.config.clone();
    no_shards.shard_configs.clear();
    assert!(matches!(
        KeywordPirClient::from_pir_config(&no_shards, key()),
        Err(pir::client::ClientError::InvalidConfig(_))
    ));
    let mut other_ring = session.config.clone();
    if let Some(ep) = other_ring.encryption_parameters.as_mut() {
        ep.plaintext_modulus = 37;
    }
    assert!(matches!(
        KeywordPirClient::from_pir_config(&other_ring, key()),
        Err(pir::client::ClientError::InvalidEncryptionParameters(_))
    ));
}
