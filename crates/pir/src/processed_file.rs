//! Our processed-shard file, designed to be memory-mapped: a versioned header, the shard's
//! `PirParameters`, which plaintexts are present, and the Eval-form residues exactly as the scan
//! reads them, then a SHA-256 checksum (spec/pir-protocol.md §5.1 says a server may use its own
//! format; this one replaces Apple's `.bin`, which needs a decode pass on every load).
//!
//! ```text
//! offset  size      field (integers little-endian)
//!      0     8      magic "URLFPIR\0"
//!      8     4      format version (1)
//!     12     4      residue layout (1: u64 per residue; plaintext-major, then modulus, then
//!                   coefficient in he::ntt's Eval order; zero plaintexts take no space)
//!     16     8      params length P
//!     24     4      polynomial degree N
//!     28     4      ciphertext modulus count L
//!     32     8      plaintext count T (zero ones included)
//!     40     8      present plaintext count S
//!     48     8      residues offset R (a multiple of 64)
//!     56     8      residues length (S · L · N · 8)
//!     64   8·L      the L ciphertext moduli
//!      …     P      `pir.v1.PirParameters` protobuf
//!      …  ⌈T/8⌉     presence bitmap, plaintext i at bit i % 8 of byte i / 8; unused bits 0
//!      …            zero padding up to R
//!      R            residues
//!      …    32      SHA-256 of every byte before it
//! ```
//!
//! The residues start 64-byte aligned within the file, so a memory-mapped file (page-aligned)
//! can back the shard without copying ([`shard_from_bytes`]). [`parse`] checks everything:
//! size, magic, version, layout, checksum, every length and offset, the padding, the params
//! against the header, the bitmap against the present count; building the shard then checks the
//! plaintext count against the params and every residue against its modulus. No file I/O here:
//! callers write the bytes where they like and hand mapped or read bytes back.

use std::io::Write;
use std::sync::Arc;

use prost::Message;
use sha2::{Digest, Sha256};
use thiserror::Error;
use zerocopy::{FromBytes, IntoBytes};

use crate::database::{DatabaseError, ProcessedShard, ResidueStorage};
use crate::proto::pir::PirParameters;

/// The first 8 bytes of every file.
pub const MAGIC: [u8; 8] = *b"URLFPIR\0";
/// The format version written and the only one read.
pub const FORMAT_VERSION: u32 = 1;
/// Residue layout 1: one little-endian u64 per residue, plaintext-major, modulus, coefficient.
pub const RESIDUE_LAYOUT: u32 = 1;
/// Alignment of the residue section.
pub const RESIDUE_ALIGNMENT: usize = 64;

const HEADER_LEN: usize = 64;
const CHECKSUM_LEN: usize = 32;

/// Why a file was refused or could not be written.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessedFileError {
    /// The file is shorter than its header says.
    #[error("processed file truncated: {needed} bytes needed, {have} present")]
    Truncated {
        /// Bytes the header or layout needs.
        needed: usize,
        /// Bytes given.
        have: usize,
    },
    /// Not one of our processed files.
    #[error("bad magic {0:02x?}; expected \"URLFPIR\\0\"")]
    BadMagic([u8; 8]),
    /// A format version this build does not read.
    #[error("format version {0}; only version {FORMAT_VERSION} is supported")]
    UnsupportedVersion(u32),
    /// A residue layout this build does not read.
    #[error("residue layout {0}; only layout {RESIDUE_LAYOUT} is supported")]
    UnsupportedLayout(u32),
    /// The checksum does not match the contents.
    #[error("checksum mismatch: the file is corrupted")]
    ChecksumMismatch,
    /// A length or offset disagrees with the rest of the file.
    #[error("{what}: expected {expected}, found {found}")]
    SizeMismatch {
        /// Which field.
        what: &'static str,
        /// What the other fields imply.
        expected: u64,
        /// What the file says.
        found: u64,
    },
    /// The padding before the residues is not zero.
    #[error("non-zero padding before the residues")]
    NonZeroPadding,
    /// The embedded params do not decode.
    #[error("embedded PirParameters: {0}")]
    Params(String),
    /// The header disagrees with the embedded params.
    #[error("header {what} disagrees with the embedded params")]
    HeaderMismatch {
        /// Which field.
        what: &'static str,
    },
    /// The shard itself is invalid (plaintext count, a residue not below its modulus, …).
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// The caller's sink failed while writing.
    #[error("writing: {0}")]
    Write(String),
}

