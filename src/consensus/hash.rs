//! SHA-256 and the hash newtypes: a block hash, a transaction id and a merkle root are
//! distinct types, so passing one where another is expected does not compile.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of several byte slices, as if concatenated.
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The short form of a hash in hex, wherever one is shortened (logs, summaries, the
/// client): its leading zeros and the 8 digits after them. Block hashes start with as
/// many zeros as their difficulty, so a fixed 8-digit prefix would show little else;
/// this one is still a prefix of the full hash that tells blocks apart.
pub fn short_hex(hex: &str) -> &str {
    let zeros = hex.len() - hex.trim_start_matches('0').len();
    hex.get(..zeros.saturating_add(8)).unwrap_or(hex)
}

/// Why a hex string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HexError {
    /// The text has the wrong number of hex digits.
    WrongLength { expected: usize, got: usize },
    /// A character is not a hex digit.
    NotHex { position: usize },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HexError::WrongLength { expected, got } => {
                write!(f, "expected {expected} hex digits, got {got} characters")
            }
            HexError::NotHex { position } => {
                write!(f, "character {} is not a hex digit", position + 1)
            }
        }
    }
}

impl std::error::Error for HexError {}

/// Reads exactly `N` bytes from `2 * N` hex digits (either case).
pub fn from_hex<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    if text.len() != 2 * N {
        // Characters, not bytes: "d85cc39d…" is 9 characters a person typed, 11 bytes.
        return Err(HexError::WrongLength {
            expected: 2 * N,
            got: text.chars().count(),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|error| match error {
        hex::FromHexError::InvalidHexCharacter { index, .. } => {
            HexError::NotHex { position: index }
        }
        // The length was checked above; these cannot arise, but are reported truthfully.
        hex::FromHexError::OddLength | hex::FromHexError::InvalidStringLength => {
            HexError::WrongLength {
                expected: 2 * N,
                got: text.chars().count(),
            }
        }
    })?;
    Ok(out)
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        pub struct $name(#[serde(with = "crate::consensus::bytes")] [u8; 32]);

        impl $name {
            /// Wraps raw digest bytes.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The raw digest bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// The short form of the hash ([`short_hex`]).
            pub fn short(&self) -> String {
                short_hex(&to_hex(&self.0)).to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&to_hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl FromStr for $name {
            type Err = HexError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                from_hex::<32>(text.trim()).map(Self)
            }
        }
    };
}

hash_newtype!(
    /// SHA-256 of a block header's 96-byte encoding.
    BlockHash
);
hash_newtype!(
    /// SHA-256 of a transaction's (or reward record's) full encoding, signature included.
    TxId
);
hash_newtype!(
    /// Root of the merkle tree over a block's transaction ids.
    MerkleRoot
);
hash_newtype!(
    /// A user-issued token, derived from its issuing transaction (see
    /// [`token_id`](crate::consensus::token::token_id)).
    TokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            to_hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_parts(&[b"a", b"bc"]), sha256(b"abc"));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let hash = BlockHash::from_bytes(sha256(b"x"));
        assert_eq!(hash.to_string().parse::<BlockHash>().unwrap(), hash);
        assert_eq!(
            "abc".parse::<TxId>(),
            Err(HexError::WrongLength {
                expected: 64,
                got: 3
            })
        );
        let mut bad = hash.to_string();
        bad.replace_range(10..11, "g");
        assert_eq!(bad.parse::<TxId>(), Err(HexError::NotHex { position: 10 }));
    }

    #[test]
    fn short_form_keeps_eight_digits_after_the_leading_zeros() {
        let mut bytes = [0xab; 32];
        bytes[..3].fill(0);
        bytes[3] = 0x01;
        assert_eq!(BlockHash::from_bytes(bytes).short(), "00000001abababa");
        assert_eq!(TxId::from_bytes([0xcd; 32]).short(), "cdcdcdcd");
        assert_eq!(BlockHash::from_bytes([0; 32]).short(), "0".repeat(64));
        assert_eq!(short_hex("0000abc"), "0000abc");
        assert_eq!(short_hex("00000000123456789abc"), "0000000012345678");
    }

    #[test]
    fn a_wrong_length_counts_characters_not_bytes() {
        assert_eq!(
            "d85cc39d\u{2026}".parse::<TxId>(),
            Err(HexError::WrongLength {
                expected: 64,
                got: 9
            })
        );
    }
}
