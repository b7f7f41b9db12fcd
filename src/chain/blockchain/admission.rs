//! Transactions offered to the mempool: through the chain, so that they are checked
//! against the state as of the tip and signed for this chain's genesis.

use super::Chain;
use crate::consensus::error::TxError;
use crate::consensus::hash::TxId;
use crate::consensus::transaction::Transaction;
use crate::consensus::validation::VerifiedTx;
use std::collections::HashMap;

impl Chain {
    /// Offers a transaction to the mempool.
    pub fn submit_transaction(&mut self, tx: Transaction) -> Result<TxId, TxError> {
        self.mempool
            .add(tx, &self.state, &self.params, &self.genesis)
    }

    /// [`Chain::submit_transaction`] for a transaction verified on another thread.
    pub fn submit_verified(&mut self, tx: VerifiedTx) -> Result<TxId, TxError> {
        self.mempool
            .add_verified(tx, &self.state, &self.params, &self.genesis)
    }

    /// Drops pending transactions that waited too long (see
    /// [`crate::chain::mempool_file::MEMPOOL_EXPIRY_MS`]), each with the rest of its
    /// sender's run. Returns how many left.
    pub fn expire_transactions(&mut self, ids: &[TxId]) -> usize {
        ids.iter().map(|id| self.mempool.remove(id)).sum()
    }

    /// Up to `max` pending transactions in the order a template would take them.
    pub fn pending_transactions(&self, max: usize) -> Vec<Transaction> {
        self.mempool.select(&self.state, max, usize::MAX)
    }

    /// Whether the mempool would admit `tx` now, signature aside (checked first, so that
    /// duplicates and stale transactions cost no signature verification).
    pub fn precheck_transaction(&self, tx: &Transaction) -> Result<TxId, TxError> {
        self.mempool.check(tx, &self.state, &self.params)
    }

    /// [`Chain::precheck_transaction`] for transactions that will be submitted in this
    /// order (a client's pipelined requests). A transaction whose nonce follows one
    /// earlier in `txs` that passed, from the same sender, passes the nonce check although
    /// that one is not pending yet; its balance is checked when it is submitted, after the
    /// earlier one (submission checks everything again).
    pub fn precheck_transactions(&self, txs: &[Transaction]) -> Vec<Result<TxId, TxError>> {
        let mut next_in_run = HashMap::new();
        txs.iter()
            .map(|tx| {
                let checked = match self.precheck_transaction(tx) {
                    Err(TxError::NonceTooHigh { nonce, .. })
                        if next_in_run.get(&tx.sender) == Some(&nonce) =>
                    {
                        Ok(tx.id())
                    }
                    other => other,
                };
                if checked.is_ok() {
                    next_in_run.insert(tx.sender, tx.nonce.saturating_add(1));
                }
                checked
            })
            .collect()
    }
}
