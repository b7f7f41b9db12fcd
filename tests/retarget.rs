//! Difficulty retargeting on a real chain (the book's Protocol and rules › Blocks): with
//! `retarget_interval = 4` and a 1 s block time, the block at height 4 gets
//! `old × span ÷ 3 s` with the factor clamped to [1/4, 4] and never easier than the pow
//! limit; blocks in between keep their parent's target; a block carrying any other target
//! is `BadTarget`. The expected compact values are written out literally (computed by hand
//! from the `nBits` encoding).

mod common;

use common::chain::open_chain;
use ironchain::chain::{BlockOutcome, Chain, ChainError};
use ironchain::consensus::error::BlockError;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::target::CompactTarget;
use ironchain::testkit::{self, address};

const MINER: u64 = 9;

/// Interval 4, block time 1 s (expected span of an interval: 3 gaps = 3 000 ms).
fn params(pow_limit_bits: u32, initial_difficulty_bits: u32) -> ChainParams {
    let mut params = testkit::params(&[]);
    params.retarget_interval = 4;
    params.target_block_time_ms = 1_000;
    params.pow_limit_bits = pow_limit_bits;
    params.initial_difficulty_bits = initial_difficulty_bits;
    params.validate().unwrap();
    params
}

fn compact(bits: u32) -> CompactTarget {
    CompactTarget::from_consensus(bits)
}

/// Mines one block on the tip at `genesis + offset_ms` and returns its target.
fn mine_at(chain: &mut Chain, offset_ms: u64) -> CompactTarget {
    let timestamp = chain.params().genesis_timestamp_ms + offset_ms;
    let tip = chain.tip().hash;
    let block = testkit::block_on(chain, &tip, address(MINER), Vec::new(), timestamp);
    assert_eq!(block.header.timestamp_ms, timestamp);
    let target = block.header.target;
    match chain.process_block(block, timestamp) {
        Ok(BlockOutcome::Accepted(accepted)) => assert!(accepted.tip_change.is_some()),
        other => panic!("block refused: {other:?}"),
    }
    target
}

/// Mines heights 1..=3 at the given offsets, then height 4, and returns the target
/// of the block at height 4.
fn first_retarget(chain: &mut Chain, offsets: [u64; 3]) -> CompactTarget {
    for offset in offsets {
        assert_eq!(mine_at(chain, offset), chain.params().initial_target());
    }
    let expected = chain
        .template(address(MINER), u64::MAX / 2)
        .block
        .header
        .target;
    let got = mine_at(chain, offsets[2] + 1_000);
    assert_eq!(got, expected, "the template carries the retargeted value");
    assert_eq!(chain.tip().height, 4);
    got
}

#[test]
fn initial_target_encodings() {
    // 2^(256-bits) - 1, mantissa cut to its top three bytes.
    assert_eq!(params(0, 4).initial_target(), compact(0x200f_ffff));
    assert_eq!(params(1, 2).initial_target(), compact(0x203f_ffff));
}

#[test]
fn interval_four_times_too_fast_or_faster_shrinks_target_by_a_quarter() {
    let (_dir, mut chain) = open_chain(params(0, 4));
    // Span 300 ms of the expected 3 000: a factor of 1/10, clamped to 1/4.
    let target = first_retarget(&mut chain, [100, 200, 300]);
    // 0x0fffff << 232, divided by 4, is 0x3ffff.c << 232: truncated to 0x03ffff.
    assert_eq!(target, compact(0x2003_ffff));
    assert_eq!(chain.tip().difficulty_bits(), 6);
}

#[test]
fn interval_twice_too_fast_halves_target() {
    let (_dir, mut chain) = open_chain(params(0, 4));
    let target = first_retarget(&mut chain, [500, 1_000, 1_500]);
    assert_eq!(target, compact(0x2007_ffff));
}

#[test]
fn interval_twice_too_slow_doubles_target() {
    let (_dir, mut chain) = open_chain(params(0, 4));
    let target = first_retarget(&mut chain, [2_000, 4_000, 6_000]);
    assert_eq!(target, compact(0x201f_fffe));
}

