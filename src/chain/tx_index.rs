//! The on-disk transaction index of the active chain: which block holds a transaction,
//! found by the transaction's id or by a prefix of it.
//!
//! It is written in every store commit, a sync batch's ~12,000 entries at once, and its
//! keys are random: each commit touches nearly every leaf of its B-tree and rewrites it
//! (redb copies on write). So the index is kept small: one 16-byte fixed-width key per
//! transaction and nothing beside it (`tx_index_key`: the txid's first 8 bytes, the
//! block's height, the position in the block), where the txid → (block hash, position)
//! table before it took about 76 bytes an entry. A lookup confirms each candidate the
//! key names against the stored block (normally there is one candidate): 8 bytes do not
//! identify a transaction, since an attacker can make two ids share them with about 2^32
//! hashes.

use super::id_prefix::IdPrefix;
use super::store::{db_error, decode, hash_from, StoreBatch, StoreError, ACTIVE, BLOCKS};
use crate::consensus::block::Block;
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::transaction::Transaction;
use log::info;
use redb::{
    Database, ReadOnlyTable, ReadableTable, TableDefinition, TableHandle, WriteTransaction,
};
use std::ops::RangeInclusive;

/// The index: [`tx_index_key`] → nothing.
pub(super) const TX_INDEX: TableDefinition<u128, ()> = TableDefinition::new("tx_places");
/// The index of stores written before [`TX_INDEX`]: txid → (block hash, position).
/// Rebuilt into [`TX_INDEX`] and deleted when such a store is opened ([`migrate`]).
const OLD_TX_INDEX: TableDefinition<&[u8], (&[u8], u32)> = TableDefinition::new("tx_index");

/// Where a transaction (or reward record) sits on the active chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxPlace {
    pub block: BlockHash,
    pub height: u64,
    /// Among the block's leaves: 0 is the reward record.
    pub position: u32,
}

/// Applies a batch's index changes in its write transaction: the disconnected blocks'
/// entries are removed, each by its exact key, before the connected blocks' entries are
/// added, each list in key order (see `Store::commit` for why).
pub(super) fn write(txn: &WriteTransaction, batch: &StoreBatch) -> Result<(), StoreError> {
    let mut index = txn.open_table(TX_INDEX).map_err(db_error)?;
    for key in sorted_keys(&batch.tx_remove)? {
        index.remove(key).map_err(db_error)?;
    }
    for key in sorted_keys(&batch.tx_add)? {
        index.insert(key, ()).map_err(db_error)?;
    }
    Ok(())
}

fn sorted_keys(entries: &[(TxId, TxPlace)]) -> Result<Vec<u128>, StoreError> {
    let mut keys = entries
        .iter()
        .map(|(txid, place)| tx_index_key(txid, place.height, place.position))
        .collect::<Result<Vec<u128>, StoreError>>()?;
    keys.sort_unstable();
    Ok(keys)
}

/// The active-chain block holding `txid`, and its position among the block's leaves.
pub(super) fn location(db: &Database, txid: &TxId) -> Result<Option<(BlockHash, u32)>, StoreError> {
    let head = id_head(txid.as_bytes(), 0);
    let leaves = ActiveLeaves::open(db)?;
    for key in leaves
        .index
        .range(head_keys(head, head))
        .map_err(db_error)?
    {
        let (height, position) = key_place(key.map_err(db_error)?.0.value());
        let (block, found) = leaves.leaf(height, position)?;
        if found == *txid {
            return Ok(Some((block, position)));
        }
    }
    Ok(None)
}

