//! Lists that are bounded WHILE they are decoded (issue 10): a hostile frame may announce
//! 100,000 locator hashes or 9,000 transactions in a block, and serde's derived `Vec`
//! decoder would read (and allocate) every one of them before any rule could refuse the
//! message. Here a list's announced length is checked before its first element is read,
//! and a list of unannounced length is cut off at the first element past the cap, so a
//! refused list costs at most `cap` elements.
//!
//! Most caps are protocol constants, passed to [`at_most`]. The cap on a block's
//! transactions is the network's `max_block_txs`, a chain parameter the decoder cannot
//! see: the frame decoder sets it for the duration of one decode with
//! [`with_max_block_txs`] (a thread-local, because serde's derived decoders take no
//! context). Outside such a scope (the store, tests) a block may hold as many
//! transactions as the largest frame could carry.

use super::transaction::{Transaction, TX_BASE_SIZE};
use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

/// The most transactions any decodable block could hold: 4 MiB frames of minimal
/// transactions. The cap outside [`with_max_block_txs`].
pub const MAX_DECODABLE_BLOCK_TXS: usize = (4 << 20) / TX_BASE_SIZE;

thread_local! {
    static MAX_BLOCK_TXS: Cell<usize> = const { Cell::new(MAX_DECODABLE_BLOCK_TXS) };
}

/// Runs `decode` with blocks capped at `max` transactions, so that a block over the
/// network's `max_block_txs` is refused by the decoder, not after it.
pub fn with_max_block_txs<R>(max: usize, decode: impl FnOnce() -> R) -> R {
    let previous = MAX_BLOCK_TXS.with(|cap| cap.replace(max));
    let result = decode();
    MAX_BLOCK_TXS.with(|cap| cap.set(previous));
    result
}

/// Decodes a list of at most `max` elements; `what` names them in the reason.
pub fn at_most<'de, D, T>(
    deserializer: D,
    max: usize,
    what: &'static str,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_seq(BoundedSeq {
        max,
        what,
        element: PhantomData,
    })
}

/// A block's transactions, capped as [`with_max_block_txs`] says.
pub fn block_txs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Transaction>, D::Error> {
    let max = MAX_BLOCK_TXS.with(Cell::get);
    at_most(deserializer, max, "transactions in a block")
}

struct BoundedSeq<T> {
    max: usize,
    what: &'static str,
    element: PhantomData<T>,
}

impl<T> BoundedSeq<T> {
    fn too_many<E: Error>(&self, count: impl fmt::Display) -> E {
        E::custom(format_args!(
            "{count} {} exceed the limit of {}",
            self.what, self.max
        ))
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for BoundedSeq<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {} {}", self.max, self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let announced = seq.size_hint();
        if let Some(count) = announced.filter(|count| *count > self.max) {
            return Err(self.too_many(count));
        }
        let mut items = Vec::with_capacity(announced.unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            if items.len() == self.max {
                return Err(self.too_many(format_args!("more than {}", self.max)));
            }
            items.push(item);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::address::Address;
    use crate::consensus::amount::Amount;
    use crate::consensus::block::{Block, BlockHeader};
    use crate::consensus::target::CompactTarget;
    use crate::consensus::transaction::Reward;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Three(#[serde(deserialize_with = "three")] Vec<u32>);

    fn three<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u32>, D::Error> {
        at_most(deserializer, 3, "numbers")
    }

    #[test]
    fn an_announced_length_over_the_cap_is_refused_before_any_element() {
        // A definite-length CBOR array announcing 100,000 elements, with none following:
        // refused from the header alone, so nothing was read or allocated for them.
        let header = [0x9a, 0x00, 0x01, 0x86, 0xa0];
        let error = serde_cbor::from_slice::<Three>(&header).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("100000 numbers exceed the limit of 3"),
            "{error}"
        );
    }

    #[test]
    fn an_unannounced_length_is_cut_off_past_the_cap() {
        // Indefinite-length array [1, 2, 3, 4].
        let indefinite = [0x9f, 0x01, 0x02, 0x03, 0x04, 0xff];
        let error = serde_cbor::from_slice::<Three>(&indefinite).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("more than 3 numbers exceed the limit of 3"),
            "{error}"
        );
        let fits = [0x9f, 0x01, 0x02, 0x03, 0xff];
        assert_eq!(serde_cbor::from_slice::<Three>(&fits).unwrap().0, [1, 2, 3]);
        let definite = serde_cbor::to_vec(&vec![7u32, 8, 9]).unwrap();
        assert_eq!(
            serde_cbor::from_slice::<Three>(&definite).unwrap().0,
            [7, 8, 9]
        );
    }

    fn block_with_txs(count: u64) -> Block {
        Block {
            header: BlockHeader {
                version: 1,
                height: 1,
                prev: Default::default(),
                merkle_root: Default::default(),
                timestamp_ms: 0,
                target: CompactTarget::from_consensus(0x2000_ffff),
                nonce: 0,
            },
            reward: Reward {
                miner: Address::from_bytes([3; 32]),
                amount: Amount::new(50),
                height: 1,
            },
            txs: (0..count).map(crate::testkit::unsigned_transfer).collect(),
        }
    }

    #[test]
    fn the_block_transaction_cap_holds_only_inside_its_scope() {
        let block = block_with_txs(3);
        let bytes = serde_cbor::to_vec(&block).unwrap();
        let decode = || serde_cbor::from_slice::<Block>(&bytes);
        let error = with_max_block_txs(2, decode).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("3 transactions in a block exceed the limit of 2"),
            "{error}"
        );
        assert_eq!(with_max_block_txs(3, decode).unwrap(), block);
        assert_eq!(decode().unwrap(), block);
    }
}
