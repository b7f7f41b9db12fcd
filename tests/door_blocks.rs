//! Nothing is stored without proof of work relative to our tip (issue 22; probes p11,
//! p05, p19): a side branch forked long ago, eased to the pow limit with spaced
//! timestamps and filled with large bodies, is held in memory within the sender's share
//! and never written; a side block paying itself more than the reward is refused before
//! it is stored; and a heavier honest branch still wins, its first blocks held until it
//! carries the work.

mod common;

use common::chain::{block_error, open_chain};
use ironchain::chain::orphans::OrphanLimits;
use ironchain::chain::{BlockOutcome, Chain, ChainError};
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::Block;
use ironchain::consensus::error::BlockError;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::{Transaction, UnsignedTransaction};
use ironchain::testkit::{self, address};

const ALICE: u64 = 1;
/// The connection id the side branch's blocks come from.
const SENDER: u64 = 7;

/// Retargets every 10 blocks, from 8 bits of difficulty down to a pow limit of none.
fn params() -> ChainParams {
    ChainParams {
        pow_limit_bits: 0,
        initial_difficulty_bits: 8,
        retarget_interval: 10,
        max_block_txs: 2_000,
        ..testkit::params(&[(address(ALICE), 1_000_000_000)])
    }
}

fn offer_from(chain: &mut Chain, block: Block) -> Result<BlockOutcome, ChainError> {
    let now = block.header.timestamp_ms;
    chain
        .process_blocks_from(vec![block], now, Some(SENDER))
        .pop()
        .expect("one outcome")
}

/// Extends `chain` by one block on its tip paying `miner`, `spacing_ms` after the tip.
fn grow(chain: &mut Chain, miner: u64, spacing_ms: u64) -> Block {
    let tip = chain.tip();
    let block = testkit::block_on(
        chain,
        &tip.hash,
        address(miner),
        Vec::new(),
        tip.timestamp_ms + spacing_ms,
    );
    let now = block.header.timestamp_ms;
    assert!(matches!(
        chain.process_block(block.clone(), now),
        Ok(BlockOutcome::Accepted(_))
    ));
    block
}

/// `blocks` re-linked one after another, each carrying `body` (reward and merkle root
/// to match) and sealed again at its own target: a branch whose difficulty the empty
/// originals set, now heavy with bytes.
fn with_bodies(blocks: &[Block], body: &[Transaction], params: &ChainParams) -> Vec<Block> {
    let fees = Amount::checked_sum(body.iter().map(|tx| tx.fee)).unwrap();
    let mut prev = blocks[0].header.prev;
    blocks
        .iter()
        .map(|original| {
            let mut block = original.clone();
            block.header.prev = prev;
            block.txs = body.to_vec();
            block.reward.amount = params.block_reward.checked_add(fees).unwrap();
            block.header.merkle_root = block.compute_merkle_root();
            testkit::seal(&mut block);
            prev = block.hash();
            block
        })
        .collect()
}

#[test]
fn a_cheap_side_branch_forked_long_ago_never_reaches_the_disk() {
    let (_main_dir, mut chain) = open_chain(params());
    let (_side_dir, mut side) = open_chain(params());
    // A shared start, then our chain goes on 40 blocks at its difficulty.
    for _ in 0..2 {
        let block = grow(&mut side, 9, 1_000);
        assert!(matches!(
            chain.process_block(block.clone(), block.header.timestamp_ms),
            Ok(BlockOutcome::Accepted(_))
        ));
    }
    for _ in 0..40 {
        grow(&mut chain, 8, 1_000);
    }
    // The side branch spaces its timestamps: each retarget eases it (x4), down to the pow
    // limit. Then 60 blocks of ~200 kB each, 12 MB in all.
    let eased: Vec<Block> = (0..80).map(|_| grow(&mut side, 66, 10_000)).collect();
    assert_eq!(
        eased.last().unwrap().header.target,
        side.params().pow_limit().to_compact(),
        "the branch was not eased to the pow limit"
    );
    let body: Vec<Transaction> = (0..450)
        .map(|nonce| {
            UnsignedTransaction {
                message: "z".repeat(256),
                ..testkit::unsigned(address(2), 1, 1, nonce)
            }
            .sign(&testkit::key(ALICE), &chain.genesis_hash())
        })
        .collect();
    let heavy = with_bodies(&eased, &body, side.params());
    let stored_before = chain.index().len();
    let store_before = std::fs::metadata(_main_dir.path().join("chain.redb"))
        .unwrap()
        .len();
    let mut bytes_sent = 0;
    for block in heavy {
        bytes_sent += block.encoded_size();
        let hash = block.hash();
        // Held; or, once the sender's share pushed out the branch's first blocks, an
        // orphan: in memory either way.
        match offer_from(&mut chain, block) {
            Ok(BlockOutcome::Held | BlockOutcome::Orphan { .. }) => {}
            other => panic!("a block of the cheap branch was not held: {other:?}"),
        }
        assert!(chain.block(&hash).unwrap().is_none());
    }
    assert!(bytes_sent > 10 << 20, "{bytes_sent} bytes sent");
    // The bounds: no block of the branch stored; what is held in memory is within the
    // sender's share of the orphan pool; the store grew by less than one such block.
    assert_eq!(chain.index().len(), stored_before);
    let share = OrphanLimits::default().max_bytes_per_sender;
    assert!(
        chain.orphan_bytes() <= share,
        "{} held",
        chain.orphan_bytes()
    );
    let store_after = std::fs::metadata(_main_dir.path().join("chain.redb"))
        .unwrap()
        .len();
    assert!(
        store_after.saturating_sub(store_before) < 200_000,
        "chain.redb grew from {store_before} to {store_after} bytes"
    );
}

