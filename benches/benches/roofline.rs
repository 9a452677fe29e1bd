//! The machine's physical limits, measured in the same run as the kernels they bound:
//! streaming memory read bandwidth and the 32×32→64-bit multiply-accumulate rate.
//! The bench report divides each hot loop's throughput by these to give its fraction of the roofline.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Far larger than the last-level cache, so the sum streams from DRAM.
const STREAM_BYTES: usize = 256 << 20;
/// Two 16 KiB inputs stay in L1, so only the multiplier limits the loop.
const MAC_LEN: usize = 4096;

fn mem_read_stream(c: &mut Criterion) {
    let words = vec![1u64; STREAM_BYTES / 8];
    let mut group = c.benchmark_group("machine");
    group.throughput(Throughput::Bytes(STREAM_BYTES as u64));
    group.sample_size(20);
    group.bench_function("mem_read_stream/256MiB", |b| {
        b.iter(|| {
            // Four independent accumulators let the loads, not the add chain, set the pace.
            let mut acc = [0u64; 4];
            for chunk in black_box(&words).chunks_exact(4) {
                for (a, w) in acc.iter_mut().zip(chunk) {
                    *a = a.wrapping_add(*w);
                }
            }
            black_box(acc)
        })
    });
    group.finish();
}

fn mac_u32_u64(c: &mut Criterion) {
    let xs: Vec<u32> = (0..MAC_LEN as u32)
        .map(|i| i.wrapping_mul(2_654_435_761))
        .collect();
    let ys: Vec<u32> = (0..MAC_LEN as u32)
        .map(|i| i.wrapping_mul(40_503) ^ 0x5bd1_e995)
        .collect();
    let mut group = c.benchmark_group("machine");
    group.throughput(Throughput::Elements(MAC_LEN as u64));
    group.bench_function("mac_u32x32_u64/4096", |b| {
        b.iter(|| {
            // Eight lanes of accumulators: the shape the compiler vectorises to vpmuludq.
            let mut acc = [0u64; 8];
            for (xc, yc) in black_box(&xs)
                .chunks_exact(8)
                .zip(black_box(&ys).chunks_exact(8))
            {
                for ((a, x), y) in acc.iter_mut().zip(xc).zip(yc) {
                    *a = a.wrapping_add(u64::from(*x) * u64::from(*y));
                }
            }
            black_box(acc)
        })
    });
    group.finish();
}

criterion_group!(roofline, mem_read_stream, mac_u32_u64);
criterion_main!(roofline);
