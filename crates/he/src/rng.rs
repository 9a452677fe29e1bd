//! NIST SP 800-90A CTR_DRBG (AES-128, no derivation function, full 128-bit counter) behind Apple's
//! 4096-byte buffer: `NistAes128Ctr` (spec bfv.md §4.1–4.2).

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};

/// Length of a seed.
pub const SEED_LEN: usize = 32;
const BUFFER: usize = 4096;

/// The unbuffered CTR_DRBG.
struct CtrDrbg {
    cipher: Aes128,
    v: u128,
}

impl CtrDrbg {
    fn new(seed: &[u8; SEED_LEN]) -> Self {
        let mut d = Self {
            cipher: Aes128::new(&GenericArray::from([0u8; 16])),
            v: 0,
        };
        d.update(seed);
        d
    }

    fn keystream(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(16) {
            self.v = self.v.wrapping_add(1);
            let mut block = GenericArray::from(self.v.to_be_bytes());
            self.cipher.encrypt_block(&mut block);
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }

    fn update(&mut self, data: &[u8; SEED_LEN]) {
        let mut t = [0u8; SEED_LEN];
        self.keystream(&mut t);
        for (x, d) in t.iter_mut().zip(data) {
            *x ^= d;
        }
        let (key, v) = t.split_at(16);
        self.cipher = Aes128::new(GenericArray::from_slice(key));
        let mut vb = [0u8; 16];
        vb.copy_from_slice(v);
        self.v = u128::from_be_bytes(vb);
    }

    /// Generate: keystream from V+1, counter advanced per block, then Update(0).
    fn generate(&mut self, out: &mut [u8]) {
        self.keystream(out);
        self.update(&[0; SEED_LEN]);
    }
}

/// Apple's `NistAes128Ctr`: the DRBG refilled 4096 bytes at a time.
pub struct NistAes128Ctr {
    drbg: CtrDrbg,
    buf: Box<[u8; BUFFER]>,
    pos: usize,
}

impl NistAes128Ctr {
    /// Instantiates from a 32-byte seed.
    pub fn new(seed: &[u8; SEED_LEN]) -> Self {
        Self {
            drbg: CtrDrbg::new(seed),
            buf: Box::new([0; BUFFER]),
            pos: BUFFER,
        }
    }

    /// Fills `out` from the stream.
    pub fn fill(&mut self, mut out: &mut [u8]) {
        while !out.is_empty() {
            if self.pos == BUFFER {
                self.drbg.generate(&mut self.buf[..]);
                self.pos = 0;
            }
            let n = out.len().min(BUFFER - self.pos);
            let (head, tail) = out.split_at_mut(n);
            head.copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            out = tail;
        }
    }

    /// The next `N` bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0; N];
        self.fill(&mut b);
        b
    }

    /// Next little-endian u32.
    pub fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }

    /// Next little-endian u64.
    pub fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes())
    }

    /// Next little-endian u128.
    pub fn next_u128(&mut self) -> u128 {
        u128::from_le_bytes(self.bytes())
    }
}
