//! Our processing of Apple's transcript inputs (`input.txtpb` + `url-config.json`) against
//! what Apple's `PIRProcessDatabase` wrote: identical params files, union key config and
//! `PIRConfig`; Apple's buckets decode with our bucket format and hold every keyword in one of
//! its candidate buckets; per-query index arithmetic equals the manifest's.
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "vector tests fail loudly on malformed vectors"
)]

mod common;

use common::{read_json, read_vector};
use pir::bucket::HashBucket;
use pir::evaluation_key::EvaluationKeyConfig;
use pir::keyword::{hash_indices, keyword_hash};
use pir::keyword_database::{rows_from_proto, rows_to_proto, shard_rows};
use pir::keyword_pir::ShardLayout;
use pir::params_file::{RingShape, from_pir_parameters, to_pir_parameters};
use pir::process_config::ProcessConfig;
use pir::proto::{api, he, pir as pir_proto};
use pir::text_format;
use pir::usecase_config::UsecaseConfig;
use prost::Message;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

/// The predefined set (spec/bfv.md §2.1) the config names, from crates/he's table.
fn encryption_parameters(name: &str) -> he::EncryptionParameters {
    ::he::params::PredefinedParameters::from_name(name)
        .expect("predefined parameter set")
        .parameters()
        .to_proto()
}

fn variants() -> Vec<Value> {
    read_json("apple/pir/manifest.json")["pir"]
        .as_array()
        .expect("pir")
        .clone()
}

fn text(relative: &str) -> String {
    String::from_utf8(read_vector(relative)).expect("UTF-8")
}

#[test]
fn processing_gives_apples_params_key_config_and_pir_config() {
    for variant in variants() {
        let dir = format!(
            "apple/{}",
            variant["directory"].as_str().expect("directory")
        );
        let config =
            ProcessConfig::from_json(&text(&format!("{dir}/url-config.json"))).expect("config");
        let database: pir_proto::KeywordDatabase =
            text_format::parse(&text(&format!("{dir}/{}", config.input_database))).expect("input");
        let rows = rows_from_proto(database.clone());
        assert_eq!(rows_to_proto(&rows), database);
        assert_eq!(
            rows.len() as u64,
            variant["row_count"].as_u64().expect("rows")
        );

        let ep = encryption_parameters(&config.rlwe_parameters);
        let shape = RingShape::of(&ep).expect("shape");
        let max_value = rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
        let resolved = config
            .resolve_keyword(max_value, shape.bytes_per_plaintext)
            .expect("resolves");
        assert_eq!(
            resolved.keyword.cuckoo.max_serialized_bucket_size() as u64,
            variant["max_serialized_bucket_size"]
                .as_u64()
                .expect("size")
        );
        let shards = shard_rows(rows, &resolved.sharding, resolved.keyword.sharding_function)
            .expect("shards");
        assert_eq!(
            shards.len() as u64,
            variant["shard_count"].as_u64().expect("shard count")
        );

        let mut rng = StdRng::seed_from_u64(5);
        let mut params = Vec::new();
        let mut key_configs = Vec::new();
        for (shard, expected) in shards
            .iter()
            .zip(variant["shards"].as_array().expect("shards"))
        {
            let id = expected["shard_id"].as_str().expect("shard id");
            assert_eq!(shard.index.to_string(), id);
            assert_eq!(
                shard.rows.len() as u64,
                expected["rows"].as_u64().expect("rows")
            );
            let layout = ShardLayout::build(
                &shard.rows,
                &resolved.keyword,
                shape.degree,
                shape.bytes_per_plaintext,
                &mut rng,
            )
            .expect("layout");
            let ours = to_pir_parameters(
                &ep,
                &layout.index_parameter,
                Some(&layout.keyword_parameter),
            );

            let stem = config.output_pir_parameters.replace("SHARD_ID", id);
            let apple_bin = read_vector(&format!("{dir}/{}", stem.replace(".txtpb", ".binpb")));
            assert!(
                ours.encode_to_vec() == apple_bin,
                "{dir} shard {id}: params differ:\n{ours:?}"
            );
            assert_eq!(
                text_format::print(&ours).expect("prints"),
                text(&format!("{dir}/{stem}"))
            );

            let index = &layout.index_parameter;
            assert_eq!(index.chunk_count(shape.bytes_per_plaintext), 1);
            assert_eq!(
                (index.plaintexts_per_chunk() * layout.keyword_parameter.hash_function_count)
                    as u64,
                expected["plaintext_count"].as_u64().expect("plaintexts")
            );
            key_configs.push(index.evaluation_key_config.clone());
            params.push(ours);
        }

        let union = EvaluationKeyConfig::union(&key_configs).to_proto(&ep);
        assert!(
            union.encode_to_vec() == read_vector(&format!("{dir}/evaluation-key-config.binpb"))
        );
        assert_eq!(
            text_format::print(&union).expect("prints"),
            text(&format!("{dir}/evaluation-key-config.txtpb"))
        );

        // The usecase's PIRConfig from our params is Apple's, byte for byte.
        let usecase = UsecaseConfig::from_shards(&params).expect("usecase config");
        assert!(
            usecase.pir_config.encode_to_vec()
                == read_vector(&format!("{dir}/api/pir-config.binpb"))
        );
        assert_eq!(
            hex::encode(usecase.config_id),
            variant["config_id"].as_str().expect("id")
        );
        assert_eq!(usecase.evaluation_key_config, union);
        let response = api::ConfigResponse::decode(
            read_vector(&format!("{dir}/api/config-response.binpb")).as_slice(),
        )
        .expect("response");
        assert_eq!(
            response
                .configs
                .get(variant["usecase"].as_str().expect("usecase")),
            Some(&usecase.to_config())
        );
    }
}

