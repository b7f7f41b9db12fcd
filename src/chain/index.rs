//! The block tree: every stored block's header, cumulative work and status, plus the
//! active (best) chain by height. Kept in memory; persisted by [`super::store`].
//!
//! Fork choice: the best tip is the block with the most cumulative work whose ancestry
//! holds no invalid block; among equals, the one received first (lowest sequence number).

use crate::consensus::block::BlockHeader;
use crate::consensus::difficulty::{self, RetargetParams, MEDIAN_TIME_SPAN};
use crate::consensus::hash::BlockHash;
use crate::consensus::params::ChainParams;
use crate::consensus::target::{CompactTarget, CompactTargetError, Work};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What is known about a stored block's validity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockStatus {
    /// Header and stateless body checks passed; never connected yet.
    Unchecked,
    /// Was connected once, so its transactions are valid on its parent's state.
    Valid,
    /// Breaks a rule, or descends from a block that does.
    Invalid,
}

/// One block of the tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub header: BlockHeader,
    pub hash: BlockHash,
    /// Work of this block and all its ancestors.
    pub work: Work,
    pub status: BlockStatus,
    /// Order of arrival, for tie-breaking between equal work.
    pub seq: u64,
}

/// The block tree and the active chain.
#[derive(Debug, Default)]
pub struct BlockIndex {
    entries: HashMap<BlockHash, IndexEntry>,
    children: HashMap<BlockHash, Vec<BlockHash>>,
    /// Block hashes of the active chain, by height.
    active: Vec<BlockHash>,
    next_seq: u64,
    /// The best entry that is not invalid (most work, then lowest seq), kept up to date
    /// so fork choice does not scan the whole tree for every block.
    best: Option<BlockHash>,
}

/// Fork-choice order: more work first, then the one received first.
fn better(a: &IndexEntry, b: &IndexEntry) -> bool {
    a.work > b.work || (a.work == b.work && a.seq < b.seq)
}

impl BlockIndex {
    /// A tree holding only the genesis block.
    pub fn new(genesis: IndexEntry) -> Self {
        let mut index = BlockIndex::default();
        index.active.push(genesis.hash);
        index.insert(genesis);
        index
    }

    /// Rebuilds the tree from stored entries and the stored active chain.
    pub fn restore(entries: Vec<IndexEntry>, active: Vec<BlockHash>) -> Self {
        let mut index = BlockIndex::default();
        for entry in entries {
            index.insert(entry);
        }
        index.active = active;
        index
    }

    /// Adds an entry (its parent, if any, must already be present for fork choice to see
    /// it as a child).
    pub fn insert(&mut self, entry: IndexEntry) {
        self.next_seq = self.next_seq.max(entry.seq.saturating_add(1));
        if entry.header.height > 0 {
            self.children
                .entry(entry.header.prev)
                .or_default()
                .push(entry.hash);
        }
        let hash = entry.hash;
        let valid = entry.status != BlockStatus::Invalid;
        let replaced_best = self.best == Some(hash);
        let beats_best = valid
            && self
                .best
                .and_then(|best| self.entries.get(&best))
                .is_none_or(|best| better(&entry, best));
        self.entries.insert(hash, entry);
        if beats_best {
            self.best = Some(hash);
        } else if replaced_best {
            self.recompute_best();
        }
    }

    /// Finds the best entry that is not invalid by scanning the tree (after invalidation).
    fn recompute_best(&mut self) {
        let mut best: Option<&IndexEntry> = None;
        for entry in self.entries.values() {
            if entry.status != BlockStatus::Invalid && best.is_none_or(|b| better(entry, b)) {
                best = Some(entry);
            }
        }
        self.best = best.map(|entry| entry.hash);
    }

