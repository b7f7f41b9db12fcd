//! Replay protection (the book's Protocol and rules › Transactions): a signed transaction
//! counts once: offered again, to the mempool or inside a later block, it is refused with
//! `NonceTooLow`; and a transaction signed for another network (another genesis hash) never
//! verifies here (`BadSignature`), neither in the mempool nor in a block.

mod common;

use common::chain::{block_error, open_chain};
use ironchain::chain::{BlockOutcome, Chain};
use ironchain::consensus::amount::Amount;
use ironchain::consensus::error::{BlockError, TxError};
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit::{self, address, key};

const FUNDS: u64 = 1_000;
const ALICE: u64 = 1;
const BOB: u64 = 2;
const MINER: u64 = 9;

fn params() -> ChainParams {
    testkit::params(&[(address(ALICE), FUNDS)])
}

/// Submits `tx` and mines it alone into the next block.
fn mine_transaction(chain: &mut Chain, tx: &Transaction) {
    chain.submit_transaction(tx.clone()).unwrap();
    let now = chain.tip().timestamp_ms + 1_000;
    let template = chain.template(address(MINER), now);
    assert_eq!(template.block.txs, vec![tx.clone()]);
    let mut block = template.block;
    testkit::mine(&mut block.header, &template.target);
    assert!(matches!(
        chain.process_block(block, now).unwrap(),
        BlockOutcome::Accepted(_)
    ));
    assert!(chain.mempool().is_empty());
}

#[test]
fn mined_transaction_offered_again_to_the_mempool_is_nonce_too_low() {
    let (_dir, mut chain) = open_chain(params());
    let tx = testkit::transfer(&key(ALICE), address(BOB), 100, 1, 0, &chain.genesis_hash());
    mine_transaction(&mut chain, &tx);
    assert_eq!(
        chain.submit_transaction(tx),
        Err(TxError::NonceTooLow {
            nonce: 0,
            expected: 1
        })
    );
    assert!(chain.mempool().is_empty());
    assert_eq!(
        chain.state().account(&address(BOB)).balance,
        Amount::new(100)
    );
    assert_eq!(
        chain.state().account(&address(ALICE)).balance,
        Amount::new(FUNDS - 101)
    );
}

#[test]
fn mined_transaction_replayed_in_a_later_block_is_invalid_with_nonce_too_low() {
    let (_dir, mut chain) = open_chain(params());
    let tx = testkit::transfer(&key(ALICE), address(BOB), 100, 1, 0, &chain.genesis_hash());
    mine_transaction(&mut chain, &tx);
    let tip = chain.tip();
    let state = chain.state().clone();

    let replay = testkit::next_block(&chain, address(MINER), vec![tx.clone()]);
    let replay_hash = replay.hash();
    let now = replay.header.timestamp_ms;
    assert_eq!(
        block_error(chain.process_block(replay, now)),
        BlockError::InvalidTransaction {
            index: 0,
            txid: tx.id(),
            error: TxError::NonceTooLow {
                nonce: 0,
                expected: 1
            },
        }
    );
    assert_eq!(chain.tip(), tip);
    assert_eq!(chain.state(), &state);
    assert!(!chain.index().is_active(&replay_hash));
    assert_eq!(
        chain.state().account(&address(BOB)).balance,
        Amount::new(100)
    );
}

#[test]
fn same_transaction_twice_in_one_block_is_refused() {
    let (_dir, mut chain) = open_chain(params());
    let tx = testkit::transfer(&key(ALICE), address(BOB), 100, 1, 0, &chain.genesis_hash());
    let block = testkit::next_block(&chain, address(MINER), vec![tx.clone(), tx.clone()]);
    let now = block.header.timestamp_ms;
    assert_eq!(
        block_error(chain.process_block(block, now)),
        BlockError::DuplicateTransaction { txid: tx.id() }
    );
    assert_eq!(chain.tip().height, 0);
}

#[test]
fn transaction_signed_for_another_network_is_bad_signature() {
    let (_dir, mut chain) = open_chain(params());
    // Same keys and allocations, another genesis message: another network.
    let mut other = params();
    other.genesis_message = "some other ironchain network".into();
    let other_genesis = other.genesis_block().unwrap().hash();
    assert_ne!(other_genesis, chain.genesis_hash());
    let foreign = testkit::transfer(&key(ALICE), address(BOB), 100, 1, 0, &other_genesis);

    assert_eq!(
        chain.submit_transaction(foreign.clone()),
        Err(TxError::BadSignature)
    );
    assert!(chain.mempool().is_empty());

    let block = testkit::next_block(&chain, address(MINER), vec![foreign.clone()]);
    let now = block.header.timestamp_ms;
    assert_eq!(
        block_error(chain.process_block(block, now)),
        BlockError::InvalidTransaction {
            index: 0,
            txid: foreign.id(),
            error: TxError::BadSignature,
        }
    );
    assert_eq!(chain.tip().height, 0);
    assert_eq!(
        chain.state().account(&address(ALICE)).balance,
        Amount::new(FUNDS)
    );

    // On its own network the very same transaction is fine.
    let (_other_dir, mut other_chain) = open_chain(other);
    assert!(other_chain.submit_transaction(foreign).is_ok());
}
