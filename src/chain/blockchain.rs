//! [`Chain`]: the node's view of the block chain, and the only writer of chain data.
//!
//! Receiving a block runs, in order: the header rules (cheap, so spam costs little), the
//! stateless body rules (merkle root, sizes, signatures), storing it in the block tree,
//! then fork choice. If the best tip changed, blocks are disconnected to the fork point
//! and the new branch connected with full state validation; a block that fails then is
//! marked invalid (with its descendants) and fork choice runs again. Orphans waiting on
//! any newly stored block follow. All of it lands in one atomic store commit.

use super::index::{BlockIndex, BlockStatus, IndexEntry};
use super::mempool::{Mempool, MempoolLimits};
use super::orphans::OrphanPool;
use super::state::{Account, BlockUndo, State};
use super::store::{Store, StoreBatch, StoreError};
use crate::consensus::address::Address;
use crate::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use crate::consensus::difficulty::{is_retarget_height, MAX_RETARGET_FACTOR};
use crate::consensus::error::{BlockError, TxError};
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::merkle::{self, MerkleProof};
use crate::consensus::params::ChainParams;
use crate::consensus::signatures::{verify_bodies, BodyVerified};
use crate::consensus::target::{Target, Work};
use crate::consensus::transaction::{Reward, Transaction};
use crate::consensus::validation::{check_body, check_header, HeaderContext, VerifiedTx};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

/// Most blocks held while waiting for their parent.
pub const ORPHAN_POOL_CAPACITY: usize = 512;

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

/// The result of offering a block to the chain.
#[derive(Debug)]
pub enum BlockOutcome {
    /// Already in the block tree or the orphan pool.
    AlreadyKnown,
    /// Parent unknown: held as an orphan; `missing` is the first ancestor to fetch.
    Orphan { missing: BlockHash },
    /// Stored in the block tree.
    Accepted(Accepted),
}

/// What storing a block changed.
#[derive(Debug, Default)]
pub struct Accepted {
    /// Blocks newly stored: the offered one, then orphans it let in.
    pub stored: Vec<BlockHash>,
    /// Set when the best tip moved.
    pub tip_change: Option<TipChange>,
    /// Blocks found invalid along the way (resolved orphans, or a branch that failed to
    /// connect), with the reason.
    pub rejected: Rejected,
}

/// How the active chain moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TipChange {
    pub old_tip: BlockHash,
    pub new_tip: BlockHash,
    pub height: u64,
    /// Blocks that left the active chain, old tip first. Non-empty means a reorg.
    pub disconnected: Vec<BlockHash>,
    /// Blocks that joined the active chain, lowest first.
    pub connected: Vec<BlockHash>,
    /// Transactions of disconnected blocks that went back to the mempool.
    pub returned_to_mempool: usize,
}

/// A summary of the active chain's tip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TipInfo {
    pub height: u64,
    pub hash: BlockHash,
    pub work: Work,
    pub target: Target,
    pub timestamp_ms: u64,
}

impl TipInfo {
    /// Difficulty shown to people: leading zero bits the next hash needs.
    pub fn difficulty_bits(&self) -> u32 {
        self.target.leading_zero_bits()
    }
}

/// A block ready for mining: find a nonce so that the header's hash meets `target`.
#[derive(Clone, Debug)]
pub struct BlockTemplate {
    pub block: Block,
    pub target: Target,
}

/// Where a transaction is.
#[derive(Clone, Debug)]
pub enum TxLookup {
    /// In an active-chain block, with the proof that it is.
    InBlock {
        entry: TxEntry,
        header: BlockHeader,
        block_hash: BlockHash,
        proof: MerkleProof,
    },
    /// Waiting in the mempool.
    Pending(Transaction),
}

/// A leaf of a block: the reward record or a transaction.
#[derive(Clone, Debug)]
pub enum TxEntry {
    Reward(Reward),
    Transfer(Transaction),
}

/// Blocks found invalid, with the reason.
type Rejected = Vec<(BlockHash, BlockError)>;

