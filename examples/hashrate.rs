//! Miner hash rate with 1 and 2 threads, against the SHA-256 compression limit measured
//! in the same run (issue 6, target: ≥ 80 % of the `compress256` rate per thread).
//!
//! Each thread runs [`MidstateHasher::search`] — the miner's inner loop — on its own
//! template at an impossible target, in 1 Mi-nonce batches (about what `MinerActor` does
//! per batch), for a fixed wall time. The limit is bare `sha2::compress256` of one 64-byte
//! block per call, the same number of threads, same duration. Run from the repository root:
//!
//!     cargo run --release --example hashrate [-- --seconds 3]
//!
//! Without `--release` it shows what `cargo run` (dev profile) mines at.

mod common;

use clap::Parser;
use ironchain::consensus::block::{BlockHeader, BLOCK_VERSION};
use ironchain::consensus::hash::{BlockHash, MerkleRoot};
use ironchain::consensus::pow::MidstateHasher;
use ironchain::consensus::target::{CompactTarget, Target};
use serde_json::json;
use sha2::digest::generic_array::GenericArray;
use std::hint::black_box;
use std::time::{Duration, Instant};

const BATCH: u64 = 1 << 20;

fn header(seed: u8) -> BlockHeader {
    BlockHeader {
        version: BLOCK_VERSION,
        height: 1234,
        prev: BlockHash::from_bytes([seed; 32]),
        merkle_root: MerkleRoot::from_bytes([0x22; 32]),
        timestamp_ms: 1_700_000_000_000,
        target: CompactTarget::from_consensus(0x1d00_ffff),
        nonce: 0,
    }
}

/// Runs `work` (which returns how many hashes it did) on `threads` threads for `span`;
/// returns hashes per second summed over the threads.
fn rate(threads: usize, span: Duration, work: fn(u8) -> u64) -> f64 {
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|n| {
                scope.spawn(move || {
                    let mut hashes = 0;
                    while started.elapsed() < span {
                        hashes += work(n as u8);
                    }
                    hashes
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("hashing thread"))
            .sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

fn midstate_batch(seed: u8) -> u64 {
    thread_local! {
        static START: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    let hasher = MidstateHasher::new(&header(seed));
    // No hash is <= 0 in practice, so every search tries all of its nonces.
    let impossible = Target::from_be_bytes([0; 32]);
    let start = START.with(|cell| {
        let start = cell.get();
        cell.set(start.wrapping_add(BATCH));
        start
    });
    black_box(hasher.search(black_box(&impossible), start, BATCH));
    BATCH
}

fn compress_batch(seed: u8) -> u64 {
    let block = GenericArray::from([0x5a_u8 ^ seed; 64]);
    let midstate = [0x6a09_e667_u32; 8];
    let mut acc = 0u32;
    for _ in 0..BATCH {
        let mut state = black_box(midstate);
        sha2::compress256(&mut state, std::slice::from_ref(&block));
        acc ^= state[0];
    }
    black_box(acc);
    BATCH
}

/// Miner hash rate against the SHA-256 compression limit, with 1 and 2 threads.
#[derive(Parser)]
struct Args {
    /// Seconds each of the four measurements runs (fractions allowed).
    #[arg(long = "seconds", value_name = "SECONDS", default_value = "3", value_parser = parse_span)]
    span: Duration,
}

/// A positive, finite number of seconds: `Duration::from_secs_f64` would panic on a
/// negative, infinite or NaN value, and 0 measures nothing.
fn parse_span(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number of seconds"))?;
    match Duration::try_from_secs_f64(seconds) {
        Ok(span) if !span.is_zero() => Ok(span),
        _ => Err(format!("{text} s: expected a positive number of seconds")),
    }
}

fn main() {
    let Args { span } = Args::parse();
    let seconds = span.as_secs_f64();
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    let mut rows = Vec::new();
    for threads in [1usize, 2] {
        let limit = rate(threads, span, compress_batch);
        let miner = rate(threads, span, midstate_batch);
        let ratio = miner / limit;
        rows.push(json!({
            "threads": threads,
            "hashes_per_s": miner.round(),
            "per_thread_hashes_per_s": (miner / threads as f64).round(),
            "compress256_per_s": limit.round(),
            "compress256_per_thread_per_s": (limit / threads as f64).round(),
            "ratio_to_compress256": (ratio * 1000.0).round() / 1000.0,
        }));
        common::report(
            "hashrate",
            format!(
                "{threads} thread(s), {profile}: miner {:.1} MH/s ({:.1} MH/s/thread), \
                 compress256 limit {:.1} MH/s/thread, ratio {:.0}% (target >= 80%)",
                miner / 1e6,
                miner / 1e6 / threads as f64,
                limit / 1e6 / threads as f64,
                ratio * 100.0
            ),
            json!({ "profile": profile, "seconds": seconds, "result": rows.last() }),
        );
    }
}
