//! Storage (the book's Protocol and rules › Storage): a chain closed and reopened has the
//! same tip, balances, block tree (side branches and invalid blocks included), active chain
//! and transaction index, and carries on; `verify_store` re-validates it from genesis, and
//! notices stored state that does not match the chain; a data directory of another network
//! is refused. (Crashes between commits are covered by the unit tests in
//! `src/chain/blockchain/commit.rs`, which can reach the store's failure hook.)

mod common;

use common::chain::pay;
use ironchain::chain::index::{BlockStatus, IndexEntry};
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::store::{StoreError, DB_FILE};
use ironchain::chain::verify::{verify_store, VerifyError};
use ironchain::chain::{BlockOutcome, Chain, ChainError, TxLookup};
use ironchain::consensus::amount::Amount;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit::{self, address};
use std::path::Path;

const FUNDS: u64 = 1_000;
const ALICE: u64 = 1;
const BOB: u64 = 2;
const CAROL: u64 = 3;
const MINER: u64 = 9;

fn params() -> ChainParams {
    testkit::params(&[(address(ALICE), FUNDS), (address(BOB), FUNDS)])
}

fn open(dir: &Path) -> Chain {
    Chain::open(dir, params(), MempoolLimits::default()).unwrap()
}

fn entries(chain: &Chain) -> Vec<IndexEntry> {
    let mut entries: Vec<IndexEntry> = chain.index().entries().cloned().collect();
    entries.sort_by_key(|entry| entry.hash);
    entries
}

/// Heights 1–4 on the active chain with three transfers, a side branch at height 2 and an
/// invalid block at height 5. Returns the transfers.
fn build(dir: &Path) -> Vec<Transaction> {
    let mut chain = open(dir);
    testkit::extend(&mut chain, address(MINER), 1);
    let txs = vec![
        pay(&chain, ALICE, CAROL, 100, 1, 0),
        pay(&chain, BOB, CAROL, 200, 1, 0),
        pay(&chain, ALICE, BOB, 50, 1, 1),
    ];
    let block = testkit::next_block(&chain, address(MINER), txs[..2].to_vec());
    let side_parent = chain.tip().hash;
    chain
        .process_block(block.clone(), block.header.timestamp_ms)
        .unwrap();
    let block = testkit::next_block(&chain, address(MINER), txs[2..].to_vec());
    chain
        .process_block(block.clone(), block.header.timestamp_ms)
        .unwrap();
    testkit::extend(&mut chain, address(MINER), 1);

    let side = testkit::block_on(
        &chain,
        &side_parent,
        address(CAROL),
        Vec::new(),
        chain.tip().timestamp_ms,
    );
    assert!(matches!(
        chain.process_block(side.clone(), side.header.timestamp_ms),
        Ok(BlockOutcome::Accepted(_))
    ));
    let overspend = pay(&chain, CAROL, ALICE, 10_000, 1, 0);
    let invalid = testkit::next_block(&chain, address(MINER), vec![overspend]);
    assert!(chain
        .process_block(invalid.clone(), invalid.header.timestamp_ms)
        .is_err());
    assert_eq!(
        chain.index().get(&invalid.hash()).map(|entry| entry.status),
        Some(BlockStatus::Invalid)
    );
    assert_eq!(chain.tip().height, 4);
    assert_eq!(chain.index().len(), 7);
    txs
}