/// Everything one call changes, collected for a single commit.
#[derive(Default)]
struct Changes {
    batch: StoreBatch,
    new_blocks: HashMap<BlockHash, Block>,
    new_undo: HashMap<BlockHash, BlockUndo>,
    /// Transaction ids of the blocks stored by this call (from `check_body`), so that
    /// connecting them does not hash every transaction again.
    new_txids: HashMap<BlockHash, Vec<TxId>>,
    touched_accounts: HashSet<Address>,
    touched_entries: HashSet<BlockHash>,
    tx_locations: HashMap<TxId, Option<(BlockHash, u32)>>,
    /// Lowest height whose active-chain entry changed.
    active_changed_from: Option<u64>,
}

impl Changes {
    fn active_changed_at(&mut self, height: u64) {
        self.active_changed_from = Some(
            self.active_changed_from
                .map_or(height, |from| from.min(height)),
        );
    }
}

/// The block chain: block tree, state, mempool and store.
pub struct Chain {
    params: ChainParams,
    genesis: BlockHash,
    store: Store,
    index: BlockIndex,
    state: State,
    mempool: Mempool,
    orphans: OrphanPool,
}

impl Chain {
    /// Opens the chain stored in `dir`, creating it from the genesis block if empty.
    /// Reopening reads the index and state back; nothing is replayed. If a crash left a
    /// stored branch with more work than the tip, it is connected now.
    pub fn open(
        dir: &Path,
        params: ChainParams,
        limits: MempoolLimits,
    ) -> Result<Chain, ChainError> {
        let genesis_block = params.genesis_block();
        let genesis = genesis_block.hash();
        let store = Store::open(dir, &genesis)?;
        let mut chain = if store.is_initialised()? {
            let loaded = store.load()?;
            Chain {
                index: BlockIndex::restore(loaded.entries, loaded.active),
                state: State::from_accounts(loaded.accounts),
                params,
                genesis,
                store,
                mempool: Mempool::new(limits),
                orphans: OrphanPool::new(ORPHAN_POOL_CAPACITY),
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
            batch.blocks.push((genesis, encode_block(&genesis_block)));
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
                orphans: OrphanPool::new(ORPHAN_POOL_CAPACITY),
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

    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    pub fn genesis_hash(&self) -> BlockHash {
        self.genesis
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    pub fn index(&self) -> &BlockIndex {
        &self.index
    }

    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// The active chain's tip.
    pub fn tip(&self) -> TipInfo {
        tip_info(self.index.tip())
    }

    /// An account as of the tip, and the nonce its next transaction should carry counting
    /// transactions waiting in the mempool.
    pub fn account(&self, address: &Address) -> (Account, u64) {
        (
            self.state.account(address),
            self.mempool.next_nonce(address, &self.state),
        )
    }

    /// Offers a transaction to the mempool.
    pub fn submit_transaction(&mut self, tx: Transaction) -> Result<TxId, TxError> {
        self.mempool
            .add(tx, &self.state, &self.params, &self.genesis)
    }

    /// [`Chain::submit_transaction`] for a transaction verified on another thread.
    pub fn submit_verified(&mut self, tx: VerifiedTx) -> Result<TxId, TxError> {
        self.mempool
            .add_verified(tx, &self.state, &self.params, &self.genesis)
    }

    /// Whether the mempool would admit `tx` now, signature aside (checked first, so that
    /// duplicates and stale transactions cost no signature verification).
    pub fn precheck_transaction(&self, tx: &Transaction) -> Result<TxId, TxError> {
        self.mempool.check(tx, &self.state, &self.params)
    }

    /// A block on top of the tip paying `miner`, filled from the mempool.
    pub fn template(&self, miner: Address, now_ms: u64) -> BlockTemplate {
        let tip = self.index.tip();
        let height = tip.header.height + 1;
        let compact = self
            .index
            .next_target(tip, &self.params)
            .unwrap_or(tip.header.target);
        let target = compact.to_target().unwrap_or(Target::MAX);
        let timestamp_ms = now_ms.max(self.index.median_time_past(&tip.hash).saturating_add(1));
        let txs = self.mempool.select(
            &self.state,
            self.params.max_block_txs as usize,
            self.body_budget(),
        );
        let fees = txs.iter().fold(0u64, |sum, tx| sum.saturating_add(tx.fee));
        let reward = Reward {
            miner,
            amount: self.params.block_reward.saturating_add(fees),
            height,
        };
        let mut block = Block {
            header: BlockHeader {
                version: BLOCK_VERSION,
                height,
                prev: tip.hash,
                merkle_root: Default::default(),
                timestamp_ms,
                target: compact,
                nonce: 0,
            },
            reward,
            txs,
        };
        block.header.merkle_root = block.compute_merkle_root();
        BlockTemplate { block, target }
    }

    /// Bytes of transactions that fit beside the header and reward record.
    fn body_budget(&self) -> usize {
        let empty = Block {
            header: self.index.tip().header,
            reward: Reward {
                miner: Address::from_bytes([0; 32]),
                amount: 0,
                height: 0,
            },
            txs: Vec::new(),
        };
        (self.params.max_block_bytes as usize).saturating_sub(empty.encoded_size())
    }

    /// Offers a block (mined here, or received from a peer).
    pub fn process_block(&mut self, block: Block, now_ms: u64) -> Result<BlockOutcome, ChainError> {
        let mut changes = Changes::default();
        let outcome = self.process_into(block, now_ms, &mut changes, None);
        if let Err(ChainError::Store(_)) = outcome {
            // Memory is ahead of disk: the caller must stop; nothing more is written.
            return outcome;
        }
        self.finish(changes)?;
        outcome
    }

    /// Offers blocks in order (a sync batch), as [`Chain::process_block`] would one by one,
    /// but with ONE store commit for the whole batch instead of one (with its fsync) per
    /// block, and with the signatures of all the batch's bodies verified together over
    /// every core. Processing stops at the first error, which ends the returned list; what
    /// came before it (including blocks that error marked invalid) is committed. A failed
    /// commit is reported as a store error at the end of the list.
    pub fn process_blocks(
        &mut self,
        blocks: Vec<Block>,
        now_ms: u64,
    ) -> Vec<Result<BlockOutcome, ChainError>> {
        let mut changes = Changes::default();
        let mut outcomes = Vec::with_capacity(blocks.len());
        let verified = self.verify_batch_signatures(&blocks);
        for (block, signatures) in blocks.into_iter().zip(verified) {
            let outcome = self.process_into(block, now_ms, &mut changes, signatures);
            let stop = outcome.is_err();
            let store_failed = matches!(outcome, Err(ChainError::Store(_)));
            outcomes.push(outcome);
            if store_failed {
                return outcomes;
            }
            if stop {
                break;
            }
        }
        if let Err(error) = self.finish(changes) {
            outcomes.push(Err(error.into()));
        }
        outcomes
    }

    /// Verifies the signatures of a batch's bodies in one go (one entry per block; see
    /// [`verify_bodies`]), before the blocks' own checks. So that a peer cannot make us
    /// verify signatures in blocks that took no work, this covers only the leading run of
    /// blocks that extend one another from a block we hold and carry proof of work at a
    /// target no easier than consensus could allow there: the first block's expected
    /// target, eased by at most the retarget clamp (×4) at each retarget height after it.
    /// The rest of the batch is left to the block-by-block checks.
    fn verify_batch_signatures(&self, blocks: &[Block]) -> Vec<Option<BodyVerified>> {
        let mut bodies = Vec::new();
        let first_limit = blocks
            .first()
            .and_then(|first| self.index.get(&first.header.prev))
            .and_then(|parent| self.index.next_target(parent, &self.params).ok())
            .and_then(|compact| compact.to_target().ok());
        if let (true, Some(mut limit)) = (blocks.len() > 1, first_limit) {
            let mut previous: Option<BlockHash> = None;
            for block in blocks {
                let hash = block.hash();
                if let Some(previous) = previous {
                    if block.header.prev != previous {
                        break;
                    }
                    if is_retarget_height(self.params.retarget_interval, block.header.height) {
                        match limit.scale(MAX_RETARGET_FACTOR, 1) {
                            Ok(eased) => limit = eased.min(self.params.pow_limit()),
                            Err(_) => break,
                        }
                    }
                }
                let worked = block
                    .header
                    .target
                    .to_target()
                    .is_ok_and(|target| target <= limit && target.is_met_by(hash.as_bytes()));
                if !worked {
                    break;
                }
                previous = Some(hash);
                bodies.push(block.txs.as_slice());
            }
        }
        let mut verified = verify_bodies(&bodies, &self.genesis);
        verified.resize_with(blocks.len(), || None);
        verified
    }

    /// [`Chain::process_block`] without the commit: what it changes goes into `changes`.
    fn process_into(
        &mut self,
        block: Block,
        now_ms: u64,
        changes: &mut Changes,
        signatures: Option<BodyVerified>,
    ) -> Result<BlockOutcome, ChainError> {
        let hash = block.hash();
        if self.orphans.contains(&hash) {
            return Ok(BlockOutcome::AlreadyKnown);
        }
        if let Some(entry) = self.index.get(&hash) {
            if entry.status == BlockStatus::Invalid {
                return Err(BlockError::DescendsFromInvalid { ancestor: hash }.into());
            }
            return Ok(BlockOutcome::AlreadyKnown);
        }
        if !self.index.contains(&block.header.prev) {
            self.check_orphan_work(&block, hash)?;
            self.orphans.insert(hash, block);
            let missing = self.orphans.missing_root(&hash).unwrap_or(hash);
            return Ok(BlockOutcome::Orphan { missing });
        }
        self.accept(block, hash, now_ms, changes, signatures)?;
        let mut accepted = Accepted {
            stored: vec![hash],
            ..Accepted::default()
        };
        self.accept_orphans_of(hash, now_ms, changes, &mut accepted);
        let (tip_change, rejected) = self.activate_best_chain(changes)?;
        accepted.tip_change = tip_change;
        accepted.rejected.extend(rejected);
        if let Some((_, error)) = accepted.rejected.iter().find(|(h, _)| *h == hash) {
            return Err(error.clone().into());
        }
        Ok(BlockOutcome::Accepted(accepted))
    }

    /// An orphan cannot be fully checked, but its proof of work can: without it, anyone
    /// could fill the pool for free.
    fn check_orphan_work(&self, block: &Block, hash: BlockHash) -> Result<(), BlockError> {
        let target = block
            .header
            .target
            .to_target()
            .map_err(BlockError::InvalidTarget)?;
        if target > self.params.pow_limit() || !target.is_met_by(hash.as_bytes()) {
            return Err(BlockError::InsufficientProofOfWork { hash });
        }
        Ok(())
    }

    /// Checks a block whose parent is in the tree and adds it to the tree.
    fn accept(
        &mut self,
        block: Block,
        hash: BlockHash,
        now_ms: u64,
        changes: &mut Changes,
        signatures: Option<BodyVerified>,
    ) -> Result<(), BlockError> {
        let parent = self
            .index
            .get(&block.header.prev)
            .ok_or(BlockError::UnknownParent {
                parent: block.header.prev,
            })?;
        if parent.status == BlockStatus::Invalid {
            return Err(BlockError::DescendsFromInvalid {
                ancestor: parent.hash,
            });
        }
        let context = HeaderContext {
            parent_height: parent.header.height,
            expected_target: self
                .index
                .next_target(parent, &self.params)
                .map_err(BlockError::InvalidTarget)?,
            median_time_past: self.index.median_time_past(&parent.hash),
            now_ms,
        };
        check_header(&block.header, &context, &self.params)?;
        let txids = check_body(&block, &self.params, &self.genesis, signatures)?;
        let block_work = block
            .header
            .target
            .to_target()
            .map_err(BlockError::InvalidTarget)?
            .work();
        let entry = IndexEntry {
            header: block.header,
            hash,
            work: parent.work.checked_add(block_work).unwrap_or(parent.work),
            status: BlockStatus::Unchecked,
            seq: self.index.take_seq(),
        };
        self.index.insert(entry);
        changes.touched_entries.insert(hash);
        changes.batch.blocks.push((hash, encode_block(&block)));
        changes.new_blocks.insert(hash, block);
        changes.new_txids.insert(hash, txids);
        Ok(())
    }

    /// Stores every orphan that descends from `parent`, breadth first.
    fn accept_orphans_of(
        &mut self,
        parent: BlockHash,
        now_ms: u64,
        changes: &mut Changes,
        accepted: &mut Accepted,
    ) {
        let mut parents = vec![parent];
        while let Some(parent) = parents.pop() {
            for child in self.orphans.take_children(&parent) {
                let hash = child.hash();
                match self.accept(child, hash, now_ms, changes, None) {
                    Ok(()) => {
                        accepted.stored.push(hash);
                        parents.push(hash);
                    }
                    Err(error) => accepted.rejected.push((hash, error)),
                }
            }
        }
    }

    fn load_block(&self, hash: &BlockHash, changes: &Changes) -> Result<Block, StoreError> {
        if let Some(block) = changes.new_blocks.get(hash) {
            return Ok(block.clone());
        }
        self.store
            .block(hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("block {hash} is indexed but not stored")))
    }

    /// Moves the active chain to the best valid tip.
    fn activate_best_chain(
        &mut self,
        changes: &mut Changes,
    ) -> Result<(Option<TipChange>, Rejected), StoreError> {
        let old_tip = self.index.tip().hash;
        let mut rejected = Vec::new();
        let mut disconnected_blocks: HashMap<BlockHash, Block> = HashMap::new();
        loop {
            let best = self.index.best_candidate().hash;
            if best == self.index.tip().hash {
                break;
            }
            let (fork_height, path) = self.index.branch_to(&best).ok_or_else(|| {
                StoreError::Corrupt(format!("block {best} has no path to the chain"))
            })?;
            while self.index.tip().header.height > fork_height {
                let (hash, block) = self.disconnect_tip(changes)?;
                disconnected_blocks.insert(hash, block);
            }
            for hash in path {
                let block = self.load_block(&hash, changes)?;
                match self.state.apply_block(&block, &self.params) {
                    Ok(undo) => self.record_connect(hash, &block, undo, changes),
                    Err(error) => {
                        for invalid in self.index.mark_invalid(&hash) {
                            changes.touched_entries.insert(invalid);
                        }
                        rejected.push((hash, error));
                        break;
                    }
                }
            }
        }
        let new_tip = self.index.tip().hash;
        if new_tip == old_tip {
            return Ok((None, rejected));
        }
        // Blocks of the old chain that are not on the new one, old tip first.
        let mut disconnected = Vec::new();
        let mut cursor = old_tip;
        while !self.index.is_active(&cursor) {
            disconnected.push(cursor);
            cursor = self
                .index
                .get(&cursor)
                .map_or(cursor, |entry| entry.header.prev);
        }
        let fork_height = self
            .index
            .get(&cursor)
            .map_or(0, |entry| entry.header.height);
        let connected = self.index.active()[fork_height as usize + 1..].to_vec();
        let mut returned = Vec::new();
        for hash in disconnected.iter().rev() {
            let block = match disconnected_blocks.remove(hash) {
                Some(block) => block,
                None => self.load_block(hash, changes)?,
            };
            returned.extend(block.txs);
        }
        // Returned transactions go back first: pending ones whose nonces follow theirs
        // are valid again only once they are in.
        let returned_to_mempool = self.mempool.readd(returned, &self.state, &self.params);
        self.mempool.revalidate(&self.state);
        Ok((
            Some(TipChange {
                old_tip,
                new_tip,
                height: self.index.tip().header.height,
                disconnected,
                connected,
                returned_to_mempool,
            }),
            rejected,
        ))
    }

    fn record_connect(
        &mut self,
        hash: BlockHash,
        block: &Block,
        undo: BlockUndo,
        changes: &mut Changes,
    ) {
        changes
            .touched_accounts
            .extend(undo.previous.iter().map(|(address, _)| *address));
        changes.batch.undo.push((hash, undo.clone()));
        changes.new_undo.insert(hash, undo);
        self.index.set_status(&hash, BlockStatus::Valid);
        changes.touched_entries.insert(hash);
        let leaves: Vec<TxId> = match changes.new_txids.remove(&hash) {
            Some(txids) => std::iter::once(block.reward.id()).chain(txids).collect(),
            None => block.leaf_ids(),
        };
        for (position, txid) in leaves.into_iter().enumerate() {
            changes
                .tx_locations
                .insert(txid, Some((hash, position as u32)));
        }
        self.index.push_active(hash);
        changes.active_changed_at(block.header.height);
    }

    fn disconnect_tip(&mut self, changes: &mut Changes) -> Result<(BlockHash, Block), StoreError> {
        let tip = self.index.tip().clone();
        let undo = match changes.new_undo.get(&tip.hash) {
            Some(undo) => undo.clone(),
            None => self
                .store
                .undo(&tip.hash)?
                .ok_or_else(|| StoreError::Corrupt(format!("no undo data for {}", tip.hash)))?,
        };
        let block = self.load_block(&tip.hash, changes)?;
        self.state.undo_block(&undo);
        changes
            .touched_accounts
            .extend(undo.previous.iter().map(|(address, _)| *address));
        for txid in block.leaf_ids() {
            changes.tx_locations.insert(txid, None);
        }
        self.index.truncate_active(tip.header.height - 1);
        changes.active_changed_at(tip.header.height);
        Ok((tip.hash, block))
    }

    /// Turns the collected changes into one batch and commits it.
    fn finish(&mut self, changes: Changes) -> Result<(), StoreError> {
        let Changes {
            mut batch,
            touched_accounts,
            touched_entries,
            tx_locations,
            active_changed_from,
            ..
        } = changes;
        for address in touched_accounts {
            batch.accounts.insert(address, self.state.account(&address));
        }
        for hash in touched_entries {
            if let Some(entry) = self.index.get(&hash) {
                batch.index.push(entry.clone());
            }
        }
        for (txid, location) in tx_locations {
            match location {
                Some((hash, position)) => batch.tx_add.push((txid, hash, position)),
                None => batch.tx_remove.push(txid),
            }
        }
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
        self.store.commit(&batch)
    }

    /// The active-chain block at `height`.
    pub fn block_at(&self, height: u64) -> Result<Option<Block>, StoreError> {
        match self.index.active_at(height) {
            Some(hash) => self.store.block(hash),
            None => Ok(None),
        }
    }

    /// Any stored block by hash.
    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        if !self.index.contains(hash) {
            return Ok(None);
        }
        self.store.block(hash)
    }

    /// Active-chain blocks after the last locator hash we share, at most `max_count`
    /// blocks and about `max_bytes` bytes (always at least one block if any follow).
    pub fn blocks_after(
        &self,
        locator: &[BlockHash],
        max_count: usize,
        max_bytes: usize,
    ) -> Result<Vec<Block>, StoreError> {
        let start = self.index.fork_height(locator) + 1;
        let mut blocks = Vec::new();
        let mut bytes = 0;
        let mut height = start;
        while blocks.len() < max_count {
            let Some(block) = self.block_at(height)? else {
                break;
            };
            bytes += block.encoded_size();
            if !blocks.is_empty() && bytes > max_bytes {
                break;
            }
            blocks.push(block);
            height += 1;
        }
        Ok(blocks)
    }

    /// A transaction (or reward record) by id: in an active-chain block with its merkle
    /// proof, or pending in the mempool.
    pub fn transaction(&self, txid: &TxId) -> Result<Option<TxLookup>, StoreError> {
        if let Some(tx) = self.mempool.get(txid) {
            return Ok(Some(TxLookup::Pending(tx.clone())));
        }
        let Some((block_hash, position)) = self.store.tx_location(txid)? else {
            return Ok(None);
        };
        let block = self
            .store
            .block(&block_hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("indexed block {block_hash} missing")))?;
        let leaves = block.leaf_ids();
        let proof = merkle::prove(&leaves, position as usize)
            .ok_or_else(|| StoreError::Corrupt(format!("bad position for {txid}")))?;
        let entry = match position {
            0 => TxEntry::Reward(block.reward.clone()),
            n => TxEntry::Transfer(
                block
                    .txs
                    .get(n as usize - 1)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt(format!("bad position for {txid}")))?,
            ),
        };
        Ok(Some(TxLookup::InBlock {
            entry,
            header: block.header,
            block_hash,
            proof,
        }))
    }

