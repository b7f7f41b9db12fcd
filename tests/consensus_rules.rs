//! One test per consensus rule (the book's Protocol and rules › Consensus rules): for every
//! `TxError` and `BlockError` variant, build the offending transaction or block and check
//! that exactly that variant comes back, and that a refused transaction or block leaves the
//! mempool, tip, balances and stored data as they were.

mod common;

use common::chain::{
    block_error, expect_tx_refused, offer, open_chain, open_chain_with, pay, pending_ids,
};
use ironchain::chain::index::BlockStatus;
use ironchain::chain::mempool::{Mempool, MempoolLimits};
use ironchain::chain::state::{Account, State};
use ironchain::chain::verify::verify_store;
use ironchain::chain::{BlockOutcome, Chain};
use ironchain::consensus::address::Address;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::{Block, BLOCK_VERSION};
use ironchain::consensus::error::{BlockError, TxError};
use ironchain::consensus::hash::{BlockHash, TxId};
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::target::{CompactTarget, CompactTargetError, Target};
use ironchain::consensus::transaction::{Transaction, UnsignedTransaction, MAX_MESSAGE_BYTES};
use ironchain::consensus::validation::{check_header, check_transaction, HeaderContext};
use ironchain::testkit::{self, address, key};
use tempfile::TempDir;

const FUNDS: u64 = 1_000;
const ALICE: u64 = 1;
const BOB: u64 = 2;
const CAROL: u64 = 3;
const MINER: u64 = 9;

fn funded_params() -> ChainParams {
    testkit::params(&[(address(ALICE), FUNDS), (address(BOB), FUNDS)])
}

fn setup() -> (TempDir, Chain) {
    open_chain(funded_params())
}

fn accept(chain: &mut Chain, block: Block) {
    match offer(chain, block) {
        Ok(BlockOutcome::Accepted(accepted)) => {
            assert!(
                accepted.tip_change.is_some(),
                "block did not extend the tip"
            );
            assert!(accepted.rejected.is_empty());
        }
        other => panic!("block refused: {other:?}"),
    }
}

/// What a refused block must leave untouched.
struct Snapshot {
    tip: ironchain::chain::TipInfo,
    state: State,
    blocks: usize,
    pending: Vec<TxId>,
}

fn snapshot(chain: &Chain) -> Snapshot {
    Snapshot {
        tip: chain.tip(),
        state: chain.state().clone(),
        blocks: chain.index().len(),
        pending: pending_ids(chain),
    }
}

/// Offers a block that breaks a stateless rule: exactly `expected` comes back, and
/// nothing is stored or changed.
fn expect_block_refused(chain: &mut Chain, block: Block, expected: BlockError) {
    let before = snapshot(chain);
    let hash = block.hash();
    assert_eq!(block_error(offer(chain, block)), expected);
    assert_eq!(chain.tip(), before.tip);
    assert_eq!(chain.state(), &before.state);
    assert_eq!(chain.index().len(), before.blocks);
    assert_eq!(pending_ids(chain), before.pending);
    assert!(!chain.index().contains(&hash));
    assert_eq!(chain.block(&hash).unwrap(), None);
    assert_eq!(chain.orphan_count(), 0);
}

/// Offers a block that passes the stateless rules but fails when connected: exactly
/// `expected` comes back, the tip, balances and mempool are unchanged, and the block is
/// kept only as a known-invalid entry of the tree.
fn expect_block_invalid_on_connect(chain: &mut Chain, block: Block, expected: BlockError) {
    let before = snapshot(chain);
    let hash = block.hash();
    assert_eq!(block_error(offer(chain, block)), expected);
    assert_eq!(chain.tip(), before.tip);
    assert_eq!(chain.state(), &before.state);
    assert_eq!(pending_ids(chain), before.pending);
    assert_eq!(chain.index().len(), before.blocks + 1);
    assert_eq!(
        chain.index().get(&hash).map(|entry| entry.status),
        Some(BlockStatus::Invalid)
    );
    assert!(!chain.index().is_active(&hash));
}

