//! The on-disk store: an embedded, crash-safe redb database in the node's data directory.
//!
//! Tables: blocks, the block index (header, cumulative work, status), the active chain by
//! height, account state, issued tokens, token balances, undo data, a transaction index
//! and metadata (genesis, tip).
//! Every change of the chain is one [`StoreBatch`] written in one redb transaction, so a
//! node killed at any moment reopens at the last committed tip with matching state.
//!
//! A sync batch may be committed *behind* ([`Store::commit_behind`]): its transaction
//! runs on a thread of its own while the chain verifies the next batch's signatures, so
//! the two cores are not one idle while the other writes. Every later use of the
//! database first waits for that commit (`Store::settle`), so a read never misses what
//! the chain in memory already holds, and commits stay in order.

use super::id_prefix::IdPrefix;
use super::index::IndexEntry;
use super::memory_store::MemoryTables;
use super::state::{Account, BlockUndo, TokenInfo};
use super::store_check;
use super::tx_index::{self, TxPlace, TX_INDEX};
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::block::Block;
use crate::consensus::hash::{BlockHash, TokenId, TxId};
use crate::consensus::transaction::Reward;
use redb::{Database, Durability, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

pub(super) const BLOCKS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blocks");
const INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("block_index");
pub(super) const ACTIVE: TableDefinition<u64, &[u8]> = TableDefinition::new("active_chain");
const ACCOUNTS: TableDefinition<&[u8], (u64, u64)> = TableDefinition::new("accounts");
const UNDO: TableDefinition<&[u8], &[u8]> = TableDefinition::new("undo");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Token id → CBOR of its [`TokenInfo`].
const TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tokens");
/// Address (32) ‖ token id (32) → balance; zero balances are not stored.
const TOKEN_BALANCES: TableDefinition<&[u8], u64> = TableDefinition::new("token_balances");

const META_GENESIS: &str = "genesis";
const META_TIP: &str = "tip";
/// Memory redb may use to cache pages. Its default (1 GiB) lets a node's resident memory
/// grow with the size of its chain: a node that synced 20,000 blocks peaked at 125 MiB
/// (CHANGELOG.md, 2026-11-23). Recent blocks, the index and accounts are read back from memory
/// anyway, and pages not cached here are still in the OS's file cache, so a small cache
/// costs no measurable speed: 8, 16, 32 and 256 MiB synced the full fixture equally fast.
/// 8 MiB, because a sync batch's commit behind allocates the cache's pages on its own
/// thread, whose allocator arena then holds them beside the chain's: with 32 MiB the
/// syncing node peaked at 97–127 MiB, with 8 MiB at 75–79 MiB.
pub(super) const CACHE_BYTES: usize = 8 << 20;
/// What a person can do about a [`StoreError::Damaged`] database.
pub const DAMAGED_ADVICE: &str =
    "restore it from a backup, or move it away and the node syncs the chain anew from its peers";
/// File name of the database inside the data directory.
pub const DB_FILE: &str = "chain.redb";

/// Why the store could not be read or written.
#[derive(Clone, Debug)]
pub enum StoreError {
    /// The database itself failed (I/O, corruption detected by redb, lock held).
    Database(String),
    /// A record does not decode or contradicts another.
    Corrupt(String),
    /// A record could not be encoded for storage (never expected for our own types;
    /// reported rather than written as an empty record).
    Encode(String),
    /// The database file exists but cannot be used: damaged, truncated, empty (see
    /// `store_check`). It was left as it is.
    Damaged { path: PathBuf, reason: String },
    /// The data directory holds another network's chain.
    WrongChain {
        stored: BlockHash,
        expected: BlockHash,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Database(reason) => write!(f, "database error: {reason}"),
            StoreError::Corrupt(reason) => write!(f, "stored data is corrupt: {reason}"),
            StoreError::Encode(reason) => write!(f, "cannot encode a record to store: {reason}"),
            StoreError::Damaged { path, reason } => write!(
                f,
                "{} cannot be used: {reason}; it was left as it is",
                path.display()
            ),
            StoreError::WrongChain { stored, expected } => write!(
                f,
                "the data directory holds a chain with genesis {stored}, but these chain \
                 parameters have genesis {expected}; pass the --config the chain was \
                 created with, or use another --data-dir"
            ),
        }
    }
}

