//! The arithmetic inner loops over residue rows (spec bfv.md §3.1–3.2): Harvey NTT butterflies
//! with Shoup twiddles, point-wise products, and the lazy multiply-accumulate. Each kernel has a
//! portable scalar version and, for moduli below 2^30 on CPUs with AVX2 (detected once), a SIMD
//! version; both are exact, so they give the same bits. The fastest backend runs the NTT on
//! `tfhe-ntt` (see [`tfhe`]) wherever it has a plan, with the same bits again. This module tree
//! is the only place with `unsafe`, and that is fenced inside [`simd`] behind safe functions
//! (DESIGN.md practice 6).

use std::sync::OnceLock;

use crate::Error;
use crate::modulus::Modulus;

#[cfg(target_arch = "x86_64")]
mod avx512;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod simd;
mod tfhe;

/// Moduli below this bound let every lazy value (< 4q) sit in the low 32 bits of a 64-bit lane.
const SIMD_MODULUS_BOUND: u64 = 1 << 30;

/// Which implementation runs the kernels. Only [`Backend::scalar`] can be named directly; a SIMD
/// backend exists only once the CPU has been seen to support it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backend(Kind, NttEngine);

/// Who runs the NTT: our butterflies of the backend's kind, or tfhe-ntt where it has a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NttEngine {
    Own,
    Tfhe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2(simd::Avx2),
}

impl Backend {
    /// The portable reference implementation.
    pub fn scalar() -> Self {
        Self(Kind::Scalar, NttEngine::Own)
    }

    /// The fastest backend this CPU supports, detected on first use.
    pub fn best() -> Self {
        static BEST: OnceLock<Backend> = OnceLock::new();
        *BEST.get_or_init(|| Self::available().pop().unwrap_or(Self::scalar()))
    }

    /// Every backend this CPU supports, scalar first, fastest last: the last is the fastest
    /// kind again with its NTT on tfhe-ntt.
    pub fn available() -> Vec<Self> {
        let mut out = vec![Self::scalar()];
        #[cfg(target_arch = "x86_64")]
        if let Some(token) = simd::Avx2::detect() {
            out.push(Self(Kind::Avx2(token), NttEngine::Own));
        }
        let fastest = out.last().map_or(Kind::Scalar, |b| b.0);
        out.push(Self(fastest, NttEngine::Tfhe));
        out
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match (self.0, self.1) {
            (Kind::Scalar, NttEngine::Own) => "scalar",
            (Kind::Scalar, NttEngine::Tfhe) => "scalar+tfhe-ntt",
            #[cfg(target_arch = "x86_64")]
            (Kind::Avx2(_), NttEngine::Own) => "avx2",
            #[cfg(target_arch = "x86_64")]
            (Kind::Avx2(_), NttEngine::Tfhe) => "avx2+tfhe-ntt",
        }
    }

    /// The SIMD token if this backend has one and `q` is small enough for its lanes.
    #[cfg(target_arch = "x86_64")]
    fn avx2_for(self, q: u64) -> Option<simd::Avx2> {
        match self.0 {
            Kind::Avx2(token) if q < SIMD_MODULUS_BOUND => Some(token),
            _ => None,
        }
    }
}

/// Twiddle tables of one modulus and degree in the butterfly order, with Shoup companions.
#[derive(Debug, Clone)]
pub struct NttTables {
    q: Modulus,
    /// Forward twiddles (`fwd[m + i]` for butterfly group i of layer m) and companions.
    fwd: Vec<u64>,
    fwd_shoup: Vec<u64>,
    /// Inverse twiddles and companions, same indexing.
    inv: Vec<u64>,
    inv_shoup: Vec<u64>,
    /// n^{-1}, merged into the last inverse layer, and `inv[1]·n^{-1}`.
    n_inv: (u64, u64),
    last: (u64, u64),
    /// tfhe-ntt's plan and the permutation onto our order, where it has one.
    tfhe: Option<tfhe::TfheNtt>,
}

