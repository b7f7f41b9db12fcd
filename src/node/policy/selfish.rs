//! Selfish mining (Eyal & Sirer, "Majority is not Enough: Bitcoin Mining is Vulnerable",
//! 2014, Algorithm 1) as a plain state machine: which of our own blocks to withhold and
//! when to publish them. The chain actor feeds it two events — our miner extended the
//! private chain, others extended the public chain — and relays what it says to publish;
//! to everyone else the node is an ordinary peer.
//!
//! The paper's algorithm, with Δ = length(private chain) − length(public chain) *before*
//! the event and `private_branch_len` the number of our blocks since the fork:
//!
//! ```text
//! on our pool found a block:
//!     append it to the private chain; private_branch_len += 1
//!     if Δ = 0 and private_branch_len = 2:       (we were in the tie state 0')
//!         publish the private chain               (we win by the lead of 1)
//!         private_branch_len = 0
//!     (else withhold it)
//! on others found a block:
//!     append it to the public chain
//!     if Δ = 0:  private chain = public chain; private_branch_len = 0     (adopt)
//!     if Δ = 1:  publish the last block of the private chain   (match: now a tie, 0')
//!     if Δ = 2:  publish the private chain; private_branch_len = 0       (override)
//!     if Δ > 2:  publish the first unpublished block of the private chain
//! always mine on the head of the private chain
//! ```
//!
//! States in the paper's figure: 0 (no private branch), 0' (two branches of one block
//! each, ours published), and 1, 2, 3, … (our lead). Lengths are heights here: the
//! launches that use this keep one difficulty for the whole run, so height is work.
//!
//! "Mine on the head of the private chain" needs nothing here: with a lead our private
//! chain has the most work in our own block tree, and in the tie 0' our block came first,
//! so the node's ordinary fork choice makes it the tip templates are built on; when we
//! fall behind (adopt), fork choice moves to the public chain by itself.

use super::private_branch::{Action, PrivateBranch};
use crate::consensus::hash::BlockHash;

/// The selfish miner's view: the private chain's head, the public chain's, and our blocks
/// not yet published.
#[derive(Clone, Debug)]
pub struct SelfishMiner {
    private_height: u64,
    public_height: u64,
    private_branch_len: u64,
    withheld: PrivateBranch,
}

impl SelfishMiner {
    /// Starts in state 0 on a chain of `height` blocks known to everyone.
    pub fn new(height: u64) -> Self {
        SelfishMiner {
            private_height: height,
            public_height: height,
            private_branch_len: 0,
            withheld: PrivateBranch::default(),
        }
    }

    /// Our lead: length(private chain) − length(public chain).
    pub fn lead(&self) -> i128 {
        i128::from(self.private_height) - i128::from(self.public_height)
    }

    pub fn is_withheld(&self, hash: &BlockHash) -> bool {
        self.withheld.is_withheld(hash)
    }

    /// Height of the highest block of ours that others may know: what we show peers.
    pub fn shown_height(&self) -> u64 {
        self.withheld.shown_height(self.private_height)
    }

    /// Our miner found `hash` at `height` on the head of the private chain.
    pub fn on_mined(&mut self, height: u64, hash: BlockHash) -> Action {
        let lead_before = self.lead();
        self.private_height = height;
        self.private_branch_len += 1;
        self.withheld.withhold(height, hash);
        if lead_before == 0 && self.private_branch_len == 2 {
            self.private_branch_len = 0;
            return self.publish_all();
        }
        Action::Withhold
    }

    /// Others' blocks made the public chain `height` long. Heights at or below the public
    /// chain's are not news (a competing block of an honest fork, or one of ours coming
    /// back); a jump of several blocks is taken one block at a time.
    pub fn on_others_block(&mut self, height: u64) -> Action {
        let mut published = Vec::new();
        let mut adopted = false;
        while self.public_height < height {
            match self.on_one_public_block() {
                Action::Withhold => {}
                Action::Publish(hashes) => published.extend(hashes),
                Action::Adopt => {
                    adopted = true;
                    published.clear();
                }
            }
        }
        match (adopted, published.is_empty()) {
            (true, true) => Action::Adopt,
            (_, false) => Action::Publish(published),
            (false, true) => Action::Withhold,
        }
    }

    fn on_one_public_block(&mut self) -> Action {
        let lead_before = self.lead();
        self.public_height += 1;
        match lead_before {
            i128::MIN..=0 => {
                self.private_height = self.public_height;
                self.private_branch_len = 0;
                self.withheld.abandon();
                Action::Adopt
            }
            1 => self.publish_all(),
            2 => {
                self.private_branch_len = 0;
                self.publish_all()
            }
            _ => self.withheld.publish_first(),
        }
    }

