//! Fuzzes the bit-packed polynomial container with arbitrary skip-LSBs.
#![no_main]

use he::poly::{Coeff, PolyContext, read_polys};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ctx) = PolyContext::new(64, &[12289, 40961]) else {
        return;
    };
    let (skips, bytes) = data.split_at(data.len().min(2));
    let skips: Vec<u32> = skips.iter().map(|&s| u32::from(s % 32)).collect();
    let _ = read_polys::<Coeff>(&ctx, bytes, &skips);
});
