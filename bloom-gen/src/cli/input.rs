//! Streaming the blocklist: fixed-size batches of whole lines, canonicalized in parallel.
//!
//! The input is never held whole: the reader hands out ~1 MiB batches of complete lines; a group
//! of batches is canonicalized and hashed on the rayon pool, then merged in order (so rejected
//! lines are reported in line order). A line that grows past [`MAX_CARRY`] without a newline
//! (binary garbage, a 1 GB line) is skipped without being buffered and reported as over-long.

use std::io::{self, Read};

use bloom_gen::hash::fnv1a_32_x4;
use bloom_gen::{Canonicalizer, Fingerprint, Parsed, Rejection, Seed, murmur3_x86_32};
use indicatif::ProgressBar;
use rayon::prelude::*;

use super::args::InputArgs;
use super::report::{self, Rejections, group};
use super::{Exit, Failure, fail, open_input};

/// Target batch size.
pub const BATCH_BYTES: usize = 1 << 20;

/// Bytes per `read` call; a batch overshoots [`BATCH_BYTES`] by at most this (plus one line),
/// so its buffer never regrows and the buffers in flight stay ~10 MiB.
const READ_BYTES: usize = 256 << 10;

/// Longest partial line buffered across reads; longer lines are discarded unread.
pub const MAX_CARRY: usize = 1 << 20;

/// Complete lines (each `\n`-terminated), plus the indices of lines that were too long to keep
/// (those appear in `data` as empty lines).
pub struct Batch {
    data: Vec<u8>,
    overlong: Vec<(usize, u64)>,
}

/// Reads batches of whole lines from any reader.
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    /// Valid bytes at the start of `buf` (the rest is stale, kept to avoid re-zeroing).
    filled: usize,
    carry: Vec<u8>,
    discarding: Option<u64>,
    eof: bool,
    bytes_read: u64,
    /// Batch buffers handed back by [`Reader::recycle`], so steady state allocates nothing.
    spare: Vec<Vec<u8>>,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            pos: 0,
            filled: 0,
            carry: Vec::new(),
            discarding: None,
            eof: false,
            bytes_read: 0,
            spare: Vec::new(),
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Gives a processed batch's buffer back for reuse.
    pub fn recycle(&mut self, batch: Batch) {
        let mut data = batch.data;
        data.clear();
        self.spare.push(data);
    }

    fn refill(&mut self) -> io::Result<bool> {
        self.buf.resize(READ_BYTES, 0);
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.filled = 0;
                    self.pos = 0;
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.filled = n;
                    self.pos = 0;
                    self.bytes_read += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next batch, or `None` at the end of input.
    pub fn next_batch(&mut self) -> io::Result<Option<Batch>> {
        let mut batch = Batch {
            data: self
                .spare
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES + READ_BYTES + 4096)),
            overlong: Vec::new(),
        };
        while batch.data.len() < BATCH_BYTES {
            if self.pos >= self.filled && (self.eof || !self.refill()?) {
                break;
            }
            let avail = &self.buf[self.pos..self.filled];
            let Some(first) = memchr::memchr(b'\n', avail) else {
                self.extend_partial(self.pos, self.filled);
                self.pos = self.filled;
                continue;
            };
            // Finish the carried partial line.
            self.extend_partial(self.pos, self.pos + first);
            self.end_line(&mut batch);
            let avail = &self.buf[self.pos + first + 1..self.filled];
            let last = memchr::memrchr(b'\n', avail);
            if let Some(last) = last {
                batch.data.extend_from_slice(&avail[..=last]);
            }
            let rest_start = self.pos + first + 1 + last.map_or(0, |l| l + 1);
            let end = self.filled;
            self.extend_partial(rest_start, end);
            self.pos = end;
        }
        if self.eof
            && self.pos >= self.filled
            && (!self.carry.is_empty() || self.discarding.is_some())
        {
            self.end_line(&mut batch);
        }
        Ok((!batch.data.is_empty()).then_some(batch))
    }

    fn extend_partial(&mut self, from: usize, to: usize) {
        let piece = &self.buf[from..to];
        if let Some(len) = &mut self.discarding {
            *len += piece.len() as u64;
        } else if self.carry.len() + piece.len() > MAX_CARRY {
            self.discarding = Some((self.carry.len() + piece.len()) as u64);
            self.carry = Vec::new();
        } else {
            self.carry.extend_from_slice(piece);
        }
    }

    fn end_line(&mut self, batch: &mut Batch) {
        if let Some(len) = self.discarding.take() {
            let index = memchr::memchr_iter(b'\n', &batch.data).count();
            batch.overlong.push((index, len));
        } else {
            batch.data.extend_from_slice(&self.carry);
        }
        self.carry.clear();
        batch.data.push(b'\n');
    }
}

