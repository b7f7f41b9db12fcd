//! Block headers and blocks.
//!
//! Header encoding: 96 bytes, big-endian integers, laid out so that everything the miner
//! varies lies in the second 64-byte SHA-256 block. The miner compresses bytes 0..64 once
//! per template (the midstate) and then only the last block per nonce.
//!
//! ```text
//! offset  size  field
//!      0     4  version
//!      4     8  height
//!     12    32  previous block hash
//!     44    32  merkle root            (bytes 64..76 of it fall in the second SHA-256 block)
//!     76     8  timestamp, ms since the Unix epoch
//!     84     4  compact target
//!     88     8  nonce
//! ```

use super::hash::{sha256, BlockHash, MerkleRoot, TxId};
use super::merkle;
use super::target::CompactTarget;
use super::transaction::{Reward, Transaction, REWARD_SIZE};
use serde::{Deserialize, Serialize};

/// Encoded header size in bytes.
pub const HEADER_SIZE: usize = 96;
/// Offset of the nonce in the encoded header.
pub const NONCE_OFFSET: usize = 88;
/// Offset of the timestamp in the encoded header.
pub const TIMESTAMP_OFFSET: usize = 76;
/// The only header version this node produces and accepts.
pub const BLOCK_VERSION: u32 = 1;

/// The part of a block that is hashed for proof of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    pub version: u32,
    pub height: u64,
    pub prev: BlockHash,
    pub merkle_root: MerkleRoot,
    pub timestamp_ms: u64,
    pub target: CompactTarget,
    pub nonce: u64,
}

impl BlockHeader {
    /// The fixed 96-byte encoding documented at the top of this file.
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut out = [0u8; HEADER_SIZE];
        out[0..4].copy_from_slice(&self.version.to_be_bytes());
        out[4..12].copy_from_slice(&self.height.to_be_bytes());
        out[12..44].copy_from_slice(self.prev.as_bytes());
        out[44..76].copy_from_slice(self.merkle_root.as_bytes());
        out[TIMESTAMP_OFFSET..84].copy_from_slice(&self.timestamp_ms.to_be_bytes());
        out[84..88].copy_from_slice(&self.target.to_consensus().to_be_bytes());
        out[NONCE_OFFSET..].copy_from_slice(&self.nonce.to_be_bytes());
        out
    }

    /// SHA-256 of the encoding.
    pub fn hash(&self) -> BlockHash {
        BlockHash::from_bytes(sha256(&self.encode()))
    }
}

/// A header with its reward record and transactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub reward: Reward,
    /// Capped while decoding (see [`super::bounded`]).
    #[serde(deserialize_with = "super::bounded::block_txs")]
    pub txs: Vec<Transaction>,
}

impl Block {
    /// The block's hash (its header's).
    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }

    /// Leaf ids of the merkle tree: the reward record first, then transactions in order.
    pub fn leaf_ids(&self) -> Vec<TxId> {
        let mut ids = Vec::with_capacity(self.txs.len() + 1);
        ids.push(self.reward.id());
        ids.extend(self.txs.iter().map(Transaction::id));
        ids
    }

    /// The merkle root the header should carry.
    pub fn compute_merkle_root(&self) -> MerkleRoot {
        merkle::root(&self.leaf_ids())
    }

    /// Consensus size: header, reward record, a 4-byte transaction count, transactions.
    pub fn encoded_size(&self) -> usize {
        HEADER_SIZE
            + REWARD_SIZE
            + 4
            + self
                .txs
                .iter()
                .map(Transaction::encoded_size)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_and_timestamp_lie_in_the_last_sha256_block() {
        const { assert!(NONCE_OFFSET >= 64 && TIMESTAMP_OFFSET >= 64) };
        let header = BlockHeader {
            version: BLOCK_VERSION,
            height: 7,
            prev: BlockHash::from_bytes([1; 32]),
            merkle_root: MerkleRoot::from_bytes([2; 32]),
            timestamp_ms: 1_000,
            target: CompactTarget::from_consensus(0x1d00ffff),
            nonce: 0,
        };
        let mut other = header;
        other.nonce = u64::MAX;
        other.timestamp_ms = 2_000;
        assert_eq!(header.encode()[..64], other.encode()[..64]);
        assert_ne!(header.hash(), other.hash());
        assert_eq!(&other.encode()[NONCE_OFFSET..], &u64::MAX.to_be_bytes());
    }
}
