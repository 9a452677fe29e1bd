//! One contract suite for every gateway KeyStore backend (key file, Redis; DESIGN.md practice 7):
//! reopen after a restart serves byte-identical configs, concurrent initialisers converge on one
//! key set, concurrent rotations lose no update, and bad stored content is a typed error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::sync::Arc;

use ohttp_gateway::keys::{KeyRing, KeySeed, KeyState};
use ohttp_gateway::server::key_store::{self, KeyStore, KeyStoreError};
use ohttp_gateway::server::key_store_file::FileKeyStore;
use ohttp_gateway::server::key_store_redis::RedisKeyStore;
use ohttp_gateway::server::keyfile::KeyFile;
use test_support::redis::RedisServer;

fn seed(byte: u8) -> KeySeed {
    KeySeed::new(vec![byte; 32]).unwrap()
}

fn first_keys(byte: u8) -> KeyFile {
    let mut file = KeyFile::default();
    file.rotate(&seed(byte)).unwrap();
    file
}

fn configs(file: &KeyFile) -> Vec<u8> {
    KeyRing::new(file.specs().unwrap())
        .unwrap()
        .encoded_configs()
}

async fn restart_serves_same_configs<S: KeyStore>(first: &S, reopened: &S) {
    assert!(first.load().await.unwrap().is_none());
    assert!(matches!(
        key_store::load_ring(first).await,
        Err(KeyStoreError::Empty)
    ));
    assert!(matches!(
        key_store::update(first, |f| f.rotate(&seed(9))).await,
        Err(KeyStoreError::Empty)
    ));
    let (created, keys) = key_store::create(first, &first_keys(1)).await.unwrap();
    assert!(created);
    let (again, kept) = key_store::create(reopened, &first_keys(2)).await.unwrap();
    assert!(!again, "an initialised store is never overwritten");
    assert_eq!(kept, keys);
    let (ring, _) = key_store::load_ring(reopened).await.unwrap();
    assert_eq!(ring.encoded_configs(), configs(&first_keys(1)));
}

async fn concurrent_initialisers_converge<S: KeyStore + 'static>(stores: Vec<Arc<S>>) {
    let mut tasks = Vec::new();
    for (i, store) in stores.into_iter().enumerate() {
        let byte = u8::try_from(i).unwrap() + 1;
        tasks.push(tokio::spawn(async move {
            key_store::create(&*store, &first_keys(byte)).await.unwrap()
        }));
    }
    let mut created = 0;
    let mut seen = Vec::new();
    for task in tasks {
        let (won, keys) = task.await.unwrap();
        created += usize::from(won);
        seen.push(configs(&keys));
    }
    assert_eq!(created, 1, "exactly one initialiser writes");
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "all serve one key set"
    );
}

