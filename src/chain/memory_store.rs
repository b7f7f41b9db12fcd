//! The tables a chain reads back while it runs — blocks, undo records, the transaction
//! index — kept in memory, for the chains of a virtual launch's thousands of nodes
//! (`[simulation] store = "memory"`), which are thrown away at the end.
//!
//! Why not redb's in-memory backend: redb lays every database out over a 4 GiB region
//! whose allocator state alone is about a megabyte, in memory too; 10,000 nodes would
//! spend 10 GB on it. A chain needs far less: the block index, active chain and
//! accounts live in `Chain` already and are only read from the store when a stored
//! chain is reopened, which an in-memory one never is.

use super::store::StoreBatch;
use crate::consensus::hash::{BlockHash, TxId};
use std::collections::HashMap;

/// Encoded blocks and undo records by block, and the transaction index.
#[derive(Debug, Default)]
pub struct MemoryTables {
    pub blocks: HashMap<BlockHash, Vec<u8>>,
    pub undo: HashMap<BlockHash, Vec<u8>>,
    pub tx_index: HashMap<TxId, (BlockHash, u32)>,
    /// A tip was committed: the store holds a chain.
    pub initialised: bool,
}

impl MemoryTables {
    /// Applies what `batch` changes in these tables; `undo` holds its encoded undo
    /// records, in the batch's order.
    pub fn apply(&mut self, batch: &StoreBatch, undo: Vec<Vec<u8>>) {
        for (hash, bytes) in &batch.blocks {
            self.blocks.insert(*hash, bytes.clone());
        }
        for ((hash, _), bytes) in batch.undo.iter().zip(undo) {
            self.undo.insert(*hash, bytes);
        }
        for (txid, _) in &batch.tx_remove {
            self.tx_index.remove(txid);
        }
        for (txid, place) in &batch.tx_add {
            self.tx_index.insert(*txid, (place.block, place.position));
        }
        self.initialised |= batch.tip.is_some();
    }
}
