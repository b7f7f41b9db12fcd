//! A miner's private branch: its own blocks that it has not published yet, oldest first.
//! Shared by the block-withholding strategies (`selfish`, `double_spend`): both keep
//! blocks back, show peers only the chain below them, and later publish some or all.

use crate::consensus::hash::BlockHash;
use std::collections::VecDeque;

/// What the node does after an event of a withholding strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to send: our new block stays private (or the event changes nothing).
    Withhold,
    /// Relay these of our blocks, oldest first.
    Publish(Vec<BlockHash>),
    /// The public chain won: our private blocks, if any, are abandoned.
    Adopt,
}

/// Our withheld blocks with their heights, oldest first.
#[derive(Clone, Debug, Default)]
pub struct PrivateBranch {
    withheld: VecDeque<(u64, BlockHash)>,
}

impl PrivateBranch {
    pub fn withhold(&mut self, height: u64, hash: BlockHash) {
        self.withheld.push_back((height, hash));
    }

    pub fn is_withheld(&self, hash: &BlockHash) -> bool {
        self.withheld.iter().any(|(_, withheld)| withheld == hash)
    }

    /// The height peers may see: just below our oldest withheld block, or `tip_height`
    /// when nothing is withheld.
    pub fn shown_height(&self, tip_height: u64) -> u64 {
        self.withheld
            .front()
            .map_or(tip_height, |(height, _)| height.saturating_sub(1))
    }

    /// Publishes every withheld block.
    pub fn publish_all(&mut self) -> Action {
        Action::Publish(self.withheld.drain(..).map(|(_, hash)| hash).collect())
    }

    /// Publishes the oldest withheld block, if any.
    pub fn publish_first(&mut self) -> Action {
        match self.withheld.pop_front() {
            Some((_, hash)) => Action::Publish(vec![hash]),
            None => Action::Withhold,
        }
    }

    /// Abandons the withheld blocks.
    pub fn abandon(&mut self) {
        self.withheld.clear();
    }
}
