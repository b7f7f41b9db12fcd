//! Fork choice: moving the active chain to the valid tip with the most work, connecting
//! blocks with full state validation and disconnecting them with their undo data.

use super::commit::Changes;
use super::{Chain, Rejected};
use crate::chain::index::BlockStatus;
use crate::chain::state::BlockUndo;
use crate::chain::store::StoreError;
use crate::chain::tx_index::TxPlace;
use crate::consensus::block::Block;
use crate::consensus::hash::{BlockHash, TxId};
use std::collections::HashMap;

/// How the active chain moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TipChange {
    pub old_tip: BlockHash,
    pub new_tip: BlockHash,
    pub height: u64,
    /// The height of the last block both chains share: where the branches split.
    pub fork_height: u64,
    /// Blocks that left the active chain, old tip first. Non-empty means a reorg.
    pub disconnected: Vec<BlockHash>,
    /// Blocks that joined the active chain, lowest first.
    pub connected: Vec<BlockHash>,
    /// Transactions of disconnected blocks that went back to the mempool.
    pub returned_to_mempool: usize,
}

impl Chain {
    fn load_block(&self, hash: &BlockHash, changes: &Changes) -> Result<Block, StoreError> {
        if let Some(block) = changes.new_blocks.get(hash) {
            return Ok(block.clone());
        }
        self.store
            .block(hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("block {hash} is indexed but not stored")))
    }

    /// Moves the active chain to the best valid tip.
    pub(super) fn activate_best_chain(
        &mut self,
        changes: &mut Changes,
    ) -> Result<(Option<TipChange>, Rejected), StoreError> {
        let old_tip = self.index.tip().hash;
        let mut rejected = Vec::new();
        let mut disconnected_blocks: HashMap<BlockHash, Block> = HashMap::new();
        loop {
            let best = self.index.best_candidate().hash;
            if best == self.index.tip().hash {
                break;
            }
            let (fork_height, path) = self.index.branch_to(&best).ok_or_else(|| {
                StoreError::Corrupt(format!("block {best} has no path to the chain"))
            })?;
            while self.index.tip().header.height > fork_height {
                let (hash, block) = self.disconnect_tip(changes)?;
                disconnected_blocks.insert(hash, block);
            }
            for hash in path {
                let block = self.load_block(&hash, changes)?;
                match self.state.apply_block(&block, &self.params) {
                    Ok(undo) => self.record_connect(hash, &block, undo, changes),
                    Err(error) => {
                        for invalid in self.index.mark_invalid(&hash) {
                            changes.touched_entries.insert(invalid);
                        }
                        rejected.push((hash, error));
                        break;
                    }
                }
            }
        }
        let new_tip = self.index.tip().hash;
        if new_tip == old_tip {
            return Ok((None, rejected));
        }
        // Blocks of the old chain that are not on the new one, old tip first.
        let mut disconnected = Vec::new();
        let mut cursor = old_tip;
        while !self.index.is_active(&cursor) {
            disconnected.push(cursor);
            cursor = self
                .index
                .get(&cursor)
                .map_or(cursor, |entry| entry.header.prev);
        }
        let fork_height = self
            .index
            .get(&cursor)
            .map_or(0, |entry| entry.header.height);
        let connected = self.index.active()[fork_height as usize + 1..].to_vec();
        let mut returned = Vec::new();
        for hash in disconnected.iter().rev() {
            let block = match disconnected_blocks.remove(hash) {
                Some(block) => block,
                None => self.load_block(hash, changes)?,
            };
            returned.extend(block.txs);
        }
        // Returned transactions go back first: pending ones whose nonces follow theirs
        // are valid again only once they are in.
        let returned_to_mempool = self.mempool.readd(returned, &self.state, &self.params);
        self.mempool.revalidate(&self.state);
        Ok((
            Some(TipChange {
                old_tip,
                new_tip,
                height: self.index.tip().header.height,
                fork_height,
                disconnected,
                connected,
                returned_to_mempool,
            }),
            rejected,
        ))
    }

    fn record_connect(
        &mut self,
        hash: BlockHash,
        block: &Block,
        undo: BlockUndo,
        changes: &mut Changes,
    ) {
        changes.touched_by(&undo);
        changes.batch.undo.push((hash, undo.clone()));
        changes.new_undo.insert(hash, undo);
        self.index.set_status(&hash, BlockStatus::Valid);
        changes.touched_entries.insert(hash);
        let leaves: Vec<TxId> = match changes.new_txids.remove(&hash) {
            Some(txids) => std::iter::once(block.reward.id()).chain(txids).collect(),
            None => block.leaf_ids(),
        };
        for (position, txid) in leaves.into_iter().enumerate() {
            let place = TxPlace {
                block: hash,
                height: block.header.height,
                position: position as u32,
            };
            changes.tx_locations.insert(txid, Some(place));
        }
        self.index.push_active(hash);
        changes.active_changed_at(block.header.height);
    }

    fn disconnect_tip(&mut self, changes: &mut Changes) -> Result<(BlockHash, Block), StoreError> {
        let tip = self.index.tip().clone();
        let undo = match changes.new_undo.get(&tip.hash) {
            Some(undo) => undo.clone(),
            None => self
                .store
                .undo(&tip.hash)?
                .ok_or_else(|| StoreError::Corrupt(format!("no undo data for {}", tip.hash)))?,
        };
        let block = self.load_block(&tip.hash, changes)?;
        self.state.undo_block(&undo);
        changes.touched_by(&undo);
        for (position, txid) in block.leaf_ids().into_iter().enumerate() {
            changes.tx_locations.insert(txid, None);
            let place = TxPlace {
                block: tip.hash,
                height: tip.header.height,
                position: position as u32,
            };
            changes.batch.tx_remove.push((txid, place));
        }
        self.index.truncate_active(tip.header.height - 1);
        changes.active_changed_at(tip.header.height);
        Ok((tip.hash, block))
    }
}
