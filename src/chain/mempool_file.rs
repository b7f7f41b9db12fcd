//! The mempool on disk, `mempool.dat` in the data directory (as Bitcoin Core's): an
//! accepted transaction survives a restart, a crash or `kill -9` of the node.
//!
//! The file is a journal of records, each a 4-byte big-endian length and the CBOR of
//! `(accepted_ms, transaction)`. Every transaction the mempool accepts is appended with
//! one `write` before the node answers "accepted": the bytes are then in the kernel's page
//! cache, which a killed process cannot lose (a power cut can lose the last seconds). Mined
//! transactions are not removed one by one; instead, when the journal has grown past twice
//! what is pending (or a reorg put transactions back), it is rewritten from the mempool:
//! written to `mempool.dat.tmp`, synced, and renamed over the old file, so a crash leaves
//! either the old journal or the new one, never a mix. That is checked after every append
//! and every block, so the journal never outgrows [`max_journal_bytes`]; a larger file is
//! refused unread. It is read one record at a time. A torn last record (a crash in the
//! middle of an append) ends the read; what came before it is kept.
//!
//! At start the records are offered to the mempool again, in order, with every rule
//! (signature included) against the current chain; mined, replaced or invalid ones drop
//! out, and so do transactions older than [`MEMPOOL_EXPIRY_MS`]. A running node expires
//! them too (see [`MempoolFile::expired`]).
//!
//! Why a file and not a table in the chain's redb database: the mempool is disposable and
//! re-validated on load, so it needs no transactions with the chain's state; an append is
//! O(1) where a redb commit costs an fsync per transaction (or loses durability); and a
//! damaged or foreign mempool file can never make the chain's database unreadable.

use super::mempool::MempoolLimits;
use super::Chain;
use crate::consensus::hash::TxId;
use crate::consensus::transaction::Transaction;
use crate::small_file::{self, SmallFileError};
use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// File name of the mempool journal inside the data directory.
pub const MEMPOOL_FILE: &str = "mempool.dat";
/// Age after which a pending transaction is dropped: two weeks, Bitcoin Core's default.
pub const MEMPOOL_EXPIRY_MS: u64 = 14 * 24 * 60 * 60 * 1000;
/// Longest record read back; a transaction with the longest message is far below it.
const MAX_RECORD_BYTES: usize = 4096;
/// Records a journal may hold beyond twice the pending transactions before a rewrite.
const SLACK_RECORDS: usize = 1000;

/// The open journal, and when each pending transaction was first accepted.
#[derive(Debug)]
pub struct MempoolFile {
    path: PathBuf,
    file: File,
    records: usize,
    accepted_ms: HashMap<TxId, u64>,
}

/// What [`restore`] found in the journal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Transactions back in the mempool.
    pub pending: usize,
    /// Records dropped: mined meanwhile, invalid now, or expired.
    pub dropped: usize,
    /// Whether the journal ended in a torn or undecodable record.
    pub torn_tail: bool,
}

/// The largest journal a node writes with these mempool limits: a rewrite comes once it
/// holds more than twice the pending transactions and `SLACK_RECORDS` (checked after
/// every append), each record at most `MAX_RECORD_BYTES` and its length. A larger
/// file is not one the node wrote, and is refused unread.
pub fn max_journal_bytes(limits: &MempoolLimits) -> u64 {
    let records = 2 * limits.max_count as u64 + SLACK_RECORDS as u64 + 1;
    records * (4 + MAX_RECORD_BYTES as u64)
}

/// Why the journal could not be restored.
#[derive(Debug)]
pub enum RestoreError {
    /// The journal is not a file the node could have written (a directory, larger than
    /// [`max_journal_bytes`]), or reading it failed; it was left as it is.
    Read(SmallFileError),
    /// Rewriting it with the restored transactions failed.
    Write(io::Error),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::Read(error @ SmallFileError::TooLarge { .. }) => write!(
                f,
                "{error}: a mempool journal never grows that large, so this is not one a \
                 node wrote; move it away and the node starts with an empty mempool"
            ),
            RestoreError::Read(error) => error.fmt(f),
            RestoreError::Write(error) => write!(f, "cannot rewrite: {error}"),
        }
    }
}

impl std::error::Error for RestoreError {}

