//! Per-operation timings at N=4096 on n_4096_logq_27_28_28_logt_5 (Q = 134176769·268369921,
//! p = 268361729, t = 17), named and shaped as Apple's `apple-ops.json` measures them (one
//! ciphertext of two polynomials over the two ciphertext moduli) so the numbers compare directly
//! with vectors/apple/README.md.

#![allow(clippy::unwrap_used)] // bench setup: a failed unwrap aborts the bench

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use he::behz::{Behz, Scalar};
use he::encrypt::encrypt;
use he::keygen;
use he::keyswitch;
use he::poly::{Coeff, Eval, Poly, PolyContext};
use he::rng::NistAes128Ctr;
use he::{dot, modswitch, sample, serialize};

const N: usize = 4096;
const T: u64 = 17;
const MODULI: [u64; 3] = [134176769, 268369921, 268361729];
/// Plaintexts in one 50K-URL shard's first dimension scan (Apple's `[25, 6]` layout, ~300 rows).
const SCAN: usize = 300;
/// Query ciphertexts of that layout's first dimension.
const DIM: usize = 25;

fn benches(c: &mut Criterion) {
    let all = PolyContext::new(N, &MODULI).unwrap();
    let ct = all.prefix(2).unwrap();
    let secret = sample::ternary(&all, &mut NistAes128Ctr::new(&[1; 32]))
        .unwrap()
        .ntt(&all);
    let m: Vec<u64> = (0..N as u64).map(|i| (5 * i + 1) % T).collect();
    let a = encrypt(&ct, &secret, &m, T, &mut NistAes128Ctr::new(&[2; 32]))
        .unwrap()
        .polys;
    let b = encrypt(&ct, &secret, &m, T, &mut NistAes128Ctr::new(&[3; 32]))
        .unwrap()
        .polys;

    // One polynomial over all ciphertext moduli, as Apple's `ntt_*_one_ciphertext_poly`.
    c.bench_function("ntt/n4096/forward", |bench| {
        bench.iter_batched(|| a[0].clone(), |p| p.ntt(&ct), BatchSize::SmallInput)
    });
    let e0 = a[0].clone().ntt(&ct);
    c.bench_function("ntt/n4096/inverse", |bench| {
        bench.iter_batched(|| e0.clone(), |p| p.intt(&ct), BatchSize::SmallInput)
    });

    let ea: Vec<Poly<Eval>> = a.iter().map(|p| p.clone().ntt(&ct)).collect();
    let pt = b[0].clone().ntt(&ct);
    c.bench_function("ct_pt_mul/n4096", |bench| {
        bench.iter(|| ea.iter().map(|p| p.mul(&pt, &ct)).collect::<Vec<_>>())
    });

    // The database scan as the PIR server runs it (`dot::ct_pt`): a 50K-URL shard's first
    // dimension of 25 query ciphertexts against SCAN distinct plaintexts (streamed from memory),
    // 25 at a time.
    let cts: Vec<Vec<Poly<Eval>>> = (0..DIM).map(|_| ea.clone()).collect();
    let flat: Vec<Vec<u64>> = (0..SCAN)
        .map(|k| {
            let rot = k % N;
            pt.rows()
                .iter()
                .flat_map(|r| r[rot..].iter().chain(&r[..rot]).copied())
                .collect()
        })
        .collect();
    let pts: Vec<Option<&[u64]>> = flat.iter().map(|p| Some(p.as_slice())).collect();
    c.bench_function("ct_pt_mac/n4096/300", |bench| {
        bench.iter(|| {
            pts.chunks(DIM)
                .map(|chunk| dot::ct_pt(&ct, &cts, chunk, 2).unwrap())
                .collect::<Vec<_>>()
        })
    });

    let key = keygen::evaluation_key(
        &all,
        2,
        &secret,
        &[3],
        true,
        &mut NistAes128Ctr::new(&[4; 32]),
    )
    .unwrap();
    let gk = serialize::key_switch_key(&all, &key.galois_key.as_ref().unwrap().key_switch_keys[&3])
        .unwrap();
    let rk = serialize::key_switch_key(
        &all,
        key.relin_key.as_ref().unwrap().relin_key.as_ref().unwrap(),
    )
    .unwrap();
    c.bench_function("galois_keyswitch/n4096", |bench| {
        bench.iter(|| keyswitch::apply_galois(&all, &ct, &a, 3, &gk).unwrap())
    });

    let behz = Behz::new(&ct, T, Scalar::U32).unwrap();
    c.bench_function("ct_ct/n4096", |bench| {
        bench.iter(|| behz.multiply(&ct, &a, &b).unwrap())
    });
    let prod = behz.multiply(&ct, &a, &b).unwrap();
    c.bench_function("relin/n4096", |bench| {
        bench.iter(|| keyswitch::relinearize(&all, &ct, &prod, &rk).unwrap())
    });
    c.bench_function("ct_ct_relin/n4096", |bench| {
        bench.iter(|| {
            let prod = behz.multiply(&ct, &a, &b).unwrap();
            keyswitch::relinearize(&all, &ct, &prod, &rk).unwrap()
        })
    });

    c.bench_function("mod_switch/n4096", |bench| {
        bench.iter(|| modswitch::mod_switch_down_to_single(&ct, &a).unwrap())
    });
    c.bench_function("mod_switch_serialize/n4096", |bench| {
        bench.iter(|| {
            let (one, polys) = modswitch::mod_switch_down_to_single(&ct, &a).unwrap();
            let q0 = one.moduli().next().unwrap().value();
            let skips = modswitch::skip_lsbs_for_decryption(q0, T, N);
            he::poly::write_polys::<Coeff>(&one, &polys, &skips).unwrap()
        })
    });
}

criterion_group! {
    name = he_benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(he_benches);
