//! Read-only views of the chain for the node, its peers and its clients.

use super::Chain;
use crate::chain::id_prefix::IdPrefix;
use crate::chain::index::{BlockIndex, IndexEntry};
use crate::chain::mempool::Mempool;
use crate::chain::state::{Account, State};
use crate::chain::store::StoreError;
use crate::consensus::address::Address;
use crate::consensus::block::{Block, BlockHeader};
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::merkle::{self, MerkleProof};
use crate::consensus::params::ChainParams;
use crate::consensus::target::{Target, Work};
use crate::consensus::transaction::{Reward, Transaction};

/// A summary of the active chain's tip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TipInfo {
    pub height: u64,
    pub hash: BlockHash,
    pub work: Work,
    pub target: Target,
    pub timestamp_ms: u64,
}

impl TipInfo {
    /// Difficulty shown to people: leading zero bits the next hash needs.
    pub fn difficulty_bits(&self) -> u32 {
        self.target.leading_zero_bits()
    }
}

/// Where a block stands against the active chain: what a person looking at one block
/// needs to know before trusting it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockPlace {
    /// On the active chain; otherwise stale, on a branch beside it.
    pub active: bool,
    /// The block and those on top of it on the active chain: 1 for the tip, 0 for a
    /// stale block.
    pub confirmations: u64,
    /// The active chain's next block, when this one is on it below the tip.
    pub next: Option<BlockHash>,
}

/// Where a transaction is.
#[derive(Clone, Debug)]
pub enum TxLookup {
    /// In an active-chain block, with the proof that it is.
    InBlock {
        entry: TxEntry,
        header: BlockHeader,
        block_hash: BlockHash,
        proof: MerkleProof,
    },
    /// Waiting in the mempool.
    Pending(Transaction),
}

/// A leaf of a block: the reward record or a transaction.
#[derive(Clone, Debug)]
pub enum TxEntry {
    Reward(Reward),
    Transfer(Transaction),
}

impl Chain {
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    pub fn genesis_hash(&self) -> BlockHash {
        self.genesis
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    pub fn index(&self) -> &BlockIndex {
        &self.index
    }

    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// Consensus-encoded bytes of the blocks waiting for their parent.
    pub fn orphan_bytes(&self) -> usize {
        self.orphans.bytes()
    }

    /// How many blocks are remembered as invalid.
    pub fn remembered_invalid(&self) -> usize {
        self.rejected.len()
    }

    /// The active chain's tip.
    pub fn tip(&self) -> TipInfo {
        tip_info(self.index.tip())
    }

    /// The active-chain block at `height`, described as a tip: what a node that keeps the
    /// blocks above it to itself shows its peers.
    pub fn active_tip_at(&self, height: u64) -> Option<TipInfo> {
        let hash = self.index.active_at(height)?;
        self.index.get(hash).map(tip_info)
    }

    /// An account as of the tip, and the nonce its next transaction should carry counting
    /// transactions waiting in the mempool.
    pub fn account(&self, address: &Address) -> (Account, u64) {
        (
            self.state.account(address),
            self.mempool.next_nonce(address, &self.state),
        )
    }

    /// The active-chain block at `height`.
    pub fn block_at(&self, height: u64) -> Result<Option<Block>, StoreError> {
        match self.index.active_at(height) {
            Some(hash) => self.store.block(hash),
            None => Ok(None),
        }
    }

    /// Any stored block by hash.
    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        if !self.index.contains(hash) {
            return Ok(None);
        }
        self.store.block(hash)
    }

    /// Where the stored block `hash` stands against the active chain; `None` for a block
    /// the tree does not hold.
    pub fn block_place(&self, hash: &BlockHash) -> Option<BlockPlace> {
        let height = self.index.get(hash)?.header.height;
        let active = self.index.is_active(hash);
        let tip = self.index.tip().header.height;
        Some(BlockPlace {
            active,
            confirmations: if active {
                tip.saturating_sub(height).saturating_add(1)
            } else {
                0
            },
            next: if active {
                self.index.active_at(height.saturating_add(1)).copied()
            } else {
                None
            },
        })
    }

