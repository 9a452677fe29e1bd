//! One processed shard in memory: its `PirParameters` and its Eval-form plaintexts as one flat,
//! scan-ordered residue array (spec/pir-protocol.md §4.4 database encoding, §5.1 Apple's `.bin`;
//! Apple's `ProcessedDatabase`, `MulPirServer.process`, `Plaintext.convertToEvalFormat`).
//!
//! Scan order is Apple's database order: table after table (one per hash function for keyword
//! PIR), chunk after chunk, column-major within a chunk. Each present plaintext takes
//! `L · N` residues (`L` ciphertext moduli, the special modulus excluded), modulus after
//! modulus, in the bit-reversed Eval order of `he::ntt`. Zero plaintexts take no space; a slot
//! table says where each plaintext starts. A memory-mapped file can back the array through
//! [`ResidueStorage`].

use std::sync::Arc;

use he::poly::{Coeff, Eval, Poly, PolyContext};

use crate::PirError;
use crate::index_pir::IndexPirParameter;
use crate::packing::bytes_per_plaintext;
use crate::params_file::from_pir_parameters;
use crate::proto::pir::PirParameters;

/// The only `.bin` version Apple writes.
const APPLE_BIN_VERSION: u8 = 1;
/// `.bin` tag of an implicit zero plaintext.
const TAG_ZERO: u8 = 0;
/// `.bin` tag of a serialized plaintext.
const TAG_PRESENT: u8 = 1;

/// Why a shard could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// The parameters are unusable (see [`crate::params_file::from_pir_parameters`]).
    #[error(transparent)]
    Parameters(#[from] PirError),
    /// The encryption parameters are unusable by the HE layer.
    #[error("encryption parameters: {0}")]
    Encryption(String),
    /// The `.bin` file is shorter than its contents say.
    #[error(
        "processed database truncated: {what} needs {needed} bytes at offset {offset}, {have} left"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where.
        offset: usize,
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        have: usize,
    },
    /// The `.bin` file's version is not 1.
    #[error("processed database version {0}; only version 1 is known")]
    UnknownVersion(u8),
    /// A plaintext tag other than 0 (zero) or 1 (present).
    #[error("plaintext {index}: tag {tag}; only 0 and 1 are allowed")]
    UnknownTag {
        /// Plaintext index.
        index: usize,
        /// The tag read.
        tag: u8,
    },
    /// Bytes after the last plaintext.
    #[error("processed database has {0} bytes after its last plaintext")]
    Trailing(usize),
    /// The number of plaintexts does not match the parameters.
    #[error(
        "{got} plaintexts; the parameters need {expected} ({tables} tables × {chunks} chunks × {per_chunk})"
    )]
    PlaintextCount {
        /// Plaintexts given.
        got: usize,
        /// Plaintexts the parameters need.
        expected: usize,
        /// Tables (hash functions).
        tables: usize,
        /// Chunks per entry.
        chunks: usize,
        /// Plaintexts per chunk (`d0 · d1`).
        per_chunk: usize,
    },
    /// A plaintext's polynomial is malformed (a residue not below its modulus, …).
    #[error("plaintext {index}: {reason}")]
    BadPlaintext {
        /// Plaintext index.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The residue array's length does not match the present plaintexts.
    #[error("{got} residues; {present} present plaintexts need {expected}")]
    ResidueCount {
        /// Residues given.
        got: usize,
        /// Residues needed.
        expected: usize,
        /// Present plaintexts.
        present: usize,
    },
}

/// Where the residues live: a `Vec<u64>` or, later, a memory-mapped file.
pub trait ResidueStorage: Send + Sync + 'static {
    /// The residues, `L · N` per present plaintext, in scan order.
    fn residues(&self) -> &[u64];
}

impl ResidueStorage for Vec<u64> {
    fn residues(&self) -> &[u64] {
        self
    }
}

/// The ring facts a shard's layout depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ring {
    degree: usize,
    /// Ciphertext moduli (the special modulus excluded).
    moduli: Vec<u64>,
    plaintext_modulus: u64,
}

/// One processed shard: parameters plus Eval-form plaintexts in scan order.
#[derive(Clone)]
pub struct ProcessedShard {
    parameters: PirParameters,
    index: IndexPirParameter,
    ring: Ring,
    tables: usize,
    chunks: usize,
    /// Per plaintext in scan order: its number among the present plaintexts, or `None`.
    slots: Vec<Option<u32>>,
    storage: Arc<dyn ResidueStorage>,
}

