//! The mempool behind a `Chain` (the book's Protocol and rules › Transactions, "Mempool"):
//! block templates take the highest fees first while keeping each sender's nonce order; a
//! full pool evicts its lowest fee for a better one and refuses the rest without changing;
//! transactions a connected block includes leave the pool.

mod common;

use common::chain::{open_chain_with, pay, pending_ids, sorted_ids};
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::{BlockOutcome, Chain};
use ironchain::consensus::amount::Amount;
use ironchain::consensus::error::TxError;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::{Transaction, UnsignedTransaction, TX_BASE_SIZE};
use ironchain::consensus::validation::VerifiedTx;
use ironchain::testkit::{self, address, key};
use tempfile::TempDir;

const FUNDS: u64 = 1_000;
const ALICE: u64 = 1;
const BOB: u64 = 2;
const CAROL: u64 = 3;
const DAVE: u64 = 4;
const SINK: u64 = 8;
const MINER: u64 = 9;

fn params() -> ChainParams {
    testkit::params(&[
        (address(ALICE), FUNDS),
        (address(BOB), FUNDS),
        (address(CAROL), FUNDS),
        (address(DAVE), FUNDS),
    ])
}

fn open(limits: MempoolLimits) -> (TempDir, Chain) {
    open_chain_with(params(), limits)
}

/// 10 coins from `from` to the sink: these tests vary only fees and nonces.
fn pay_sink(chain: &Chain, from: u64, fee: u64, nonce: u64) -> Transaction {
    pay(chain, from, SINK, 10, fee, nonce)
}

fn submit(chain: &mut Chain, tx: &Transaction) {
    chain.submit_transaction(tx.clone()).unwrap();
}

#[test]
fn template_takes_highest_fee_first_but_keeps_each_senders_nonce_order() {
    let (_dir, mut chain) = open(MempoolLimits::default());
    // Alice's cheap nonce 0 gates her expensive nonce 1.
    let a0 = pay_sink(&chain, ALICE, 1, 0);
    let a1 = pay_sink(&chain, ALICE, 10, 1);
    let b0 = pay_sink(&chain, BOB, 5, 0);
    let c0 = pay_sink(&chain, CAROL, 3, 0);
    let c1 = pay_sink(&chain, CAROL, 2, 1);
    for tx in [&a1, &c1] {
        // Out of order is refused, so the pool never holds a gap.
        assert_eq!(
            chain.submit_transaction(tx.clone()),
            Err(TxError::NonceTooHigh {
                nonce: 1,
                expected: 0
            })
        );
    }
    for tx in [&a0, &a1, &b0, &c0, &c1] {
        submit(&mut chain, tx);
    }
    let now = chain.tip().timestamp_ms + 1_000;
    let template = chain.template(address(MINER), now);
    assert_eq!(template.block.txs, vec![b0, c0, c1, a0, a1]);
    assert_eq!(
        template.block.reward.amount,
        Amount::new(50 + 5 + 3 + 2 + 1 + 10)
    );
    assert_eq!(template.block.reward.height, 1);
    assert_eq!(
        template.block.header.merkle_root,
        template.block.compute_merkle_root()
    );

    // Mined as it is, the template is a valid block.
    let mut block = template.block;
    testkit::mine(&mut block.header, &template.target);
    assert!(matches!(
        chain.process_block(block, now).unwrap(),
        BlockOutcome::Accepted(_)
    ));
    assert!(chain.mempool().is_empty());
    assert_eq!(
        chain.state().account(&address(MINER)).balance,
        Amount::new(50 + 5 + 3 + 2 + 1 + 10)
    );
}

#[test]
fn template_respects_max_block_txs_and_leaves_the_rest_pending() {
    let dir = tempfile::tempdir().unwrap();
    let mut params = params();
    params.max_block_txs = 2;
    let mut chain = Chain::open(dir.path(), params, MempoolLimits::default()).unwrap();
    let a0 = pay_sink(&chain, ALICE, 4, 0);
    let b0 = pay_sink(&chain, BOB, 6, 0);
    let c0 = pay_sink(&chain, CAROL, 5, 0);
    for tx in [&a0, &b0, &c0] {
        submit(&mut chain, tx);
    }
    let now = chain.tip().timestamp_ms + 1_000;
    let template = chain.template(address(MINER), now);
    assert_eq!(template.block.txs, vec![b0, c0]);
    let mut block = template.block;
    testkit::mine(&mut block.header, &template.target);
    chain.process_block(block, now).unwrap();
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a0]));
}

