//! Proof-of-work hashing speed (issue 6): how many nonces per second one thread tries with
//! the precomputed midstate, next to the limit, one raw SHA-256 compression per nonce.
//!
//! A header hash is one compression once the midstate is known, so the midstate search
//! should run close to the bare `compress256` rate; the gap is the loop's own overhead
//! (writing the nonce, copying the state, the target check). Shown for scale: hashing
//! through `hash_with_nonce` one nonce at a time (a single rewritten buffer, which stalls
//! on store forwarding), and the naive full-header hash (two compressions plus
//! `Sha256`'s buffering).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ironchain::consensus::block::{BlockHeader, BLOCK_VERSION};
use ironchain::consensus::hash::{BlockHash, MerkleRoot};
use ironchain::consensus::pow::MidstateHasher;
use ironchain::consensus::target::{CompactTarget, Target};
use sha2::digest::generic_array::GenericArray;
use std::hint::black_box;
use std::time::Duration;

/// Nonces per measured iteration: a miner's batch is of this order, and it is long
/// enough that Criterion's per-iteration overhead does not show.
const NONCES: u64 = 4096;

fn header() -> BlockHeader {
    BlockHeader {
        version: BLOCK_VERSION,
        height: 1234,
        prev: BlockHash::from_bytes([0x11; 32]),
        merkle_root: MerkleRoot::from_bytes([0x22; 32]),
        timestamp_ms: 1_700_000_000_000,
        target: CompactTarget::from_consensus(0x1d00_ffff),
        nonce: 0,
    }
}

fn pow(c: &mut Criterion) {
    let header = header();
    let hasher = MidstateHasher::new(&header);
    // No hash is <= 0 in practice, so every search below tries all of its nonces.
    let impossible = Target::from_be_bytes([0; 32]);

    let mut group = c.benchmark_group("pow");
    group.throughput(Throughput::Elements(NONCES));

    group.bench_function("midstate_search", |b| {
        let mut start = 0u64;
        b.iter(|| {
            let found = hasher.search(black_box(&impossible), black_box(start), NONCES);
            start = start.wrapping_add(NONCES);
            found
        })
    });

    // One tail buffer rewritten per nonce: what `search` avoids (see its comments).
    group.bench_function("midstate_hash_with_nonce", |b| {
        b.iter(|| {
            let mut acc = 0u8;
            for nonce in 0..NONCES {
                acc ^= hasher.hash_with_nonce(black_box(nonce))[0];
            }
            acc
        })
    });

    group.bench_function("compress256_one_block", |b| {
        let block = GenericArray::from([0x5a_u8; 64]);
        let midstate = [0x6a09_e667_u32; 8];
        b.iter(|| {
            // Fold one word of every output in, as the search compares one word per hash,
            // so no compression can be optimised away.
            let mut acc = 0u32;
            for _ in 0..NONCES {
                let mut state = black_box(midstate);
                sha2::compress256(&mut state, std::slice::from_ref(&block));
                acc ^= state[0];
            }
            acc
        })
    });

    group.bench_function("naive_header_hash", |b| {
        b.iter(|| {
            let mut header = black_box(header);
            let mut acc = 0u8;
            for nonce in 0..NONCES {
                header.nonce = nonce;
                acc ^= header.hash().as_bytes()[0];
            }
            acc
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Small samples keep `cargo bench` to seconds per benchmark on a shared 2-core machine.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = pow
}
criterion_main!(benches);
