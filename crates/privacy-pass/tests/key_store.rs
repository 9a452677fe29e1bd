//! One contract suite for every issuer KeyStore backend (file, Redis; DESIGN.md practice 7):
//! reopen after a restart gives the same keys, concurrent initialisers converge on one key per
//! tier, the rotation timeline (tokens of a retiring key verify, of a retired key do not), and
//! bad stored content gives a typed error.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use blind_rsa_signatures::{BlindSignature, PublicKeySha384PSSDeterministic};
use privacy_pass::rand_core::{Rng as _, UnwrapErr};
use privacy_pass::{
    ChallengePolicy, Error, FileKeyStore, Issuer, KeySet, KeyState, KeyStore, MemoryNonceStore,
    RedisKeyStore, SysRng, Tier, Token, TokenChallenge, TokenRequest, TokenType, Verifier,
    key_store, token_input,
};
use test_support::redis::RedisServer;

const T0: u64 = 1_767_225_600;
const DAY: u64 = 86_400;

fn tiers() -> [Tier; 2] {
    [Tier::from("tier1"), Tier::from("tier2")]
}

fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

fn spki_of(set: &KeySet, tier: &Tier) -> Vec<u8> {
    set.active(tier).unwrap().key.public_key().spki().to_vec()
}

/// A TokenRequest for `key` and the device-side state to finish it (RFC 9578 §6.1).
fn blind_request(
    key: &privacy_pass::PublicKey,
) -> (
    TokenRequest,
    [u8; 32],
    [u8; 32],
    blind_rsa_signatures::BlindingResult,
) {
    let mut rng = rng();
    let mut nonce = [0u8; 32];
    rng.fill_bytes(&mut nonce);
    let digest = TokenChallenge::apple("issuer.example.net")
        .digest()
        .unwrap();
    let pk = PublicKeySha384PSSDeterministic::from_spki(key.spki()).unwrap();
    let blinding = pk
        .blind(&mut rng, token_input(&nonce, &digest, &key.key_id()))
        .unwrap();
    let request = TokenRequest {
        truncated_token_key_id: key.key_id().truncated(),
        blinded_msg: blinding.blind_message.0.as_slice().try_into().unwrap(),
    };
    (request, nonce, digest, blinding)
}

/// A token for `tier`'s current key through the full issue path.
fn token_for(issuer: &Issuer, tier: &Tier) -> Token {
    let key = issuer.token_key(tier).unwrap();
    let (request, nonce, digest, blinding) = blind_request(key);
    let response = issuer.issue(&mut rng(), tier, &request.encode()).unwrap();
    let input = token_input(&nonce, &digest, &key.key_id());
    let sig = PublicKeySha384PSSDeterministic::from_spki(key.spki())
        .unwrap()
        .finalize(
            &BlindSignature(response.blind_sig.to_vec()),
            &blinding,
            &input,
        )
        .unwrap();
    Token {
        nonce,
        challenge_digest: digest,
        token_key_id: key.key_id(),
        authenticator: sig.0.as_slice().try_into().unwrap(),
    }
}

async fn restart_gives_same_keys<S: KeyStore>(first: &S, reopened: &S) {
    let mut rng = rng();
    let created = key_store::open_or_create(first, &mut rng, &tiers(), T0)
        .await
        .unwrap();
    assert_eq!(created.version(), 1);
    let again = key_store::open_or_create(reopened, &mut rng, &tiers(), T0 + 60)
        .await
        .unwrap();
    assert_eq!(again.version(), 1, "a restart must not write");
    for tier in &tiers() {
        assert_eq!(spki_of(&created, tier), spki_of(&again, tier));
        let issuer = Issuer::from_records(again.records()).unwrap();
        assert_eq!(
            issuer.token_key(tier).unwrap().spki(),
            spki_of(&created, tier)
        );
    }
    assert_ne!(
        spki_of(&created, &tiers()[0]),
        spki_of(&created, &tiers()[1])
    );
}