#[test]
fn full_mempool_evicts_the_lowest_fee_for_a_higher_one() {
    let (_dir, mut chain) = open(MempoolLimits {
        max_count: 3,
        max_bytes: 1 << 20,
    });
    let a0 = pay_sink(&chain, ALICE, 2, 0);
    let b0 = pay_sink(&chain, BOB, 1, 0);
    let c0 = pay_sink(&chain, CAROL, 3, 0);
    for tx in [&a0, &b0, &c0] {
        submit(&mut chain, tx);
    }
    // Not above the lowest fee (1): refused.
    let d_cheap = pay_sink(&chain, DAVE, 1, 0);
    assert_eq!(
        chain.submit_transaction(d_cheap),
        Err(TxError::MempoolFull {
            lowest_fee: Amount::new(1)
        })
    );
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a0, &b0, &c0]));
    // Above it: Bob's fee-1 transaction makes room.
    let d0 = pay_sink(&chain, DAVE, 4, 0);
    submit(&mut chain, &d0);
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a0, &c0, &d0]));
    assert_eq!(chain.account(&address(BOB)).1, 0);
}

#[test]
fn eviction_takes_the_end_of_a_run_never_its_middle() {
    let (_dir, mut chain) = open(MempoolLimits {
        max_count: 3,
        max_bytes: 1 << 20,
    });
    // Alice's run: fee 1 then fee 9; Bob: fee 5. The lowest *run end* is Bob's 5.
    let a0 = pay_sink(&chain, ALICE, 1, 0);
    let a1 = pay_sink(&chain, ALICE, 9, 1);
    let b0 = pay_sink(&chain, BOB, 5, 0);
    for tx in [&a0, &a1, &b0] {
        submit(&mut chain, tx);
    }
    let c0 = pay_sink(&chain, CAROL, 6, 0);
    submit(&mut chain, &c0);
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a0, &a1, &c0]));
}

#[test]
fn a_refused_transaction_evicts_nothing() {
    // Room for three empty-message transactions by bytes.
    let (_dir, mut chain) = open(MempoolLimits {
        max_count: 100,
        max_bytes: 3 * TX_BASE_SIZE,
    });
    let a0 = pay_sink(&chain, ALICE, 1, 0);
    let b0 = pay_sink(&chain, BOB, 5, 0);
    let c0 = pay_sink(&chain, CAROL, 9, 0);
    for tx in [&a0, &b0, &c0] {
        submit(&mut chain, tx);
    }
    // A large transaction paying 3 would need both Alice's (fee 1) and Bob's (fee 5)
    // places; Bob's pays more, so it is refused, and Alice's must stay.
    let big = UnsignedTransaction {
        receiver: address(SINK),
        amount: Amount::new(10),
        fee: Amount::new(3),
        nonce: 0,
        message: "x".repeat(100),
    }
    .sign(&key(DAVE), &chain.genesis_hash());
    assert_eq!(
        chain.submit_transaction(big),
        Err(TxError::MempoolFull {
            lowest_fee: Amount::new(5)
        })
    );
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a0, &b0, &c0]));
    assert_eq!(chain.mempool().bytes(), 3 * TX_BASE_SIZE);

    // Paying 6, it is worth both evictions.
    let big = UnsignedTransaction {
        receiver: address(SINK),
        amount: Amount::new(10),
        fee: Amount::new(6),
        nonce: 0,
        message: "x".repeat(100),
    }
    .sign(&key(DAVE), &chain.genesis_hash());
    submit(&mut chain, &big);
    assert_eq!(pending_ids(&chain), sorted_ids(&[&c0, &big]));
    assert_eq!(chain.mempool().bytes(), 2 * TX_BASE_SIZE + 100);
}

#[test]
fn connected_blocks_remove_their_transactions() {
    let (_dir, mut chain) = open(MempoolLimits::default());
    let a0 = pay_sink(&chain, ALICE, 1, 0);
    let a1 = pay_sink(&chain, ALICE, 1, 1);
    let b0 = pay_sink(&chain, BOB, 1, 0);
    for tx in [&a0, &a1, &b0] {
        submit(&mut chain, tx);
    }
    // A block with only Alice's first transaction.
    let block = testkit::next_block(&chain, address(MINER), vec![a0.clone()]);
    chain
        .process_block(block.clone(), block.header.timestamp_ms)
        .unwrap();
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a1, &b0]));
    assert_eq!(chain.account(&address(ALICE)).1, 2);

    // A block with a conflicting transaction for Bob's nonce 0 drops Bob's pending one.
    let conflicting = testkit::transfer(&key(BOB), address(CAROL), 20, 1, 0, &chain.genesis_hash());
    let block = testkit::next_block(&chain, address(MINER), vec![conflicting]);
    chain
        .process_block(block.clone(), block.header.timestamp_ms)
        .unwrap();
    assert_eq!(pending_ids(&chain), sorted_ids(&[&a1]));
    assert_eq!(chain.account(&address(BOB)).1, 1);
    assert_eq!(chain.mempool().bytes(), a1.encoded_size());
}