#[test]
fn reopened_chain_has_the_same_tip_balances_and_block_tree() {
    let dir = tempfile::tempdir().unwrap();
    let txs = build(dir.path());
    let chain = open(dir.path());
    let tip = chain.tip();
    let state = chain.state().clone();
    let tree = entries(&chain);
    let active = chain.index().active().to_vec();
    drop(chain);

    let mut chain = open(dir.path());
    assert_eq!(chain.tip(), tip);
    assert_eq!(chain.state(), &state);
    assert_eq!(entries(&chain), tree);
    assert_eq!(chain.index().active(), active.as_slice());
    assert_eq!(
        chain.state().account(&address(ALICE)).balance,
        Amount::new(FUNDS - 152)
    );
    assert_eq!(chain.state().account(&address(ALICE)).nonce, 2);
    assert_eq!(
        chain.state().account(&address(BOB)).balance,
        Amount::new(FUNDS - 201 + 50)
    );
    assert_eq!(
        chain.state().account(&address(CAROL)).balance,
        Amount::new(300)
    );
    assert_eq!(
        chain.state().account(&address(MINER)).balance,
        Amount::new(4 * 50 + 3)
    );
    assert_eq!(
        chain.state().total_supply(),
        Some(Amount::new(2 * FUNDS + 4 * 50))
    );

    // The transaction index and merkle proofs survive.
    for tx in &txs {
        match chain.transaction(&tx.id()).unwrap() {
            Some(TxLookup::InBlock { header, proof, .. }) => {
                assert!(proof.verify(&tx.id(), &header.merkle_root))
            }
            other => panic!("transaction not found after reopening: {other:?}"),
        }
    }
    // Blocks are served from the store.
    let blocks = chain
        .blocks_after(&[chain.genesis_hash()], 100, 1 << 20)
        .unwrap();
    let hashes: Vec<_> = blocks.iter().map(|block| block.hash()).collect();
    assert_eq!(hashes, active[1..]);

    // And it carries on.
    let next = pay(&chain, ALICE, CAROL, 1, 1, 2);
    chain.submit_transaction(next.clone()).unwrap();
    let now = chain.tip().timestamp_ms + 1_000;
    let template = chain.template(address(MINER), now);
    assert_eq!(template.block.txs, vec![next]);
    let mut block = template.block;
    testkit::mine(&mut block.header, &template.target);
    chain.process_block(block, now).unwrap();
    assert_eq!(chain.tip().height, 5);
    drop(chain);

    let report = verify_store(dir.path(), &params()).unwrap();
    assert_eq!(report.height, 5);
    assert_eq!(report.transactions, 4);
    // Alice, Bob, Carol and the miner.
    assert_eq!(report.accounts, 4);
}

#[test]
fn verify_store_passes_on_a_built_chain() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let report = verify_store(dir.path(), &params()).unwrap();
    assert_eq!(report.height, 4);
    assert_eq!(report.transactions, 3);
    assert_eq!(report.accounts, 4);
}

#[test]
fn verify_store_notices_stored_state_that_differs_from_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    // Give Carol a coin the chain never paid her, behind the node's back.
    {
        const ACCOUNTS: redb::TableDefinition<&[u8], (u64, u64)> =
            redb::TableDefinition::new("accounts");
        let db = redb::Database::create(dir.path().join(DB_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn.open_table(ACCOUNTS).unwrap();
            let carol = address(CAROL);
            table.insert(carol.as_bytes().as_slice(), (301, 0)).unwrap();
        }
        txn.commit().unwrap();
    }
    match verify_store(dir.path(), &params()) {
        Err(VerifyError::StateMismatch {
            accounts_differing,
            tokens_differing,
        }) => {
            assert_eq!((accounts_differing, tokens_differing), (1, 0))
        }
        other => panic!("expected a state mismatch, got {other:?}"),
    }
}

#[test]
fn verify_store_refuses_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        verify_store(dir.path(), &params()),
        Err(VerifyError::Store(StoreError::Database(_)))
    ));
}

#[test]
fn data_directory_of_another_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = open(dir.path()).genesis_hash();
    let mut other = params();
    other.genesis_message = "another network".into();
    let other_genesis = other.genesis_block().unwrap().hash();
    assert_ne!(genesis, other_genesis);
    match Chain::open(dir.path(), other, MempoolLimits::default()) {
        Err(ChainError::Store(StoreError::WrongChain { stored, expected })) => {
            assert_eq!(stored, genesis);
            assert_eq!(expected, other_genesis);
        }
        Err(other) => panic!("expected WrongChain, got {other:?}"),
        Ok(_) => panic!("expected WrongChain, the chain opened"),
    }
}
