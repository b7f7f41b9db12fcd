//! `ironchain verify`: re-validates a stored chain from genesis, block by block, with
//! every consensus rule, and checks that the stored account state is what replaying the
//! chain produces (the teaching design's `verify_blockchain`, done against the store).

use super::index::{BlockIndex, BlockStatus, IndexEntry};
use super::state::State;
use super::store::{Store, StoreError};
use super::tx_index::TxPlace;
use crate::consensus::error::BlockError;
use crate::consensus::params::ChainParams;
use crate::consensus::target::Work;
use crate::consensus::validation::{check_body, check_header, HeaderContext};
use std::fmt;
use std::path::Path;

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub height: u64,
    pub transactions: u64,
    pub accounts: usize,
}

/// Why the stored chain is not valid.
#[derive(Debug)]
pub enum VerifyError {
    Store(StoreError),
    /// The block at `height` breaks a rule.
    InvalidBlock {
        height: u64,
        error: BlockError,
    },
    /// The transaction index does not hold exactly the active chain's transactions.
    TxIndexMismatch {
        missing: usize,
        extra: usize,
    },
    /// The stored state differs from the replayed one.
    StateMismatch {
        accounts_differing: usize,
        /// Tokens and (account, token) balances that differ.
        tokens_differing: usize,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Store(error) => error.fmt(f),
            VerifyError::InvalidBlock { height, error } => {
                write!(f, "block at height {height} is invalid: {error}")
            }
            VerifyError::TxIndexMismatch { missing, extra } => write!(
                f,
                "the transaction index differs from the active chain: {missing} of its \
                 transactions missing, {extra} entries that are not on it"
            ),
            VerifyError::StateMismatch {
                accounts_differing,
                tokens_differing,
            } => write!(
                f,
                "stored account state differs from the replayed chain in {accounts_differing} \
                 accounts and {tokens_differing} tokens or token balances"
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<StoreError> for VerifyError {
    fn from(error: StoreError) -> Self {
        VerifyError::Store(error)
    }
}

/// Re-validates the active chain stored in `dir`.
pub fn verify_store(dir: &Path, params: &ChainParams) -> Result<VerifyReport, VerifyError> {
    let genesis_block = params
        .genesis_block()
        .map_err(|error| StoreError::Encode(error.to_string()))?;
    let genesis = genesis_block.hash();
    if !dir.join(super::store::DB_FILE).exists() {
        return Err(StoreError::Database(format!("no chain stored in {}", dir.display())).into());
    }
    let store = Store::open(dir, &genesis)?;
    let loaded = store.load()?;
    let mut index = BlockIndex::new(IndexEntry {
        header: genesis_block.header,
        hash: genesis,
        work: Work::ZERO,
        status: BlockStatus::Valid,
        seq: 0,
    });
    let mut state = State::genesis(params);
    let mut transactions = 0u64;
    let mut leaves = Vec::new();
    for (height, hash) in loaded.active.iter().enumerate().skip(1) {
        let height = height as u64;
        let invalid = |error| VerifyError::InvalidBlock { height, error };
        let block = store.block(hash)?.ok_or_else(|| {
            StoreError::Corrupt(format!("block {hash} at height {height} missing"))
        })?;
        if block.hash() != *hash {
            return Err(
                StoreError::Corrupt(format!("block at height {height} has another hash")).into(),
            );
        }
        let parent = index.tip().clone();
        if block.header.prev != parent.hash {
            return Err(invalid(BlockError::UnknownParent {
                parent: block.header.prev,
            }));
        }
        let context = HeaderContext {
            parent_height: parent.header.height,
            expected_target: index
                .next_target(&parent, params)
                .map_err(|error| invalid(BlockError::InvalidTarget(error)))?,
            median_time_past: index.median_time_past(&parent.hash),
            // Stored blocks passed the drift rule when they arrived; today's clock is
            // not the one they were judged by.
            now_ms: u64::MAX - params.max_future_drift_ms,
        };
        check_header(&block.header, &context, params).map_err(invalid)?;
        check_body(&block, params, &genesis, None).map_err(invalid)?;
        state.apply_block(&block, params).map_err(invalid)?;
        transactions += block.txs.len() as u64;
        for (position, txid) in block.leaf_ids().into_iter().enumerate() {
            let place = TxPlace {
                block: *hash,
                height,
                position: position as u32,
            };
            leaves.push((txid, place));
        }
        index.insert(IndexEntry {
            header: block.header,
            hash: *hash,
            work: Work::ZERO,
            status: BlockStatus::Valid,
            seq: height,
        });
        index.push_active(*hash);
    }
    let stored =
        State::from_accounts(loaded.accounts).with_tokens(loaded.tokens, loaded.token_balances);
    if stored != state {
        let differing = state
            .iter()
            .filter(|(address, account)| stored.account(address) != **account)
            .count()
            + stored
                .iter()
                .filter(|(address, _)| state.account(address) == Default::default())
                .count();
        let tokens_differing = state
            .tokens()
            .filter(|(token, info)| stored.token(token) != Some(*info))
            .count()
            + stored
                .tokens()
                .filter(|(token, _)| state.token(token).is_none())
                .count()
            + state
                .all_token_balances()
                .filter(|(address, token, balance)| {
                    stored.token_balance(address, token) != *balance
                })
                .count()
            + stored
                .all_token_balances()
                .filter(|(address, token, _)| state.token_balance(address, token).is_zero())
                .count();
        return Err(VerifyError::StateMismatch {
            accounts_differing: differing,
            tokens_differing,
        });
    }
    let (missing, extra) = store.tx_index_difference(&leaves)?;
    if (missing, extra) != (0, 0) {
        return Err(VerifyError::TxIndexMismatch { missing, extra });
    }
    Ok(VerifyReport {
        height: loaded.active.len() as u64 - 1,
        transactions,
        accounts: state.len(),
    })
}
