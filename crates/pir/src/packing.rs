//! Coefficient packing: bytes ↔ plaintext coefficients (spec/pir-protocol.md §4.1; Apple's
//! `CoefficientPacking` with `decode: false`, no skipped LSBs).
//!
//! The bytes are one big-endian bit string cut into `bits_per_coeff`-bit pieces, most
//! significant first; a final partial piece is left-aligned (padded with zero low bits).

use crate::PirError;

/// Bits of data per plaintext coefficient: `floor(log2 t)` (so `logt_5`, t = 17, gives 4).
///
/// # Errors
/// [`PirError::InvalidParameters`] for `t` < 2.
pub fn bits_per_coeff(plaintext_modulus: u64) -> Result<u32, PirError> {
    if plaintext_modulus < 2 {
        return Err(PirError::InvalidParameters(format!(
            "plaintext modulus {plaintext_modulus} must be at least 2"
        )));
    }
    Ok(plaintext_modulus.ilog2())
}

/// Bytes a plaintext of `degree` coefficients carries: `floor(N · bits_per_coeff / 8)`.
///
/// # Errors
/// As [`bits_per_coeff`], and for a `degree` so large the product overflows.
pub fn bytes_per_plaintext(degree: usize, plaintext_modulus: u64) -> Result<usize, PirError> {
    let bits = bits_per_coeff(plaintext_modulus)? as usize;
    degree
        .checked_mul(bits)
        .map(|b| b / 8)
        .ok_or_else(|| PirError::InvalidParameters(format!("polynomial degree {degree} too large")))
}

/// Cuts `bytes` into `ceil(8·len / bits)` coefficients of `bits` bits each.
///
/// # Errors
/// [`PirError::InvalidParameters`] unless `bits` is in 1..=64.
pub fn bytes_to_coefficients(bytes: &[u8], bits: u32) -> Result<Vec<u64>, PirError> {
    check_bits(bits)?;
    let bits = bits as usize;
    let count = (8 * bytes.len()).div_ceil(bits);
    let mut coeffs = Vec::with_capacity(count);
    // Bits are collected in a u128 so a coefficient of up to 64 bits always fits next to the
    // up-to-7 bits left over from the previous byte.
    let mut acc: u128 = 0;
    let mut acc_bits = 0usize;
    for &byte in bytes {
        acc = (acc << 8) | u128::from(byte);
        acc_bits += 8;
        while acc_bits >= bits {
            acc_bits -= bits;
            coeffs.push(low_bits(acc >> acc_bits, bits));
        }
    }
    if acc_bits > 0 {
        coeffs.push(low_bits(acc << (bits - acc_bits), bits));
    }
    Ok(coeffs)
}

/// Concatenates the low `bits` bits of each coefficient into `ceil(count·bits / 8)` bytes, the
/// final partial byte padded with zero low bits.
///
/// # Errors
/// [`PirError::InvalidParameters`] unless `bits` is in 1..=64.
pub fn coefficients_to_bytes(coeffs: &[u64], bits: u32) -> Result<Vec<u8>, PirError> {
    check_bits(bits)?;
    let bits = bits as usize;
    let mut bytes = Vec::with_capacity((coeffs.len() * bits).div_ceil(8));
    let mut acc: u128 = 0;
    let mut acc_bits = 0usize;
    for &coeff in coeffs {
        acc = (acc << bits) | u128::from(low_bits(u128::from(coeff), bits));
        acc_bits += bits;
        while acc_bits >= 8 {
            acc_bits -= 8;
            bytes.push(low_bits(acc >> acc_bits, 8) as u8);
        }
    }
    if acc_bits > 0 {
        bytes.push(low_bits(acc << (8 - acc_bits), 8) as u8);
    }
    Ok(bytes)
}

fn check_bits(bits: u32) -> Result<(), PirError> {
    if (1..=64).contains(&bits) {
        Ok(())
    } else {
        Err(PirError::InvalidParameters(format!(
            "bits per coefficient {bits} must be in 1..=64"
        )))
    }
}

/// The low `bits` (≤ 64) bits of `x`.
fn low_bits(x: u128, bits: usize) -> u64 {
    (x & ((1u128 << bits) - 1)) as u64
}
