//! The proof-of-work hot loop: hashing one block header per nonce as cheaply as SHA-256
//! allows, for the miner (and for anything else that grinds nonces, like the testkit).
//!
//! A header is 96 bytes, so its SHA-256 takes two compressions: bytes `0..64` and then
//! bytes `64..96` followed by the padding. The header layout ([`super::block`]) puts the
//! nonce (and the timestamp) in the second block, so the first compression is the same
//! for every nonce. [`MidstateHasher`] does it once per template and then pays exactly
//! one compression per nonce, which is the floor for a single SHA-256 of a 96-byte
//! message: the nonce cannot be hoisted out of any of the second block's 64 rounds.
//!
//! The per-nonce work outside the compression is kept to a few instructions: the tail
//! blocks are reused in place (only their last 8 bytes change), the midstate is copied as
//! eight words, and most hashes are rejected on their first 32-bit word without ever
//! being turned into bytes. [`MidstateHasher::search`] explains why it alternates two
//! tail blocks; together this runs at the bare `compress256` rate (benches/pow.rs).

use super::block::{BlockHeader, HEADER_SIZE, NONCE_OFFSET};
use super::target::Target;
use sha2::compress256;
use sha2::digest::generic_array::typenum::U64;
use sha2::digest::generic_array::GenericArray;

/// SHA-256's initial state (FIPS 180-4, §5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Bytes of the header that fall in the second 64-byte SHA-256 block.
const TAIL_LEN: usize = HEADER_SIZE - 64;
/// Where the nonce sits inside the second block.
const TAIL_NONCE_OFFSET: usize = NONCE_OFFSET - 64;

// The whole scheme relies on the header filling exactly one and a half blocks with the
// nonce in the second one, and on the padding (0x80 plus the 8-byte length) fitting
// behind it in that same block. A layout change must fail to compile, not hash wrongly.
const _: () = assert!(HEADER_SIZE > 64 && TAIL_LEN + 1 + 8 <= 64);
const _: () = assert!(NONCE_OFFSET >= 64 && NONCE_OFFSET + 8 == HEADER_SIZE);

/// A header with its first SHA-256 block already compressed, ready to hash any nonce.
#[derive(Clone, Debug)]
pub struct MidstateHasher {
    /// SHA-256 state after bytes `0..64` of the header.
    midstate: [u32; 8],
    /// Bytes `64..96` of the header, then the padding of a 96-byte message. The nonce
    /// bytes in it are overwritten for every hash.
    tail: GenericArray<u8, U64>,
}

impl MidstateHasher {
    /// Compresses the part of `header` that does not depend on the nonce. The header's
    /// own nonce is ignored; change the timestamp or merkle root by building a new one.
    pub fn new(header: &BlockHeader) -> Self {
        let encoded = header.encode();
        let mut first = [0u8; 64];
        first.copy_from_slice(&encoded[..64]);
        let mut midstate = SHA256_IV;
        compress256(&mut midstate, &[GenericArray::from(first)]);

        let mut tail = [0u8; 64];
        tail[..TAIL_LEN].copy_from_slice(&encoded[64..]);
        tail[TAIL_LEN] = 0x80;
        // The message length in bits, big-endian, closes the last block (FIPS 180-4 §5.1.1).
        let bit_length = (HEADER_SIZE as u64) * 8;
        tail[56..].copy_from_slice(&bit_length.to_be_bytes());
        MidstateHasher {
            midstate,
            tail: GenericArray::from(tail),
        }
    }

    /// The header's hash with `nonce` in place of its nonce: equal to
    /// [`BlockHeader::hash`] of that header.
    pub fn hash_with_nonce(&self, nonce: u64) -> [u8; 32] {
        let mut tail = self.tail;
        write_nonce(&mut tail, nonce);
        state_to_bytes(&compress_from(&self.midstate, &tail))
    }

