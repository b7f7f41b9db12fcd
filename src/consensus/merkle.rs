//! Merkle trees over a block's transaction ids, and proofs that one id is in a block.
//!
//! Unlike Bitcoin, an odd node at the end of a level is promoted unchanged instead of
//! being paired with itself, and inner nodes are hashed with a domain byte: so two
//! different id lists can never share a root (the CVE-2012-2459 mutation), and a leaf can
//! never be passed off as an inner node.

use super::bounded::at_most;
use super::hash::{sha256_parts, MerkleRoot, TxId};
use serde::{Deserialize, Deserializer, Serialize};

const INNER_NODE_TAG: &[u8] = &[1];

fn combine(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    sha256_parts(&[INNER_NODE_TAG, left, right])
}

/// Pairs up a level: each pair is combined, an odd last node is promoted as it is.
fn next_level(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
    level
        .chunks(2)
        .map(|pair| match pair.get(1) {
            Some(right) => combine(&pair[0], right),
            None => pair[0],
        })
        .collect()
}

/// The root over `leaves`; an empty list has the all-zero root.
pub fn root(leaves: &[TxId]) -> MerkleRoot {
    let mut level: Vec<[u8; 32]> = leaves.iter().map(|id| *id.as_bytes()).collect();
    if level.is_empty() {
        return MerkleRoot::default();
    }
    while level.len() > 1 {
        level = next_level(&level);
    }
    MerkleRoot::from_bytes(level[0])
}

/// Evidence that the leaf at `index` of a `leaf_count`-leaf tree hashes up to a root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    pub index: u32,
    pub leaf_count: u32,
    /// Sibling hashes from the leaf level up; levels where the node had no sibling
    /// contribute nothing. At most one per level of a `u32`-leaf tree, checked while
    /// decoding.
    #[serde(deserialize_with = "proof_siblings")]
    pub siblings: Vec<TxId>,
}

fn proof_siblings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<TxId>, D::Error> {
    at_most(deserializer, u32::BITS as usize, "merkle proof hashes")
}

/// The proof for leaf `index`, or `None` if there is no such leaf.
pub fn prove(leaves: &[TxId], index: usize) -> Option<MerkleProof> {
    if index >= leaves.len() {
        return None;
    }
    let mut siblings = Vec::new();
    let mut level: Vec<[u8; 32]> = leaves.iter().map(|id| *id.as_bytes()).collect();
    let mut position = index;
    while level.len() > 1 {
        let sibling = position ^ 1;
        if sibling < level.len() {
            siblings.push(TxId::from_bytes(level[sibling]));
        }
        level = next_level(&level);
        position /= 2;
    }
    Some(MerkleProof {
        index: u32::try_from(index).ok()?,
        leaf_count: u32::try_from(leaves.len()).ok()?,
        siblings,
    })
}

impl MerkleProof {
    /// The root this proof yields for `leaf`, or `None` if the proof is malformed (index
    /// out of range, too few or too many sibling hashes).
    pub fn root_for(&self, leaf: &TxId) -> Option<MerkleRoot> {
        if self.index >= self.leaf_count {
            return None;
        }
        let mut hash = *leaf.as_bytes();
        let mut position = self.index;
        let mut width = self.leaf_count;
        let mut siblings = self.siblings.iter();
        while width > 1 {
            if position % 2 == 1 {
                hash = combine(siblings.next()?.as_bytes(), &hash);
            } else if position + 1 < width {
                hash = combine(&hash, siblings.next()?.as_bytes());
            }
            position /= 2;
            width = width.div_ceil(2);
        }
        if siblings.next().is_some() {
            return None;
        }
        Some(MerkleRoot::from_bytes(hash))
    }

    /// Whether `leaf` is in the tree whose root is `root`.
    pub fn verify(&self, leaf: &TxId, root: &MerkleRoot) -> bool {
        self.root_for(leaf).as_ref() == Some(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::hash::sha256;

    fn leaves(count: usize) -> Vec<TxId> {
        (0..count)
            .map(|i| TxId::from_bytes(sha256(&i.to_be_bytes())))
            .collect()
    }

    #[test]
    fn every_leaf_of_every_small_tree_proves() {
        for count in 1..=17 {
            let ids = leaves(count);
            let root = root(&ids);
            for (index, id) in ids.iter().enumerate() {
                let proof = prove(&ids, index).unwrap();
                assert!(proof.verify(id, &root), "count {count} index {index}");
            }
            assert!(prove(&ids, count).is_none());
        }
    }

    #[test]
    fn altered_proofs_fail() {
        let ids = leaves(11);
        let root = root(&ids);
        let proof = prove(&ids, 6).unwrap();

        let mut altered = proof.clone();
        altered.siblings[1] = TxId::from_bytes([0; 32]);
        assert!(!altered.verify(&ids[6], &root));

        let mut wrong_index = proof.clone();
        wrong_index.index = 7;
        assert!(!wrong_index.verify(&ids[6], &root));

        let mut out_of_range = proof.clone();
        out_of_range.index = 11;
        assert!(!out_of_range.verify(&ids[6], &root));

        let mut extra = proof.clone();
        extra.siblings.push(ids[0]);
        assert!(!extra.verify(&ids[6], &root));

        assert!(!proof.verify(&ids[5], &root));
    }

    #[test]
    fn odd_leaf_is_not_duplicated() {
        // With Bitcoin's duplication, [a, b, c] and [a, b, c, c] share a root.
        let ids = leaves(3);
        let mut padded = ids.clone();
        padded.push(ids[2]);
        assert_ne!(root(&ids), root(&padded));
    }
}
