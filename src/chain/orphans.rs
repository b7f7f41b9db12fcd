//! A bounded pool of blocks whose parent is not known yet.
//!
//! Instead of dropping such a block (the teaching design's flaw), the node keeps it here,
//! asks the sender for the missing ancestors, and connects it once its parent arrives.
//! An orphan takes only pow-limit work to make, so the pool is bounded three ways: by
//! count, by bytes (blocks are size-checked before they get here, so one orphan is at most
//! `max_block_bytes`), and per sender: one sender's orphans past its share push out its
//! own oldest, never another sender's, and the overflow is reported so the sender can be
//! scored for it. Past the pool's total bound the oldest orphan goes first.

use crate::consensus::block::Block;
use crate::consensus::hash::BlockHash;
use std::collections::{HashMap, VecDeque};

/// Who handed a block to the chain (a connection's id), for per-sender shares.
pub type Sender = u64;

/// How much the pool holds, in all and per sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrphanLimits {
    pub max_count: usize,
    /// Consensus-encoded bytes ([`Block::encoded_size`]).
    pub max_bytes: usize,
    pub max_count_per_sender: usize,
    pub max_bytes_per_sender: usize,
}

impl Default for OrphanLimits {
    /// 512 blocks and 32 MiB in all; a quarter of that per sender.
    fn default() -> Self {
        OrphanLimits {
            max_count: 512,
            max_bytes: 32 << 20,
            max_count_per_sender: 128,
            max_bytes_per_sender: 8 << 20,
        }
    }
}

/// What [`OrphanPool::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Held (or already held).
    Held,
    /// Held, but the sender was over its share: its own oldest orphans made room.
    HeldOverShare,
    /// Not held: the block alone is larger than a sender's share of the pool, `max`.
    TooLarge { max: usize },
}

#[derive(Debug)]
struct Orphan {
    block: Block,
    bytes: usize,
    sender: Option<Sender>,
}

#[derive(Debug, Default)]
struct Share {
    bytes: usize,
    arrival: VecDeque<BlockHash>,
}

/// Blocks waiting for their parent.
#[derive(Debug)]
pub struct OrphanPool {
    orphans: HashMap<BlockHash, Orphan>,
    by_parent: HashMap<BlockHash, Vec<BlockHash>>,
    arrival: VecDeque<BlockHash>,
    shares: HashMap<Sender, Share>,
    bytes: usize,
    limits: OrphanLimits,
}