/// Up to `limit` ids of active-chain transactions that start with `prefix`, in order: a
/// range scan over the prefix's first 8 bytes, each candidate's full id read from its
/// block.
pub(super) fn with_prefix(
    db: &Database,
    prefix: &IdPrefix,
    limit: usize,
) -> Result<Vec<TxId>, StoreError> {
    let leaves = ActiveLeaves::open(db)?;
    let range = head_keys(
        id_head(prefix.as_bytes(), 0),
        id_head(prefix.as_bytes(), 0xff),
    );
    let mut found: Vec<TxId> = Vec::new();
    for key in leaves.index.range(range).map_err(db_error)? {
        let key = key.map_err(db_error)?.0.value();
        // Keys sort by the ids' first 8 bytes only: all ids sharing those with the last
        // one found are read before stopping, so that sorting keeps the first `limit`.
        if found.len() >= limit
            && found
                .last()
                .is_some_and(|last| id_head(last.as_bytes(), 0) != key_head(key))
        {
            break;
        }
        let (height, position) = key_place(key);
        let (_, txid) = leaves.leaf(height, position)?;
        if prefix.matches(txid.as_bytes()) {
            found.push(txid);
        }
    }
    found.sort();
    found.truncate(limit);
    Ok(found)
}

/// How many of the `expected` entries the index lacks, and how many entries it holds
/// beyond them (for `ironchain verify`).
pub(super) fn difference(
    db: &Database,
    expected: &[(TxId, TxPlace)],
) -> Result<(usize, usize), StoreError> {
    let mut expected = sorted_keys(expected)?;
    expected.dedup();
    let txn = db.begin_read().map_err(db_error)?;
    let index = txn.open_table(TX_INDEX).map_err(db_error)?;
    let mut found = 0;
    let mut extra = 0;
    for key in index.iter().map_err(db_error)? {
        if expected
            .binary_search(&key.map_err(db_error)?.0.value())
            .is_ok()
        {
            found += 1;
        } else {
            extra += 1;
        }
    }
    Ok((expected.len() - found, extra))
}

/// Rebuilds the index of a store written before [`TX_INDEX`] from its active chain's
/// blocks and deletes the old table, in one write transaction (a crash midway leaves the
/// old table, and the next open starts again). Nothing to do for any other store.
pub(super) fn migrate(db: &Database) -> Result<(), StoreError> {
    let old_exists = db
        .begin_read()
        .map_err(db_error)?
        .list_tables()
        .map_err(db_error)?
        .any(|table| table.name() == OLD_TX_INDEX.name());
    if !old_exists {
        return Ok(());
    }
    let started = std::time::Instant::now();
    info!("this data directory's transaction index has an earlier format: rebuilding it from the stored blocks");
    let txn = db.begin_write().map_err(db_error)?;
    let mut keys = Vec::new();
    let mut blocks_read: u64 = 0;
    {
        let active = txn.open_table(ACTIVE).map_err(db_error)?;
        let blocks = txn.open_table(BLOCKS).map_err(db_error)?;
        // From height 1: the genesis block's reward record was never indexed.
        for item in active.range(1..).map_err(db_error)? {
            let (height, hash) = item.map_err(db_error)?;
            let hash = hash_from("active chain entry", hash.value())?;
            let block = read_block(&blocks, &hash)?;
            for (position, txid) in block.leaf_ids().iter().enumerate() {
                let position = u32::try_from(position).map_err(|_| {
                    StoreError::Corrupt(format!("block {hash} has more than 2^32 leaves"))
                })?;
                keys.push(tx_index_key(txid, height.value(), position)?);
            }
            blocks_read += 1;
        }
        // A version before this one may have written blocks to the old table after an
        // earlier rebuild: the index is made again from nothing (deleting the table is
        // far cheaper than removing its entries one by one).
        txn.delete_table(TX_INDEX).map_err(db_error)?;
        let mut index = txn.open_table(TX_INDEX).map_err(db_error)?;
        keys.sort_unstable();
        for key in &keys {
            index.insert(key, ()).map_err(db_error)?;
        }
    }
    txn.delete_table(OLD_TX_INDEX).map_err(db_error)?;
    txn.commit().map_err(db_error)?;
    info!(
        "transaction index rebuilt: {} transactions in {} blocks, {} ms",
        keys.len(),
        blocks_read,
        started.elapsed().as_millis()
    );
    Ok(())
}

