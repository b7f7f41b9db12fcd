//! Signature verification speed (issues 6 and 12), per signature: ZIP 215 verification
//! one at a time, one batch on one thread ([`batch_holds`]), and [`verify_all`], the
//! block-body verifier (one batch per core), on 64 and 1,000 transactions.
//!
//! Issue 12's target: a batch at least 2x cheaper per signature than single verification
//! (compare `single` with `batch_one_thread/1000`; `verify_all` adds the cores on top).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ironchain::consensus::hash::BlockHash;
use ironchain::consensus::signatures::{batch_holds, verify_all, verify_signature};
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit;
use std::hint::black_box;
use std::time::Duration;

fn transactions(count: u64, genesis: &BlockHash) -> Vec<Transaction> {
    (0..count)
        .map(|n| testkit::transfer(&testkit::key(n), testkit::address(n + 1), 7, 1, 0, genesis))
        .collect()
}

fn signatures(c: &mut Criterion) {
    let genesis = BlockHash::from_bytes([3; 32]);
    let txs = transactions(1_000, &genesis);

    let mut group = c.benchmark_group("signatures");
    group.throughput(Throughput::Elements(1));
    group.bench_function("single", |b| {
        b.iter(|| verify_signature(black_box(&txs[0]), &genesis))
    });

    for count in [64usize, 1_000] {
        let body = &txs[..count];
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(
            BenchmarkId::new("batch_one_thread", count),
            body,
            |b, body| b.iter(|| batch_holds(black_box(body), &genesis)),
        );
        group.bench_with_input(BenchmarkId::new("verify_all", count), body, |b, body| {
            b.iter(|| verify_all(black_box(body), &genesis))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Small samples keep `cargo bench` to seconds per benchmark on a shared 2-core machine.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = signatures
}
criterion_main!(benches);
