//! Offering blocks: the checks a block must pass before it is stored in the block tree,
//! orphans held until their parent arrives, and sync batches committed once.

use super::commit::{encode_block, Changes};
use super::{Chain, ChainError, Rejected, TipChange};
use crate::chain::index::{BlockStatus, IndexEntry};
use crate::consensus::block::Block;
use crate::consensus::difficulty::{is_retarget_height, MAX_RETARGET_FACTOR};
use crate::consensus::error::BlockError;
use crate::consensus::hash::BlockHash;
use crate::consensus::signatures::{verify_bodies, BodyVerified};
use crate::consensus::validation::{check_body, check_header, HeaderContext};

/// The result of offering a block to the chain.
#[derive(Debug)]
pub enum BlockOutcome {
    /// Already in the block tree or the orphan pool.
    AlreadyKnown,
    /// Parent unknown: held as an orphan; `missing` is the first ancestor to fetch.
    Orphan { missing: BlockHash },
    /// Stored in the block tree.
    Accepted(Accepted),
}

/// What storing a block changed.
#[derive(Debug, Default)]
pub struct Accepted {
    /// Blocks newly stored: the offered one, then orphans it let in.
    pub stored: Vec<BlockHash>,
    /// Set when the best tip moved.
    pub tip_change: Option<TipChange>,
    /// Blocks found invalid along the way (resolved orphans, or a branch that failed to
    /// connect), with the reason.
    pub rejected: Rejected,
}

impl Chain {
    /// Offers a block (mined here, or received from a peer).
    pub fn process_block(&mut self, block: Block, now_ms: u64) -> Result<BlockOutcome, ChainError> {
        let mut changes = Changes::default();
        let outcome = self.process_into(block, now_ms, &mut changes, None);
        if let Err(ChainError::Store(_)) = outcome {
            // Memory is ahead of disk: the caller must stop; nothing more is written.
            return outcome;
        }
        self.finish(changes)?;
        outcome
    }

    /// Offers blocks in order (a sync batch), as [`Chain::process_block`] would one by one,
    /// but with ONE store commit for the whole batch instead of one (with its fsync) per
    /// block, and with the signatures of all the batch's bodies verified together over
    /// every core. Processing stops at the first error, which ends the returned list; what
    /// came before it (including blocks that error marked invalid) is committed. A failed
    /// commit is reported as a store error at the end of the list.
    pub fn process_blocks(
        &mut self,
        blocks: Vec<Block>,
        now_ms: u64,
    ) -> Vec<Result<BlockOutcome, ChainError>> {
        let mut changes = Changes::default();
        let mut outcomes = Vec::with_capacity(blocks.len());
        let verified = self.verify_batch_signatures(&blocks);
        for (block, signatures) in blocks.into_iter().zip(verified) {
            let outcome = self.process_into(block, now_ms, &mut changes, signatures);
            let stop = outcome.is_err();
            let store_failed = matches!(outcome, Err(ChainError::Store(_)));
            outcomes.push(outcome);
            if store_failed {
                return outcomes;
            }
            if stop {
                break;
            }
        }
        if let Err(error) = self.finish(changes) {
            outcomes.push(Err(error.into()));
        }
        outcomes
    }

