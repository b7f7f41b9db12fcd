//! A bounded memory of blocks found invalid, so that a peer replaying them (on this
//! connection or the next) costs a lookup instead of another round of signature checks.
//!
//! Only blocks whose failure is pinned to their hash are remembered: a block hash covers
//! the header, and the header's merkle root covers the body, so a body is remembered as
//! invalid only if it is the body the header commits to. (Otherwise anyone could take an
//! honest header, attach a broken body, and have the honest block refused from memory.)
//! Failures cheaper to find again than to store, such as bad proof of work, are not
//! remembered, so junk cannot push out the entries that matter. The oldest entry goes
//! first when the memory is full.

use crate::consensus::block::Block;
use crate::consensus::error::BlockError;
use crate::consensus::hash::BlockHash;
use std::collections::{HashMap, VecDeque};

/// Most blocks remembered as invalid.
pub const REJECTED_CAPACITY: usize = 4096;

/// Hashes of blocks found invalid, with the reason.
#[derive(Debug)]
pub struct RejectedBlocks {
    reasons: HashMap<BlockHash, BlockError>,
    order: VecDeque<BlockHash>,
    capacity: usize,
}

impl RejectedBlocks {
    pub fn new(capacity: usize) -> Self {
        RejectedBlocks {
            reasons: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.reasons.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The refusal for a block remembered as invalid.
    pub fn refusal(&self, hash: &BlockHash) -> Option<BlockError> {
        self.reasons
            .get(hash)
            .map(|reason| BlockError::KnownInvalid {
                hash: *hash,
                reason: Box::new(reason.clone()),
            })
    }

    /// Remembers that `block` broke a rule, if the failure is pinned to its hash (see
    /// the module comment).
    pub fn remember(&mut self, hash: BlockHash, block: &Block, reason: &BlockError) {
        if self.capacity == 0 || self.reasons.contains_key(&hash) || !pinned(block, reason) {
            return;
        }
        while self.reasons.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => self.reasons.remove(&oldest),
                None => break,
            };
        }
        self.order.push_back(hash);
        self.reasons.insert(hash, reason.clone());
    }
}

/// Whether `reason` is a property of the block its hash names, and costly to find again.
fn pinned(block: &Block, reason: &BlockError) -> bool {
    match reason {
        // Rules on the body that the merkle root commits to: remembered only when this
        // is that body.
        BlockError::TooManyTransactions { .. }
        | BlockError::TooLarge { .. }
        | BlockError::RewardHeightMismatch { .. } => {
            block.compute_merkle_root() == block.header.merkle_root
        }
        // Found after the merkle root was checked, so about the committed body.
        BlockError::DuplicateTransaction { .. }
        | BlockError::InvalidTransaction { .. }
        | BlockError::FeeOverflow
        | BlockError::BadReward { .. } => true,
        // Header rules cost one hash to check again; a mismatched merkle root says
        // nothing about the block the header names; the rest is not final.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::amount::Amount;
    use crate::consensus::error::TxError;
    use crate::consensus::hash::TxId;
    use crate::testkit::{self, address};

    fn block(nonce: u64) -> Block {
        let dir = tempfile::tempdir().unwrap();
        let chain = crate::chain::Chain::open(
            dir.path(),
            testkit::params(&[]),
            crate::chain::mempool::MempoolLimits::default(),
        )
        .unwrap();
        let mut block = testkit::next_block(&chain, address(nonce), Vec::new());
        block.header.nonce = nonce;
        block
    }

    fn bad_signature() -> BlockError {
        BlockError::InvalidTransaction {
            index: 0,
            txid: TxId::default(),
            error: TxError::BadSignature,
        }
    }

    #[test]
    fn remembers_committed_failures_and_forgets_the_oldest() {
        let mut rejected = RejectedBlocks::new(2);
        let blocks: Vec<Block> = (1..=3).map(block).collect();
        for block in &blocks {
            rejected.remember(block.hash(), block, &bad_signature());
        }
        assert_eq!(rejected.len(), 2);
        assert!(rejected.refusal(&blocks[0].hash()).is_none());
        match rejected.refusal(&blocks[2].hash()) {
            Some(BlockError::KnownInvalid { hash, reason }) => {
                assert_eq!(hash, blocks[2].hash());
                assert_eq!(*reason, bad_signature());
            }
            other => panic!("expected a remembered refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_body_the_header_does_not_commit_to_is_not_remembered() {
        let mut rejected = RejectedBlocks::new(8);
        let honest = block(1);
        let too_many = BlockError::TooManyTransactions { count: 9, max: 1 };
        let mut mutated = honest.clone();
        mutated.reward.amount = Amount::new(mutated.reward.amount.get() + 1);
        rejected.remember(mutated.hash(), &mutated, &too_many);
        assert!(
            rejected.is_empty(),
            "an honest header was blamed for a body"
        );
        rejected.remember(honest.hash(), &honest, &too_many);
        assert!(rejected.refusal(&honest.hash()).is_some());
        let cheap = block(2);
        rejected.remember(
            cheap.hash(),
            &cheap,
            &BlockError::InsufficientProofOfWork { hash: cheap.hash() },
        );
        assert!(rejected.refusal(&cheap.hash()).is_none());
    }
}
