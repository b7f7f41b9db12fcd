//! Block validation and application speed (issue 6): `check_body` (size limits, merkle
//! root, duplicates, field checks, every signature) and `State::apply_block` (nonces,
//! balances, reward) on one full block of signed transfers from distinct funded senders.
//!
//! Together with header checks these are what a node spends per block during sync, so
//! they bound how fast a new node can catch up.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ironchain::chain::state::State;
use ironchain::config::Config;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Reward;
use ironchain::consensus::validation::check_body;
use ironchain::testkit;
use std::hint::black_box;
use std::time::Duration;

/// One block as full as the default network allows (`max_block_txs` of the embedded
/// config), each transfer from its own funded sender so every nonce is 0.
fn full_block() -> (ChainParams, Block) {
    let max_block_txs = Config::embedded().chain.max_block_txs;
    let count = u64::from(max_block_txs);
    let allocations: Vec<_> = (0..count)
        .map(|n| (testkit::address(n), 1_000_000))
        .collect();
    let params = ChainParams {
        max_block_txs,
        ..testkit::params(&allocations)
    };
    let genesis = params
        .genesis_block()
        .expect("the benchmark's chain parameters encode");
    let genesis_hash = genesis.hash();
    let txs: Vec<_> = (0..count)
        .map(|n| {
            let receiver = testkit::address(count + n);
            testkit::transfer(&testkit::key(n), receiver, 10, 1, 0, &genesis_hash)
        })
        .collect();
    let reward = Amount::checked_sum(txs.iter().map(|tx| tx.fee))
        .and_then(|fees| params.block_reward.checked_add(fees))
        .expect("the fees fit");
    let mut block = Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            height: 1,
            prev: genesis_hash,
            merkle_root: Default::default(),
            timestamp_ms: genesis.header.timestamp_ms + params.target_block_time_ms,
            target: genesis.header.target,
            nonce: 0,
        },
        reward: Reward {
            miner: testkit::address(3 * count),
            amount: reward,
            height: 1,
        },
        txs,
    };
    testkit::seal(&mut block);
    (params, block)
}

fn block(c: &mut Criterion) {
    let (params, block) = full_block();
    let genesis = params
        .genesis_block()
        .expect("the benchmark's chain parameters encode")
        .hash();
    let state = State::genesis(&params);
    // Both must succeed, or the benchmark would time an early exit.
    if let Err(error) = check_body(&block, &params, &genesis, None) {
        panic!("bench block fails check_body: {error}");
    }
    if let Err(error) = state.clone().apply_block(&block, &params) {
        panic!("bench block fails apply_block: {error}");
    }

    let mut group = c.benchmark_group("block");
    group.throughput(Throughput::Elements(block.txs.len() as u64));
    group.bench_function(format!("check_body_{}_txs", block.txs.len()), |b| {
        b.iter(|| check_body(black_box(&block), &params, &genesis, None))
    });
    group.bench_function(format!("apply_block_{}_txs", block.txs.len()), |b| {
        b.iter_batched(
            || state.clone(),
            |mut state| state.apply_block(black_box(&block), &params).map(|_| state),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Small samples keep `cargo bench` to seconds per benchmark on a shared 2-core machine.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = block
}
criterion_main!(benches);
