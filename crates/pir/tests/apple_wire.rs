//! Apple's transcripts (`vectors/apple/pir`, listed in its `manifest.json`): every protobuf file
//! decodes and re-encodes to the same bytes; the ids are SHA-256 of those bytes; the text files
//! parse to the binary ones and print back byte for byte.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "vector tests fail loudly on malformed vectors"
)]

mod common;

use common::{read_json, read_vector};
use pir::canonical::{config_id, evaluation_key_config_hash};
use pir::proto::{api, api_pir, api_shared, he, pir as pir_proto};
use pir::text_format::{self, TextMessage};
use prost::Message;
use serde_json::Value;

fn manifest() -> Value {
    read_json("apple/pir/manifest.json")
}

fn files_with_prefix(prefix: &str) -> Vec<(String, String)> {
    manifest()["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| {
            let format = f["format"].as_str()?.strip_prefix(prefix)?;
            Some((f["path"].as_str()?.to_owned(), format.to_owned()))
        })
        .collect()
}

/// Decodes as `M` and re-encodes.
fn reencode<M: Message + Default>(bytes: &[u8]) -> Vec<u8> {
    M::decode(bytes).expect("decodes").encode_to_vec()
}

/// The Galois-key map of `he::proto` is a `HashMap`, so its entry order is not kept; compare
/// each key's switch keys instead of the raw bytes.
fn evaluation_keys_equal_up_to_map_order(bytes: &[u8]) {
    let keys = api_shared::EvaluationKeys::decode(bytes).expect("decodes");
    let again =
        api_shared::EvaluationKeys::decode(keys.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!(keys, again);
    assert_eq!(keys.encoded_len(), bytes.len());
    let galois: Vec<u64> = keys.keys[0]
        .evaluation_key
        .as_ref()
        .and_then(|k| k.galois_key.as_ref())
        .map(|g| {
            let mut elements: Vec<u64> = g.key_switch_keys.keys().copied().collect();
            elements.sort_unstable();
            elements
        })
        .expect("galois key");
    assert!(!galois.is_empty());
}

#[test]
fn every_binpb_reencodes_to_the_same_bytes() {
    let files = files_with_prefix("binpb:");
    let mut checked = 0;
    for (path, format) in &files {
        let bytes = read_vector(&format!("apple/{path}"));
        let again = match format.as_str() {
            "apple.swift_homomorphic_encryption.api.v1.ConfigRequest" => {
                reencode::<api::ConfigRequest>(&bytes)
            }
            "apple.swift_homomorphic_encryption.api.v1.ConfigResponse" => {
                reencode::<api::ConfigResponse>(&bytes)
            }
            "apple.swift_homomorphic_encryption.api.v1.Requests" => {
                reencode::<api::Requests>(&bytes)
            }
            "apple.swift_homomorphic_encryption.api.v1.Responses" => {
                reencode::<api::Responses>(&bytes)
            }
            "apple.swift_homomorphic_encryption.api.pir.v1.PIRConfig" => {
                reencode::<api_pir::PirConfig>(&bytes)
            }
            "apple.swift_homomorphic_encryption.api.shared.v1.EvaluationKeys" => {
                evaluation_keys_equal_up_to_map_order(&bytes);
                checked += 1;
                continue;
            }
            "apple.swift_homomorphic_encryption.pir.v1.KeywordDatabase" => {
                reencode::<pir_proto::KeywordDatabase>(&bytes)
            }
            "apple.swift_homomorphic_encryption.pir.v1.PirParameters" => {
                reencode::<pir_proto::PirParameters>(&bytes)
            }
            "apple.swift_homomorphic_encryption.v1.EvaluationKeyConfig" => {
                reencode::<he::EvaluationKeyConfig>(&bytes)
            }
            "apple.swift_homomorphic_encryption.v1.SerializedSecretKey" => {
                reencode::<he::SerializedSecretKey>(&bytes)
            }
            other => panic!("{path}: no decoder for {other}"),
        };
        assert!(again == bytes, "{path} ({format}) re-encodes differently");
        checked += 1;
    }
    assert_eq!(checked, files.len());
    // 13 protobuf files per transcript.
    assert_eq!(checked, 26);
}

#[test]
fn config_ids_and_key_config_hashes_match_the_manifest() {
    let manifest = manifest();
    let variants = manifest["pir"].as_array().expect("pir");
    assert_eq!(variants.len(), 2);
    for variant in variants {
        let dir = variant["directory"].as_str().expect("directory");
        let pir_config_bytes = read_vector(&format!("apple/{dir}/api/pir-config.binpb"));
        let pir_config = api_pir::PirConfig::decode(pir_config_bytes.as_slice()).expect("decodes");
        assert_eq!(
            hex::encode(config_id(&pir_config)),
            variant["config_id"].as_str().expect("id")
        );

        let key_config_bytes = read_vector(&format!("apple/{dir}/api/evaluation-key-config.binpb"));
        let key_config =
            he::EvaluationKeyConfig::decode(key_config_bytes.as_slice()).expect("decodes");
        let hash = evaluation_key_config_hash(&key_config);
        assert_eq!(
            hex::encode(hash),
            variant["evaluation_key_config_hash"]
                .as_str()
                .expect("hash")
        );
        assert_eq!(pir_config.evaluation_key_config_hash, hash);

        // The config response carries both, and the id points at the same PIRConfig.
        let response_bytes = read_vector(&format!("apple/{dir}/api/config-response.binpb"));
        let response = api::ConfigResponse::decode(response_bytes.as_slice()).expect("decodes");
        let usecase = variant["usecase"].as_str().expect("usecase");
        let config = response.configs.get(usecase).expect("usecase config");
        assert_eq!(config.config_id, config_id(&pir_config));
        assert_eq!(
            config.config,
            Some(api::config::Config::PirConfig(pir_config))
        );
        assert_eq!(response.key_info[0].key_config.as_ref(), Some(&key_config));
    }
}

fn text_matches_binary<M: TextMessage + PartialEq + std::fmt::Debug>(txt: &str, bin: &str) {
    let text = String::from_utf8(read_vector(txt)).expect("UTF-8");
    let binary = M::decode(read_vector(bin).as_slice()).expect("decodes");
    let parsed: M = text_format::parse(&text).expect("parses");
    assert_eq!(parsed, binary, "{txt} parses to {bin}");
    let printed = text_format::print(&binary).expect("prints");
    assert!(printed == text, "{bin} prints as {txt}:\n{printed}");
}

#[test]
fn text_files_parse_to_the_binary_ones_and_print_back() {
    let files = files_with_prefix("txtpb:");
    let mut checked = 0;
    for (path, format) in &files {
        let txt = format!("apple/{path}");
        let bin = txt.replace(".txtpb", ".binpb");
        match format.as_str() {
            "apple.swift_homomorphic_encryption.pir.v1.PirParameters" => {
                text_matches_binary::<pir_proto::PirParameters>(&txt, &bin);
            }
            "apple.swift_homomorphic_encryption.pir.v1.KeywordDatabase" => {
                text_matches_binary::<pir_proto::KeywordDatabase>(&txt, &bin);
            }
            "apple.swift_homomorphic_encryption.v1.EvaluationKeyConfig" => {
                text_matches_binary::<he::EvaluationKeyConfig>(&txt, &bin);
            }
            other => panic!("{path}: no text decoder for {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn text_parser_accepts_the_list_forms_of_apples_guides() {
    // spec/pir-protocol.md §5.5: list syntax with commas, C-style escapes, one value per line.
    let db: pir_proto::KeywordDatabase = text_format::parse(
        r#"rows: [{ keyword: "example.com", value: "1" }, { keyword: "a\x01\002", value: "\n" }]
           rows { keyword: "x"; value: "y" }"#,
    )
    .expect("parses");
    let rows: Vec<(&[u8], &[u8])> = db
        .rows
        .iter()
        .map(|r| (&r.keyword[..], &r.value[..]))
        .collect();
    assert_eq!(
        rows,
        [
            (&b"example.com"[..], &b"1"[..]),
            (&b"a\x01\x02"[..], &b"\n"[..]),
            (&b"x"[..], &b"y"[..])
        ]
    );
    let printed = text_format::print(&db).expect("prints");
    assert!(printed.contains("keyword: \"a\\001\\002\"\n"), "{printed}");
    assert_eq!(
        text_format::parse::<pir_proto::KeywordDatabase>(&printed).expect("reparses"),
        db
    );

    let params: pir_proto::PirParameters =
        text_format::parse("dimensions: 2\ndimensions: 3\nnum_entries: 7").expect("parses");
    assert_eq!(params.dimensions, [2, 3]);
    assert_eq!(params.num_entries, 7);
    assert!(text_format::parse::<pir_proto::PirParameters>("num_entries: \"x\"").is_err());
    assert!(text_format::parse::<pir_proto::PirParameters>("no_such_field: 1").is_err());
}
