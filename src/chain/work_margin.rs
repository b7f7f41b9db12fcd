//! Which blocks are worth writing to disk: those whose branch carries nearly the work of
//! our tip.
//!
//! A block on a side branch takes only its own proof of work to make, and a branch forked
//! long ago can ease its difficulty to the pow limit with spaced timestamps (see the
//! "Side branches" section of ARCHITECTURE.md): storing every valid one would let anyone
//! fill the disk at a few hundred hashes a megabyte. Bitcoin Core stores a block it did
//! not ask for only if its chain has at least the tip's work, and asks only for blocks of
//! header chains with more work than its tip. This node has no headers-first sync, so the
//! rule is stated on the block itself: a block is stored when its branch's cumulative work
//! is within [`WorkMargin::blocks`] blocks' work (at the tip's difficulty) of the tip's.
//! Below that it is held in memory (the bounded orphan pool) until its branch reaches the
//! margin, or dropped; it never touches the disk and is never relayed.

use crate::consensus::target::Work;

/// How far below the tip's cumulative work a branch may be and still be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkMargin {
    /// In blocks at the tip's difficulty. Honest forks are a block or two deep (two
    /// miners finding a block at once); a few blocks more keep a competing miner's fresh
    /// branch, which may overtake us, without a byte for anything cheaper.
    pub blocks: u32,
}

impl Default for WorkMargin {
    fn default() -> Self {
        WorkMargin { blocks: 6 }
    }
}

impl WorkMargin {
    /// Whether a block whose branch has `branch` cumulative work is worth storing, with our
    /// tip at `tip` cumulative work and `tip_block` the work of the tip block alone.
    pub fn worth_storing(&self, branch: Work, tip: Work, tip_block: Work) -> bool {
        let reach = (0..self.blocks).try_fold(branch, |work, _| work.checked_add(tip_block));
        // Past 2^256 the branch reaches anything.
        reach.is_none_or(|reach| reach >= tip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(n: u8) -> Work {
        let mut bytes = [0; 32];
        bytes[31] = n;
        Work::from_be_bytes(bytes)
    }

    #[test]
    fn a_branch_within_the_margin_is_stored_and_one_below_is_not() {
        let margin = WorkMargin { blocks: 6 };
        // Tip at 100, each block 10: a branch at 40 is exactly six blocks short.
        assert!(margin.worth_storing(work(40), work(100), work(10)));
        assert!(margin.worth_storing(work(120), work(100), work(10)));
        assert!(!margin.worth_storing(work(39), work(100), work(10)));
        // Cheap blocks do not count for more: the margin is at the tip's difficulty.
        assert!(!margin.worth_storing(work(1), work(100), work(10)));
    }

    #[test]
    fn no_margin_means_at_least_the_tips_work() {
        let margin = WorkMargin { blocks: 0 };
        assert!(margin.worth_storing(work(100), work(100), work(10)));
        assert!(!margin.worth_storing(work(99), work(100), work(10)));
    }

    #[test]
    fn work_near_the_top_of_the_range_does_not_overflow() {
        let margin = WorkMargin::default();
        let top = Work::from_be_bytes([0xff; 32]);
        assert!(margin.worth_storing(top, top, top));
        assert!(!margin.worth_storing(Work::ZERO, top, work(1)));
    }
}
