//! Which coefficients each plaintext of a MulPIR database holds, in database order
//! (spec/pir-protocol.md §4.4; Apple's `MulPirServer.process`, `processPackEntries`,
//! `processSplitLargeEntries`).
//!
//! Entries up to a plaintext in size are zero-padded and packed `floor(bpp / E)` per plaintext;
//! larger ones are split into `chunk_count` plaintexts. The list is padded to `d0 · d1`
//! plaintexts per chunk and stored column-major (plaintext `c0 · d1 + c1` at `c1 · d0 + c0`),
//! chunk after chunk. An all-zero plaintext is `None`: it is skipped in the scan and written
//! as a zero tag. Turning the coefficients into Eval-form plaintexts is the HE layer's part.

use crate::PirError;
use crate::index_pir::IndexPirParameter;
use crate::packing::bytes_to_coefficients;

/// The plaintexts of one table: `chunk_count · d0 · d1` coefficient vectors (each at most `N`
/// long; the rest of the polynomial is zero), `None` for all-zero plaintexts.
///
/// `bits_per_coeff` and `bytes_per_plaintext` describe the ring
/// ([`crate::packing::bits_per_coeff`], [`crate::packing::bytes_per_plaintext`]).
///
/// # Errors
/// [`PirError::InvalidParameters`] when the entry count differs from the parameters', an entry
/// is larger than the entry size, or the parameters are inconsistent with the ring.
pub fn table_plaintexts<E: AsRef<[u8]>>(
    entries: &[E],
    parameter: &IndexPirParameter,
    bits_per_coeff: u32,
    bytes_per_plaintext: usize,
) -> Result<Vec<Option<Vec<u64>>>, PirError> {
    if entries.len() != parameter.entry_count {
        return Err(PirError::InvalidParameters(format!(
            "{} entries given; the parameters say {}",
            entries.len(),
            parameter.entry_count
        )));
    }
    if let Some(e) = entries
        .iter()
        .find(|e| e.as_ref().len() > parameter.entry_size)
    {
        return Err(PirError::InvalidParameters(format!(
            "an entry of {} bytes exceeds the entry size {}",
            e.as_ref().len(),
            parameter.entry_size
        )));
    }
    let (d0, per_chunk) = match parameter.dimensions.first() {
        Some(&d0) if !parameter.dimensions.contains(&0) => (d0, parameter.plaintexts_per_chunk()),
        _ => return Err(PirError::InvalidParameters("dimensions must be ≥ 1".into())),
    };
    let chunk_count = parameter.chunk_count(bytes_per_plaintext);
    if chunk_count == 0 {
        return Err(PirError::InvalidParameters(
            "entries must be at least 1 byte".into(),
        ));
    }
    let to_plaintext = |bytes: &[u8]| -> Result<Option<Vec<u64>>, PirError> {
        let coeffs = bytes_to_coefficients(bytes, bits_per_coeff)?;
        Ok(coeffs.iter().any(|&c| c != 0).then_some(coeffs))
    };

    // rows[p][c]: plaintext p (row-major hypercube index) of chunk c.
    let mut rows: Vec<Vec<Option<Vec<u64>>>> = Vec::with_capacity(per_chunk);
    let width = parameter.entry_size_encoding_width();
    let encoded_size = parameter.encoded_entry_size();
    if chunk_count == 1 {
        let per_plaintext = parameter.entries_per_plaintext(bytes_per_plaintext);
        let mut flat = Vec::with_capacity(entries.len() * encoded_size);
        for entry in entries {
            let entry = entry.as_ref();
            flat.extend_from_slice(&length_prefix(entry.len(), width));
            flat.extend_from_slice(entry);
            flat.resize(flat.len() + encoded_size - width - entry.len(), 0);
        }
        for group in flat.chunks(per_plaintext * encoded_size) {
            rows.push(vec![to_plaintext(group)?]);
        }
    } else {
        for entry in entries {
            let entry = entry.as_ref();
            let mut chunks = Vec::with_capacity(chunk_count);
            for c in 0..chunk_count {
                // Chunk c covers encoded bytes [c·bpp, (c+1)·bpp); chunk 0 starts with the prefix.
                let start =
                    (c * bytes_per_plaintext).saturating_sub(if c == 0 { 0 } else { width });
                let end = ((c + 1) * bytes_per_plaintext)
                    .saturating_sub(width)
                    .min(entry.len());
                let plaintext = match entry.get(start..end) {
                    Some(body) if c == 0 && width > 0 => {
                        let mut bytes = length_prefix(entry.len(), width);
                        bytes.extend_from_slice(body);
                        to_plaintext(&bytes)?
                    }
                    Some(body) if !body.is_empty() => to_plaintext(body)?,
                    _ => None,
                };
                chunks.push(plaintext);
            }
            rows.push(chunks);
        }
    }
    if rows.len() > per_chunk {
        return Err(PirError::InvalidParameters(format!(
            "{} plaintexts do not fit dimensions {:?}",
            rows.len(),
            parameter.dimensions
        )));
    }
    rows.resize_with(per_chunk, || vec![None; chunk_count]);

    let columns = per_chunk / d0;
    let mut out = Vec::with_capacity(chunk_count * per_chunk);
    for c in 0..chunk_count {
        for skip in 0..columns {
            for row in rows.iter().skip(skip).step_by(columns) {
                out.push(row.get(c).cloned().flatten());
            }
        }
    }
    Ok(out)
}

/// The position in [`table_plaintexts`]'s output of the plaintext at hypercube coordinates
/// `[c0, c1]` (or `[c0]`) in chunk `chunk`.
pub fn plaintext_position(
    parameter: &IndexPirParameter,
    coordinates: &[usize],
    chunk: usize,
) -> Option<usize> {
    let per_chunk = parameter.plaintexts_per_chunk();
    let d0 = *parameter.dimensions.first()?;
    let within = match coordinates {
        [c0] => *c0,
        [c0, c1] => c1 * d0 + c0,
        _ => return None,
    };
    (within < per_chunk).then_some(chunk * per_chunk + within)
}

/// The little-endian length prefix of `width` bytes (0, 1, 2, 4 or 8).
fn length_prefix(len: usize, width: usize) -> Vec<u8> {
    let bytes = (len as u64).to_le_bytes();
    bytes.get(..width).map(<[u8]>::to_vec).unwrap_or_default()
}