/// Address bytes that are not an Ed25519 curve point.
fn invalid_key_address() -> Address {
    (0u8..=255)
        .map(|first| {
            let mut bytes = [0u8; 32];
            bytes[0] = first;
            Address::from_bytes(bytes)
        })
        .find(|candidate| candidate.verifying_key().is_none())
        .expect("some small y-coordinate is not on the curve")
}

// ---------------------------------------------------------------------------------------
// Transaction rules
// ---------------------------------------------------------------------------------------

#[test]
fn message_longer_than_256_bytes_is_message_too_long() {
    let (_dir, mut chain) = setup();
    let genesis = chain.genesis_hash();
    let sign = |message: String, nonce| {
        UnsignedTransaction {
            receiver: address(BOB),
            amount: Amount::new(1),
            fee: Amount::new(1),
            nonce,
            message,
        }
        .sign(&key(ALICE), &genesis)
    };
    let too_long = sign("x".repeat(MAX_MESSAGE_BYTES + 1), 0);
    expect_tx_refused(
        &mut chain,
        too_long,
        TxError::MessageTooLong {
            bytes: 257,
            max: 256,
        },
    );
    // Bytes, not characters: 129 two-byte characters are 258 bytes.
    expect_tx_refused(
        &mut chain,
        sign("é".repeat(129), 0),
        TxError::MessageTooLong {
            bytes: 258,
            max: 256,
        },
    );
    // Exactly at the limit is fine.
    assert!(chain
        .submit_transaction(sign("x".repeat(MAX_MESSAGE_BYTES), 0))
        .is_ok());
}

#[test]
fn fee_below_minimum_is_fee_too_low() {
    let mut params = funded_params();
    params.min_fee = Amount::new(5);
    let (_dir, mut chain) = open_chain(params);
    let tx = pay(&chain, ALICE, BOB, 10, 4, 0);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::FeeTooLow {
            fee: Amount::new(4),
            min: Amount::new(5),
        },
    );
    assert!(chain
        .submit_transaction(pay(&chain, ALICE, BOB, 10, 5, 0))
        .is_ok());
}

#[test]
fn amount_plus_fee_overflowing_is_amount_overflow() {
    let (_dir, mut chain) = setup();
    let tx = pay(&chain, ALICE, BOB, u64::MAX, 1, 0);
    expect_tx_refused(&mut chain, tx.clone(), TxError::AmountOverflow);
    // Also a stateless rule on its own.
    assert_eq!(
        check_transaction(&tx, chain.params(), &chain.genesis_hash()),
        Err(TxError::AmountOverflow)
    );
}

#[test]
fn sender_that_is_not_a_curve_point_is_invalid_sender_key() {
    let bogus = invalid_key_address();
    // Fund the bogus address so that only the key check can refuse it.
    let params = testkit::params(&[(bogus, FUNDS)]);
    let (_dir, mut chain) = open_chain(params);
    let mut tx = pay(&chain, ALICE, BOB, 10, 1, 0);
    tx.sender = bogus;
    assert_eq!(
        check_transaction(&tx, chain.params(), &chain.genesis_hash()),
        Err(TxError::InvalidSenderKey)
    );
    expect_tx_refused(&mut chain, tx, TxError::InvalidSenderKey);
}

#[test]
fn altered_field_is_bad_signature() {
    let (_dir, mut chain) = setup();
    let mut tx = pay(&chain, ALICE, BOB, 10, 1, 0);
    tx.amount = Amount::new(11);
    expect_tx_refused(&mut chain, tx.clone(), TxError::BadSignature);
    // Signed by someone else than the sender.
    let mut forged = pay(&chain, BOB, CAROL, 10, 1, 0);
    forged.sender = address(ALICE);
    expect_tx_refused(&mut chain, forged, TxError::BadSignature);
}