/// Opens `dir`'s mempool journal (creating it if missing), offers its transactions to
/// `chain`'s mempool, and rewrites the journal with the ones that got in.
pub fn restore(
    chain: &mut Chain,
    dir: &Path,
    now_ms: u64,
) -> Result<(MempoolFile, Restored), RestoreError> {
    let path = dir.join(MEMPOOL_FILE);
    let limit = max_journal_bytes(chain.mempool().limits());
    let mut restored = Restored::default();
    let mut accepted_ms = HashMap::new();
    match small_file::open(&path, limit) {
        Ok(file) => {
            // Record by record: memory holds one record, whatever the file's size.
            let mut records = Records::new(BufReader::new(file));
            for (accepted, tx) in records.by_ref() {
                let fresh = now_ms.saturating_sub(accepted) < MEMPOOL_EXPIRY_MS;
                match fresh.then(|| chain.submit_transaction(tx)) {
                    Some(Ok(id)) => {
                        accepted_ms.insert(id, accepted);
                        restored.pending += 1;
                    }
                    _ => restored.dropped += 1,
                }
            }
            restored.torn_tail = records
                .torn()
                .map_err(|e| RestoreError::Read(SmallFileError::Io(e)))?;
        }
        Err(error) if error.is_not_found() => {}
        Err(error) => return Err(RestoreError::Read(error)),
    }
    let mut journal = MempoolFile {
        file: append_to(&path).map_err(RestoreError::Write)?,
        path,
        records: 0,
        accepted_ms,
    };
    journal.rewrite(chain).map_err(RestoreError::Write)?;
    Ok((journal, restored))
}