/// Nodes verify signatures off the chain actor: a transaction is prechecked (everything
/// but the signature), verified on another thread, then admitted as a `VerifiedTx`.
#[test]
fn verified_elsewhere_is_admitted_once_and_only_for_its_own_network() {
    let (_dir, mut chain) = open(MempoolLimits::default());
    let tx = pay_sink(&chain, ALICE, 2, 0);
    let id = chain.precheck_transaction(&tx).unwrap();
    assert_eq!(id, tx.id());

    // Verified for another network: verified again for ours, and refused.
    let elsewhere = ironchain::consensus::hash::BlockHash::from_bytes([9; 32]);
    let other = testkit::transfer(&key(ALICE), address(SINK), 10, 2, 0, &elsewhere);
    let verified_elsewhere = VerifiedTx::verify(other, &elsewhere).unwrap();
    assert_eq!(
        chain.submit_verified(verified_elsewhere),
        Err(TxError::BadSignature)
    );
    assert!(pending_ids(&chain).is_empty());

    let verified = VerifiedTx::verify(tx.clone(), &chain.genesis_hash()).unwrap();
    assert_eq!(chain.submit_verified(verified.clone()), Ok(id));
    assert_eq!(pending_ids(&chain), vec![id]);
    // Once pending, the precheck and a second submission both refuse it.
    assert_eq!(
        chain.precheck_transaction(&tx),
        Err(TxError::AlreadyInMempool)
    );
    assert_eq!(
        chain.submit_verified(verified),
        Err(TxError::AlreadyInMempool)
    );
}

/// Relay policy (issue 11 items 14, 15): refused by the mempool with their own reasons,
/// though consensus would allow them in a block.
#[test]
fn zero_amounts_and_unspendable_receivers_are_refused_by_policy() {
    let (_dir, mut chain) = open(MempoolLimits::default());
    let genesis = chain.genesis_hash();
    let nothing = testkit::transfer(&key(ALICE), address(BOB), 0, 1, 0, &genesis);
    assert_eq!(chain.submit_transaction(nothing), Err(TxError::ZeroAmount));
    let token = ironchain::consensus::hash::TokenId::from_bytes([3; 32]);
    let no_tokens = testkit::token_transfer(&key(ALICE), address(BOB), token, 0, 1, 0, &genesis);
    assert_eq!(
        chain.submit_transaction(no_tokens),
        Err(TxError::ZeroAmount)
    );
    // The all-zero address block 0's placeholder reward names, and another small-order
    // point: nobody can ever sign for them.
    for receiver in [
        [0u8; 32],
        ironchain::consensus::signatures::SMALL_ORDER_KEYS[0],
    ] {
        let receiver = ironchain::consensus::address::Address::from_bytes(receiver);
        let lost = testkit::transfer(&key(ALICE), receiver, 10, 1, 0, &genesis);
        assert_eq!(
            chain.submit_transaction(lost),
            Err(TxError::UnspendableReceiver { receiver })
        );
    }
    assert_eq!(chain.mempool().transactions().count(), 0);
    // An ordinary transfer still gets in.
    let ordinary = pay_sink(&chain, ALICE, 1, 0);
    submit(&mut chain, &ordinary);
}

/// A client may pipeline a sender's run (nonces 0, 1, 2 before any is pending): checked
/// together, each nonce that follows an earlier one of the run passes, while a gap, a
/// nonce already pending and a broken field are still refused before any signature work.
#[test]
fn a_pipelined_run_is_prechecked_in_order() {
    let (_dir, mut chain) = open(MempoolLimits::default());
    let pending = pay_sink(&chain, BOB, 2, 0);
    submit(&mut chain, &pending);
    let run = [
        pay_sink(&chain, ALICE, 2, 0),
        pay_sink(&chain, ALICE, 2, 1),
        pay_sink(&chain, ALICE, 2, 3),
        pay_sink(&chain, ALICE, 2, 2),
        pay_sink(&chain, BOB, 3, 0),
        pay_sink(&chain, BOB, 2, 1),
        pay_sink(&chain, CAROL, 2, 1),
        pay_sink(&chain, DAVE, 0, 0),
    ];
    let checked = chain.precheck_transactions(&run);
    assert_eq!(checked[0], Ok(run[0].id()));
    assert_eq!(checked[1], Ok(run[1].id()));
    assert_eq!(
        checked[2],
        Err(TxError::NonceTooHigh {
            nonce: 3,
            expected: 0
        })
    );
    assert_eq!(checked[3], Ok(run[3].id()));
    assert_eq!(checked[4], Err(TxError::NoncePending { nonce: 0 }));
    assert_eq!(checked[5], Ok(run[5].id()), "follows BOB's pending run");
    assert_eq!(
        checked[6],
        Err(TxError::NonceTooHigh {
            nonce: 1,
            expected: 0
        })
    );
    assert!(matches!(checked[7], Err(TxError::FeeTooLow { .. })));
    // Checking admits nothing; submitting in order does.
    assert_eq!(pending_ids(&chain).len(), 1);
    for tx in [&run[0], &run[1], &run[3]] {
        submit(&mut chain, tx);
    }
    assert_eq!(chain.account(&address(ALICE)).1, 3);
}
