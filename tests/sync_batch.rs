//! A sync batch (`Chain::process_blocks`: one store commit, the batch's signatures verified
//! together over the cores) is judged exactly as its blocks are one by one
//! (`Chain::process_block`): same outcomes, same first error, same tip and balances.

mod common;

use ironchain::chain::{BlockOutcome, Chain, ChainError};
use ironchain::consensus::address::Address;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::Block;
use ironchain::consensus::error::{BlockError, TxError};
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit::{self, address, key};
use tempfile::TempDir;

/// Senders per block; three blocks of them make enough signatures for several threads.
const SENDERS: u64 = 30;
const FUNDS: u64 = 1_000;
const MINER: u64 = 999;

fn params() -> ChainParams {
    let allocations: Vec<(Address, u64)> = (0..SENDERS).map(|n| (address(n), FUNDS)).collect();
    testkit::params(&allocations)
}

fn open() -> (TempDir, Chain) {
    common::chain::open_chain(params())
}

/// Every sender pays the next one, with `nonce`.
fn transfers(chain: &Chain, nonce: u64) -> Vec<Transaction> {
    (0..SENDERS)
        .map(|n| {
            let to = address((n + 1) % SENDERS);
            testkit::transfer(&key(n), to, 10, 1, nonce, &chain.genesis_hash())
        })
        .collect()
}

/// Three blocks full of transfers; the third has a bad signature at `bad_index`.
fn blocks_with_bad_signature(bad_index: usize) -> Vec<Block> {
    let (_dir, mut builder) = open();
    let mut blocks = Vec::new();
    for nonce in 0..2 {
        let block = testkit::next_block(&builder, address(MINER), transfers(&builder, nonce));
        let now = block.header.timestamp_ms;
        builder.process_block(block.clone(), now).unwrap();
        blocks.push(block);
    }
    let mut txs = transfers(&builder, 2);
    // Changing a signed field leaves a signature that does not verify.
    txs[bad_index].amount = Amount::new(txs[bad_index].amount.get() + 1);
    blocks.push(testkit::next_block(&builder, address(MINER), txs));
    blocks
}

fn kind(result: &Result<BlockOutcome, ChainError>) -> String {
    match result {
        Ok(BlockOutcome::Accepted(accepted)) => format!("accepted {:?}", accepted.stored),
        Ok(other) => format!("{other:?}"),
        Err(error) => format!("error {error}"),
    }
}

#[test]
fn batch_with_a_bad_signature_is_judged_as_block_by_block() {
    let bad_index = 17;
    let blocks = blocks_with_bad_signature(bad_index);
    let now = blocks.last().unwrap().header.timestamp_ms;

    let (_one_dir, mut one_by_one) = open();
    let sequential: Vec<_> = blocks
        .iter()
        .map(|block| one_by_one.process_block(block.clone(), now))
        .collect();

    let (_batch_dir, mut batched) = open();
    let together = batched.process_blocks(blocks.clone(), now);

    assert_eq!(together.len(), 3);
    assert_eq!(
        together.iter().map(kind).collect::<Vec<_>>(),
        sequential.iter().map(kind).collect::<Vec<_>>()
    );
    match &together[2] {
        Err(ChainError::Block(BlockError::InvalidTransaction { index, error, .. })) => {
            assert_eq!(*index, bad_index);
            assert_eq!(*error, TxError::BadSignature);
        }
        other => panic!(
            "expected the bad signature to be reported, got {}",
            kind(other)
        ),
    }
    assert_eq!(batched.tip().hash, blocks[1].hash());
    assert_eq!(batched.tip().hash, one_by_one.tip().hash);
    for n in 0..SENDERS {
        assert_eq!(
            batched.account(&address(n)),
            one_by_one.account(&address(n))
        );
    }
}

#[test]
fn valid_batch_is_connected_with_every_transfer_applied() {
    let mut blocks = blocks_with_bad_signature(0);
    blocks.pop();
    let now = blocks.last().unwrap().header.timestamp_ms;
    let (_dir, mut chain) = open();
    let outcomes = chain.process_blocks(blocks.clone(), now);
    assert!(
        outcomes
            .iter()
            .all(|outcome| matches!(outcome, Ok(BlockOutcome::Accepted(_)))),
        "{:?}",
        outcomes.iter().map(kind).collect::<Vec<_>>()
    );
    assert_eq!(chain.tip().hash, blocks[1].hash());
    // Everyone paid 2 × (10 + 1) and received 2 × 10.
    for n in 0..SENDERS {
        let (account, _) = chain.account(&address(n));
        assert_eq!(account.balance, Amount::new(FUNDS - 2));
        assert_eq!(account.nonce, 2);
    }
}
