//! Offering blocks: the checks a block must pass before it is stored in the block tree,
//! orphans held until their parent arrives, and sync batches committed once.

use super::commit::{Changes, CommitMode};
use super::{Chain, ChainError, Rejected, TipChange};
use crate::chain::index::{BlockStatus, IndexEntry};
use crate::chain::orphans::{Admission, Sender};
use crate::chain::store::encode;
use crate::consensus::block::{Block, BLOCK_VERSION};
use crate::consensus::difficulty::{is_retarget_height, MAX_RETARGET_FACTOR};
use crate::consensus::error::BlockError;
use crate::consensus::hash::BlockHash;
use crate::consensus::signatures::{verify_bodies, BodyVerified};
use crate::consensus::target::Work;
use crate::consensus::transaction::Transaction;
use crate::consensus::validation::{check_body, check_header, check_size, HeaderContext};
use std::collections::HashSet;

/// The result of offering a block to the chain.
#[derive(Debug)]
pub enum BlockOutcome {
    /// Already in the block tree or the orphan pool.
    AlreadyKnown,
    /// Parent unknown: held as an orphan; `missing` is the first ancestor to fetch.
    /// `over_share` says the sender had more orphans in the pool than its share, its
    /// oldest made room (see [`OrphanPool`](crate::chain::orphans::OrphanPool)), and this one carries less work than any
    /// block near our tip could: junk, not an honest block relayed while we catch up.
    Orphan {
        missing: BlockHash,
        over_share: bool,
    },
    /// Stored in the block tree.
    Accepted(Accepted),
    /// Checked as far as its branch allows, but its branch has too little work to be
    /// worth storing yet ([`WorkMargin`](crate::chain::work_margin::WorkMargin)): held in memory with the orphans, stored once
    /// blocks on it bring the branch within the margin of our tip, never relayed.
    Held,
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
        let outcome = self.process_into(block, now_ms, &mut changes, None, None, &HashSet::new());
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
        self.process_blocks_from(blocks, now_ms, None)
    }

    /// [`Chain::process_blocks`] for blocks handed over by `sender`, whose orphans count
    /// against its share of the orphan pool.
    pub fn process_blocks_from(
        &mut self,
        blocks: Vec<Block>,
        now_ms: u64,
        sender: Option<Sender>,
    ) -> Vec<Result<BlockOutcome, ChainError>> {
        self.process_batch(blocks, now_ms, sender, CommitMode::Now)
    }

    /// [`Chain::process_blocks_from`] for a sync batch: returns once the batch's commit is
    /// started, which then runs while the caller hands over the next batch, whose
    /// signatures are verified meanwhile (the commit is single-threaded, verification
    /// uses every core). Anything that uses the store next waits for the commit first;
    /// if it failed, that use reports the store error, and the caller must stop as for
    /// any failed commit. A crash meanwhile loses this batch, not the chain's
    /// consistency: the store reopens at the previous batch.
    pub fn process_sync_batch(
        &mut self,
        blocks: Vec<Block>,
        now_ms: u64,
        sender: Option<Sender>,
    ) -> Vec<Result<BlockOutcome, ChainError>> {
        self.process_batch(blocks, now_ms, sender, CommitMode::Behind)
    }

    fn process_batch(
        &mut self,
        blocks: Vec<Block>,
        now_ms: u64,
        sender: Option<Sender>,
        mode: CommitMode,
    ) -> Vec<Result<BlockOutcome, ChainError>> {
        let mut changes = Changes::default();
        let mut outcomes = Vec::with_capacity(blocks.len());
        let proven = self.proven_run(&blocks);
        let verified = self.verify_batch_signatures(&blocks, now_ms, &proven);
        for (block, signatures) in blocks.into_iter().zip(verified) {
            let outcome =
                self.process_into(block, now_ms, &mut changes, signatures, sender, &proven);
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
        if let Err(error) = self.finish_as(changes, mode) {
            outcomes.push(Err(error.into()));
        }
        outcomes
    }

    /// Verifies the signatures of a batch's bodies in one go (one entry per block; see
    /// [`verify_bodies`]), before the blocks' own checks, for the blocks
    /// [`Chain::presigned_run`] allows. The rest of the batch is left to the block-by-block
    /// checks.
    /// Blocks we already hold at the start of the batch (a peer's answer overlapping what
    /// we have) are skipped: they are never verified again. So are blocks the batch does
    /// not prove worth storing (`proven`, see [`Chain::proven_run`]): a held block's
    /// signatures wait until its branch has the work.
    fn verify_batch_signatures(
        &self,
        blocks: &[Block],
        now_ms: u64,
        proven: &HashSet<BlockHash>,
    ) -> Vec<Option<BodyVerified>> {
        let known = blocks
            .iter()
            .take_while(|block| self.index.contains(&block.hash()))
            .count();
        let fresh = &blocks[known..];
        let bodies: Vec<&[Transaction]> = fresh[..self.presigned_run(fresh, now_ms)]
            .iter()
            .take_while(|block| proven.contains(&block.hash()))
            .map(|block| block.txs.as_slice())
            .collect();
        let mut verified: Vec<Option<BodyVerified>> = std::iter::repeat_with(|| None)
            .take(known)
            .chain(verify_bodies(&bodies, &self.genesis))
            .collect();
        verified.resize_with(blocks.len(), || None);
        verified
    }

    /// How many leading blocks of a batch get their signatures verified ahead. So that a
    /// peer cannot make us verify signatures in blocks that took no work, only the leading
    /// run of blocks that extend one another from a block we hold and carry proof of work
    /// at a target no easier than consensus could allow there: the first block's expected
    /// target, eased by at most the retarget clamp (×4) at each retarget height after it.
    /// The run also ends at a block that breaks a cheap rule (version, height, reward
    /// height, a timestamp too far ahead, transaction count, size), is remembered as
    /// invalid, or is one we already hold: those are refused, or found known, without any
    /// signature being checked.
    fn presigned_run(&self, blocks: &[Block], now_ms: u64) -> usize {
        let Some(parent) = blocks
            .first()
            .and_then(|first| self.index.get(&first.header.prev))
        else {
            return 0;
        };
        let first_limit = self
            .index
            .next_target(parent, &self.params)
            .ok()
            .and_then(|compact| compact.to_target().ok());
        let (true, Some(mut limit)) = (blocks.len() > 1, first_limit) else {
            return 0;
        };
        let latest = now_ms.saturating_add(self.params.max_future_drift_ms);
        let mut height = parent.header.height;
        let mut previous: Option<BlockHash> = None;
        for (run, block) in blocks.iter().enumerate() {
            let hash = block.hash();
            if let Some(previous) = previous {
                if block.header.prev != previous {
                    return run;
                }
                if is_retarget_height(self.params.retarget_interval, block.header.height) {
                    match limit.scale(MAX_RETARGET_FACTOR, 1) {
                        Ok(eased) => limit = eased.min(self.params.pow_limit()),
                        Err(_) => return run,
                    }
                }
            }
            let worked = block
                .header
                .target
                .to_target()
                .is_ok_and(|target| target <= limit && target.is_met_by(hash.as_bytes()));
            height = height.saturating_add(1);
            let header = &block.header;
            let cheap_rules_hold = header.version == BLOCK_VERSION
                && header.height == height
                && block.reward.height == height
                && header.timestamp_ms <= latest
                && check_size(block, &self.params).is_ok()
                && self.rejected.refusal(&hash).is_none()
                && !self.index.contains(&hash)
                && !self.orphans.contains(&hash);
            if !(worked && cheap_rules_hold) {
                return run;
            }
            previous = Some(hash);
        }
        blocks.len()
    }

    /// The blocks a batch proves worth storing: when the batch's blocks extend one another
    /// from a stored block (through blocks held for want of work, if any), and the
    /// proof of work of its headers brings that branch within the work margin of our tip,
    /// every block of the branch up to the last one that does. An honest peer's answer to
    /// our locator then stores its branch however far back it forks (within one batch's
    /// reach), rather than holding its first blocks until the pool's share runs out.
    fn proven_run(&self, blocks: &[Block]) -> HashSet<BlockHash> {
        let Some(first) = blocks.first() else {
            return HashSet::new();
        };
        let mut run = Vec::new();
        let mut at = first.header.prev;
        let mut held_work = Work::ZERO;
        while let Some(held) = self.orphans.get(&at) {
            let Some(work) = held
                .header
                .target
                .to_target()
                .ok()
                .and_then(|target| held_work.checked_add(target.work()))
            else {
                return HashSet::new();
            };
            held_work = work;
            run.push(at);
            at = held.header.prev;
        }
        let Some(mut work) = self
            .index
            .get(&at)
            .and_then(|root| root.work.checked_add(held_work))
        else {
            return HashSet::new();
        };
        let mut proven_len = None;
        let mut previous = first.header.prev;
        for block in blocks {
            let Some(next) = (block.header.prev == previous)
                .then(|| block.header.target.to_target().ok())
                .flatten()
                .and_then(|target| work.checked_add(target.work()))
            else {
                break;
            };
            work = next;
            previous = block.hash();
            run.push(previous);
            if self.branch_reaches_margin(work) {
                proven_len = Some(run.len());
            }
        }
        run.truncate(proven_len.unwrap_or(0));
        run.into_iter().collect()
    }

    /// [`Chain::process_block`] without the commit: what it changes goes into `changes`.
    /// Blocks on `proven` (see [`Chain::proven_run`]) are stored whatever their own work.
    fn process_into(
        &mut self,
        block: Block,
        now_ms: u64,
        changes: &mut Changes,
        signatures: Option<BodyVerified>,
        sender: Option<Sender>,
        proven: &HashSet<BlockHash>,
    ) -> Result<BlockOutcome, ChainError> {
        let hash = block.hash();
        if self.orphans.contains(&hash) {
            return known_body(&block, hash);
        }
        if let Some(refusal) = self.rejected.refusal(&hash) {
            return Err(refusal.into());
        }
        if let Some(entry) = self.index.get(&hash) {
            if entry.status == BlockStatus::Invalid {
                return Err(BlockError::DescendsFromInvalid { ancestor: hash }.into());
            }
            return known_body(&block, hash);
        }
        if !self.index.contains(&block.header.prev) {
            return self.hold_orphan(block, hash, now_ms, changes, sender, proven);
        }
        if !proven.contains(&hash) && !self.worth_storing(&block)? {
            return self.hold_light(block, hash, now_ms, sender);
        }
        self.accept(block, hash, now_ms, changes, signatures)?;
        self.connect_stored(hash, hash, now_ms, changes, proven)
    }

    /// After `stored` was stored: stores the orphans its arrival lets in (those on
    /// `proven`, or worth storing on their own), runs fork choice, and reports what
    /// happened to `offered`.
    fn connect_stored(
        &mut self,
        offered: BlockHash,
        stored: BlockHash,
        now_ms: u64,
        changes: &mut Changes,
        proven: &HashSet<BlockHash>,
    ) -> Result<BlockOutcome, ChainError> {
        let mut accepted = Accepted {
            stored: vec![stored],
            ..Accepted::default()
        };
        self.accept_orphans_of(stored, now_ms, changes, &mut accepted, proven)?;
        let (tip_change, rejected) = self.activate_best_chain(changes)?;
        accepted.tip_change = tip_change;
        accepted.rejected.extend(rejected);
        if let Some((_, error)) = accepted.rejected.iter().find(|(h, _)| *h == offered) {
            return Err(error.clone().into());
        }
        Ok(BlockOutcome::Accepted(accepted))
    }

    /// Whether `block` (whose parent is stored) brings its branch within the work margin
    /// of our tip. A block whose target does not decode is left to [`Chain::accept`],
    /// which names the rule it breaks.
    fn worth_storing(&self, block: &Block) -> Result<bool, ChainError> {
        let (Some(parent), Ok(target)) = (
            self.index.get(&block.header.prev),
            block.header.target.to_target(),
        ) else {
            return Ok(true);
        };
        let Some(branch) = parent.work.checked_add(target.work()) else {
            return Ok(true);
        };
        Ok(self.branch_reaches_margin(branch))
    }

    fn branch_reaches_margin(&self, branch: Work) -> bool {
        let tip = self.index.tip();
        let tip_block = tip
            .header
            .target
            .to_target()
            .map_or(Work::ZERO, |target| target.work());
        self.work_margin.worth_storing(branch, tip.work, tip_block)
    }

    /// A block on a stored parent whose branch is too light to store: every rule its
    /// parent lets us check (the header's, with its proof of work; sizes) is checked
    /// first, so what is held took real work at the branch's difficulty; the body's
    /// signatures wait until the branch is worth storing.
    fn hold_light(
        &mut self,
        block: Block,
        hash: BlockHash,
        now_ms: u64,
        sender: Option<Sender>,
    ) -> Result<BlockOutcome, ChainError> {
        self.check_header_on_parent(&block, now_ms)?;
        check_size(&block, &self.params)?;
        let bytes = block.encoded_size();
        match self.orphans.insert(hash, block, sender) {
            Admission::TooLarge { max } => Err(BlockError::TooLarge {
                bytes,
                max: max as u64,
            }
            .into()),
            Admission::Held | Admission::HeldOverShare => Ok(BlockOutcome::Held),
        }
    }

    /// A block whose parent is not stored: held with the orphans. If it extends a held
    /// branch that hangs off a stored block (see [`Chain::hold_light`]) and brings that
    /// branch within the margin, the branch is stored now, from its first block.
    fn hold_orphan(
        &mut self,
        block: Block,
        hash: BlockHash,
        now_ms: u64,
        changes: &mut Changes,
        sender: Option<Sender>,
        proven: &HashSet<BlockHash>,
    ) -> Result<BlockOutcome, ChainError> {
        self.check_orphan_work(&block, hash)?;
        check_size(&block, &self.params)?;
        let block_bytes = block.encoded_size();
        let cheap = self.cheaper_than_the_tip(&block);
        let over_share = match self.orphans.insert(hash, block, sender) {
            Admission::Held => false,
            Admission::HeldOverShare => cheap,
            Admission::TooLarge { max } => {
                let bytes = block_bytes;
                return Err(BlockError::TooLarge {
                    bytes,
                    max: max as u64,
                }
                .into());
            }
        };
        let missing = self.orphans.missing_root(&hash).unwrap_or(hash);
        if !self.index.contains(&missing) {
            return Ok(BlockOutcome::Orphan {
                missing,
                over_share,
            });
        }
        let Some((first, mut branch)) = self.proven_branch(hash, missing, proven) else {
            return Ok(BlockOutcome::Held);
        };
        branch.extend(proven.iter().copied());
        let proven = &branch;
        let Some(first_block) = self.orphans.take(&first) else {
            return Ok(BlockOutcome::Held);
        };
        match self.accept(first_block, first, now_ms, changes, None) {
            Err(ChainError::Block(error)) if error.is_invalid() && first != hash => {
                Err(BlockError::DescendsFromInvalid { ancestor: first }.into())
            }
            Err(error) => Err(error),
            Ok(()) => self.connect_stored(hash, first, now_ms, changes, proven),
        }
    }

    /// The held branch from the stored block `root` up to `hash`, if its work reaches the
    /// margin (or its batch proved it: `proven` holds `hash`): its first block, and every
    /// block on it.
    fn proven_branch(
        &self,
        hash: BlockHash,
        root: BlockHash,
        proven: &HashSet<BlockHash>,
    ) -> Option<(BlockHash, HashSet<BlockHash>)> {
        let mut path = HashSet::new();
        let mut work = Work::ZERO;
        let mut at = hash;
        let mut first = hash;
        while let Some(block) = self.orphans.get(&at) {
            let target = block.header.target.to_target().ok()?;
            work = work.checked_add(target.work())?;
            path.insert(at);
            first = at;
            at = block.header.prev;
        }
        let branch = self.index.get(&root)?.work.checked_add(work)?;
        (proven.contains(&hash) || self.branch_reaches_margin(branch)).then_some((first, path))
    }

    /// Whether `block` carries less work than any block near our tip could: a target
    /// easier than the tip's eased by the retarget clamp. Honest blocks relayed past our
    /// tip (while we catch up) are not; pow-limit junk is.
    fn cheaper_than_the_tip(&self, block: &Block) -> bool {
        let Ok(target) = block.header.target.to_target() else {
            return true;
        };
        let Ok(tip) = self.index.tip().header.target.to_target() else {
            return false;
        };
        // Past the largest target, nothing can be easier.
        tip.scale(MAX_RETARGET_FACTOR, 1)
            .is_ok_and(|easiest| target > easiest)
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
    ) -> Result<(), ChainError> {
        let parent_work = self.check_header_on_parent(&block, now_ms)?;
        let txids = check_body(&block, &self.params, &self.genesis, signatures)
            .inspect_err(|reason| self.rejected.remember(hash, &block, reason))?;
        let block_work = block
            .header
            .target
            .to_target()
            .map_err(BlockError::InvalidTarget)?
            .work();
        let work = parent_work
            .checked_add(block_work)
            .ok_or(BlockError::WorkOverflow)?;
        let encoded = encode(&block)?;
        let entry = IndexEntry {
            header: block.header,
            hash,
            work,
            status: BlockStatus::Unchecked,
            seq: self.index.take_seq(),
        };
        self.index.insert(entry);
        changes.touched_entries.insert(hash);
        changes.batch.blocks.push((hash, encoded));
        changes.new_blocks.insert(hash, block);
        changes.new_txids.insert(hash, txids);
        Ok(())
    }

    /// Checks `block`'s header against its stored parent, whose cumulative work it
    /// returns.
    fn check_header_on_parent(&self, block: &Block, now_ms: u64) -> Result<Work, ChainError> {
        let parent = self
            .index
            .get(&block.header.prev)
            .ok_or(BlockError::UnknownParent {
                parent: block.header.prev,
            })?;
        if parent.status == BlockStatus::Invalid {
            return Err(BlockError::DescendsFromInvalid {
                ancestor: parent.hash,
            }
            .into());
        }
        let context = self.header_context(parent, now_ms)?;
        check_header(&block.header, &context, &self.params)?;
        Ok(parent.work)
    }

    /// What a block on `parent` is checked against.
    fn header_context(
        &self,
        parent: &IndexEntry,
        now_ms: u64,
    ) -> Result<HeaderContext, BlockError> {
        Ok(HeaderContext {
            parent_height: parent.header.height,
            expected_target: self
                .index
                .next_target(parent, &self.params)
                .map_err(BlockError::InvalidTarget)?,
            median_time_past: self.index.median_time_past(&parent.hash),
            now_ms,
        })
    }

    /// Stores every orphan that descends from `parent`, breadth first: those on `proven`
    /// (a held branch whose tip reached the margin), and the others only if their own
    /// branch is worth storing; the rest are dropped.
    fn accept_orphans_of(
        &mut self,
        parent: BlockHash,
        now_ms: u64,
        changes: &mut Changes,
        accepted: &mut Accepted,
        proven: &HashSet<BlockHash>,
    ) -> Result<(), ChainError> {
        let mut parents = vec![parent];
        while let Some(parent) = parents.pop() {
            for child in self.orphans.take_children(&parent) {
                let hash = child.hash();
                if !proven.contains(&hash) && !self.worth_storing(&child)? {
                    continue;
                }
                match self.accept(child, hash, now_ms, changes, None) {
                    Ok(()) => {
                        accepted.stored.push(hash);
                        parents.push(hash);
                    }
                    Err(ChainError::Block(error)) => accepted.rejected.push((hash, error)),
                    Err(store) => return Err(store),
                }
            }
        }
        Ok(())
    }
}

