//! A set that remembers only the most recent items: relay deduplication and other
//! "seen already?" questions whose memory a peer must not be able to grow.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

/// Remembers the last `capacity` distinct items inserted, forgetting the oldest.
pub struct RecentSet<T: Hash + Eq + Copy> {
    set: HashSet<T>,
    order: VecDeque<T>,
    capacity: usize,
}

impl<T: Hash + Eq + Copy> RecentSet<T> {
    pub fn new(capacity: usize) -> Self {
        RecentSet {
            set: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether `item` is new (and remembers it).
    pub fn insert(&mut self, item: T) -> bool {
        if !self.set.insert(item) {
            return false;
        }
        self.order.push_back(item);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_not_new() {
        let mut set = RecentSet::new(10);
        assert!(set.insert(1));
        assert!(!set.insert(1));
    }

    #[test]
    fn stays_at_capacity_and_forgets_the_oldest() {
        let mut set = RecentSet::new(100);
        for i in 0..10_000u32 {
            set.insert(i);
        }
        assert_eq!(set.len(), 100);
        assert!(set.insert(0), "the oldest was forgotten");
        assert!(!set.insert(9_999), "the newest is remembered");
    }
}