    /// Verifies the signatures of a batch's bodies in one go (one entry per block; see
    /// [`verify_bodies`]), before the blocks' own checks. So that a peer cannot make us
    /// verify signatures in blocks that took no work, this covers only the leading run of
    /// blocks that extend one another from a block we hold and carry proof of work at a
    /// target no easier than consensus could allow there: the first block's expected
    /// target, eased by at most the retarget clamp (×4) at each retarget height after it.
    /// The rest of the batch is left to the block-by-block checks.
    fn verify_batch_signatures(&self, blocks: &[Block]) -> Vec<Option<BodyVerified>> {
        let mut bodies = Vec::new();
        let first_limit = blocks
            .first()
            .and_then(|first| self.index.get(&first.header.prev))
            .and_then(|parent| self.index.next_target(parent, &self.params).ok())
            .and_then(|compact| compact.to_target().ok());
        if let (true, Some(mut limit)) = (blocks.len() > 1, first_limit) {
            let mut previous: Option<BlockHash> = None;
            for block in blocks {
                let hash = block.hash();
                if let Some(previous) = previous {
                    if block.header.prev != previous {
                        break;
                    }
                    if is_retarget_height(self.params.retarget_interval, block.header.height) {
                        match limit.scale(MAX_RETARGET_FACTOR, 1) {
                            Ok(eased) => limit = eased.min(self.params.pow_limit()),
                            Err(_) => break,
                        }
                    }
                }
                let worked = block
                    .header
                    .target
                    .to_target()
                    .is_ok_and(|target| target <= limit && target.is_met_by(hash.as_bytes()));
                if !worked {
                    break;
                }
                previous = Some(hash);
                bodies.push(block.txs.as_slice());
            }
        }
        let mut verified = verify_bodies(&bodies, &self.genesis);
        verified.resize_with(blocks.len(), || None);
        verified
    }

    /// [`Chain::process_block`] without the commit: what it changes goes into `changes`.
    fn process_into(
        &mut self,
        block: Block,
        now_ms: u64,
        changes: &mut Changes,
        signatures: Option<BodyVerified>,
    ) -> Result<BlockOutcome, ChainError> {
        let hash = block.hash();
        if self.orphans.contains(&hash) {
            return Ok(BlockOutcome::AlreadyKnown);
        }
        if let Some(entry) = self.index.get(&hash) {
            if entry.status == BlockStatus::Invalid {
                return Err(BlockError::DescendsFromInvalid { ancestor: hash }.into());
            }
            return Ok(BlockOutcome::AlreadyKnown);
        }
        if !self.index.contains(&block.header.prev) {
            self.check_orphan_work(&block, hash)?;
            self.orphans.insert(hash, block);
            let missing = self.orphans.missing_root(&hash).unwrap_or(hash);
            return Ok(BlockOutcome::Orphan { missing });
        }
        self.accept(block, hash, now_ms, changes, signatures)?;
        let mut accepted = Accepted {
            stored: vec![hash],
            ..Accepted::default()
        };
        self.accept_orphans_of(hash, now_ms, changes, &mut accepted);
        let (tip_change, rejected) = self.activate_best_chain(changes)?;
        accepted.tip_change = tip_change;
        accepted.rejected.extend(rejected);
        if let Some((_, error)) = accepted.rejected.iter().find(|(h, _)| *h == hash) {
            return Err(error.clone().into());
        }
        Ok(BlockOutcome::Accepted(accepted))
    }

    /// An orphan cannot be fully checked, but its proof of work can: without it, anyone
    /// could fill the pool for free.
    fn check_orphan_work(&self, block: &Block, hash: BlockHash) -> Result<(), BlockError> {
        let target = block
            .header
            .target
            .to_target()
            .map_err(BlockError::InvalidTarget)?;
        if target > self.params.pow_limit() || !target.is_met_by(hash.as_bytes()) {
            return Err(BlockError::InsufficientProofOfWork { hash });
        }
        Ok(())
    }

