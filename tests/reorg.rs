//! Fork choice and reorganisation (the book's Protocol and rules › Blocks, "Fork choice"):
//! two branches from a common block, the one with more work wins (ties: first received);
//! switching branches, and back, leaves exactly the balances, nonces, transaction index and
//! mempool of the winning branch; transactions of abandoned blocks that are still valid
//! return to the mempool, ones the winning branch includes or makes invalid do not; a
//! heavier branch that turns out invalid leaves the chain where it was.

mod common;

use common::chain::{open_chain_in, pay, pending_ids, sorted_ids};
use ironchain::chain::index::BlockStatus;
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::verify::verify_store;
use ironchain::chain::{Accepted, BlockOutcome, Chain, TxLookup};
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::Block;
use ironchain::consensus::error::{BlockError, TxError};
use ironchain::consensus::hash::BlockHash;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit::{self, address};
use tempfile::TempDir;

const FUNDS: u64 = 1_000;
const REWARD: u64 = 50;
const ALICE: u64 = 1;
const BOB: u64 = 2;
const CAROL: u64 = 3;
const DAVE: u64 = 4;
const MINER0: u64 = 10;
const MINER_A: u64 = 11;
const MINER_B: u64 = 12;

fn params() -> ChainParams {
    let params = testkit::params(&[(address(ALICE), FUNDS), (address(BOB), FUNDS)]);
    assert_eq!(params.block_reward, Amount::new(REWARD));
    params
}

fn open(dir: &TempDir) -> Chain {
    open_chain_in(dir.path(), params(), MempoolLimits::default())
}

/// A block on `parent` at `genesis + offset_ms`.
fn block_on(
    chain: &Chain,
    parent: &BlockHash,
    miner: u64,
    txs: Vec<Transaction>,
    offset_ms: u64,
) -> Block {
    let timestamp = chain.params().genesis_timestamp_ms + offset_ms;
    testkit::block_on(chain, parent, address(miner), txs, timestamp)
}

fn offer(chain: &mut Chain, block: &Block) -> Accepted {
    match common::chain::offer(chain, block.clone()) {
        Ok(BlockOutcome::Accepted(accepted)) => accepted,
        other => panic!("block {} not accepted: {other:?}", block.hash()),
    }
}

/// Balance and account nonce of test account `n`.
fn account(chain: &Chain, n: u64) -> (u64, u64) {
    let account = chain.state().account(&address(n));
    (account.balance.get(), account.nonce)
}

/// The active-chain block holding `tx`, checking its merkle proof.
fn containing_block(chain: &Chain, tx: &Transaction) -> Option<BlockHash> {
    match chain.transaction(&tx.id()).unwrap() {
        Some(TxLookup::InBlock {
            block_hash,
            header,
            proof,
            ..
        }) => {
            assert!(proof.verify(&tx.id(), &header.merkle_root));
            Some(block_hash)
        }
        Some(TxLookup::Pending(_)) | None => None,
    }
}

