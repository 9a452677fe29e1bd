//! OHTTP round trip without sockets: client encapsulate, gateway decapsulate and BHTTP decode,
//! gateway seal, client open (spec §3.6). Ids carry the body size.

use bhttp::Mode;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ohttp_gateway::client::Client;
use ohttp_gateway::codepoints::KeyId;
use ohttp_gateway::gateway::open;
use ohttp_gateway::inner::{InnerRequest, InnerResponse};
use ohttp_gateway::keys::{KeyRing, KeySeed, KeySpec, KeyState};

fn roundtrip(c: &mut Criterion) {
    let Ok(seed) = KeySeed::new(vec![1; 32]) else {
        return;
    };
    let Ok(ring) = KeyRing::new(vec![KeySpec {
        id: KeyId(1),
        seed,
        state: KeyState::Current,
    }]) else {
        return;
    };
    let Ok(client) = Client::from_key_list(&ring.encoded_configs()) else {
        return;
    };
    let mut group = c.benchmark_group("ohttp/roundtrip");
    for (label, size) in [("1k", 1024usize), ("30k", 30 * 1024)] {
        let mut request = InnerRequest::get("service.example.net", "/queries");
        request.method = "POST".into();
        request.body = vec![0x5a; size];
        let response = InnerResponse {
            status: 200,
            headers: Vec::new(),
            body: vec![0xa5; size],
        };
        group.throughput(Throughput::Bytes(2 * size as u64));
        group.bench_function(label, |b| {
            b.iter(|| {
                let (wire, pending) = client
                    .encapsulate(&request, Mode::IndeterminateLength)
                    .ok()?;
                let opened = open(&ring, &wire).ok()?;
                let inner = InnerRequest::decode(&opened.inner).ok()?;
                let sealed = opened.reply.seal(&response).ok()?;
                let answer = pending.open(&sealed).ok()?;
                Some((inner.body.len(), answer.body.len()))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
