//! The `ntt_compare` bench times our NTT (spec bfv.md §3.2) against `tfhe-ntt`'s prime32 plan;
//! this checks the two compute the same negacyclic transform on the bench's prime, so the
//! comparison is like for like: the same evaluations in another order, and the same negacyclic
//! product through point-wise multiplication, checked against the schoolbook product.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use he::kernel::{self, Backend};
use he::modulus::Modulus;
use he::ntt::Ntt;
use tfhe_ntt::prime32::Plan;

const N: usize = 4096;
/// The bench's prime, 2^28 − 2^16 + 1 from `n_4096_logq_27_28_28`.
const Q: u32 = 268_369_921;

fn residues(seed: u64) -> Vec<u32> {
    // SplitMix64, with q − 1 and 0 up front so the extremes are covered.
    let mut s = seed;
    (0..N)
        .map(|i| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            match i {
                0 => Q - 1,
                1 => 0,
                _ => u32::try_from((z ^ (z >> 31)) % u64::from(Q)).unwrap(),
            }
        })
        .collect()
}

fn widen(a: &[u32]) -> Vec<u64> {
    a.iter().map(|&x| u64::from(x)).collect()
}

fn ours() -> Ntt {
    Ntt::new(Modulus::new(u64::from(Q)).unwrap(), N).unwrap()
}

fn tfhe() -> Plan {
    Plan::try_new(N, Q).expect("tfhe-ntt accepts the bench's prime")
}

/// a·b mod (X^N + 1, Q) the slow way.
fn schoolbook(a: &[u32], b: &[u32]) -> Vec<u64> {
    let q = u128::from(Q);
    let mut acc = vec![0u128; N];
    let mut neg = vec![0u128; N];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            let p = u128::from(x) * u128::from(y);
            if i + j < N {
                acc[i + j] += p;
            } else {
                neg[i + j - N] += p;
            }
        }
    }
    acc.iter()
        .zip(&neg)
        .map(|(&s, &d)| u64::try_from((s % q + q - d % q) % q).unwrap())
        .collect()
}

#[test]
fn forward_transforms_are_the_same_evaluations_in_another_order() {
    let (ours, tfhe) = (ours(), tfhe());
    for seed in [1, 2] {
        let a = residues(seed);
        for backend in Backend::available() {
            let mut x = widen(&a);
            kernel::ntt_forward(backend, ours.tables(), &mut x);
            let mut y = a.clone();
            tfhe.fwd(&mut y);
            assert!(y.iter().all(|&v| v < Q), "tfhe-ntt output is canonical");
            let mut y = widen(&y);
            // Both evaluate at every primitive 2N-th root (the odd powers of any one of them),
            // whichever root each picked, so sorted they agree.
            x.sort_unstable();
            y.sort_unstable();
            assert_eq!(x, y, "seed {seed}, {}", backend.name());
        }
    }
}

#[test]
fn pointwise_products_give_the_same_negacyclic_product() {
    let (ours, tfhe) = (ours(), tfhe());
    let q = Modulus::new(u64::from(Q)).unwrap();
    let (a, b) = (residues(3), residues(4));
    let want = schoolbook(&a, &b);

    let (mut ta, mut tb) = (a.clone(), b.clone());
    tfhe.fwd(&mut ta);
    tfhe.fwd(&mut tb);
    tfhe.mul_assign_normalize(&mut ta, &tb);
    tfhe.inv(&mut ta);
    assert_eq!(widen(&ta), want, "tfhe-ntt");

    for backend in Backend::available() {
        let (mut xa, mut xb) = (widen(&a), widen(&b));
        kernel::ntt_forward(backend, ours.tables(), &mut xa);
        kernel::ntt_forward(backend, ours.tables(), &mut xb);
        let mut prod = vec![0; N];
        kernel::mul_mod(backend, q, &mut prod, &xa, &xb);
        kernel::ntt_inverse(backend, ours.tables(), &mut prod);
        assert_eq!(prod, want, "ours, {}", backend.name());
    }
}

#[test]
fn inverse_transforms_undo_the_forward_ones() {
    // The bench runs each transform repeatedly on its own output, so each must map canonical
    // values to canonical values; round trips check the inverse that is timed is the real one.
    let (ours, tfhe) = (ours(), tfhe());
    let a = residues(5);
    let mut y = a.clone();
    tfhe.fwd(&mut y);
    tfhe.inv(&mut y);
    assert!(y.iter().all(|&v| v < Q));
    tfhe.normalize(&mut y);
    assert_eq!(
        y, a,
        "tfhe-ntt: inv is unscaled, normalize multiplies by n^-1"
    );
    for backend in Backend::available() {
        let mut x = widen(&a);
        kernel::ntt_forward(backend, ours.tables(), &mut x);
        kernel::ntt_inverse(backend, ours.tables(), &mut x);
        assert_eq!(x, widen(&a), "ours, {}", backend.name());
    }
}
