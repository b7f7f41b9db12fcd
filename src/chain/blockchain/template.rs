//! The block a miner works on next: on top of the tip, at the expected target, filled
//! from the mempool within the block limits.

use super::Chain;
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use crate::consensus::target::Target;
use crate::consensus::transaction::{Reward, Transaction};
use log::warn;

/// A block ready for mining: find a nonce so that the header's hash meets `target`.
#[derive(Clone, Debug)]
pub struct BlockTemplate {
    pub block: Block,
    pub target: Target,
}

impl Chain {
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
        let mut txs = self.mempool.select(
            &self.state,
            self.params.max_block_txs as usize,
            self.body_budget(),
        );
        let reward_with = |txs: &[Transaction]| {
            Amount::checked_sum(txs.iter().map(|tx| tx.fee))
                .and_then(|fees| self.params.block_reward.checked_add(fees))
        };
        let amount = match reward_with(&txs) {
            Some(amount) => amount,
            None => {
                // Such a block would be invalid (BlockError::FeeOverflow): mine an empty
                // one rather than a block no node accepts.
                warn!("the selected transactions' fees overflow the reward; mining an empty block");
                txs.clear();
                self.params.block_reward
            }
        };
        let reward = Reward {
            miner,
            amount,
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
                amount: Amount::ZERO,
                height: 0,
            },
            txs: Vec::new(),
        };
        (self.params.max_block_bytes as usize).saturating_sub(empty.encoded_size())
    }
}
