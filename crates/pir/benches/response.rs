//! Per-query server time (`pir::server::ShardServer::respond`) on `n_4096_logq_27_28_28_logt_5`
//! and its phases. Databases: `1k_1shard`, Apple's url-1shard transcript (its `.bin`, uploaded
//! key and first recorded query); `50k_shard`, Apple's url-50k transcript (one full 50K-URL
//! shard of the NEURLFilter example sharding, dims [25, 6]; read from the project's vectors or,
//! when only there, the golden vectors beside the repository); `100k_1shard` and `1m_1shard`,
//! Apple's bench inputs (vectors/apple/README.md: synthetic keywords, 1-byte values,
//! `PIRProcessDatabase` defaults, one shard), processed by `pir::process` and queried by
//! `pir::client`. Apple's server needs 47.3 ms (50K shard), 78.7 ms (100k) and 261 ms (1m)
//! per query with one thread on this machine kind. Each database runs on one thread
//! (`threads1`) and on two within the query (`threads2`, `ShardServer::with_threads`).
//!
//! Phases (`pir_phase/...`, one thread): the expansion of the query; one table's
//! first-dimension scan (`d1` ct×pt inner products over `d0` plaintexts, back to Coeff) and its
//! memory roofline (`scan_roofline`: one streaming pass summing the same plaintext words); the
//! second dimension's ct×ct inner product; the relinearization; the mod switch plus
//! serialization of one reply.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "bench setup: a failed unwrap aborts the bench"
)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use he::keyswitch::relinearize;
use he::modswitch::{mod_switch_down_to_single, skip_lsbs_for_decryption};
use he::poly::{Eval, Poly, PolyContext, write_polys};
use he::rng::NistAes128Ctr;
use pir::client::{KeywordPirClient, SecretKey};
use pir::database::ProcessedShard;
use pir::evaluation_key::EvaluationKeyConfig;
use pir::keyword_database::KeywordValuePair;
use pir::process::{Progress, process};
use pir::process_config::ProcessConfig;
use pir::proto::api::{Requests, request};
use pir::proto::api_shared::EvaluationKeys;
use pir::proto::pir::{EncryptedIndices, PirParameters};
use pir::server::{PreparedEvaluationKey, ShardServer};
use prost::Message;
use rand::SeedableRng;
use rand::rngs::StdRng;

struct Fixture {
    server: ShardServer,
    key: PreparedEvaluationKey,
    query: EncryptedIndices,
}

/// A transcript file: the project's copy, else the golden vectors beside the repository.
fn vector_path(rel: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        "../../vectors/apple/pir",
        "../../../shared/vectors/apple/pir",
    ]
    .iter()
    .map(|dir| manifest.join(dir).join(rel))
    .find(|p| p.exists())
}

