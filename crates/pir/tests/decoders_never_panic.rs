//! Decoders of file and network input, fed arbitrary bytes: errors, never panics.

use pir::bucket::{BucketEntry, HashBucket};
use pir::packing::{bytes_to_coefficients, coefficients_to_bytes};
use proptest::prelude::*;

proptest! {
    #[test]
    fn bucket_parse_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(bucket) = HashBucket::parse(&raw) {
            // What parsed re-serializes to a prefix of the input (the rest was padding).
            let bytes = bucket.serialize();
            prop_assert!(raw.starts_with(&bytes));
        }
    }

    #[test]
    fn bucket_round_trips(entries in proptest::collection::vec(
        (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..20)
    ) {
        let entries: Vec<BucketEntry> = entries
            .into_iter()
            .map(|(keyword_hash, value)| BucketEntry { keyword_hash, value })
            .collect();
        let bucket = HashBucket::new(entries).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut bytes = bucket.serialize();
        prop_assert_eq!(bytes.len(), bucket.serialized_size());
        bytes.extend_from_slice(&[0; 7]);
        prop_assert_eq!(HashBucket::parse(&bytes), Ok(bucket));
    }

    #[test]
    fn packing_round_trips(raw in proptest::collection::vec(any::<u8>(), 0..200), bits in 1u32..=64) {
        let coeffs = bytes_to_coefficients(&raw, bits).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(coeffs.len(), (8 * raw.len()).div_ceil(bits as usize));
        let back = coefficients_to_bytes(&coeffs, bits).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The last coefficient may carry padding bits, which come back as extra zero bytes.
        prop_assert!(back.starts_with(&raw));
        prop_assert!(back[raw.len()..].iter().all(|&b| b == 0));
    }
}

mod wire {
    use pir::params_file::from_pir_parameters;
    use pir::process_config::ProcessConfig;
    use pir::proto::{api, api_shared, pir as pir_proto};
    use pir::text_format;
    use pir::usecase_config::UsecaseConfig;
    use proptest::prelude::*;
    use prost::Message;

    proptest! {
        #[test]
        fn request_and_key_decoding_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = api::Requests::decode(raw.as_slice());
            let _ = api::ConfigRequest::decode(raw.as_slice());
            let _ = api_shared::EvaluationKeys::decode(raw.as_slice());
        }

        #[test]
        fn params_validation_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(params) = pir_proto::PirParameters::decode(raw.as_slice()) {
                let _ = from_pir_parameters(&params);
                let _ = UsecaseConfig::from_shards(&[params.clone(), params]);
            }
        }

        #[test]
        fn text_parsing_never_panics(text in "\\PC{0,200}") {
            let _ = text_format::parse::<pir_proto::PirParameters>(&text);
            let _ = text_format::parse::<pir_proto::KeywordDatabase>(&text);
            let _ = ProcessConfig::from_json(&text);
        }

        #[test]
        fn text_like_input_never_panics(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("rows"), Just("{"), Just("}"), Just("["), Just("]"), Just(":"), Just(","),
                    Just("keyword"), Just("value"), Just("\"a\\x0"), Just("\"\\377\""), Just("num_entries"),
                    Just("1"), Just("-1"), Just("dimensions"), Just("18446744073709551616"),
                ],
                0..40,
            )
        ) {
            let text = parts.join(" ");
            let _ = text_format::parse::<pir_proto::KeywordDatabase>(&text);
            let _ = text_format::parse::<pir_proto::PirParameters>(&text);
        }
    }
}
