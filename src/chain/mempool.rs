//! Transactions waiting to be mined.
//!
//! Each sender's pending transactions form a gap-free run of nonces starting at the
//! account's next nonce, and together never spend more than the account holds, so any
//! prefix of a sender's run is valid on the current tip. The pool is bounded by count and
//! bytes; when full, a higher-fee transaction evicts the lowest-fee one at the end of
//! some other sender's run (evicting from the middle would leave a nonce gap).
//!
//! Besides the consensus rules, the pool applies a relay policy ([`relay_policy`]): it
//! refuses what no user means to do, though a block holding it would still be valid.

use super::state::{check_against, Account, State};
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::error::TxError;
use crate::consensus::hash::{BlockHash, TokenId, TxId};
use crate::consensus::params::ChainParams;
use crate::consensus::signatures::SMALL_ORDER_KEYS;
use crate::consensus::token::token_id;
use crate::consensus::transaction::{Transaction, TxKind};
use crate::consensus::validation::{check_transaction_fields, verify_signature, VerifiedTx};
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// What the mempool refuses although consensus would allow it, as Bitcoin Core's
/// standardness rules do: mistakes that cost the sender (a zero amount pays the fee for
/// nothing; coins sent to a small-order point, such as the all-zero address block 0
/// names, can never be spent). Policy, not consensus, so no block already mined becomes
/// invalid and the rule can change without a fork. `ironchain send` applies it before
/// signing too.
pub fn relay_policy(tx: &Transaction) -> Result<(), TxError> {
    if tx.amount.is_zero() {
        return Err(TxError::ZeroAmount);
    }
    if SMALL_ORDER_KEYS.contains(tx.receiver.as_bytes()) {
        return Err(TxError::UnspendableReceiver {
            receiver: tx.receiver,
        });
    }
    Ok(())
}

/// How much the mempool may hold.
#[derive(Clone, Copy, Debug)]
pub struct MempoolLimits {
    pub max_count: usize,
    pub max_bytes: usize,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        MempoolLimits {
            max_count: 50_000,
            max_bytes: 32 << 20,
        }
    }
}

#[derive(Debug)]
struct Pending {
    tx: Transaction,
    id: TxId,
    size: usize,
}

/// One sender's pending run, keyed by nonce.
#[derive(Debug, Default)]
struct SenderQueue {
    txs: BTreeMap<u64, Pending>,
    /// Sum of native costs over `txs`. Never more than the sender's balance, since each
    /// transaction was checked against what the run before it left; saturating all the
    /// same, as a total that hit the ceiling would only refuse more.
    cost: Amount,
    /// Token the run's transfers spend, per token: never more than the sender holds.
    token_cost: HashMap<TokenId, Amount>,
    /// Tokens the run issues, with their supply: its later transfers may spend them.
    issues: HashMap<TokenId, Amount>,
}

impl SenderQueue {
    /// Counts `tx`, the new end of the run, in the run's totals.
    fn count(&mut self, tx: &Transaction) {
        self.cost = self
            .cost
            .saturating_add(tx.total_cost().unwrap_or(Amount::MAX));
        match tx.kind() {
            TxKind::Transfer => {}
            TxKind::TokenTransfer { token } => {
                let spent = self.token_cost.entry(*token).or_default();
                *spent = spent.saturating_add(tx.amount);
            }
            TxKind::Issue { .. } => {
                self.issues
                    .insert(token_id(&tx.sender, tx.nonce), tx.amount);
            }
        }
    }

    /// Takes `tx`, the old end of the run, out of the run's totals.
    fn uncount(&mut self, tx: &Transaction) {
        self.cost = self
            .cost
            .saturating_sub(tx.total_cost().unwrap_or(Amount::ZERO));
        match tx.kind() {
            TxKind::Transfer => {}
            TxKind::TokenTransfer { token } => {
                if let Some(spent) = self.token_cost.get_mut(token) {
                    *spent = spent.saturating_sub(tx.amount);
                }
            }
            TxKind::Issue { .. } => {
                self.issues.remove(&token_id(&tx.sender, tx.nonce));
            }
        }
    }

    /// The token rules for `tx` at the end of this run.
    fn check_token(&self, tx: &Transaction, state: &State) -> Result<(), TxError> {
        match tx.kind() {
            TxKind::TokenTransfer { token } => state.check_token_transfer(
                tx,
                token,
                self.token_cost.get(token).copied().unwrap_or_default(),
                self.issues.get(token).copied(),
            ),
            TxKind::Transfer | TxKind::Issue { .. } => Ok(()),
        }
    }
}

