//! Account state: balance and next nonce per address, O(1) to look up.
//!
//! Applying a block is all-or-nothing: if any transaction fails, every change the block
//! made so far is rolled back before the error is returned. The undo record of a
//! connected block holds each touched account's value from before the block, which is
//! all a reorg needs to disconnect it exactly.

use crate::consensus::address::Address;
use crate::consensus::block::Block;
use crate::consensus::error::{BlockError, TxError};
use crate::consensus::params::ChainParams;
use crate::consensus::transaction::Transaction;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One account's balance and the nonce its next transaction must carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub balance: u64,
    pub nonce: u64,
}

/// The accounts' values from before a block, to put back when it is disconnected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockUndo {
    /// Each account the block touched, with its value before the block, in first-touch
    /// order.
    pub previous: Vec<(Address, Account)>,
}

/// All accounts with a nonzero balance or nonce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    accounts: HashMap<Address, Account>,
}

impl State {
    /// The genesis state: the parameters' allocations.
    pub fn genesis(params: &ChainParams) -> Self {
        let accounts = params
            .allocations
            .iter()
            .map(|allocation| {
                (
                    allocation.address,
                    Account {
                        balance: allocation.amount,
                        nonce: 0,
                    },
                )
            })
            .collect();
        State { accounts }
    }

    /// Builds a state from stored accounts.
    pub fn from_accounts(accounts: impl IntoIterator<Item = (Address, Account)>) -> Self {
        State {
            accounts: accounts.into_iter().collect(),
        }
    }

    /// The account at `address` (zero if it has never been used).
    pub fn account(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// Number of accounts with a nonzero balance or nonce.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account holds anything.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Sum of all balances, or `None` on overflow.
    pub fn total_supply(&self) -> Option<u64> {
        self.accounts
            .values()
            .try_fold(0u64, |sum, account| sum.checked_add(account.balance))
    }

    /// Every account, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.accounts.iter()
    }

    fn set(&mut self, address: Address, account: Account) {
        if account == Account::default() {
            self.accounts.remove(&address);
        } else {
            self.accounts.insert(address, account);
        }
    }

    /// Checks a transaction's nonce and balance against this state (its stateless rules
    /// are checked elsewhere).
    pub fn check_transaction(&self, tx: &Transaction) -> Result<(), TxError> {
        let sender = self.account(&tx.sender);
        check_against(&sender, tx)?;
        let receiver_balance = if tx.receiver == tx.sender {
            // check_against guarantees the balance covers amount + fee.
            sender
                .balance
                .saturating_sub(tx.amount.saturating_add(tx.fee))
        } else {
            self.account(&tx.receiver).balance
        };
        receiver_balance
            .checked_add(tx.amount)
            .ok_or(TxError::ReceiverBalanceOverflow)?;
        Ok(())
    }

    /// Applies the block's transactions in order and pays the reward; on any failure the
    /// state is left exactly as it was.
    pub fn apply_block(
        &mut self,
        block: &Block,
        params: &ChainParams,
    ) -> Result<BlockUndo, BlockError> {
        let mut undo = Journal::default();
        match self.apply_block_journaled(block, params, &mut undo) {
            Ok(()) => Ok(undo.finish()),
            Err(error) => {
                self.undo_block(&undo.finish());
                Err(error)
            }
        }
    }

    fn apply_block_journaled(
        &mut self,
        block: &Block,
        params: &ChainParams,
        journal: &mut Journal,
    ) -> Result<(), BlockError> {
        let mut fees: u64 = 0;
        for (index, tx) in block.txs.iter().enumerate() {
            let invalid = |error| BlockError::InvalidTransaction {
                index,
                txid: tx.id(),
                error,
            };
            self.check_transaction(tx).map_err(invalid)?;
            let cost = tx
                .total_cost()
                .ok_or_else(|| invalid(TxError::AmountOverflow))?;
            self.modify(journal, tx.sender, |account| {
                account.balance -= cost;
                account.nonce += 1;
            });
            self.modify(journal, tx.receiver, |account| {
                account.balance += tx.amount;
            });
            fees = fees.checked_add(tx.fee).ok_or(BlockError::FeeOverflow)?;
        }
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
        let miner = self.account(&block.reward.miner);
        miner
            .balance
            .checked_add(expected)
            .ok_or(BlockError::FeeOverflow)?;
        self.modify(journal, block.reward.miner, |account| {
            account.balance += expected;
        });
        Ok(())
    }

    /// Records the account's old value in the journal, then changes it. The caller has
    /// checked that the change cannot overflow.
    fn modify(
        &mut self,
        journal: &mut Journal,
        address: Address,
        change: impl FnOnce(&mut Account),
    ) {
        let mut account = self.account(&address);
        journal.record(address, account);
        change(&mut account);
        self.set(address, account);
    }

    /// Puts back every account a block touched.
    pub fn undo_block(&mut self, undo: &BlockUndo) {
        for (address, account) in undo.previous.iter().rev() {
            self.set(*address, *account);
        }
    }
}

/// Nonce and balance rules for a sender's account.
pub fn check_against(sender: &Account, tx: &Transaction) -> Result<(), TxError> {
    if sender.nonce == u64::MAX {
        return Err(TxError::NonceExhausted);
    }
    if tx.nonce < sender.nonce {
        return Err(TxError::NonceTooLow {
            nonce: tx.nonce,
            expected: sender.nonce,
        });
    }
    if tx.nonce > sender.nonce {
        return Err(TxError::NonceTooHigh {
            nonce: tx.nonce,
            expected: sender.nonce,
        });
    }
    let needed = tx.total_cost().ok_or(TxError::AmountOverflow)?;
    if sender.balance < needed {
        return Err(TxError::InsufficientBalance {
            balance: sender.balance,
            needed,
        });
    }
    Ok(())
}

/// First-touch values of the accounts a block changes.
#[derive(Default)]
struct Journal {
    previous: Vec<(Address, Account)>,
    seen: std::collections::HashSet<Address>,
}

impl Journal {
    fn record(&mut self, address: Address, account: Account) {
        if self.seen.insert(address) {
            self.previous.push((address, account));
        }
    }

    fn finish(self) -> BlockUndo {
        BlockUndo {
            previous: self.previous,
        }
    }
}
