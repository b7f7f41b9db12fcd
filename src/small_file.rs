//! Reading a whole file that is small by design (a key, a config, a transaction, the
//! mempool journal), with a limit on how much is read.
//!
//! Every file the node or a command reads whole goes through [`read`] or
//! [`read_to_string`], so a file that is not what it should be (1 GB of zeros in place of
//! a key, a directory, `/dev/zero`) is refused with its size and the limit instead of
//! being read into memory. The size is checked before anything is read, and the read
//! itself stops one byte past the limit, for files whose size is not known in advance
//! (pipes, devices) or that grow while they are read.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Why a small file could not be read. Its `Display` does not name the file: each
/// caller says which file it was and what it is for.
#[derive(Debug)]
pub enum SmallFileError {
    /// Opening or reading failed (missing, no permission, I/O error).
    Io(io::Error),
    IsDirectory,
    /// Larger than `limit` bytes; `size` is the file's size, when it is known.
    TooLarge {
        size: Option<u64>,
        limit: u64,
    },
    NotUtf8,
}

impl fmt::Display for SmallFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmallFileError::Io(error) => write!(f, "cannot read: {error}"),
            SmallFileError::IsDirectory => write!(f, "is a directory"),
            SmallFileError::TooLarge {
                size: Some(size),
                limit,
            } => write!(
                f,
                "is {size} bytes, more than the limit of {limit} bytes (not read)"
            ),
            SmallFileError::TooLarge { size: None, limit } => {
                write!(f, "holds more than the limit of {limit} bytes (not read)")
            }
            SmallFileError::NotUtf8 => write!(f, "is not UTF-8 text"),
        }
    }
}

impl std::error::Error for SmallFileError {}

impl SmallFileError {
    /// Whether the file does not exist (callers that create a missing file ask).
    pub fn is_not_found(&self) -> bool {
        matches!(self, SmallFileError::Io(error) if error.kind() == io::ErrorKind::NotFound)
    }
}

/// The file at `path`, opened for reading if its size is at most `limit` bytes, as a
/// reader that ends at `limit`: for a caller that reads it piece by piece (the mempool
/// journal) rather than whole.
pub fn open(path: &Path, limit: u64) -> Result<io::Take<File>, SmallFileError> {
    let file = File::open(path).map_err(SmallFileError::Io)?;
    // The size of the file opened, not of whatever the path names a moment later.
    let metadata = file.metadata().map_err(SmallFileError::Io)?;
    if metadata.is_dir() {
        return Err(SmallFileError::IsDirectory);
    }
    if metadata.is_file() && metadata.len() > limit {
        return Err(SmallFileError::TooLarge {
            size: Some(metadata.len()),
            limit,
        });
    }
    Ok(file.take(limit))
}

/// The bytes of the file at `path`, if it holds at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, SmallFileError> {
    let mut reader = open(path, limit)?;
    // One byte more than the limit, to tell a file that ends at the limit from one
    // that goes on (a device, or a file that grew since it was opened).
    reader.set_limit(limit.saturating_add(1));
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(SmallFileError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(SmallFileError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// The text of the file at `path`, if it holds at most `limit` bytes of UTF-8.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, SmallFileError> {
    String::from_utf8(read(path, limit)?).map_err(|_| SmallFileError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read_to_string(&path, 5).unwrap(), "12345");
    }

    /// A sparse 1 GiB file costs nothing to make; refusing it must not read it either
    /// (the refusal comes from its size alone, so it holds for any size).
    #[test]
    fn a_larger_file_is_refused_with_its_size_and_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        File::create(&path).unwrap().set_len(1 << 30).unwrap();
        let error = read(&path, 4096).unwrap_err();
        assert_eq!(
            error.to_string(),
            "is 1073741824 bytes, more than the limit of 4096 bytes (not read)"
        );
        std::fs::write(&path, "123456").unwrap();
        assert!(matches!(
            read(&path, 5),
            Err(SmallFileError::TooLarge {
                size: Some(6),
                limit: 5
            })
        ));
    }

    /// A device has no size to check first: the read itself stops past the limit.
    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_cut_off_past_the_limit() {
        let error = read(Path::new("/dev/zero"), 4096).unwrap_err();
        assert_eq!(
            error.to_string(),
            "holds more than the limit of 4096 bytes (not read)"
        );
    }

    #[test]
    fn directories_missing_files_and_binary_files_get_their_own_reasons() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read(dir.path(), 10).unwrap_err().to_string(),
            "is a directory"
        );
        let missing = read(&dir.path().join("missing"), 10).unwrap_err();
        assert!(missing.is_not_found(), "{missing}");
        let path = dir.path().join("binary");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_to_string(&path, 10).unwrap_err().to_string(),
            "is not UTF-8 text"
        );
    }
}
