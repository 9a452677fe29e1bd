//! MulPIR parameters: database dimensions, entry packing, the client's coordinates and the
//! plaintexts of a query (spec/pir-protocol.md §4.2, §4.4 "client mapping", §4.5; Apple's
//! `IndexPirConfig`, `IndexPirParameter`, `MulPir.generateParameter`, `MulPirClient`,
//! `PirUtil.compressBinaryInputs`).
//!
//! Everything here depends on the ring only through `bytes_per_plaintext`
//! ([`crate::packing::bytes_per_plaintext`]) and the polynomial degree.

use crate::PirError;
use crate::evaluation_key::{EvaluationKeyConfig, KeyCompression, ceil_log2};

/// What index PIR is asked to serve (Apple's `IndexPirConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexPirConfig {
    /// Number of entries (for keyword PIR: buckets per table).
    pub entry_count: usize,
    /// Largest entry in bytes.
    pub entry_size: usize,
    /// 1 or 2 (the processing tool always uses 2).
    pub dimension_count: usize,
    /// Indices per query (for keyword PIR: the hash function count).
    pub batch_size: usize,
    /// Trade the second dimension for the first while the expansion stays within the same
    /// power of two (BFV ct×ct products are the bottleneck).
    pub uneven_dimensions: bool,
    /// Galois key compression.
    pub key_compression: KeyCompression,
    /// Prefix each entry with its length (index databases only; keyword PIR never does).
    pub encoding_entry_size: bool,
}

/// The parameters of one index-PIR database (Apple's `IndexPirParameter`): `PirParameters`
/// fields 2, 3, 4, 7, 8, 13 and `PIRShardConfig` 1–3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPirParameter {
    /// Number of entries.
    pub entry_count: usize,
    /// Entry size in bytes (before any length prefix).
    pub entry_size: usize,
    /// Hypercube dimensions, most significant first.
    pub dimensions: Vec<usize>,
    /// Indices per query.
    pub batch_size: usize,
    /// Keys the client must provide.
    pub evaluation_key_config: EvaluationKeyConfig,
    /// Whether entries carry a length prefix.
    pub encoding_entry_size: bool,
}

impl IndexPirParameter {
    /// Apple's `MulPir.generateParameter` for a ring of `degree` coefficients carrying
    /// `bytes_per_plaintext` bytes.
    ///
    /// # Errors
    /// [`PirError::InvalidParameters`]: a dimension count other than 1 or 2, no entries, an
    /// empty encoded entry, a batch size of 0, a plaintext of 0 bytes, or a degree the key
    /// configuration rejects.
    pub fn generate(
        config: &IndexPirConfig,
        degree: usize,
        bytes_per_plaintext: usize,
    ) -> Result<Self, PirError> {
        if !(1..=2).contains(&config.dimension_count) {
            return Err(PirError::InvalidParameters(format!(
                "dimension count {} must be 1 or 2",
                config.dimension_count
            )));
        }
        if config.entry_count == 0 || config.batch_size == 0 || bytes_per_plaintext == 0 {
            return Err(PirError::InvalidParameters(format!(
                "entry count {}, batch size {} and bytes per plaintext {} must be at least 1",
                config.entry_count, config.batch_size, bytes_per_plaintext
            )));
        }
        let encoded = encoded_entry_size(config.entry_size, config.encoding_entry_size);
        if encoded == 0 {
            return Err(PirError::InvalidParameters(
                "entry size must be at least 1".into(),
            ));
        }
        let per_chunk = if encoded <= bytes_per_plaintext {
            config.entry_count.div_ceil(bytes_per_plaintext / encoded)
        } else {
            config.entry_count
        };

        // Apple takes floor(Double.root(x, n)); the integer root agrees, and the loop below
        // makes the product cover `per_chunk` either way.
        let side = if config.dimension_count == 1 {
            per_chunk
        } else {
            per_chunk.isqrt()
        };
        let mut dimensions = vec![side; config.dimension_count];
        for i in 0..dimensions.len() {
            if dimensions.iter().product::<usize>() < per_chunk {
                if let Some(d) = dimensions.get_mut(i) {
                    *d += 1;
                }
            } else {
                break;
            }
        }
        if config.uneven_dimensions
            && let [d0, d1] = dimensions.as_mut_slice()
        {
            let expansion = |a: usize, b: usize| ((a + b) * config.batch_size).next_power_of_two();
            let limit = expansion(*d0, *d1);
            let (mut n0, mut n1) = (*d0, *d1);
            while expansion(n0, n1) <= limit {
                (*d0, *d1) = (n0, n1);
                if n1 == 1 {
                    break;
                }
                n1 -= 1;
                n0 = per_chunk.div_ceil(n1);
            }
        }

        let expanded: usize = dimensions.iter().sum();
        let evaluation_key_config = EvaluationKeyConfig::for_mul_pir(
            expanded * config.batch_size,
            degree,
            config.key_compression,
        )?;
        Ok(Self {
            entry_count: config.entry_count,
            entry_size: config.entry_size,
            dimensions,
            batch_size: config.batch_size,
            evaluation_key_config,
            encoding_entry_size: config.encoding_entry_size,
        })
    }

    /// Bytes of the length prefix: 0 without `encoding_entry_size`, else 1, 2, 4 or 8.
    pub fn entry_size_encoding_width(&self) -> usize {
        encoded_entry_size(self.entry_size, self.encoding_entry_size) - self.entry_size
    }

    /// Entry size including the length prefix.
    pub fn encoded_entry_size(&self) -> usize {
        encoded_entry_size(self.entry_size, self.encoding_entry_size)
    }

