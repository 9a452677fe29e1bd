//! One contract suite for every NonceStore backend (in-memory, embedded file, Redis): double
//! spend, TTL, concurrent writers, reopen after restart, and the full double-spend of one token
//! across two verifiers on Redis.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns unwrap checked-in vectors"
)]

use std::sync::Arc;

use privacy_pass::{
    ChallengePolicy, Error, FileNonceStore, MemoryNonceStore, NonceStore, PublicKey,
    RedisNonceStore, Tier, Token, TokenKeyId, Verifier,
};
use test_support::redis::RedisServer;

const ID: TokenKeyId = TokenKeyId([7; 32]);

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn contract<N: NonceStore + 'static>(store: Arc<N>) {
    let t = now();
    // Double spend.
    assert!(store.reserve(&ID, &[1; 32], t, t + 3600).await.unwrap());
    assert!(!store.reserve(&ID, &[1; 32], t, t + 3600).await.unwrap());
    // Same nonce under another key id is a different pair.
    assert!(
        store
            .reserve(&TokenKeyId([8; 32]), &[1; 32], t, t + 3600)
            .await
            .unwrap()
    );
    // TTL: an entry already expired does not block (no sleeping: the expiry lies in the past).
    assert!(store.reserve(&ID, &[2; 32], t, t - 10).await.unwrap());
    assert!(store.reserve(&ID, &[2; 32], t, t + 3600).await.unwrap());
    assert!(!store.reserve(&ID, &[2; 32], t, t + 3600).await.unwrap());
    // Concurrent writers: 16 tasks race for one pair, exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.reserve(&ID, &[3; 32], t, t + 3600).await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_contract() {
    contract(Arc::new(MemoryNonceStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_ttl_follows_given_clock() {
    let s = MemoryNonceStore::new();
    assert!(s.reserve(&ID, &[9; 32], 100, 200).await.unwrap());
    assert!(!s.reserve(&ID, &[9; 32], 199, 300).await.unwrap());
    assert!(s.reserve(&ID, &[9; 32], 200, 300).await.unwrap());
    s.purge_expired(300);
    assert!(s.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonces.redb");
    contract(Arc::new(FileNonceStore::open(&path).unwrap())).await;
    // A restart (the database closed and reopened) still sees the spent nonces.
    let reopened = FileNonceStore::open(&path).unwrap();
    assert!(
        !reopened
            .reserve(&ID, &[1; 32], now(), now() + 3600)
            .await
            .unwrap()
    );
    assert!(
        !reopened
            .reserve(&ID, &[3; 32], now(), now() + 3600)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_ttl_follows_given_clock_and_purges() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileNonceStore::open(&dir.path().join("nonces.redb")).unwrap();
    assert!(s.reserve(&ID, &[9; 32], 100, 200).await.unwrap());
    assert!(!s.reserve(&ID, &[9; 32], 199, 300).await.unwrap());
    // Expired at 200: reserved again, and its old expiry entry is replaced, not duplicated.
    assert!(s.reserve(&ID, &[9; 32], 200, 300).await.unwrap());
    for i in 0..40u8 {
        assert!(s.reserve(&ID, &[i; 32], 100, 150).await.unwrap() || i == 9);
    }
    assert_eq!(s.count().unwrap(), 40);
    // Reserves purge a bounded number of expired pairs as they go.
    assert!(s.reserve(&ID, &[200; 32], 160, 400).await.unwrap());
    assert_eq!(s.count().unwrap(), 41 - 16);
    assert_eq!(s.purge_expired(160, 5).unwrap(), 5);
    assert_eq!(s.purge_expired(160, 1000).unwrap(), 39 - 16 - 5);
    // Left: [9] until 300 and [200] until 400.
    assert_eq!(s.count().unwrap(), 2);
    assert!(!s.reserve(&ID, &[9; 32], 299, 500).await.unwrap());
    assert_eq!(s.purge_expired(400, 1000).unwrap(), 2);
    assert_eq!(s.count().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_group_commits_are_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonces.redb");
    let store = Arc::new(FileNonceStore::open(&path).unwrap());
    // 64 distinct nonces at once (answered by shared commits), each pair twice.
    let mut tasks = Vec::new();
    for i in 0..128u8 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            (
                i % 64,
                s.reserve(&ID, &[i % 64; 32], 100, 10_000).await.unwrap(),
            )
        }));
    }
    let mut wins = [0u8; 64];
    for task in tasks {
        let (n, won) = task.await.unwrap();
        wins[usize::from(n)] += u8::from(won);
    }
    assert_eq!(wins, [1; 64], "each pair exactly once");
    drop(store);
    let reopened = FileNonceStore::open(&path).unwrap();
    assert_eq!(reopened.count().unwrap(), 64);
    for i in 0..64u8 {
        assert!(!reopened.reserve(&ID, &[i; 32], 200, 10_000).await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_bad_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonces.redb");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        FileNonceStore::open(&path),
        Err(Error::Store(_) | Error::CorruptStore(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_contract() {
    let redis = RedisServer::start().expect("redis-server is required for the Redis tests");
    let store = RedisNonceStore::connect(&redis.url(), "pp-contract")
        .await
        .unwrap();
    contract(Arc::new(store.clone())).await;
    let ttl = store.ttl(&ID, &[1; 32]).await.unwrap().unwrap();
    assert!(ttl > 3500 && ttl <= 3600, "ttl {ttl}");
    // A second connection (a restarted replica) still sees the spent nonce.
    let reopened = RedisNonceStore::connect(&redis.url(), "pp-contract")
        .await
        .unwrap();
    assert!(
        !reopened
            .reserve(&ID, &[1; 32], now(), now() + 3600)
            .await
            .unwrap()
    );
}

#[derive(serde::Deserialize)]
#[allow(non_snake_case)]
struct V {
    pkS: String,
    token: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_sixteen_tasks_two_verifiers_on_redis() {
    let vs: Vec<V> = serde_json::from_str(include_str!(
        "../../../vectors/privacy-pass/PrivacyPassPublicTokens.json"
    ))
    .unwrap();
    let v = &vs[0];
    let token = Token::decode(&hex::decode(&v.token).unwrap()).unwrap();
    let pk = PublicKey::from_spki(&hex::decode(&v.pkS).unwrap()).unwrap();
    let redis = RedisServer::start().expect("redis-server is required for the Redis tests");
    let mut verifiers = Vec::new();
    for _ in 0..2 {
        let store = RedisNonceStore::connect(&redis.url(), "pp-ds")
            .await
            .unwrap();
        verifiers.push(Arc::new(Verifier::new(
            vec![(pk.clone(), Tier::from("tier1"))],
            ChallengePolicy::Any,
            store,
            3600,
        )));
    }
    let mut tasks = Vec::new();
    for i in 0..16 {
        let verifier = verifiers[i % 2].clone();
        let token = token.clone();
        tasks.push(tokio::spawn(
            async move { verifier.redeem(token, now()).await },
        ));
    }
    let (mut ok, mut spent) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(tier) => {
                assert_eq!(tier, Tier::from("tier1"));
                ok += 1;
            }
            Err(Error::DoubleSpend) => spent += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, spent), (1, 15));
}
