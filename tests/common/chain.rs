//! Helpers for tests that drive a `Chain` directly (no nodes, no actors): a chain in a
//! throw-away directory, transfers between test keys, offering blocks at their own time,
//! and what the mempool holds. One copy here, so the rule tests (consensus, mempool,
//! reorg, replay, multisig and tokens, …) cannot drift apart in how they set up and look.

use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::{BlockOutcome, Chain, ChainError};
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use ironchain::consensus::error::{BlockError, TxError};
use ironchain::consensus::hash::{BlockHash, TxId};
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Transaction;
use ironchain::consensus::transaction::{Reward, Signature};
use ironchain::testkit::{self, address, key};
use std::path::Path;
use tempfile::TempDir;

/// A chain of `params` with default mempool limits in a fresh temporary directory (kept
/// alive by the returned `TempDir`).
pub fn open_chain(params: ChainParams) -> (TempDir, Chain) {
    open_chain_with(params, MempoolLimits::default())
}

/// [`open_chain`] with the given mempool limits.
pub fn open_chain_with(params: ChainParams, limits: MempoolLimits) -> (TempDir, Chain) {
    let dir = tempfile::tempdir().unwrap();
    let chain = open_chain_in(dir.path(), params, limits);
    (dir, chain)
}

/// The chain stored in `dir` (created if empty), for tests that reopen it. Commits skip
/// fsync: a test's directory does not have to survive a power cut, and the many small
/// commits would otherwise dominate the run time.
pub fn open_chain_in(dir: &Path, params: ChainParams, limits: MempoolLimits) -> Chain {
    let mut chain = Chain::open(dir, params, limits).unwrap();
    chain.set_sync_each_commit(false);
    chain
}

/// A transfer from test key `from` to test address `to`, signed for `chain`'s network.
pub fn pay(chain: &Chain, from: u64, to: u64, amount: u64, fee: u64, nonce: u64) -> Transaction {
    testkit::transfer(
        &key(from),
        address(to),
        amount,
        fee,
        nonce,
        &chain.genesis_hash(),
    )
}

/// Offers `block` with the local clock at the block's own timestamp.
pub fn offer(chain: &mut Chain, block: Block) -> Result<BlockOutcome, ChainError> {
    let now = block.header.timestamp_ms;
    chain.process_block(block, now)
}

/// The block rule a refusal names; panics (failing the test) on anything else.
pub fn block_error(result: Result<BlockOutcome, ChainError>) -> BlockError {
    match result {
        Err(ChainError::Block(error)) => error,
        other => panic!("expected a block error, got {other:?}"),
    }
}

/// The ids of the mempool's transactions, sorted (the mempool's own order is by fee).
pub fn pending_ids(chain: &Chain) -> Vec<TxId> {
    let mut ids: Vec<TxId> = chain
        .mempool()
        .transactions()
        .map(Transaction::id)
        .collect();
    ids.sort();
    ids
}

/// The ids of `txs`, sorted, to compare with [`pending_ids`].
pub fn sorted_ids(txs: &[&Transaction]) -> Vec<TxId> {
    let mut ids: Vec<TxId> = txs.iter().map(|tx| tx.id()).collect();
    ids.sort();
    ids
}

/// Submits `tx`, expects exactly `expected`, and checks the mempool did not change.
pub fn expect_tx_refused(chain: &mut Chain, tx: Transaction, expected: TxError) {
    let before = pending_ids(chain);
    assert_eq!(chain.submit_transaction(tx), Err(expected));
    assert_eq!(pending_ids(chain), before);
}

/// A block on an unknown parent with `txs` (unverifiable) transactions, mined at the pow
/// limit: as cheap as an orphan can be.
pub fn cheap_orphan(chain: &Chain, seed: u64, txs: u64) -> Block {
    let template = testkit::transfer(&key(1), address(2), 1, 1, 0, &chain.genesis_hash());
    let mut block = Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            height: 1_000 + seed,
            prev: BlockHash::from_bytes(ironchain::consensus::hash::sha256(&seed.to_be_bytes())),
            merkle_root: Default::default(),
            timestamp_ms: chain.tip().timestamp_ms + 1,
            target: chain.params().pow_limit().to_compact(),
            nonce: 0,
        },
        reward: Reward {
            miner: address(9),
            amount: Amount::new(50),
            height: 1_000 + seed,
        },
        txs: (0..txs)
            .map(|nonce| Transaction {
                nonce,
                signature: Signature::from_bytes([3; 64]),
                ..template.clone()
            })
            .collect(),
    };
    // Its header commits to its body, as an honest block's does: offered again, it is
    // then known, not a forgery of a known block.
    block.header.merkle_root = block.compute_merkle_root();
    let target = chain.params().pow_limit();
    testkit::mine(&mut block.header, &target);
    block
}