fn vector(rel: &str) -> Vec<u8> {
    let path = vector_path(rel).unwrap_or_else(|| panic!("{rel}: not found"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An Apple transcript's database, uploaded key and first recorded query.
fn transcript(variant: &str) -> Fixture {
    let file = |name: &str| vector(&format!("{variant}/{name}"));
    let params = PirParameters::decode(file("url-0.params.binpb").as_slice()).unwrap();
    let shard = ProcessedShard::from_apple_bin(params, &file("url-0.bin")).unwrap();
    let server = ShardServer::new(shard).unwrap();
    let keys = EvaluationKeys::decode(file("api/evaluation-keys.binpb").as_slice()).unwrap();
    let key =
        PreparedEvaluationKey::from_proto(&server, keys.keys[0].evaluation_key.as_ref().unwrap())
            .unwrap();
    let requests = Requests::decode(file("api/requests.A.binpb").as_slice()).unwrap();
    let Some(request::Request::PirRequest(pir)) = &requests.requests[0].request else {
        panic!("not a PIR request");
    };
    Fixture {
        server,
        key,
        query: pir.query.clone().unwrap(),
    }
}

fn no_progress(_: Progress) {}

/// Apple's bench input: `rows` synthetic keywords with 1-byte values, defaults, one shard.
fn synthetic(rows: usize) -> Fixture {
    let input = (0..rows)
        .map(|i| KeywordValuePair::new(format!("host{i}.example.org"), "1"))
        .collect();
    let config = ProcessConfig::from_json(
        r#"{"inputDatabase":"input.txtpb","outputDatabase":"url-SHARD_ID.bin",
            "outputPirParameters":"url-SHARD_ID.params.txtpb",
            "rlweParameters":"n_4096_logq_27_28_28_logt_5","sharding":{"shardCount":1},
            "databaseType":"keyword"}"#,
    )
    .unwrap();
    let mut db = process(input, &config, &mut StdRng::seed_from_u64(1), &no_progress).unwrap();
    let shard = db.shards.remove(0);
    let params = shard.parameters().clone();
    let enc = params.encryption_parameters.clone().unwrap();
    let secret = SecretKey::generate(&enc, &mut NistAes128Ctr::new(&[1; 32])).unwrap();
    let key_config = EvaluationKeyConfig::from_proto(&db.usecase.evaluation_key_config);
    let key = secret
        .evaluation_key(&key_config, &mut NistAes128Ctr::new(&[2; 32]))
        .unwrap();
    let client = KeywordPirClient::from_shard_parameters(&[params], secret).unwrap();
    let query = client
        .query(b"host7.example.org", &mut NistAes128Ctr::new(&[3; 32]))
        .unwrap()
        .encrypted;
    let server = ShardServer::new(shard).unwrap();
    let key = PreparedEvaluationKey::from_proto(&server, &key).unwrap();
    Fixture { server, key, query }
}

fn bench_db(c: &mut Criterion, db: &str, f: Fixture) {
    let query = |c: &mut Criterion, f: &Fixture| {
        let mut group = c.benchmark_group("pir_query/n4096_logt5");
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        group.bench_function(format!("{db}/threads{}", f.server.threads()), |b| {
            b.iter(|| f.server.respond(&f.query, &f.key).unwrap());
        });
        group.finish();
    };
    query(c, &f);
    phases(c, db, &f);
    let f = Fixture {
        server: f.server.with_threads(2).unwrap(),
        ..f
    };
    query(c, &f);
}

fn phases(c: &mut Criterion, db: &str, f: &Fixture) {
    let shard = f.server.shard();
    let dims = &shard.index_parameter().dimensions;
    let (d0, d1) = (dims[0], dims.get(1).copied().unwrap_or(1));
    let moduli = {
        let enc = shard.parameters().encryption_parameters.as_ref().unwrap();
        enc.coefficient_moduli.clone()
    };
    let all = PolyContext::new(shard.degree(), &moduli).unwrap();
    let ctx = all.prefix(moduli.len() - 1).unwrap();
    let expanded = f.server.expand_query(&f.query, &f.key).unwrap();
    let first: Vec<Vec<Poly<Eval>>> = expanded[..d0]
        .iter()
        .map(|ct| ct.iter().map(|p| p.clone().ntt(&ctx)).collect())
        .collect();
    let plaintexts: Vec<Vec<Option<&[u64]>>> = (0..d1)
        .map(|col| (0..d0).map(|r| shard.plaintext(col * d0 + r)).collect())
        .collect();
    let refs: Vec<&[Option<&[u64]>]> = plaintexts.iter().map(Vec::as_slice).collect();
    // The scan's ct × pt sums alone, without the inverse NTTs of its outputs.
    let scan_sums = || he::dot::ct_pt_columns(&ctx, &first, &refs, 2).unwrap();
    let scan = || {
        scan_sums()
            .into_iter()
            .map(|sum| sum.into_iter().map(|p| p.intt(&ctx)).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let columns = scan();
    // The same plaintext words the scan reads, summed in one pass: the memory roofline.
    let roofline = || {
        (0..d0 * d1)
            .filter_map(|p| shard.plaintext(p))
            .map(|words| words.iter().fold(0u64, |acc, &w| acc.wrapping_add(w)))
            .fold(0u64, u64::wrapping_add)
    };
    let dot =
        he::dot::CtCtDot::new(&ctx, shard.plaintext_modulus(), he::behz::Scalar::U32).unwrap();
    let rest = &expanded[d0..d0 + d1];
    let product = dot.inner_product(&ctx, rest, &columns).unwrap();
    // Any relinearization key of these parameters costs the same.
    let keys =
        EvaluationKeys::decode(vector("url-1shard/api/evaluation-keys.binpb").as_slice()).unwrap();
    let relin = keys.keys[0]
        .evaluation_key
        .as_ref()
        .and_then(|k| k.relin_key.as_ref())
        .and_then(|r| r.relin_key.as_ref())
        .map(|k| he::serialize::key_switch_key(&all, k).unwrap())
        .unwrap();
    let relinearized = relinearize(&all, &ctx, &product, &relin).unwrap();

    let mut group = c.benchmark_group(format!("pir_phase/n4096_logt5/{db}"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("expand", |b| {
        b.iter(|| f.server.expand_query(&f.query, &f.key).unwrap());
    });
    group.bench_function("scan_one_table", |b| b.iter(scan));
    group.bench_function("scan_sums", |b| b.iter(scan_sums));
    group.bench_function("scan_roofline", |b| b.iter(roofline));
    group.bench_function("ct_ct", |b| {
        b.iter(|| dot.inner_product(&ctx, rest, &columns).unwrap());
    });
    group.bench_function("relin", |b| {
        b.iter(|| relinearize(&all, &ctx, &product, &relin).unwrap());
    });
    group.bench_function("mod_switch_serialize", |b| {
        b.iter(|| {
            let (single, polys) = mod_switch_down_to_single(&ctx, &relinearized).unwrap();
            let q0 = single.moduli().next().unwrap().value();
            let skips = skip_lsbs_for_decryption(q0, shard.plaintext_modulus(), single.degree());
            write_polys(&single, &polys, &skips).unwrap()
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_db(c, "1k_1shard", transcript("url-1shard"));
    if std::env::var_os("PIR_BENCH_SMALL_ONLY").is_none() {
        if vector_path("url-50k/url-0.bin").is_some() {
            bench_db(c, "50k_shard", transcript("url-50k"));
        } else {
            eprintln!("url-50k transcript not found: 50k_shard skipped");
        }
        bench_db(c, "100k_1shard", synthetic(100_000));
        bench_db(c, "1m_1shard", synthetic(1_000_000));
    }
}

criterion_group!(response, benches);
criterion_main!(response);
