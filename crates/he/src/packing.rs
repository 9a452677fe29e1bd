//! Coefficient bit packing (spec bfv.md §6.1): values shifted right by `skip` low bits, written
//! MSB-first as one big-endian bit string of `bits − skip`-bit groups.

use crate::Error;

fn width(bits: u32, skip: u32) -> Result<u32, Error> {
    if bits == 0 || bits > 64 || skip >= bits {
        return Err(Error::BadPacking { bits, skip });
    }
    Ok(bits - skip)
}

/// Bytes taken by `count` coefficients.
pub fn packed_len(count: usize, bits: u32, skip: u32) -> Result<usize, Error> {
    Ok((count * width(bits, skip)? as usize).div_ceil(8))
}

/// Packs `coeffs` (each below 2^bits) dropping `skip` low bits (truncation, as Apple).
pub fn pack(coeffs: &[u64], bits: u32, skip: u32, out: &mut Vec<u8>) -> Result<(), Error> {
    let s = width(bits, skip)?;
    let mut acc: u128 = 0;
    let mut filled = 0u32;
    for &c in coeffs {
        acc = (acc << s) | u128::from((c >> skip) & (u64::MAX >> (64 - s)));
        filled += s;
        while filled >= 8 {
            filled -= 8;
            out.push((acc >> filled) as u8);
        }
    }
    if filled > 0 {
        out.push((acc << (8 - filled)) as u8);
    }
    Ok(())
}

/// Unpacks exactly `count` coefficients from the start of `bytes`, restoring skipped bits as 0.
/// Returns the coefficients and the bytes consumed.
pub fn unpack(
    bytes: &[u8],
    count: usize,
    bits: u32,
    skip: u32,
) -> Result<(Vec<u64>, usize), Error> {
    let s = width(bits, skip)?;
    let needed = packed_len(count, bits, skip)?;
    let Some(src) = bytes.get(..needed) else {
        return Err(Error::Truncated {
            what: "polynomial",
            needed,
            have: bytes.len(),
        });
    };
    let mut out = Vec::with_capacity(count);
    let mut acc: u128 = 0;
    let mut filled = 0u32;
    let mask = u64::MAX >> (64 - s);
    let mut it = src.iter();
    while out.len() < count {
        while filled < s {
            // `needed` bytes hold at least count·s bits, so this never runs dry.
            acc = (acc << 8) | u128::from(it.next().copied().unwrap_or(0));
            filled += 8;
        }
        filled -= s;
        out.push((((acc >> filled) as u64) & mask) << skip);
    }
    Ok((out, needed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn msb_first() {
        let mut out = Vec::new();
        pack(&[1, 2, 3], 3, 0, &mut out).unwrap();
        assert_eq!(out, vec![0b0010_1001, 0b1000_0000]);
        assert_eq!(unpack(&out, 3, 3, 0).unwrap().0, vec![1, 2, 3]);
    }

    proptest! {
        #[test]
        fn round_trip(v in prop::collection::vec(0u64..1 << 28, 1..64), skip in 0u32..27) {
            let mut out = Vec::new();
            pack(&v, 28, skip, &mut out).unwrap();
            let (back, used) = unpack(&out, v.len(), 28, skip).unwrap();
            prop_assert_eq!(used, out.len());
            let want: Vec<u64> = v.iter().map(|c| c >> skip << skip).collect();
            prop_assert_eq!(back, want);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64), n in 0usize..40, bits in 0u32..70, skip in 0u32..70) {
            let _ = unpack(&b, n, bits, skip);
        }
    }
}