    /// The sequence number the next received block gets.
    pub fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    pub fn get(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.entries.get(hash)
    }

    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.entries.contains_key(hash)
    }

    /// Number of blocks in the tree.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the tree is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn set_status(&mut self, hash: &BlockHash, status: BlockStatus) {
        if let Some(entry) = self.entries.get_mut(hash) {
            entry.status = status;
        }
        if status == BlockStatus::Invalid && self.best == Some(*hash) {
            self.recompute_best();
        } else if status != BlockStatus::Invalid {
            let beats_best = self.entries.get(hash).is_some_and(|entry| {
                self.best
                    .and_then(|best| self.entries.get(&best))
                    .is_none_or(|best| better(entry, best))
            });
            if beats_best {
                self.best = Some(*hash);
            }
        }
    }

    /// Marks `hash` and every descendant invalid; returns the hashes changed.
    pub fn mark_invalid(&mut self, hash: &BlockHash) -> Vec<BlockHash> {
        let mut changed = Vec::new();
        let mut pending = vec![*hash];
        while let Some(next) = pending.pop() {
            if let Some(entry) = self.entries.get_mut(&next) {
                if entry.status != BlockStatus::Invalid {
                    entry.status = BlockStatus::Invalid;
                    changed.push(next);
                }
            }
            if let Some(children) = self.children.get(&next) {
                pending.extend(children.iter().copied());
            }
        }
        if self.best.is_some_and(|best| changed.contains(&best)) {
            self.recompute_best();
        }
        changed
    }

    /// Block hashes of the active chain, genesis first.
    pub fn active(&self) -> &[BlockHash] {
        &self.active
    }

    /// The active chain's tip.
    pub fn tip(&self) -> &IndexEntry {
        let hash = self
            .active
            .last()
            .expect("the block index always holds genesis on its active chain");
        &self.entries[hash]
    }

    /// The active chain's block at `height`.
    pub fn active_at(&self, height: u64) -> Option<&BlockHash> {
        usize::try_from(height)
            .ok()
            .and_then(|h| self.active.get(h))
    }

    /// Whether `hash` is on the active chain.
    pub fn is_active(&self, hash: &BlockHash) -> bool {
        self.entries
            .get(hash)
            .and_then(|entry| self.active_at(entry.header.height))
            == Some(hash)
    }

    /// Shortens the active chain to `height` (inclusive).
    pub fn truncate_active(&mut self, height: u64) {
        self.active.truncate(height as usize + 1);
    }

    /// Appends a block to the active chain; it must extend the current tip.
    pub fn push_active(&mut self, hash: BlockHash) {
        self.active.push(hash);
    }

    /// The ancestor of `hash` at `height`, walking back through the tree (O(1) on the
    /// active chain).
    pub fn ancestor(&self, hash: &BlockHash, height: u64) -> Option<&IndexEntry> {
        let mut entry = self.entries.get(hash)?;
        while entry.header.height > height {
            if self.is_active(&entry.hash) {
                return self.active_at(height).and_then(|h| self.entries.get(h));
            }
            entry = self.entries.get(&entry.header.prev)?;
        }
        (entry.header.height == height).then_some(entry)
    }

    /// Median timestamp of up to 11 blocks ending at `hash`.
    pub fn median_time_past(&self, hash: &BlockHash) -> u64 {
        let mut timestamps = [0u64; MEDIAN_TIME_SPAN];
        let mut count = 0;
        let mut cursor = self.entries.get(hash);
        while let Some(entry) = cursor {
            if count == MEDIAN_TIME_SPAN {
                break;
            }
            timestamps[count] = entry.header.timestamp_ms;
            count += 1;
            cursor = (entry.header.height > 0)
                .then(|| self.entries.get(&entry.header.prev))
                .flatten();
        }
        difficulty::median_time_past(&timestamps[..count])
    }

    /// The compact target a child of `parent` must carry.
    pub fn next_target(
        &self,
        parent: &IndexEntry,
        params: &ChainParams,
    ) -> Result<CompactTarget, CompactTargetError> {
        let height = parent.header.height + 1;
        if !difficulty::is_retarget_height(params.retarget_interval, height) {
            return Ok(parent.header.target);
        }
        // The genesis timestamp is fixed in the chain parameters, usually long before the
        // first mined block, so the first interval is measured from block 1 over one gap
        // fewer instead.
        let first_height = (height - params.retarget_interval).max(1);
        let blocks_measured = height - first_height;
        let first = self
            .ancestor(&parent.hash, first_height)
            .map_or(parent.header.timestamp_ms, |entry| {
                entry.header.timestamp_ms
            });
        let retarget = RetargetParams {
            interval: blocks_measured,
            target_block_time_ms: params.target_block_time_ms,
            pow_limit: params.pow_limit(),
        };
        difficulty::retarget(
            &retarget,
            parent.header.target,
            first,
            parent.header.timestamp_ms,
        )
    }

    /// The block with the most work that is not invalid (ties: first received).
    pub fn best_candidate(&self) -> &IndexEntry {
        // The same as folding `better` over the tip and every entry that is not invalid,
        // with the fold over the entries kept up to date by insert / set_status /
        // mark_invalid.
        let tip = self.tip();
        match self.best.and_then(|best| self.entries.get(&best)) {
            Some(best) if better(best, tip) => best,
            _ => tip,
        }
    }

    /// The path from the active chain to `hash`: the fork point's height, and the blocks
    /// after it in order (empty if `hash` is on the active chain).
    pub fn branch_to(&self, hash: &BlockHash) -> Option<(u64, Vec<BlockHash>)> {
        let mut path = Vec::new();
        let mut entry = self.entries.get(hash)?;
        while !self.is_active(&entry.hash) {
            path.push(entry.hash);
            entry = self.entries.get(&entry.header.prev)?;
        }
        path.reverse();
        Some((entry.header.height, path))
    }

    /// A block locator for the active chain: the tip, then hashes further and further
    /// back (1, 2, 4, ... apart), always ending with genesis.
    pub fn locator(&self) -> Vec<BlockHash> {
        let mut locator = Vec::new();
        let mut height = self.active.len() as u64 - 1;
        let mut step = 1;
        loop {
            locator.push(self.active[height as usize]);
            if height == 0 {
                break;
            }
            if locator.len() >= 10 {
                step *= 2;
            }
            height = height.saturating_sub(step);
        }
        locator
    }

    /// The height on the active chain of the first locator hash that is on it (0 if
    /// none: the peer shares only our genesis).
    pub fn fork_height(&self, locator: &[BlockHash]) -> u64 {
        locator
            .iter()
            .find(|hash| self.is_active(hash))
            .and_then(|hash| self.entries.get(hash))
            .map_or(0, |entry| entry.header.height)
    }

    /// All entries, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &IndexEntry> {
        self.entries.values()
    }
}