impl std::fmt::Debug for ProcessedShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessedShard")
            .field("dimensions", &self.index.dimensions)
            .field("tables", &self.tables)
            .field("chunks", &self.chunks)
            .field("plaintexts", &self.slots.len())
            .field("present", &self.present_count())
            .finish_non_exhaustive()
    }
}

/// What the parameters fix: the index parameters, the ring, tables and chunks.
struct Layout {
    index: IndexPirParameter,
    ring: Ring,
    tables: usize,
    chunks: usize,
}

impl Layout {
    fn of(parameters: &PirParameters) -> Result<Self, DatabaseError> {
        let (index, keyword) = from_pir_parameters(parameters)?;
        let enc = parameters
            .encryption_parameters
            .as_ref()
            .ok_or_else(|| PirError::InvalidParameters("encryption_parameters missing".into()))?;
        let degree = usize::try_from(enc.polynomial_degree)
            .ok()
            .filter(|d| d.is_power_of_two() && *d >= 2)
            .ok_or_else(|| {
                DatabaseError::Encryption(format!(
                    "polynomial degree {} must be a power of two ≥ 2",
                    enc.polynomial_degree
                ))
            })?;
        let Some((_special, moduli)) = enc.coefficient_moduli.split_last() else {
            return Err(DatabaseError::Encryption("no coefficient moduli".into()));
        };
        if moduli.is_empty() {
            return Err(DatabaseError::Encryption(
                "need at least one ciphertext modulus besides the special modulus".into(),
            ));
        }
        let bpp = bytes_per_plaintext(degree, enc.plaintext_modulus)?;
        let chunks = index.chunk_count(bpp);
        if chunks == 0 {
            return Err(PirError::InvalidParameters("entry size must be at least 1".into()).into());
        }
        let tables = keyword.map_or(1, |k| k.hash_function_count);
        Ok(Self {
            index,
            ring: Ring {
                degree,
                moduli: moduli.to_vec(),
                plaintext_modulus: enc.plaintext_modulus,
            },
            tables,
            chunks,
        })
    }

    fn context(&self) -> Result<Arc<PolyContext>, DatabaseError> {
        PolyContext::new(self.ring.degree, &self.ring.moduli)
            .map_err(|e| DatabaseError::Encryption(e.to_string()))
    }

    /// Plaintexts the whole shard holds: tables × chunks × d0·d1.
    fn plaintext_count(&self) -> Result<usize, DatabaseError> {
        self.tables
            .checked_mul(self.chunks)
            .and_then(|n| n.checked_mul(self.index.plaintexts_per_chunk()))
            .ok_or_else(|| PirError::InvalidParameters("plaintext count overflows".into()).into())
    }

    fn check_count(&self, got: usize) -> Result<(), DatabaseError> {
        let expected = self.plaintext_count()?;
        if got != expected {
            return Err(DatabaseError::PlaintextCount {
                got,
                expected,
                tables: self.tables,
                chunks: self.chunks,
                per_chunk: self.index.plaintexts_per_chunk(),
            });
        }
        Ok(())
    }

    fn into_shard(
        self,
        parameters: PirParameters,
        slots: Vec<Option<u32>>,
        storage: Arc<dyn ResidueStorage>,
    ) -> ProcessedShard {
        ProcessedShard {
            parameters,
            index: self.index,
            ring: self.ring,
            tables: self.tables,
            chunks: self.chunks,
            slots,
            storage,
        }
    }
}

/// Numbers the present plaintexts; errors if there are more than a u32 can count.
fn slots_of(present: impl Iterator<Item = bool>) -> Result<Vec<Option<u32>>, DatabaseError> {
    let mut next = 0u32;
    present
        .map(|p| {
            if !p {
                return Ok(None);
            }
            let slot = next;
            next = next
                .checked_add(1)
                .ok_or_else(|| PirError::InvalidParameters("more than 2^32 plaintexts".into()))?;
            Ok(Some(slot))
        })
        .collect()
}

