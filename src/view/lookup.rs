//! What a person types to name a block, a transaction, or anything the explorer's lookup
//! box takes, read by one rule wherever it is typed: the command line (`ironchain block`,
//! `ironchain tx`), the API (`/api/blocks/{..}`, `/api/tx/{..}`, `/api/lookup/{..}`) and
//! the page, which asks `/api/lookup` rather than reading the text itself. Two readers
//! would drift apart: `00000015` was once block 15 on the page and a hash prefix on the
//! command line.
//!
//! The rule: decimal digits are a height, unless they start with a zero (a short block
//! hash keeps its leading zeros; nobody writes a height so); 64 hex digits are a whole
//! hash or id; other hex digits, at least 8, are a prefix ([`IdPrefix`]) that the node
//! resolves, with the same errors everywhere for a prefix that matches nothing or more
//! than one id ([`the_one`]). Text starting with `ic` is an address.

use crate::chain::id_prefix::{IdPrefix, MAX_PREFIX_MATCHES};
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::policy::parse_account;
use crate::net::message::BlockRef;
use std::fmt;

/// A block as a person names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockQuery {
    /// A height on the active chain, or a whole hash.
    Whole(BlockRef),
    Prefix(IdPrefix),
}

/// A transaction as a person names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxQuery {
    Whole(TxId),
    Prefix(IdPrefix),
}

/// Anything the lookup box takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// An address (`ic…` or `icm…`), checksum checked, as typed.
    Address(String),
    Height(u64),
    /// 64 hex digits: a block hash or a transaction id.
    Id([u8; 32]),
    Prefix(IdPrefix),
}

/// Whether `text` is read as a height: decimal digits, without a leading zero unless it
/// is `0` itself, and shorter than a hash.
fn height_like(text: &str) -> bool {
    !text.is_empty()
        && text.len() < 64
        && text.bytes().all(|byte| byte.is_ascii_digit())
        && (text.len() == 1 || !text.starts_with('0'))
}

fn height(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is too large for a block height"))
}

/// A block height or hash, or a prefix of a hash.
pub fn block_query(text: &str) -> Result<BlockQuery, String> {
    let trimmed = text.trim();
    if height_like(trimmed) {
        return height(trimmed).map(|height| BlockQuery::Whole(BlockRef::Height(height)));
    }
    if trimmed.len() == 64 {
        return trimmed
            .parse::<BlockHash>()
            .map(|hash| BlockQuery::Whole(BlockRef::Hash(hash)))
            .map_err(|e| {
                format!("{text:?} is neither a block height nor a block hash (64 hex digits): {e}")
            });
    }
    IdPrefix::parse(trimmed)
        .map(BlockQuery::Prefix)
        .map_err(|e| {
            format!(
                "{text:?} is neither a block height nor a block hash or a prefix of one \
             (at least 8 hex digits): {e}"
            )
        })
}

/// A transaction id, or a prefix of one.
pub fn tx_query(text: &str) -> Result<TxQuery, String> {
    let trimmed = text.trim();
    if let Ok(txid) = trimmed.parse::<TxId>() {
        return Ok(TxQuery::Whole(txid));
    }
    IdPrefix::parse(trimmed)
        .map(TxQuery::Prefix)
        .map_err(|e| format!("{text:?} is neither a transaction id nor a prefix of one: {e}"))
}

/// What the lookup box was given.
pub fn query(text: &str) -> Result<Query, String> {
    let trimmed = text.trim();
    if trimmed.starts_with("ic") {
        return parse_account(trimmed)
            .map(|_| Query::Address(trimmed.to_string()))
            .map_err(|e| format!("{text:?} is not an address: {e}"));
    }
    if height_like(trimmed) {
        return height(trimmed).map(Query::Height);
    }
    if trimmed.len() == 64 {
        if let Ok(hash) = trimmed.parse::<BlockHash>() {
            return Ok(Query::Id(*hash.as_bytes()));
        }
    }
    IdPrefix::parse(trimmed).map(Query::Prefix).map_err(|e| {
        format!(
            "{text:?} is not a height, a block hash, a transaction id or an address, nor a \
             prefix of a hash or id (at least 8 hex digits): {e}"
        )
    })
}

/// Why a prefix names no single id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unresolved {
    NoMatch(String),
    Ambiguous(String),
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unresolved::NoMatch(reason) | Unresolved::Ambiguous(reason) => f.write_str(reason),
        }
    }
}

/// What kind of id a prefix is looked up among, in the singular and the plural.
#[derive(Clone, Copy, Debug)]
pub struct IdKind {
    pub one: &'static str,
    pub many: &'static str,
}

pub const BLOCK_HASH: IdKind = IdKind {
    one: "block hash",
    many: "block hashes",
};
pub const TRANSACTION_ID: IdKind = IdKind {
    one: "transaction id",
    many: "transaction ids",
};
pub const BLOCK_HASH_OR_TRANSACTION_ID: IdKind = IdKind {
    one: "block hash or transaction id",
    many: "block hashes and transaction ids",
};