impl std::error::Error for StoreError {}

/// The database at `path` is open in another process. redb's own words ("Database
/// already open. Cannot acquire lock.") do not say what a person can do about it.
pub(super) fn in_use_error(path: &Path) -> StoreError {
    let dir = path.parent().unwrap_or(path);
    StoreError::Database(format!(
        "cannot open {}: another node or command is probably using data directory {} \
         (stop it first, or use another --data-dir)",
        path.display(),
        dir.display()
    ))
}

pub(super) fn db_error(error: impl Into<redb::Error>) -> StoreError {
    StoreError::Database(error.into().to_string())
}

/// The CBOR encoding of a record to store.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_cbor::to_vec(value).map_err(|error| StoreError::Encode(error.to_string()))
}

pub(super) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_cbor::from_slice(bytes).map_err(|error| StoreError::Corrupt(format!("{what}: {error}")))
}

pub(super) fn hash_from(what: &str, bytes: &[u8]) -> Result<BlockHash, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(BlockHash::from_bytes)
        .map_err(|_| StoreError::Corrupt(format!("{what} is not a 32-byte hash")))
}

/// Everything one chain change writes, applied atomically by [`Store::commit`].
#[derive(Debug, Default)]
pub struct StoreBatch {
    pub blocks: Vec<(BlockHash, Vec<u8>)>,
    pub index: Vec<IndexEntry>,
    /// The active chain is cut back to this height before `active_push` is applied.
    pub active_truncate: Option<u64>,
    pub active_push: Vec<(u64, BlockHash)>,
    /// Final values of touched accounts; an all-zero account is deleted.
    pub accounts: HashMap<Address, Account>,
    /// Final state of touched tokens; `None` deletes (a disconnected issue).
    pub tokens: HashMap<TokenId, Option<TokenInfo>>,
    /// Final values of touched token balances; zero is deleted.
    pub token_balances: HashMap<(Address, TokenId), Amount>,
    pub undo: Vec<(BlockHash, BlockUndo)>,
    /// The transactions of disconnected blocks, each where it was: removed before
    /// `tx_add` is applied, so a transaction the new branch holds again is re-added.
    pub tx_remove: Vec<(TxId, TxPlace)>,
    /// The transactions of connected blocks (that are still connected at the end).
    pub tx_add: Vec<(TxId, TxPlace)>,
    pub tip: Option<BlockHash>,
    /// Set only by the first commit of a new store.
    pub genesis: Option<BlockHash>,
}

impl StoreBatch {
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
            && self.index.is_empty()
            && self.active_truncate.is_none()
            && self.active_push.is_empty()
            && self.accounts.is_empty()
            && self.tokens.is_empty()
            && self.token_balances.is_empty()
            && self.tx_add.is_empty()
            && self.tx_remove.is_empty()
            && self.tip.is_none()
    }
}

/// What [`Store::load`] reads back at start.
#[derive(Debug)]
pub struct Loaded {
    pub entries: Vec<IndexEntry>,
    pub active: Vec<BlockHash>,
    pub accounts: Vec<(Address, Account)>,
    pub tokens: Vec<(TokenId, TokenInfo)>,
    pub token_balances: Vec<(Address, TokenId, Amount)>,
    pub tip: BlockHash,
}

/// Where a store keeps its tables.
enum Backend {
    /// `Arc`: a commit behind ([`Store::commit_behind`]) holds it on its own thread.
    Redb(Arc<Database>),
    /// A throw-away chain of a simulation ([`MemoryTables`]); `RefCell` because the
    /// store's methods take `&self`, as redb's transactions allow.
    Memory(RefCell<MemoryTables>),
}

/// The database handle.
pub struct Store {
    backend: Backend,
    durability: Durability,
    /// The commit still running behind, if any.
    behind: RefCell<Option<JoinHandle<Result<(), StoreError>>>>,
    /// Why a commit behind failed. Sticky: memory is then ahead of disk, so nothing may
    /// be written after it (the caller stops, as for a failed commit in the foreground).
    failed: RefCell<Option<StoreError>>,
    #[cfg(test)]
    pub(crate) fail_next_commit: std::cell::Cell<bool>,
}