/// A validated file: the params, which plaintexts are present, and the residue bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedFile<'a> {
    /// The shard's params file contents.
    pub parameters: PirParameters,
    /// Per plaintext in scan order: whether it is stored.
    pub present: Vec<bool>,
    /// Where the residue section starts in the file.
    pub residues_offset: usize,
    /// The residue section: `S · L · N` little-endian u64.
    pub residues: &'a [u8],
}

impl ProcessedFile<'_> {
    /// The shard, with its residues copied out of the file.
    ///
    /// # Errors
    /// [`ProcessedFileError::Database`] for a plaintext count the params do not give or a
    /// residue not below its modulus.
    pub fn to_shard(&self) -> Result<ProcessedShard, ProcessedFileError> {
        let residues: Vec<u64> = self
            .residues
            .chunks_exact(8)
            .map(|c| {
                let mut le = [0u8; 8];
                le.copy_from_slice(c);
                u64::from_le_bytes(le)
            })
            .collect();
        Ok(ProcessedShard::from_eval_residues(
            self.parameters.clone(),
            &self.present,
            Arc::new(residues),
        )?)
    }
}

/// Residues served straight from the file's bytes (a memory map, or any owned buffer).
struct MappedResidues<B> {
    bytes: B,
    start: usize,
    end: usize,
}

/// Whether `bytes` casts to u64 in place: a little-endian host and 8-byte alignment.
fn castable(bytes: &[u8]) -> bool {
    cfg!(target_endian = "little") && <[u64]>::ref_from_bytes(bytes).is_ok()
}

impl<B: AsRef<[u8]> + Send + Sync + 'static> ResidueStorage for MappedResidues<B> {
    fn residues(&self) -> &[u64] {
        // `shard_from_bytes` checked that this range casts; `B` keeps the bytes immutable.
        self.bytes
            .as_ref()
            .get(self.start..self.end)
            .and_then(|r| <[u64]>::ref_from_bytes(r).ok())
            .unwrap_or_default()
    }
}

/// Validates `bytes` and builds the shard on them: without copying when the residue section is
/// 8-byte aligned in memory on a little-endian host (a memory map always is), else by copying.
///
/// # Errors
/// As [`parse`] and [`ProcessedFile::to_shard`].
pub fn shard_from_bytes<B>(bytes: B) -> Result<ProcessedShard, ProcessedFileError>
where
    B: AsRef<[u8]> + Send + Sync + 'static,
{
    let file = parse(bytes.as_ref())?;
    if !castable(file.residues) {
        return file.to_shard();
    }
    let (parameters, present) = (file.parameters.clone(), file.present.clone());
    let start = file.residues_offset;
    let end = start + file.residues.len();
    let mapped = MappedResidues { bytes, start, end };
    Ok(ProcessedShard::from_eval_residues(
        parameters,
        &present,
        Arc::new(mapped),
    )?)
}

/// Reads a little-endian integer of `N` bytes at `offset` (the header is checked to be there).
fn le<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = bytes.get(offset..offset + N) {
        out.copy_from_slice(src);
    }
    out
}

fn to_u64(x: usize) -> u64 {
    x as u64
}