    /// Who the reward of a stored block pays, read without decoding its transactions.
    pub fn block_miner(&self, hash: &BlockHash) -> Result<Option<Address>, StoreError> {
        if !self.index.contains(hash) {
            return Ok(None);
        }
        Ok(self.store.block_reward(hash)?.map(|reward| reward.miner))
    }

    /// Active-chain blocks after the last locator hash we share, at most `max_count`
    /// blocks and about `max_bytes` bytes (always at least one block if any follow).
    pub fn blocks_after(
        &self,
        locator: &[BlockHash],
        max_count: usize,
        max_bytes: usize,
    ) -> Result<Vec<Block>, StoreError> {
        let start = self.index.fork_height(locator) + 1;
        let mut blocks = Vec::new();
        let mut bytes = 0;
        let mut height = start;
        while blocks.len() < max_count {
            let Some(block) = self.block_at(height)? else {
                break;
            };
            bytes += block.encoded_size();
            if !blocks.is_empty() && bytes > max_bytes {
                break;
            }
            blocks.push(block);
            height += 1;
        }
        Ok(blocks)
    }

    /// A transaction (or reward record) by id: in an active-chain block with its merkle
    /// proof, or pending in the mempool.
    pub fn transaction(&self, txid: &TxId) -> Result<Option<TxLookup>, StoreError> {
        if let Some(tx) = self.mempool.get(txid) {
            return Ok(Some(TxLookup::Pending(tx.clone())));
        }
        let Some((block_hash, position)) = self.store.tx_location(txid)? else {
            return Ok(None);
        };
        let block = self
            .store
            .block(&block_hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("indexed block {block_hash} missing")))?;
        let leaves = block.leaf_ids();
        let proof = merkle::prove(&leaves, position as usize)
            .ok_or_else(|| StoreError::Corrupt(format!("bad position for {txid}")))?;
        let entry = match position {
            0 => TxEntry::Reward(block.reward.clone()),
            n => TxEntry::Transfer(
                block
                    .txs
                    .get(n as usize - 1)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt(format!("bad position for {txid}")))?,
            ),
        };
        Ok(Some(TxLookup::InBlock {
            entry,
            header: block.header,
            block_hash,
            proof,
        }))
    }

    /// Up to `limit` ids starting with `prefix` of transactions (and reward records) on
    /// the active chain or pending in the mempool, in order.
    pub fn txids_with_prefix(
        &self,
        prefix: &IdPrefix,
        limit: usize,
    ) -> Result<Vec<TxId>, StoreError> {
        let mut found = self.store.txids_with_prefix(prefix, limit)?;
        found.extend(
            self.mempool
                .transactions()
                .map(Transaction::id)
                .filter(|txid| prefix.matches(txid.as_bytes())),
        );
        found.sort();
        found.dedup();
        found.truncate(limit);
        Ok(found)
    }

    /// Up to `limit` hashes starting with `prefix` of blocks in the block tree (side
    /// branches included, as a lookup by full hash finds them), in order. A scan of the
    /// index: a person's lookup, not a hot path.
    pub fn block_hashes_with_prefix(&self, prefix: &IdPrefix, limit: usize) -> Vec<BlockHash> {
        let mut found: Vec<BlockHash> = self
            .index
            .entries()
            .map(|entry| entry.hash)
            .filter(|hash| prefix.matches(hash.as_bytes()))
            .collect();
        found.sort();
        found.truncate(limit);
        found
    }

    /// A locator for our active chain, to ask a peer for the blocks we lack.
    pub fn locator(&self) -> Vec<BlockHash> {
        self.index.locator()
    }
}

fn tip_info(entry: &IndexEntry) -> TipInfo {
    TipInfo {
        height: entry.header.height,
        hash: entry.hash,
        work: entry.work,
        target: entry.header.target.to_target().unwrap_or(Target::MAX),
        timestamp_ms: entry.header.timestamp_ms,
    }
}