impl NttTables {
    /// Tables from the forward and inverse twiddles (`w[m + i]`: layer m, group i; canonical).
    pub fn new(q: Modulus, fwd: Vec<u64>, inv: Vec<u64>) -> Result<Self, Error> {
        let n = fwd.len();
        if n < 2 || !n.is_power_of_two() || inv.len() != n {
            return Err(Error::BadDegree(n));
        }
        let n_inv = q.inv(q.reduce(n as u64));
        let last = q.mul(inv.get(1).copied().unwrap_or(1), n_inv);
        let companions = |w: &[u64]| w.iter().map(|&x| q.shoup(x)).collect();
        let mut tables = Self {
            q,
            fwd_shoup: companions(&fwd),
            inv_shoup: companions(&inv),
            fwd,
            inv,
            n_inv: (n_inv, q.shoup(n_inv)),
            last: (last, q.shoup(last)),
            tfhe: None,
        };
        tables.tfhe = tfhe::TfheNtt::new(&tables);
        Ok(tables)
    }

    /// Whether a backend whose NTT is tfhe-ntt's runs it on these tables (else it runs ours).
    pub fn has_tfhe_plan(&self) -> bool {
        self.tfhe.is_some()
    }

    /// The degree n.
    pub fn degree(&self) -> usize {
        self.fwd.len()
    }

    /// The modulus.
    pub fn modulus(&self) -> Modulus {
        self.q
    }
}

