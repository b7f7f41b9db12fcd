//! m-of-n multisig policies and their addresses (P2SH-style): an account whose coins are
//! spent by revealing the policy and at least m signatures of distinct members.
//!
//! Canonical encoding: `threshold u8 | member count u8 | members 32 each, strictly
//! ascending`. Ascending order makes one set of members have one address whatever order
//! a person lists them in, and "strictly" rules out duplicates in the same check.
//!
//! The policy's account is `SHA-256("ironchain-policy-v1" ‖ encoding)`: 32 bytes, held in
//! an [`Address`] like every account, so balances, nonces and the mempool treat it exactly
//! like a key account. Nobody knows a private key for a hash, so only a policy spend can
//! move its coins. Its text form is `icm` + 64 hex digits + 8 hex digits of checksum over
//! another domain than key addresses use: a key address never parses as a policy address
//! or the reverse, and a typo is refused.

use super::address::{Address, AddressError};
use super::error::TxError;
use super::hash::{from_hex, sha256_parts, to_hex, HexError};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Most members a policy may have.
pub const MAX_POLICY_MEMBERS: usize = 16;
const ADDRESS_DOMAIN: &[u8] = b"ironchain-policy-v1";
const CHECKSUM_DOMAIN: &[u8] = b"ironchain-policy-address";
const PREFIX: &str = "icm";
/// Length of a policy address in text form.
pub const POLICY_ADDRESS_TEXT_LEN: usize = 3 + 64 + 8;

/// A threshold and the members whose signatures count towards it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub threshold: u8,
    /// Strictly ascending (see the module doc); [`Policy::new`] sorts them.
    pub members: Vec<Address>,
}

impl Policy {
    /// A checked policy from members in any order.
    pub fn new(threshold: u8, mut members: Vec<Address>) -> Result<Policy, TxError> {
        members.sort();
        let policy = Policy { threshold, members };
        policy.check()?;
        Ok(policy)
    }

    /// The policy rules: `1 ≤ m ≤ n ≤ 16` and members strictly ascending (so distinct).
    pub fn check(&self) -> Result<(), TxError> {
        let members = self.members.len();
        if self.threshold == 0
            || usize::from(self.threshold) > members
            || members > MAX_POLICY_MEMBERS
        {
            return Err(TxError::BadThreshold {
                threshold: self.threshold,
                members,
            });
        }
        if self.members.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(TxError::PolicyMembersNotCanonical);
        }
        Ok(())
    }

    /// Appends the canonical encoding. Lengths saturate so that an oversized policy can
    /// still be hashed and then refused by [`Policy::check`].
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.threshold);
        out.push(u8::try_from(self.members.len()).unwrap_or(u8::MAX));
        for member in &self.members {
            out.extend_from_slice(member.as_bytes());
        }
    }

    /// Size of the canonical encoding in bytes.
    pub fn encoded_size(&self) -> usize {
        2 + 32 * self.members.len()
    }

    /// The policy's address.
    pub fn address(&self) -> PolicyAddress {
        let mut encoding = Vec::with_capacity(self.encoded_size());
        self.encode_into(&mut encoding);
        PolicyAddress(sha256_parts(&[ADDRESS_DOMAIN, &encoding]))
    }

    /// Whether `address` is one of the members.
    pub fn has_member(&self, address: &Address) -> bool {
        self.members.binary_search(address).is_ok()
    }
}

/// The address of a policy: the account its coins are held in, with its own text form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyAddress([u8; 32]);

impl PolicyAddress {
    /// The account (balance and nonce) this policy controls.
    pub const fn account(&self) -> Address {
        Address::from_bytes(self.0)
    }

    fn checksum(&self) -> [u8; 4] {
        let digest = sha256_parts(&[CHECKSUM_DOMAIN, &self.0]);
        [digest[0], digest[1], digest[2], digest[3]]
    }
}

/// Why a text policy address was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyAddressError {
    /// Policy addresses start with `icm`; a key address (`ic` + hex) is not one.
    MissingPrefix,
    WrongLength {
        got: usize,
    },
    NotHex(HexError),
    BadChecksum,
}

impl fmt::Display for PolicyAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyAddressError::MissingPrefix => {
                write!(f, "a policy address starts with \"{PREFIX}\"")
            }
            PolicyAddressError::WrongLength { got } => write!(
                f,
                "a policy address is {POLICY_ADDRESS_TEXT_LEN} characters long, this one has {got}"
            ),
            PolicyAddressError::NotHex(error) => write!(f, "policy address is not hex: {error}"),
            PolicyAddressError::BadChecksum => {
                write!(
                    f,
                    "policy address checksum does not match (is there a typo?)"
                )
            }
        }
    }
}

