//! Our negacyclic NTT (spec bfv.md §3.2, [`he::kernel`] on the fastest backend) side by side with
//! `tfhe-ntt`'s prime32 plan in the same run, at N = 4096 on the 28-bit prime 268369921 of
//! `n_4096_logq_27_28_28` (issue "Speed": ours within 1.5× of tfhe-ntt). Output orderings differ,
//! so only speed is compared here; `tests/ntt_compare.rs` checks both compute the same transform.
//!
//! tfhe-ntt's `inv` leaves out the n^{-1} scaling (its users fold it into the point-wise product),
//! while ours merges it into the last layer; its unscaled `inv` is what is measured, the cheaper
//! of the two for it.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use he::kernel::{self, Backend};
use he::modulus::Modulus;
use he::ntt::Ntt;

const N: usize = 4096;
/// 2^28 − 2^16 + 1, the second modulus of `n_4096_logq_27_28_28`; ≡ 1 mod 2N as both need.
const Q: u32 = 268_369_921;

/// Reproducible residues below `Q` (SplitMix64).
fn residues() -> Vec<u32> {
    let mut s = 0x5EED_u64;
    (0..N)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            // The remainder is below Q < 2^32, so the cast keeps every bit.
            ((z ^ (z >> 31)) % u64::from(Q)) as u32
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let Ok(ours) = Modulus::new(u64::from(Q)).and_then(|q| Ntt::new(q, N)) else {
        eprintln!("ntt_compare: our tables for q = {Q} could not be built");
        return;
    };
    let Some(tfhe) = tfhe_ntt::prime32::Plan::try_new(N, Q) else {
        eprintln!("ntt_compare: tfhe-ntt refused q = {Q} at n = {N}");
        return;
    };
    let backend = Backend::best();
    let tables = ours.tables();
    let input = residues();

    // Each transform runs in place on the previous one's output: both keep values canonical
    // (below Q), so every iteration sees valid input and no copy is timed.
    let mut a: Vec<u64> = input.iter().map(|&x| u64::from(x)).collect();
    c.bench_function("ntt_compare/n4096/ours_forward", |b| {
        b.iter(|| kernel::ntt_forward(backend, tables, black_box(&mut a)));
    });
    c.bench_function("ntt_compare/n4096/ours_inverse", |b| {
        b.iter(|| kernel::ntt_inverse(backend, tables, black_box(&mut a)));
    });
    let mut t = input;
    c.bench_function("ntt_compare/n4096/tfhe_prime32_forward", |b| {
        b.iter(|| tfhe.fwd(black_box(&mut t)));
    });
    c.bench_function("ntt_compare/n4096/tfhe_prime32_inverse", |b| {
        b.iter(|| tfhe.inv(black_box(&mut t)));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
