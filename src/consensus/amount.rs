//! [`Amount`]: a quantity of native coins or of a token's base units.
//!
//! Balances, transfer amounts, fees, rewards and token supplies are all amounts. Consensus
//! must never let one wrap silently (overflow is invalid: the book's Protocol and rules ›
//! Consensus rules), so the type offers only checked arithmetic: every sum or difference
//! is an `Option` the caller has to answer, instead of a raw `u64` with a comment
//! promising that someone checked earlier.
//!
//! Serialized exactly as the `u64` it wraps (`serde(transparent)`), so the wire, the store,
//! config files, JSON output and the genesis commitment are the same as before the type
//! existed; the golden vectors in `tests/golden_vectors.rs` hold that.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A non-negative quantity in base units, with checked arithmetic only.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Amount(u64);

impl Amount {
    /// Nothing.
    pub const ZERO: Amount = Amount(0);
    /// The largest representable amount.
    pub const MAX: Amount = Amount(u64::MAX);

    /// `units` base units.
    pub const fn new(units: u64) -> Amount {
        Amount(units)
    }

    /// The number of base units.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or `None` when that does not fit.
    #[must_use]
    pub const fn checked_add(self, other: Amount) -> Option<Amount> {
        match self.0.checked_add(other.0) {
            Some(sum) => Some(Amount(sum)),
            None => None,
        }
    }

    /// `self - other`, or `None` when `other` is larger.
    #[must_use]
    pub const fn checked_sub(self, other: Amount) -> Option<Amount> {
        match self.0.checked_sub(other.0) {
            Some(difference) => Some(Amount(difference)),
            None => None,
        }
    }

    /// `self + other`, or [`Amount::MAX`] when that does not fit: for running totals
    /// where reaching the ceiling only makes a later check stricter (never for a
    /// consensus sum).
    #[must_use]
    pub const fn saturating_add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }

    /// `self - other`, or zero when `other` is larger: for what is left of a balance
    /// after promises that may exceed it (never for a consensus sum).
    #[must_use]
    pub const fn saturating_sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }

    /// The sum of `amounts`, or `None` when it does not fit.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Amount>) -> Option<Amount> {
        amounts
            .into_iter()
            .try_fold(Amount::ZERO, |sum, amount| sum.checked_add(amount))
    }

    /// Big-endian bytes, as consensus encodings write amounts.
    pub const fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

impl From<u64> for Amount {
    fn from(units: u64) -> Amount {
        Amount(units)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Amount::MAX.checked_add(Amount::new(1)), None);
        assert_eq!(Amount::ZERO.checked_sub(Amount::new(1)), None);
        assert_eq!(
            Amount::new(2).checked_add(Amount::new(3)),
            Some(Amount::new(5))
        );
        assert_eq!(
            Amount::new(5).checked_sub(Amount::new(3)),
            Some(Amount::new(2))
        );
        assert_eq!(Amount::new(1).saturating_sub(Amount::new(3)), Amount::ZERO);
        assert_eq!(Amount::MAX.saturating_add(Amount::new(1)), Amount::MAX);
        assert_eq!(
            Amount::checked_sum([Amount::new(1), Amount::new(2)]),
            Some(Amount::new(3))
        );
        assert_eq!(Amount::checked_sum([Amount::MAX, Amount::new(1)]), None);
    }

    #[test]
    fn serialized_as_the_bare_integer() {
        let amount = Amount::new(1_000_000);
        assert_eq!(
            serde_cbor::to_vec(&amount).unwrap(),
            serde_cbor::to_vec(&1_000_000u64).unwrap()
        );
        assert_eq!(serde_json::to_string(&amount).unwrap(), "1000000");
        assert_eq!(amount.to_string(), "1000000");
    }
}
