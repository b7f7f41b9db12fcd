//! The double-spend race of the Bitcoin whitepaper (§11) as a plain state machine: an
//! attacker pays a merchant, and meanwhile mines a private branch holding a conflicting
//! spend of the same nonce. The merchant hands over the goods once the payment has
//! `confirmations` blocks on the public chain (z; with z = 0 on sight). From then on,
//! the moment the private branch is longer than the public chain, the attacker publishes
//! it: the network reorganises onto it and the payment is gone. If the public chain gets
//! [`GIVE_UP_DEFICIT`] blocks ahead of the private branch, the attacker gives up and adopts
//! it.
//!
//! The chain actor feeds it our finds and the public chain's growth (whether each public
//! block carries the payment); while the race lasts it holds the public blocks aside
//! instead of connecting them, so its miner keeps building on the private branch.
//! Lengths are heights (simulated launches keep one difficulty for the whole run).

use super::private_branch::{Action, PrivateBranch};
use crate::consensus::hash::BlockHash;

/// How far behind the public chain the attacker may fall before it gives up. Catching up
/// from d blocks behind with share q has probability (q/(1−q))^d (gambler's ruin), so
/// stopping at 12 changes the success rate by at most (0.3/0.7)^12 ≈ 4·10⁻⁵ for q ≤ 0.3,
/// while it bounds every trial.
pub const GIVE_UP_DEFICIT: u64 = 12;

/// Where the race stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Mining the private branch.
    Racing,
    /// The private branch was published after the merchant had delivered.
    Released,
    /// The public chain got too far ahead.
    GaveUp,
}

/// See the module comment.
#[derive(Clone, Debug)]
pub struct DoubleSpender {
    confirmations: u64,
    private_height: u64,
    public_height: u64,
    /// The public block carrying the payment to the merchant, once one does.
    payment_height: Option<u64>,
    branch: PrivateBranch,
    phase: Phase,
}

impl DoubleSpender {
    /// Starts racing from a chain of `height` blocks; the merchant waits `confirmations`.
    pub fn new(height: u64, confirmations: u64) -> Self {
        DoubleSpender {
            confirmations,
            private_height: height,
            public_height: height,
            payment_height: None,
            branch: PrivateBranch::default(),
            phase: Phase::Racing,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_withheld(&self, hash: &BlockHash) -> bool {
        self.branch.is_withheld(hash)
    }

    /// The height peers are shown.
    pub fn shown_height(&self) -> u64 {
        self.branch.shown_height(self.private_height)
    }

    /// How many blocks of the public chain the merchant has seen on the payment.
    pub fn merchant_confirmations(&self) -> u64 {
        self.payment_height.map_or(0, |height| {
            self.public_height.saturating_sub(height).saturating_add(1)
        })
    }

    /// Our miner extended the private branch to `height` with `hash`.
    pub fn on_mined(&mut self, height: u64, hash: BlockHash) -> Action {
        if self.phase != Phase::Racing {
            return Action::Withhold;
        }
        self.private_height = height;
        self.branch.withhold(height, hash);
        self.decide()
    }

    /// The public chain reached `height`; `carries_payment` when that block holds the
    /// payment to the merchant. Blocks at or below the public height are not news.
    pub fn on_public_block(&mut self, height: u64, carries_payment: bool) -> Action {
        if self.phase != Phase::Racing {
            return Action::Withhold;
        }
        if carries_payment && self.payment_height.is_none() {
            self.payment_height = Some(height);
        }
        if height <= self.public_height {
            return Action::Withhold;
        }
        self.public_height = height;
        self.decide()
    }

    fn decide(&mut self) -> Action {
        let delivered =
            self.confirmations == 0 || self.merchant_confirmations() >= self.confirmations;
        if delivered && self.private_height > self.public_height {
            self.phase = Phase::Released;
            return self.branch.publish_all();
        }
        if self.public_height.saturating_sub(self.private_height) >= GIVE_UP_DEFICIT {
            self.phase = Phase::GaveUp;
            self.branch.abandon();
            return Action::Adopt;
        }
        Action::Withhold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u8) -> BlockHash {
        BlockHash::from_bytes([n; 32])
    }

    #[test]
    fn a_private_find_is_withheld_until_the_merchant_has_delivered() {
        let mut attacker = DoubleSpender::new(0, 2);
        assert_eq!(attacker.on_mined(1, block(1)), Action::Withhold);
        assert_eq!(attacker.on_mined(2, block(2)), Action::Withhold);
        assert_eq!(attacker.shown_height(), 0);
        // The payment gets its first confirmation: one is not enough.
        assert_eq!(attacker.on_public_block(1, true), Action::Withhold);
        assert_eq!(attacker.merchant_confirmations(), 1);
        assert_eq!(attacker.phase(), Phase::Racing);
    }

    #[test]
    fn once_delivered_and_ahead_the_branch_is_published() {
        let mut attacker = DoubleSpender::new(0, 2);
        attacker.on_mined(1, block(1));
        attacker.on_mined(2, block(2));
        attacker.on_public_block(1, true);
        // Second confirmation: delivered, but we are not ahead (2 against 2).
        assert_eq!(attacker.on_public_block(2, false), Action::Withhold);
        assert_eq!(
            attacker.on_mined(3, block(3)),
            Action::Publish(vec![block(1), block(2), block(3)])
        );
        assert_eq!(attacker.phase(), Phase::Released);
    }

    #[test]
    fn ahead_when_the_merchant_delivers_publishes_at_once() {
        let mut attacker = DoubleSpender::new(0, 1);
        attacker.on_mined(1, block(1));
        attacker.on_mined(2, block(2));
        assert_eq!(
            attacker.on_public_block(1, true),
            Action::Publish(vec![block(1), block(2)])
        );
    }

    #[test]
    fn zero_confirmations_means_ahead_is_enough() {
        let mut attacker = DoubleSpender::new(0, 0);
        assert_eq!(
            attacker.on_mined(1, block(1)),
            Action::Publish(vec![block(1)])
        );
    }

    #[test]
    fn falling_too_far_behind_gives_up() {
        let mut attacker = DoubleSpender::new(0, 1);
        attacker.on_mined(1, block(1));
        for height in 1..=GIVE_UP_DEFICIT {
            assert_eq!(
                attacker.on_public_block(height, height == 1),
                Action::Withhold
            );
        }
        assert_eq!(
            attacker.on_public_block(GIVE_UP_DEFICIT + 1, false),
            Action::Adopt
        );
        assert_eq!(attacker.phase(), Phase::GaveUp);
        // After the race the attacker is an honest miner: nothing is withheld any more.
        assert_eq!(attacker.on_mined(20, block(9)), Action::Withhold);
        assert!(!attacker.is_withheld(&block(9)));
    }

    #[test]
    fn old_public_blocks_are_not_news() {
        let mut attacker = DoubleSpender::new(0, 1);
        attacker.on_public_block(2, false);
        assert_eq!(attacker.on_public_block(1, true), Action::Withhold);
        // The payment's block still counts for the merchant.
        assert_eq!(attacker.merchant_confirmations(), 2);
    }
}
