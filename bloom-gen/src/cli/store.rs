//! Where fingerprints wait until the distinct count (and so the filter size) is known.
//!
//! Each entry is stored as its packed `(h1, h2)` fingerprint, 8 bytes, which fixes its bits for
//! any size. Up to `spill_after` of them stay in memory (default 2^22 = 32 MiB); past that they go
//! to [`PARTS`] temporary files partitioned by their top bits, so each partition can be sorted and
//! deduplicated alone (at 50 M entries, ~6 MiB each) and peak memory stays near the bitmap plus
//! one partition. The files live in a temporary directory (`$TMPDIR`) removed on drop.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

use anyhow::Context;

/// Number of spill partitions (top 6 bits of the fingerprint).
pub const PARTS: usize = 64;

/// Most fingerprints read back at once (8 MiB).
const READ_CHUNK: usize = 1 << 20;

/// Bytes per read when feeding the builder.
const READ_BYTES: usize = 1 << 20;

pub enum Store {
    Memory { fps: Vec<u64>, spill_after: usize },
    Spilled(Spill),
}

pub struct Spill {
    _dir: tempfile::TempDir,
    writers: Vec<BufWriter<File>>,
    paths: Vec<std::path::PathBuf>,
}

/// Distinct fingerprints, ready to feed the builder.
pub enum Distinct {
    Memory(Vec<u64>),
    Spilled {
        _dir: tempfile::TempDir,
        paths: Vec<std::path::PathBuf>,
    },
}

impl Store {
    pub fn new(spill_after: usize) -> Self {
        Store::Memory {
            fps: Vec::new(),
            spill_after,
        }
    }

    pub fn push(&mut self, batch: &[u64]) -> anyhow::Result<()> {
        match self {
            Store::Memory { fps, spill_after } => {
                if fps.len() + batch.len() <= *spill_after {
                    fps.extend_from_slice(batch);
                    return Ok(());
                }
                let mut spill = Spill::new()?;
                spill.push(fps)?;
                spill.push(batch)?;
                *self = Store::Spilled(spill);
                Ok(())
            }
            Store::Spilled(spill) => spill.push(batch),
        }
    }

    /// Dedupes; returns the distinct count and the fingerprints to insert.
    pub fn finish(self) -> anyhow::Result<(u64, Distinct)> {
        match self {
            Store::Memory { mut fps, .. } => {
                let n = bloom_gen::dedupe_fingerprints(&mut fps) as u64;
                Ok((n, Distinct::Memory(fps)))
            }
            Store::Spilled(spill) => spill.finish(),
        }
    }
}

impl Spill {
    fn new() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("bloom-gen-")
            .tempdir()
            .context("creating a temporary directory for fingerprints (set TMPDIR)")?;
        let mut writers = Vec::with_capacity(PARTS);
        let mut paths = Vec::with_capacity(PARTS);
        for i in 0..PARTS {
            let path = dir.path().join(format!("part-{i:02}"));
            let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            writers.push(BufWriter::with_capacity(64 * 1024, f));
            paths.push(path);
        }
        Ok(Self {
            _dir: dir,
            writers,
            paths,
        })
    }

    fn push(&mut self, batch: &[u64]) -> anyhow::Result<()> {
        for &fp in batch {
            let part = (fp >> (64 - PARTS.trailing_zeros())) as usize;
            if let Some(w) = self.writers.get_mut(part) {
                w.write_all(&fp.to_le_bytes())
                    .context("writing fingerprints to TMPDIR")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<(u64, Distinct)> {
        for w in self.writers {
            // No fsync: these files only live for this run.
            drop(w.into_inner().map_err(io::IntoInnerError::into_error)?);
        }
        // Partitions are independent: dedupe them in parallel (a few MiB each), writing a
        // partition back only if it had duplicates, so the build pass reads each entry once.
        use rayon::prelude::*;
        let counts: Vec<u64> = self
            .paths
            .par_iter()
            .map(|path| -> anyhow::Result<u64> {
                let mut fps = read_all(path)?;
                let before = fps.len();
                let n = dedupe_sequential(&mut fps);
                if n < before {
                    let mut w = BufWriter::new(File::create(path)?);
                    for fp in &fps {
                        w.write_all(&fp.to_le_bytes())?;
                    }
                    w.flush()?;
                }
                Ok(n as u64)
            })
            .collect::<anyhow::Result<_>>()?;
        let n = counts.iter().sum();
        Ok((
            n,
            Distinct::Spilled {
                _dir: self._dir,
                paths: self.paths,
            },
        ))
    }
}

fn dedupe_sequential(fps: &mut Vec<u64>) -> usize {
    fps.sort_unstable();
    fps.dedup();
    fps.len()
}

/// Reads a partition straight into `u64`s (64 KiB at a time, no byte-sized copy of the file).
fn read_all(path: &std::path::Path) -> anyhow::Result<Vec<u64>> {
    let ctx = || format!("reading {}", path.display());
    let mut f = File::open(path).with_context(ctx)?;
    let len = f.metadata().with_context(ctx)?.len();
    let mut fps = Vec::with_capacity(usize::try_from(len / 8).unwrap_or(0));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = read_full(&mut f, &mut buf).with_context(ctx)?;
        fps.extend(
            buf[..n - n % 8]
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        );
        if n < buf.len() {
            return Ok(fps);
        }
    }
}

impl Distinct {
    /// Calls `f` with chunks of distinct fingerprints.
    pub fn for_each_chunk(
        &self,
        chunk_len: usize,
        mut f: impl FnMut(&[u64]),
    ) -> anyhow::Result<()> {
        match self {
            Distinct::Memory(fps) => f(fps),
            Distinct::Spilled { paths, .. } => {
                // Read 1 MiB at a time into the chunk, so only the chunk itself is large.
                let chunk_len = chunk_len.clamp(1, READ_CHUNK);
                let mut chunk = Vec::with_capacity(chunk_len + READ_BYTES / 8);
                let mut bytes = vec![0u8; READ_BYTES];
                for path in paths {
                    let mut r = File::open(path)?;
                    loop {
                        let n = read_full(&mut r, &mut bytes)?;
                        chunk.extend(bytes[..n - n % 8].chunks_exact(8).map(|c| {
                            u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                        }));
                        if chunk.len() >= chunk_len {
                            f(&chunk);
                            chunk.clear();
                        }
                        if n < bytes.len() {
                            break;
                        }
                    }
                }
                if !chunk.is_empty() {
                    f(&chunk);
                }
            }
        }
        Ok(())
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
