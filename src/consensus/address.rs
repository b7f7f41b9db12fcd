//! Account addresses: an Ed25519 public key, written as text with a checksum so that a
//! mistyped address is refused instead of silently burning coins.
//!
//! Text form: `ic` + 64 hex digits of the public key + 8 hex digits of checksum, where the
//! checksum is the first 4 bytes of SHA-256("ironchain-address" ‖ key). A random typo
//! passes the checksum with probability 2^-32.

use super::hash::{from_hex, sha256_parts, to_hex, HexError};
use super::signatures::SigningKey;
use ed25519_consensus::VerificationKey;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "ic";
const CHECKSUM_DOMAIN: &[u8] = b"ironchain-address";
/// Length of an address in text form.
pub const ADDRESS_TEXT_LEN: usize = 2 + 64 + 8;

/// An account: the raw bytes of an Ed25519 public key.
///
/// Serialized as its checksummed text in human-readable formats (TOML, JSON) and as 32
/// raw bytes in binary ones (CBOR on the wire and on disk).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 32]);

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            crate::consensus::bytes::serialize(&self.0, serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(D::Error::custom)
        } else {
            crate::consensus::bytes::deserialize(deserializer).map(Address)
        }
    }
}

impl Address {
    /// Wraps raw public-key bytes. Whether they form a valid key is checked where a
    /// signature is verified, not here.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw public-key bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The address that `key` signs for.
    pub fn of(key: &SigningKey) -> Self {
        Self(key.verification_key().to_bytes())
    }

    /// The public key, if these bytes are a curve point.
    pub fn verifying_key(&self) -> Option<VerificationKey> {
        VerificationKey::try_from(self.0).ok()
    }

    fn checksum(&self) -> [u8; 4] {
        let digest = sha256_parts(&[CHECKSUM_DOMAIN, &self.0]);
        [digest[0], digest[1], digest[2], digest[3]]
    }

    /// First hex digits of the key, for logs.
    pub fn short(&self) -> String {
        format!("{PREFIX}{}", to_hex(&self.0[..4]))
    }
}

/// Why a text address was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// Addresses start with `ic`.
    MissingPrefix,
    /// The text is not `ADDRESS_TEXT_LEN` characters long.
    WrongLength { got: usize },
    /// A character is not a hex digit.
    NotHex(HexError),
    /// The checksum does not match: most likely a typo.
    BadChecksum,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::MissingPrefix => write!(f, "an address starts with \"{PREFIX}\""),
            AddressError::WrongLength { got } => write!(
                f,
                "an address is {ADDRESS_TEXT_LEN} characters long, this one has {got}"
            ),
            AddressError::NotHex(error) => write!(f, "address is not hex: {error}"),
            AddressError::BadChecksum => {
                write!(f, "address checksum does not match (is there a typo?)")
            }
        }
    }
}

impl std::error::Error for AddressError {}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let body = text
            .strip_prefix(PREFIX)
            .ok_or(AddressError::MissingPrefix)?;
        if text.len() != ADDRESS_TEXT_LEN {
            return Err(AddressError::WrongLength {
                got: text.chars().count(),
            });
        }
        if let Some(position) = body.bytes().position(|byte| !byte.is_ascii_hexdigit()) {
            return Err(AddressError::NotHex(HexError::NotHex { position }));
        }
        let key = from_hex::<32>(&body[..64]).map_err(AddressError::NotHex)?;
        let checksum = from_hex::<4>(&body[64..]).map_err(AddressError::NotHex)?;
        let address = Address(key);
        if address.checksum() != checksum {
            return Err(AddressError::BadChecksum);
        }
        Ok(address)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}{}", to_hex(&self.0), to_hex(&self.checksum()))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Address {
        Address::of(&SigningKey::from([3; 32]))
    }

    #[test]
    fn serde_uses_text_for_people_and_bytes_for_machines() {
        let address = sample();
        let json = serde_json::to_string(&address).unwrap();
        assert_eq!(json, format!("\"{address}\""));
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), address);
        let cbor = serde_cbor::to_vec(&address).unwrap();
        assert_eq!(cbor.len(), 34);
        assert_eq!(serde_cbor::from_slice::<Address>(&cbor).unwrap(), address);
    }

    #[test]
    fn text_round_trip() {
        let address = sample();
        let text = address.to_string();
        assert_eq!(text.len(), ADDRESS_TEXT_LEN);
        assert_eq!(text.parse::<Address>(), Ok(address));
    }

    #[test]
    fn every_single_character_typo_is_rejected() {
        let text = sample().to_string();
        for position in 2..text.len() {
            let mut typo = text.clone().into_bytes();
            typo[position] = if typo[position] == b'0' { b'1' } else { b'0' };
            let typo = String::from_utf8(typo).unwrap();
            assert_eq!(
                typo.parse::<Address>(),
                Err(AddressError::BadChecksum),
                "typo at {position}"
            );
        }
    }

    #[test]
    fn malformed_text_has_specific_errors() {
        let text = sample().to_string();
        assert_eq!(
            text[2..].parse::<Address>(),
            Err(AddressError::MissingPrefix)
        );
        assert_eq!(
            text[..20].parse::<Address>(),
            Err(AddressError::WrongLength { got: 20 })
        );
        let mut not_hex = text.clone();
        not_hex.replace_range(5..6, "z");
        assert!(matches!(
            not_hex.parse::<Address>(),
            Err(AddressError::NotHex(_))
        ));
        // A multi-byte character must not make slicing panic.
        let mut unicode = text.clone();
        unicode.replace_range(4..6, "é");
        assert!(unicode.parse::<Address>().is_err());
    }
}