    /// Checks a block whose parent is in the tree and adds it to the tree.
    fn accept(
        &mut self,
        block: Block,
        hash: BlockHash,
        now_ms: u64,
        changes: &mut Changes,
        signatures: Option<BodyVerified>,
    ) -> Result<(), BlockError> {
        let parent = self
            .index
            .get(&block.header.prev)
            .ok_or(BlockError::UnknownParent {
                parent: block.header.prev,
            })?;
        if parent.status == BlockStatus::Invalid {
            return Err(BlockError::DescendsFromInvalid {
                ancestor: parent.hash,
            });
        }
        let context = HeaderContext {
            parent_height: parent.header.height,
            expected_target: self
                .index
                .next_target(parent, &self.params)
                .map_err(BlockError::InvalidTarget)?,
            median_time_past: self.index.median_time_past(&parent.hash),
            now_ms,
        };
        check_header(&block.header, &context, &self.params)?;
        let txids = check_body(&block, &self.params, &self.genesis, signatures)?;
        let block_work = block
            .header
            .target
            .to_target()
            .map_err(BlockError::InvalidTarget)?
            .work();
        let entry = IndexEntry {
            header: block.header,
            hash,
            work: parent.work.checked_add(block_work).unwrap_or(parent.work),
            status: BlockStatus::Unchecked,
            seq: self.index.take_seq(),
        };
        self.index.insert(entry);
        changes.touched_entries.insert(hash);
        changes.batch.blocks.push((hash, encode_block(&block)));
        changes.new_blocks.insert(hash, block);
        changes.new_txids.insert(hash, txids);
        Ok(())
    }

    /// Stores every orphan that descends from `parent`, breadth first.
    fn accept_orphans_of(
        &mut self,
        parent: BlockHash,
        now_ms: u64,
        changes: &mut Changes,
        accepted: &mut Accepted,
    ) {
        let mut parents = vec![parent];
        while let Some(parent) = parents.pop() {
            for child in self.orphans.take_children(&parent) {
                let hash = child.hash();
                match self.accept(child, hash, now_ms, changes, None) {
                    Ok(()) => {
                        accepted.stored.push(hash);
                        parents.push(hash);
                    }
                    Err(error) => accepted.rejected.push((hash, error)),
                }
            }
        }
    }
}

#[cfg(test)]
mod batch_signature_tests {
    //! Which blocks of a sync batch get their signatures verified ahead of their checks:
    //! only work a peer could not fake cheaply.

    use super::*;
    use crate::chain::mempool::MempoolLimits;
    use crate::consensus::params::ChainParams;
    use crate::consensus::target::Target;
    use crate::testkit::{self, address, key};
    use std::path::Path;

    const ALICE: u64 = 1;

    fn open(dir: &Path) -> Chain {
        let params = ChainParams {
            pow_limit_bits: 1,
            initial_difficulty_bits: 8,
            ..testkit::params(&[(address(ALICE), 1_000)])
        };
        Chain::open(dir, params, MempoolLimits::default()).unwrap()
    }

    /// Two valid blocks with a transfer each, built on a scratch copy of the chain.
    fn honest_batch() -> Vec<Block> {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = open(dir.path());
        (0..2)
            .map(|nonce| {
                let tx = testkit::transfer(
                    &key(ALICE),
                    address(2),
                    1,
                    1,
                    nonce,
                    &builder.genesis_hash(),
                );
                let block = testkit::next_block(&builder, address(9), vec![tx]);
                builder
                    .process_block(block.clone(), block.header.timestamp_ms)
                    .unwrap();
                block
            })
            .collect()
    }

    fn covered(chain: &Chain, blocks: &[Block]) -> Vec<bool> {
        chain
            .verify_batch_signatures(blocks)
            .iter()
            .map(Option::is_some)
            .collect()
    }

    #[test]
    fn only_linked_blocks_at_the_expected_difficulty_are_verified_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let chain = open(dir.path());
        let honest = honest_batch();
        assert_eq!(covered(&chain, &honest), [true, true]);
        // The second block does not extend the first.
        assert_eq!(
            covered(&chain, &[honest[0].clone(), honest[0].clone()]),
            [true, false]
        );
        // The same blocks mined at the pow limit, easier than the chain expects: cheap to
        // make, so nothing is verified before their headers are checked.
        let easy = Target::from_leading_zero_bits(1).unwrap().to_compact();
        let mut cheap = honest.clone();
        cheap[0].header.target = easy;
        testkit::seal(&mut cheap[0]);
        cheap[1].header.target = easy;
        cheap[1].header.prev = cheap[0].hash();
        testkit::seal(&mut cheap[1]);
        assert_eq!(covered(&chain, &cheap), [false, false]);
    }
}