/// What to produce from each line.
#[derive(Clone, Copy)]
pub struct Mode {
    pub verbatim: bool,
    /// `Some`: fingerprints for the filter; `None`: entry strings (`canonicalize`).
    pub seed: Option<Seed>,
}

/// Line counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub lines: u64,
    pub skipped: u64,
    pub kept: u64,
    pub rejected: u64,
    /// Entries produced (all variants, before deduplication).
    pub entries: u64,
    /// Of those, variants beyond the primary form.
    pub variants: u64,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.lines += o.lines;
        self.skipped += o.skipped;
        self.kept += o.kept;
        self.rejected += o.rejected;
        self.entries += o.entries;
        self.variants += o.variants;
    }
}

/// A rejected line: 1-based line number, reason and the start of the line.
pub struct RejectedLine {
    pub line: u64,
    pub reason: Rejection,
    pub excerpt: String,
}

/// Rejections kept per batch with their text; the rest are only counted.
const REPORTS_PER_BATCH: usize = 64;

/// The first 60 characters of a line, control characters escaped.
fn excerpt(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(240)]);
    let mut out: String = text.chars().take(60).flat_map(char::escape_debug).collect();
    if text.chars().count() > 60 || raw.len() > 240 {
        out.push('…');
    }
    out
}

fn reject(out: &mut Processed, index: usize, reason: Rejection, raw: &[u8]) {
    out.stats.rejected += 1;
    *out.by_kind.entry(reason.kind()).or_default() += 1;
    if out.rejected.len() < REPORTS_PER_BATCH {
        out.rejected.push(RejectedLine {
            line: index as u64,
            reason,
            excerpt: excerpt(raw),
        });
    }
}

/// One processed batch.
#[derive(Default)]
pub struct Processed {
    pub stats: Stats,
    /// Rejections with batch-relative 0-based line indices until [`run`] makes them absolute.
    pub rejected: Vec<RejectedLine>,
    pub fingerprints: Vec<u64>,
    /// Entry strings (`canonicalize`), each followed by `\n`; entries never contain one.
    entries: Vec<u8>,
    pub by_kind: std::collections::BTreeMap<&'static str, u64>,
}

impl Processed {
    /// The entry strings, in line order (`canonicalize` mode).
    pub fn entries(&self) -> impl Iterator<Item = &[u8]> {
        self.entries
            .split_inclusive(|&b| b == b'\n')
            .filter_map(|e| e.strip_suffix(b"\n"))
    }
}

