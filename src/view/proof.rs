//! Checking a node's claim that a transaction is in a block, without trusting the node:
//! the merkle proof must lead from the transaction id to the header's merkle root, the
//! header must hash to the claimed block hash, and that hash must meet the header's own
//! proof-of-work target.
//!
//! What this does not show: that the block is on the chain with the most work. Compare
//! the block hash with `ironchain block HEIGHT` on nodes you trust for that.

use crate::consensus::hash::{MerkleRoot, TxId};
use crate::net::message::TxStatus;

/// The result of each check on a confirmed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofCheck {
    /// The transaction (or reward record) the node returned has the id asked about.
    pub entry_matches: bool,
    /// The root recomputed from the id and the proof; `None` if the proof is malformed
    /// (index out of range, wrong number of sibling hashes).
    pub computed_root: Option<MerkleRoot>,
    /// The recomputed root equals the header's merkle root.
    pub root_matches: bool,
    /// The header hashes to the block hash the node named.
    pub header_matches: bool,
    /// The header's hash meets the target encoded in the header.
    pub proof_of_work: bool,
}

impl ProofCheck {
    /// Whether every check passed: the transaction is in a block with real work.
    pub fn holds(&self) -> bool {
        self.entry_matches && self.root_matches && self.header_matches && self.proof_of_work
    }
}

/// Checks the inclusion proof of `txid` in a [`TxStatus::Confirmed`] reply; `None` for
/// any other status (nothing to check).
pub fn check_inclusion(txid: &TxId, status: &TxStatus) -> Option<ProofCheck> {
    let TxStatus::Confirmed {
        entry,
        block_hash,
        header,
        proof,
    } = status
    else {
        return None;
    };
    let computed_root = proof.root_for(txid);
    let hash = header.hash();
    let proof_of_work = header
        .target
        .to_target()
        .is_ok_and(|target| target.is_met_by(hash.as_bytes()));
    Some(ProofCheck {
        entry_matches: entry.id() == *txid,
        root_matches: computed_root.as_ref() == Some(&header.merkle_root),
        computed_root,
        header_matches: hash == *block_hash,
        proof_of_work,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::amount::Amount;
    use crate::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
    use crate::consensus::hash::BlockHash;
    use crate::consensus::merkle;
    use crate::consensus::target::Target;
    use crate::consensus::transaction::Reward;
    use crate::net::message::TxEntryWire;
    use crate::testkit::{self, address, key};

    /// A sealed block with a reward and five transfers, and the confirmed status of the
    /// transfer at `index` (leaf `index + 1`).
    fn confirmed(index: usize) -> (TxId, TxStatus) {
        let genesis = BlockHash::from_bytes([5; 32]);
        let txs = (0..5)
            .map(|n| testkit::transfer(&key(1), address(2), 10 + n, 1, n, &genesis))
            .collect();
        let mut block = Block {
            header: BlockHeader {
                version: BLOCK_VERSION,
                height: 3,
                prev: BlockHash::from_bytes([1; 32]),
                merkle_root: MerkleRoot::default(),
                timestamp_ms: 1_700_000_000_000,
                target: Target::from_leading_zero_bits(6).unwrap().to_compact(),
                nonce: 0,
            },
            reward: Reward {
                miner: address(9),
                amount: Amount::new(55),
                height: 3,
            },
            txs,
        };
        testkit::seal(&mut block);
        let tx = block.txs[index].clone();
        let proof = merkle::prove(&block.leaf_ids(), index + 1).unwrap();
        let status = TxStatus::Confirmed {
            entry: TxEntryWire::Transfer(tx.clone()),
            block_hash: block.hash(),
            header: block.header,
            proof,
        };
        (tx.id(), status)
    }

    fn edit(status: &TxStatus, change: impl FnOnce(&mut TxStatus)) -> TxStatus {
        let mut status = status.clone();
        change(&mut status);
        status
    }

    #[test]
    fn an_honest_proof_holds() {
        for index in 0..5 {
            let (txid, status) = confirmed(index);
            let check = check_inclusion(&txid, &status).unwrap();
            assert!(check.holds(), "index {index}: {check:?}");
        }
    }

    #[test]
    fn one_altered_sibling_hash_breaks_the_proof() {
        let (txid, status) = confirmed(2);
        let TxStatus::Confirmed { proof, .. } = &status else {
            unreachable!()
        };
        for position in 0..proof.siblings.len() {
            let altered = edit(&status, |status| {
                if let TxStatus::Confirmed { proof, .. } = status {
                    let mut bytes = *proof.siblings[position].as_bytes();
                    bytes[31] ^= 1;
                    proof.siblings[position] = TxId::from_bytes(bytes);
                }
            });
            let check = check_inclusion(&txid, &altered).unwrap();
            assert!(!check.root_matches && !check.holds(), "sibling {position}");
            assert!(check.header_matches && check.proof_of_work);
        }
    }

    #[test]
    fn a_wrong_index_breaks_the_proof() {
        let (txid, status) = confirmed(2);
        for index in [0, 1, 2, 4, 5, 6, 100] {
            let altered = edit(&status, |status| {
                if let TxStatus::Confirmed { proof, .. } = status {
                    proof.index = index;
                }
            });
            let check = check_inclusion(&txid, &altered).unwrap();
            assert!(!check.root_matches && !check.holds(), "index {index}");
        }
    }

    #[test]
    fn another_id_a_changed_header_or_missing_work_is_caught() {
        let (txid, status) = confirmed(1);
        let (other_txid, _) = confirmed(3);
        let check = check_inclusion(&other_txid, &status).unwrap();
        assert!(!check.entry_matches && !check.root_matches && !check.holds());

        // A header whose merkle root was swapped no longer hashes to the block hash.
        let swapped = edit(&status, |status| {
            if let TxStatus::Confirmed { header, .. } = status {
                header.merkle_root = MerkleRoot::from_bytes([0; 32]);
            }
        });
        let check = check_inclusion(&txid, &swapped).unwrap();
        assert!(!check.header_matches && !check.holds());

        // A forged header (root and block hash consistent) without proof of work.
        let forged = edit(&status, |status| {
            if let TxStatus::Confirmed {
                header, block_hash, ..
            } = status
            {
                header.target = Target::from_leading_zero_bits(250).unwrap().to_compact();
                *block_hash = header.hash();
            }
        });
        let check = check_inclusion(&txid, &forged).unwrap();
        assert!(check.root_matches && check.header_matches);
        assert!(!check.proof_of_work && !check.holds());

        assert_eq!(check_inclusion(&txid, &TxStatus::NotFound), None);
    }
}
