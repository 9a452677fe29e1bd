//! The device simulator against pir-server serving Apple's own processed database (the
//! url-1shard transcript, `PIRProcessDatabase` output): URLs whose sub-URLs are in the blocklist
//! are blocked with the right entry, others allowed; a second device run with the saved state
//! reuses the config and the uploaded key. Both servers bind 127.0.0.1:0 and stop with the test.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bloom_gen::{BloomBuilder, BloomParams, Seed, sizing_for};
use pir::proto::pir as pir_proto;
use pir_server::compute_pool::ComputePool;
use pir_server::key_store::{EmbeddedKeyStore, KeyStore};
use pir_server::usecase::Layout;
use pir_server::usecase_loader::UsecaseSource;
use pir_server::{AppState, Role};
use urlfilter::device::{DEFAULT_USER_AGENT, Device, DeviceConfig, DeviceState, Verdict};
use urlfilter::transport::{BaseUrl, Transport};

const USECASE: &str = "com.example.apple-samplecode.SimpleURLFilter.url.filtering";

fn transcript() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/apple/pir/url-1shard")
}

/// Apple's shard files plus a prefilter built from the same keywords.
fn version_dir(dir: &Path) {
    for name in ["url-0.bin", "url-0.params.txtpb", "url-0.params.binpb"] {
        std::fs::copy(transcript().join(name), dir.join(name)).unwrap();
    }
    let text = std::fs::read_to_string(transcript().join("input.txtpb")).unwrap();
    let database: pir_proto::KeywordDatabase = pir::text_format::parse(&text).unwrap();
    let (bits, hashes) = sizing_for(database.rows.len() as u64, 0.001).unwrap();
    let params = BloomParams::new(bits.into(), hashes.into(), Seed::new(7).unwrap()).unwrap();
    let mut builder = BloomBuilder::new(params);
    for row in &database.rows {
        builder.insert_bytes(&row.keyword);
    }
    let mut json = Vec::new();
    bloom_gen::format::write_json(
        &builder.finish(),
        bloom_gen::format::Meta {
            count: database.rows.len() as u64,
            fpr: 0.001,
        },
        &mut json,
    )
    .unwrap();
    std::fs::write(dir.join("prefilter.json"), json).unwrap();
}

async fn serve(dir: &Path, keys: &Path) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let source = UsecaseSource {
        name: USECASE.into(),
        directory: dir.to_owned(),
        layout: Layout::Apple {
            file_stem: "url".into(),
        },
        versions: 1,
    };
    let store = KeyStore::Embedded(
        EmbeddedKeyStore::open(&keys.join("keys.redb"), Duration::from_secs(3600)).unwrap(),
    );
    let state = AppState::new(vec![source], store, ComputePool::new(2, 16, 1)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = pir_server::router(state, Role::All);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

fn device(addr: std::net::SocketAddr, state: DeviceState) -> Device {
    let base = BaseUrl::parse(&format!("http://{addr}")).unwrap();
    let transport = Transport::new(base.clone(), base, None, Duration::from_secs(60)).unwrap();
    Device::new(
        transport,
        DeviceConfig {
            usecase: USECASE.into(),
            user_token: None,
            issuer_name: "127.0.0.1".into(),
            user_agent: DEFAULT_USER_AGENT.into(),
            os: bloom_gen::Os::Ios26,
        },
        state,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_listed_urls_and_allows_the_rest() {
    let db = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    version_dir(db.path());
    let (addr, server) = serve(db.path(), keys.path()).await;

    let mut phone = device(addr, DeviceState::fresh());
    let cases = [
        ("https://example.com/some/page", Some("example.com")),
        ("https://sub.example3.com/", Some("example3.com")),
        (
            "https://www.apple.com/url-filter-test",
            Some("www.apple.com/url-filter-test"),
        ),
        (
            "https://example10.com/resource?query=bugs",
            Some("example10.com/resource?query=bugs"),
        ),
        ("https://example10.com/other", None),
        ("https://not-listed.example.org/x", None),
    ];
    for (i, (url, expected)) in cases.iter().enumerate() {
        let report = phone.check(url).await.unwrap();
        match (expected, &report.verdict) {
            (Some(entry), Verdict::Blocked { entry: got, value }) => {
                assert_eq!(got, entry, "{url}");
                assert_eq!(value, b"1", "{url}");
            }
            (None, Verdict::Allowed) => {}
            (e, v) => panic!("{url}: expected {e:?}, got {v:?}"),
        }
        // Only the first PIR lookup uploads the evaluation key.
        if i > 0 {
            assert!(!report.uploaded_key, "{url} re-uploaded the key");
        }
    }

    // The same phone later: config reused, key still on the server, no upload.
    let saved = phone.state().clone();
    let mut again = device(addr, saved);
    let report = again.check("https://example.com/").await.unwrap();
    assert!(matches!(report.verdict, Verdict::Blocked { .. }));
    assert!(!report.uploaded_key);
    server.abort();
}