#[test]
fn used_nonce_is_nonce_too_low() {
    let (_dir, mut chain) = setup();
    let first = pay(&chain, ALICE, BOB, 10, 1, 0);
    let block = testkit::next_block(&chain, address(MINER), vec![first]);
    accept(&mut chain, block);
    // A different transaction reusing nonce 0.
    let reuse = pay(&chain, ALICE, CAROL, 20, 1, 0);
    expect_tx_refused(
        &mut chain,
        reuse,
        TxError::NonceTooLow {
            nonce: 0,
            expected: 1,
        },
    );
}

#[test]
fn skipped_nonce_is_nonce_too_high() {
    let (_dir, mut chain) = setup();
    let tx = pay(&chain, ALICE, BOB, 10, 1, 1);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::NonceTooHigh {
            nonce: 1,
            expected: 0,
        },
    );
    // With nonce 0 pending, the next expected nonce is 1.
    chain
        .submit_transaction(pay(&chain, ALICE, BOB, 10, 1, 0))
        .unwrap();
    let tx = pay(&chain, ALICE, BOB, 10, 1, 2);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::NonceTooHigh {
            nonce: 2,
            expected: 1,
        },
    );
}

#[test]
fn account_at_last_nonce_is_nonce_exhausted() {
    let params = funded_params();
    let genesis = params.genesis_block().unwrap().hash();
    let state = State::from_accounts([(
        address(ALICE),
        Account {
            balance: Amount::new(FUNDS),
            nonce: u64::MAX,
        },
    )]);
    let tx = testkit::transfer(&key(ALICE), address(BOB), 10, 1, u64::MAX, &genesis);
    assert_eq!(state.check_transaction(&tx), Err(TxError::NonceExhausted));
    let mut mempool = Mempool::new(MempoolLimits::default());
    assert_eq!(
        mempool.add(tx, &state, &params, &genesis),
        Err(TxError::NonceExhausted)
    );
    assert!(mempool.is_empty());
}

#[test]
fn spending_more_than_the_balance_is_insufficient_balance() {
    let (_dir, mut chain) = setup();
    let tx = pay(&chain, ALICE, BOB, FUNDS, 1, 0);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::InsufficientBalance {
            balance: Amount::new(FUNDS),
            needed: Amount::new(FUNDS + 1),
        },
    );
    // Pending transactions count: after spending 601, 399 are left.
    chain
        .submit_transaction(pay(&chain, ALICE, BOB, 600, 1, 0))
        .unwrap();
    let tx = pay(&chain, ALICE, BOB, 400, 1, 1);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::InsufficientBalance {
            balance: Amount::new(399),
            needed: Amount::new(401),
        },
    );
    // Spending exactly what is left is fine.
    assert!(chain
        .submit_transaction(pay(&chain, ALICE, BOB, 398, 1, 1))
        .is_ok());
}

/// Allocations sum to `u64::MAX - 10`; two block rewards push the supply past `u64::MAX`,
/// so the miner can pay the rich account more than it can hold.
fn rich_chain() -> (TempDir, Chain) {
    let mut params = testkit::params(&[(address(ALICE), u64::MAX - 10)]);
    params.block_reward = Amount::new(100);
    let (dir, mut chain) = open_chain(params);
    testkit::extend(&mut chain, address(MINER), 2);
    assert_eq!(
        chain.state().account(&address(MINER)).balance,
        Amount::new(200)
    );
    (dir, chain)
}

#[test]
fn receiver_balance_past_u64_max_is_receiver_balance_overflow() {
    let (_dir, mut chain) = rich_chain();
    let tx = pay(&chain, MINER, ALICE, 11, 1, 0);
    assert_eq!(
        chain.state().check_transaction(&tx),
        Err(TxError::ReceiverBalanceOverflow)
    );
    expect_tx_refused(&mut chain, tx.clone(), TxError::ReceiverBalanceOverflow);
    // Inside a block.
    let block = testkit::next_block(&chain, address(MINER), vec![tx.clone()]);
    expect_block_invalid_on_connect(
        &mut chain,
        block,
        BlockError::InvalidTransaction {
            index: 0,
            txid: tx.id(),
            error: TxError::ReceiverBalanceOverflow,
        },
    );
    // One less fits exactly.
    assert!(chain
        .submit_transaction(pay(&chain, MINER, ALICE, 10, 1, 0))
        .is_ok());
}