    /// A locator for our active chain, to ask a peer for the blocks we lack.
    pub fn locator(&self) -> Vec<BlockHash> {
        self.index.locator()
    }
}

fn tip_info(entry: &IndexEntry) -> TipInfo {
    TipInfo {
        height: entry.header.height,
        hash: entry.hash,
        work: entry.work,
        target: entry.header.target.to_target().unwrap_or(Target::MAX),
        timestamp_ms: entry.header.timestamp_ms,
    }
}

fn encode_block(block: &Block) -> Vec<u8> {
    // Serializing a block to CBOR cannot fail: no maps with non-string keys, no floats.
    serde_cbor::to_vec(block).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    //! Crash safety (SPEC §4): a commit that never happens (the process dies just before
    //! it) leaves the store at the previous commit, which reopens as a consistent chain
    //! that `verify_store` accepts and that carries on from there.

    use super::*;
    use crate::chain::verify::verify_store;
    use crate::testkit::{self, address, key};

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
        assert_eq!(chain.state().account(&address(ALICE)).balance, 1_000 - 302);
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
        assert_eq!(chain.state().account(&address(ALICE)).balance, 1_000);
        let state = chain.state().clone();
        drop(chain);
        assert_eq!(verify_store(dir.path(), &params()).unwrap().height, 3);
        assert_eq!(open(dir.path()).state(), &state);
    }
}

