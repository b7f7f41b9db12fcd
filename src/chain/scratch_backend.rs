//! A redb storage backend that reads a database file and never writes it: every write
//! is kept in memory instead. The store's integrity check (`store_check`) runs redb's
//! own open, recovery and `check_integrity` on it, so checking a damaged `chain.redb`
//! leaves the file exactly as it was, whatever redb would have written (its recovery
//! flag, a repair, a half-finished repair before it failed).
//!
//! The file is read through redb's own [`FileBackend`], which holds the file's lock, so
//! a check cannot run beside a node that has the database open.

use redb::backends::FileBackend;
use redb::StorageBackend;
use std::collections::btree_map::{BTreeMap, Entry};
use std::io;
use std::sync::Mutex;

/// Granularity of the bytes kept in memory.
const CHUNK: u64 = 4096;

/// A database file seen through writes kept in memory.
#[derive(Debug)]
pub struct ScratchBackend {
    file: FileBackend,
    /// Most bytes the writes may hold in memory: past it a write fails (and so does the
    /// check), rather than memory growing with whatever redb decides to write.
    max_bytes: u64,
    scratch: Mutex<Scratch>,
}

#[derive(Debug)]
struct Scratch {
    /// Length of the database as redb sees it.
    len: u64,
    /// Bytes of the file still visible: the file's length, or less once redb shortened
    /// the database (what it later grows again reads as zeros).
    file_visible: u64,
    /// Written chunks, by start offset: each the chunk's whole content as written.
    chunks: BTreeMap<u64, Vec<u8>>,
}

impl ScratchBackend {
    /// `file` is the database file, opened read-only and locked by [`FileBackend`].
    pub fn new(file: FileBackend, max_bytes: u64) -> io::Result<ScratchBackend> {
        let len = file.len()?;
        Ok(ScratchBackend {
            file,
            max_bytes,
            scratch: Mutex::new(Scratch {
                len,
                file_visible: len,
                chunks: BTreeMap::new(),
            }),
        })
    }

    fn scratch(&self) -> io::Result<std::sync::MutexGuard<'_, Scratch>> {
        self.scratch
            .lock()
            .map_err(|_| io::Error::other("the scratch backend's lock is poisoned"))
    }

    /// The file's bytes in `start..end`, zeros past `file_visible`.
    fn file_bytes(&self, file_visible: u64, start: u64, end: u64) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0u8; (end - start) as usize];
        let visible_end = end.min(file_visible);
        if start < visible_end {
            let read = self.file.read(start, (visible_end - start) as usize)?;
            bytes[..read.len()].copy_from_slice(&read);
        }
        Ok(bytes)
    }
}

fn out_of_range(offset: u64, len: u64, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("read of {len} bytes at {offset} beyond the database's {size} bytes"),
    )
}

impl StorageBackend for ScratchBackend {
    fn len(&self) -> io::Result<u64> {
        Ok(self.scratch()?.len)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let scratch = self.scratch()?;
        let end = offset
            .checked_add(len as u64)
            .filter(|end| *end <= scratch.len)
            .ok_or_else(|| out_of_range(offset, len as u64, scratch.len))?;
        let mut bytes = self.file_bytes(scratch.file_visible, offset, end)?;
        let first = offset - offset % CHUNK;
        for (&start, chunk) in scratch.chunks.range(first..end) {
            let from = start.max(offset);
            let to = (start + CHUNK).min(end);
            bytes[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&chunk[(from - start) as usize..(to - start) as usize]);
        }
        Ok(bytes)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut scratch = self.scratch()?;
        if len < scratch.len {
            scratch.file_visible = scratch.file_visible.min(len);
            let first_beyond = len.div_ceil(CHUNK) * CHUNK;
            scratch.chunks.split_off(&first_beyond);
            let last = len - len % CHUNK;
            if let Some(chunk) = scratch.chunks.get_mut(&last) {
                chunk[(len - last) as usize..].fill(0);
            }
        }
        scratch.len = len;
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut scratch = self.scratch()?;
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| io::Error::other("write beyond any file size"))?;
        let file_visible = scratch.file_visible;
        let mut start = offset - offset % CHUNK;
        while start < end {
            let held = scratch.chunks.len() as u64 * CHUNK;
            let chunk = match scratch.chunks.entry(start) {
                Entry::Occupied(chunk) => chunk.into_mut(),
                Entry::Vacant(_) if held + CHUNK > self.max_bytes => {
                    return Err(io::Error::other(format!(
                        "the check would write more than {} bytes (kept in memory, never \
                         in the file)",
                        self.max_bytes
                    )));
                }
                Entry::Vacant(chunk) => {
                    chunk.insert(self.file_bytes(file_visible, start, start + CHUNK)?)
                }
            };
            let from = start.max(offset);
            let to = (start + CHUNK).min(end);
            chunk[(from - start) as usize..(to - start) as usize]
                .copy_from_slice(&data[(from - offset) as usize..(to - offset) as usize]);
            start += CHUNK;
        }
        scratch.len = scratch.len.max(end);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn backend(contents: &[u8], max_bytes: u64) -> (tempfile::TempDir, ScratchBackend) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, contents).unwrap();
        let file = FileBackend::new(File::open(&path).unwrap()).unwrap();
        (dir, ScratchBackend::new(file, max_bytes).unwrap())
    }

    /// Writes, shortening and growing read back as they would from a file, across
    /// chunk boundaries, and the file itself keeps its bytes.
    #[test]
    fn reads_see_the_writes_and_the_file_is_never_changed() {
        let original: Vec<u8> = (0..3 * CHUNK).map(|i| (i % 251) as u8).collect();
        let (dir, scratch) = backend(&original, 1 << 20);
        let mut model = original.clone();
        let write = |offset: u64, data: &[u8], model: &mut Vec<u8>| {
            scratch.write(offset, data).unwrap();
            let end = offset as usize + data.len();
            if model.len() < end {
                model.resize(end, 0);
            }
            model[offset as usize..end].copy_from_slice(data);
        };
        write(CHUNK - 3, &[7; 10], &mut model);
        write(2 * CHUNK + 100, &[9; 5000], &mut model);
        assert_eq!(scratch.read(0, model.len()).unwrap(), model);
        scratch.set_len(CHUNK + 5).unwrap();
        model.truncate((CHUNK + 5) as usize);
        assert_eq!(scratch.read(0, model.len()).unwrap(), model);
        // What was cut off reads as zeros when the database grows again.
        scratch.set_len(3 * CHUNK).unwrap();
        model.resize((3 * CHUNK) as usize, 0);
        assert_eq!(scratch.read(0, model.len()).unwrap(), model);
        assert_eq!(
            scratch.read(CHUNK, 10).unwrap(),
            model[CHUNK as usize..][..10]
        );
        assert!(scratch.read(3 * CHUNK - 1, 2).is_err(), "past the end");
        assert_eq!(std::fs::read(dir.path().join("db")).unwrap(), original);
    }

    #[test]
    fn writes_past_the_memory_bound_fail() {
        let (_dir, scratch) = backend(&[0; 100], 2 * CHUNK);
        scratch.write(0, &[1; 10]).unwrap();
        scratch.write(CHUNK, &[1; 10]).unwrap();
        let error = scratch.write(2 * CHUNK, &[1; 10]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the check would write more than 8192 bytes (kept in memory, never in the file)"
        );
        // Rewriting a chunk already held costs nothing more.
        scratch.write(5, &[2; 10]).unwrap();
    }
}
