//! A bounded pool of blocks whose parent is not known yet.
//!
//! Instead of dropping such a block (the teaching design's flaw), the node keeps it here,
//! asks the sender for the missing ancestors, and connects it once its parent arrives.
//! The pool evicts its oldest block when full, so a peer cannot grow it without bound.

use crate::consensus::block::Block;
use crate::consensus::hash::BlockHash;
use std::collections::{HashMap, VecDeque};

/// Blocks waiting for their parent.
#[derive(Debug)]
pub struct OrphanPool {
    blocks: HashMap<BlockHash, Block>,
    by_parent: HashMap<BlockHash, Vec<BlockHash>>,
    arrival: VecDeque<BlockHash>,
    capacity: usize,
}

impl OrphanPool {
    /// A pool holding at most `capacity` blocks.
    pub fn new(capacity: usize) -> Self {
        OrphanPool {
            blocks: HashMap::new(),
            by_parent: HashMap::new(),
            arrival: VecDeque::new(),
            capacity,
        }
    }

    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.blocks.contains_key(hash)
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Holds `block`, evicting the oldest orphan if the pool is full.
    pub fn insert(&mut self, hash: BlockHash, block: Block) {
        if self.capacity == 0 || self.blocks.contains_key(&hash) {
            return;
        }
        while self.blocks.len() >= self.capacity {
            match self.arrival.pop_front() {
                Some(oldest) => self.remove(&oldest),
                None => break,
            }
        }
        self.by_parent
            .entry(block.header.prev)
            .or_default()
            .push(hash);
        self.arrival.push_back(hash);
        self.blocks.insert(hash, block);
    }

    fn remove(&mut self, hash: &BlockHash) {
        if let Some(block) = self.blocks.remove(hash) {
            if let Some(siblings) = self.by_parent.get_mut(&block.header.prev) {
                siblings.retain(|sibling| sibling != hash);
                if siblings.is_empty() {
                    self.by_parent.remove(&block.header.prev);
                }
            }
        }
    }

    /// Removes and returns the orphans whose parent is `parent`.
    pub fn take_children(&mut self, parent: &BlockHash) -> Vec<Block> {
        let hashes = self.by_parent.remove(parent).unwrap_or_default();
        let children: Vec<Block> = hashes
            .iter()
            .filter_map(|hash| self.blocks.remove(hash))
            .collect();
        if !children.is_empty() {
            self.arrival.retain(|hash| self.blocks.contains_key(hash));
        }
        children
    }

    /// The first missing ancestor of the orphan `hash`: the block to ask peers for.
    pub fn missing_root(&self, hash: &BlockHash) -> Option<BlockHash> {
        let mut block = self.blocks.get(hash)?;
        while let Some(parent) = self.blocks.get(&block.header.prev) {
            block = parent;
        }
        Some(block.header.prev)
    }
}