    /// The first nonce of `start_nonce, start_nonce + 1, …` (wrapping past `u64::MAX`),
    /// at most `count` of them, whose hash meets `target`, or `None`.
    ///
    /// Bounded so a miner can check for a new template or a stop request between
    /// batches; a `count` of a few hundred thousand is a few milliseconds of work.
    pub fn search(&self, target: &Target, start_nonce: u64, count: u64) -> Option<u64> {
        let target_bytes = target.to_be_bytes();
        // A hash whose first word is above the target's first word fails and one below
        // passes, whatever follows; only a tie (rare unless the target is trivial) needs
        // the full 256-bit comparison.
        let target_head = u32::from_be_bytes([
            target_bytes[0],
            target_bytes[1],
            target_bytes[2],
            target_bytes[3],
        ]);
        let meets = |state: &[u32; 8]| {
            state[0] <= target_head
                && (state[0] < target_head || target.is_met_by(&state_to_bytes(state)))
        };
        // Two tail buffers, each given its nonce one compression before it is read. With
        // a single buffer, every compression loads 16 bytes that an 8-byte store has just
        // partly written; the CPU cannot forward that store, so the load waits until the
        // store retires, which is after the previous compression retires: consecutive
        // hashes could not overlap, and the search ran at ~70% of the bare compression
        // rate. Alternating buffers lets the next hash start while this one finishes
        // (benches/pow.rs: `midstate_search` against `midstate_hash_with_nonce`).
        let mut even = self.tail;
        let mut odd = self.tail;
        write_nonce(&mut even, start_nonce);
        let mut nonce = start_nonce;
        for _ in 0..count / 2 {
            write_nonce(&mut odd, nonce.wrapping_add(1));
            if meets(&compress_from(&self.midstate, &even)) {
                return Some(nonce);
            }
            write_nonce(&mut even, nonce.wrapping_add(2));
            if meets(&compress_from(&self.midstate, &odd)) {
                return Some(nonce.wrapping_add(1));
            }
            nonce = nonce.wrapping_add(2);
        }
        if count % 2 == 1 && meets(&compress_from(&self.midstate, &even)) {
            return Some(nonce);
        }
        None
    }
}

/// Puts `nonce` (big-endian, as in the header encoding) into a tail block.
#[inline(always)]
fn write_nonce(tail: &mut GenericArray<u8, U64>, nonce: u64) {
    tail[TAIL_NONCE_OFFSET..TAIL_NONCE_OFFSET + 8].copy_from_slice(&nonce.to_be_bytes());
}

/// The SHA-256 state after compressing `tail` onto the midstate: the hash, as words.
#[inline(always)]
fn compress_from(midstate: &[u32; 8], tail: &GenericArray<u8, U64>) -> [u32; 8] {
    let mut state = *midstate;
    compress256(&mut state, core::slice::from_ref(tail));
    state
}