/// Canonicalizes (or, with `--verbatim`, only trims) every line of a batch and keeps what `mode`
/// asks for: fingerprints hashed straight from the entry bytes, or the entry strings.
fn process(batch: &Batch, mode: Mode) -> Processed {
    let mut out = Processed {
        // About one entry per 32 bytes of input; avoids most regrowth.
        fingerprints: Vec::with_capacity(if mode.seed.is_some() {
            batch.data.len() / 32
        } else {
            0
        }),
        ..Processed::default()
    };
    let mut canon = Canonicalizer::new();
    let mut pending = mode.seed.map(Pending::new);
    let mut overlong = batch.overlong.iter().peekable();
    let mut start = 0;
    for (index, end) in memchr::memchr_iter(b'\n', &batch.data).enumerate() {
        let raw = batch.data.get(start..end).unwrap_or_default();
        start = end + 1;
        out.stats.lines += 1;
        if let Some(&(_, len)) = overlong.next_if(|(i, _)| *i == index) {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            reject(&mut out, index, Rejection::TooLong(len), b"");
            continue;
        }
        let (fingerprints, entries) = (&mut out.fingerprints, &mut out.entries);
        let emit = |e: &[u8]| match &mut pending {
            Some(p) => p.push(e, fingerprints),
            None => {
                entries.extend_from_slice(e);
                entries.push(b'\n');
            }
        };
        let parsed = if mode.verbatim {
            verbatim(raw, mode.seed.is_none(), emit)
        } else {
            canon.parse_line(raw, emit)
        };
        match parsed {
            Parsed::Skip => out.stats.skipped += 1,
            Parsed::Rejected(reason) => reject(&mut out, index, reason, raw),
            Parsed::Entries(n) => {
                out.stats.kept += 1;
                out.stats.entries += n as u64;
                out.stats.variants += n.saturating_sub(1) as u64;
            }
        }
    }
    if let Some(p) = &mut pending {
        p.flush(&mut out.fingerprints);
    }
    out
}

/// Entries waiting to be fingerprinted four at a time ([`fnv1a_32_x4`]); each is copied into
/// its slot, since the canonicalizer's buffer is reused by the next line.
struct Pending {
    seed: Seed,
    slots: [Vec<u8>; 4],
    len: usize,
}

impl Pending {
    fn new(seed: Seed) -> Self {
        Self {
            seed,
            slots: Default::default(),
            len: 0,
        }
    }

    fn push(&mut self, entry: &[u8], out: &mut Vec<u64>) {
        if let Some(slot) = self.slots.get_mut(self.len) {
            slot.clear();
            slot.extend_from_slice(entry);
            self.len += 1;
        }
        if self.len == self.slots.len() {
            self.flush(out);
        }
    }

    fn flush(&mut self, out: &mut Vec<u64>) {
        let [a, b, c, d] = &self.slots;
        if self.len == 4 {
            let h1 = fnv1a_32_x4([a, b, c, d]);
            for (h1, e) in h1.into_iter().zip(&self.slots) {
                let h2 = murmur3_x86_32(e, self.seed.get());
                out.push(Fingerprint { h1, h2 }.to_u64());
            }
        } else {
            for e in self.slots.iter().take(self.len) {
                out.push(Fingerprint::of(e, self.seed).to_u64());
            }
        }
        self.len = 0;
    }
}

/// `--verbatim`: only the line ending goes; blank and `#` lines are still skipped. Strings that
/// are printed must be UTF-8; hashed ones are taken as bytes.
fn verbatim(mut raw: &[u8], need_utf8: bool, mut emit: impl FnMut(&[u8])) -> Parsed {
    if let Some(r) = raw.strip_suffix(b"\r") {
        raw = r;
    }
    if raw.iter().all(u8::is_ascii_whitespace) || raw.first() == Some(&b'#') {
        return Parsed::Skip;
    }
    if need_utf8 && std::str::from_utf8(raw).is_err() {
        return Parsed::Rejected(Rejection::InvalidUtf8);
    }
    emit(raw);
    Parsed::Entries(1)
}

