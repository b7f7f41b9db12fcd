//! Key files: an Ed25519 secret key on disk, for wallets and for the miner's default
//! reward address.
//!
//! Format (JSON, file mode 0600):
//! `{"address": "ic…", "secret_key": "<64 hex digits: the 32-byte Ed25519 seed>"}`.
//! The address is stored for people and checked against the key when loading, so a
//! damaged file is caught instead of signing with the wrong key.

use crate::consensus::address::Address;
use crate::consensus::hash::{from_hex, to_hex};
use crate::consensus::signatures::SigningKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::Path;

/// Largest key file read: one holds about 150 bytes, so anything near this is not a key
/// file (and is not read into memory).
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    address: String,
    secret_key: String,
}

/// Why a key file could not be read or written.
#[derive(Debug)]
pub struct KeyFileError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key file {}: {}", self.path, self.reason)
    }
}

impl std::error::Error for KeyFileError {}

fn error(path: &Path, reason: impl Into<String>) -> KeyFileError {
    KeyFileError {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// A new random key from the operating system's generator.
pub fn generate() -> SigningKey {
    SigningKey::new(rand::rngs::OsRng)
}

/// Writes `key` to a new file at `path` (never overwrites), readable only by its owner.
/// Creates no directory: a mistyped path is reported, not made.
pub fn save(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    check_new_path(path)?;
    let contents = serde_json::to_string_pretty(&KeyFile {
        address: Address::of(key).to_string(),
        secret_key: to_hex(key.as_bytes()),
    })
    .map_err(|e| error(path, e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists if path.is_dir() => error(path, "is a directory"),
        std::io::ErrorKind::AlreadyExists => error(path, "already exists; not overwriting a key"),
        _ => error(path, e.to_string()),
    })?;
    file.write_all(contents.as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .map_err(|e| error(path, e.to_string()))
}

/// Checks that a key file can be made at `path`: its directory exists and it is not a
/// directory itself, with a reason a person understands if not.
fn check_new_path(path: &Path) -> Result<(), KeyFileError> {
    if path.is_dir() {
        return Err(error(path, "is a directory"));
    }
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    match std::fs::metadata(parent) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(error(
            path,
            format!("{} is not a directory", parent.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(error(
            path,
            format!("directory {} does not exist", parent.display()),
        )),
        Err(e) => Err(error(
            path,
            format!("cannot use directory {}: {e}", parent.display()),
        )),
    }
}

/// Reads a key file.
pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text = crate::small_file::read_to_string(path, MAX_KEY_FILE_BYTES)
        .map_err(|e| error(path, e.to_string()))?;
    let file: KeyFile = serde_json::from_str(&text).map_err(|e| {
        error(
            path,
            format!(
                "not a key file ({e}): a key file, as `ironchain wallet new` writes it, is \
                     JSON: {{\"address\": \"ic…\", \"secret_key\": \"<64 hex digits>\"}}"
            ),
        )
    })?;
    let seed = from_hex::<32>(file.secret_key.trim())
        .map_err(|e| error(path, format!("secret_key: {e}")))?;
    let key = SigningKey::from(seed);
    let stored: Address = file
        .address
        .parse()
        .map_err(|e| error(path, format!("address: {e}")))?;
    if stored != Address::of(&key) {
        return Err(error(
            path,
            "address does not belong to secret_key (damaged file?)",
        ));
    }
    Ok(key)
}

/// Loads the key at `path`, creating it first if there is none. Returns whether it was
/// created.
pub fn load_or_create(path: &Path) -> Result<(SigningKey, bool), KeyFileError> {
    if path.exists() {
        return load(path).map(|key| (key, false));
    }
    let key = generate();
    save(path, &key)?;
    Ok((key, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::amount::Amount;

    #[test]
    fn save_load_round_trip_and_refuse_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let key = generate();
        save(&path, &key).unwrap();
        assert_eq!(load(&path).unwrap().to_bytes(), key.to_bytes());
        assert!(save(&path, &key)
            .unwrap_err()
            .reason
            .contains("already exists"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn new_key_paths_are_checked_without_creating_directories() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_new_path(&dir.path().join("k.key")).is_ok());
        let missing = dir.path().join("no").join("such");
        let error = check_new_path(&missing.join("k.key")).unwrap_err();
        assert!(
            error.reason == format!("directory {} does not exist", missing.display()),
            "{error}"
        );
        assert!(!dir.path().join("no").exists());
        let error = check_new_path(dir.path()).unwrap_err();
        assert_eq!(error.reason, "is a directory");
        let file = dir.path().join("plain");
        std::fs::write(&file, "").unwrap();
        let error = check_new_path(&file.join("k.key")).unwrap_err();
        assert!(
            error.reason.ends_with("plain is not a directory"),
            "{error}"
        );
        // save names a directory in the way as such, not as an existing key.
        let error = save(dir.path(), &generate()).unwrap_err();
        assert_eq!(error.reason, "is a directory");
    }

    /// Key files hold the 32-byte RFC 8032 seed, whichever Ed25519 crate reads them: a
    /// file written before the switch to ZIP 215 (here with RFC 8032's first test key)
    /// loads, signs for the same address, and its signature verifies.
    #[test]
    fn rfc8032_seed_file_keeps_its_address() {
        use crate::consensus::hash::BlockHash;
        use crate::consensus::transaction::UnsignedTransaction;
        use crate::consensus::validation::verify_signature;
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        let address = Address::from_bytes(from_hex::<32>(public).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.key");
        let text = format!("{{\"address\": \"{address}\", \"secret_key\": \"{seed}\"}}");
        std::fs::write(&path, text).unwrap();
        let key = load(&path).unwrap();
        assert_eq!(Address::of(&key), address);
        let genesis = BlockHash::from_bytes([1; 32]);
        let tx = UnsignedTransaction {
            receiver: address,
            amount: Amount::new(1),
            fee: Amount::new(1),
            nonce: 0,
            message: String::new(),
        }
        .sign(&key, &genesis);
        assert_eq!(tx.sender, address);
        assert_eq!(verify_signature(&tx, &genesis), Ok(()));
    }

    #[test]
    fn damaged_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        std::fs::write(&path, "not json").unwrap();
        let reason = load(&path).unwrap_err().reason;
        assert!(reason.contains("not a key file"), "{reason}");
        // What a key file looks like, not only where the JSON parser stopped.
        assert!(
            reason.contains(r#"{"address": "ic…", "secret_key": "<64 hex digits>"}"#),
            "{reason}"
        );
        let other = Address::of(&generate());
        let text = format!(
            "{{\"address\": \"{other}\", \"secret_key\": \"{}\"}}",
            to_hex(generate().as_bytes())
        );
        std::fs::write(&path, text).unwrap();
        assert!(load(&path).unwrap_err().reason.contains("does not belong"));
        assert!(load(&dir.path().join("missing"))
            .unwrap_err()
            .reason
            .contains("cannot read"));
        std::fs::File::create(&path)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        assert_eq!(
            load(&path).unwrap_err().to_string(),
            format!(
                "key file {}: is 1073741824 bytes, more than the limit of 4096 bytes (not read)",
                path.display()
            )
        );
    }
}
