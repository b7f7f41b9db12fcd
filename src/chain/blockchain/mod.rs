//! [`Chain`]: the node's view of the block chain, and the only writer of chain data.
//!
//! Receiving a block runs, in order: the header rules (cheap, so spam costs little), the
//! stateless body rules (merkle root, sizes, signatures), storing it in the block tree,
//! then fork choice. If the best tip changed, blocks are disconnected to the fork point
//! and the new branch connected with full state validation; a block that fails then is
//! marked invalid (with its descendants) and fork choice runs again. Orphans waiting on
//! any newly stored block follow. All of it lands in one atomic store commit.
//!
//! One `impl Chain` is split by concern, one file each:
//! - `admission`: transactions offered to the mempool;
//! - `template`: the next block to mine;
//! - `process`: blocks offered by the miner or a peer, up to storing them in the tree;
//! - `reorg`: fork choice, connecting and disconnecting blocks;
//! - `commit`: collecting one call's changes into a single atomic store commit;
//! - `query`: read-only views for the node and its clients.

mod admission;
mod commit;
mod process;
mod query;
mod reorg;
mod template;

pub use process::{Accepted, BlockOutcome};
pub use query::{BlockPlace, TipInfo, TxEntry, TxLookup};
pub use reorg::TipChange;
pub use template::BlockTemplate;

use crate::chain::index::{BlockIndex, BlockStatus, IndexEntry};
use crate::chain::mempool::{Mempool, MempoolLimits};
use crate::chain::orphans::{OrphanLimits, OrphanPool};
use crate::chain::rejected::{RejectedBlocks, REJECTED_CAPACITY};
use crate::chain::state::State;
use crate::chain::store::{encode, Store, StoreBatch, StoreError, DB_FILE};
use crate::chain::work_margin::WorkMargin;
use crate::consensus::block::Block;
use crate::consensus::error::BlockError;
use crate::consensus::hash::BlockHash;
use crate::consensus::params::ChainParams;
use crate::consensus::target::Work;
use commit::Changes;
use std::fmt;
use std::path::Path;

/// What went wrong while processing: the input was bad, or the store failed. A store
/// failure leaves memory ahead of disk, so the node must stop and reopen.
#[derive(Debug)]
pub enum ChainError {
    Block(BlockError),
    Store(StoreError),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Block(error) => error.fmt(f),
            ChainError::Store(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ChainError {}

impl From<StoreError> for ChainError {
    fn from(error: StoreError) -> Self {
        ChainError::Store(error)
    }
}

impl From<BlockError> for ChainError {
    fn from(error: BlockError) -> Self {
        ChainError::Block(error)
    }
}

/// Blocks found invalid, with the reason.
type Rejected = Vec<(BlockHash, BlockError)>;

/// The block chain: block tree, state, mempool and store.
pub struct Chain {
    params: ChainParams,
    genesis: BlockHash,
    store: Store,
    index: BlockIndex,
    state: State,
    mempool: Mempool,
    orphans: OrphanPool,
    rejected: RejectedBlocks,
    work_margin: WorkMargin,
}

impl Chain {
    /// Opens the chain stored in `dir`, creating it from the genesis block if empty.
    /// Reopening reads the index and state back; nothing is replayed. If a crash left a
    /// stored branch with more work than the tip, it is connected now.
    ///
    /// If the database did not exist and could not be created whole (no space, say),
    /// nothing is left behind: a half-made file would later read as a corrupt chain.
    pub fn open(
        dir: &Path,
        params: ChainParams,
        limits: MempoolLimits,
    ) -> Result<Chain, ChainError> {
        let db_path = dir.join(DB_FILE);
        let dir_existed = dir.exists();
        let db_existed = db_path.exists();
        let opened = Self::open_or_create(dir, params, limits);
        if opened.is_err() && !db_existed {
            let _ = std::fs::remove_file(&db_path);
            if !dir_existed {
                // Only if empty: never anything the user put there.
                let _ = std::fs::remove_dir(dir);
            }
        }
        opened
    }

    /// A new chain kept in memory only (simulations of many nodes).
    pub fn open_in_memory(params: ChainParams, limits: MempoolLimits) -> Result<Chain, ChainError> {
        Chain::with_store(Store::open_in_memory(), params, limits)
    }

    fn open_or_create(
        dir: &Path,
        params: ChainParams,
        limits: MempoolLimits,
    ) -> Result<Chain, ChainError> {
        let genesis = genesis_of(&params)?.hash();
        let store = Store::open(dir, &genesis)?;
        Chain::with_store(store, params, limits)
    }

    fn with_store(
        store: Store,
        params: ChainParams,
        limits: MempoolLimits,
    ) -> Result<Chain, ChainError> {
        let genesis_block = genesis_of(&params)?;
        let genesis = genesis_block.hash();
        let mut chain = if store.is_initialised()? {
            let loaded = store.load()?;
            Chain {
                index: BlockIndex::restore(loaded.entries, loaded.active),
                state: State::from_accounts(loaded.accounts)
                    .with_tokens(loaded.tokens, loaded.token_balances),
                params,
                genesis,
                store,
                mempool: Mempool::new(limits),
                orphans: OrphanPool::new(OrphanLimits::default()),
                rejected: RejectedBlocks::new(REJECTED_CAPACITY),
                work_margin: WorkMargin::default(),
            }
        } else {
            let entry = IndexEntry {
                header: genesis_block.header,
                hash: genesis,
                work: genesis_block
                    .header
                    .target
                    .to_target()
                    .map(|target| target.work())
                    .unwrap_or(Work::ZERO),
                status: BlockStatus::Valid,
                seq: 0,
            };
            let state = State::genesis(&params);
            let mut batch = StoreBatch::default();
            batch.blocks.push((genesis, encode(&genesis_block)?));
            batch.index.push(entry.clone());
            batch.accounts = state
                .iter()
                .map(|(address, account)| (*address, *account))
                .collect();
            batch.genesis = Some(genesis);
            batch.active_push.push((0, genesis));
            batch.tip = Some(genesis);
            store.commit(&batch)?;
            Chain {
                index: BlockIndex::new(entry),
                state,
                params,
                genesis,
                store,
                mempool: Mempool::new(limits),
                orphans: OrphanPool::new(OrphanLimits::default()),
                rejected: RejectedBlocks::new(REJECTED_CAPACITY),
                work_margin: WorkMargin::default(),
            }
        };
        let mut changes = Changes::default();
        chain.activate_best_chain(&mut changes)?;
        chain.finish(changes)?;
        Ok(chain)
    }

    /// Trades per-commit fsync for speed (see [`Store::set_sync_each_commit`]).
    pub fn set_sync_each_commit(&mut self, sync: bool) {
        self.store.set_sync_each_commit(sync);
    }

    /// Whether a sync batch's commit may still be running behind (see
    /// [`Chain::process_sync_batch`]).
    pub fn commit_behind_pending(&self) -> bool {
        self.store.commit_behind_pending()
    }

    /// Fails if a sync batch's commit behind failed; does not wait for one still running.
    pub fn check_commit_behind(&self) -> Result<(), StoreError> {
        self.store.check_behind()
    }
}

/// The genesis block of `params`, or the store-side error the genesis block is stored
/// under: it is the store's first record and names the network the store belongs to.
fn genesis_of(params: &ChainParams) -> Result<Block, StoreError> {
    params
        .genesis_block()
        .map_err(|error| StoreError::Encode(error.to_string()))
}