/// The index key of `txid` at `position` in the active-chain block at `height`: the
/// txid's first 8 bytes (big-endian, so keys sort as the ids do and an id prefix is a
/// key range), then the height and the position. Two transactions whose ids share 8
/// bytes have two keys, and a disconnected block's entries are removed exactly.
fn tx_index_key(txid: &TxId, height: u64, position: u32) -> Result<u128, StoreError> {
    let height = u32::try_from(height).map_err(|_| {
        StoreError::Encode(format!(
            "height {height} does not fit the transaction index (32 bits)"
        ))
    })?;
    Ok(u128::from(id_head(txid.as_bytes(), 0)) << 64
        | u128::from(height) << 32
        | u128::from(position))
}

/// The first 8 bytes of an id, or of a shorter prefix padded with `fill`, as a number
/// that sorts as the ids do.
fn id_head(id: &[u8], fill: u8) -> u64 {
    let mut head = [fill; 8];
    for (slot, byte) in head.iter_mut().zip(id) {
        *slot = *byte;
    }
    u64::from_be_bytes(head)
}

/// The id head of an index key.
fn key_head(key: u128) -> u64 {
    (key >> 64) as u64
}

/// The height and position an index key names.
fn key_place(key: u128) -> (u64, u32) {
    (u64::from((key >> 32) as u32), key as u32)
}

/// Every index key whose id head is from `first` to `last`.
fn head_keys(first: u64, last: u64) -> RangeInclusive<u128> {
    u128::from(first) << 64..=(u128::from(last) << 64 | u128::from(u64::MAX))
}

fn read_block(
    blocks: &impl ReadableTable<&'static [u8], &'static [u8]>,
    hash: &BlockHash,
) -> Result<Block, StoreError> {
    let bytes = blocks
        .get(hash.as_bytes().as_slice())
        .map_err(db_error)?
        .ok_or_else(|| StoreError::Corrupt(format!("active block {hash} missing")))?;
    decode("block", bytes.value())
}