#[test]
fn apples_buckets_hold_every_keyword_in_a_candidate_bucket() {
    for variant in variants() {
        let dir = format!(
            "apple/{}",
            variant["directory"].as_str().expect("directory")
        );
        let database: pir_proto::KeywordDatabase =
            text_format::parse(&text(&format!("{dir}/input.txtpb"))).expect("input");
        let rows = rows_from_proto(database);
        for shard in variant["shards"].as_array().expect("shards") {
            let id = shard["shard_id"].as_str().expect("id");
            let params = pir_proto::PirParameters::decode(
                read_vector(&format!("{dir}/url-{id}.params.binpb")).as_slice(),
            )
            .expect("params");
            let (index, keyword) = from_pir_parameters(&params).expect("valid params");
            let keyword = keyword.expect("keyword params");
            let raw = read_vector(&format!("{dir}/url-{id}.buckets.bin"));
            let (per_table, size) = (index.entry_count, index.entry_size);
            assert_eq!(raw.len(), keyword.hash_function_count * per_table * size);
            let buckets: Vec<HashBucket> = raw
                .chunks(size)
                .map(|chunk| {
                    let bucket = HashBucket::parse(chunk).expect("bucket parses");
                    let used = bucket.serialized_size();
                    assert!(
                        bucket.serialize() == chunk[..used]
                            && chunk[used..].iter().all(|&b| b == 0)
                    );
                    bucket
                })
                .collect();
            let stored: usize = buckets.iter().map(|b| b.entries().len()).sum();
            assert_eq!(stored, rows.len(), "no row lost, none duplicated");

            let cuckoo = read_json(&format!("{dir}/url-{id}.cuckoo.json"));
            let placements = cuckoo["placements"].as_array().expect("placements");
            assert_eq!(placements.len(), rows.len());
            for placement in placements {
                let kw = placement["keyword"].as_str().expect("keyword").as_bytes();
                let candidates = hash_indices(kw, per_table, keyword.hash_function_count);
                let expected: Vec<usize> = placement["candidate_buckets"]
                    .as_array()
                    .expect("candidates")
                    .iter()
                    .map(|c| c.as_u64().expect("index") as usize)
                    .collect();
                assert_eq!(candidates, expected, "{placement}");
                assert_eq!(
                    hex::encode(keyword_hash(kw).to_le_bytes()),
                    placement["hash"].as_str().expect("hash")
                );
                let table = placement["table"].as_u64().expect("table") as usize;
                let bucket = placement["bucket"].as_u64().expect("bucket") as usize;
                assert_eq!(candidates.get(table), Some(&bucket));
                let value = rows
                    .iter()
                    .find(|r| r.keyword == kw)
                    .map(|r| r.value.as_slice());
                assert_eq!(
                    buckets[table * per_table + bucket].find(kw),
                    value,
                    "{placement}"
                );
                let slot = placement["slot"].as_u64().expect("slot") as usize;
                assert_eq!(
                    buckets[table * per_table + bucket].entries()[slot].keyword_hash,
                    keyword_hash(kw)
                );
            }
            // Every input keyword is found through its candidates, as a client would.
            for row in &rows {
                let found = hash_indices(&row.keyword, per_table, keyword.hash_function_count)
                    .iter()
                    .enumerate()
                    .find_map(|(table, &b)| buckets[table * per_table + b].find(&row.keyword));
                assert_eq!(found, Some(row.value.as_slice()));
            }
        }
    }
}