#[test]
fn same_transaction_twice_is_already_in_mempool() {
    let (_dir, mut chain) = setup();
    let tx = pay(&chain, ALICE, BOB, 10, 1, 0);
    chain.submit_transaction(tx.clone()).unwrap();
    expect_tx_refused(&mut chain, tx, TxError::AlreadyInMempool);
    assert_eq!(chain.mempool().len(), 1);
}

#[test]
fn second_transaction_with_a_pending_nonce_is_nonce_pending() {
    let (_dir, mut chain) = setup();
    chain
        .submit_transaction(pay(&chain, ALICE, BOB, 10, 1, 0))
        .unwrap();
    let conflicting = pay(&chain, ALICE, CAROL, 10, 5, 0);
    expect_tx_refused(&mut chain, conflicting, TxError::NoncePending { nonce: 0 });
}

#[test]
fn full_mempool_refuses_a_fee_not_above_the_lowest_as_mempool_full() {
    let params = testkit::params(&[
        (address(ALICE), FUNDS),
        (address(BOB), FUNDS),
        (address(CAROL), FUNDS),
    ]);
    let limits = MempoolLimits {
        max_count: 2,
        max_bytes: 1 << 20,
    };
    let (_dir, mut chain) = open_chain_with(params, limits);
    chain
        .submit_transaction(pay(&chain, ALICE, MINER, 10, 3, 0))
        .unwrap();
    chain
        .submit_transaction(pay(&chain, BOB, MINER, 10, 5, 0))
        .unwrap();
    let tx = pay(&chain, CAROL, MINER, 10, 3, 0);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::MempoolFull {
            lowest_fee: Amount::new(3),
        },
    );
    assert_eq!(chain.mempool().len(), 2);
}

// ---------------------------------------------------------------------------------------
// Block rules, in the order they are checked
// ---------------------------------------------------------------------------------------

#[test]
fn block_with_unknown_parent_waits_as_orphan_until_the_parent_arrives() {
    let (_dir, mut chain) = setup();
    let (_source_dir, mut source) = setup();
    let hashes = testkit::extend(&mut source, address(MINER), 3);
    let block = |n: usize| source.block(&hashes[n]).unwrap().unwrap();

    match offer(&mut chain, block(2)).unwrap() {
        BlockOutcome::Orphan { missing, .. } => assert_eq!(missing, hashes[1]),
        other => panic!("expected an orphan, got {other:?}"),
    }
    // Its parent is an orphan too: the first missing ancestor is now block 1.
    match offer(&mut chain, block(1)).unwrap() {
        BlockOutcome::Orphan { missing, .. } => assert_eq!(missing, hashes[0]),
        other => panic!("expected an orphan, got {other:?}"),
    }
    assert!(matches!(
        offer(&mut chain, block(2)).unwrap(),
        BlockOutcome::AlreadyKnown
    ));
    assert_eq!(chain.orphan_count(), 2);
    assert_eq!(chain.tip().height, 0);

    match offer(&mut chain, block(0)).unwrap() {
        BlockOutcome::Accepted(accepted) => {
            assert_eq!(accepted.stored, hashes);
            assert!(accepted.rejected.is_empty());
            let change = accepted.tip_change.expect("tip moved");
            assert_eq!(change.new_tip, hashes[2]);
            assert_eq!(change.height, 3);
            assert_eq!(change.connected, hashes);
            assert!(change.disconnected.is_empty());
        }
        other => panic!("expected acceptance, got {other:?}"),
    }
    assert_eq!(chain.orphan_count(), 0);
    assert_eq!(chain.tip().hash, hashes[2]);
    assert_eq!(chain.state(), source.state());
    assert_eq!(
        chain.state().account(&address(MINER)).balance,
        Amount::new(3 * chain.params().block_reward.get())
    );
}