/// The tables a lookup reads, in one read transaction: the index names a height and a
/// position, the active chain the block at that height.
struct ActiveLeaves {
    index: ReadOnlyTable<u128, ()>,
    active: ReadOnlyTable<u64, &'static [u8]>,
    blocks: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl ActiveLeaves {
    fn open(db: &Database) -> Result<ActiveLeaves, StoreError> {
        let txn = db.begin_read().map_err(db_error)?;
        Ok(ActiveLeaves {
            index: txn.open_table(TX_INDEX).map_err(db_error)?,
            active: txn.open_table(ACTIVE).map_err(db_error)?,
            blocks: txn.open_table(BLOCKS).map_err(db_error)?,
        })
    }

    /// The hash of the active-chain block at `height` and the id of its leaf at
    /// `position`, as an index entry names them.
    fn leaf(&self, height: u64, position: u32) -> Result<(BlockHash, TxId), StoreError> {
        let hash = self
            .active
            .get(height)
            .map_err(db_error)?
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the transaction index names height {height}, beyond the active chain"
                ))
            })
            .and_then(|hash| hash_from("active chain entry", hash.value()))?;
        let block = read_block(&self.blocks, &hash)?;
        let txid = match position {
            0 => Some(block.reward.id()),
            n => block.txs.get(n as usize - 1).map(Transaction::id),
        }
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the transaction index names leaf {position} of block {hash}, which has {}",
                block.txs.len() + 1
            ))
        })?;
        Ok((hash, txid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::id_prefix::MAX_PREFIX_MATCHES;
    use crate::chain::mempool::MempoolLimits;
    use crate::chain::store::{Store, DB_FILE};
    use crate::chain::verify::{verify_store, VerifyError};
    use crate::chain::{BlockOutcome, Chain, TxLookup};
    use crate::consensus::params::ChainParams;
    use crate::testkit::{self, address, key};
    use std::path::Path;

    const ALICE: u64 = 1;
    const BOB: u64 = 2;
    const MINER_A: u64 = 9;
    const MINER_B: u64 = 10;

    fn params() -> ChainParams {
        testkit::params(&[(address(ALICE), 1_000_000)])
    }

    fn open(dir: &Path) -> Chain {
        Chain::open(dir, params(), MempoolLimits::default()).unwrap()
    }

    /// Alice's transfers to Bob with nonces `nonces`.
    fn transfers(chain: &Chain, nonces: std::ops::Range<u64>) -> Vec<Transaction> {
        nonces
            .map(|nonce| {
                testkit::transfer(
                    &key(ALICE),
                    address(BOB),
                    1,
                    1,
                    nonce,
                    &chain.genesis_hash(),
                )
            })
            .collect()
    }

    fn offer(chain: &mut Chain, block: &Block) {
        let outcome = chain.process_block(block.clone(), block.header.timestamp_ms);
        assert!(
            matches!(outcome, Ok(BlockOutcome::Accepted(_))),
            "{outcome:?}"
        );
    }

    /// Extends `chain` by `count` blocks of three transfers each; returns the blocks.
    fn extend_with_transfers(chain: &mut Chain, count: u64) -> Vec<Block> {
        (0..count)
            .map(|_| {
                let nonce = chain.state().account(&address(ALICE)).nonce;
                let block = testkit::next_block(
                    chain,
                    address(MINER_A),
                    transfers(chain, nonce..nonce + 3),
                );
                offer(chain, &block);
                block
            })
            .collect()
    }

    /// Every leaf of the active chain but the genesis block's (never indexed), with its
    /// block and position.
    fn active_leaves(chain: &Chain) -> Vec<(TxId, TxPlace)> {
        let mut leaves = Vec::new();
        for (height, hash) in chain.index().active().iter().enumerate().skip(1) {
            let block = chain.block(hash).unwrap().unwrap();
            for (position, txid) in block.leaf_ids().into_iter().enumerate() {
                let place = TxPlace {
                    block: *hash,
                    height: height as u64,
                    position: position as u32,
                };
                leaves.push((txid, place));
            }
        }
        leaves
    }

    /// The index's keys as stored, read with the store closed.
    fn stored_keys(dir: &Path) -> Vec<u128> {
        let db = Database::open(dir.join(DB_FILE)).unwrap();
        let txn = db.begin_read().unwrap();
        let index = txn.open_table(TX_INDEX).unwrap();
        let keys = index.iter().unwrap().map(|item| item.unwrap().0.value());
        keys.collect()
    }

    /// Where `chain` says `txid` is, by block hash and position in it.
    fn found_at(chain: &Chain, txid: &TxId) -> Option<(BlockHash, u32)> {
        match chain.transaction(txid).unwrap()? {
            TxLookup::InBlock {
                block_hash, proof, ..
            } => Some((block_hash, proof.index)),
            TxLookup::Pending(_) => None,
        }
    }

    fn prefix_of(txid: &TxId, bytes: usize) -> IdPrefix {
        IdPrefix::of_bytes(&txid.as_bytes()[..bytes])
    }

    #[test]
    fn every_active_transaction_is_found_by_id_and_prefix_as_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let mut memory = Chain::open_in_memory(params(), MempoolLimits::default()).unwrap();
        for block in extend_with_transfers(&mut chain, 4) {
            offer(&mut memory, &block);
        }
        let leaves = active_leaves(&chain);
        assert_eq!(leaves.len(), 4 * 4);
        for (txid, place) in &leaves {
            let expected = Some((place.block, place.position));
            assert_eq!(found_at(&chain, txid), expected);
            assert_eq!(found_at(&memory, txid), expected);
            for bytes in [4, 8, 11, 32] {
                let prefix = prefix_of(txid, bytes);
                let found = chain
                    .txids_with_prefix(&prefix, MAX_PREFIX_MATCHES)
                    .unwrap();
                assert_eq!(found, vec![*txid]);
                assert_eq!(
                    memory
                        .txids_with_prefix(&prefix, MAX_PREFIX_MATCHES)
                        .unwrap(),
                    found
                );
            }
        }
        // A prefix every id has: the first `MAX_PREFIX_MATCHES` ids in order.
        let mut all: Vec<TxId> = leaves.iter().map(|(txid, _)| *txid).collect();
        all.sort();
        let everything = IdPrefix::of_bytes(&[]);
        for limit in [1, MAX_PREFIX_MATCHES, all.len() + 1] {
            let first: Vec<TxId> = all.iter().take(limit).copied().collect();
            assert_eq!(chain.txids_with_prefix(&everything, limit).unwrap(), first);
            assert_eq!(memory.txids_with_prefix(&everything, limit).unwrap(), first);
        }
        let mut absent = leaves[3].0.as_bytes().to_owned();
        absent[31] ^= 1;
        let absent = TxId::from_bytes(absent);
        assert_eq!(found_at(&chain, &absent), None);
        assert_eq!(found_at(&memory, &absent), None);
        assert!(chain
            .txids_with_prefix(&prefix_of(&absent, 32), MAX_PREFIX_MATCHES)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn ids_sharing_their_first_8_bytes_each_resolve_to_their_own_block() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        extend_with_transfers(&mut chain, 3);
        let genesis = chain.genesis_hash();
        let leaves = active_leaves(&chain);
        drop(chain);
        // Real ids cannot be ground in a test: the entry of `other` (in an earlier block)
        // is stored a second time under the head of `txid`, as if its id began with the
        // same 8 bytes, so the lookups of `txid` meet both candidates, `other`'s first.
        let (txid, place) = leaves[leaves.len() - 2];
        let (other, other_place) = leaves[2];
        assert!(other_place.height < place.height);
        let mut colliding = txid.as_bytes().to_owned();
        colliding[31] ^= 1;
        let colliding = TxId::from_bytes(colliding);
        let store = Store::open(dir.path(), &genesis).unwrap();
        let forced = (colliding, other_place);
        store
            .commit(&StoreBatch {
                tx_add: vec![forced],
                ..StoreBatch::default()
            })
            .unwrap();
        let own = |txid: &TxId| store.tx_location(txid).unwrap();
        assert_eq!(own(&txid), Some((place.block, place.position)));
        assert_eq!(own(&other), Some((other_place.block, other_place.position)));
        assert_eq!(own(&colliding), None);
        let head = prefix_of(&txid, 8);
        assert_eq!(store.txids_with_prefix(&head, 8).unwrap(), vec![txid]);

        // Disconnecting the block of `txid` removes its entry and no other.
        store
            .commit(&StoreBatch {
                tx_remove: vec![(txid, place)],
                ..StoreBatch::default()
            })
            .unwrap();
        assert_eq!(own(&txid), None);
        assert_eq!(own(&other), Some((other_place.block, other_place.position)));
        assert!(store.txids_with_prefix(&head, 8).unwrap().is_empty());
        drop(store);
        let under_head = stored_keys(dir.path())
            .into_iter()
            .filter(|key| key_head(*key) == id_head(txid.as_bytes(), 0))
            .map(key_place)
            .collect::<Vec<_>>();
        assert_eq!(under_head, vec![(other_place.height, other_place.position)]);
        // `ironchain verify` sees both: the entry missing and the one too many.
        match verify_store(dir.path(), &params()) {
            Err(VerifyError::TxIndexMismatch { missing, extra }) => {
                assert_eq!((missing, extra), (1, 1))
            }
            other => panic!("expected an index mismatch, got {other:?}"),
        }
    }

    #[test]
    fn a_reorg_leaves_exactly_the_active_chain_s_entries() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let common = chain.tip().hash;
        let base = chain.tip().timestamp_ms;
        let txs = transfers(&chain, 0..3);
        // Branch A holds all three transfers in one block; branch B the first two, one
        // block higher, so that both move to another height and position.
        let a1 = testkit::block_on(&chain, &common, address(MINER_A), txs.clone(), base + 1_000);
        offer(&mut chain, &a1);
        let a_keys = stored_and_expected(dir.path(), chain);
        let mut chain = open(dir.path());
        let b1 = testkit::block_on(&chain, &common, address(MINER_B), Vec::new(), base + 1_100);
        offer(&mut chain, &b1);
        let b2 = testkit::block_on(
            &chain,
            &b1.hash(),
            address(MINER_B),
            vec![txs[0].clone(), txs[1].clone()],
            base + 2_100,
        );
        offer(&mut chain, &b2);
        assert_eq!(chain.tip().hash, b2.hash());
        assert_eq!(found_at(&chain, &txs[2].id()), None);
        assert_eq!(found_at(&chain, &txs[1].id()), Some((b2.hash(), 2)));
        stored_and_expected(dir.path(), chain);

        // And back to A, with a third transfer moved.
        let mut chain = open(dir.path());
        let a2 = testkit::block_on(
            &chain,
            &a1.hash(),
            address(MINER_A),
            Vec::new(),
            base + 3_000,
        );
        offer(&mut chain, &a2);
        assert_eq!(chain.tip().hash, b2.hash());
        let a3 = testkit::block_on(
            &chain,
            &a2.hash(),
            address(MINER_A),
            Vec::new(),
            base + 4_000,
        );
        offer(&mut chain, &a3);
        assert_eq!(chain.tip().hash, a3.hash());
        assert_eq!(found_at(&chain, &txs[2].id()), Some((a1.hash(), 3)));
        let back_keys = stored_and_expected(dir.path(), chain);
        assert_eq!(back_keys.len(), a_keys.len() + 2);
    }

    /// Closes `chain` and checks that its stored index holds exactly the keys of its
    /// active chain's leaves; returns them.
    fn stored_and_expected(dir: &Path, chain: Chain) -> Vec<u128> {
        let mut expected: Vec<u128> = active_leaves(&chain)
            .iter()
            .map(|(txid, place)| tx_index_key(txid, place.height, place.position).unwrap())
            .collect();
        expected.sort_unstable();
        drop(chain);
        assert_eq!(stored_keys(dir), expected);
        assert!(verify_store(dir, &params()).is_ok());
        expected
    }

    #[test]
    fn a_store_with_the_old_index_is_rebuilt_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        extend_with_transfers(&mut chain, 3);
        let leaves = active_leaves(&chain);
        drop(chain);
        // What a store of the earlier format holds: the old table, and no new one.
        {
            let db = Database::open(dir.path().join(DB_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            assert!(txn.delete_table(TX_INDEX).unwrap());
            {
                let mut old = txn.open_table(OLD_TX_INDEX).unwrap();
                for (txid, place) in &leaves {
                    let value = (place.block.as_bytes().as_slice(), place.position);
                    old.insert(txid.as_bytes().as_slice(), value).unwrap();
                }
            }
            txn.commit().unwrap();
        }

        let chain = open(dir.path());
        for (txid, place) in &leaves {
            assert_eq!(found_at(&chain, txid), Some((place.block, place.position)));
        }
        let keys = stored_and_expected(dir.path(), chain);
        assert_eq!(keys.len(), leaves.len());
        let names: Vec<String> = {
            let db = Database::open(dir.path().join(DB_FILE)).unwrap();
            let txn = db.begin_read().unwrap();
            let tables = txn.list_tables().unwrap();
            tables.map(|table| table.name().to_owned()).collect()
        };
        assert!(names.contains(&TX_INDEX.name().to_owned()), "{names:?}");
        assert!(
            !names.contains(&OLD_TX_INDEX.name().to_owned()),
            "{names:?}"
        );
        // Opened again, nothing is left to migrate.
        let chain = open(dir.path());
        let (txid, place) = leaves[5];
        assert_eq!(place.position, 1);
        assert_eq!(found_at(&chain, &txid), Some((place.block, 1)));
        drop(chain);

        // An earlier version opens it again (creating its empty table) and its entries
        // go stale: the next open rebuilds the index from nothing.
        {
            let db = Database::open(dir.path().join(DB_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(OLD_TX_INDEX).unwrap();
            txn.open_table(TX_INDEX)
                .unwrap()
                .insert(tx_index_key(&txid, 7, 7).unwrap(), ())
                .unwrap();
            txn.commit().unwrap();
        }
        assert_eq!(stored_and_expected(dir.path(), open(dir.path())), keys);
    }
}