/// The one id in `found` (a node's answer, at most [`MAX_PREFIX_MATCHES`]) that starts
/// with `prefix`; otherwise why not, naming the prefix and `holder` (the node asked).
pub fn the_one<T: Copy + fmt::Display>(
    found: Vec<T>,
    bytes: fn(&T) -> &[u8; 32],
    prefix: &IdPrefix,
    kind: IdKind,
    holder: &str,
) -> Result<T, Unresolved> {
    // What the node answered is checked, not trusted.
    let found: Vec<T> = found
        .into_iter()
        .filter(|id| prefix.matches(bytes(id)))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Unresolved::NoMatch(format!(
            "no {} starting with {prefix} is known to {holder}",
            kind.one
        ))),
        many => {
            let count = if many.len() >= MAX_PREFIX_MATCHES {
                format!("at least {}", many.len())
            } else {
                many.len().to_string()
            };
            let listed: Vec<String> = many
                .iter()
                .map(|id| {
                    let full = id.to_string();
                    let shown = prefix.digits() + 4;
                    full.get(..shown).map_or(full.clone(), str::to_string)
                })
                .collect();
            Err(Unresolved::Ambiguous(format!(
                "{prefix} is ambiguous: {count} {} start with it ({}…); give more digits",
                kind.many,
                listed.join("…, ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> Option<BlockRef> {
        match block_query(text) {
            Ok(BlockQuery::Whole(reference)) => Some(reference),
            _ => None,
        }
    }

    #[test]
    fn heights_hashes_and_prefixes_are_told_apart() {
        assert_eq!(whole("12"), Some(BlockRef::Height(12)));
        assert_eq!(whole("0"), Some(BlockRef::Height(0)));
        let zeros = "0".repeat(64);
        assert_eq!(whole(&zeros), Some(BlockRef::Hash(BlockHash::default())));
        let hash = BlockHash::from_bytes([0xab; 32]);
        assert_eq!(whole(&hash.to_string()), Some(BlockRef::Hash(hash)));
        // A short hash keeps its leading zeros, so it is no height even if all digits,
        // and it may have an odd number of digits.
        for text in [
            "00000015",
            "0000010512",
            "00000105e28183d1",
            "ab12cd34…",
            "00000105e",
        ] {
            assert!(
                matches!(block_query(text), Ok(BlockQuery::Prefix(_))),
                "{text} is a prefix"
            );
            assert!(matches!(query(text), Ok(Query::Prefix(_))), "{text}");
        }
        assert!(block_query("-1")
            .unwrap_err()
            .contains("neither a block height nor a block hash"));
        assert!(block_query("99999999999999999999")
            .unwrap_err()
            .contains("too large for a block height"));
        assert!(matches!(tx_query("d85cc39d…"), Ok(TxQuery::Prefix(_))));
        let error = tx_query("d85c").unwrap_err();
        assert!(error.contains("4 hex digits are too few"), "{error}");
    }

    #[test]
    fn the_lookup_box_reads_by_the_same_rule() {
        assert_eq!(query(" 15 "), Ok(Query::Height(15)));
        assert_eq!(query(&"cd".repeat(32)), Ok(Query::Id([0xcd; 32])));
        let address = crate::testkit::address(1).to_string();
        assert_eq!(query(&address), Ok(Query::Address(address.clone())));
        let mut typo = address.into_bytes();
        typo[10] = if typo[10] == b'0' { b'1' } else { b'0' };
        let error = query(&String::from_utf8(typo).unwrap()).unwrap_err();
        assert!(error.contains("checksum"), "{error}");
        let error = query("3effcb").unwrap_err();
        assert!(error.contains("6 hex digits are too few"), "{error}");
    }

    #[test]
    fn a_prefix_resolves_to_one_id_or_says_why_not() {
        let prefix = IdPrefix::parse("abababab").unwrap();
        let id = |last: u8| {
            let mut bytes = [0xab; 32];
            bytes[31] = last;
            TxId::from_bytes(bytes)
        };
        let resolve =
            |found: Vec<TxId>| the_one(found, TxId::as_bytes, &prefix, TRANSACTION_ID, "n:1");
        assert_eq!(resolve(vec![id(1)]), Ok(id(1)));
        // An id that does not start with the prefix is the node's mistake, not a match.
        assert_eq!(resolve(vec![TxId::from_bytes([1; 32]), id(2)]), Ok(id(2)));
        assert_eq!(
            resolve(vec![]),
            Err(Unresolved::NoMatch(
                "no transaction id starting with abababab is known to n:1".to_string()
            ))
        );
        assert_eq!(
            resolve(vec![id(1), id(2)]).unwrap_err().to_string(),
            "abababab is ambiguous: 2 transaction ids start with it \
             (abababababab…, abababababab…); give more digits"
        );
        let error = resolve((0..8).map(id).collect()).unwrap_err();
        assert!(
            error.to_string().contains("at least 8 transaction ids"),
            "{error}"
        );
        let blocks = |found: Vec<BlockHash>| {
            the_one(found, BlockHash::as_bytes, &prefix, BLOCK_HASH, "n:1").unwrap_err()
        };
        let two = vec![
            BlockHash::from_bytes([0xab; 32]),
            BlockHash::from_bytes([0xab; 32]),
        ];
        assert!(blocks(two).to_string().contains("2 block hashes start"));
    }
}