#[test]
fn interval_four_times_too_slow_or_slower_grows_target_fourfold() {
    let (_dir, mut chain) = open_chain(params(0, 4));
    // Span 30 s of the expected 3 s: a factor of 10, clamped to 4.
    let target = first_retarget(&mut chain, [10_000, 20_000, 30_000]);
    assert_eq!(target, compact(0x203f_fffc));
    assert_eq!(chain.tip().difficulty_bits(), 2);
}

#[test]
fn growth_stops_at_the_pow_limit() {
    let params = params(1, 2);
    let limit = params.pow_limit();
    let (_dir, mut chain) = open_chain(params);
    // Four times 0x3fffff << 232 would exceed 2^255 - 1, the 1-bit limit.
    let target = first_retarget(&mut chain, [10_000, 20_000, 30_000]);
    assert_eq!(target, compact(0x207f_ffff));
    assert_eq!(target, limit.to_compact());
    assert!(target.to_target().unwrap() <= limit);
    assert_eq!(chain.tip().difficulty_bits(), 1);
    // Still slow: stays at the limit.
    for offset in [60_000, 90_000, 120_000] {
        assert_eq!(mine_at(&mut chain, offset), compact(0x207f_ffff));
    }
    assert_eq!(mine_at(&mut chain, 150_000), compact(0x207f_ffff));
    assert_eq!(chain.tip().height, 8);
}

#[test]
fn blocks_between_retargets_keep_the_target_and_on_time_keeps_it_again() {
    let (_dir, mut chain) = open_chain(params(0, 4));
    let first = first_retarget(&mut chain, [100, 200, 300]);
    assert_eq!(first, compact(0x2003_ffff));
    // Heights 5..=7 keep it; then 4..=7 spanning exactly 3 000 ms keeps it at height 8.
    for offset in [2_300, 3_300, 4_300] {
        assert_eq!(mine_at(&mut chain, offset), first);
    }
    assert_eq!(mine_at(&mut chain, 5_300), first);
    assert_eq!(chain.tip().height, 8);
}

#[test]
fn block_keeping_the_old_target_at_a_retarget_height_is_bad_target() {
    let (_dir, mut chain) = open_chain(params(0, 4));
    for offset in [100, 200, 300] {
        mine_at(&mut chain, offset);
    }
    let timestamp = chain.params().genesis_timestamp_ms + 1_300;
    let tip = chain.tip().hash;
    let mut block = testkit::block_on(&chain, &tip, address(MINER), Vec::new(), timestamp);
    assert_eq!(block.header.target, compact(0x2003_ffff));
    block.header.target = chain.params().initial_target();
    testkit::seal(&mut block);
    match chain.process_block(block, timestamp) {
        Err(ChainError::Block(error)) => assert_eq!(
            error,
            BlockError::BadTarget {
                expected: compact(0x2003_ffff),
                got: compact(0x200f_ffff),
            }
        ),
        other => panic!("expected BadTarget, got {other:?}"),
    }
    assert_eq!(chain.tip().height, 3);
}

#[test]
fn each_branch_retargets_from_its_own_timestamps() {
    let (_dir, mut chain) = open_chain(params(0, 4));
    for offset in [100, 200, 300] {
        mine_at(&mut chain, offset);
    }
    let base = chain.params().genesis_timestamp_ms;
    let fork = chain.index().active()[1];
    // A side branch from height 1 whose heights 2 and 3 are slow.
    let s2 = testkit::block_on(&chain, &fork, address(MINER), Vec::new(), base + 10_000);
    chain.process_block(s2.clone(), u64::MAX / 2).unwrap();
    let s3 = testkit::block_on(
        &chain,
        &s2.hash(),
        address(MINER),
        Vec::new(),
        base + 20_000,
    );
    chain.process_block(s3.clone(), u64::MAX / 2).unwrap();
    let s4 = testkit::block_on(
        &chain,
        &s3.hash(),
        address(MINER),
        Vec::new(),
        base + 21_000,
    );
    // Span 20 000 ms on the side branch: fourfold; 300 ms on the main one: a quarter.
    assert_eq!(s4.header.target, compact(0x203f_fffc));
    let main4 = chain
        .template(address(MINER), u64::MAX / 2)
        .block
        .header
        .target;
    assert_eq!(main4, compact(0x2003_ffff));
    let timestamp = s4.header.timestamp_ms;
    assert!(matches!(
        chain.process_block(s4, timestamp).unwrap(),
        BlockOutcome::Accepted(_)
    ));
}
