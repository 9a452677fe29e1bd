//! One contract, every key-store backend: round trip, overwrite, expiry, reopen after restart,
//! concurrent writers. Redis runs as a real `redis-server` on a loopback port (CI installs it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure should stop the test"
)]

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pir_server::key_store::{
    Clock, EmbeddedKeyStore, KeyStore, RedisKeyStore, StoredKey, key_name,
};
use test_support::redis::RedisServer;

fn key(timestamp: u64, fill: u8, len: usize) -> StoredKey {
    StoredKey {
        timestamp,
        message: vec![fill; len],
    }
}

async fn round_trip_and_overwrite(store: &KeyStore) {
    let name = key_name("user-a", b"config-hash");
    assert_eq!(store.get(&name).await.unwrap(), None);
    store
        .put(&name, &key(1_767_225_600, 1, 700_000))
        .await
        .unwrap();
    assert_eq!(
        store.get(&name).await.unwrap(),
        Some(key(1_767_225_600, 1, 700_000))
    );
    store.put(&name, &key(1_767_225_601, 2, 10)).await.unwrap();
    assert_eq!(
        store.get(&name).await.unwrap(),
        Some(key(1_767_225_601, 2, 10))
    );
    // Another user's key with the same config hash is another key.
    assert_eq!(
        store
            .get(&key_name("user-b", b"config-hash"))
            .await
            .unwrap(),
        None
    );
    // An empty message (Apple's tests upload empty keys) survives too.
    let empty = key_name("user-c", b"");
    store.put(&empty, &key(5, 0, 0)).await.unwrap();
    assert_eq!(store.get(&empty).await.unwrap(), Some(key(5, 0, 0)));
}

async fn concurrent_writers(store: &KeyStore) {
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .put(
                    &key_name(&format!("user-{i}"), b"h"),
                    &key(u64::from(i), i, 1000),
                )
                .await
                .unwrap();
            store
                .put(&key_name("shared", b"h"), &key(u64::from(i), i, 1000))
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for i in 0..16u8 {
        let got = store
            .get(&key_name(&format!("user-{i}"), b"h"))
            .await
            .unwrap();
        assert_eq!(got, Some(key(u64::from(i), i, 1000)));
    }
    // The shared name holds one writer's whole record, never a mix of two.
    let shared = store.get(&key_name("shared", b"h")).await.unwrap().unwrap();
    assert!(
        shared
            .message
            .iter()
            .all(|&b| u64::from(b) == shared.timestamp)
    );
}

#[tokio::test]
async fn embedded_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.redb");
    let now = Arc::new(AtomicU64::new(1_000));
    let clock: Clock = {
        let now = Arc::clone(&now);
        Arc::new(move || now.load(Ordering::SeqCst))
    };
    let ttl = Duration::from_secs(3600);
    {
        let store = KeyStore::Embedded(
            EmbeddedKeyStore::open_with_clock(&path, ttl, Arc::clone(&clock)).unwrap(),
        );
        round_trip_and_overwrite(&store).await;
        concurrent_writers(&store).await;
    }
    // Reopen after a restart: everything is still there.
    let embedded = EmbeddedKeyStore::open_with_clock(&path, ttl, clock).unwrap();
    let store = KeyStore::Embedded(embedded.clone());
    let name = key_name("user-a", b"config-hash");
    assert_eq!(
        store.get(&name).await.unwrap(),
        Some(key(1_767_225_601, 2, 10))
    );

    // Expiry: one second before the TTL the key is there, at the TTL it is gone, and purging
    // removes every record written at the start.
    now.store(1_000 + 3599, Ordering::SeqCst);
    assert!(store.get(&name).await.unwrap().is_some());
    now.store(1_000 + 3600, Ordering::SeqCst);
    assert_eq!(store.get(&name).await.unwrap(), None);
    let removed = embedded.purge_expired().await.unwrap();
    assert_eq!(removed, 1 + 1 + 16 + 1, "user-a, user-c, 16 users, shared");
    assert_eq!(embedded.purge_expired().await.unwrap(), 0);
}

#[tokio::test]
async fn redis_contract() {
    let redis = RedisServer::start().unwrap();
    let ttl = Duration::from_secs(3600);
    {
        let store = KeyStore::Redis(
            RedisKeyStore::connect(&redis.url(), "test:evk:", ttl)
                .await
                .unwrap(),
        );
        round_trip_and_overwrite(&store).await;
        concurrent_writers(&store).await;
    }
    // A second replica (a new connection) sees what the first wrote.
    let other = KeyStore::Redis(
        RedisKeyStore::connect(&redis.url(), "test:evk:", ttl)
            .await
            .unwrap(),
    );
    let name = key_name("user-a", b"config-hash");
    assert_eq!(
        other.get(&name).await.unwrap(),
        Some(key(1_767_225_601, 2, 10))
    );
    // A different prefix is a different namespace.
    let foreign = KeyStore::Redis(
        RedisKeyStore::connect(&redis.url(), "other:", ttl)
            .await
            .unwrap(),
    );
    assert_eq!(foreign.get(&name).await.unwrap(), None);

    // Expiry is Redis's: a 1-second TTL is gone within a bounded wait.
    let short = KeyStore::Redis(
        RedisKeyStore::connect(&redis.url(), "test:short:", Duration::from_secs(1))
            .await
            .unwrap(),
    );
    short.put(&name, &key(1, 1, 1)).await.unwrap();
    assert!(short.get(&name).await.unwrap().is_some());
    let deadline = Instant::now() + Duration::from_secs(5);
    while short.get(&name).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "key did not expire");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn unreachable_redis_is_an_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/0");
    assert!(
        RedisKeyStore::connect(&url, "x:", Duration::from_secs(1))
            .await
            .is_err()
    );
}