impl OrphanPool {
    pub fn new(limits: OrphanLimits) -> Self {
        OrphanPool {
            orphans: HashMap::new(),
            by_parent: HashMap::new(),
            arrival: VecDeque::new(),
            shares: HashMap::new(),
            bytes: 0,
            limits,
        }
    }

    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.orphans.contains_key(hash)
    }

    pub fn len(&self) -> usize {
        self.orphans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orphans.is_empty()
    }

    /// Consensus-encoded bytes of the orphans held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Holds `block` from `sender` (`None`: this node itself, bound only by the pool's
    /// total), making room as the module comment says.
    pub fn insert(&mut self, hash: BlockHash, block: Block, sender: Option<Sender>) -> Admission {
        let bytes = block.encoded_size();
        let limits = self.limits;
        let max = limits.max_bytes_per_sender.min(limits.max_bytes);
        if limits.max_count == 0 || bytes > max {
            return Admission::TooLarge { max };
        }
        if self.orphans.contains_key(&hash) {
            return Admission::Held;
        }
        let mut admission = Admission::Held;
        if let Some(sender) = sender {
            while let Some(share) = self.shares.get(&sender) {
                let full = share.arrival.len() >= limits.max_count_per_sender
                    || share.bytes + bytes > limits.max_bytes_per_sender;
                let Some(oldest) = share.arrival.front().copied().filter(|_| full) else {
                    break;
                };
                self.remove(&oldest);
                admission = Admission::HeldOverShare;
            }
        }
        while self.orphans.len() >= limits.max_count || self.bytes + bytes > limits.max_bytes {
            match self.arrival.front().copied() {
                Some(oldest) => self.remove(&oldest),
                None => break,
            };
        }
        self.by_parent
            .entry(block.header.prev)
            .or_default()
            .push(hash);
        self.arrival.push_back(hash);
        if let Some(sender) = sender {
            let share = self.shares.entry(sender).or_default();
            share.bytes += bytes;
            share.arrival.push_back(hash);
        }
        self.bytes += bytes;
        self.orphans.insert(
            hash,
            Orphan {
                block,
                bytes,
                sender,
            },
        );
        admission
    }

    fn remove(&mut self, hash: &BlockHash) -> Option<Block> {
        let orphan = self.orphans.remove(hash)?;
        let prev = orphan.block.header.prev;
        if let Some(siblings) = self.by_parent.get_mut(&prev) {
            siblings.retain(|sibling| sibling != hash);
            if siblings.is_empty() {
                self.by_parent.remove(&prev);
            }
        }
        self.arrival.retain(|held| held != hash);
        if let Some(sender) = orphan.sender {
            if let Some(share) = self.shares.get_mut(&sender) {
                share.bytes -= orphan.bytes;
                share.arrival.retain(|held| held != hash);
                if share.arrival.is_empty() {
                    self.shares.remove(&sender);
                }
            }
        }
        self.bytes -= orphan.bytes;
        Some(orphan.block)
    }

    /// Removes and returns the orphans whose parent is `parent`.
    pub fn take_children(&mut self, parent: &BlockHash) -> Vec<Block> {
        let hashes = self.by_parent.get(parent).cloned().unwrap_or_default();
        hashes.iter().filter_map(|hash| self.remove(hash)).collect()
    }

    /// The block held under `hash`.
    pub fn get(&self, hash: &BlockHash) -> Option<&Block> {
        self.orphans.get(hash).map(|orphan| &orphan.block)
    }

    /// Takes the block held under `hash` out of the pool.
    pub fn take(&mut self, hash: &BlockHash) -> Option<Block> {
        self.remove(hash)
    }

    /// The first missing ancestor of the orphan `hash`: the block to ask peers for.
    pub fn missing_root(&self, hash: &BlockHash) -> Option<BlockHash> {
        let mut block = &self.orphans.get(hash)?.block;
        while let Some(parent) = self.orphans.get(&block.header.prev) {
            block = &parent.block;
        }
        Some(block.header.prev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::address::Address;
    use crate::consensus::amount::Amount;
    use crate::consensus::block::BlockHeader;
    use crate::consensus::hash::BlockHash;
    use crate::consensus::target::CompactTarget;
    use crate::consensus::transaction::Reward;

    /// An orphan on parent `prev` carrying `txs` transactions (only sizes matter here).
    fn orphan(prev: u8, nonce: u64, txs: u64) -> (BlockHash, Block) {
        let block = Block {
            header: BlockHeader {
                version: 1,
                height: 5,
                prev: BlockHash::from_bytes([prev; 32]),
                merkle_root: Default::default(),
                timestamp_ms: 0,
                target: CompactTarget::from_consensus(0x2000_ffff),
                nonce,
            },
            reward: Reward {
                miner: Address::from_bytes([3; 32]),
                amount: Amount::new(50),
                height: 5,
            },
            txs: (0..txs).map(crate::testkit::unsigned_transfer).collect(),
        };
        (block.hash(), block)
    }

    fn limits() -> OrphanLimits {
        let one = orphan(0, 0, 10).1.encoded_size();
        OrphanLimits {
            max_count: 6,
            max_bytes: 5 * one,
            max_count_per_sender: 3,
            max_bytes_per_sender: 2 * one + one / 2,
        }
    }

    #[test]
    fn a_sender_over_its_share_pushes_out_only_its_own_orphans() {
        let mut pool = OrphanPool::new(limits());
        let honest = orphan(9, 0, 10);
        assert_eq!(
            pool.insert(honest.0, honest.1.clone(), Some(1)),
            Admission::Held
        );
        let flood: Vec<_> = (1..=4).map(|nonce| orphan(8, nonce, 10)).collect();
        let outcomes: Vec<_> = flood
            .iter()
            .map(|(hash, block)| pool.insert(*hash, block.clone(), Some(2)))
            .collect();
        // Two 10-transaction blocks fill sender 2's byte share; each one after pushes
        // out its own oldest.
        assert_eq!(
            outcomes,
            [
                Admission::Held,
                Admission::Held,
                Admission::HeldOverShare,
                Admission::HeldOverShare
            ]
        );
        assert!(
            pool.contains(&honest.0),
            "another sender's orphan was evicted"
        );
        assert!(!pool.contains(&flood[0].0) && !pool.contains(&flood[1].0));
        assert!(pool.contains(&flood[2].0) && pool.contains(&flood[3].0));
        assert_eq!(pool.len(), 3);
        assert_eq!(pool.bytes(), 3 * honest.1.encoded_size());
    }

    #[test]
    fn the_pool_is_bounded_in_bytes_and_count_and_refuses_a_block_over_a_share() {
        let mut pool = OrphanPool::new(limits());
        for sender in 0..10 {
            let (hash, block) = orphan(sender as u8, sender, 10);
            assert_eq!(pool.insert(hash, block, Some(sender)), Admission::Held);
            assert!(pool.bytes() <= limits().max_bytes && pool.len() <= limits().max_count);
        }
        assert_eq!(pool.len(), 5, "the byte bound holds five such blocks");
        let small: Vec<_> = (0..10).map(|nonce| orphan(200, nonce, 0)).collect();
        for (sender, (hash, block)) in small.iter().enumerate() {
            pool.insert(*hash, block.clone(), Some(100 + sender as u64));
        }
        assert_eq!(pool.len(), 6, "the count bound");
        let big = orphan(1, 0, 30);
        assert_eq!(
            pool.insert(big.0, big.1, Some(7)),
            Admission::TooLarge {
                max: limits().max_bytes_per_sender
            }
        );
        assert!(!pool.contains(&big.0));
        // The remaining orphans all wait on one parent, and leave the pool with it.
        let children = pool.take_children(&BlockHash::from_bytes([200; 32]));
        assert_eq!(children.len(), 6);
        assert!(pool.is_empty());
        assert_eq!(pool.bytes(), 0);
    }

    #[test]
    fn the_missing_root_is_the_oldest_unknown_ancestor() {
        let mut pool = OrphanPool::new(OrphanLimits::default());
        let (first, mut child) = (orphan(4, 0, 0), orphan(0, 1, 0).1);
        child.header.prev = first.0;
        pool.insert(first.0, first.1, None);
        let child_hash = child.hash();
        pool.insert(child_hash, child, None);
        assert_eq!(
            pool.missing_root(&child_hash),
            Some(BlockHash::from_bytes([4; 32]))
        );
        assert_eq!(pool.take_children(&first.0).len(), 1);
        assert_eq!(pool.len(), 1);
    }
}