    /// Publishes every withheld block: the public chain is now ours.
    fn publish_all(&mut self) -> Action {
        self.public_height = self.public_height.max(self.private_height);
        self.withheld.publish_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u8) -> BlockHash {
        BlockHash::from_bytes([n; 32])
    }

    /// A miner in state `lead` (1, 2, …) after mining `lead` private blocks on height 10.
    fn ahead_by(lead: u8) -> SelfishMiner {
        let mut miner = SelfishMiner::new(10);
        for n in 1..=lead {
            assert_eq!(
                miner.on_mined(10 + u64::from(n), block(n)),
                Action::Withhold
            );
        }
        assert_eq!(miner.lead(), i128::from(lead));
        miner
    }

    #[test]
    fn state_0_our_find_is_withheld_lead_1() {
        let mut miner = SelfishMiner::new(10);
        assert_eq!(miner.on_mined(11, block(1)), Action::Withhold);
        assert_eq!(miner.lead(), 1);
        assert!(miner.is_withheld(&block(1)));
        assert_eq!(miner.shown_height(), 10);
    }

    #[test]
    fn state_0_others_find_is_adopted() {
        let mut miner = SelfishMiner::new(10);
        assert_eq!(miner.on_others_block(11), Action::Adopt);
        assert_eq!(miner.lead(), 0);
        assert_eq!(miner.shown_height(), 11);
    }

    #[test]
    fn lead_1_others_catch_up_so_we_publish_to_match() {
        let mut miner = ahead_by(1);
        assert_eq!(miner.on_others_block(11), Action::Publish(vec![block(1)]));
        // State 0': a tie, nothing withheld.
        assert_eq!(miner.lead(), 0);
        assert!(!miner.is_withheld(&block(1)));
    }

    #[test]
    fn tie_our_find_wins_and_is_published() {
        let mut miner = ahead_by(1);
        miner.on_others_block(11);
        assert_eq!(
            miner.on_mined(12, block(2)),
            Action::Publish(vec![block(2)])
        );
        // Back to state 0, on our chain.
        assert_eq!(miner.lead(), 0);
        assert_eq!(miner.on_mined(13, block(3)), Action::Withhold);
    }

    #[test]
    fn tie_others_find_is_adopted() {
        let mut miner = ahead_by(1);
        miner.on_others_block(11);
        assert_eq!(miner.on_others_block(12), Action::Adopt);
        assert_eq!(miner.lead(), 0);
        // State 0 again: our next find is withheld, not published as in 0'.
        assert_eq!(miner.on_mined(13, block(3)), Action::Withhold);
    }

    #[test]
    fn lead_2_others_find_so_we_override_with_everything() {
        let mut miner = ahead_by(2);
        assert_eq!(
            miner.on_others_block(11),
            Action::Publish(vec![block(1), block(2)])
        );
        assert_eq!(miner.lead(), 0);
        // State 0 on our chain (private_branch_len reset): the next find is withheld.
        assert_eq!(miner.on_mined(13, block(3)), Action::Withhold);
        assert_eq!(miner.lead(), 1);
    }

    #[test]
    fn lead_above_2_others_find_so_we_publish_the_first_unpublished_block() {
        let mut miner = ahead_by(4);
        assert_eq!(miner.on_others_block(11), Action::Publish(vec![block(1)]));
        assert_eq!(miner.lead(), 3);
        assert_eq!(miner.shown_height(), 11);
        assert_eq!(miner.on_others_block(12), Action::Publish(vec![block(2)]));
        assert_eq!(miner.lead(), 2);
        // Lead 2: the next public block makes us publish the rest.
        assert_eq!(
            miner.on_others_block(13),
            Action::Publish(vec![block(3), block(4)])
        );
        assert_eq!(miner.lead(), 0);
    }

    #[test]
    fn a_private_find_with_a_lead_is_withheld() {
        let mut miner = ahead_by(2);
        assert_eq!(miner.on_mined(13, block(3)), Action::Withhold);
        assert_eq!(miner.lead(), 3);
        assert_eq!(miner.shown_height(), 10);
    }

    #[test]
    fn old_or_competing_public_blocks_are_not_news() {
        let mut miner = ahead_by(1);
        miner.on_others_block(11);
        // A second honest block at height 11 (an honest fork) changes nothing.
        assert_eq!(miner.on_others_block(11), Action::Withhold);
        assert_eq!(miner.lead(), 0);
    }

    #[test]
    fn a_public_jump_is_taken_block_by_block() {
        // Lead 1, then the public chain grows by 2 at once: match, then adopt.
        let mut miner = ahead_by(1);
        assert_eq!(miner.on_others_block(12), Action::Adopt);
        assert_eq!(miner.lead(), 0);
        // Lead 3, public grows by 2: the first block, then (lead 2) the rest.
        let mut miner = ahead_by(3);
        assert_eq!(
            miner.on_others_block(12),
            Action::Publish(vec![block(1), block(2), block(3)])
        );
    }
}
