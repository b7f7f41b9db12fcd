//! Chain parameters (the `[chain]` table of a config file) and the genesis block that is
//! derived from them.
//!
//! The genesis block's merkle root commits to every parameter, so two nodes agree on the
//! genesis hash exactly when they agree on all consensus rules, and the handshake's
//! genesis check refuses peers of another network.

use super::address::Address;
use super::amount::Amount;
use super::block::{Block, BlockHeader, BLOCK_VERSION};
use super::hash::{sha256_parts, MerkleRoot};
use super::target::{CompactTarget, Target};
use super::transaction::Reward;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A starting balance written into the genesis state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    pub address: Address,
    pub amount: Amount,
}

/// The consensus parameters every node of one network shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainParams {
    /// Free text committed to by the genesis block.
    pub genesis_message: String,
    /// Timestamp of the genesis block, ms since the Unix epoch.
    pub genesis_timestamp_ms: u64,
    /// The easiest target allowed, as leading zero bits of the hash.
    pub pow_limit_bits: u32,
    /// Difficulty of the first blocks, as leading zero bits.
    pub initial_difficulty_bits: u32,
    /// The block interval retargeting aims for.
    pub target_block_time_ms: u64,
    /// Blocks between difficulty adjustments.
    pub retarget_interval: u64,
    /// New coins paid to each block's miner, on top of the block's fees.
    pub block_reward: Amount,
    /// Most transactions in a block, the reward record not counted.
    pub max_block_txs: u32,
    /// Largest consensus-encoded block, in bytes.
    pub max_block_bytes: u64,
    /// Lowest fee a transaction may pay.
    pub min_fee: Amount,
    /// How far ahead of the local clock a block's timestamp may be.
    pub max_future_drift_ms: u64,
    /// Extra fee a token issue must pay on top of `min_fee`. It is part of the issue's
    /// fee, so it goes to the block's miner like every fee: the native supply stays
    /// exactly the allocations plus the block rewards. Left out of the genesis commitment
    /// when zero, so networks that do not set it keep their genesis hash.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub token_issue_fee: Amount,
    /// Starting balances.
    #[serde(default)]
    pub allocations: Vec<Allocation>,
}

fn is_zero(value: &Amount) -> bool {
    value.is_zero()
}

/// An inconsistent chain parameter: which key and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsError {
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chain.{}: {}", self.key, self.reason)
    }
}

impl std::error::Error for ParamsError {}

/// The parameters could not be CBOR-encoded for the genesis commitment. Not expected: a
/// `Vec` writer cannot fail and every field's serialization is infallible. It is an error
/// rather than a fallback because committing to an empty encoding would give every
/// network whose parameters fail to encode the same genesis hash, and so let their nodes
/// take each other for peers of one network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisEncodingError {
    pub reason: String,
}

impl fmt::Display for GenesisEncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the chain parameters cannot be encoded for the genesis block's commitment: {}",
            self.reason
        )
    }
}

impl std::error::Error for GenesisEncodingError {}