/// A block we already hold, offered again: known, if the body is the one its header
/// commits to. Another body under a known header is no honest mistake (an honest peer
/// sends the block it has), so it is refused as the sender's misbehaviour; the block we
/// hold is untouched. Checking costs hashing the body, never a signature.
fn known_body(block: &Block, hash: BlockHash) -> Result<BlockOutcome, ChainError> {
    if block.compute_merkle_root() != block.header.merkle_root {
        return Err(BlockError::OtherBodyForKnownBlock { hash }.into());
    }
    Ok(BlockOutcome::AlreadyKnown)
}

#[cfg(test)]
mod batch_signature_tests {
    //! Which blocks of a sync batch get their signatures verified ahead of their checks:
    //! only work a peer could not fake cheaply, that breaks no cheap rule and is not
    //! remembered as invalid.

    use super::*;
    use crate::chain::mempool::MempoolLimits;
    use crate::consensus::error::TxError;
    use crate::consensus::params::ChainParams;
    use crate::consensus::target::Target;
    use crate::consensus::transaction::Signature;
    use crate::testkit::{self, address, key};
    use std::path::Path;

    const ALICE: u64 = 1;

    fn open(dir: &Path) -> Chain {
        let params = ChainParams {
            pow_limit_bits: 1,
            initial_difficulty_bits: 8,
            max_block_txs: 2_000,
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
        let now = blocks.last().map_or(0, |block| block.header.timestamp_ms);
        let proven = chain.proven_run(blocks);
        let run = blocks[..chain.presigned_run(blocks, now)]
            .iter()
            .take_while(|block| proven.contains(&block.hash()))
            .count();
        let verified = chain.verify_batch_signatures(blocks, now, &proven);
        assert!(verified[run..].iter().all(Option::is_none));
        (0..blocks.len()).map(|at| at < run).collect()
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
        // A cheap header rule broken by the second block (its height) ends the run there.
        let mut misnumbered = honest.clone();
        misnumbered[1].header.height += 1;
        misnumbered[1].reward.height += 1;
        testkit::seal(&mut misnumbered[1]);
        assert_eq!(covered(&chain, &misnumbered), [true, false]);
    }

    /// `honest` with a bad signature in the first block, re-mined and re-linked.
    fn badly_signed(mut blocks: Vec<Block>) -> Vec<Block> {
        blocks[0].txs[0].signature = Signature::from_bytes([0; 64]);
        testkit::seal(&mut blocks[0]);
        blocks[1].header.prev = blocks[0].hash();
        testkit::seal(&mut blocks[1]);
        blocks
    }

    fn first_error(outcomes: Vec<Result<BlockOutcome, ChainError>>) -> BlockError {
        match outcomes.into_iter().next() {
            Some(Err(ChainError::Block(error))) => error,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn blocks_too_light_to_store_are_not_verified_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let honest = honest_batch();
        // Our chain moves on 10 blocks past the batch's fork point: the batch, at the
        // expected difficulty, is now a side branch too light to be stored.
        testkit::extend(&mut chain, address(8), 10);
        assert_eq!(covered(&chain, &honest), [false, false]);
    }

    #[test]
    fn a_replayed_invalid_batch_is_refused_from_memory_without_signature_checks() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let batch = badly_signed(honest_batch());
        let bad = batch[0].hash();
        assert_eq!(covered(&chain, &batch), [true, true]);
        let reason = first_error(chain.process_blocks(batch.clone(), batch[1].header.timestamp_ms));
        assert!(
            matches!(
                &reason,
                BlockError::InvalidTransaction {
                    error: TxError::BadSignature,
                    ..
                }
            ),
            "{reason}"
        );
        assert_eq!(chain.remembered_invalid(), 1);

        // Replayed: no signature is checked ahead, and the block is refused by a lookup.
        assert_eq!(covered(&chain, &batch), [false, false]);
        match first_error(chain.process_blocks(batch.clone(), batch[1].header.timestamp_ms)) {
            BlockError::KnownInvalid {
                hash,
                reason: first,
            } => {
                assert_eq!(hash, bad);
                assert_eq!(*first, reason);
            }
            other => panic!("expected the remembered refusal, got {other}"),
        }
        // The honest blocks are not tainted by the forgery of their bodies.
        let honest = honest_batch();
        let outcomes = chain.process_blocks(honest.clone(), honest[1].header.timestamp_ms);
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        assert_eq!(chain.tip().hash, honest[1].hash());
    }

    #[test]
    fn blocks_over_the_count_rule_are_refused_before_any_signature() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let max = chain.params().max_block_txs as u64;
        // Two blocks at the expected difficulty, each with 9,000 wrongly signed transfers.
        let junk =
            |nonce| testkit::transfer(&key(ALICE), address(2), 1, 1, nonce, &chain.genesis_hash());
        let mut batch = honest_batch();
        let forged = junk(0);
        for block in &mut batch {
            block.txs = (0..9_000)
                .map(|nonce| Transaction {
                    nonce,
                    signature: Signature::from_bytes([1; 64]),
                    ..forged.clone()
                })
                .collect();
        }
        assert!(9_000 > max);
        testkit::seal(&mut batch[0]);
        batch[1].header.prev = batch[0].hash();
        testkit::seal(&mut batch[1]);
        assert_eq!(covered(&chain, &batch), [false, false]);
        let now = batch[1].header.timestamp_ms;
        let reason = first_error(chain.process_blocks(batch.clone(), now));
        assert!(
            matches!(reason, BlockError::TooManyTransactions { count: 9_000, .. }),
            "{reason}"
        );
        // The header commits to that body, so it is remembered.
        assert!(matches!(
            first_error(chain.process_blocks(batch, now)),
            BlockError::KnownInvalid { .. }
        ));
    }
}

#[cfg(test)]
mod work_tests {
    //! Cumulative work that no longer fits is refused with its own reason, instead of the
    //! child silently getting its parent's work (and so never winning fork choice).

    use super::*;
    use crate::chain::mempool::MempoolLimits;
    use crate::consensus::target::Work;
    use crate::testkit::{self, address};

    #[test]
    fn cumulative_work_past_2_pow_256_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain =
            Chain::open(dir.path(), testkit::params(&[]), MempoolLimits::default()).unwrap();
        let mut genesis = chain.index.get(&chain.genesis_hash()).unwrap().clone();
        genesis.work = Work::from_be_bytes([0xff; 32]);
        chain.index.insert(genesis);
        let block = testkit::next_block(&chain, address(9), Vec::new());
        let now = block.header.timestamp_ms;
        assert!(matches!(
            chain.process_block(block, now),
            Err(ChainError::Block(BlockError::WorkOverflow))
        ));
    }
}
