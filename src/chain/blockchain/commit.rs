//! One call, one commit: everything a call changes is collected in [`Changes`] and
//! written as one atomic store batch, so a crash leaves the previous commit whole.

use super::Chain;
use crate::chain::state::BlockUndo;
use crate::chain::store::{StoreBatch, StoreError};
use crate::chain::tx_index::TxPlace;
use crate::consensus::address::Address;
use crate::consensus::block::Block;
use crate::consensus::hash::{BlockHash, TokenId, TxId};
use std::collections::{HashMap, HashSet};

/// When a call's commit is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CommitMode {
    /// Before the call returns.
    Now,
    /// On a thread of its own, while the caller goes on (see [`Store::commit_behind`](crate::chain::store::Store::commit_behind)).
    Behind,
}

/// Everything one call changes, collected for a single commit.
#[derive(Default)]
pub(super) struct Changes {
    pub(super) batch: StoreBatch,
    pub(super) new_blocks: HashMap<BlockHash, Block>,
    pub(super) new_undo: HashMap<BlockHash, BlockUndo>,
    /// Transaction ids of the blocks stored by this call (from `check_body`), so that
    /// connecting them does not hash every transaction again.
    pub(super) new_txids: HashMap<BlockHash, Vec<TxId>>,
    pub(super) touched_accounts: HashSet<Address>,
    pub(super) touched_token_balances: HashSet<(Address, TokenId)>,
    pub(super) touched_tokens: HashSet<TokenId>,
    pub(super) touched_entries: HashSet<BlockHash>,
    /// Where each transaction of a block connected by this call is, or `None` once its
    /// block is disconnected again; the last word wins. (Disconnected blocks' entries
    /// go straight to `batch.tx_remove`.)
    pub(super) tx_locations: HashMap<TxId, Option<TxPlace>>,
    /// Lowest height whose active-chain entry changed.
    pub(super) active_changed_from: Option<u64>,
}

impl Changes {
    /// Notes what connecting or disconnecting the block of `undo` changed in the state.
    pub(super) fn touched_by(&mut self, undo: &BlockUndo) {
        self.touched_accounts
            .extend(undo.previous.iter().map(|(address, _)| *address));
        self.touched_token_balances.extend(
            undo.token_balances
                .iter()
                .map(|(address, token, _)| (*address, *token)),
        );
        self.touched_tokens.extend(undo.issued.iter().copied());
    }

    pub(super) fn active_changed_at(&mut self, height: u64) {
        self.active_changed_from = Some(
            self.active_changed_from
                .map_or(height, |from| from.min(height)),
        );
    }
}

impl Chain {
    /// Turns the collected changes into one batch and commits it.
    pub(super) fn finish(&mut self, changes: Changes) -> Result<(), StoreError> {
        self.finish_as(changes, CommitMode::Now)
    }