#[test]
fn query_index_arithmetic_matches_the_manifest() {
    let mut checked = 0;
    for variant in variants() {
        let dir = format!(
            "apple/{}",
            variant["directory"].as_str().expect("directory")
        );
        let shard_count = variant["shard_count"].as_u64().expect("shards") as usize;
        for group in variant["query_groups"].as_array().expect("groups") {
            let requests = api::Requests::decode(
                read_vector(&format!(
                    "apple/{}",
                    group["requests"].as_str().expect("path")
                ))
                .as_slice(),
            )
            .expect("requests");
            for query in group["queries"].as_array().expect("queries") {
                let kw = query["keyword"].as_str().expect("keyword").as_bytes();
                assert_eq!(
                    hex::encode(keyword_hash(kw).to_le_bytes()),
                    query["keyword_hash"].as_str().expect("hash")
                );
                let shard = pir::sharding::ShardingFunction::Sha256
                    .shard_index(kw, shard_count)
                    .expect("shard");
                assert_eq!(shard as u64, query["shard_index"].as_u64().expect("shard"));
                let params = pir_proto::PirParameters::decode(
                    read_vector(&format!("{dir}/url-{shard}.params.binpb")).as_slice(),
                )
                .expect("params");
                let (index, keyword) = from_pir_parameters(&params).expect("valid");
                let keyword = keyword.expect("keyword params");
                let bpp = RingShape::of(params.encryption_parameters.as_ref().expect("ep"))
                    .expect("shape")
                    .bytes_per_plaintext;
                let candidates = hash_indices(kw, index.entry_count, keyword.hash_function_count);
                let as_usizes = |v: &Value| -> Vec<usize> {
                    v.as_array()
                        .expect("array")
                        .iter()
                        .map(|x| x.as_u64().expect("int") as usize)
                        .collect()
                };
                assert_eq!(candidates, as_usizes(&query["bucket_indices"]));
                assert_eq!(
                    index.entries_per_plaintext(bpp) as u64,
                    query["entries_per_plaintext"].as_u64().expect("epp")
                );
                for (c, expected) in candidates
                    .iter()
                    .zip(query["coordinates"].as_array().expect("coords"))
                {
                    assert_eq!(
                        index.coordinates(*c, bpp).expect("in range"),
                        as_usizes(expected)
                    );
                }
                assert_eq!(
                    index
                        .query_one_positions(&candidates, bpp)
                        .expect("positions"),
                    as_usizes(&query["one_positions"])
                );
                assert_eq!(
                    (index.expanded_query_count() * candidates.len()) as u64,
                    query["expanded_input_count"].as_u64().expect("count")
                );
                // The recorded request routes to this shard with one ciphertext per query.
                let i = query["request_index"].as_u64().expect("index") as usize;
                let Some(api::request::Request::PirRequest(request)) =
                    &requests.requests[i].request
                else {
                    panic!("request {i} is not a PIR request");
                };
                assert_eq!(request.shard_index as usize, shard);
                let encrypted = request.query.as_ref().expect("query");
                assert_eq!(
                    encrypted.num_pir_calls as usize,
                    keyword.hash_function_count
                );
                let ciphertexts = query["ciphertext_count"].as_u64().expect("count") as usize;
                assert_eq!(encrypted.ciphertexts.len(), ciphertexts);
                let ep = params.encryption_parameters.as_ref().expect("ep");
                let degree = ep.polynomial_degree as usize;
                assert_eq!(
                    index.query_ciphertext_count(candidates.len(), degree),
                    ciphertexts
                );
                let plaintexts = index
                    .query_plaintexts(&candidates, bpp, degree, ep.plaintext_modulus)
                    .expect("plaintexts");
                let ones = as_usizes(&query["one_positions"]);
                let values = as_usizes(&query["one_value_per_ciphertext"]);
                for (b, plaintext) in plaintexts.iter().enumerate() {
                    for (j, &coefficient) in plaintext.iter().enumerate() {
                        let expected = if ones.contains(&(b * degree + j)) {
                            values[b] as u64
                        } else {
                            0
                        };
                        assert_eq!(coefficient, expected);
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 12, "{checked} queries checked");
}

/// The tags of Apple's `.bin` (spec/pir-protocol.md §5.1): `true` for a present plaintext.
fn bin_tags(bin: &[u8], encryption_parameters: &he::EncryptionParameters) -> Vec<bool> {
    assert_eq!(bin[0], 1, "version");
    let count = u32::from_le_bytes(bin[1..5].try_into().expect("4 bytes")) as usize;
    let n = encryption_parameters.polynomial_degree as usize;
    // Eval plaintexts are stored over every modulus but the last (the special one).
    let moduli = &encryption_parameters.coefficient_moduli;
    let poly_bytes: usize = moduli[..moduli.len() - 1]
        .iter()
        .map(|q| (n * (64 - (q - 1).leading_zeros()) as usize).div_ceil(8))
        .sum();
    let mut tags = Vec::with_capacity(count);
    let mut offset = 5;
    for _ in 0..count {
        match bin[offset] {
            0 => {
                tags.push(false);
                offset += 1;
            }
            1 => {
                tags.push(true);
                offset += 1 + poly_bytes;
            }
            tag => panic!("bad tag {tag}"),
        }
    }
    assert_eq!(offset, bin.len());
    tags
}

#[test]
fn plaintext_layout_of_apples_buckets_matches_apples_bin_and_answers_every_keyword() {
    use pir::packing::{bits_per_coeff, coefficients_to_bytes};
    use pir::plaintext_layout::{plaintext_position, table_plaintexts};
    for variant in variants() {
        let dir = format!(
            "apple/{}",
            variant["directory"].as_str().expect("directory")
        );
        let database: pir_proto::KeywordDatabase =
            text_format::parse(&text(&format!("{dir}/input.txtpb"))).expect("input");
        let rows = rows_from_proto(database);
        for shard in variant["shards"].as_array().expect("shards") {
            let id = shard["shard_id"].as_str().expect("id");
            let params = pir_proto::PirParameters::decode(
                read_vector(&format!("{dir}/url-{id}.params.binpb")).as_slice(),
            )
            .expect("params");
            let ep = params.encryption_parameters.clone().expect("ep");
            let bits = bits_per_coeff(ep.plaintext_modulus).expect("bits");
            let shape = RingShape::of(&ep).expect("shape");
            let (index, keyword) = from_pir_parameters(&params).expect("valid");
            let tables = keyword.expect("keyword").hash_function_count;
            let raw = read_vector(&format!("{dir}/url-{id}.buckets.bin"));
            let buckets: Vec<&[u8]> = raw.chunks(index.entry_size).collect();

            let mut layout = Vec::new();
            for table in buckets.chunks(index.entry_count) {
                layout.push(
                    table_plaintexts(table, &index, bits, shape.bytes_per_plaintext)
                        .expect("layout"),
                );
            }
            let ours: Vec<bool> = layout.iter().flatten().map(Option::is_some).collect();
            assert_eq!(
                ours,
                bin_tags(&read_vector(&format!("{dir}/url-{id}.bin")), &ep)
            );
            assert_eq!(
                ours.len() as u64,
                shard["plaintext_count"].as_u64().expect("count")
            );

            // A noise-free lookup: coordinates → plaintext → bytes → bucket → value.
            let per_plaintext = index.entries_per_plaintext(shape.bytes_per_plaintext);
            for row in &rows {
                let found = hash_indices(&row.keyword, index.entry_count, tables)
                    .iter()
                    .enumerate()
                    .find_map(|(t, &b)| {
                        let coordinates = index
                            .coordinates(b, shape.bytes_per_plaintext)
                            .expect("in range");
                        let position =
                            plaintext_position(&index, &coordinates, 0).expect("position");
                        let coeffs = layout[t][position].clone().unwrap_or_default();
                        let mut bytes = coefficients_to_bytes(&coeffs, bits).expect("bytes");
                        bytes.resize(shape.bytes_per_plaintext, 0);
                        let start = (b % per_plaintext) * index.entry_size;
                        let bucket = HashBucket::parse(&bytes[start..start + index.entry_size])
                            .expect("bucket");
                        bucket.find(&row.keyword).map(<[u8]>::to_vec)
                    });
                assert_eq!(found.as_deref(), Some(row.value.as_slice()));
            }
        }
    }
}
