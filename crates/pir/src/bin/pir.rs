//! `pir`: offline tools for operators and for checking (issue #5). `pir answer` computes the
//! `/queries` response body (pir-protocol.md §1.5, §4) for a recorded `Requests` body and the
//! uploaded `EvaluationKeys`, without a server: the same computation pir-server runs, on Apple's
//! `PIRProcessDatabase` output (`.bin` + params) or on our processed `.pirdb` files.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use pir::database::ProcessedShard;
use pir::proto::api::{Requests, Response, Responses, request, response};
use pir::proto::api_shared::EvaluationKeys;
use pir::proto::pir::PirParameters;
use pir::server::{PreparedEvaluationKey, ShardServer};
use prost::Message as _;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Offline PIR tools: answer recorded queries without a server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer a recorded `/queries` body; writes the `Responses` body to stdout (or `-o`).
    ///
    /// Shards are given in index order: `--database` once per shard, with `--params` once per
    /// Apple `.bin` (our `.pirdb` files carry their parameters). With one shard,
    /// `--shard-index` says which index the requests name.
    Answer {
        /// A shard's parameters (`PirParameters`, `.txtpb` or `.binpb`); needed for Apple `.bin`.
        #[arg(long)]
        params: Vec<PathBuf>,
        /// A shard's database: Apple's `.bin` or our `.pirdb`.
        #[arg(long, required = true)]
        database: Vec<PathBuf>,
        /// The `/key` body (`EvaluationKeys`) holding the keys the requests name.
        #[arg(long)]
        keys: PathBuf,
        /// The `/queries` body (`Requests`).
        #[arg(long)]
        requests: PathBuf,
        /// With a single `--database`: the shard index it is.
        #[arg(long, default_value_t = 0)]
        shard_index: u32,
        /// Threads per query.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let Command::Answer {
        params,
        database,
        keys,
        requests,
        shard_index,
        threads,
        output,
    } = cli.command;
    let shards = load_shards(&params, &database, threads)?;
    let first = if shards.len() == 1 { shard_index } else { 0 };
    let keys = EvaluationKeys::decode(read(&keys)?.as_slice())
        .with_context(|| format!("{}: not an EvaluationKeys message", keys.display()))?;
    let requests = Requests::decode(read(&requests)?.as_slice())
        .with_context(|| format!("{}: not a Requests message", requests.display()))?;
    let body = answer(&shards, first, &keys, &requests)?.encode_to_vec();
    match output {
        Some(path) => {
            std::fs::write(&path, &body).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout()
            .lock()
            .write_all(&body)
            .context("writing stdout")?,
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn load_params(path: &Path) -> Result<PirParameters> {
    let bytes = read(path)?;
    if path.extension().is_some_and(|e| e == "txtpb") {
        let text =
            String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8", path.display()))?;
        pir::text_format::parse(&text)
            .with_context(|| format!("{}: bad PirParameters", path.display()))
    } else {
        PirParameters::decode(bytes.as_slice())
            .with_context(|| format!("{}: bad PirParameters", path.display()))
    }
}

fn load_shards(
    params: &[PathBuf],
    databases: &[PathBuf],
    threads: usize,
) -> Result<Vec<ShardServer>> {
    let mut params = params.iter();
    let mut shards = Vec::with_capacity(databases.len());
    for path in databases {
        let bytes = read(path)?;
        let shard = if bytes.starts_with(&pir::processed_file::MAGIC) {
            pir::processed_file::shard_from_bytes(bytes)
                .with_context(|| format!("{}: bad processed file", path.display()))?
        } else {
            let p = params
                .next()
                .ok_or_else(|| anyhow!("{}: an Apple .bin needs its --params", path.display()))?;
            ProcessedShard::from_apple_bin(load_params(p)?, &bytes)
                .with_context(|| format!("{} with {}", path.display(), p.display()))?
        };
        let server = ShardServer::new(shard)
            .with_context(|| format!("{}: unusable shard", path.display()))?
            .with_threads(threads)
            .context("thread pool")?;
        shards.push(server);
    }
    if params.next().is_some() {
        bail!("more --params than Apple .bin databases");
    }
    Ok(shards)
}

/// Every request answered on its shard with the key it names, in request order, as the service.
fn answer(
    shards: &[ShardServer],
    first: u32,
    keys: &EvaluationKeys,
    requests: &Requests,
) -> Result<Responses> {
    let mut responses = Vec::with_capacity(requests.requests.len());
    for (i, r) in requests.requests.iter().enumerate() {
        let Some(request::Request::PirRequest(pir)) = &r.request else {
            bail!("request {i} is not a PIR request");
        };
        let server = pir
            .shard_index
            .checked_sub(first)
            .and_then(|k| shards.get(k as usize))
            .ok_or_else(|| anyhow!("request {i}: shard {} was not given", pir.shard_index))?;
        let id = pir
            .evaluation_key_metadata
            .as_ref()
            .map(|m| m.identifier.as_slice());
        let key = keys
            .keys
            .iter()
            .find(|k| k.metadata.as_ref().map(|m| m.identifier.as_slice()) == id)
            .and_then(|k| k.evaluation_key.as_ref())
            .ok_or_else(|| anyhow!("request {i}: its evaluation key is not in --keys"))?;
        let query = pir
            .query
            .as_ref()
            .ok_or_else(|| anyhow!("request {i}: no query"))?;
        let key = PreparedEvaluationKey::from_proto(server, key)
            .with_context(|| format!("request {i}: evaluation key"))?;
        let reply = server
            .respond(query, &key)
            .with_context(|| format!("request {i}"))?;
        responses.push(Response {
            response: Some(response::Response::PirResponse(reply)),
        });
    }
    Ok(Responses { responses })
}
