//! The reward addresses of recent blocks, by hash. The block tree's view names each
//! block's miner, and reading a stored block (up to a megabyte) for one address made every
//! `/api/tree` read every block in its range. The chain actor remembers the miners it
//! learns (from blocks it connects or reads once); the memory is bounded, the oldest
//! entries forgotten first.

use crate::consensus::address::Address;
use crate::consensus::hash::BlockHash;
use std::collections::{HashMap, VecDeque};

/// Entries kept: the explorer's deepest tree twice over (about 2 MiB).
pub const MINERS_REMEMBERED: usize = 20_000;

/// A bounded map from block hash to miner.
#[derive(Debug)]
pub struct MinerCache {
    miners: HashMap<BlockHash, Address>,
    order: VecDeque<BlockHash>,
    capacity: usize,
}

impl Default for MinerCache {
    fn default() -> Self {
        MinerCache::new(MINERS_REMEMBERED)
    }
}

impl MinerCache {
    pub fn new(capacity: usize) -> Self {
        MinerCache {
            miners: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn get(&self, hash: &BlockHash) -> Option<Address> {
        self.miners.get(hash).copied()
    }

    /// Remembers `miner` for `hash`, forgetting the oldest entry past the capacity.
    pub fn insert(&mut self, hash: BlockHash, miner: Address) {
        if self.miners.insert(hash, miner).is_some() {
            return;
        }
        self.order.push_back(hash);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.miners.remove(&old);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.miners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.miners.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    fn hash(n: u8) -> BlockHash {
        BlockHash::from_bytes([n; 32])
    }

    #[test]
    fn remembers_the_most_recent_miners_within_its_capacity() {
        let mut cache = MinerCache::new(3);
        for n in 0..10u8 {
            cache.insert(hash(n), testkit::address(u64::from(n)));
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get(&hash(9)), Some(testkit::address(9)));
        assert_eq!(cache.get(&hash(7)), Some(testkit::address(7)));
        assert_eq!(cache.get(&hash(6)), None);
        // Inserting a known block again takes no second place.
        cache.insert(hash(9), testkit::address(9));
        assert_eq!(cache.get(&hash(7)), Some(testkit::address(7)));
    }
}