/// In-place forward NTT of `a`: any representatives below 4q in (Harvey's input range, so a
/// residue of a modulus below 4q needs no reduction first), canonical out.
pub fn ntt_forward(backend: Backend, tables: &NttTables, a: &mut [u64]) {
    if let (NttEngine::Tfhe, Some(engine)) = (backend.1, &tables.tfhe)
        && a.len() == tables.degree()
    {
        return engine.forward(tables, a);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = backend.avx2_for(tables.q.value())
        && a.len() == tables.degree()
        && a.len() >= 8
    {
        return simd::forward(token, tables, a);
    }
    let _ = backend;
    scalar::forward(tables, a);
}

/// In-place inverse NTT of `a`, including the scaling by n^{-1}: any representatives below 2q
/// in (e.g. the unreduced sum of two canonical values), canonical out.
pub fn ntt_inverse(backend: Backend, tables: &NttTables, a: &mut [u64]) {
    if let (NttEngine::Tfhe, Some(engine)) = (backend.1, &tables.tfhe)
        && a.len() == tables.degree()
    {
        return engine.inverse(tables, a);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = backend.avx2_for(tables.q.value())
        && a.len() == tables.degree()
        && a.len() >= 8
    {
        return simd::inverse(token, tables, a);
    }
    let _ = backend;
    scalar::inverse(tables, a);
}

/// `out[i] = a[i]·b[i] mod q` for canonical `a`, `b` (over the shortest of the three).
pub fn mul_mod(backend: Backend, q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = backend.avx2_for(q.value()) {
        return simd::mul_mod(token, q, out, a, b);
    }
    let _ = backend;
    scalar::mul_mod(q, out, a, b);
}

/// `out[i] = (a[i] + b[i]) mod q` for canonical `a`, `b` (over the shortest of the three).
pub fn add_mod(backend: Backend, q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = backend.avx2_for(q.value()) {
        return simd::add_mod(token, q, out, a, b);
    }
    let _ = backend;
    scalar::add_mod(q, out, a, b);
}

/// `out[i] = (a[i] − b[i]) mod q` for canonical `a`, `b` (over the shortest of the three).
pub fn sub_mod(backend: Backend, q: Modulus, out: &mut [u64], a: &[u64], b: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = backend.avx2_for(q.value()) {
        return simd::sub_mod(token, q, out, a, b);
    }
    let _ = backend;
    scalar::sub_mod(q, out, a, b);
}

/// Lazy multiply-accumulate: `acc[i] += lo32(a[i])·lo32(b[i])`, wrapping. With residues of a
/// modulus q < 2^32 up to [`lazy_terms`] products can be summed before one reduction.
pub fn mul_acc(backend: Backend, acc: &mut [u64], a: &[u64], b: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    if let Kind::Avx2(token) = backend.0 {
        return simd::mul_acc(token, acc, a, b);
    }
    let _ = backend;
    scalar::mul_acc(acc, a, b);
}

/// The lazy two-polynomial inner product of a ct × pt scan over the coefficients `range`:
/// `acc[p][j] += Σ_k lo32(cts[k][p][j])·lo32(pts[k][pt_offset + j])`, wrapping, for p = 0, 1,
/// over the terms whose plaintext is present. Residues of a modulus q < 2^32 may take up to
/// [`lazy_terms`] present terms (counting what `acc` already holds as one) before a reduction.
/// Rows too short for `range` are an error, and nothing is added.
pub fn dot_pairs(
    backend: Backend,
    acc: [&mut [u64]; 2],
    cts: &[[&[u64]; 2]],
    pts: &[Option<&[u64]>],
    pt_offset: usize,
    range: std::ops::Range<usize>,
) -> Result<(), Error> {
    let short = |what, got| Error::CountMismatch {
        what,
        expected: range.end,
        got,
    };
    if range.start > range.end {
        return Err(short("coefficient range end", range.start));
    }
    if let Some(a) = acc.iter().find(|a| a.len() < range.end) {
        return Err(short("accumulator coefficients", a.len()));
    }
    if cts.len() != pts.len() {
        return Err(Error::CountMismatch {
            what: "plaintexts for the ciphertexts",
            expected: cts.len(),
            got: pts.len(),
        });
    }
    if let Some(row) = cts.iter().flatten().find(|row| row.len() < range.end) {
        return Err(short("ciphertext coefficients", row.len()));
    }
    let needed = pt_offset.saturating_add(range.end);
    if let Some(pt) = pts.iter().flatten().find(|pt| pt.len() < needed) {
        return Err(Error::CountMismatch {
            what: "plaintext residues",
            expected: needed,
            got: pt.len(),
        });
    }
    #[cfg(target_arch = "x86_64")]
    if let (Kind::Avx2(_), Some(token)) = (backend.0, avx512_token()) {
        avx512::dot_pairs(token, acc, cts, pts, pt_offset, range);
        return Ok(());
    }
    let _ = backend;
    scalar::dot_pairs(acc, cts, pts, pt_offset, range);
    Ok(())
}

/// AVX-512F, detected once; the fastest backend uses it for the scan where present.
#[cfg(target_arch = "x86_64")]
fn avx512_token() -> Option<avx512::Avx512> {
    static TOKEN: OnceLock<Option<avx512::Avx512>> = OnceLock::new();
    *TOKEN.get_or_init(avx512::Avx512::detect)
}

/// `x[i] = x[i]·w mod q` for any u64 `x` on the scalar path (below 2^32 on the SIMD one, which
/// canonical residues of q < 2^30 are), given `w < q` and `w_shoup = q.shoup(w)`.
pub fn mul_const(backend: Backend, q: Modulus, x: &mut [u64], w: (u64, u64)) {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = backend.avx2_for(q.value()) {
        return simd::mul_const(token, q, x, w);
    }
    let _ = backend;
    scalar::mul_const(q, x, w);
}

/// Lazy multiply-accumulate by a constant: `acc[i] += lo32(a[i])·lo32(w)`, wrapping.
pub fn mul_acc_const(backend: Backend, acc: &mut [u64], a: &[u64], w: u64) {
    #[cfg(target_arch = "x86_64")]
    if let Kind::Avx2(token) = backend.0 {
        return simd::mul_acc_const(token, acc, a, w);
    }
    let _ = backend;
    scalar::mul_acc_const(acc, a, w);
}

/// `x[i] = (x[i] + offset − s[i])·w mod q` for canonical `x`, given `w < q`,
/// `w_shoup = q.shoup(w)` and `s[i] ≤ x[i] + offset < 2^64` (the caller puts a multiple of q
/// into `offset` that covers `s`, which need not be reduced mod q).
pub fn mul_shoup_shifted(
    backend: Backend,
    q: Modulus,
    x: &mut [u64],
    s: &[u64],
    offset: u64,
    (w, w_shoup): (u64, u64),
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(token) = backend.avx2_for(q.value())
        && offset < 1 << 31
    {
        // Every lane value x + offset is below 2^30 + 2^31 < 2^32.
        return simd::mul_shoup_shifted(token, q, x, s, offset, (w, w_shoup));
    }
    let _ = backend;
    scalar::mul_shoup_shifted(q, x, s, offset, (w, w_shoup));
}

/// How many products of residues mod `q` a u64 accumulator (starting below q) holds without
/// overflow; 0 when q ≥ 2^32, where [`mul_acc`] does not apply.
pub fn lazy_terms(q: Modulus) -> usize {
    let q = q.value();
    if q >= 1 << 32 {
        return 0;
    }
    let max = (q - 1) * (q - 1);
    if max == 0 {
        return usize::MAX;
    }
    usize::try_from((u64::MAX - q) / max).unwrap_or(usize::MAX)
}

/// `x[i] = x[i] mod q` for any u64 values (the end of a lazy accumulation).
pub fn reduce(q: Modulus, x: &mut [u64]) {
    for v in x {
        *v = q.reduce(*v);
    }
}
