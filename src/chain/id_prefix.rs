//! An abbreviated transaction id or block hash, as people copy them from the README,
//! logs and summaries (`bd68942d…`): at least 8 hex digits, resolved by the node against
//! what it holds, so `ironchain tx` and `ironchain block` need not be given all 64.
//! A short block hash keeps its leading zeros and 8 digits after them, so half of them
//! have an odd number of digits: a prefix may end in half a byte.

use std::fmt;

/// The fewest hex digits a prefix may have: 8 digits (32 bits) make a collision between
/// the ids of one chain unlikely until it holds tens of thousands of them, and a short
/// hash shows at least 8 digits after its leading zeros.
pub const MIN_PREFIX_DIGITS: usize = 8;
/// The most matches a node reports for one prefix: enough to show that it is ambiguous,
/// and a few candidates.
pub const MAX_PREFIX_MATCHES: usize = 8;

/// The leading hex digits of a 32-byte id: whole bytes, and maybe the high half of the
/// next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPrefix {
    bytes: Vec<u8>,
    /// An odd last digit: the high four bits of the byte after `bytes`.
    half: Option<u8>,
}

impl IdPrefix {
    /// Reads a prefix a person typed: hex digits in either case, from
    /// [`MIN_PREFIX_DIGITS`] to 64 of them, with an ellipsis (`…` or `...`) at the end
    /// allowed, since shortened ids are shown with one.
    pub fn parse(text: &str) -> Result<IdPrefix, String> {
        let digits = text.trim().trim_end_matches('…').trim_end_matches("...");
        let count = digits.chars().count();
        if let Some((at, bad)) = digits
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_hexdigit())
        {
            return Err(format!("character {} ({bad:?}) is not a hex digit", at + 1));
        }
        if count < MIN_PREFIX_DIGITS {
            return Err(format!(
                "{count} hex digits are too few to look up: give at least {MIN_PREFIX_DIGITS}"
            ));
        }
        if count > 64 {
            return Err(format!("{count} hex digits, more than the 64 of an id"));
        }
        let whole = count - count % 2;
        let bytes = (0..whole)
            .step_by(2)
            .map(|at| u8::from_str_radix(&digits[at..at + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| format!("not hex: {e}"))?;
        let half = digits
            .get(whole..)
            .filter(|last| !last.is_empty())
            .map(|last| u8::from_str_radix(last, 16).map(|digit| digit << 4))
            .transpose()
            .map_err(|e| format!("not hex: {e}"))?;
        Ok(IdPrefix { bytes, half })
    }

    /// A prefix of any length, even none, which [`IdPrefix::parse`] would refuse: for
    /// tests of scans whose answers must hold for every prefix.
    #[cfg(test)]
    pub(crate) fn of_bytes(bytes: &[u8]) -> IdPrefix {
        IdPrefix {
            bytes: bytes.to_vec(),
            half: None,
        }
    }

    /// The prefix's whole bytes (an odd last digit left out): what a range scan over
    /// ids can seek by; [`IdPrefix::matches`] then checks the last digit.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many hex digits the prefix has.
    pub fn digits(&self) -> usize {
        self.bytes.len() * 2 + usize::from(self.half.is_some())
    }

    /// Whether `id` starts with this prefix.
    pub fn matches(&self, id: &[u8; 32]) -> bool {
        id.starts_with(&self.bytes)
            && self.half.is_none_or(|high| {
                id.get(self.bytes.len())
                    .is_some_and(|&next| next & 0xf0 == high)
            })
    }
}

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.bytes {
            write!(f, "{byte:02x}")?;
        }
        match self.half {
            Some(high) => write!(f, "{:x}", high >> 4),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_as_people_copy_them() {
        let prefix = IdPrefix::parse("BD68942d…").unwrap();
        assert_eq!(prefix.as_bytes(), &[0xbd, 0x68, 0x94, 0x2d]);
        assert_eq!(prefix.to_string(), "bd68942d");
        assert_eq!(IdPrefix::parse("bd68942d...").unwrap(), prefix);
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&[0xbd, 0x68, 0x94, 0x2d]);
        assert!(prefix.matches(&id));
        id[3] = 0x2e;
        assert!(!prefix.matches(&id));
        assert_eq!(
            IdPrefix::parse(&"ab".repeat(32)).unwrap().as_bytes(),
            [0xab; 32]
        );
    }

    #[test]
    fn a_short_hash_with_an_odd_number_of_digits_is_a_prefix() {
        // Five leading zeros and eight digits, as the logs shorten such a hash.
        let prefix = IdPrefix::parse("00000a1b2c3d4").unwrap();
        assert_eq!(prefix.to_string(), "00000a1b2c3d4");
        assert_eq!(prefix.digits(), 13);
        assert_eq!(prefix.as_bytes(), &[0x00, 0x00, 0x0a, 0x1b, 0x2c, 0x3d]);
        let mut id = [0u8; 32];
        id[..7].copy_from_slice(&[0x00, 0x00, 0x0a, 0x1b, 0x2c, 0x3d, 0x4f]);
        assert!(prefix.matches(&id));
        id[6] = 0x5f;
        assert!(!prefix.matches(&id), "the odd last digit counts");
    }

    #[test]
    fn each_bad_prefix_says_what_is_wrong_counting_digits() {
        let error = |text: &str| IdPrefix::parse(text).unwrap_err();
        assert_eq!(
            error("d85cc39"),
            "7 hex digits are too few to look up: give at least 8"
        );
        assert_eq!(error("d85cc39x"), "character 8 ('x') is not a hex digit");
        assert_eq!(error("é85cc39d"), "character 1 ('é') is not a hex digit");
        assert_eq!(
            error(&"a".repeat(66)),
            "66 hex digits, more than the 64 of an id"
        );
    }
}
