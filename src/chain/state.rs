//! Account state: balance and next nonce per address, the tokens issued so far, and each
//! account's balance of each token, all O(1) to look up.
//!
//! Applying a block is all-or-nothing: if any transaction fails, every change the block
//! made so far is rolled back before the error is returned. The undo record of a
//! connected block holds each touched account's value from before the block, which is
//! all a reorg needs to disconnect it exactly.

use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::block::Block;
use crate::consensus::error::{BlockError, TxError};
use crate::consensus::hash::{TokenId, TxId};
use crate::consensus::params::ChainParams;
use crate::consensus::token::token_id;
use crate::consensus::transaction::{Transaction, TxKind};
use crate::consensus::validation::check_reward_amount;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One account's balance and the nonce its next transaction must carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub balance: Amount,
    pub nonce: u64,
}

/// A token as its issue created it. The supply never changes afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub symbol: String,
    pub decimals: u8,
    pub supply: Amount,
    pub issuer: Address,
    pub issue_txid: TxId,
}

/// The accounts' values from before a block, to put back when it is disconnected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockUndo {
    /// Each account the block touched, with its value before the block, in first-touch
    /// order.
    pub previous: Vec<(Address, Account)>,
    /// Each (account, token) balance the block touched, with its value before the block.
    /// Absent in undo records of blocks without token transactions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_balances: Vec<(Address, TokenId, Amount)>,
    /// Tokens the block issued, which disconnecting it removes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issued: Vec<TokenId>,
}