impl Store {
    /// Opens (or creates) the database in `dir` for the chain whose genesis is `genesis`.
    pub fn open(dir: &Path, genesis: &BlockHash) -> Result<Store, StoreError> {
        // create_dir_all accepts an existing path without checking what it is, and the
        // database open then fails with an obscure "File exists".
        if dir.exists() && !dir.is_dir() {
            return Err(StoreError::Database(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|error| {
            StoreError::Database(format!("cannot create {}: {error}", dir.display()))
        })?;
        let path = dir.join(DB_FILE);
        let mut builder = Database::builder();
        builder.set_cache_size(CACHE_BYTES);
        // Only a missing file makes a new chain: an existing one, even empty, is checked
        // and must be a sound database (see `store_check`).
        let opened = if path.exists() {
            store_check::check_existing(&path)?;
            builder.open(&path)
        } else {
            builder.create(&path)
        };
        let db = opened.map_err(|error| match error {
            redb::DatabaseError::DatabaseAlreadyOpen => in_use_error(&path),
            error => StoreError::Database(format!("cannot open {}: {error}", path.display())),
        })?;
        Store::with_database(db, genesis)
    }

    /// A new, empty store in memory ([`MemoryTables`]): for simulations of many nodes,
    /// whose chains are thrown away at the end.
    pub fn open_in_memory() -> Store {
        Store {
            backend: Backend::Memory(RefCell::default()),
            durability: Durability::None,
            behind: RefCell::default(),
            failed: RefCell::default(),
            #[cfg(test)]
            fail_next_commit: std::cell::Cell::new(false),
        }
    }

    fn with_database(db: Database, genesis: &BlockHash) -> Result<Store, StoreError> {
        let store = Store {
            backend: Backend::Redb(Arc::new(db)),
            durability: Durability::Immediate,
            behind: RefCell::default(),
            failed: RefCell::default(),
            #[cfg(test)]
            fail_next_commit: std::cell::Cell::new(false),
        };
        store.create_tables()?;
        if let Some(stored) = store.meta_hash(META_GENESIS)? {
            if stored != *genesis {
                return Err(StoreError::WrongChain {
                    stored,
                    expected: *genesis,
                });
            }
        }
        tx_index::migrate(store.db()?)?;
        Ok(store)
    }

    /// Trades durability of each commit for speed: with `false`, a crash may lose the
    /// last commits, but what survives is still a consistent earlier tip.
    pub fn set_sync_each_commit(&mut self, sync: bool) {
        self.durability = if sync {
            Durability::Immediate
        } else {
            Durability::Eventual
        };
    }

    /// The redb database once the commit behind (if any) is done, or why there is none
    /// to use.
    fn db(&self) -> Result<&Arc<Database>, StoreError> {
        self.settle()?;
        match &self.backend {
            Backend::Redb(db) => Ok(db),
            Backend::Memory(_) => Err(StoreError::Database(
                "an in-memory store is never reopened".into(),
            )),
        }
    }

    fn create_tables(&self) -> Result<(), StoreError> {
        let txn = self.db()?.begin_write().map_err(db_error)?;
        txn.open_table(BLOCKS).map_err(db_error)?;
        txn.open_table(INDEX).map_err(db_error)?;
        txn.open_table(ACTIVE).map_err(db_error)?;
        txn.open_table(ACCOUNTS).map_err(db_error)?;
        txn.open_table(UNDO).map_err(db_error)?;
        txn.open_table(TX_INDEX).map_err(db_error)?;
        txn.open_table(META).map_err(db_error)?;
        txn.open_table(TOKENS).map_err(db_error)?;
        txn.open_table(TOKEN_BALANCES).map_err(db_error)?;
        txn.commit().map_err(db_error)
    }

    fn meta_hash(&self, key: &str) -> Result<Option<BlockHash>, StoreError> {
        let txn = self.db()?.begin_read().map_err(db_error)?;
        let table = txn.open_table(META).map_err(db_error)?;
        let value = table.get(key).map_err(db_error)?;
        value.map(|guard| hash_from(key, guard.value())).transpose()
    }

    /// Whether the database holds a chain yet.
    pub fn is_initialised(&self) -> Result<bool, StoreError> {
        if let Backend::Memory(tables) = &self.backend {
            return Ok(tables.borrow().initialised);
        }
        Ok(self.meta_hash(META_TIP)?.is_some())
    }

    /// Reads the index, active chain, accounts and tip.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let txn = self.db()?.begin_read().map_err(db_error)?;
        let mut entries = Vec::new();
        for item in txn
            .open_table(INDEX)
            .map_err(db_error)?
            .iter()
            .map_err(db_error)?
        {
            let (_, value) = item.map_err(db_error)?;
            entries.push(decode::<IndexEntry>("block index entry", value.value())?);
        }
        let mut active = Vec::new();
        for (expected, item) in txn
            .open_table(ACTIVE)
            .map_err(db_error)?
            .iter()
            .map_err(db_error)?
            .enumerate()
        {
            let (height, hash) = item.map_err(db_error)?;
            if height.value() != expected as u64 {
                return Err(StoreError::Corrupt(format!(
                    "active chain skips height {expected}"
                )));
            }
            active.push(hash_from("active chain entry", hash.value())?);
        }
        let mut accounts = Vec::new();
        for item in txn
            .open_table(ACCOUNTS)
            .map_err(db_error)?
            .iter()
            .map_err(db_error)?
        {
            let (address, value) = item.map_err(db_error)?;
            let bytes = <[u8; 32]>::try_from(address.value())
                .map_err(|_| StoreError::Corrupt("account key is not 32 bytes".into()))?;
            let (balance, nonce) = value.value();
            let account = Account {
                balance: Amount::new(balance),
                nonce,
            };
            accounts.push((Address::from_bytes(bytes), account));
        }
        let mut tokens = Vec::new();
        for item in txn
            .open_table(TOKENS)
            .map_err(db_error)?
            .iter()
            .map_err(db_error)?
        {
            let (token, info) = item.map_err(db_error)?;
            let token = <[u8; 32]>::try_from(token.value())
                .map_err(|_| StoreError::Corrupt("token id is not 32 bytes".into()))?;
            tokens.push((
                TokenId::from_bytes(token),
                decode::<TokenInfo>("token", info.value())?,
            ));
        }
        let mut token_balances = Vec::new();
        for item in txn
            .open_table(TOKEN_BALANCES)
            .map_err(db_error)?
            .iter()
            .map_err(db_error)?
        {
            let (key, balance) = item.map_err(db_error)?;
            let key = key.value();
            let (Ok(address), Ok(token)) = (
                <[u8; 32]>::try_from(key.get(..32).unwrap_or_default()),
                <[u8; 32]>::try_from(key.get(32..).unwrap_or_default()),
            ) else {
                return Err(StoreError::Corrupt(
                    "token balance key is not 64 bytes".into(),
                ));
            };
            token_balances.push((
                Address::from_bytes(address),
                TokenId::from_bytes(token),
                Amount::new(balance.value()),
            ));
        }
        let tip = self
            .meta_hash(META_TIP)?
            .ok_or_else(|| StoreError::Corrupt("no tip recorded".into()))?;
        if active.last() != Some(&tip) {
            return Err(StoreError::Corrupt(
                "recorded tip is not the end of the active chain".into(),
            ));
        }
        Ok(Loaded {
            entries,
            active,
            accounts,
            tokens,
            token_balances,
            tip,
        })
    }

    /// The stored block with this hash.
    pub fn block(&self, hash: &BlockHash) -> Result<Option<Block>, StoreError> {
        self.decode_block::<Block>(hash)
    }

    /// The reward record of the stored block with this hash, without decoding its
    /// transactions (up to a megabyte of them): what a view of the block tree needs.
    pub fn block_reward(&self, hash: &BlockHash) -> Result<Option<Reward>, StoreError> {
        /// A block's encoding read for its reward only; the other fields are skipped.
        #[derive(serde::Deserialize)]
        struct RewardOnly {
            reward: Reward,
        }
        Ok(self
            .decode_block::<RewardOnly>(hash)?
            .map(|block| block.reward))
    }

    fn decode_block<T: DeserializeOwned>(&self, hash: &BlockHash) -> Result<Option<T>, StoreError> {
        if let Backend::Memory(tables) = &self.backend {
            let tables = tables.borrow();
            return tables
                .blocks
                .get(hash)
                .map(|bytes| decode("block", bytes))
                .transpose();
        }
        let txn = self.db()?.begin_read().map_err(db_error)?;
        let table = txn.open_table(BLOCKS).map_err(db_error)?;
        let value = table.get(hash.as_bytes().as_slice()).map_err(db_error)?;
        value
            .map(|guard| decode("block", guard.value()))
            .transpose()
    }

    /// The undo record of a connected block.
    pub fn undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StoreError> {
        if let Backend::Memory(tables) = &self.backend {
            let tables = tables.borrow();
            return tables
                .undo
                .get(hash)
                .map(|bytes| decode("undo record", bytes))
                .transpose();
        }
        let txn = self.db()?.begin_read().map_err(db_error)?;
        let table = txn.open_table(UNDO).map_err(db_error)?;
        let value = table.get(hash.as_bytes().as_slice()).map_err(db_error)?;
        value
            .map(|guard| decode("undo record", guard.value()))
            .transpose()
    }

    /// The active-chain block holding `txid`, and its position among the block's leaves
    /// (0 is the reward record). The index names candidates by the txid's first 8 bytes;
    /// each is confirmed against its block (normally there is one).
    pub fn tx_location(&self, txid: &TxId) -> Result<Option<(BlockHash, u32)>, StoreError> {
        if let Backend::Memory(tables) = &self.backend {
            return Ok(tables.borrow().tx_index.get(txid).copied());
        }
        tx_index::location(self.db()?, txid)
    }

    /// Up to `limit` ids of active-chain transactions that start with `prefix`, in order:
    /// a range scan of the index over the prefix's first 8 bytes, each candidate's full
    /// id read from its block.
    pub fn txids_with_prefix(
        &self,
        prefix: &IdPrefix,
        limit: usize,
    ) -> Result<Vec<TxId>, StoreError> {
        if let Backend::Memory(tables) = &self.backend {
            let mut found: Vec<TxId> = tables
                .borrow()
                .tx_index
                .keys()
                .filter(|txid| prefix.matches(txid.as_bytes()))
                .copied()
                .collect();
            found.sort();
            found.truncate(limit);
            return Ok(found);
        }
        tx_index::with_prefix(self.db()?, prefix, limit)
    }

    /// How many of the `expected` transaction-index entries (every leaf of the active
    /// chain but the genesis block's) the index lacks, and how many it holds beyond them;
    /// for `ironchain verify`, which reads stores on disk only.
    pub fn tx_index_difference(
        &self,
        expected: &[(TxId, TxPlace)],
    ) -> Result<(usize, usize), StoreError> {
        tx_index::difference(self.db()?, expected)
    }

    /// Writes `batch` in one atomic transaction.
    pub fn commit(&self, batch: &StoreBatch) -> Result<(), StoreError> {
        self.simulated_crash()?;
        if let Backend::Memory(tables) = &self.backend {
            // Encoded first: a record that cannot be encoded changes nothing.
            let undo = batch
                .undo
                .iter()
                .map(|(_, record)| encode(record))
                .collect::<Result<Vec<_>, _>>()?;
            tables.borrow_mut().apply(batch, undo);
            return Ok(());
        }
        Store::write_batch(self.db()?, batch, self.durability)
    }

    /// [`Store::commit`], but returns as soon as the commit is started on a thread of its
    /// own: the caller goes on (verifying the next sync batch) while it runs. What it
    /// writes is visible to every later use of the store, which waits for it first; if it
    /// fails, that use and every one after report why (see `Store::settle`).
    pub fn commit_behind(&self, batch: StoreBatch) -> Result<(), StoreError> {
        let Backend::Redb(db) = &self.backend else {
            return self.commit(&batch);
        };
        self.settle()?;
        // A simulated crash (tests) fails the commit behind, as a real failure would.
        let crashed = self.simulated_crash();
        let db = Arc::clone(db);
        let durability = self.durability;
        let commit = std::thread::Builder::new()
            .name("store-commit".into())
            .spawn(move || crashed.and_then(|()| Store::write_batch(&db, &batch, durability)))
            .map_err(|error| {
                StoreError::Database(format!("cannot start a commit thread: {error}"))
            })?;
        *self.behind.borrow_mut() = Some(commit);
        Ok(())
    }

    /// Waits for the commit behind, if one runs. Fails if it (or any earlier one) failed.
    fn settle(&self) -> Result<(), StoreError> {
        let running = self.behind.borrow_mut().take();
        if let Some(commit) = running {
            let result = commit
                .join()
                .unwrap_or_else(|_| Err(StoreError::Database("the commit thread panicked".into())));
            if let Err(error) = result {
                *self.failed.borrow_mut() = Some(error);
            }
        }
        match &*self.failed.borrow() {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Whether a commit behind was started and has not been waited for.
    pub fn commit_behind_pending(&self) -> bool {
        self.behind.borrow().is_some()
    }

    /// Reports a failed commit behind without waiting for one still running: for a
    /// caller that must learn of a failure even when it has nothing more to store.
    pub fn check_behind(&self) -> Result<(), StoreError> {
        let finished = self
            .behind
            .borrow()
            .as_ref()
            .is_some_and(|commit| commit.is_finished());
        if finished {
            return self.settle();
        }
        Ok(())
    }

    /// Tests make the next commit fail as if the process died just before it: nothing of
    /// it is written.
    fn simulated_crash(&self) -> Result<(), StoreError> {
        #[cfg(test)]
        if self.fail_next_commit.replace(false) {
            return Err(StoreError::Database("simulated crash before commit".into()));
        }
        Ok(())
    }

    /// Writes `batch` in one atomic redb transaction of `db`.
    fn write_batch(
        db: &Database,
        batch: &StoreBatch,
        durability: Durability,
    ) -> Result<(), StoreError> {
        let mut txn = db.begin_write().map_err(db_error)?;
        txn.set_durability(durability);
        {
            // Every keyed table is written in key order. The keys (hashes, txids,
            // addresses) are random, and redb's write buffer is a tenth of its cache
            // (3.2 MiB): written in arrival order, a sync batch's ~11,000 tx-index entries
            // dirtied leaf pages all over the tree, which were evicted to the file and
            // read back again and again within one commit (44 % of a full sync's samples
            // were this commit). In key order each leaf is finished before the next.
            // Stable sorts: a key written twice in one batch keeps its last value.
            let mut blocks = txn.open_table(BLOCKS).map_err(db_error)?;
            for (hash, bytes) in sorted_by_key(&batch.blocks, |(hash, _)| *hash) {
                blocks
                    .insert(hash.as_bytes().as_slice(), bytes.as_slice())
                    .map_err(db_error)?;
            }
            let mut index = txn.open_table(INDEX).map_err(db_error)?;
            for entry in sorted_by_key(&batch.index, |entry| entry.hash) {
                index
                    .insert(entry.hash.as_bytes().as_slice(), encode(entry)?.as_slice())
                    .map_err(db_error)?;
            }
            let mut active = txn.open_table(ACTIVE).map_err(db_error)?;
            if let Some(height) = batch.active_truncate {
                let above = height.saturating_add(1);
                active.retain_in(above.., |_, _| false).map_err(db_error)?;
            }
            for (height, hash) in &batch.active_push {
                active
                    .insert(*height, hash.as_bytes().as_slice())
                    .map_err(db_error)?;
            }
            let mut accounts = txn.open_table(ACCOUNTS).map_err(db_error)?;
            let mut touched: Vec<(&Address, &Account)> = batch.accounts.iter().collect();
            touched.sort_unstable_by_key(|(address, _)| **address);
            for (address, account) in touched {
                let key = address.as_bytes().as_slice();
                if *account == Account::default() {
                    accounts.remove(key).map_err(db_error)?;
                } else {
                    accounts
                        .insert(key, (account.balance.get(), account.nonce))
                        .map_err(db_error)?;
                }
            }
            let mut tokens = txn.open_table(TOKENS).map_err(db_error)?;
            for (token, info) in &batch.tokens {
                let key = token.as_bytes().as_slice();
                match info {
                    Some(info) => {
                        tokens
                            .insert(key, encode(info)?.as_slice())
                            .map_err(db_error)?;
                    }
                    None => {
                        tokens.remove(key).map_err(db_error)?;
                    }
                }
            }
            let mut token_balances = txn.open_table(TOKEN_BALANCES).map_err(db_error)?;
            for ((address, token), balance) in &batch.token_balances {
                let mut key = [0u8; 64];
                key[..32].copy_from_slice(address.as_bytes());
                key[32..].copy_from_slice(token.as_bytes());
                if balance.is_zero() {
                    token_balances.remove(key.as_slice()).map_err(db_error)?;
                } else {
                    token_balances
                        .insert(key.as_slice(), balance.get())
                        .map_err(db_error)?;
                }
            }
            let mut undo = txn.open_table(UNDO).map_err(db_error)?;
            for (hash, record) in sorted_by_key(&batch.undo, |(hash, _)| *hash) {
                undo.insert(hash.as_bytes().as_slice(), encode(record)?.as_slice())
                    .map_err(db_error)?;
            }
            tx_index::write(&txn, batch)?;
            let mut meta = txn.open_table(META).map_err(db_error)?;
            if let Some(tip) = &batch.tip {
                meta.insert(META_TIP, tip.as_bytes().as_slice())
                    .map_err(db_error)?;
            }
            if let Some(genesis) = &batch.genesis {
                meta.insert(META_GENESIS, genesis.as_bytes().as_slice())
                    .map_err(db_error)?;
            }
        }
        txn.commit().map_err(db_error)
    }
}

impl Drop for Store {
    /// A store closed with a commit behind still running finishes it first: a node that
    /// stops cleanly keeps everything it reported stored.
    fn drop(&mut self) {
        if self.behind.get_mut().is_some() {
            if let Err(error) = self.settle() {
                log::error!("the last commit failed while closing the store: {error}");
            }
        }
    }
}

/// `items` in the order of `key`, stably (see [`Store::commit`] for why).
fn sorted_by_key<'a, T, K: Ord>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> K,
) -> Vec<&'a T>
where
    T: 'a,
{
    let mut items: Vec<&T> = items.into_iter().collect();
    items.sort_by_key(|item| key(item));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_dir_that_is_a_file_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("afile");
        std::fs::write(&file, "").unwrap();
        let error = Store::open(&file, &BlockHash::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error,
            Some(format!(
                "database error: {} is not a directory",
                file.display()
            ))
        );
    }

    #[test]
    fn a_data_dir_in_use_names_the_likely_cause() {
        let dir = tempfile::tempdir().unwrap();
        let genesis = BlockHash::from_bytes([1; 32]);
        let _running = Store::open(dir.path(), &genesis).unwrap();
        let error = Store::open(dir.path(), &genesis)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains(&format!(
                "another node or command is probably using data directory {}",
                dir.path().display()
            )),
            "{error}"
        );
        assert!(!error.contains("Cannot acquire lock"), "{error}");
    }

    #[test]
    fn another_chain_s_data_suggests_the_config_it_was_made_with() {
        let dir = tempfile::tempdir().unwrap();
        let stored = BlockHash::from_bytes([1; 32]);
        let store = Store::open(dir.path(), &stored).unwrap();
        let batch = StoreBatch {
            genesis: Some(stored),
            ..StoreBatch::default()
        };
        store.commit(&batch).unwrap();
        drop(store);
        let error = Store::open(dir.path(), &BlockHash::from_bytes([2; 32]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.ends_with(
                "pass the --config the chain was created with, or use another --data-dir"
            ),
            "{error}"
        );
    }
}