impl std::error::Error for PolicyAddressError {}

impl FromStr for PolicyAddress {
    type Err = PolicyAddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let body = text
            .strip_prefix(PREFIX)
            .ok_or(PolicyAddressError::MissingPrefix)?;
        if text.len() != POLICY_ADDRESS_TEXT_LEN {
            return Err(PolicyAddressError::WrongLength {
                got: text.chars().count(),
            });
        }
        if let Some(position) = body.bytes().position(|byte| !byte.is_ascii_hexdigit()) {
            return Err(PolicyAddressError::NotHex(HexError::NotHex { position }));
        }
        let hash = from_hex::<32>(&body[..64]).map_err(PolicyAddressError::NotHex)?;
        let checksum = from_hex::<4>(&body[64..]).map_err(PolicyAddressError::NotHex)?;
        let address = PolicyAddress(hash);
        if address.checksum() != checksum {
            return Err(PolicyAddressError::BadChecksum);
        }
        Ok(address)
    }
}

impl fmt::Display for PolicyAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}{}", to_hex(&self.0), to_hex(&self.checksum()))
    }
}

impl fmt::Debug for PolicyAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyAddress({PREFIX}{})", to_hex(&self.0[..4]))
    }
}

impl Serialize for PolicyAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// An account named on the command line: a key address or a policy address.
pub fn parse_account(text: &str) -> Result<Address, AccountTextError> {
    if text.trim().starts_with(PREFIX) {
        text.parse::<PolicyAddress>()
            .map(|policy| policy.account())
            .map_err(AccountTextError::Policy)
    } else {
        text.parse::<Address>().map_err(AccountTextError::Key)
    }
}

/// Why [`parse_account`] refused its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountTextError {
    Key(AddressError),
    Policy(PolicyAddressError),
}

impl fmt::Display for AccountTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountTextError::Key(error) => error.fmt(f),
            AccountTextError::Policy(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for AccountTextError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Vec<Address> {
        (1..=3).map(|n| Address::from_bytes([n; 32])).collect()
    }

    #[test]
    fn member_order_does_not_change_the_address() {
        let mut reversed = members();
        reversed.reverse();
        assert_eq!(
            Policy::new(2, members()).unwrap().address(),
            Policy::new(2, reversed).unwrap().address()
        );
        assert_ne!(
            Policy::new(2, members()).unwrap().address(),
            Policy::new(1, members()).unwrap().address()
        );
    }

    #[test]
    fn thresholds_outside_one_to_n_are_refused() {
        for (threshold, count) in [(0, 3), (4, 3), (1, 0), (17, 17)] {
            let members = (0..count).map(|n| Address::from_bytes([n; 32])).collect();
            assert_eq!(
                Policy::new(threshold, members),
                Err(TxError::BadThreshold {
                    threshold,
                    members: usize::from(count)
                })
            );
        }
        let sixteen = (0..16).map(|n| Address::from_bytes([n; 32])).collect();
        assert!(Policy::new(16, sixteen).is_ok());
    }

    #[test]
    fn duplicate_or_unsorted_members_are_refused() {
        let mut duplicate = members();
        duplicate.push(duplicate[0]);
        assert_eq!(
            Policy::new(2, duplicate),
            Err(TxError::PolicyMembersNotCanonical)
        );
        let mut unsorted = Policy::new(2, members()).unwrap();
        unsorted.members.swap(0, 1);
        assert_eq!(unsorted.check(), Err(TxError::PolicyMembersNotCanonical));
    }

    #[test]
    fn text_form_round_trips_and_is_never_a_key_address() {
        let address = Policy::new(2, members()).unwrap().address();
        let text = address.to_string();
        assert_eq!(text.len(), POLICY_ADDRESS_TEXT_LEN);
        assert_eq!(text.parse::<PolicyAddress>(), Ok(address));
        assert!(text.parse::<Address>().is_err());
        assert_eq!(parse_account(&text), Ok(address.account()));
        // The key-address text of the same 32 bytes is not a policy address.
        let key_text = address.account().to_string();
        assert_eq!(
            key_text.parse::<PolicyAddress>(),
            Err(PolicyAddressError::MissingPrefix)
        );
    }

    #[test]
    fn every_single_character_typo_is_refused() {
        let text = Policy::new(2, members()).unwrap().address().to_string();
        for position in PREFIX.len()..text.len() {
            let mut typo = text.clone().into_bytes();
            typo[position] = if typo[position] == b'0' { b'1' } else { b'0' };
            let typo = String::from_utf8(typo).unwrap();
            assert_eq!(
                typo.parse::<PolicyAddress>(),
                Err(PolicyAddressError::BadChecksum),
                "typo at {position}"
            );
        }
    }
}