#[test]
fn child_of_an_invalid_block_is_descends_from_invalid() {
    let (_dir, mut chain) = setup();
    let overspend = pay(&chain, ALICE, BOB, FUNDS, 1, 0);
    let bad = testkit::next_block(&chain, address(MINER), vec![overspend.clone()]);
    let bad_hash = bad.hash();
    expect_block_invalid_on_connect(
        &mut chain,
        bad,
        BlockError::InvalidTransaction {
            index: 0,
            txid: overspend.id(),
            error: TxError::InsufficientBalance {
                balance: Amount::new(FUNDS),
                needed: Amount::new(FUNDS + 1),
            },
        },
    );
    let child = testkit::block_on(
        &chain,
        &bad_hash,
        address(MINER),
        Vec::new(),
        chain.tip().timestamp_ms + 2_000,
    );
    expect_block_refused(
        &mut chain,
        child,
        BlockError::DescendsFromInvalid { ancestor: bad_hash },
    );
}

#[test]
fn unknown_version_is_bad_version() {
    let (_dir, mut chain) = setup();
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    block.header.version = BLOCK_VERSION + 1;
    testkit::seal(&mut block);
    expect_block_refused(&mut chain, block, BlockError::BadVersion { version: 2 });
}

#[test]
fn height_not_parent_plus_one_is_bad_height() {
    let (_dir, mut chain) = setup();
    testkit::extend(&mut chain, address(MINER), 1);
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    block.header.height = 3;
    block.reward.height = 3;
    testkit::seal(&mut block);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::BadHeight {
            expected: 2,
            got: 3,
        },
    );
}

#[test]
fn target_other_than_expected_is_bad_target() {
    let (_dir, mut chain) = setup();
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    let easier = Target::MAX.to_compact();
    block.header.target = easier;
    testkit::seal(&mut block);
    let expected = chain.params().initial_target();
    expect_block_refused(
        &mut chain,
        block,
        BlockError::BadTarget {
            expected,
            got: easier,
        },
    );
}

#[test]
fn undecodable_compact_target_is_invalid_target() {
    let params = funded_params();
    let (_dir, mut chain) = open_chain(params.clone());
    let zero = CompactTarget::from_consensus(0);
    let negative = CompactTarget::from_consensus(0x2080_ffff);

    // check_header: a header carrying the (undecodable) expected target.
    let mut header = testkit::next_block(&chain, address(MINER), Vec::new()).header;
    header.target = negative;
    let context = HeaderContext {
        parent_height: 0,
        expected_target: negative,
        median_time_past: 0,
        now_ms: header.timestamp_ms,
    };
    assert_eq!(
        check_header(&header, &context, &params),
        Err(BlockError::InvalidTarget(CompactTargetError::Negative(
            negative
        )))
    );

    // Through the chain: an orphan's proof of work is checked before it is held.
    let mut orphan = testkit::next_block(&chain, address(MINER), Vec::new());
    orphan.header.prev = BlockHash::from_bytes([7; 32]);
    orphan.header.target = zero;
    testkit::seal(&mut orphan);
    expect_block_refused(
        &mut chain,
        orphan,
        BlockError::InvalidTarget(CompactTargetError::Zero(zero)),
    );
}

/// Moves the nonce on until the header's hash no longer meets `target`.
fn break_proof_of_work(block: &mut Block, target: &Target) {
    while target.is_met_by(block.hash().as_bytes()) {
        block.header.nonce = block.header.nonce.wrapping_add(1);
    }
}

#[test]
fn hash_above_target_is_insufficient_proof_of_work() {
    let mut params = funded_params();
    params.initial_difficulty_bits = 12;
    let (_dir, mut chain) = open_chain(params);
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    let target = block.header.target.to_target().unwrap();
    assert_eq!(target.leading_zero_bits(), 12);
    assert!(target.is_met_by(block.hash().as_bytes()));
    break_proof_of_work(&mut block, &target);
    let hash = block.hash();
    expect_block_refused(
        &mut chain,
        block.clone(),
        BlockError::InsufficientProofOfWork { hash },
    );
    // An orphan's proof of work is checked before it is held.
    block.header.prev = BlockHash::from_bytes([7; 32]);
    break_proof_of_work(&mut block, &target);
    let hash = block.hash();
    expect_block_refused(
        &mut chain,
        block,
        BlockError::InsufficientProofOfWork { hash },
    );
}

