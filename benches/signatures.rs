//! Signature verification speed (issue 6): strict Ed25519 one at a time against
//! [`verify_all`], the block-body verifier, on 64 and 1,000 transactions.
//!
//! `verify_all` is exactly `verify_strict` per transaction, spread over the cores, so
//! per signature it should approach single-verification time divided by the core count.
//! Two reference lines back the choice documented in `src/consensus/signatures.rs`:
//! ed25519-dalek's `verify_batch` (faster, but not as strict) and the torsion check per
//! point that would make it as strict (slower than what it saves).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, VerifyingKey};
use ironchain::consensus::hash::BlockHash;
use ironchain::consensus::signatures::verify_all;
use ironchain::consensus::transaction::Transaction;
use ironchain::consensus::validation::verify_signature;
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
    group.bench_function("verify_strict_single", |b| {
        b.iter(|| verify_signature(black_box(&txs[0]), &genesis))
    });

    for count in [64usize, 1_000] {
        let body = &txs[..count];
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::new("verify_all", count), body, |b, body| {
            b.iter(|| verify_all(black_box(body), &genesis))
        });

        // Reference only: not as strict as verify_strict, see src/consensus/signatures.rs.
        let payloads: Vec<Vec<u8>> = body.iter().map(|tx| tx.signing_payload(&genesis)).collect();
        let messages: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let sigs: Vec<Signature> = body
            .iter()
            .map(|tx| Signature::from_bytes(tx.signature.as_bytes()))
            .collect();
        let keys: Vec<VerifyingKey> = body
            .iter()
            .filter_map(|tx| VerifyingKey::from_bytes(tx.sender.as_bytes()).ok())
            .collect();
        group.bench_with_input(
            BenchmarkId::new("dalek_verify_batch_not_strict", count),
            &(messages, sigs, keys),
            |b, (messages, sigs, keys)| {
                b.iter(|| ed25519_dalek::verify_batch(black_box(messages), sigs, keys))
            },
        );
    }

    // What exact batching would add per point (each key and each R).
    group.throughput(Throughput::Elements(1));
    let r_point = CompressedEdwardsY(*Signature::from_bytes(txs[0].signature.as_bytes()).r_bytes())
        .decompress();
    if let Some(r_point) = r_point {
        group.bench_function("torsion_check_one_point", |b| {
            b.iter(|| black_box(&r_point).is_torsion_free())
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