impl ProcessedShard {
    /// Loads Apple's processed `.bin` (§5.1) for the shard described by `parameters`.
    ///
    /// # Errors
    /// [`DatabaseError`]: unusable parameters, an unknown version or tag, a truncated file or
    /// trailing bytes, a plaintext count other than tables × chunks × d0·d1, or a residue not
    /// below its modulus.
    pub fn from_apple_bin(parameters: PirParameters, bytes: &[u8]) -> Result<Self, DatabaseError> {
        let layout = Layout::of(&parameters)?;
        let ctx = layout.context()?;
        let truncated = |what, offset: usize, needed| DatabaseError::Truncated {
            what,
            offset,
            needed,
            have: bytes.len().saturating_sub(offset),
        };
        let version = *bytes.first().ok_or_else(|| truncated("version", 0, 1))?;
        if version != APPLE_BIN_VERSION {
            return Err(DatabaseError::UnknownVersion(version));
        }
        let count: [u8; 4] = bytes
            .get(1..5)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| truncated("plaintext count", 1, 4))?;
        let count = usize::try_from(u32::from_le_bytes(count))
            .map_err(|_| PirError::InvalidParameters("plaintext count exceeds usize".into()))?;
        layout.check_count(count)?;
        let poly_len = ctx
            .serialized_len(0)
            .map_err(|e| DatabaseError::Encryption(e.to_string()))?;
        let mut offset = 5;
        let mut present = Vec::with_capacity(count);
        let mut residues = Vec::new();
        for index in 0..count {
            let tag = *bytes
                .get(offset)
                .ok_or_else(|| truncated("plaintext tag", offset, 1))?;
            offset += 1;
            match tag {
                TAG_ZERO => present.push(false),
                TAG_PRESENT => {
                    let body = bytes
                        .get(offset..offset + poly_len)
                        .ok_or_else(|| truncated("plaintext", offset, poly_len))?;
                    let poly = Poly::<Eval>::from_bytes(&ctx, body, 0).map_err(|e| {
                        DatabaseError::BadPlaintext {
                            index,
                            reason: e.to_string(),
                        }
                    })?;
                    for row in poly.rows() {
                        residues.extend_from_slice(row);
                    }
                    offset += poly_len;
                    present.push(true);
                }
                tag => return Err(DatabaseError::UnknownTag { index, tag }),
            }
        }
        if offset != bytes.len() {
            return Err(DatabaseError::Trailing(bytes.len() - offset));
        }
        let slots = slots_of(present.into_iter())?;
        Ok(layout.into_shard(parameters, slots, Arc::new(residues)))
    }

    /// Builds the shard from coefficient plaintexts (values mod t, at most N each, in scan
    /// order; an empty or all-zero vector is a zero plaintext), lifting each to Eval form as
    /// Apple's `MulPirServer.process` does: values ≥ ⌈t/2⌉ become `v − t` mod each q_i, then the
    /// forward NTT.
    ///
    /// # Errors
    /// [`DatabaseError`]: unusable parameters, a plaintext count other than tables × chunks ×
    /// d0·d1, a plaintext longer than N, or a value not below t.
    pub fn from_coefficient_plaintexts(
        parameters: PirParameters,
        plaintexts: Vec<Vec<u64>>,
    ) -> Result<Self, DatabaseError> {
        let layout = Layout::of(&parameters)?;
        layout.check_count(plaintexts.len())?;
        let ctx = layout.context()?;
        let t = layout.ring.plaintext_modulus;
        let n = layout.ring.degree;
        let threshold = t.div_ceil(2);
        let mut residues = Vec::new();
        let mut present = Vec::with_capacity(plaintexts.len());
        for (index, coeffs) in plaintexts.into_iter().enumerate() {
            if coeffs.iter().all(|&c| c == 0) {
                present.push(false);
                continue;
            }
            let bad = |reason: String| DatabaseError::BadPlaintext { index, reason };
            if coeffs.len() > n {
                return Err(bad(format!("{} coefficients; at most {n}", coeffs.len())));
            }
            if let Some(&v) = coeffs.iter().find(|&&v| v >= t) {
                return Err(bad(format!("coefficient {v} is not below t = {t}")));
            }
            let rows = layout
                .ring
                .moduli
                .iter()
                .map(|&q| {
                    let mut row: Vec<u64> = coeffs
                        .iter()
                        .map(|&v| if v < threshold { v } else { v + (q - t) })
                        .collect();
                    row.resize(n, 0);
                    row
                })
                .collect();
            let poly = Poly::<Coeff>::from_rows(&ctx, rows)
                .map_err(|e| bad(e.to_string()))?
                .ntt(&ctx);
            for row in poly.rows() {
                residues.extend_from_slice(row);
            }
            present.push(true);
        }
        let slots = slots_of(present.into_iter())?;
        Ok(layout.into_shard(parameters, slots, Arc::new(residues)))
    }

    /// Builds the shard from Eval residues already in scan order (`present[i]`: whether
    /// plaintext i is stored; `L · N` residues per present plaintext), e.g. a memory-mapped
    /// file of our own format. Every residue is checked against its modulus.
    ///
    /// # Errors
    /// [`DatabaseError`]: unusable parameters, a plaintext count other than tables × chunks ×
    /// d0·d1, a residue array of the wrong length, or a residue not below its modulus.
    pub fn from_eval_residues(
        parameters: PirParameters,
        present: &[bool],
        storage: Arc<dyn ResidueStorage>,
    ) -> Result<Self, DatabaseError> {
        let layout = Layout::of(&parameters)?;
        layout.check_count(present.len())?;
        let stored = present.iter().filter(|&&p| p).count();
        let per = layout.ring.degree * layout.ring.moduli.len();
        let residues = storage.residues();
        let expected = stored.saturating_mul(per);
        if residues.len() != expected {
            return Err(DatabaseError::ResidueCount {
                got: residues.len(),
                expected,
                present: stored,
            });
        }
        for (k, plaintext) in residues.chunks_exact(per.max(1)).enumerate() {
            for (row, &q) in plaintext
                .chunks_exact(layout.ring.degree)
                .zip(&layout.ring.moduli)
            {
                if let Some(&v) = row.iter().find(|&&v| v >= q) {
                    return Err(DatabaseError::BadPlaintext {
                        index: k,
                        reason: format!("residue {v} is not below modulus {q}"),
                    });
                }
            }
        }
        let slots = slots_of(present.iter().copied())?;
        Ok(layout.into_shard(parameters, slots, storage))
    }

    /// Apple's `.bin` (§5.1) of this shard.
    pub fn to_apple_bin(&self) -> Result<Vec<u8>, DatabaseError> {
        let ctx = Layout::of(&self.parameters)?.context()?;
        let count = u32::try_from(self.slots.len())
            .map_err(|_| PirError::InvalidParameters("more than 2^32 plaintexts".into()))?;
        let mut out = vec![APPLE_BIN_VERSION];
        out.extend_from_slice(&count.to_le_bytes());
        for index in 0..self.slots.len() {
            match self.plaintext(index) {
                None => out.push(TAG_ZERO),
                Some(residues) => {
                    out.push(TAG_PRESENT);
                    let rows = residues
                        .chunks_exact(self.ring.degree)
                        .map(<[u64]>::to_vec)
                        .collect();
                    let bad = |e: he::Error| DatabaseError::BadPlaintext {
                        index,
                        reason: e.to_string(),
                    };
                    Poly::<Eval>::from_rows(&ctx, rows)
                        .map_err(bad)?
                        .write(&ctx, 0, &mut out)
                        .map_err(bad)?;
                }
            }
        }
        Ok(out)
    }

    /// The shard's parameters, as given.
    pub fn parameters(&self) -> &PirParameters {
        &self.parameters
    }

    /// The index-PIR parameters.
    pub fn index_parameter(&self) -> &IndexPirParameter {
        &self.index
    }

    /// Tables: the hash function count for keyword PIR, else 1.
    pub fn table_count(&self) -> usize {
        self.tables
    }

    /// Plaintexts (and reply ciphertexts) per entry.
    pub fn chunk_count(&self) -> usize {
        self.chunks
    }

    /// Polynomial degree N.
    pub fn degree(&self) -> usize {
        self.ring.degree
    }

    /// The ciphertext moduli the plaintexts are over (the special modulus excluded).
    pub fn moduli(&self) -> &[u64] {
        &self.ring.moduli
    }

    /// Plaintext modulus t.
    pub fn plaintext_modulus(&self) -> u64 {
        self.ring.plaintext_modulus
    }

    /// All plaintexts, zero ones included.
    pub fn plaintext_count(&self) -> usize {
        self.slots.len()
    }

    /// Plaintexts stored (not zero).
    pub fn present_count(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// The `L · N` Eval residues of plaintext `index` (scan order), `None` for a zero plaintext
    /// or an index past the end.
    pub fn plaintext(&self, index: usize) -> Option<&[u64]> {
        let slot = (*self.slots.get(index)?)? as usize;
        let per = self.ring.degree * self.ring.moduli.len();
        self.storage.residues().get(slot * per..(slot + 1) * per)
    }

    /// The whole residue array, scan order.
    pub fn residues(&self) -> &[u64] {
        self.storage.residues()
    }
}
