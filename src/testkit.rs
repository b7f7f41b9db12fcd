//! Building valid chains quickly, for tests, benchmarks and examples: deterministic keys,
//! chain parameters with a trivial proof of work, signed transfers, token issues and
//! transfers, multisig spends, and blocks mined on
//! any parent in a [`Chain`]'s block tree.

use crate::chain::Chain;
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use crate::consensus::hash::{sha256, BlockHash, TokenId};
use crate::consensus::params::{Allocation, ChainParams};
use crate::consensus::policy::Policy;
use crate::consensus::signatures::SigningKey;
use crate::consensus::target::Target;
use crate::consensus::transaction::{Reward, Signature, Transaction, TxKind, UnsignedTransaction};

pub mod node_process;

/// The `n`th deterministic test key.
pub fn key(n: u64) -> SigningKey {
    SigningKey::from(sha256(format!("ironchain test key {n}").as_bytes()))
}

/// The address of the `n`th test key.
pub fn address(n: u64) -> Address {
    Address::of(&key(n))
}

/// Parameters where every other hash is a valid proof of work, with `allocations`.
pub fn params(allocations: &[(Address, u64)]) -> ChainParams {
    ChainParams {
        genesis_message: "ironchain test network".into(),
        genesis_timestamp_ms: 1_700_000_000_000,
        pow_limit_bits: 0,
        initial_difficulty_bits: 1,
        target_block_time_ms: 1_000,
        retarget_interval: 1_000_000,
        block_reward: Amount::new(50),
        max_block_txs: 1_000,
        max_block_bytes: 1_000_000,
        min_fee: Amount::new(1),
        max_future_drift_ms: 7_200_000,
        token_issue_fee: Amount::ZERO,
        allocations: allocations
            .iter()
            .map(|(address, amount)| Allocation {
                address: *address,
                amount: Amount::new(*amount),
            })
            .collect(),
    }
}

/// A transfer signed by `key` for the network whose genesis is `genesis`.
pub fn transfer(
    key: &SigningKey,
    to: Address,
    amount: u64,
    fee: u64,
    nonce: u64,
    genesis: &BlockHash,
) -> Transaction {
    unsigned(to, amount, fee, nonce).sign(key, genesis)
}

/// The fields of a transaction with no message.
pub fn unsigned(to: Address, amount: u64, fee: u64, nonce: u64) -> UnsignedTransaction {
    UnsignedTransaction {
        receiver: to,
        amount: Amount::new(amount),
        fee: Amount::new(fee),
        nonce,
        message: String::new(),
    }
}

/// A transfer whose signature no key made, for rules checked before any signature (sizes,
/// counts, pools): cheap to make by the thousand.
pub fn unsigned_transfer(nonce: u64) -> Transaction {
    Transaction {
        sender: Address::from_bytes([1; 32]),
        receiver: Address::from_bytes([2; 32]),
        amount: Amount::new(1),
        fee: Amount::new(1),
        nonce,
        message: String::new(),
        signature: Signature::from_bytes([0; 64]),
        extension: None,
    }
}

/// Increments the nonce until the header's hash meets `target`.
pub fn mine(header: &mut BlockHeader, target: &Target) {
    while !target.is_met_by(header.hash().as_bytes()) {
        header.nonce = header.nonce.wrapping_add(1);
    }
}

/// Recomputes the merkle root and mines the block at its header's target.
pub fn seal(block: &mut Block) {
    block.header.merkle_root = block.compute_merkle_root();
    let target = block.header.target.to_target().unwrap_or(Target::MAX);
    mine(&mut block.header, &target);
}

/// A valid block on `parent` (any block in the chain's tree) carrying `txs` and paying
/// `miner` the reward plus fees, timestamped `timestamp_ms` (raised to just past the
/// median time if needed).
pub fn block_on(
    chain: &Chain,
    parent: &BlockHash,
    miner: Address,
    txs: Vec<Transaction>,
    timestamp_ms: u64,
) -> Block {
    let index = chain.index();
    let parent = index
        .get(parent)
        .unwrap_or_else(|| panic!("testkit: parent {parent} is not in the block tree"));
    let target = index
        .next_target(parent, chain.params())
        .unwrap_or(parent.header.target);
    let reward = Amount::checked_sum(txs.iter().map(|tx| tx.fee))
        .and_then(|fees| chain.params().block_reward.checked_add(fees))
        .expect("testkit: the block's fees overflow its reward");
    let height = parent.header.height + 1;
    let mut block = Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            height,
            prev: parent.hash,
            merkle_root: Default::default(),
            timestamp_ms: timestamp_ms.max(index.median_time_past(&parent.hash) + 1),
            target,
            nonce: 0,
        },
        reward: Reward {
            miner,
            amount: reward,
            height,
        },
        txs,
    };
    seal(&mut block);
    block
}

/// A valid block on the chain's tip, one target block time after it.
pub fn next_block(chain: &Chain, miner: Address, txs: Vec<Transaction>) -> Block {
    let tip = chain.tip();
    let timestamp = tip.timestamp_ms + chain.params().target_block_time_ms;
    block_on(chain, &tip.hash, miner, txs, timestamp)
}

/// Extends the tip by `count` empty blocks paying `miner`; panics if one is refused.
pub fn extend(chain: &mut Chain, miner: Address, count: usize) -> Vec<BlockHash> {
    (0..count)
        .map(|_| {
            let block = next_block(chain, miner, Vec::new());
            let hash = block.hash();
            let now = block.header.timestamp_ms;
            chain
                .process_block(block, now)
                .unwrap_or_else(|error| panic!("testkit: block refused: {error}"));
            hash
        })
        .collect()
}

/// An issue of `supply` base units of a token `symbol` with `decimals`, signed by `key`.
pub fn issue(
    key: &SigningKey,
    symbol: &str,
    decimals: u8,
    supply: u64,
    fee: u64,
    nonce: u64,
    genesis: &BlockHash,
) -> Transaction {
    let kind = TxKind::Issue {
        symbol: symbol.into(),
        decimals,
    };
    unsigned(Address::of(key), supply, fee, nonce).sign_kind(kind, key, genesis)
}

/// A transfer of `amount` base units of `token`, signed by `key`.
pub fn token_transfer(
    key: &SigningKey,
    to: Address,
    token: TokenId,
    amount: u64,
    fee: u64,
    nonce: u64,
    genesis: &BlockHash,
) -> Transaction {
    unsigned(to, amount, fee, nonce).sign_kind(TxKind::TokenTransfer { token }, key, genesis)
}

/// A spend of `kind` by `policy`'s address, cosigned by each of `signers`.
#[allow(clippy::too_many_arguments)]
pub fn policy_spend(
    policy: &Policy,
    signers: &[&SigningKey],
    kind: TxKind,
    to: Address,
    amount: u64,
    fee: u64,
    nonce: u64,
    genesis: &BlockHash,
) -> Transaction {
    let mut tx = unsigned(to, amount, fee, nonce).for_policy(kind, policy.clone());
    for signer in signers {
        tx.cosign(signer, genesis);
    }
    tx
}