fn append_to(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// The records of a journal, read one at a time until the end, or until one is torn or
/// undecodable.
struct Records<R> {
    reader: R,
    /// Set once reading stopped: whether it stopped at a torn record, or why it failed.
    end: Option<io::Result<bool>>,
}

impl<R: Read> Records<R> {
    fn new(reader: R) -> Self {
        Records { reader, end: None }
    }

    /// After the last record: whether the journal ended in a torn or undecodable record.
    fn torn(self) -> io::Result<bool> {
        self.end.unwrap_or(Ok(false))
    }

    fn next_record(&mut self) -> Result<Option<(u64, Transaction)>, io::Result<bool>> {
        let mut length = [0u8; 4];
        match read_full(&mut self.reader, &mut length) {
            Ok(0) => return Ok(None),
            Ok(4) => {}
            Ok(_) => return Err(Ok(true)),
            Err(error) => return Err(Err(error)),
        }
        let length = u32::from_be_bytes(length) as usize;
        if length > MAX_RECORD_BYTES {
            return Err(Ok(true));
        }
        let mut record = vec![0u8; length];
        match read_full(&mut self.reader, &mut record) {
            Ok(read) if read == length => {}
            Ok(_) => return Err(Ok(true)),
            Err(error) => return Err(Err(error)),
        }
        serde_cbor::from_slice(&record)
            .map(Some)
            .map_err(|_| Ok(true))
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = (u64, Transaction);

    fn next(&mut self) -> Option<Self::Item> {
        if self.end.is_some() {
            return None;
        }
        match self.next_record() {
            Ok(Some(record)) => Some(record),
            Ok(None) => {
                self.end = Some(Ok(false));
                None
            }
            Err(end) => {
                self.end = Some(end);
                None
            }
        }
    }
}

/// Reads until `buffer` is full or the reader ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Reads a whole journal (tests).
#[cfg(test)]
fn read_records(file: &mut File) -> io::Result<(Vec<(u64, Transaction)>, bool)> {
    let mut records = Records::new(BufReader::new(file));
    let decoded: Vec<_> = records.by_ref().collect();
    Ok((decoded, records.torn()?))
}

fn encode_record(accepted_ms: u64, tx: &Transaction) -> io::Result<Vec<u8>> {
    let body = serde_cbor::to_vec(&(accepted_ms, tx)).map_err(io::Error::other)?;
    let mut record = Vec::with_capacity(4 + body.len());
    record.extend_from_slice(&(body.len() as u32).to_be_bytes());
    record.extend_from_slice(&body);
    Ok(record)
}

impl MempoolFile {
    /// Appends a transaction the mempool just accepted.
    pub fn append(&mut self, id: TxId, tx: &Transaction, now_ms: u64) -> io::Result<()> {
        let accepted = *self.accepted_ms.entry(id).or_insert(now_ms);
        // One write of the whole record, so a crash tears at most this record.
        self.file.write_all(&encode_record(accepted, tx)?)?;
        self.records += 1;
        Ok(())
    }

    /// After the mempool changed: rewrites the journal if it has grown past twice
    /// what is pending, or if `returned` (a reorg put transactions back, which the
    /// journal does not hold yet). Returns whether it rewrote.
    pub fn refresh(&mut self, chain: &Chain, returned: bool) -> io::Result<bool> {
        let grown = self.records > 2 * chain.mempool().len() + SLACK_RECORDS;
        if !(grown || returned) {
            return Ok(false);
        }
        self.rewrite(chain)?;
        Ok(true)
    }

    /// Replaces the journal with `chain`'s pending transactions, atomically.
    pub fn rewrite(&mut self, chain: &Chain) -> io::Result<()> {
        let temp = self.path.with_extension("dat.tmp");
        let mut contents = Vec::new();
        let mut accepted_ms = HashMap::with_capacity(chain.mempool().len());
        let mut records = 0;
        for tx in chain.mempool().transactions() {
            let id = tx.id();
            let accepted = self
                .accepted_ms
                .get(&id)
                .copied()
                .unwrap_or_else(super::unix_time_ms);
            contents.extend_from_slice(&encode_record(accepted, tx)?);
            accepted_ms.insert(id, accepted);
            records += 1;
        }
        let mut file = File::create(&temp)?;
        file.write_all(&contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            // The rename itself is durable only once the directory is synced.
            File::open(dir)?.sync_all()?;
        }
        self.file = append_to(&self.path)?;
        self.records = records;
        self.accepted_ms = accepted_ms;
        Ok(())
    }

    /// Pending transactions accepted more than [`MEMPOOL_EXPIRY_MS`] before `now_ms`.
    pub fn expired(&self, now_ms: u64) -> Vec<TxId> {
        self.accepted_ms
            .iter()
            .filter(|(_, accepted)| now_ms.saturating_sub(**accepted) >= MEMPOOL_EXPIRY_MS)
            .map(|(id, _)| *id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::mempool::MempoolLimits;
    use crate::testkit::{self, address, key};

    const ALICE: u64 = 1;
    const NOW: u64 = 1_800_000_000_000;

    fn open(dir: &Path) -> Chain {
        let params = testkit::params(&[(address(ALICE), 1_000)]);
        Chain::open(dir, params, MempoolLimits::default()).unwrap()
    }

    fn pay(chain: &Chain, nonce: u64) -> Transaction {
        testkit::transfer(&key(ALICE), address(2), 10, 1, nonce, &chain.genesis_hash())
    }

    fn accept(chain: &mut Chain, journal: &mut MempoolFile, tx: Transaction, now_ms: u64) {
        let id = chain.submit_transaction(tx.clone()).unwrap();
        journal.append(id, &tx, now_ms).unwrap();
    }

    #[test]
    fn pending_transactions_come_back_after_a_restart_and_mined_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let (mut journal, restored) = restore(&mut chain, dir.path(), NOW).unwrap();
        assert_eq!(restored, Restored::default());
        let txs: Vec<Transaction> = (0..3).map(|nonce| pay(&chain, nonce)).collect();
        for tx in &txs {
            accept(&mut chain, &mut journal, tx.clone(), NOW);
        }
        // The first is mined before the restart; the journal still holds it.
        let block = testkit::next_block(&chain, address(9), vec![txs[0].clone()]);
        chain
            .process_block(block.clone(), block.header.timestamp_ms)
            .unwrap();
        drop((chain, journal));

        let mut chain = open(dir.path());
        let (_, restored) = restore(&mut chain, dir.path(), NOW + 1_000).unwrap();
        assert_eq!(
            restored,
            Restored {
                pending: 2,
                dropped: 1,
                torn_tail: false
            }
        );
        let pending: Vec<&Transaction> = chain.mempool().transactions().collect();
        assert_eq!(pending, [&txs[1], &txs[2]]);
        // The journal was rewritten with exactly those two.
        let mut file = File::open(dir.path().join(MEMPOOL_FILE)).unwrap();
        let (records, torn) = read_records(&mut file).unwrap();
        assert!(!torn);
        assert_eq!(records, [(NOW, txs[1].clone()), (NOW, txs[2].clone())]);
    }

    #[test]
    fn a_torn_last_record_keeps_what_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let (mut journal, _) = restore(&mut chain, dir.path(), NOW).unwrap();
        let (first, second) = (pay(&chain, 0), pay(&chain, 1));
        accept(&mut chain, &mut journal, first.clone(), NOW);
        accept(&mut chain, &mut journal, second, NOW);
        drop((chain, journal));
        let path = dir.path().join(MEMPOOL_FILE);
        let length = fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(length - 5)
            .unwrap();

        let mut chain = open(dir.path());
        let (_, restored) = restore(&mut chain, dir.path(), NOW).unwrap();
        assert_eq!(
            restored,
            Restored {
                pending: 1,
                dropped: 0,
                torn_tail: true
            }
        );
        assert_eq!(chain.mempool().transactions().collect::<Vec<_>>(), [&first]);
    }

    /// A journal larger than any this node writes is refused unread and left as it is;
    /// the bound is what the rewrite rule allows (the next test shows that rule holds).
    #[test]
    fn a_journal_larger_than_any_written_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let limit = max_journal_bytes(chain.mempool().limits());
        let path = dir.path().join(MEMPOOL_FILE);
        File::create(&path).unwrap().set_len(limit + 1).unwrap();
        let error = restore(&mut chain, dir.path(), NOW)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "is {} bytes, more than the limit of {limit} bytes (not read): a mempool \
                 journal never grows that large, so this is not one a node wrote; move it \
                 away and the node starts with an empty mempool",
                limit + 1
            )
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), limit + 1);
        // A journal of zeros up to the limit is read (as a torn record), not refused.
        File::create(&path).unwrap().set_len(limit).unwrap();
        let (_, restored) = restore(&mut chain, dir.path(), NOW).unwrap();
        assert!(restored.torn_tail);
    }

    #[test]
    fn old_transactions_expire_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let (mut journal, _) = restore(&mut chain, dir.path(), NOW).unwrap();
        let tx = pay(&chain, 0);
        accept(&mut chain, &mut journal, tx, NOW);
        drop((chain, journal));

        let mut chain = open(dir.path());
        let (_, restored) = restore(&mut chain, dir.path(), NOW + MEMPOOL_EXPIRY_MS).unwrap();
        assert_eq!(restored.dropped, 1);
        assert!(chain.mempool().is_empty());
    }

    #[test]
    fn old_transactions_expire_while_running_with_the_run_behind_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let (mut journal, _) = restore(&mut chain, dir.path(), NOW).unwrap();
        let old = pay(&chain, 0);
        accept(&mut chain, &mut journal, old.clone(), NOW);
        let younger = pay(&chain, 1);
        accept(&mut chain, &mut journal, younger, NOW + 1_000);
        assert!(journal.expired(NOW + MEMPOOL_EXPIRY_MS - 1).is_empty());
        let expired = journal.expired(NOW + MEMPOOL_EXPIRY_MS);
        assert_eq!(expired, [old.id()]);
        // The younger one cannot be mined without the expired one before it.
        assert_eq!(chain.expire_transactions(&expired), 2);
        assert!(chain.mempool().is_empty());
    }

    #[test]
    fn the_journal_is_rewritten_once_it_outgrows_the_mempool() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = open(dir.path());
        let (mut journal, _) = restore(&mut chain, dir.path(), NOW).unwrap();
        let tx = pay(&chain, 0);
        accept(&mut chain, &mut journal, tx.clone(), NOW);
        assert!(!journal.refresh(&chain, false).unwrap());
        assert!(journal.refresh(&chain, true).unwrap(), "a reorg forces it");
        journal.records = 2 * chain.mempool().len() + SLACK_RECORDS + 1;
        assert!(journal.refresh(&chain, false).unwrap());
        assert_eq!(journal.records, 1);
        assert!(!dir.path().join("mempool.dat.tmp").exists());
    }
}