/// Validates a whole file (see the module docs for every check).
///
/// # Errors
/// [`ProcessedFileError`] naming the first problem found.
pub fn parse(bytes: &[u8]) -> Result<ProcessedFile<'_>, ProcessedFileError> {
    let have = bytes.len();
    if have < HEADER_LEN + CHECKSUM_LEN {
        return Err(ProcessedFileError::Truncated {
            needed: HEADER_LEN + CHECKSUM_LEN,
            have,
        });
    }
    let magic: [u8; 8] = le(bytes, 0);
    if magic != MAGIC {
        return Err(ProcessedFileError::BadMagic(magic));
    }
    let version = u32::from_le_bytes(le(bytes, 8));
    if version != FORMAT_VERSION {
        return Err(ProcessedFileError::UnsupportedVersion(version));
    }
    let layout = u32::from_le_bytes(le(bytes, 12));
    if layout != RESIDUE_LAYOUT {
        return Err(ProcessedFileError::UnsupportedLayout(layout));
    }
    let params_len = u64::from_le_bytes(le(bytes, 16));
    let degree = u64::from(u32::from_le_bytes(le(bytes, 24)));
    let moduli_count = u64::from(u32::from_le_bytes(le(bytes, 28)));
    let plaintext_count = u64::from_le_bytes(le(bytes, 32));
    let present_count = u64::from_le_bytes(le(bytes, 40));
    let residues_offset = u64::from_le_bytes(le(bytes, 48));
    let residues_len = u64::from_le_bytes(le(bytes, 56));

    // Every size in u128 so that no header value can overflow the arithmetic.
    let wide = u128::from;
    let bitmap_len = wide(plaintext_count).div_ceil(8);
    let before_padding =
        wide(to_u64(HEADER_LEN)) + 8 * wide(moduli_count) + wide(params_len) + bitmap_len;
    let expected_offset = before_padding.next_multiple_of(RESIDUE_ALIGNMENT as u128);
    let expected_residues = wide(present_count) * wide(moduli_count) * wide(degree) * 8;
    let expected_total = expected_offset + expected_residues + CHECKSUM_LEN as u128;
    if expected_total > wide(to_u64(have)) {
        return Err(ProcessedFileError::Truncated {
            needed: usize::try_from(expected_total).unwrap_or(usize::MAX),
            have,
        });
    }
    let mismatch = |what, expected: u128, found: u64| ProcessedFileError::SizeMismatch {
        what,
        expected: u64::try_from(expected).unwrap_or(u64::MAX),
        found,
    };
    if expected_total != wide(to_u64(have)) {
        return Err(mismatch("file length", expected_total, to_u64(have)));
    }
    if wide(residues_offset) != expected_offset {
        return Err(mismatch(
            "residues offset",
            expected_offset,
            residues_offset,
        ));
    }
    if wide(residues_len) != expected_residues {
        return Err(mismatch("residues length", expected_residues, residues_len));
    }
    if present_count > plaintext_count {
        return Err(mismatch(
            "present plaintexts",
            wide(plaintext_count),
            present_count,
        ));
    }
    // Everything below fits in `have`, hence in usize.
    let size = |x: u128| usize::try_from(x).unwrap_or(usize::MAX);
    let (body, checksum) = bytes.split_at(have - CHECKSUM_LEN);
    if Sha256::digest(body).as_slice() != checksum {
        return Err(ProcessedFileError::ChecksumMismatch);
    }

    let moduli_end = HEADER_LEN + size(8 * wide(moduli_count));
    let params_end = moduli_end + size(wide(params_len));
    let bitmap_end = params_end + size(bitmap_len);
    let offset = size(expected_offset);
    let moduli: Vec<u64> = (HEADER_LEN..moduli_end)
        .step_by(8)
        .map(|at| u64::from_le_bytes(le(bytes, at)))
        .collect();
    let params_bytes = bytes.get(moduli_end..params_end).unwrap_or_default();
    let bitmap = bytes.get(params_end..bitmap_end).unwrap_or_default();
    if bytes
        .get(bitmap_end..offset)
        .unwrap_or_default()
        .iter()
        .any(|&b| b != 0)
    {
        return Err(ProcessedFileError::NonZeroPadding);
    }
    let parameters = PirParameters::decode(params_bytes)
        .map_err(|e| ProcessedFileError::Params(e.to_string()))?;
    let encryption = parameters
        .encryption_parameters
        .as_ref()
        .ok_or_else(|| ProcessedFileError::Params("encryption_parameters missing".into()))?;
    if encryption.polynomial_degree != degree {
        return Err(ProcessedFileError::HeaderMismatch {
            what: "polynomial degree",
        });
    }
    let ciphertext_moduli = encryption
        .coefficient_moduli
        .split_last()
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    if ciphertext_moduli != moduli.as_slice() {
        return Err(ProcessedFileError::HeaderMismatch { what: "moduli" });
    }

    let count = size(wide(plaintext_count));
    let present: Vec<bool> = (0..count)
        .map(|i| bitmap.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1))
        .collect();
    let set = bitmap
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    let counted = present.iter().filter(|&&p| p).count();
    if set != to_u64(counted) {
        return Err(ProcessedFileError::SizeMismatch {
            what: "presence bitmap bits beyond the plaintext count",
            expected: 0,
            found: set - to_u64(counted),
        });
    }
    if to_u64(counted) != present_count {
        return Err(mismatch(
            "present plaintexts in the bitmap",
            wide(present_count),
            to_u64(counted),
        ));
    }
    Ok(ProcessedFile {
        parameters,
        present,
        residues_offset: offset,
        residues: bytes
            .get(offset..offset + size(expected_residues))
            .unwrap_or_default(),
    })
}