async fn concurrent_initialisers_converge<S: KeyStore + 'static>(stores: Vec<Arc<S>>) {
    let mut tasks = Vec::new();
    for store in stores {
        // Each initialiser generates RSA keys, seconds of CPU: on a blocking thread, as in a
        // replica of its own, so the runtime's workers keep driving the Redis connections.
        let handle = tokio::runtime::Handle::current();
        tasks.push(tokio::task::spawn_blocking(move || {
            let mut rng = rng();
            handle.block_on(key_store::open_or_create(&*store, &mut rng, &tiers(), T0))
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        let set = task.await.unwrap().unwrap();
        assert_eq!(set.version(), 1, "exactly one write wins");
        assert_eq!(set.records().len(), 2, "one key per tier");
        seen.push((spki_of(&set, &tiers()[0]), spki_of(&set, &tiers()[1])));
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "all tasks see one key per tier"
    );
}

async fn rotation_timeline<S: KeyStore>(store: &S) {
    let mut rng = rng();
    let tier = Tier::from("tier1");
    let set = key_store::open_or_create(store, &mut rng, std::slice::from_ref(&tier), T0)
        .await
        .unwrap();
    let old_issuer = Issuer::from_records(set.records()).unwrap();
    let old_spki = spki_of(&set, &tier);
    let nonces = Arc::new(MemoryNonceStore::new());
    let verifier_for = |set: &KeySet| {
        Verifier::new(
            set.verifier_keys(),
            ChallengePolicy::Any,
            nonces.clone(),
            30 * DAY,
        )
    };
    let old_tokens: Vec<Token> = (0..3).map(|_| token_for(&old_issuer, &tier)).collect();

    // Stage: listed with its future not-before, not yet served or accepted.
    let not_before = T0 + 2 * DAY;
    let staged = key_store::update(store, |s| {
        s.stage(&mut rng, &tier, not_before, T0 + DAY).map(|_| true)
    })
    .await
    .unwrap();
    let issuer = Issuer::from_records(staged.records()).unwrap();
    assert_eq!(issuer.token_key(&tier).unwrap().spki(), old_spki.as_slice());
    let dir = issuer.directory("https://issuer.example.net/issue");
    assert_eq!(dir.token_keys.len(), 2);
    assert_eq!(dir.token_keys[0].not_before, None);
    assert_eq!(dir.token_keys[1].not_before, Some(not_before));
    assert_eq!(dir.token_keys[1].token_type, TokenType::BLIND_RSA_2048.0);
    assert_eq!(staged.verifier_keys().len(), 1, "staged keys do not verify");
    let early = key_store::update(store, |s| s.promote(&tier, not_before - 1).map(|()| true)).await;
    assert!(matches!(early, Err(Error::Rotation(_))), "{early:?}");

    // Promote: the new key is served; the old one is retiring, still listed and verifying.
    let promoted = key_store::update(store, |s| s.promote(&tier, not_before).map(|()| true))
        .await
        .unwrap();
    let issuer = Issuer::from_records(promoted.records()).unwrap();
    assert_ne!(issuer.token_key(&tier).unwrap().spki(), old_spki.as_slice());
    assert_eq!(issuer.directory("/issue").token_keys.len(), 2);
    let verifier = verifier_for(&promoted);
    assert_eq!(
        verifier
            .redeem(old_tokens[0].clone(), not_before)
            .await
            .unwrap(),
        tier
    );
    let new_token = token_for(&issuer, &tier);
    assert_eq!(verifier.redeem(new_token, not_before).await.unwrap(), tier);
    // The old key no longer issues.
    let (request, ..) = blind_request(old_issuer.token_key(&tier).unwrap());
    assert_eq!(
        issuer
            .issue(&mut rng, &tier, &request.encode())
            .unwrap_err(),
        Error::UnknownKey
    );

    // Retire: tokens of the old key fail; it leaves the directory; the record stays as history.
    let retired = key_store::update(store, |s| Ok(s.retire(&tier) == 1))
        .await
        .unwrap();
    assert_eq!(retired.version(), 4);
    let verifier = verifier_for(&retired);
    assert_eq!(
        verifier
            .redeem(old_tokens[1].clone(), not_before + DAY)
            .await
            .unwrap_err(),
        Error::UnknownKey
    );
    let issuer = Issuer::from_records(retired.records()).unwrap();
    assert_eq!(issuer.directory("/issue").token_keys.len(), 1);
    assert!(
        retired
            .records()
            .iter()
            .any(|r| r.state == KeyState::Retired
                && r.key.public_key().spki() == old_spki.as_slice())
    );
    // A restart sees the same end state.
    let reloaded = store.load().await.unwrap();
    assert_eq!(reloaded.version(), 4);
    assert_eq!(spki_of(&reloaded, &tier), spki_of(&retired, &tier));
}

fn file_store(dir: &Path) -> FileKeyStore {
    FileKeyStore::new(dir.join("issuer-keys.json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_restart_gives_same_keys() {
    let dir = tempfile::tempdir().unwrap();
    restart_gives_same_keys(&file_store(dir.path()), &file_store(dir.path())).await;
    let mode = std::fs::metadata(dir.path().join("issuer-keys.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_concurrent_initialisers_converge() {
    let dir = tempfile::tempdir().unwrap();
    let stores = (0..16).map(|_| Arc::new(file_store(dir.path()))).collect();
    concurrent_initialisers_converge(stores).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_rotation_timeline() {
    let dir = tempfile::tempdir().unwrap();
    rotation_timeline(&file_store(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_refuses_group_or_world_readable() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path());
    key_store::open_or_create(&store, &mut rng(), &tiers(), T0)
        .await
        .unwrap();
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        match store.load().await {
            Err(Error::InsecurePermissions { mode: got, .. }) => assert_eq!(got, mode),
            other => panic!("mode {mode:o}: {other:?}"),
        }
        // A writer must not paper over it either.
        let write = key_store::open_or_create(&store, &mut rng(), &[Tier::from("t3")], T0).await;
        assert!(matches!(write, Err(Error::InsecurePermissions { .. })));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_bad_content_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(dir.path());
    let good = {
        key_store::open_or_create(&store, &mut rng(), &tiers(), T0)
            .await
            .unwrap();
        std::fs::read_to_string(store.path()).unwrap()
    };
    let doc: serde_json::Value = serde_json::from_str(&good).unwrap();
    let mut wrong_format = doc.clone();
    wrong_format["format"] = 2.into();
    let mut bad_key = doc.clone();
    bad_key["keys"][0]["private_key"] = "AAAA".into();
    let mut not_base64 = doc.clone();
    not_base64["keys"][0]["private_key"] = "***".into();
    let mut bad_state = doc.clone();
    bad_state["keys"][0]["state"] = "frozen".into();
    let mut two_active = doc.clone();
    two_active["keys"][1]["tier"] = "tier1".into();
    let truncated = &good[..good.len() / 2];
    for content in [
        "",
        "null",
        truncated,
        &wrong_format.to_string(),
        &bad_key.to_string(),
        &not_base64.to_string(),
        &bad_state.to_string(),
        &two_active.to_string(),
    ] {
        std::fs::write(store.path(), content).unwrap();
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        match store.load().await {
            Err(Error::CorruptStore(_)) => {}
            other => panic!("{content:.40}: {other:?}"),
        }
    }
    // A directory where the file should be.
    let dir_store = FileKeyStore::new(dir.path());
    assert!(dir_store.load().await.is_err());
}

async fn redis_store(redis: &RedisServer, key: &str) -> RedisKeyStore {
    RedisKeyStore::connect(&redis.url(), key).await.unwrap()
}

fn redis() -> RedisServer {
    RedisServer::start().expect("redis-server is required for the Redis tests")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_gives_same_keys() {
    let redis = redis();
    restart_gives_same_keys(
        &redis_store(&redis, "pp:keys").await,
        &redis_store(&redis, "pp:keys").await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_concurrent_initialisers_converge() {
    let redis = redis();
    let mut stores = Vec::new();
    for _ in 0..16 {
        stores.push(Arc::new(redis_store(&redis, "pp:keys").await));
    }
    concurrent_initialisers_converge(stores).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rotation_timeline() {
    let redis = redis();
    rotation_timeline(&redis_store(&redis, "pp:keys").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_bad_content_is_a_typed_error() {
    let redis = redis();
    let store = redis_store(&redis, "pp:keys").await;
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for doc in ["", "{", r#"{"format":1,"version":1,"keys":[{"tier":"t"}]}"#] {
        let () = redis::cmd("HSET")
            .arg("pp:keys")
            .arg("version")
            .arg(1)
            .arg("doc")
            .arg(doc)
            .query_async(&mut conn)
            .await
            .unwrap();
        match store.load().await {
            Err(Error::CorruptStore(_)) => {}
            other => panic!("{doc}: {other:?}"),
        }
    }
    // A key of another type.
    let () = redis::cmd("DEL")
        .arg("pp:keys")
        .query_async(&mut conn)
        .await
        .unwrap();
    let () = redis::cmd("SET")
        .arg("pp:keys")
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(store.load().await.is_err());
}

mod no_panic {
    use std::os::unix::fs::PermissionsExt as _;
    use std::sync::OnceLock;

    use privacy_pass::{FileKeyStore, KeyStore as _, Tier, key_store};
    use proptest::prelude::*;

    use super::{T0, rng};

    /// A valid two-tier key file, made once.
    fn valid_document() -> &'static [u8] {
        static DOC: OnceLock<Vec<u8>> = OnceLock::new();
        DOC.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = FileKeyStore::new(dir.path().join("k.json"));
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(key_store::open_or_create(
                &store,
                &mut rng(),
                &[Tier::from("a"), Tier::from("b")],
                T0,
            ))
            .unwrap();
            std::fs::read(store.path()).unwrap()
        })
    }

    /// Loads `bytes` as a key file: an error or a valid set, never a panic.
    fn load(bytes: &[u8]) -> bool {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::new(dir.path().join("k.json"));
        std::fs::write(store.path(), bytes).unwrap();
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        match rt.block_on(store.load()) {
            Ok(set) => set.validate().is_ok(),
            Err(_) => true,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            prop_assert!(load(&bytes));
        }

        #[test]
        fn mutated_valid_document(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut doc = valid_document().to_vec();
            let i = at.index(doc.len());
            doc[i] = byte;
            prop_assert!(load(&doc));
        }

        #[test]
        fn truncated_valid_document(at in any::<prop::sample::Index>()) {
            let doc = valid_document();
            prop_assert!(load(&doc[..at.index(doc.len())]));
        }
    }
}