#[test]
fn heavier_branch_wins_and_switching_back_restores_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = open(&dir);
    let common = testkit::extend(&mut chain, address(MINER0), 1)[0];

    // Branch A: Alice and Bob pay Carol, then an empty block.
    let a0 = pay(&chain, ALICE, CAROL, 100, 2, 0);
    let x0 = pay(&chain, BOB, CAROL, 50, 1, 0);
    chain.submit_transaction(a0.clone()).unwrap();
    chain.submit_transaction(x0.clone()).unwrap();
    let a1 = block_on(
        &chain,
        &common,
        MINER_A,
        vec![a0.clone(), x0.clone()],
        2_000,
    );
    offer(&mut chain, &a1);
    let a2 = block_on(&chain, &a1.hash(), MINER_A, Vec::new(), 3_000);
    offer(&mut chain, &a2);
    assert!(chain.mempool().is_empty());
    // Alice queues her next transfer.
    let next = pay(&chain, ALICE, CAROL, 10, 1, 1);
    chain.submit_transaction(next.clone()).unwrap();

    let on_a = |chain: &Chain, height: u64, tip: BlockHash| {
        assert_eq!(chain.tip().hash, tip);
        assert_eq!(chain.tip().height, height);
        assert_eq!(account(chain, ALICE), (FUNDS - 102, 1));
        assert_eq!(account(chain, BOB), (FUNDS - 51, 1));
        assert_eq!(account(chain, CAROL), (150, 0));
        assert_eq!(account(chain, MINER0), (REWARD, 0));
        assert_eq!(account(chain, MINER_A), ((height - 1) * REWARD + 3, 0));
        assert_eq!(account(chain, MINER_B), (0, 0));
        assert_eq!(pending_ids(chain), sorted_ids(&[&next]));
        assert_eq!(chain.account(&address(ALICE)).1, 2);
        assert_eq!(containing_block(chain, &a0), Some(a1.hash()));
        assert_eq!(containing_block(chain, &x0), Some(a1.hash()));
        assert_eq!(
            chain.state().total_supply(),
            Some(Amount::new(2 * FUNDS + height * REWARD))
        );
    };
    on_a(&chain, 3, a2.hash());

    // Branch B from the common block: Bob's same payment, then two empty blocks.
    let b1 = block_on(&chain, &common, MINER_B, vec![x0.clone()], 2_100);
    assert!(offer(&mut chain, &b1).tip_change.is_none());
    let b2 = block_on(&chain, &b1.hash(), MINER_B, Vec::new(), 3_100);
    // Equal work: the branch received first stays.
    assert!(offer(&mut chain, &b2).tip_change.is_none());
    on_a(&chain, 3, a2.hash());
    let b3 = block_on(&chain, &b2.hash(), MINER_B, Vec::new(), 4_100);
    let change = offer(&mut chain, &b3).tip_change.expect("reorg to B");
    assert_eq!(change.old_tip, a2.hash());
    assert_eq!(change.new_tip, b3.hash());
    assert_eq!(change.height, 4);
    assert_eq!(change.disconnected, vec![a2.hash(), a1.hash()]);
    assert_eq!(change.connected, vec![b1.hash(), b2.hash(), b3.hash()]);
    // Alice's transfer is back; Bob's is in B already.
    assert_eq!(change.returned_to_mempool, 1);

    assert_eq!(account(&chain, ALICE), (FUNDS, 0));
    assert_eq!(account(&chain, BOB), (FUNDS - 51, 1));
    assert_eq!(account(&chain, CAROL), (50, 0));
    assert_eq!(account(&chain, MINER0), (REWARD, 0));
    assert_eq!(account(&chain, MINER_A), (0, 0));
    assert_eq!(account(&chain, MINER_B), (3 * REWARD + 1, 0));
    assert_eq!(
        chain.state().total_supply(),
        Some(Amount::new(2 * FUNDS + 4 * REWARD))
    );
    // Alice's returned transfer and the one she queued after it are both pending.
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a0, &next]));
    assert_eq!(chain.account(&address(ALICE)).1, 2);
    assert_eq!(containing_block(&chain, &x0), Some(b1.hash()));
    assert_eq!(containing_block(&chain, &a0), None);
    let template = chain.template(address(MINER_B), chain.tip().timestamp_ms + 1_000);
    assert_eq!(template.block.txs, vec![a0.clone(), next.clone()]);

    // Branch A grows back: equal work first (B stays), then more.
    let a3 = block_on(&chain, &a2.hash(), MINER_A, Vec::new(), 4_000);
    assert!(offer(&mut chain, &a3).tip_change.is_none());
    let a4 = block_on(&chain, &a3.hash(), MINER_A, Vec::new(), 5_000);
    let change = offer(&mut chain, &a4).tip_change.expect("reorg back to A");
    assert_eq!(change.disconnected, vec![b3.hash(), b2.hash(), b1.hash()]);
    assert_eq!(
        change.connected,
        vec![a1.hash(), a2.hash(), a3.hash(), a4.hash()]
    );
    // Bob's payment is in A too: nothing to return.
    assert_eq!(change.returned_to_mempool, 0);
    on_a(&chain, 5, a4.hash());

    // What was stored agrees (the mempool is not stored).
    let tip = chain.tip();
    let state = chain.state().clone();
    drop(chain);
    let report = verify_store(dir.path(), &params()).unwrap();
    assert_eq!(report.height, 5);
    assert_eq!(report.transactions, 2);
    let chain = open(&dir);
    assert_eq!(chain.tip(), tip);
    assert_eq!(chain.state(), &state);
    assert_eq!(containing_block(&chain, &a0), Some(a1.hash()));
    assert_eq!(containing_block(&chain, &x0), Some(a1.hash()));
}