/// The file of `shard`.
///
/// # Errors
/// [`ProcessedFileError::HeaderMismatch`] for a degree or modulus count beyond u32.
pub fn write(shard: &ProcessedShard) -> Result<Vec<u8>, ProcessedFileError> {
    let per = shard.degree() * shard.moduli().len() * 8;
    let mut out = Vec::with_capacity(
        HEADER_LEN + 4096 + shard.present_count() * per + RESIDUE_ALIGNMENT + CHECKSUM_LEN,
    );
    write_to(shard, &mut out)?;
    Ok(out)
}

/// Streams the file of `shard` into `sink` (hashing as it goes, so the residues are never
/// held twice).
///
/// # Errors
/// [`ProcessedFileError::Write`] when the sink fails; as [`write`].
pub fn write_to(shard: &ProcessedShard, sink: &mut impl Write) -> Result<(), ProcessedFileError> {
    let mut out = HashingWriter {
        sink,
        hasher: Sha256::new(),
    };
    let params = shard.parameters().encode_to_vec();
    let count = shard.plaintext_count();
    let present: Vec<bool> = (0..count).map(|i| shard.plaintext(i).is_some()).collect();
    let stored = present.iter().filter(|&&p| p).count();
    let degree = u32::try_from(shard.degree())
        .map_err(|_| ProcessedFileError::HeaderMismatch { what: "degree" })?;
    let moduli = u32::try_from(shard.moduli().len())
        .map_err(|_| ProcessedFileError::HeaderMismatch { what: "moduli" })?;
    let bitmap_len = count.div_ceil(8);
    let before_padding = HEADER_LEN + 8 * shard.moduli().len() + params.len() + bitmap_len;
    let offset = before_padding.next_multiple_of(RESIDUE_ALIGNMENT);
    let residues_len = stored * shard.degree() * shard.moduli().len() * 8;

    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&RESIDUE_LAYOUT.to_le_bytes());
    header.extend_from_slice(&to_u64(params.len()).to_le_bytes());
    header.extend_from_slice(&degree.to_le_bytes());
    header.extend_from_slice(&moduli.to_le_bytes());
    header.extend_from_slice(&to_u64(count).to_le_bytes());
    header.extend_from_slice(&to_u64(stored).to_le_bytes());
    header.extend_from_slice(&to_u64(offset).to_le_bytes());
    header.extend_from_slice(&to_u64(residues_len).to_le_bytes());
    for q in shard.moduli() {
        header.extend_from_slice(&q.to_le_bytes());
    }
    header.extend_from_slice(&params);
    let mut bitmap = vec![0u8; bitmap_len];
    for (i, _) in present.iter().enumerate().filter(|(_, p)| **p) {
        if let Some(b) = bitmap.get_mut(i / 8) {
            *b |= 1 << (i % 8);
        }
    }
    header.extend_from_slice(&bitmap);
    header.resize(offset, 0);
    out.put(&header)?;

    // The residues as stored: the scan order is the storage order. A little-endian host
    // writes its memory as is; others convert in bounded blocks.
    if cfg!(target_endian = "little") {
        out.put(shard.residues().as_bytes())?;
    } else {
        let mut block = Vec::with_capacity(1 << 16);
        for chunk in shard.residues().chunks(1 << 13) {
            block.clear();
            for r in chunk {
                block.extend_from_slice(&r.to_le_bytes());
            }
            out.put(&block)?;
        }
    }
    let digest = out.hasher.finalize();
    out.sink
        .write_all(&digest)
        .map_err(|e| ProcessedFileError::Write(e.to_string()))
}

struct HashingWriter<'a, W> {
    sink: &'a mut W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), ProcessedFileError> {
        self.hasher.update(bytes);
        self.sink
            .write_all(bytes)
            .map_err(|e| ProcessedFileError::Write(e.to_string()))
    }
}
