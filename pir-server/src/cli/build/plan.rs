//! `pir-server build --max-key-bytes / --max-response-bytes` (issue #7 "Operation": choose cuckoo
//! and RLWE parameters that fit the sizes declared to Apple's relay, or fail with the smallest
//! achievable figures).
//!
//! A small, fixed candidate list is tried in order of preference; each candidate is processed
//! (up to the coefficient plaintexts) and measured with [`WireSizes`]; the first that fits wins and
//! its very plaintexts are kept, since cuckoo placement is random and a re-run could differ.
//!
//! What moves which figure (pir-protocol.md §4.2, §4.3, §4.8): the `/key` body is one key-switching
//! key per Galois element plus relinearization, and the element count falls with key compression
//! (maxCompression keeps the elements up to `2^ceil((log2 N + 1)/2) + 1`) and with the expansion
//! depth, which smaller shards lower; the response is `hashFunctionCount × chunkCount` reply
//! ciphertexts, and the chunk count falls with a smaller `maxSerializedBucketSize`. The RLWE set is
//! the operator's: the noise budget of another set is not ours to guess.

use pir::PirError;
use pir::cuckoo::default_max_serialized_bucket_size;
use pir::evaluation_key::KeyCompression;
use pir::keyword_database::KeywordValuePair;
use pir::params_file::RingShape;
use pir::process::{ProcessedDatabase, Progress, ShardPlaintexts, encryption_parameters};
use pir::process_config::{ProcessConfig, SHARD_ID};
use pir::sharding::Sharding;
use pir_server::wire_sizes::{WireSizeError, WireSizes};

/// The body-size limits the relay enforces (bytes); `None` = no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_key_bytes: Option<usize>,
    pub max_response_bytes: Option<usize>,
}

impl Limits {
    fn fit(&self, sizes: &WireSizes) -> bool {
        self.max_key_bytes.is_none_or(|m| sizes.evaluation_key <= m)
            && self.max_response_bytes.is_none_or(|m| sizes.response <= m)
    }

    fn is_empty(&self) -> bool {
        self.max_key_bytes.is_none() && self.max_response_bytes.is_none()
    }
}

/// Shards are multiplied by up to 2^6 while looking for a fit.
const MAX_SHARD_DOUBLINGS: u32 = 6;

/// One candidate: the config and what distinguishes it, for the summary.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub config: ProcessConfig,
    pub key_compression: KeyCompression,
    pub shard_count: usize,
    /// `None`: the default bucket size.
    pub max_serialized_bucket_size: Option<usize>,
}

/// Why no database was chosen.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Process(#[from] PirError),
    #[error(transparent)]
    Sizes(#[from] WireSizeError),
    /// No candidate fits; the smallest figures any candidate reached (maybe different ones).
    #[error(
        "no parameters fit the limits (evaluation key ≤ {}, response ≤ {}): the smallest \
         achievable are evaluation key {smallest_key} bytes ({key_with}) and response \
         {smallest_response} bytes ({response_with}), over {tried} candidates",
        show(limits.max_key_bytes),
        show(limits.max_response_bytes)
    )]
    NoFit {
        limits: Limits,
        smallest_key: usize,
        key_with: String,
        smallest_response: usize,
        response_with: String,
        tried: usize,
    },
}

fn show(limit: Option<usize>) -> String {
    limit.map_or_else(|| "any".into(), |m| m.to_string())
}

impl Candidate {
    pub fn describe(&self) -> String {
        let bucket = self
            .max_serialized_bucket_size
            .map_or_else(|| "default".into(), |b| b.to_string());
        format!(
            "keyCompression {:?}, {} shards, maxSerializedBucketSize {bucket}",
            self.key_compression, self.shard_count
        )
    }
}

