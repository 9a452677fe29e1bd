//! Store costs on this machine: one durable nonce reserve in the embedded redb store (an fsync per
//! redemption) against the in-memory store, and loading a two-tier issuer key file at start-up.
#![expect(clippy::unwrap_used, reason = "bench set-up")]

use criterion::{Criterion, criterion_group, criterion_main};
use privacy_pass::rand_core::UnwrapErr;
use privacy_pass::{
    FileKeyStore, FileNonceStore, KeyStore as _, MemoryNonceStore, NonceStore, SysRng, Tier,
    TokenKeyId, key_store,
};

fn reserve_loop<N: NonceStore>(c: &mut Criterion, rt: &tokio::runtime::Runtime, id: &str, s: &N) {
    let mut i = 0u64;
    c.bench_function(id, |b| {
        b.iter(|| {
            i += 1;
            let mut nonce = [0u8; 32];
            nonce[..8].copy_from_slice(&i.to_le_bytes());
            rt.block_on(s.reserve(&TokenKeyId([1; 32]), &nonce, 100, 1_000))
                .unwrap()
        })
    });
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = FileNonceStore::open(&dir.path().join("nonces.redb")).unwrap();
    reserve_loop(c, &rt, "nonce_reserve/file_redb_durable", &file);
    reserve_loop(c, &rt, "nonce_reserve/memory", &MemoryNonceStore::new());
    // 16 redemptions in flight at once: the writer answers them with shared commits.
    let file = std::sync::Arc::new(file);
    let mut i = 1u64 << 32;
    c.bench_function("nonce_reserve/file_redb_durable/16_concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tasks = Vec::new();
                for _ in 0..16 {
                    i += 1;
                    let mut nonce = [0u8; 32];
                    nonce[..8].copy_from_slice(&i.to_le_bytes());
                    let s = file.clone();
                    tasks.push(tokio::spawn(async move {
                        s.reserve(&TokenKeyId([1; 32]), &nonce, 100, 1_000).await
                    }));
                }
                for t in tasks {
                    assert!(t.await.unwrap().unwrap());
                }
            })
        })
    });

    let keys = FileKeyStore::new(dir.path().join("issuer-keys.json"));
    let tiers = [Tier::from("tier1"), Tier::from("tier2")];
    rt.block_on(key_store::open_or_create(
        &keys,
        &mut UnwrapErr(SysRng),
        &tiers,
        100,
    ))
    .unwrap();
    c.bench_function("key_store/file_load/2_tiers", |b| {
        b.iter(|| rt.block_on(keys.load()).unwrap())
    });
}

criterion_group!(name = g; config = Criterion::default().sample_size(20); targets = benches);
criterion_main!(g);