    /// [`Chain::finish`], with the commit made as `mode` says.
    pub(super) fn finish_as(
        &mut self,
        changes: Changes,
        mode: CommitMode,
    ) -> Result<(), StoreError> {
        let Changes {
            mut batch,
            touched_accounts,
            touched_token_balances,
            touched_tokens,
            touched_entries,
            tx_locations,
            active_changed_from,
            ..
        } = changes;
        for address in touched_accounts {
            batch.accounts.insert(address, self.state.account(&address));
        }
        for (address, token) in touched_token_balances {
            let balance = self.state.token_balance(&address, &token);
            batch.token_balances.insert((address, token), balance);
        }
        for token in touched_tokens {
            batch
                .tokens
                .insert(token, self.state.token(&token).cloned());
        }
        for hash in touched_entries {
            if let Some(entry) = self.index.get(&hash) {
                batch.index.push(entry.clone());
            }
        }
        batch.tx_add.extend(
            tx_locations
                .into_iter()
                .filter_map(|(txid, place)| Some((txid, place?))),
        );
        let tip = self.index.tip();
        if let Some(from) = active_changed_from {
            batch.active_truncate = Some(from - 1);
            for height in from..=tip.header.height {
                if let Some(hash) = self.index.active_at(height) {
                    batch.active_push.push((height, *hash));
                }
            }
            batch.tip = Some(tip.hash);
        }
        if batch.is_empty() {
            return Ok(());
        }
        match mode {
            CommitMode::Now => self.store.commit(&batch),
            CommitMode::Behind => self.store.commit_behind(batch),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Crash safety (the book's Protocol and rules › Storage): a commit that never happens
    //! (the process dies just before it) leaves the store at the previous commit, which
    //! reopens as a consistent chain that `verify_store` accepts and that carries on from
    //! there.

    use super::*;
    use crate::chain::mempool::MempoolLimits;
    use crate::chain::verify::verify_store;
    use crate::chain::{BlockOutcome, ChainError, TxLookup};
    use crate::consensus::amount::Amount;
    use crate::consensus::params::ChainParams;
    use crate::consensus::transaction::Transaction;
    use crate::testkit::{self, address, key};
    use std::path::Path;

    const ALICE: u64 = 1;
    const BOB: u64 = 2;
    const MINER: u64 = 9;

    fn params() -> ChainParams {
        testkit::params(&[(address(ALICE), 1_000)])
    }

    fn open(dir: &Path) -> Chain {
        Chain::open(dir, params(), MempoolLimits::default()).unwrap()
    }

    fn offer(chain: &mut Chain, block: &Block) -> Result<BlockOutcome, ChainError> {
        chain.process_block(block.clone(), block.header.timestamp_ms)
    }

    fn offer_with_crash(chain: &mut Chain, block: &Block) {
        chain.store.fail_next_commit.set(true);
        match offer(chain, block) {
            Err(ChainError::Store(StoreError::Database(reason))) => {
                assert_eq!(reason, "simulated crash before commit")
            }
            other => panic!("expected the simulated crash, got {other:?}"),
        }
    }

    fn pay(chain: &Chain, amount: u64, nonce: u64) -> Transaction {
        testkit::transfer(
            &key(ALICE),
            address(BOB),
            amount,
            1,
            nonce,
            &chain.genesis_hash(),
        )
    }

    #[test]
    fn crash_between_two_commits_reopens_at_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        testkit::extend(&mut chain, address(MINER), 2);
        let first = pay(&chain, 100, 0);
        let block = testkit::next_block(&chain, address(MINER), vec![first.clone()]);
        assert!(matches!(
            offer(&mut chain, &block).unwrap(),
            BlockOutcome::Accepted(_)
        ));
        let tip = chain.tip();
        let state = chain.state().clone();
        let active = chain.index().active().to_vec();

        let second = pay(&chain, 200, 1);
        let lost = testkit::next_block(&chain, address(MINER), vec![second.clone()]);
        offer_with_crash(&mut chain, &lost);
        drop(chain);

        let report = verify_store(dir.path(), &params()).unwrap();
        assert_eq!(report.height, 3);
        assert_eq!(report.transactions, 1);
        let mut chain = open(dir.path());
        assert_eq!(chain.tip(), tip);
        assert_eq!(chain.state(), &state);
        assert_eq!(chain.index().active(), active.as_slice());
        assert!(!chain.index().contains(&lost.hash()));
        assert_eq!(chain.block(&lost.hash()).unwrap(), None);
        assert!(chain.transaction(&second.id()).unwrap().is_none());
        assert!(matches!(
            chain.transaction(&first.id()).unwrap(),
            Some(TxLookup::InBlock { block_hash, .. }) if block_hash == tip.hash
        ));

        // It carries on: the lost block is simply offered again.
        assert!(matches!(
            offer(&mut chain, &lost).unwrap(),
            BlockOutcome::Accepted(_)
        ));
        assert_eq!(chain.tip().hash, lost.hash());
        assert_eq!(
            chain.state().account(&address(ALICE)).balance,
            Amount::new(1_000 - 302)
        );
        drop(chain);
        assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 4);
    }

    /// `count` blocks on the tip of `chain`, each paying BOB, built on a copy so that
    /// `chain` itself is left as it was.
    fn sync_batch(dir: &Path, chain: &Chain, count: u64) -> Vec<Block> {
        let builder_dir = tempfile::tempdir_in(dir).unwrap();
        let mut builder = open(builder_dir.path());
        for hash in &chain.index().active()[1..] {
            offer(&mut builder, &chain.block(hash).unwrap().unwrap()).unwrap();
        }
        let nonce = chain.state().account(&address(ALICE)).nonce;
        (0..count)
            .map(|i| {
                let tx = pay(&builder, 10, nonce + i);
                let block = testkit::next_block(&builder, address(MINER), vec![tx]);
                offer(&mut builder, &block).unwrap();
                block
            })
            .collect()
    }

    fn sync(chain: &mut Chain, blocks: &[Block]) -> Vec<Result<BlockOutcome, ChainError>> {
        let now = blocks.last().map_or(0, |block| block.header.timestamp_ms);
        chain.process_sync_batch(blocks.to_vec(), now, None)
    }

    #[test]
    fn a_sync_batch_committed_behind_is_read_back_and_kept_on_closing() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let first = sync_batch(dir.path(), &chain, 3);
        assert!(sync(&mut chain, &first).iter().all(Result::is_ok));
        // Read straight after: the read waits for the commit behind.
        let last = first.last().unwrap();
        assert_eq!(chain.block(&last.hash()).unwrap().as_ref(), Some(last));
        let second = sync_batch(dir.path(), &chain, 2);
        assert!(sync(&mut chain, &second).iter().all(Result::is_ok));
        let tip = chain.tip();
        let state = chain.state().clone();
        assert!(chain.commit_behind_pending());
        // Closed at once: the commit of the second batch is finished, not lost.
        drop(chain);

        assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 5);
        let chain = open(dir.path());
        assert_eq!(chain.tip(), tip);
        assert_eq!(chain.state(), &state);
        assert!(!chain.commit_behind_pending());
    }

    #[test]
    fn a_failed_commit_behind_fails_what_follows_and_reopens_at_the_batch_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let first = sync_batch(dir.path(), &chain, 2);
        assert!(sync(&mut chain, &first).iter().all(Result::is_ok));
        let tip = chain.tip();
        let state = chain.state().clone();

        let lost = sync_batch(dir.path(), &chain, 2);
        chain.store.fail_next_commit.set(true);
        // The batch is applied in memory and its commit started; it fails behind.
        assert!(sync(&mut chain, &lost).iter().all(Result::is_ok));
        let crash = |error: &StoreError| matches!(error, StoreError::Database(reason) if reason == "simulated crash before commit");
        // Reported by the check even though nothing else uses the store ...
        let mut checked = chain.check_commit_behind();
        while checked.is_ok() && chain.commit_behind_pending() {
            std::thread::yield_now();
            checked = chain.check_commit_behind();
        }
        assert!(checked.as_ref().is_err_and(crash), "{checked:?}");
        // ... and by every later use, which writes nothing.
        assert!(chain.block(&lost[0].hash()).as_ref().is_err_and(crash));
        let next = testkit::next_block(&chain, address(MINER), Vec::new());
        assert!(matches!(
            offer(&mut chain, &next),
            Err(ChainError::Store(error)) if crash(&error)
        ));
        drop(chain);

        assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 2);
        let mut chain = open(dir.path());
        assert_eq!(chain.tip(), tip);
        assert_eq!(chain.state(), &state);
        // It carries on: the lost batch is simply synced again.
        assert!(sync(&mut chain, &lost).iter().all(Result::is_ok));
        assert_eq!(chain.tip().hash, lost[1].hash());
        drop(chain);
        assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 4);
    }

    #[test]
    fn crash_during_a_reorg_reopens_on_the_old_branch() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let common = testkit::extend(&mut chain, address(MINER), 1)[0];
        let base = chain.tip().timestamp_ms;
        let spend = pay(&chain, 100, 0);
        let a1 = testkit::block_on(&chain, &common, address(MINER), vec![spend], base + 1_000);
        offer(&mut chain, &a1).unwrap();
        let tip = chain.tip();
        let state = chain.state().clone();

        // Branch B: its first block is committed as a side branch; the block that makes
        // it heavier crashes before its reorg commits.
        let b1 = testkit::block_on(&chain, &common, address(BOB), Vec::new(), base + 1_100);
        offer(&mut chain, &b1).unwrap();
        assert_eq!(chain.tip(), tip);
        let b2 = testkit::block_on(&chain, &b1.hash(), address(BOB), Vec::new(), base + 2_100);
        offer_with_crash(&mut chain, &b2);
        drop(chain);

        assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 2);
        let mut chain = open(dir.path());
        assert_eq!(chain.tip(), tip);
        assert_eq!(chain.state(), &state);
        assert!(chain.index().contains(&b1.hash()));
        assert!(!chain.index().contains(&b2.hash()));

        // Offered again, the reorg happens and is stored.
        match offer(&mut chain, &b2).unwrap() {
            BlockOutcome::Accepted(accepted) => {
                let change = accepted.tip_change.unwrap();
                assert_eq!(change.disconnected, vec![a1.hash()]);
                assert_eq!(change.connected, vec![b1.hash(), b2.hash()]);
            }
            other => panic!("expected the reorg, got {other:?}"),
        }
        assert_eq!(
            chain.state().account(&address(ALICE)).balance,
            Amount::new(1_000)
        );
        let state = chain.state().clone();
        drop(chain);
        assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 3);
        assert_eq!(open(dir.path()).state(), &state);
    }
}