/// The pool of valid, not yet mined transactions.
#[derive(Debug)]
pub struct Mempool {
    by_id: HashMap<TxId, (Address, u64)>,
    by_sender: HashMap<Address, SenderQueue>,
    bytes: usize,
    limits: MempoolLimits,
}

impl Mempool {
    pub fn new(limits: MempoolLimits) -> Self {
        Mempool {
            by_id: HashMap::new(),
            by_sender: HashMap::new(),
            bytes: 0,
            limits,
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// How much it may hold.
    pub fn limits(&self) -> &MempoolLimits {
        &self.limits
    }

    /// Total encoded size of the pending transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn contains(&self, id: &TxId) -> bool {
        self.by_id.contains_key(id)
    }

    /// The pending transaction with this id.
    pub fn get(&self, id: &TxId) -> Option<&Transaction> {
        let (sender, nonce) = self.by_id.get(id)?;
        Some(&self.by_sender.get(sender)?.txs.get(nonce)?.tx)
    }

    /// The nonce the sender's next transaction should carry, counting pending ones.
    pub fn next_nonce(&self, address: &Address, state: &State) -> u64 {
        let pending = self
            .by_sender
            .get(address)
            .map_or(0, |queue| queue.txs.len());
        state.account(address).nonce.saturating_add(pending as u64)
    }

    /// Admits `tx` if it is valid on `state` after the sender's pending transactions.
    pub fn add(
        &mut self,
        tx: Transaction,
        state: &State,
        params: &ChainParams,
        genesis: &BlockHash,
    ) -> Result<TxId, TxError> {
        self.admit(tx, state, params, Some(genesis))
    }

    /// [`Mempool::add`] for a transaction whose signature was verified already (on another
    /// thread): the other checks run again, since the state may have moved meanwhile.
    pub fn add_verified(
        &mut self,
        tx: VerifiedTx,
        state: &State,
        params: &ChainParams,
        genesis: &BlockHash,
    ) -> Result<TxId, TxError> {
        let verify_again = (tx.genesis() != genesis).then_some(genesis);
        self.admit(tx.into_tx(), state, params, verify_again)
    }

    /// Every check of [`Mempool::add`] but the signature (the expensive one): whether `tx`
    /// is new and would be admitted on `state` now. Returns its id.
    pub fn check(
        &self,
        tx: &Transaction,
        state: &State,
        params: &ChainParams,
    ) -> Result<TxId, TxError> {
        let id = tx.id();
        if self.by_id.contains_key(&id) {
            return Err(TxError::AlreadyInMempool);
        }
        check_transaction_fields(tx, params)?;
        relay_policy(tx)?;
        let account = state.account(&tx.sender);
        let queue = self.by_sender.get(&tx.sender);
        let pending = queue.map_or(0, |queue| queue.txs.len() as u64);
        let pending_cost = queue.map_or(Amount::ZERO, |queue| queue.cost);
        if tx.nonce >= account.nonce && tx.nonce < account.nonce.saturating_add(pending) {
            return Err(TxError::NoncePending { nonce: tx.nonce });
        }
        // The sender as it will be once its pending run is mined.
        let after_pending = Account {
            balance: account.balance.saturating_sub(pending_cost),
            nonce: account.nonce.saturating_add(pending),
        };
        check_against(&after_pending, tx)?;
        // Paying yourself cannot overflow: the amount was just taken from your balance.
        if tx.receiver != tx.sender
            && state
                .account(&tx.receiver)
                .balance
                .checked_add(tx.native_amount())
                .is_none()
        {
            return Err(TxError::ReceiverBalanceOverflow);
        }
        match queue {
            Some(queue) => queue.check_token(tx, state)?,
            None => SenderQueue::default().check_token(tx, state)?,
        }
        Ok(id)
    }

    /// Puts back transactions of blocks a reorg disconnected (in chain order), ahead of
    /// what is already pending, whose nonces come after theirs. Their signatures were
    /// verified when their blocks were checked. Returns how many got back in.
    pub fn readd(
        &mut self,
        returned: Vec<Transaction>,
        state: &State,
        params: &ChainParams,
    ) -> usize {
        if returned.is_empty() {
            return 0;
        }
        let pending: Vec<Transaction> = std::mem::take(&mut self.by_sender)
            .into_values()
            .flat_map(|queue| queue.txs.into_values().map(|pending| pending.tx))
            .collect();
        self.by_id.clear();
        self.bytes = 0;
        let back = returned
            .into_iter()
            .filter(|tx| self.admit(tx.clone(), state, params, None).is_ok())
            .count();
        for tx in pending {
            // Already verified on admission; a few may no longer fit and are dropped.
            let _ = self.admit(tx, state, params, None);
        }
        back
    }

    /// `add`, with the signature check skipped when `genesis` is `None` because the
    /// transaction was verified before.
    fn admit(
        &mut self,
        tx: Transaction,
        state: &State,
        params: &ChainParams,
        genesis: Option<&BlockHash>,
    ) -> Result<TxId, TxError> {
        let id = self.check(&tx, state, params)?;
        if let Some(genesis) = genesis {
            verify_signature(&tx, genesis)?;
        }
        let size = tx.encoded_size();
        self.make_room(size, tx.fee, &tx.sender)?;
        self.insert(Pending { tx, id, size });
        Ok(id)
    }

    fn insert(&mut self, pending: Pending) {
        let sender = pending.tx.sender;
        let nonce = pending.tx.nonce;
        let queue = self.by_sender.entry(sender).or_default();
        queue.count(&pending.tx);
        self.bytes += pending.size;
        self.by_id.insert(pending.id, (sender, nonce));
        queue.txs.insert(nonce, pending);
    }

    /// Evicts lowest-fee run ends of other senders until `size` more bytes fit, as long
    /// as each evicted transaction pays less than `fee`. The evictions are planned first
    /// and made only if they make enough room, so a refused transaction evicts nothing.
    fn make_room(&mut self, size: usize, fee: Amount, sender: &Address) -> Result<(), TxError> {
        let mut count = self.by_id.len();
        let mut bytes = self.bytes;
        // How many transactions at the end of each sender's run are planned to go.
        let mut planned: HashMap<Address, usize> = HashMap::new();
        let mut evictions = Vec::new();
        while count + 1 > self.limits.max_count || bytes + size > self.limits.max_bytes {
            let cheapest =
                self.by_sender
                    .iter()
                    .filter(|(address, _)| *address != sender)
                    .filter_map(|(address, queue)| {
                        let gone = planned.get(address).copied().unwrap_or(0);
                        queue.txs.iter().nth_back(gone).map(|(nonce, pending)| {
                            (pending.tx.fee, *address, *nonce, pending.size)
                        })
                    })
                    .min();
            match cheapest {
                Some((lowest, address, nonce, evicted_size)) if lowest < fee => {
                    *planned.entry(address).or_default() += 1;
                    evictions.push((address, nonce));
                    count -= 1;
                    bytes -= evicted_size;
                }
                Some((lowest, ..)) => return Err(TxError::MempoolFull { lowest_fee: lowest }),
                None => return Err(TxError::MempoolFull { lowest_fee: fee }),
            }
        }
        for (address, nonce) in evictions {
            self.remove_last(&address, nonce);
        }
        Ok(())
    }

    fn remove_last(&mut self, address: &Address, nonce: u64) {
        if let Some(queue) = self.by_sender.get_mut(address) {
            if let Some(pending) = queue.txs.remove(&nonce) {
                queue.uncount(&pending.tx);
                self.bytes -= pending.size;
                self.by_id.remove(&pending.id);
            }
            if queue.txs.is_empty() {
                self.by_sender.remove(address);
            }
        }
    }

    /// Removes transaction `id` and the rest of its sender's run after it (which would
    /// otherwise wait behind a nonce gap). Returns how many left.
    pub fn remove(&mut self, id: &TxId) -> usize {
        let Some((sender, nonce)) = self.by_id.get(id).copied() else {
            return 0;
        };
        let run: Vec<u64> = self
            .by_sender
            .get(&sender)
            .map(|queue| queue.txs.range(nonce..).map(|(nonce, _)| *nonce).collect())
            .unwrap_or_default();
        for nonce in run.iter().rev() {
            self.remove_last(&sender, *nonce);
        }
        run.len()
    }

    /// Drops what the new tip made invalid: transactions whose nonce was used by a
    /// connected block, and any run that no longer starts at the account's nonce or no
    /// longer fits its balance. Returns how many were dropped.
    pub fn revalidate(&mut self, state: &State) -> usize {
        let before = self.by_id.len();
        let senders: Vec<Address> = self.by_sender.keys().copied().collect();
        for sender in senders {
            let account = state.account(&sender);
            let Some(queue) = self.by_sender.remove(&sender) else {
                continue;
            };
            let mut kept = SenderQueue::default();
            let mut simulated = account;
            for (nonce, pending) in queue.txs {
                let debited = pending
                    .tx
                    .total_cost()
                    .and_then(|cost| simulated.balance.checked_sub(cost));
                let keep = nonce >= account.nonce
                    && check_against(&simulated, &pending.tx).is_ok()
                    && kept.check_token(&pending.tx, state).is_ok();
                if let (true, Some(balance)) = (keep, debited) {
                    simulated.balance = balance;
                    simulated.nonce += 1;
                    kept.count(&pending.tx);
                    kept.txs.insert(nonce, pending);
                } else {
                    self.bytes -= pending.size;
                    self.by_id.remove(&pending.id);
                }
            }
            if !kept.txs.is_empty() {
                self.by_sender.insert(sender, kept);
            }
        }
        before - self.by_id.len()
    }

    /// Picks transactions for a block: highest fee first, each sender's in nonce order,
    /// within the count and byte limits, and valid in sequence on `state`.
    pub fn select(&self, state: &State, max_txs: usize, max_bytes: usize) -> Vec<Transaction> {
        let mut selected = Vec::new();
        let mut bytes = 0usize;
        let mut overlay: HashMap<Address, Account> = HashMap::new();
        // The token spends and issues of each sender's selected run: tokens received
        // within the block are not counted, which only ever leaves a transfer for later.
        let mut selected_runs: HashMap<Address, SenderQueue> = HashMap::new();
        // (fee, sender, position in its run); ties broken by address for determinism.
        let mut heads: BinaryHeap<(Amount, Address)> = BinaryHeap::new();
        let mut cursors: HashMap<Address, std::collections::btree_map::Values<'_, u64, Pending>> =
            HashMap::new();
        for (address, queue) in &self.by_sender {
            let cursor = queue.txs.values();
            if let Some(first) = cursor.clone().next() {
                heads.push((first.tx.fee, *address));
                cursors.insert(*address, cursor);
            }
        }
        while let Some((_, address)) = heads.pop() {
            if selected.len() >= max_txs {
                break;
            }
            let Some(cursor) = cursors.get_mut(&address) else {
                continue;
            };
            let Some(pending) = cursor.next() else {
                continue;
            };
            let tx = &pending.tx;
            let sender = *overlay
                .entry(tx.sender)
                .or_insert_with(|| state.account(&tx.sender));
            let receiver = *overlay
                .entry(tx.receiver)
                .or_insert_with(|| state.account(&tx.receiver));
            let fits = bytes + pending.size <= max_bytes;
            let run = selected_runs.entry(tx.sender).or_default();
            // The two balances after `tx`; a transfer to oneself credits the debited one.
            let balances = tx
                .total_cost()
                .and_then(|cost| sender.balance.checked_sub(cost))
                .and_then(|debited| {
                    let receiver_before = if tx.receiver == tx.sender {
                        debited
                    } else {
                        receiver.balance
                    };
                    let credited = receiver_before.checked_add(tx.native_amount())?;
                    Some((debited, credited))
                });
            let valid = check_against(&sender, tx).is_ok() && run.check_token(tx, state).is_ok();
            let (Some((debited, credited)), true, true) = (balances, fits, valid) else {
                // Later transactions of this sender depend on this one: drop the run.
                continue;
            };
            run.count(tx);
            if let Some(account) = overlay.get_mut(&tx.sender) {
                account.balance = debited;
                account.nonce += 1;
            }
            if let Some(account) = overlay.get_mut(&tx.receiver) {
                account.balance = credited;
            }
            bytes += pending.size;
            selected.push(tx.clone());
            if let Some(next) = cursor.clone().next() {
                heads.push((next.tx.fee, address));
            }
        }
        selected
    }

    /// Every pending transaction, grouped by sender in nonce order.
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.by_sender
            .values()
            .flat_map(|queue| queue.txs.values().map(|pending| &pending.tx))
    }
}