#[test]
fn orphan_easier_than_pow_limit_is_insufficient_proof_of_work() {
    let mut params = funded_params();
    params.pow_limit_bits = 1;
    let (_dir, mut chain) = open_chain(params);
    let mut orphan = testkit::next_block(&chain, address(MINER), Vec::new());
    orphan.header.prev = BlockHash::from_bytes([7; 32]);
    orphan.header.target = Target::MAX.to_compact();
    testkit::seal(&mut orphan);
    let hash = orphan.hash();
    expect_block_refused(
        &mut chain,
        orphan,
        BlockError::InsufficientProofOfWork { hash },
    );
}

#[test]
fn timestamp_at_median_time_past_is_timestamp_not_after_median() {
    let (_dir, mut chain) = setup();
    testkit::extend(&mut chain, address(MINER), 5);
    let genesis_ms = chain.params().genesis_timestamp_ms;
    // Timestamps genesis+0, +1000, ..., +5000: the upper of the two middle values.
    let median = genesis_ms + 3_000;
    assert_eq!(chain.index().median_time_past(&chain.tip().hash), median);
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    block.header.timestamp_ms = median;
    testkit::seal(&mut block);
    expect_block_refused(
        &mut chain,
        block.clone(),
        BlockError::TimestampNotAfterMedian {
            timestamp: median,
            median,
        },
    );
    // One millisecond later is valid, though earlier than the tip's timestamp.
    block.header.timestamp_ms = median + 1;
    testkit::seal(&mut block);
    let now = chain.tip().timestamp_ms;
    assert!(matches!(
        chain.process_block(block, now).unwrap(),
        BlockOutcome::Accepted(_)
    ));
    assert_eq!(chain.tip().height, 6);
}

#[test]
fn timestamp_beyond_the_drift_is_too_far_in_future_and_can_be_retried() {
    let (_dir, mut chain) = setup();
    let drift = chain.params().max_future_drift_ms;
    let now = chain.tip().timestamp_ms + 1_000;
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    block.header.timestamp_ms = now + drift + 1;
    testkit::seal(&mut block);
    let before = snapshot(&chain);
    let hash = block.hash();
    let error = block_error(chain.process_block(block.clone(), now));
    assert_eq!(
        error,
        BlockError::TimestampTooFarInFuture {
            timestamp: now + drift + 1,
            limit: now + drift,
        }
    );
    assert!(!error.is_invalid());
    assert_eq!(chain.tip(), before.tip);
    assert!(!chain.index().contains(&hash));
    // Not remembered as invalid: a millisecond later it is on time.
    assert!(matches!(
        chain.process_block(block, now + 1).unwrap(),
        BlockOutcome::Accepted(_)
    ));
    assert_eq!(chain.tip().hash, hash);
}

#[test]
fn more_than_max_block_txs_is_too_many_transactions() {
    let mut params = funded_params();
    params.max_block_txs = 2;
    let (_dir, mut chain) = open_chain(params);
    let txs: Vec<Transaction> = (0..3)
        .map(|nonce| pay(&chain, ALICE, BOB, 1, 1, nonce))
        .collect();
    let block = testkit::next_block(&chain, address(MINER), txs.clone());
    expect_block_refused(
        &mut chain,
        block,
        BlockError::TooManyTransactions { count: 3, max: 2 },
    );
    let block = testkit::next_block(&chain, address(MINER), txs[..2].to_vec());
    accept(&mut chain, block);
}