/// All accounts with a nonzero balance or nonce, all tokens, all nonzero token balances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    accounts: HashMap<Address, Account>,
    tokens: HashMap<TokenId, TokenInfo>,
    /// Per account, per token: two hash lookups for one balance, and an account's tokens
    /// listed without scanning everyone's.
    token_balances: HashMap<Address, HashMap<TokenId, Amount>>,
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
        State {
            accounts,
            ..State::default()
        }
    }

    /// Builds a state from stored accounts.
    pub fn from_accounts(accounts: impl IntoIterator<Item = (Address, Account)>) -> Self {
        State {
            accounts: accounts.into_iter().collect(),
            ..State::default()
        }
    }

    /// Adds stored tokens and token balances to a state built by
    /// [`State::from_accounts`].
    pub fn with_tokens(
        mut self,
        tokens: impl IntoIterator<Item = (TokenId, TokenInfo)>,
        balances: impl IntoIterator<Item = (Address, TokenId, Amount)>,
    ) -> Self {
        self.tokens.extend(tokens);
        for (address, token, balance) in balances {
            self.set_token_balance(address, token, balance);
        }
        self
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
    pub fn total_supply(&self) -> Option<Amount> {
        Amount::checked_sum(self.accounts.values().map(|account| account.balance))
    }

    /// Every account, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.accounts.iter()
    }

    /// The token with this id, if it has been issued.
    pub fn token(&self, token: &TokenId) -> Option<&TokenInfo> {
        self.tokens.get(token)
    }

    /// Every issued token, in no particular order.
    pub fn tokens(&self) -> impl Iterator<Item = (&TokenId, &TokenInfo)> {
        self.tokens.iter()
    }

    /// `address`'s balance of `token` (zero if it holds none).
    pub fn token_balance(&self, address: &Address, token: &TokenId) -> Amount {
        self.token_balances
            .get(address)
            .and_then(|balances| balances.get(token))
            .copied()
            .unwrap_or_default()
    }

    /// The nonzero token balances of `address`, in no particular order.
    pub fn token_balances_of(&self, address: &Address) -> impl Iterator<Item = (&TokenId, Amount)> {
        self.token_balances
            .get(address)
            .into_iter()
            .flat_map(|balances| balances.iter().map(|(token, balance)| (token, *balance)))
    }

    /// Every nonzero token balance, in no particular order.
    pub fn all_token_balances(&self) -> impl Iterator<Item = (&Address, &TokenId, Amount)> {
        self.token_balances.iter().flat_map(|(address, balances)| {
            balances
                .iter()
                .map(move |(token, balance)| (address, token, *balance))
        })
    }

    /// Sum of every account's balance of `token`, or `None` on overflow.
    pub fn token_holdings(&self, token: &TokenId) -> Option<Amount> {
        Amount::checked_sum(
            self.token_balances
                .values()
                .filter_map(|balances| balances.get(token).copied()),
        )
    }

    fn set_token_balance(&mut self, address: Address, token: TokenId, balance: Amount) {
        if balance.is_zero() {
            if let Some(balances) = self.token_balances.get_mut(&address) {
                balances.remove(&token);
                if balances.is_empty() {
                    self.token_balances.remove(&address);
                }
            }
        } else {
            self.token_balances
                .entry(address)
                .or_default()
                .insert(token, balance);
        }
    }

    fn set(&mut self, address: Address, account: Account) {
        if account == Account::default() {
            self.accounts.remove(&address);
        } else {
            self.accounts.insert(address, account);
        }
    }

    /// Checks a transaction's nonce and balances against this state (its stateless rules
    /// are checked elsewhere).
    pub fn check_transaction(&self, tx: &Transaction) -> Result<(), TxError> {
        let sender = self.account(&tx.sender);
        check_against(&sender, tx)?;
        let receiver_balance = if tx.receiver == tx.sender {
            // check_against guarantees the balance covers the native cost.
            sender
                .balance
                .saturating_sub(tx.total_cost().unwrap_or(Amount::MAX))
        } else {
            self.account(&tx.receiver).balance
        };
        receiver_balance
            .checked_add(tx.native_amount())
            .ok_or(TxError::ReceiverBalanceOverflow)?;
        if let TxKind::TokenTransfer { token } = tx.kind() {
            self.check_token_transfer(tx, token, Amount::ZERO, None)?;
        }
        Ok(())
    }

    /// The token-transfer rules for a sender that has already promised `spent` of the
    /// token to earlier transactions not applied yet (the mempool's; a block's are
    /// applied in turn). `pending_issue` is the supply of the token when the sender's own
    /// earlier, not yet applied issue creates it: only the issuer can hold a token then.
    pub fn check_token_transfer(
        &self,
        tx: &Transaction,
        token: &TokenId,
        spent: Amount,
        pending_issue: Option<Amount>,
    ) -> Result<(), TxError> {
        let held = match (self.tokens.contains_key(token), pending_issue) {
            (true, _) => self.token_balance(&tx.sender, token),
            (false, Some(supply)) => supply,
            (false, None) => return Err(TxError::UnknownToken { token: *token }),
        };
        let balance = held.saturating_sub(spent);
        if balance < tx.amount {
            return Err(TxError::InsufficientTokenBalance {
                balance,
                needed: tx.amount,
            });
        }
        if tx.receiver != tx.sender
            && self
                .token_balance(&tx.receiver, token)
                .checked_add(tx.amount)
                .is_none()
        {
            return Err(TxError::TokenBalanceOverflow);
        }
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
        for (index, tx) in block.txs.iter().enumerate() {
            let invalid = |error| BlockError::InvalidTransaction {
                index,
                txid: tx.id(),
                error,
            };
            self.check_transaction(tx).map_err(invalid)?;
            self.apply_transaction(tx, journal).map_err(invalid)?;
        }
        // Checked before the block was stored; again here, as a block a store written
        // before that check may hold is connected by the same code.
        check_reward_amount(block, params)?;
        let mut miner = self.account(&block.reward.miner);
        miner.balance = miner
            .balance
            .checked_add(block.reward.amount)
            .ok_or(BlockError::FeeOverflow)?;
        self.replace(journal, block.reward.miner, miner);
        Ok(())
    }

    /// Applies one transaction that [`State::check_transaction`] accepted. Every change is
    /// checked arithmetic all the same, so a rule missed there is an error here, never a
    /// wrapped balance.
    fn apply_transaction(
        &mut self,
        tx: &Transaction,
        journal: &mut Journal,
    ) -> Result<(), TxError> {
        let cost = tx.total_cost().ok_or(TxError::AmountOverflow)?;
        let mut sender = self.account(&tx.sender);
        sender.balance = sender
            .balance
            .checked_sub(cost)
            .ok_or(TxError::InsufficientBalance {
                balance: sender.balance,
                needed: cost,
            })?;
        sender.nonce = sender.nonce.checked_add(1).ok_or(TxError::NonceExhausted)?;
        self.replace(journal, tx.sender, sender);
        // Read after the sender's change: a transfer to oneself credits the debited account.
        let mut receiver = self.account(&tx.receiver);
        receiver.balance = receiver
            .balance
            .checked_add(tx.native_amount())
            .ok_or(TxError::ReceiverBalanceOverflow)?;
        self.replace(journal, tx.receiver, receiver);
        match tx.kind() {
            TxKind::Transfer => {}
            TxKind::TokenTransfer { token } => {
                let held = self.token_balance(&tx.sender, token);
                let left =
                    held.checked_sub(tx.amount)
                        .ok_or(TxError::InsufficientTokenBalance {
                            balance: held,
                            needed: tx.amount,
                        })?;
                self.replace_token(journal, tx.sender, *token, left);
                let credited = self
                    .token_balance(&tx.receiver, token)
                    .checked_add(tx.amount)
                    .ok_or(TxError::TokenBalanceOverflow)?;
                self.replace_token(journal, tx.receiver, *token, credited);
            }
            TxKind::Issue { symbol, decimals } => {
                let token = token_id(&tx.sender, tx.nonce);
                self.tokens.insert(
                    token,
                    TokenInfo {
                        symbol: symbol.clone(),
                        decimals: *decimals,
                        supply: tx.amount,
                        issuer: tx.sender,
                        issue_txid: tx.id(),
                    },
                );
                journal.issued.push(token);
                self.replace_token(journal, tx.sender, token, tx.amount);
            }
        }
        Ok(())
    }

    /// Records the account's old value in the journal, then sets the new one.
    fn replace(&mut self, journal: &mut Journal, address: Address, account: Account) {
        journal.record(address, self.account(&address));
        self.set(address, account);
    }

    /// Records the token balance's old value in the journal, then sets the new one.
    fn replace_token(
        &mut self,
        journal: &mut Journal,
        address: Address,
        token: TokenId,
        balance: Amount,
    ) {
        journal.record_token(address, token, self.token_balance(&address, &token));
        self.set_token_balance(address, token, balance);
    }

    /// Puts back every account and token balance a block touched, and removes the tokens
    /// it issued.
    pub fn undo_block(&mut self, undo: &BlockUndo) {
        for (address, account) in undo.previous.iter().rev() {
            self.set(*address, *account);
        }
        for (address, token, balance) in undo.token_balances.iter().rev() {
            self.set_token_balance(*address, *token, *balance);
        }
        for token in &undo.issued {
            self.tokens.remove(token);
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

/// First-touch values of the accounts and token balances a block changes, and the tokens
/// it issues.
#[derive(Default)]
struct Journal {
    previous: Vec<(Address, Account)>,
    seen: std::collections::HashSet<Address>,
    token_balances: Vec<(Address, TokenId, Amount)>,
    seen_tokens: std::collections::HashSet<(Address, TokenId)>,
    issued: Vec<TokenId>,
}

impl Journal {
    fn record(&mut self, address: Address, account: Account) {
        if self.seen.insert(address) {
            self.previous.push((address, account));
        }
    }

    fn record_token(&mut self, address: Address, token: TokenId, balance: Amount) {
        if self.seen_tokens.insert((address, token)) {
            self.token_balances.push((address, token, balance));
        }
    }

    fn finish(self) -> BlockUndo {
        BlockUndo {
            previous: self.previous,
            token_balances: self.token_balances,
            issued: self.issued,
        }
    }
}
