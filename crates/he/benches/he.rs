//! Per-operation timings at N=4096 on n_4096_logq_27_28_28_logt_5 (Q = 134176769·268369921,
//! p = 268361729, t = 17), to compare with Apple's figures in vectors/apple/README.md.

#![allow(clippy::unwrap_used)] // bench setup: a failed unwrap aborts the bench

use criterion::{Criterion, criterion_group, criterion_main};
use he::behz::{Behz, Scalar};
use he::encrypt::encrypt;
use he::keygen;
use he::keyswitch;
use he::poly::{Coeff, Poly, PolyContext};
use he::rng::NistAes128Ctr;
use he::{sample, serialize};

const N: usize = 4096;
const T: u64 = 17;
const MODULI: [u64; 3] = [134176769, 268369921, 268361729];

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

    let one = all.prefix(1).unwrap();
    let row = Poly::<Coeff>::from_rows(&one, vec![a[0].rows()[0].clone()]).unwrap();
    c.bench_function("ntt/n4096/forward", |bench| {
        bench.iter(|| row.clone().ntt(&one))
    });

    let ea: Vec<_> = a.iter().map(|p| p.clone().ntt(&ct)).collect();
    let pt = b[0].clone().ntt(&ct);
    c.bench_function("ct_pt_mac/n4096", |bench| {
        bench.iter(|| {
            let acc: Vec<_> = ea.iter().map(|p| p.mul(&pt, &ct).add(p, &ct)).collect();
            acc
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
    c.bench_function("ct_ct_relin/n4096", |bench| {
        bench.iter(|| {
            let prod = behz.multiply(&ct, &a, &b).unwrap();
            keyswitch::relinearize(&all, &ct, &prod, &rk).unwrap()
        })
    });
}

criterion_group! {
    name = he_benches;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(he_benches);
