//! Every kernel backend this CPU has against the scalar reference, on random residues: the NTT
//! both ways (and against the O(n²) definition, and on tfhe-ntt behind our order), point-wise
//! products, sums and differences, and the lazy MAC.

#![allow(clippy::unwrap_used, reason = "tests")]

use he::kernel::{self, Backend, NttTables};
use he::modulus::Modulus;
use he::ntt::Ntt;
use proptest::prelude::*;

/// Primes ≡ 1 mod 2·4096: those of the sets we serve (27–28 bits), the largest below the SIMD
/// bound 2^30, one between 2^30 and 2^32 (scalar NTT, lazy MAC of one term) and a 55-bit one.
const PRIMES: [u64; 6] = [
    134176769,
    268369921,
    268361729,
    1073692673,
    4294475777,
    36028797018652673,
];

fn residues(q: u64, n: usize, seed: u64) -> Vec<u64> {
    // SplitMix64: reproducible values spread over [0, q), including q − 1.
    let mut s = seed;
    (0..n)
        .map(|i| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            if i == 0 { q - 1 } else { (z ^ (z >> 31)) % q }
        })
        .collect()
}

fn tables(q: u64, n: usize) -> NttTables {
    Ntt::new(Modulus::new(q).unwrap(), n)
        .unwrap()
        .tables()
        .clone()
}

#[test]
fn a_simd_backend_is_detected_where_available() {
    let names: Vec<_> = Backend::available().iter().map(|b| b.name()).collect();
    assert_eq!(names.first(), Some(&"scalar"));
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        assert_eq!(Backend::best().name(), "avx2+tfhe-ntt");
    }
}

#[test]
fn tfhe_ntt_backed_transforms_match_the_scalar_path() {
    // Where tfhe-ntt has a plan (the 32-bit one below 2^31, else the 64-bit one) the fastest
    // backend runs it behind the permutation onto our order; it must give our bits exactly,
    // from the lazy input ranges too (forward below 4q, inverse below 2q).
    let backend = Backend::best();
    let mut planned = 0;
    for q in PRIMES {
        for log_n in 1..13 {
            let n = 1usize << log_n;
            let t = tables(q, n);
            let expected_plan = match u32::try_from(q) {
                Ok(q32) if q32 < 1 << 31 => tfhe_ntt::prime32::Plan::try_new(n, q32).is_some(),
                _ => tfhe_ntt::prime64::Plan::try_new(n, q).is_some(),
            };
            assert_eq!(t.has_tfhe_plan(), expected_plan, "q {q}, n {n}");
            planned += usize::from(expected_plan);
            for seed in [3, 4] {
                let a = residues(q, n, seed);
                let lift = |k: u64| -> Vec<u64> {
                    a.iter()
                        .enumerate()
                        .map(|(i, &x)| x + q * ((i as u64 ^ seed) % k))
                        .collect()
                };
                let mut want = a.clone();
                kernel::ntt_forward(Backend::scalar(), &t, &mut want);
                let mut got = lift(4);
                kernel::ntt_forward(backend, &t, &mut got);
                assert_eq!(got, want, "forward, q {q}, n {n}, {}", backend.name());
                let mut back = lift(2);
                kernel::ntt_inverse(Backend::scalar(), &t, &mut back);
                let mut got = lift(2);
                kernel::ntt_inverse(backend, &t, &mut got);
                assert_eq!(got, back, "inverse, q {q}, n {n}, {}", backend.name());
            }
        }
    }
    // n = 32..4096 for every prime has a plan: the test is not vacuous.
    assert!(planned >= 7 * PRIMES.len(), "{planned} plans");
}