/// SHA-256 output is the final state's words, big-endian.
#[inline]
fn state_to_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::block::BLOCK_VERSION;
    use crate::consensus::hash::{sha256, BlockHash, MerkleRoot};
    use crate::consensus::target::CompactTarget;

    fn header(seed: u64) -> BlockHeader {
        let bytes = |tag: &str| sha256(format!("{tag} {seed}").as_bytes());
        let word = |tag: &str| {
            let b = bytes(tag);
            u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        };
        BlockHeader {
            version: BLOCK_VERSION,
            height: word("height"),
            prev: BlockHash::from_bytes(bytes("prev")),
            merkle_root: MerkleRoot::from_bytes(bytes("merkle")),
            timestamp_ms: word("time"),
            target: CompactTarget::from_consensus(word("bits") as u32),
            nonce: word("nonce"),
        }
    }

    fn with_nonce(header: &BlockHeader, nonce: u64) -> BlockHeader {
        BlockHeader { nonce, ..*header }
    }

    /// The obvious loop the fast one must agree with.
    fn naive_search(header: &BlockHeader, target: &Target, start: u64, count: u64) -> Option<u64> {
        (0..count)
            .map(|i| start.wrapping_add(i))
            .find(|&nonce| target.is_met_by(with_nonce(header, nonce).hash().as_bytes()))
    }

    #[test]
    fn padding_block_is_sha256_padding() {
        let h = header(1);
        let hasher = MidstateHasher::new(&h);
        assert_eq!(&hasher.tail[..TAIL_LEN], &h.encode()[64..]);
        assert_eq!(hasher.tail[TAIL_LEN], 0x80);
        assert!(hasher.tail[TAIL_LEN + 1..56].iter().all(|&b| b == 0));
        assert_eq!(&hasher.tail[56..], &768u64.to_be_bytes());
    }

    #[test]
    fn hash_with_nonce_equals_header_hash() {
        for seed in 0..64 {
            let h = header(seed);
            let hasher = MidstateHasher::new(&h);
            let nonces = [0, 1, 255, 256, 0xdead_beef, u64::MAX - 1, u64::MAX, h.nonce];
            let more = (0..64u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed);
            for nonce in nonces.into_iter().chain(more) {
                assert_eq!(
                    hasher.hash_with_nonce(nonce),
                    *with_nonce(&h, nonce).hash().as_bytes(),
                    "seed {seed}, nonce {nonce:#x}"
                );
            }
        }
    }

    #[test]
    fn hasher_ignores_the_headers_own_nonce() {
        let h = header(3);
        let other = with_nonce(&h, h.nonce ^ 0xffff);
        assert_eq!(
            MidstateHasher::new(&h).hash_with_nonce(42),
            MidstateHasher::new(&other).hash_with_nonce(42)
        );
    }

    #[test]
    fn search_agrees_with_naive_loop() {
        for seed in 0..8 {
            let h = header(seed);
            let hasher = MidstateHasher::new(&h);
            for bits in [0, 1, 4, 8, 10] {
                let target = Target::from_leading_zero_bits(bits).unwrap();
                let start = seed * 1_000;
                assert_eq!(
                    hasher.search(&target, start, 5_000),
                    naive_search(&h, &target, start, 5_000),
                    "seed {seed}, bits {bits}"
                );
            }
        }
    }

    #[test]
    fn search_agrees_with_naive_loop_for_every_small_count_and_parity() {
        // search works on nonces in pairs; odd counts and hits in either half of a pair
        // must come out exactly as one-by-one.
        let h = header(9);
        let hasher = MidstateHasher::new(&h);
        let target = Target::from_leading_zero_bits(3).unwrap();
        for start in [0, 1, 2, 3, u64::MAX - 3, u64::MAX] {
            for count in 0..40 {
                assert_eq!(
                    hasher.search(&target, start, count),
                    naive_search(&h, &target, start, count),
                    "start {start}, count {count}"
                );
            }
        }
    }

    #[test]
    fn search_handles_ties_on_the_first_word() {
        // A target whose first word equals the hash's first word exercises the slow path
        // on both sides of the tie.
        let h = header(11);
        let hasher = MidstateHasher::new(&h);
        let hash = hasher.hash_with_nonce(7);
        let exact = Target::from_be_bytes(hash);
        assert_eq!(hasher.search(&exact, 7, 1), Some(7));
        let mut below = hash;
        let Some(last) = below.iter().rposition(|&b| b != 0) else {
            panic!("an all-zero hash")
        };
        below[last] -= 1;
        if below[..4] == hash[..4] {
            assert_eq!(hasher.search(&Target::from_be_bytes(below), 7, 1), None);
        }
    }

    #[test]
    fn search_respects_count() {
        let h = header(5);
        let hasher = MidstateHasher::new(&h);
        let target = Target::from_leading_zero_bits(8).unwrap();
        let Some(found) = hasher.search(&target, 0, 100_000) else {
            panic!("no 8-bit solution in 100k nonces")
        };
        assert_eq!(hasher.search(&target, 0, found), None);
        assert_eq!(hasher.search(&target, 0, found + 1), Some(found));
        assert_eq!(hasher.search(&target, found, 0), None);
        assert_eq!(hasher.search(&Target::MAX, 9, 0), None);
        assert_eq!(hasher.search(&Target::MAX, 9, 1), Some(9));
    }

    #[test]
    fn search_wraps_past_u64_max() {
        let h = header(6);
        let hasher = MidstateHasher::new(&h);
        let target = Target::from_leading_zero_bits(6).unwrap();
        let start = u64::MAX - 20;
        assert_eq!(
            hasher.search(&target, start, 10_000),
            naive_search(&h, &target, start, 10_000)
        );

        // A target met by nonce 0 but not by u64::MAX: searching two nonces from
        // u64::MAX must wrap to find 0.
        let (hasher, zero_hash) = (0..)
            .map(|seed| MidstateHasher::new(&header(seed)))
            .map(|hasher| {
                let zero_hash = hasher.hash_with_nonce(0);
                (hasher, zero_hash)
            })
            .find(|(hasher, zero_hash)| hasher.hash_with_nonce(u64::MAX) > *zero_hash)
            .unwrap();
        let target = Target::from_be_bytes(zero_hash);
        assert_eq!(hasher.search(&target, u64::MAX, 1), None);
        assert_eq!(hasher.search(&target, u64::MAX, 2), Some(0));
        assert_eq!(hasher.search(&Target::MAX, u64::MAX, 2), Some(u64::MAX));
    }
}
