//! The block a miner works on next: on top of the tip, at the expected target, filled
//! from the mempool within the block limits.

use super::Chain;
use crate::consensus::address::Address;
use crate::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use crate::consensus::target::Target;
use crate::consensus::transaction::Reward;

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
        let txs = self.mempool.select(
            &self.state,
            self.params.max_block_txs as usize,
            self.body_budget(),
        );
        let fees = txs.iter().fold(0u64, |sum, tx| sum.saturating_add(tx.fee));
        let reward = Reward {
            miner,
            amount: self.params.block_reward.saturating_add(fees),
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
                amount: 0,
                height: 0,
            },
            txs: Vec::new(),
        };
        (self.params.max_block_bytes as usize).saturating_sub(empty.encoded_size())
    }
}