/// The candidates for `base` in order of preference: `base` itself; then stronger key
/// compression (server compute only); then smaller bucket sizes (more buckets, fewer chunks);
/// then twice the shards (each shard index reveals more about the keyword), and so on.
///
/// # Errors
/// [`PirError`] for a base config that does not resolve.
pub fn candidates(
    base: &ProcessConfig,
    rows: &[KeywordValuePair],
    limits: &Limits,
) -> Result<Vec<Candidate>, PirError> {
    let shape = RingShape::of(&encryption_parameters(&base.rlwe_parameters)?)?;
    let max_value = rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
    let resolved = base.resolve_keyword(max_value, shape.bytes_per_plaintext)?;
    let base_shards = resolved.sharding.shard_count_for(rows.len());
    let base_compression = resolved.keyword.key_compression;
    let base_candidate = Candidate {
        config: base.clone(),
        key_compression: base_compression,
        shard_count: base_shards,
        max_serialized_bucket_size: base
            .cuckoo_table_arguments
            .and_then(|a| a.max_serialized_bucket_size),
    };
    if limits.is_empty() {
        return Ok(vec![base_candidate]);
    }

    let compressions: Vec<KeyCompression> = [
        KeyCompression::NoCompression,
        KeyCompression::HybridCompression,
        KeyCompression::MaxCompression,
    ]
    .into_iter()
    .skip_while(|&c| c != base_compression)
    .collect();
    // A bucket must hold one largest value (11 + value bytes); below the base bucket size, each
    // whole number of plaintexts down to that is one chunk fewer per reply.
    let bpp = shape.bytes_per_plaintext;
    let base_bucket = base_candidate
        .max_serialized_bucket_size
        .unwrap_or_else(|| default_max_serialized_bucket_size(max_value, bpp));
    let required = pir::bucket::serialized_size([max_value]);
    let mut buckets = vec![base_candidate.max_serialized_bucket_size];
    let mut chunks = base_bucket.div_ceil(bpp.max(1));
    while chunks > 1 && (chunks - 1) * bpp >= required {
        chunks -= 1;
        buckets.push(Some(chunks * bpp));
    }

    let mut out = Vec::new();
    for doubling in 0..=MAX_SHARD_DOUBLINGS {
        let shard_count = base_shards << doubling;
        if doubling > 0 && shard_count > rows.len() {
            break;
        }
        for &key_compression in &compressions {
            for &bucket in &buckets {
                let mut config = base.clone();
                config.key_compression = Some(key_compression);
                if doubling > 0 {
                    config.sharding = Some(Sharding::shard_count(shard_count)?);
                    config.output_database = format!("url-{SHARD_ID}.bin");
                    config.output_pir_parameters = format!("url-{SHARD_ID}.params.txtpb");
                }
                if bucket != base_candidate.max_serialized_bucket_size {
                    let mut args = config.cuckoo_table_arguments.unwrap_or_default();
                    args.max_serialized_bucket_size = bucket;
                    config.cuckoo_table_arguments = Some(args);
                }
                out.push(Candidate {
                    config,
                    key_compression,
                    shard_count,
                    max_serialized_bucket_size: bucket,
                });
            }
        }
    }
    Ok(out)
}

/// The chosen candidate and its plaintexts.
pub struct Chosen {
    pub candidate: Candidate,
    pub database: ProcessedDatabase<ShardPlaintexts>,
}

/// Processes the candidates in order and returns the first that fits `limits`.
///
/// # Errors
/// [`PlanError::NoFit`] with the smallest figures seen; processing errors of the first candidate
/// (later candidates that fail to process, e.g. a cuckoo table that cannot be built with a small
/// bucket, are skipped).
pub fn choose(
    usecase: &str,
    rows: &[KeywordValuePair],
    candidates: Vec<Candidate>,
    limits: &Limits,
    rng: &mut impl rand::RngCore,
    progress: &(dyn Fn(usize, usize, Progress) + Sync),
) -> Result<Chosen, PlanError> {
    let total = candidates.len();
    let mut smallest: Option<(usize, String, usize, String)> = None;
    for (i, candidate) in candidates.into_iter().enumerate() {
        let report = |p: Progress| progress(i, total, p);
        let database = match pir::process::process_plaintexts(
            rows.to_vec(),
            &candidate.config,
            rng,
            &report,
        ) {
            Ok(database) => database,
            Err(e) if i == 0 => return Err(e.into()),
            Err(_) => continue,
        };
        let params: Vec<_> = database
            .shards
            .iter()
            .map(|s| s.parameters.clone())
            .collect();
        let sizes = WireSizes::of(usecase, &params)?;
        if limits.fit(&sizes) {
            return Ok(Chosen {
                candidate,
                database,
            });
        }
        let s =
            smallest.get_or_insert_with(|| (usize::MAX, String::new(), usize::MAX, String::new()));
        if sizes.evaluation_key < s.0 {
            (s.0, s.1) = (sizes.evaluation_key, candidate.describe());
        }
        if sizes.response < s.2 {
            (s.2, s.3) = (sizes.response, candidate.describe());
        }
    }
    let (smallest_key, key_with, smallest_response, response_with) =
        smallest.unwrap_or((0, "none processed".into(), 0, "none processed".into()));
    Err(PlanError::NoFit {
        limits: *limits,
        smallest_key,
        key_with,
        smallest_response,
        response_with,
        tried: total,
    })
}
