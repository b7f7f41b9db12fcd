//! The stateless consensus checks (the book's Protocol and rules › Consensus rules,
//! `docs/src/protocol/rules.md`): everything about a transaction or block that can be
//! decided without account state (the reward amount included: fees are fields of the
//! transactions). The stateful part (nonces, balances) is applied in
//! [`crate::chain::state`], in the same order the rules are listed there.

use super::amount::Amount;
use super::block::{Block, BlockHeader, BLOCK_VERSION};
use super::error::{BlockError, TxError};
use super::hash::{BlockHash, TxId};
use super::params::ChainParams;
pub use super::signatures::verify_signature;
use super::signatures::{verify_all, verify_each, BodyVerified};
use super::target::CompactTarget;
use super::transaction::{Signature, Transaction, TxExtension, TxKind, MAX_MESSAGE_BYTES};
use std::collections::HashSet;

/// Checks a transaction's message, fee, arithmetic and signature.
pub fn check_transaction(
    tx: &Transaction,
    params: &ChainParams,
    genesis: &BlockHash,
) -> Result<(), TxError> {
    check_transaction_fields(tx, params)?;
    verify_signature(tx, genesis)
}

/// The cheap stateless checks: everything but the signature.
pub fn check_transaction_fields(tx: &Transaction, params: &ChainParams) -> Result<(), TxError> {
    if tx.message.len() > MAX_MESSAGE_BYTES {
        return Err(TxError::MessageTooLong {
            bytes: tx.message.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    if tx.fee < params.min_fee {
        return Err(TxError::FeeTooLow {
            fee: tx.fee,
            min: params.min_fee,
        });
    }
    if tx.total_cost().is_none() {
        return Err(TxError::AmountOverflow);
    }
    match &tx.extension {
        None => Ok(()),
        Some(extension) => check_extension(tx, extension, params),
    }
}

/// The stateless rules of token issues and policy spends, in the order they are listed
/// in the book's Protocol and rules › Consensus rules.
fn check_extension(
    tx: &Transaction,
    extension: &TxExtension,
    params: &ChainParams,
) -> Result<(), TxError> {
    match &extension.kind {
        TxKind::Transfer if extension.policy.is_none() => {
            return Err(TxError::NeedlessExtension);
        }
        TxKind::Transfer | TxKind::TokenTransfer { .. } => {}
        TxKind::Issue { symbol, decimals } => {
            super::token::check_issue(symbol, *decimals, tx.amount)?;
            if tx.receiver != tx.sender {
                return Err(TxError::IssueReceiverNotIssuer);
            }
            let min = params
                .min_fee
                .checked_add(params.token_issue_fee)
                .ok_or(TxError::AmountOverflow)?;
            if tx.fee < min {
                return Err(TxError::IssueFeeTooLow { fee: tx.fee, min });
            }
        }
    }
    check_policy_spend(tx)
}

/// The multisig rules of a policy spend (none for a key-signed transaction): they need no
/// chain parameters, so a wallet checks them before contacting a node.
pub fn check_policy_spend(tx: &Transaction) -> Result<(), TxError> {
    let Some(spend) = tx.policy_spend() else {
        return Ok(());
    };
    if tx.signature != Signature::ZERO {
        return Err(TxError::StraySignature);
    }
    spend.policy.check()?;
    if spend.policy.address().account() != tx.sender {
        return Err(TxError::PolicyMismatch);
    }
    let mut signers = Vec::with_capacity(spend.signatures.len());
    for cosignature in &spend.signatures {
        if !spend.policy.has_member(&cosignature.signer) {
            return Err(TxError::SignerNotMember {
                signer: cosignature.signer,
            });
        }
        if signers.contains(&cosignature.signer) {
            return Err(TxError::DuplicateSigner {
                signer: cosignature.signer,
            });
        }
        signers.push(cosignature.signer);
    }
    if signers.len() < usize::from(spend.policy.threshold) {
        return Err(TxError::TooFewSignatures {
            got: signers.len(),
            required: spend.policy.threshold,
        });
    }
    Ok(())
}

/// A transaction whose signature [`verify_signature`] accepted for the network `genesis`.
/// Only [`VerifiedTx::verify`] and [`VerifiedTx::verify_batch`] make one, so the node can verify on any thread (the
/// expensive part of admission) and hand the chain a transaction it need not verify again.
#[derive(Clone, Debug)]
pub struct VerifiedTx {
    tx: Transaction,
    genesis: BlockHash,
}

impl VerifiedTx {
    /// Verifies `tx`'s signature for the network `genesis`.
    pub fn verify(tx: Transaction, genesis: &BlockHash) -> Result<VerifiedTx, TxError> {
        verify_signature(&tx, genesis)?;
        Ok(VerifiedTx {
            tx,
            genesis: *genesis,
        })
    }

    /// Verifies the signatures of `txs` for the network `genesis` as one batch (one by
    /// one only if the batch fails): an answer per transaction, in order, each the one
    /// [`VerifiedTx::verify`] would give.
    pub fn verify_batch(
        txs: Vec<Transaction>,
        genesis: &BlockHash,
    ) -> Vec<Result<VerifiedTx, TxError>> {
        let answers = verify_each(&txs, genesis);
        txs.into_iter()
            .zip(answers)
            .map(|(tx, answer)| {
                answer.map(|()| VerifiedTx {
                    tx,
                    genesis: *genesis,
                })
            })
            .collect()
    }

    pub fn tx(&self) -> &Transaction {
        &self.tx
    }

    /// The network the signature was verified for.
    pub fn genesis(&self) -> &BlockHash {
        &self.genesis
    }

    pub fn into_tx(self) -> Transaction {
        self.tx
    }
}

/// What checking a header needs to know about the chain it extends.
#[derive(Clone, Copy, Debug)]
pub struct HeaderContext {
    pub parent_height: u64,
    /// The target this block must carry (retargeting already applied).
    pub expected_target: CompactTarget,
    /// Median timestamp of the (up to) 11 blocks ending at the parent.
    pub median_time_past: u64,
    /// The local clock, ms since the Unix epoch.
    pub now_ms: u64,
}

/// Checks version, height, target, proof of work and timestamps.
pub fn check_header(
    header: &BlockHeader,
    context: &HeaderContext,
    params: &ChainParams,
) -> Result<BlockHash, BlockError> {
    if header.version != BLOCK_VERSION {
        return Err(BlockError::BadVersion {
            version: header.version,
        });
    }
    let expected_height = context.parent_height.saturating_add(1);
    if header.height != expected_height {
        return Err(BlockError::BadHeight {
            expected: expected_height,
            got: header.height,
        });
    }
    if header.target != context.expected_target {
        return Err(BlockError::BadTarget {
            expected: context.expected_target,
            got: header.target,
        });
    }
    let target = header
        .target
        .to_target()
        .map_err(BlockError::InvalidTarget)?;
    let hash = header.hash();
    if !target.is_met_by(hash.as_bytes()) {
        return Err(BlockError::InsufficientProofOfWork { hash });
    }
    if header.timestamp_ms <= context.median_time_past {
        return Err(BlockError::TimestampNotAfterMedian {
            timestamp: header.timestamp_ms,
            median: context.median_time_past,
        });
    }
    let limit = context.now_ms.saturating_add(params.max_future_drift_ms);
    if header.timestamp_ms > limit {
        return Err(BlockError::TimestampTooFarInFuture {
            timestamp: header.timestamp_ms,
            limit,
        });
    }
    Ok(hash)
}

/// The transaction count and byte limits: the cheapest body rules, checked before
/// anything costly is done with a block (holding it as an orphan, verifying signatures).
pub fn check_size(block: &Block, params: &ChainParams) -> Result<(), BlockError> {
    if block.txs.len() > params.max_block_txs as usize {
        return Err(BlockError::TooManyTransactions {
            count: block.txs.len(),
            max: params.max_block_txs,
        });
    }
    let bytes = block.encoded_size();
    if bytes as u64 > params.max_block_bytes {
        return Err(BlockError::TooLarge {
            bytes,
            max: params.max_block_bytes,
        });
    }
    Ok(())
}

/// The reward record pays exactly the block reward plus the fees its transactions name.
/// Fees are fields of the transactions, so this needs no state and is checked before a
/// block is stored on any branch, not only when it joins the best chain: a side block
/// paying itself more never reaches the disk. Connecting the block checks it again.
pub fn check_reward_amount(block: &Block, params: &ChainParams) -> Result<(), BlockError> {
    let fees = block
        .txs
        .iter()
        .try_fold(Amount::ZERO, |fees, tx| fees.checked_add(tx.fee))
        .ok_or(BlockError::FeeOverflow)?;
    let expected = params
        .block_reward
        .checked_add(fees)
        .ok_or(BlockError::FeeOverflow)?;
    if block.reward.amount != expected {
        return Err(BlockError::BadReward {
            expected,
            got: block.reward.amount,
        });
    }
    Ok(())
}

/// Checks a block's size limits, reward height, reward amount, merkle root, duplicates and every
/// transaction's stateless rules. Returns the transaction ids (reward record excluded),
/// so callers need not hash them again. `signatures` is `Some` when this body's signatures
/// were already verified (a sync batch, by [`verify_bodies`](super::signatures::verify_bodies)).
pub fn check_body(
    block: &Block,
    params: &ChainParams,
    genesis: &BlockHash,
    signatures: Option<BodyVerified>,
) -> Result<Vec<TxId>, BlockError> {
    check_size(block, params)?;
    if block.reward.height != block.header.height {
        return Err(BlockError::RewardHeightMismatch {
            header: block.header.height,
            reward: block.reward.height,
        });
    }
    let leaves = block.leaf_ids();
    if super::merkle::root(&leaves) != block.header.merkle_root {
        return Err(BlockError::BadMerkleRoot);
    }
    let txids = &leaves[1..];
    let mut seen = HashSet::with_capacity(txids.len());
    for txid in txids {
        if !seen.insert(txid) {
            return Err(BlockError::DuplicateTransaction { txid: *txid });
        }
    }
    check_reward_amount(block, params)?;
    let invalid = |index: usize, error| BlockError::InvalidTransaction {
        index,
        txid: txids[index],
        error,
    };
    // The cheap field checks first; the signatures (the expensive part) then go through
    // `verify_all`, which spreads them over the cores. Only the signatures before the first
    // field failure are verified, so the reported transaction is the first invalid one in
    // block order, exactly as a one-by-one `check_transaction` loop would report.
    let field_failure = block.txs.iter().enumerate().find_map(|(index, tx)| {
        check_transaction_fields(tx, params)
            .err()
            .map(|e| (index, e))
    });
    let signed_prefix = field_failure
        .as_ref()
        .map_or(block.txs.len(), |(index, _)| *index);
    if signatures.is_none() {
        verify_all(&block.txs[..signed_prefix], genesis)
            .map_err(|(index, error)| invalid(index, error))?;
    }
    if let Some((index, error)) = field_failure {
        return Err(invalid(index, error));
    }
    Ok(txids.to_vec())
}