#[test]
fn more_than_max_block_bytes_is_too_large() {
    let mut params = funded_params();
    params.max_block_bytes = 1_024;
    let (_dir, mut chain) = open_chain(params);
    let genesis = chain.genesis_hash();
    let txs: Vec<Transaction> = (0..3)
        .map(|nonce| {
            UnsignedTransaction {
                receiver: address(BOB),
                amount: Amount::new(1),
                fee: Amount::new(1),
                nonce,
                message: "m".repeat(MAX_MESSAGE_BYTES),
            }
            .sign(&key(ALICE), &genesis)
        })
        .collect();
    // Header 96 + reward 48 + count 4 + 3 × (154 + 256).
    let block = testkit::next_block(&chain, address(MINER), txs.clone());
    assert_eq!(block.encoded_size(), 1_378);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::TooLarge {
            bytes: 1_378,
            max: 1_024,
        },
    );
    // Two such transactions (968 bytes) fit.
    let block = testkit::next_block(&chain, address(MINER), txs[..2].to_vec());
    accept(&mut chain, block);
}

#[test]
fn reward_record_for_another_height_is_reward_height_mismatch() {
    let (_dir, mut chain) = setup();
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    block.reward.height = 5;
    testkit::seal(&mut block);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::RewardHeightMismatch {
            header: 1,
            reward: 5,
        },
    );
}

#[test]
fn reordered_transactions_are_bad_merkle_root() {
    let (_dir, mut chain) = setup();
    let txs = vec![
        pay(&chain, ALICE, CAROL, 10, 1, 0),
        pay(&chain, BOB, CAROL, 10, 1, 0),
    ];
    let mut block = testkit::next_block(&chain, address(MINER), txs);
    block.txs.swap(0, 1);
    // Re-mine without recomputing the merkle root, so that only the root is wrong.
    let target = block.header.target.to_target().unwrap();
    testkit::mine(&mut block.header, &target);
    expect_block_refused(&mut chain, block, BlockError::BadMerkleRoot);
}

#[test]
fn same_transaction_twice_in_a_block_is_duplicate_transaction() {
    let (_dir, mut chain) = setup();
    let tx = pay(&chain, ALICE, BOB, 10, 1, 0);
    let block = testkit::next_block(&chain, address(MINER), vec![tx.clone(), tx.clone()]);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::DuplicateTransaction { txid: tx.id() },
    );
}

#[test]
fn block_with_a_badly_signed_transaction_is_invalid_transaction() {
    let (_dir, mut chain) = setup();
    let good = pay(&chain, BOB, CAROL, 10, 1, 0);
    let mut altered = pay(&chain, ALICE, CAROL, 10, 1, 0);
    altered.receiver = address(MINER);
    let block = testkit::next_block(&chain, address(MINER), vec![good, altered.clone()]);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::InvalidTransaction {
            index: 1,
            txid: altered.id(),
            error: TxError::BadSignature,
        },
    );
}

#[test]
fn block_with_a_stateless_invalid_transaction_names_the_inner_error() {
    let mut params = funded_params();
    params.min_fee = Amount::new(2);
    let (_dir, mut chain) = open_chain(params);
    let cheap = pay(&chain, ALICE, CAROL, 10, 1, 0);
    let block = testkit::next_block(&chain, address(MINER), vec![cheap.clone()]);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::InvalidTransaction {
            index: 0,
            txid: cheap.id(),
            error: TxError::FeeTooLow {
                fee: Amount::new(1),
                min: Amount::new(2),
            },
        },
    );
}

#[test]
fn block_spending_more_than_the_balance_in_sequence_is_invalid_transaction() {
    let (_dir, mut chain) = setup();
    // Each would be fine alone; together they spend 1002 of 1000.
    let first = pay(&chain, ALICE, CAROL, 600, 1, 0);
    let second = pay(&chain, ALICE, CAROL, 400, 1, 1);
    let block = testkit::next_block(&chain, address(MINER), vec![first, second.clone()]);
    expect_block_invalid_on_connect(
        &mut chain,
        block,
        BlockError::InvalidTransaction {
            index: 1,
            txid: second.id(),
            error: TxError::InsufficientBalance {
                balance: Amount::new(399),
                needed: Amount::new(401),
            },
        },
    );
}