/// Reads every batch and processes groups of them on the rayon pool; meanwhile this thread
/// hands the previous group's results to `sink` (in input order, with absolute line numbers)
/// and reads the next group, so neither reading nor the sink leaves the workers idle.
pub fn run<R: Read>(
    reader: &mut Reader<R>,
    mode: Mode,
    mut on_progress: impl FnMut(u64),
    mut sink: impl FnMut(Processed) -> anyhow::Result<()>,
) -> anyhow::Result<Stats> {
    let group_len = rayon::current_num_threads().max(1) * 2;
    let read_group = |reader: &mut Reader<R>| -> io::Result<Vec<Batch>> {
        let mut group = Vec::with_capacity(group_len);
        while group.len() < group_len {
            match reader.next_batch()? {
                Some(b) => group.push(b),
                None => break,
            }
        }
        Ok(group)
    };
    let mut total = Stats::default();
    let mut deliver = |outs: Vec<Processed>, total: &mut Stats| -> anyhow::Result<()> {
        for mut out in outs {
            for r in &mut out.rejected {
                r.line += total.lines + 1;
            }
            total.add(&out.stats);
            sink(out)?;
        }
        Ok(())
    };
    let mut pending = Vec::new();
    let mut group = read_group(reader)?;
    while !group.is_empty() {
        let (outs, delivered, next) = std::thread::scope(|s| {
            let work = s.spawn(|| -> Vec<Processed> {
                group.par_iter().map(|b| process(b, mode)).collect()
            });
            let delivered = deliver(std::mem::take(&mut pending), &mut total);
            let next = read_group(reader);
            (work.join(), delivered, next)
        });
        delivered?;
        pending = outs.map_err(|_| anyhow::anyhow!("a canonicalization worker panicked"))?;
        for b in std::mem::replace(&mut group, next?) {
            reader.recycle(b);
        }
        on_progress(reader.bytes_read());
    }
    deliver(pending, &mut total)?;
    // The batch buffers (~10 MiB) are not needed again; free them before the fill needs room.
    reader.spare = Vec::new();
    Ok(total)
}

/// One run over the input, shared by building and `canonicalize`: the opened input, its progress
/// bar and the report of rejected lines.
pub struct Session {
    pub name: String,
    pub rejections: Rejections,
    bar: Option<ProgressBar>,
    reader: Reader<Box<dyn Read + Send>>,
    mode: Mode,
    quiet: bool,
}

impl Session {
    /// Opens `args.input` (`-` for stdin). `seed`: hash into fingerprints; `None`: keep strings.
    pub fn open(args: &InputArgs, seed: Option<Seed>) -> Result<Self, Failure> {
        let path = args
            .input
            .as_deref()
            .ok_or_else(|| fail(Exit::Usage, "no INPUT given (use - for stdin)"))?;
        let (reader, len, name) = open_input(path)?;
        let bar = report::progress(len, args.quiet);
        Ok(Self {
            rejections: Rejections::new(&name, args.max_reports, bar.clone()),
            name,
            bar,
            reader: Reader::new(reader),
            mode: Mode {
                verbatim: args.verbatim,
                seed,
            },
            quiet: args.quiet,
        })
    }

    /// Streams the whole input: rejected lines are reported, then `sink` gets each batch
    /// (with the rejections so far). The progress bar is cleared at the end, error or not.
    pub fn run(
        &mut self,
        mut sink: impl FnMut(Processed, &Rejections) -> anyhow::Result<()>,
    ) -> anyhow::Result<Stats> {
        let bar = self.bar.clone();
        let rejections = &mut self.rejections;
        let stats = run(
            &mut self.reader,
            self.mode,
            |pos| {
                if let Some(b) = &bar {
                    b.set_position(pos);
                }
            },
            |out| {
                rejections.take(&out);
                sink(out, rejections)
            },
        );
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        stats
    }

    /// Whether a progress bar was shown (later phases then get a spinner).
    pub fn bar_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// The line summary (unless `--quiet`) and how many rejections were not shown.
    pub fn summarize(&self, stats: &Stats) {
        if !self.quiet {
            eprintln!(
                "bloom-gen: {}",
                report::lines_summary(stats, &self.rejections)
            );
        }
        if self.rejections.unshown() > 0 {
            eprintln!(
                "bloom-gen: {} more rejected lines not shown (--max-reports)",
                group(self.rejections.unshown())
            );
        }
    }
}