#[test]
fn a_side_block_paying_itself_too_much_is_refused_before_it_is_stored() {
    let (_dir, mut chain) = open_chain(params());
    let blocks: Vec<Block> = (0..3).map(|_| grow(&mut chain, 8, 1_000)).collect();
    // On the tip's parent: a side block as heavy as the tip, within any margin.
    let parent = blocks[1].hash();
    let mut greedy = testkit::block_on(
        &chain,
        &parent,
        address(66),
        Vec::new(),
        blocks[2].header.timestamp_ms,
    );
    greedy.reward.amount = Amount::new(u64::MAX);
    testkit::seal(&mut greedy);
    let hash = greedy.hash();
    let stored = chain.index().len();
    assert_eq!(
        block_error(offer_from(&mut chain, greedy)),
        BlockError::BadReward {
            expected: chain.params().block_reward,
            got: Amount::new(u64::MAX),
        }
    );
    assert_eq!(chain.index().len(), stored, "the greedy block was stored");
    assert!(chain.block(&hash).unwrap().is_none());
}

#[test]
fn a_heavier_branch_forked_a_few_blocks_back_is_held_then_wins() {
    let (_main_dir, mut chain) = open_chain(params());
    let (_side_dir, mut side) = open_chain(params());
    let start = grow(&mut side, 9, 1_000);
    chain
        .process_block(start.clone(), start.header.timestamp_ms)
        .unwrap();
    for _ in 0..12 {
        grow(&mut chain, 8, 1_000);
    }
    let branch: Vec<Block> = (0..20).map(|_| grow(&mut side, 66, 1_000)).collect();
    let mut outcomes = Vec::new();
    for block in &branch {
        outcomes.push(match offer_from(&mut chain, block.clone()) {
            Ok(BlockOutcome::Held) => "held",
            Ok(BlockOutcome::Accepted(_)) => "stored",
            other => panic!("{other:?}"),
        });
    }
    assert_eq!(outcomes.first(), Some(&"held"), "{outcomes:?}");
    assert_eq!(outcomes.last(), Some(&"stored"), "{outcomes:?}");
    assert_eq!(chain.tip().hash, branch.last().unwrap().hash());
    assert_eq!(chain.orphan_count(), 0);
}

#[test]
fn a_batch_whose_headers_carry_the_work_stores_a_branch_forked_far_back() {
    let (_main_dir, mut chain) = open_chain(params());
    let (_side_dir, mut side) = open_chain(params());
    for _ in 0..40 {
        grow(&mut chain, 8, 1_000);
    }
    // Forked at genesis, 200 blocks deep past the sender's share of held blocks, but
    // one batch (a peer's answer to our locator) shows it heavier than our chain.
    let share = OrphanLimits::default().max_count_per_sender;
    let branch: Vec<Block> = (0..share + 72)
        .map(|_| grow(&mut side, 66, 1_000))
        .collect();
    let now = branch.last().unwrap().header.timestamp_ms;
    let outcomes = chain.process_blocks_from(branch.clone(), now, Some(SENDER));
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(chain.tip().hash, branch.last().unwrap().hash());
    assert_eq!(chain.orphan_count(), 0);
}