/// The genesis block's reward record: it pays nothing (genesis is never mined; the
/// allocations are the starting state), and is the same on every network.
pub fn genesis_reward() -> Reward {
    Reward {
        miner: Address::from_bytes([0; 32]),
        amount: Amount::ZERO,
        height: 0,
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> ParamsError {
    ParamsError {
        key: key.to_string(),
        reason: reason.into(),
    }
}

impl ChainParams {
    /// Checks that the parameters are usable together.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.pow_limit_bits > 255 {
            return Err(invalid("pow_limit_bits", "must be at most 255"));
        }
        if self.initial_difficulty_bits > 255 {
            return Err(invalid("initial_difficulty_bits", "must be at most 255"));
        }
        if self.initial_difficulty_bits < self.pow_limit_bits {
            return Err(invalid(
                "initial_difficulty_bits",
                format!(
                    "{} is easier than pow_limit_bits = {}",
                    self.initial_difficulty_bits, self.pow_limit_bits
                ),
            ));
        }
        if self.target_block_time_ms == 0 {
            return Err(invalid("target_block_time_ms", "must be positive"));
        }
        if self.retarget_interval < 2 {
            return Err(invalid("retarget_interval", "must be at least 2"));
        }
        if self.max_block_txs == 0 {
            return Err(invalid("max_block_txs", "must be positive"));
        }
        if self.max_block_bytes < 1024 {
            return Err(invalid("max_block_bytes", "must be at least 1024"));
        }
        let mut supply = Amount::ZERO;
        // A set, not a scan of the earlier entries: 1,000,000 allocations (the balance
        // benchmark) would otherwise take 5 * 10^11 comparisons.
        let mut seen = std::collections::HashSet::with_capacity(self.allocations.len());
        for (i, allocation) in self.allocations.iter().enumerate() {
            supply = supply.checked_add(allocation.amount).ok_or_else(|| {
                invalid(
                    &format!("allocations[{i}].amount"),
                    "total of allocations overflows u64",
                )
            })?;
            if !seen.insert(allocation.address) {
                return Err(invalid(
                    &format!("allocations[{i}].address"),
                    "address is allocated twice",
                ));
            }
        }
        Ok(())
    }

    /// The easiest target any block may have.
    pub fn pow_limit(&self) -> Target {
        Target::from_leading_zero_bits(self.pow_limit_bits).unwrap_or(Target::MAX)
    }

    /// The target of the genesis block and of blocks before the first retarget.
    pub fn initial_target(&self) -> CompactTarget {
        Target::from_leading_zero_bits(self.initial_difficulty_bits)
            .unwrap_or(Target::MAX)
            .to_compact()
    }

    /// The genesis block. It is never mined: its merkle root commits to these parameters.
    pub fn genesis_block(&self) -> Result<Block, GenesisEncodingError> {
        // CBOR of a derived struct is deterministic: fields in declaration order.
        let committed = serde_cbor::to_vec(self).map_err(|error| GenesisEncodingError {
            reason: error.to_string(),
        })?;
        let merkle_root = MerkleRoot::from_bytes(sha256_parts(&[b"ironchain-genesis", &committed]));
        Ok(Block {
            header: BlockHeader {
                version: BLOCK_VERSION,
                height: 0,
                prev: Default::default(),
                merkle_root,
                timestamp_ms: self.genesis_timestamp_ms,
                target: self.initial_target(),
                nonce: 0,
            },
            reward: genesis_reward(),
            txs: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a silent fallback to an empty encoding would break: the genesis hash must
    /// change with every parameter, the last allocation included.
    #[test]
    fn the_genesis_hash_commits_to_every_parameter() {
        let base = crate::testkit::params(&[(crate::testkit::address(1), 10)]);
        let hash = |params: &ChainParams| params.genesis_block().unwrap().hash();
        type Change = fn(&mut ChainParams);
        let changes: [(&str, Change); 13] = [
            ("genesis_message", |p| p.genesis_message.push('!')),
            ("genesis_timestamp_ms", |p| p.genesis_timestamp_ms += 1),
            ("pow_limit_bits", |p| p.pow_limit_bits += 1),
            ("initial_difficulty_bits", |p| {
                p.initial_difficulty_bits += 1
            }),
            ("target_block_time_ms", |p| p.target_block_time_ms += 1),
            ("retarget_interval", |p| p.retarget_interval += 1),
            ("block_reward", |p| p.block_reward = Amount::new(7)),
            ("max_block_txs", |p| p.max_block_txs += 1),
            ("max_block_bytes", |p| p.max_block_bytes += 1),
            ("min_fee", |p| p.min_fee = Amount::new(7)),
            ("max_future_drift_ms", |p| p.max_future_drift_ms += 1),
            ("token_issue_fee", |p| p.token_issue_fee = Amount::new(7)),
            ("allocations", |p| p.allocations[0].amount = Amount::new(11)),
        ];
        let mut seen = std::collections::HashSet::from([hash(&base)]);
        for (field, change) in changes {
            let mut params = base.clone();
            change(&mut params);
            assert!(
                seen.insert(hash(&params)),
                "changing {field} left a genesis hash seen before"
            );
        }
    }
}