#[test]
fn ntt_matches_the_definition() {
    let (q, n) = (268369921, 16);
    let m = Modulus::new(q).unwrap();
    let t = tables(q, n);
    let psi = m.min_primitive_root(n).unwrap();
    let a = residues(q, n, 7);
    for backend in Backend::available() {
        let mut b = a.clone();
        kernel::ntt_forward(backend, &t, &mut b);
        for (i, &bi) in b.iter().enumerate() {
            let e = 2 * (i.reverse_bits() >> (usize::BITS - 4)) as u64 + 1;
            let want = a.iter().enumerate().fold(0, |s, (j, &aj)| {
                m.add(s, m.mul(aj, m.pow(psi, e * j as u64)))
            });
            assert_eq!(bi, want, "{} slot {i}", backend.name());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn ntt_backends_agree(qi in 0..PRIMES.len(), log_n in 1u32..13, seed: u64) {
        let (q, n) = (PRIMES[qi], 1usize << log_n);
        let t = tables(q, n);
        let a = residues(q, n, seed);
        let mut want = a.clone();
        kernel::ntt_forward(Backend::scalar(), &t, &mut want);
        for backend in Backend::available() {
            let mut b = a.clone();
            kernel::ntt_forward(backend, &t, &mut b);
            prop_assert_eq!(&b, &want, "forward {}", backend.name());
            kernel::ntt_inverse(backend, &t, &mut b);
            prop_assert_eq!(&b, &a, "inverse {}", backend.name());
        }
    }

    #[test]
    fn products_agree(qi in 0..PRIMES.len(), len in 0usize..70, seed: u64) {
        let q = Modulus::new(PRIMES[qi]).unwrap();
        let a = residues(q.value(), len, seed);
        let b = residues(q.value(), len, seed ^ 1);
        let want: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| {
            ((u128::from(x) * u128::from(y)) % u128::from(q.value())) as u64
        }).collect();
        for backend in Backend::available() {
            let mut out = vec![0; len];
            kernel::mul_mod(backend, q, &mut out, &a, &b);
            prop_assert_eq!(&out, &want, "{}", backend.name());
        }
    }

    #[test]
    fn lazy_mac_agrees(qi in 0..5usize, len in 0usize..70, terms in 1usize..40, seed: u64) {
        let q = Modulus::new(PRIMES[qi]).unwrap();
        let terms = terms.min(kernel::lazy_terms(q));
        let rows: Vec<(Vec<u64>, Vec<u64>)> = (0..terms as u64)
            .map(|k| (residues(q.value(), len, seed ^ k), residues(q.value(), len, !seed ^ k)))
            .collect();
        let want: Vec<u64> = (0..len).map(|i| {
            rows.iter().fold(0u128, |s, (a, b)| s + u128::from(a[i]) * u128::from(b[i]))
        }).map(|s| (s % u128::from(q.value())) as u64).collect();
        for backend in Backend::available() {
            let mut acc = vec![0; len];
            for (a, b) in &rows {
                kernel::mul_acc(backend, &mut acc, a, b);
            }
            kernel::reduce(q, &mut acc);
            prop_assert_eq!(&acc, &want, "{}", backend.name());
        }
    }

    #[test]
    fn scan_dot_pairs_agree(
        qi in 0..5usize,
        len in 0usize..140,
        from in 0usize..40,
        terms in 0usize..40,
        absent: u64,
        offset in 0usize..3,
        seed: u64,
    ) {
        // Both polynomials' sums over a sub-range, some plaintexts absent, the plaintext rows
        // read from an offset (a later modulus's residues), on top of what acc holds already.
        let q = Modulus::new(PRIMES[qi]).unwrap();
        let terms = terms.min(kernel::lazy_terms(q) - 1);
        let from = from.min(len);
        let qv = q.value();
        let rows: Vec<[Vec<u64>; 3]> = (0..terms as u64)
            .map(|k| {
                [
                    residues(qv, len, seed ^ k),
                    residues(qv, len, !seed ^ k),
                    residues(qv, len + offset * len, seed.rotate_left(7) ^ k),
                ]
            })
            .collect();
        let cts: Vec<[&[u64]; 2]> = rows.iter().map(|[a, b, _]| [&a[..], &b[..]]).collect();
        let pts: Vec<Option<&[u64]>> = rows
            .iter()
            .enumerate()
            .map(|(k, [_, _, p])| (absent >> (k % 64) & 1 == 0).then_some(&p[..]))
            .collect();
        let start = residues(qv, len, seed ^ 0xACC);
        let want: Vec<Vec<u64>> = (0..2)
            .map(|poly| {
                (0..len)
                    .map(|j| {
                        if j < from {
                            return start[j];
                        }
                        let s = cts.iter().zip(&pts).fold(u128::from(start[j]), |s, (c, p)| {
                            p.map_or(s, |p| {
                                s + u128::from(c[poly][j]) * u128::from(p[offset * len + j])
                            })
                        });
                        (s % u128::from(qv)) as u64
                    })
                    .collect()
            })
            .collect();
        for backend in Backend::available() {
            let (mut a0, mut a1) = (start.clone(), start.clone());
            kernel::dot_pairs(backend, [&mut a0, &mut a1], &cts, &pts, offset * len, from..len)
                .unwrap();
            kernel::reduce(q, &mut a0[from..]);
            kernel::reduce(q, &mut a1[from..]);
            prop_assert_eq!(&a0, &want[0], "{}", backend.name());
            prop_assert_eq!(&a1, &want[1], "{}", backend.name());
        }
    }

    #[test]
    fn scan_dot_pairs_refuses_short_rows(len in 1usize..70, cut in 1usize..70) {
        let cut = cut.min(len);
        let full = vec![1u64; len];
        let short = vec![1u64; len - cut];
        for backend in Backend::available() {
            let (mut a0, mut a1) = (vec![0u64; len], vec![0u64; len]);
            let r = kernel::dot_pairs(
                backend, [&mut a0, &mut a1], &[[&full, &short]], &[Some(&full)], 0, 0..len,
            );
            prop_assert!(r.is_err());
            let r = kernel::dot_pairs(
                backend, [&mut a0, &mut a1], &[[&full, &full]], &[Some(&short)], 0, 0..len,
            );
            prop_assert!(r.is_err());
            prop_assert!(a0.iter().chain(&a1).all(|&x| x == 0));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn constant_mac_agrees(qi in 0..5usize, len in 0usize..70, w_seed: u64, seed: u64) {
        let q = Modulus::new(PRIMES[qi]).unwrap();
        let w = w_seed % q.value();
        let terms = 3.min(kernel::lazy_terms(q));
        let rows: Vec<Vec<u64>> = (0..terms as u64).map(|k| residues(q.value(), len, seed ^ k)).collect();
        let want: Vec<u64> = (0..len).map(|i| {
            let s = rows.iter().fold(0u128, |s, a| s + u128::from(a[i]) * u128::from(w));
            (s % u128::from(q.value())) as u64
        }).collect();
        for backend in Backend::available() {
            let mut acc = vec![0; len];
            for a in &rows {
                kernel::mul_acc_const(backend, &mut acc, a, w);
            }
            kernel::reduce(q, &mut acc);
            prop_assert_eq!(&acc, &want, "{}", backend.name());
        }
    }

    #[test]
    fn constant_products_agree(qi in 0..PRIMES.len(), len in 0usize..70, w_seed: u64, seed: u64) {
        let q = Modulus::new(PRIMES[qi]).unwrap();
        let w = w_seed % q.value();
        let x = residues(q.value(), len, seed);
        let want: Vec<u64> = x.iter().map(|&a| {
            (u128::from(a) * u128::from(w) % u128::from(q.value())) as u64
        }).collect();
        for backend in Backend::available() {
            let mut out = x.clone();
            kernel::mul_const(backend, q, &mut out, (w, q.shoup(w)));
            prop_assert_eq!(&out, &want, "{}", backend.name());
        }
    }

    #[test]
    fn sums_and_differences_agree(qi in 0..PRIMES.len(), len in 0usize..70, seed: u64) {
        let q = Modulus::new(PRIMES[qi]).unwrap();
        let (a, b) = (residues(q.value(), len, seed), residues(q.value(), len, !seed));
        let sum: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| ((u128::from(x) + u128::from(y)) % u128::from(q.value())) as u64).collect();
        let diff: Vec<u64> = a.iter().zip(&b).map(|(&x, &y)| ((u128::from(x) + u128::from(q.value()) - u128::from(y)) % u128::from(q.value())) as u64).collect();
        for backend in Backend::available() {
            let mut out = vec![0; len];
            kernel::add_mod(backend, q, &mut out, &a, &b);
            prop_assert_eq!(&out, &sum, "add {}", backend.name());
            kernel::sub_mod(backend, q, &mut out, &a, &b);
            prop_assert_eq!(&out, &diff, "sub {}", backend.name());
        }
    }

    #[test]
    fn lazy_ntt_inputs_give_canonical_outputs(qi in 0..PRIMES.len(), log_n in 1u32..13, seed: u64) {
        // Forward takes representatives below 4q, inverse below 2q.
        let (q, n) = (PRIMES[qi], 1usize << log_n);
        let t = tables(q, n);
        let a = residues(q, n, seed);
        let lift = |k: u64| -> Vec<u64> {
            a.iter().enumerate().map(|(i, &x)| x + q * ((i as u64 ^ seed) % k)).collect()
        };
        let mut want = a.clone();
        kernel::ntt_forward(Backend::scalar(), &t, &mut want);
        let mut back = a.clone();
        kernel::ntt_inverse(Backend::scalar(), &t, &mut back);
        for backend in Backend::available() {
            let mut f = lift(4);
            kernel::ntt_forward(backend, &t, &mut f);
            prop_assert_eq!(&f, &want, "forward {}", backend.name());
            let mut i = lift(2);
            kernel::ntt_inverse(backend, &t, &mut i);
            prop_assert_eq!(&i, &back, "inverse {}", backend.name());
        }
    }

    #[test]
    fn shifted_shoup_agrees(qi in 0..PRIMES.len(), si in 0..PRIMES.len(), len in 0usize..70, w_seed: u64, seed: u64) {
        // As in divide-and-round: s holds residues of another modulus, offset covers them.
        let (q, s_mod) = (Modulus::new(PRIMES[qi]).unwrap(), PRIMES[si]);
        let w = w_seed % q.value();
        let x = residues(q.value(), len, seed);
        let s = residues(s_mod, len, !seed);
        let offset = s_mod.div_ceil(q.value()) * q.value() + q.value() / 2;
        let want: Vec<u64> = x.iter().zip(&s).map(|(&a, &b)| {
            let v = u128::from(a) + u128::from(offset) - u128::from(b);
            (v * u128::from(w) % u128::from(q.value())) as u64
        }).collect();
        for backend in Backend::available() {
            let mut out = x.clone();
            kernel::mul_shoup_shifted(backend, q, &mut out, &s, offset, (w, q.shoup(w)));
            prop_assert_eq!(&out, &want, "{}", backend.name());
        }
    }
}