    /// Entries packed into one plaintext (1 when an entry spans several).
    pub fn entries_per_plaintext(&self, bytes_per_plaintext: usize) -> usize {
        let encoded = self.encoded_entry_size();
        if encoded > 0 && bytes_per_plaintext >= encoded {
            bytes_per_plaintext / encoded
        } else {
            1
        }
    }

    /// Plaintexts (and reply ciphertexts) per entry: `ceil(encoded size / bytes_per_plaintext)`.
    pub fn chunk_count(&self, bytes_per_plaintext: usize) -> usize {
        if bytes_per_plaintext == 0 {
            return 0;
        }
        self.encoded_entry_size().div_ceil(bytes_per_plaintext)
    }

    /// Expanded query inputs per index: the sum of the dimensions.
    pub fn expanded_query_count(&self) -> usize {
        self.dimensions.iter().sum()
    }

    /// Plaintexts per chunk: the product of the dimensions.
    pub fn plaintexts_per_chunk(&self) -> usize {
        self.dimensions.iter().product()
    }

    /// The hypercube coordinates of the plaintext holding entry `index` (mixed radix over the
    /// dimensions, most significant first).
    ///
    /// # Errors
    /// [`PirError::IndexOutOfRange`] for `index ≥ entry_count`.
    pub fn coordinates(
        &self,
        index: usize,
        bytes_per_plaintext: usize,
    ) -> Result<Vec<usize>, PirError> {
        if index >= self.entry_count {
            return Err(PirError::IndexOutOfRange {
                index,
                entry_count: self.entry_count,
            });
        }
        let mut remaining = index / self.entries_per_plaintext(bytes_per_plaintext);
        let mut product = self.plaintexts_per_chunk();
        Ok(self
            .dimensions
            .iter()
            .map(|&size| {
                product /= size.max(1);
                let coordinate = remaining / product.max(1);
                remaining -= coordinate * product;
                coordinate
            })
            .collect())
    }

    /// The positions of the ones in a query for `indices`, counted across all the query's
    /// expanded inputs (`expanded_query_count · indices.len()` of them): per index, per
    /// dimension, `offset + coordinate`.
    ///
    /// # Errors
    /// As [`IndexPirParameter::coordinates`].
    pub fn query_one_positions(
        &self,
        indices: &[usize],
        bytes_per_plaintext: usize,
    ) -> Result<Vec<usize>, PirError> {
        let mut offset = 0;
        let mut positions = Vec::with_capacity(indices.len() * self.dimensions.len());
        for &index in indices {
            let coordinates = self.coordinates(index, bytes_per_plaintext)?;
            for (coordinate, size) in coordinates.into_iter().zip(&self.dimensions) {
                positions.push(offset + coordinate);
                offset += size;
            }
        }
        Ok(positions)
    }

    /// Query ciphertexts for `index_count` indices in a ring of `degree` coefficients: the
    /// expanded inputs (`expanded_query_count · index_count`), `degree` per ciphertext.
    pub fn query_ciphertext_count(&self, index_count: usize, degree: usize) -> usize {
        if degree == 0 {
            return 0;
        }
        (self.expanded_query_count() * index_count).div_ceil(degree)
    }

    /// The coefficient plaintexts a client encrypts to query `indices`: one per query
    /// ciphertext, `degree` coefficients each, holding `inv(2^ceilLog2(count_b)) mod t` at this
    /// block's one-positions (`count_b`: the inputs of block `b`), so that expansion by
    /// `2^ceilLog2(count_b)` leaves exact 0/1 selectors (§4.5).
    ///
    /// # Errors
    /// [`PirError::IndexOutOfRange`] as [`IndexPirParameter::coordinates`];
    /// [`PirError::InvalidParameters`] for a degree of 0 or an even plaintext modulus.
    pub fn query_plaintexts(
        &self,
        indices: &[usize],
        bytes_per_plaintext: usize,
        degree: usize,
        plaintext_modulus: u64,
    ) -> Result<Vec<Vec<u64>>, PirError> {
        if degree == 0 || plaintext_modulus.is_multiple_of(2) {
            return Err(PirError::InvalidParameters(format!(
                "degree {degree} must be ≥ 1 and plaintext modulus {plaintext_modulus} odd"
            )));
        }
        let total = self.expanded_query_count() * indices.len();
        let mut plaintexts: Vec<Vec<u64>> = (0..self.query_ciphertext_count(indices.len(), degree))
            .map(|_| vec![0; degree])
            .collect();
        for position in self.query_one_positions(indices, bytes_per_plaintext)? {
            let block = position / degree;
            let count = (total - block * degree).min(degree);
            let value = inverse_power_of_two(ceil_log2(count), plaintext_modulus);
            if let Some(slot) = plaintexts
                .get_mut(block)
                .and_then(|p| p.get_mut(position % degree))
            {
                *slot = value;
            }
        }
        Ok(plaintexts)
    }
}

/// `entry_size` plus the width of its length prefix when encoded: 1 byte up to 255, 2 up to
/// 65535, 4 up to 2^32 − 1, else 8.
fn encoded_entry_size(entry_size: usize, encoding_entry_size: bool) -> usize {
    if !encoding_entry_size {
        return entry_size;
    }
    let width = match entry_size as u64 {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    };
    entry_size + width
}

/// `2^-e mod t` for odd `t`: halving `e` times, where half of an odd `x` is `(x + t) / 2`.
fn inverse_power_of_two(e: u32, t: u64) -> u64 {
    let mut x: u128 = 1;
    for _ in 0..e {
        if x % 2 == 1 {
            x += u128::from(t);
        }
        x /= 2;
    }
    // x stays below t.
    x as u64
}