async fn concurrent_rotations_lose_nothing<S: KeyStore + 'static>(stores: Vec<Arc<S>>) {
    let first = stores.first().unwrap().clone();
    key_store::create(&*first, &first_keys(1)).await.unwrap();
    let mut tasks = Vec::new();
    for (i, store) in stores.into_iter().enumerate() {
        let byte = u8::try_from(i).unwrap() + 100;
        tasks.push(tokio::spawn(async move {
            key_store::update(&*store, |f| f.rotate(&seed(byte)))
                .await
                .unwrap()
                .1
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "each rotation got its own key id");
    let stored = first.load().await.unwrap().unwrap().keys;
    assert_eq!(stored.keys.len(), n + 1, "no rotation was lost");
    let current: Vec<_> = stored
        .keys
        .iter()
        .filter(|k| k.state == KeyState::Current)
        .collect();
    assert_eq!(current.len(), 1);
    // Retire: only the current key is left, and it is the one published before.
    let published = configs(&stored);
    let (after, dropped) = key_store::update(&*first, |f| Ok(f.retire()))
        .await
        .unwrap();
    assert_eq!(dropped, n);
    assert_eq!(configs(&after), published);
}

fn file_store(dir: &std::path::Path) -> FileKeyStore {
    FileKeyStore::new(dir.join("keys.json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_restart_serves_same_configs() {
    let dir = tempdir("restart");
    restart_serves_same_configs(&file_store(&dir), &file_store(&dir)).await;
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(dir.join("keys.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_concurrent_initialisers_converge() {
    let dir = tempdir("init");
    concurrent_initialisers_converge((0..16).map(|_| Arc::new(file_store(&dir))).collect()).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_concurrent_rotations_lose_nothing() {
    let dir = tempdir("rotate");
    concurrent_rotations_lose_nothing((0..16).map(|_| Arc::new(file_store(&dir))).collect()).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_refuses_group_or_world_access() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempdir("mode");
    let store = file_store(&dir);
    key_store::create(&store, &first_keys(1)).await.unwrap();
    for mode in [0o644, 0o640, 0o602] {
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        match key_store::load_ring(&store).await {
            Err(KeyStoreError::InsecurePermissions { mode: got, .. }) => assert_eq!(got, mode),
            other => panic!("mode {mode:o}: {other:?}"),
        }
        let update = key_store::update(&store, |f| f.rotate(&seed(4))).await;
        assert!(matches!(
            update,
            Err(KeyStoreError::InsecurePermissions { .. })
        ));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_bad_content_is_a_typed_error() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempdir("bad");
    let store = file_store(&dir);
    for content in [
        &b""[..],
        b"{",
        b"\xff\xfe",
        br#"{"keys":[]}"#,
        br#"{"keys":[{"id":1,"seed":"zz","state":"current"}]}"#,
        br#"{"keys":[{"id":1,"seed":"00","state":"current"}]}"#,
    ] {
        std::fs::write(store.path(), content).unwrap();
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        let loaded = key_store::load_ring(&store).await;
        assert!(
            matches!(loaded, Err(KeyStoreError::Invalid(_))),
            "{content:?}: {loaded:?}"
        );
    }
    // Writers refuse to build on it, and leave it as it was.
    let update = key_store::update(&store, |f| f.rotate(&seed(3))).await;
    assert!(matches!(update, Err(KeyStoreError::Invalid(_))));
    assert_eq!(
        std::fs::read(store.path()).unwrap(),
        br#"{"keys":[{"id":1,"seed":"00","state":"current"}]}"#
    );
    let dir_as_file = FileKeyStore::new(&dir);
    assert!(matches!(
        dir_as_file.load().await,
        Err(KeyStoreError::Io { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ohttp-gateway-keystore-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn redis() -> RedisServer {
    RedisServer::start().expect("redis-server is required for the Redis tests")
}

async fn redis_stores(redis: &RedisServer, n: usize) -> Vec<Arc<RedisKeyStore>> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(Arc::new(
            RedisKeyStore::connect(&redis.url(), "gw:keys")
                .await
                .unwrap(),
        ));
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_serves_same_configs() {
    let redis = redis();
    let stores = redis_stores(&redis, 2).await;
    restart_serves_same_configs(&*stores[0], &*stores[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_concurrent_initialisers_converge() {
    let redis = redis();
    concurrent_initialisers_converge(redis_stores(&redis, 16).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_concurrent_rotations_lose_nothing() {
    let redis = redis();
    concurrent_rotations_lose_nothing(redis_stores(&redis, 16).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_bad_content_is_a_typed_error() {
    let redis = redis();
    let store = RedisKeyStore::connect(&redis.url(), "gw:keys")
        .await
        .unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for (fields, bad) in [
        (vec![("version", "1"), ("doc", "{")], "not JSON"),
        (
            vec![("version", "1"), ("doc", r#"{"keys":[]}"#)],
            "no current key",
        ),
        (vec![("doc", r#"{"keys":[]}"#)], "no version"),
    ] {
        let () = redis::cmd("DEL")
            .arg("gw:keys")
            .query_async(&mut conn)
            .await
            .unwrap();
        let mut hset = redis::cmd("HSET");
        hset.arg("gw:keys");
        for (k, v) in fields {
            hset.arg(k).arg(v);
        }
        let () = hset.query_async(&mut conn).await.unwrap();
        let loaded = key_store::load_ring(&store).await;
        assert!(
            matches!(loaded, Err(KeyStoreError::Invalid(_))),
            "{bad}: {loaded:?}"
        );
    }
    // A key of another type is a Redis error, not a panic.
    let () = redis::cmd("DEL")
        .arg("gw:keys")
        .query_async(&mut conn)
        .await
        .unwrap();
    let () = redis::cmd("SET")
        .arg("gw:keys")
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(matches!(store.load().await, Err(KeyStoreError::Redis(_))));
}