#[test]
fn block_with_out_of_order_nonces_is_invalid_transaction() {
    let (_dir, mut chain) = setup();
    let first = pay(&chain, ALICE, CAROL, 10, 1, 0);
    let second = pay(&chain, ALICE, CAROL, 10, 1, 1);
    let block = testkit::next_block(&chain, address(MINER), vec![second.clone(), first]);
    expect_block_invalid_on_connect(
        &mut chain,
        block,
        BlockError::InvalidTransaction {
            index: 0,
            txid: second.id(),
            error: TxError::NonceTooHigh {
                nonce: 1,
                expected: 0,
            },
        },
    );
}

#[test]
fn fees_summing_past_u64_max_are_fee_overflow() {
    let (_dir, mut chain) = rich_chain();
    // Alice pays almost everything she has as a fee, the miner 150 more.
    let huge = pay(&chain, ALICE, BOB, 0, u64::MAX - 10, 0);
    let more = pay(&chain, MINER, BOB, 0, 150, 0);
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    block.txs = vec![huge, more];
    testkit::seal(&mut block);
    expect_block_refused(&mut chain, block, BlockError::FeeOverflow);
}

#[test]
fn block_reward_plus_fees_past_u64_max_is_fee_overflow() {
    let mut params = funded_params();
    params.block_reward = Amount::new(u64::MAX);
    let (_dir, mut chain) = open_chain(params);
    let mut block = testkit::next_block(&chain, address(MINER), Vec::new());
    block.txs = vec![pay(&chain, ALICE, BOB, 10, 1, 0)];
    testkit::seal(&mut block);
    expect_block_refused(&mut chain, block, BlockError::FeeOverflow);
}

#[test]
fn reward_other_than_block_reward_plus_fees_is_bad_reward() {
    let (_dir, mut chain) = setup();
    let txs = vec![
        pay(&chain, ALICE, CAROL, 10, 3, 0),
        pay(&chain, BOB, CAROL, 10, 4, 0),
    ];
    let mut block = testkit::next_block(&chain, address(MINER), txs.clone());
    assert_eq!(block.reward.amount, Amount::new(57));
    block.reward.amount = Amount::new(58);
    testkit::seal(&mut block);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::BadReward {
            expected: Amount::new(57),
            got: Amount::new(58),
        },
    );
    let mut block = testkit::next_block(&chain, address(MINER), txs);
    block.reward.amount = Amount::new(50);
    testkit::seal(&mut block);
    expect_block_refused(
        &mut chain,
        block,
        BlockError::BadReward {
            expected: Amount::new(57),
            got: Amount::new(50),
        },
    );
}

#[test]
fn rejected_blocks_leave_the_stored_chain_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let params = funded_params();
    let mut chain = Chain::open(dir.path(), params.clone(), MempoolLimits::default()).unwrap();
    let tx = pay(&chain, ALICE, BOB, 10, 1, 0);
    let block = testkit::next_block(&chain, address(MINER), vec![tx]);
    accept(&mut chain, block);
    let tip = chain.tip();
    let state = chain.state().clone();
    let active = chain.index().active().to_vec();

    // A stateless failure and a failure on connect.
    let mut bad_reward = testkit::next_block(&chain, address(MINER), Vec::new());
    bad_reward.reward.amount = Amount::new(bad_reward.reward.amount.get() + 1);
    testkit::seal(&mut bad_reward);
    assert!(offer(&mut chain, bad_reward).is_err());
    let mut bad_version = testkit::next_block(&chain, address(MINER), Vec::new());
    bad_version.header.version = 7;
    testkit::seal(&mut bad_version);
    assert!(offer(&mut chain, bad_version).is_err());
    drop(chain);

    let chain = Chain::open(dir.path(), params.clone(), MempoolLimits::default()).unwrap();
    assert_eq!(chain.tip(), tip);
    assert_eq!(chain.state(), &state);
    assert_eq!(chain.index().active(), active.as_slice());
    drop(chain);
    let report = verify_store(dir.path(), &params).unwrap();
    assert_eq!(report.height, 1);
    assert_eq!(report.transactions, 1);
}