#[test]
fn double_spend_in_the_winning_branch_does_not_return_to_the_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = open(&dir);
    let common = testkit::extend(&mut chain, address(MINER0), 1)[0];
    let to_carol = pay(&chain, ALICE, CAROL, 100, 1, 0);
    let a1 = block_on(&chain, &common, MINER_A, vec![to_carol.clone()], 2_000);
    offer(&mut chain, &a1);
    // Alice's follow-up, affordable on A (899 left) but not after the double spend.
    let follow_up = pay(&chain, ALICE, CAROL, 200, 1, 1);
    chain.submit_transaction(follow_up.clone()).unwrap();

    // Branch B spends Alice's nonce 0 differently, leaving her 99.
    let to_dave = pay(&chain, ALICE, DAVE, 900, 1, 0);
    let b1 = block_on(&chain, &common, MINER_B, vec![to_dave.clone()], 2_100);
    offer(&mut chain, &b1);
    let b2 = block_on(&chain, &b1.hash(), MINER_B, Vec::new(), 3_100);
    let change = offer(&mut chain, &b2).tip_change.expect("reorg to B");
    assert_eq!(change.disconnected, vec![a1.hash()]);
    assert_eq!(change.returned_to_mempool, 0);
    assert!(chain.mempool().is_empty());
    assert_eq!(account(&chain, ALICE), (99, 1));
    assert_eq!(account(&chain, CAROL), (0, 0));
    assert_eq!(account(&chain, DAVE), (900, 0));
    assert_eq!(
        chain.submit_transaction(to_carol),
        Err(TxError::NonceTooLow {
            nonce: 0,
            expected: 1
        })
    );
    assert_eq!(
        chain.submit_transaction(follow_up),
        Err(TxError::InsufficientBalance {
            balance: Amount::new(99),
            needed: Amount::new(201)
        })
    );
}

#[test]
fn heavier_branch_with_an_invalid_block_leaves_the_chain_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = open(&dir);
    let common = testkit::extend(&mut chain, address(MINER0), 1)[0];
    let a0 = pay(&chain, ALICE, CAROL, 100, 2, 0);
    let a1 = block_on(&chain, &common, MINER_A, vec![a0], 2_000);
    offer(&mut chain, &a1);
    let a2 = block_on(&chain, &a1.hash(), MINER_A, Vec::new(), 3_000);
    offer(&mut chain, &a2);
    let pending = pay(&chain, ALICE, CAROL, 10, 1, 1);
    chain.submit_transaction(pending.clone()).unwrap();
    let tip = chain.tip();
    let state = chain.state().clone();

    // B1 is fine; B2 overspends Bob's balance; B3 makes B the heavier branch.
    let b1 = block_on(&chain, &common, MINER_B, Vec::new(), 2_100);
    offer(&mut chain, &b1);
    let overspend = pay(&chain, BOB, CAROL, FUNDS, 1, 0);
    let b2 = block_on(&chain, &b1.hash(), MINER_B, vec![overspend.clone()], 3_100);
    assert!(offer(&mut chain, &b2).tip_change.is_none());
    let b3 = block_on(&chain, &b2.hash(), MINER_B, Vec::new(), 4_100);
    let accepted = offer(&mut chain, &b3);
    assert_eq!(accepted.stored, vec![b3.hash()]);
    assert_eq!(accepted.tip_change, None);
    assert_eq!(
        accepted.rejected,
        vec![(
            b2.hash(),
            BlockError::InvalidTransaction {
                index: 0,
                txid: overspend.id(),
                error: TxError::InsufficientBalance {
                    balance: Amount::new(FUNDS),
                    needed: Amount::new(FUNDS + 1),
                },
            }
        )]
    );
    assert_eq!(chain.tip(), tip);
    assert_eq!(chain.state(), &state);
    assert_eq!(pending_ids(&chain), sorted_ids(&[&pending]));
    for invalid in [b2.hash(), b3.hash()] {
        assert_eq!(
            chain.index().get(&invalid).map(|entry| entry.status),
            Some(BlockStatus::Invalid)
        );
    }

    // B1 itself was valid: a valid continuation of it can still win.
    let b2_good = block_on(&chain, &b1.hash(), MINER_B, Vec::new(), 3_200);
    offer(&mut chain, &b2_good);
    let b3_good = block_on(&chain, &b2_good.hash(), MINER_B, Vec::new(), 4_200);
    let change = offer(&mut chain, &b3_good)
        .tip_change
        .expect("reorg to valid B");
    assert_eq!(
        change.connected,
        vec![b1.hash(), b2_good.hash(), b3_good.hash()]
    );
    assert_eq!(account(&chain, ALICE), (FUNDS, 0));
    assert_eq!(account(&chain, MINER_B), (3 * REWARD, 0));
    drop(chain);
    assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 4);
}