#[cfg(test)]
mod batch_signature_tests {
    //! Which blocks of a sync batch get their signatures verified ahead of their checks:
    //! only work a peer could not fake cheaply.

    use super::*;
    use crate::consensus::target::Target;
    use crate::testkit::{self, address, key};

    const ALICE: u64 = 1;

    fn open(dir: &Path) -> Chain {
        let params = ChainParams {
            pow_limit_bits: 1,
            initial_difficulty_bits: 8,
            ..testkit::params(&[(address(ALICE), 1_000)])
        };
        Chain::open(dir, params, MempoolLimits::default()).unwrap()
    }

    /// Two valid blocks with a transfer each, built on a scratch copy of the chain.
    fn honest_batch() -> Vec<Block> {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = open(dir.path());
        (0..2)
            .map(|nonce| {
                let tx = testkit::transfer(
                    &key(ALICE),
                    address(2),
                    1,
                    1,
                    nonce,
                    &builder.genesis_hash(),
                );
                let block = testkit::next_block(&builder, address(9), vec![tx]);
                builder
                    .process_block(block.clone(), block.header.timestamp_ms)
                    .unwrap();
                block
            })
            .collect()
    }

    fn covered(chain: &Chain, blocks: &[Block]) -> Vec<bool> {
        chain
            .verify_batch_signatures(blocks)
            .iter()
            .map(Option::is_some)
            .collect()
    }

    #[test]
    fn only_linked_blocks_at_the_expected_difficulty_are_verified_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let chain = open(dir.path());
        let honest = honest_batch();
        assert_eq!(covered(&chain, &honest), [true, true]);
        // The second block does not extend the first.
        assert_eq!(
            covered(&chain, &[honest[0].clone(), honest[0].clone()]),
            [true, false]
        );
        // The same blocks mined at the pow limit, easier than the chain expects: cheap to
        // make, so nothing is verified before their headers are checked.
        let easy = Target::from_leading_zero_bits(1).unwrap().to_compact();
        let mut cheap = honest.clone();
        cheap[0].header.target = easy;
        testkit::seal(&mut cheap[0]);
        cheap[1].header.target = easy;
        cheap[1].header.prev = cheap[0].hash();
        testkit::seal(&mut cheap[1]);
        assert_eq!(covered(&chain, &cheap), [false, false]);
    }
}
