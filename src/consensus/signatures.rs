//! The signature rule of the chain, and verifying many signatures at once.
//!
//! # The rule: Ed25519 under ZIP 215
//!
//! A transaction's signature `(R, s)` by sender key `A` on payload `M` is valid exactly
//! when (ZIP 215, implemented by the `ed25519-consensus` crate):
//! - `A` and `R` are encodings of points on the curve (non-canonical encodings of a
//!   coordinate are accepted, not refused);
//! - `s` is canonical: `s < ℓ`;
//! - the *cofactored* equation `[8](s·B − k·A − R) = 0` holds, with
//!   `k = SHA-512(R ‖ A ‖ M)` over the bytes as sent.
//!
//! plus one rule of this chain on top: the sender key is not one of the eight small-order
//! points (in any of their 14 encodings, [`SMALL_ORDER_KEYS`]). For such a key the
//! equation holds for `(r·B, r)` whatever the message, so anyone could spend from it;
//! refusing those keys keeps an address like all zeros a burn address. It is a fixed
//! property of the key bytes, so it cannot depend on how signatures are grouped.
//!
//! # Why this rule: single and batch verification agree
//!
//! Batch verification checks one random combination `[8]Σ zᵢ·(sᵢ·B − kᵢ·Aᵢ − Rᵢ) = 0`
//! with secret 128-bit `zᵢ`. Each term is multiplied by the cofactor 8, just as in single
//! verification, so a torsion component in any `Aᵢ` or `Rᵢ` is cancelled in both or in
//! neither. A batch therefore accepts exactly when every signature in it would be accepted
//! on its own (up to a 2^-128 chance for a forged batch, with `zᵢ` the attacker cannot
//! know). Under the previous rule, ed25519-dalek's `verify_strict` (cofactorless), a signer
//! could add an order-2 point to `R` and get a signature that batch verification accepted
//! about every other try and single verification always refused: a node verifying a block
//! in one batch and one checking the transactions one by one (as the mempool does) would
//! disagree about the block, and the network would split. Under ZIP 215 no signature can
//! do that, whoever made it and however a node groups its checks.
//!
//! Nor can anyone but the signer re-encode a signature into another valid one (which would
//! change the transaction id): `s` must be canonical, and changing the bytes of `R`
//! changes `k`, which only the key's owner can answer.
//!
//! # How many at once
//!
//! Batch verification costs about half as much per signature as verifying one by one, but
//! it only says "all valid" or "not all valid". So: a block body is split into one batch
//! per core ([`verify_all`]); a batch that fails is verified again one signature at a time,
//! in order, to name the first bad transaction with the error single verification gives.
//! A sync batch of many blocks is verified the same way over all its signatures
//! ([`verify_bodies`]), and transaction admission verifies the transactions arriving
//! together in one batch ([`verify_each`]).

use super::error::TxError;
use super::hash::BlockHash;
use super::transaction::Transaction;
use ed25519_consensus::{batch, Signature, VerificationKey, VerificationKeyBytes};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Signatures this process has checked, in batches or alone. The cost an attacker can
/// make the node pay is stated in signatures checked (e.g. none for a block we already
/// hold), so this is what a test of that bound reads.
static SIGNATURES_CHECKED: AtomicU64 = AtomicU64::new(0);

/// How many signatures this process has checked so far (see `SIGNATURES_CHECKED`).
pub fn signatures_checked() -> u64 {
    SIGNATURES_CHECKED.load(Ordering::Relaxed)
}

fn count_checked(signatures: usize) {
    SIGNATURES_CHECKED.fetch_add(signatures as u64, Ordering::Relaxed);
}

/// The secret half of an account's key: a 32-byte Ed25519 seed (RFC 8032), the format of
/// wallet key files.
pub use ed25519_consensus::SigningKey;

/// Below this many signatures per thread a body is verified on the calling thread: a batch
/// costs ~15 µs a signature and a thread tens of microseconds to start, so a thread only
/// pays for itself with a few dozen signatures to do.
pub const PARALLEL_MIN_TXS: usize = 32;

/// Upper bound on threads per call, so a many-core host does not spawn a thread for every
/// handful of transactions.
const MAX_THREADS: usize = 16;

/// The encodings of the eight points of small order (the 8-torsion): canonical ones, and
/// the non-canonical ones that decode to them (coordinate `y + p` for `y` = 0 and 1, and
/// a set sign bit where `x` = 0). A sender key with these bytes is refused. The tests
/// derive the full list from the curve and check it against this one.
pub const SMALL_ORDER_KEYS: [[u8; 32]; 14] = {
    const fn encoding(low: u8, fill: u8, high: u8) -> [u8; 32] {
        let mut bytes = [fill; 32];
        bytes[0] = low;
        bytes[31] = high;
        bytes
    }
    [
        // The identity (0, 1), and (0, 1) with y written as 1 + p; each with both signs.
        encoding(0x01, 0x00, 0x00),
        encoding(0x01, 0x00, 0x80),
        encoding(0xee, 0xff, 0x7f),
        encoding(0xee, 0xff, 0xff),
        // Order 2: (0, −1), both signs.
        encoding(0xec, 0xff, 0x7f),
        encoding(0xec, 0xff, 0xff),
        // Order 4: (±√−1, 0), y written as 0 and as p.
        encoding(0x00, 0x00, 0x00),
        encoding(0x00, 0x00, 0x80),
        encoding(0xed, 0xff, 0x7f),
        encoding(0xed, 0xff, 0xff),
        // Order 8: four points whose y is too large to also be written as y + p.
        *b"\x26\xe8\x95\x8f\xc2\xb2\x27\xb0\x45\xc3\xf4\x89\xf2\xef\x98\xf0\xd5\xdf\xac\x05\xd3\xc6\x33\x39\xb1\x38\x02\x88\x6d\x53\xfc\x05",
        *b"\x26\xe8\x95\x8f\xc2\xb2\x27\xb0\x45\xc3\xf4\x89\xf2\xef\x98\xf0\xd5\xdf\xac\x05\xd3\xc6\x33\x39\xb1\x38\x02\x88\x6d\x53\xfc\x85",
        *b"\xc7\x17\x6a\x70\x3d\x4d\xd8\x4f\xba\x3c\x0b\x76\x0d\x10\x67\x0f\x2a\x20\x53\xfa\x2c\x39\xcc\xc6\x4e\xc7\xfd\x77\x92\xac\x03\x7a",
        *b"\xc7\x17\x6a\x70\x3d\x4d\xd8\x4f\xba\x3c\x0b\x76\x0d\x10\x67\x0f\x2a\x20\x53\xfa\x2c\x39\xcc\xc6\x4e\xc7\xfd\x77\x92\xac\x03\xfa",
    ]
};

/// A signer's key bytes, unless they are one of the [`SMALL_ORDER_KEYS`]. The error names
/// the sender of a key-signed transaction, or the cosigner of a policy spend.
fn signer_key(
    tx: &Transaction,
    signer: &super::address::Address,
) -> Result<VerificationKeyBytes, TxError> {
    let bytes = *signer.as_bytes();
    if SMALL_ORDER_KEYS.contains(&bytes) {
        return Err(invalid_key(tx, signer));
    }
    Ok(VerificationKeyBytes::from(bytes))
}

fn invalid_key(tx: &Transaction, signer: &super::address::Address) -> TxError {
    match tx.policy_spend() {
        None => TxError::InvalidSenderKey,
        Some(_) => TxError::InvalidSignerKey { signer: *signer },
    }
}

/// Verifies one transaction's signatures for the network `genesis` under the chain's rule:
/// the sender's, or every cosignature of a policy spend, all over the same payload.
/// Whether a policy spend has enough signers, all members, is a field rule
/// ([`check_transaction_fields`](super::validation::check_transaction_fields)).
pub fn verify_signature(tx: &Transaction, genesis: &BlockHash) -> Result<(), TxError> {
    let payload = tx.signing_payload(genesis);
    for (signer, signature) in tx.signatures() {
        let key = VerificationKey::try_from(signer_key(tx, &signer)?)
            .map_err(|_| invalid_key(tx, &signer))?;
        count_checked(1);
        key.verify(&Signature::from(*signature.as_bytes()), &payload)
            .map_err(|_| TxError::BadSignature)?;
    }
    Ok(())
}

/// Whether every signature of `txs` (each cosignature of a policy spend included) is
/// valid, checked as one batch. Agrees with [`verify_signature`] on each of them (see the
/// module documentation). A lone transaction is verified on its own: a batch of one
/// signature costs more than single verification, which multiplies the base point with a
/// precomputed table, and transaction admission often has one at a time to verify.
pub fn batch_holds<'a>(
    txs: impl IntoIterator<Item = &'a Transaction>,
    genesis: &BlockHash,
) -> bool {
    let mut txs = txs.into_iter().peekable();
    let Some(first) = txs.next() else {
        return true;
    };
    if txs.peek().is_none() {
        return verify_signature(first, genesis).is_ok();
    }
    let mut verifier = batch::Verifier::new();
    let mut queued = 0;
    for tx in std::iter::once(first).chain(txs) {
        let payload = tx.signing_payload(genesis);
        for (signer, signature) in tx.signatures() {
            let Ok(key) = signer_key(tx, &signer) else {
                return false;
            };
            queued += 1;
            verifier.queue((
                key,
                Signature::from(*signature.as_bytes()),
                payload.as_slice(),
            ));
        }
    }
    count_checked(queued);
    verifier.verify(rand::thread_rng()).is_ok()
}

/// Verifies each transaction: one batch, and only when it fails, each on its own. The
/// answer for each is what [`verify_signature`] gives for it.
pub fn verify_each(txs: &[Transaction], genesis: &BlockHash) -> Vec<Result<(), TxError>> {
    // One transaction: its single verification is the answer, however it comes out.
    if txs.len() > 1 && batch_holds(txs, genesis) {
        return vec![Ok(()); txs.len()];
    }
    txs.iter().map(|tx| verify_signature(tx, genesis)).collect()
}

/// Verifies every transaction's signature for the network `genesis`, one batch per core.
///
/// `Err((index, error))` names the first transaction, in block order, whose signature
/// fails, with the error [`verify_signature`] gives for it.
pub fn verify_all(txs: &[Transaction], genesis: &BlockHash) -> Result<(), (usize, TxError)> {
    verify_all_with_threads(txs, genesis, threads_for(txs.len()))
}

/// The cores verification may use, read once: `available_parallelism` reads cgroup files
/// under /proc on every call, which took a fifth of an empty-block sync's time when it
/// was asked once per block.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    })
}

/// Threads worth using for `signatures` signatures: one per core, each with at least
/// [`PARALLEL_MIN_TXS`].
fn threads_for(signatures: usize) -> usize {
    cores().min(signatures / PARALLEL_MIN_TXS).max(1)
}

/// Runs `verify` on `items` split into `threads` contiguous parts (the calling thread
/// takes the first), and returns each part's answer in order with the index of its first
/// item.
fn on_threads<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    verify: impl Fn(&[T], usize) -> R + Sync,
) -> Vec<R> {
    // At least one per part: `chunks(0)` panics, and an empty list has nothing to split.
    let chunk = items.len().div_ceil(threads.max(1)).max(1);
    if threads <= 1 || items.len() <= chunk {
        return vec![verify(items, 0)];
    }
    std::thread::scope(|scope| {
        let verify = &verify;
        let mut parts = items.chunks(chunk).enumerate();
        let own = parts.next();
        let handles: Vec<_> = parts
            .map(|(n, part)| scope.spawn(move || verify(part, n * chunk)))
            .collect();
        let mut answers: Vec<R> = own.map(|(_, part)| verify(part, 0)).into_iter().collect();
        for handle in handles {
            // Verification does not panic on any input; if it ever did, re-raising the
            // panic here is better than calling the signatures valid or inventing an error.
            answers.push(
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        answers
    })
}

/// [`verify_all`] on exactly `threads` threads (the caller's counts as one; 0 means 1).
pub fn verify_all_with_threads(
    txs: &[Transaction],
    genesis: &BlockHash,
    threads: usize,
) -> Result<(), (usize, TxError)> {
    let first_failure = AtomicUsize::new(usize::MAX);
    on_threads(txs, threads, |part, offset| {
        if batch_holds(part, genesis) {
            return None;
        }
        first_failure_in(part, offset, genesis, &first_failure)
    })
    .into_iter()
    .flatten()
    .min_by_key(|(index, _)| *index)
    .map_or(Ok(()), Err)
}

/// Proof that every signature of one block body was verified by [`verify_bodies`], so
/// that [`check_body`](super::validation::check_body) does not verify them again. Only
/// this module makes one; the caller pairs it with the body it came from.
#[derive(Debug)]
pub struct BodyVerified(());

/// Verifies the signatures of several block bodies at once (a sync batch): all their
/// signatures in one batch per core, even when each body alone is too small to be worth a
/// thread. For each body: `Some` when every signature in it holds. Where a core's batch
/// fails, each body in it is batched on its own to find which; a body with a failing
/// signature gets `None` and is verified again by `check_body`, which names its first
/// failure as it always does; so the outcome of each block is the same as without this
/// step.
pub fn verify_bodies(bodies: &[&[Transaction]], genesis: &BlockHash) -> Vec<Option<BodyVerified>> {
    // (body, transaction) pairs in order, so a part can tell where each body starts.
    let all: Vec<(usize, &Transaction)> = bodies
        .iter()
        .enumerate()
        .flat_map(|(body, txs)| txs.iter().map(move |tx| (body, tx)))
        .collect();
    let mut holds = vec![true; bodies.len()];
    let failed_bodies = on_threads(&all, threads_for(all.len()), |part, _| {
        if batch_holds(part.iter().map(|(_, tx)| *tx), genesis) {
            return Vec::new();
        }
        part.chunk_by(|(a, _), (b, _)| a == b)
            .filter(|run| !batch_holds(run.iter().map(|(_, tx)| *tx), genesis))
            .filter_map(|run| run.first().map(|(body, _)| *body))
            .collect()
    });
    for body in failed_bodies.into_iter().flatten() {
        holds[body] = false;
    }
    holds
        .into_iter()
        .map(|ok| ok.then_some(BodyVerified(())))
        .collect()
}

/// Verifies `txs` (whose first element is at block index `offset`) one by one, in order,
/// and returns the first failure. Gives up early once another part has failed at a lower
/// index, since nothing found here could then be the first failure.
fn first_failure_in(
    txs: &[Transaction],
    offset: usize,
    genesis: &BlockHash,
    first_failure: &AtomicUsize,
) -> Option<(usize, TxError)> {
    for (index, tx) in (offset..).zip(txs) {
        if first_failure.load(Ordering::Relaxed) < index {
            return None;
        }
        if let Err(error) = verify_signature(tx, genesis) {
            first_failure.fetch_min(index, Ordering::Relaxed);
            return Some((index, error));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::address::Address;
    use crate::consensus::amount::Amount;
    use crate::consensus::hash::sha256;
    use crate::consensus::transaction::Signature as TxSignature;
    use crate::testkit;
    use curve25519_dalek_ng::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek_ng::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek_ng::scalar::Scalar;
    use sha2::{Digest, Sha512};
    use std::collections::BTreeSet;

    fn genesis() -> BlockHash {
        BlockHash::from_bytes([7; 32])
    }

    fn signed(count: u64, genesis: &BlockHash) -> Vec<Transaction> {
        (0..count)
            .map(|n| testkit::transfer(&testkit::key(n), testkit::address(n + 1), 5, 1, 0, genesis))
            .collect()
    }

    /// Verifies with every thread count, in one batch, and one by one, and checks they all
    /// agree, returning the result.
    fn verify_everywhere(txs: &[Transaction], genesis: &BlockHash) -> Result<(), (usize, TxError)> {
        let result = verify_all(txs, genesis);
        for threads in [0, 1, 2, 3, 7] {
            assert_eq!(
                verify_all_with_threads(txs, genesis, threads),
                result,
                "{threads} threads"
            );
        }
        let one_by_one = txs
            .iter()
            .enumerate()
            .find_map(|(index, tx)| verify_signature(tx, genesis).err().map(|e| (index, e)));
        assert_eq!(one_by_one, result.clone().err(), "one by one");
        assert_eq!(batch_holds(txs, genesis), result.is_ok(), "one batch");
        let each = verify_each(txs, genesis);
        assert_eq!(
            each.iter()
                .enumerate()
                .find_map(|(index, answer)| answer.clone().err().map(|e| (index, e))),
            result.clone().err(),
            "verify_each"
        );
        result
    }

    fn scalar(tag: &str, n: u64) -> Scalar {
        Scalar::from_bytes_mod_order(sha256(format!("{tag} {n}").as_bytes()))
    }

    fn base(scalar: &Scalar) -> EdwardsPoint {
        scalar * ED25519_BASEPOINT_POINT
    }

    /// A transfer from the key with bytes `sender`, not yet signed.
    fn unsigned(sender: [u8; 32], amount: u64) -> Transaction {
        Transaction {
            sender: Address::from_bytes(sender),
            receiver: testkit::address(99),
            amount: Amount::new(amount),
            fee: Amount::new(1),
            nonce: 0,
            message: String::new(),
            signature: TxSignature::from_bytes([0; 64]),
            extension: None,
        }
    }

    /// Signs `tx` by hand: `R` is `r_bytes` (any encoding of `r·B` plus torsion, say) and
    /// `s = r + k·a`, where `a` is the discrete log of the prime-order part of the sender
    /// key. `None` for a log nobody knows: `s = 0`, which no valid equation would give.
    fn sign_raw(
        mut tx: Transaction,
        genesis: &BlockHash,
        logs: Option<(Scalar, Scalar)>,
        r_bytes: [u8; 32],
    ) -> Transaction {
        let digest: [u8; 64] = Sha512::new()
            .chain_update(r_bytes)
            .chain_update(tx.sender.as_bytes())
            .chain_update(tx.signing_payload(genesis))
            .finalize()
            .into();
        let k = Scalar::from_bytes_mod_order_wide(&digest);
        let s = logs.map_or(Scalar::zero(), |(a, r)| r + k * a);
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&r_bytes);
        bytes[32..].copy_from_slice(s.as_bytes());
        tx.signature = TxSignature::from_bytes(bytes);
        tx
    }

    /// Every 32-byte string that is an encoding of a point other than its canonical one,
    /// plus the other encodings of the torsion points, from their definition (RFC 8032
    /// §5.1.3, ZIP 215): an encoding is `y` (255 bits, little-endian) and the sign of
    /// `x`. `y` is read modulo p = 2^255 − 19, so `y + p` also encodes `y` when it fits in
    /// 255 bits (`y` < 19); and where `x` = 0 (y = ±1) either sign bit gives the point.
    fn unusual_encodings() -> Vec<[u8; 32]> {
        // p + y, little-endian: p = 2^255 − 19 is 0xed, 0xff × 30, 0x7f.
        let mut encodings: Vec<[u8; 32]> = (0..19u8)
            .flat_map(|y| {
                let mut bytes = [0xff; 32];
                bytes[0] = 0xed + y;
                bytes[31] = 0x7f;
                let mut negative = bytes;
                negative[31] |= 0x80;
                [bytes, negative]
            })
            .collect();
        for torsion in EIGHT_TORSION.iter() {
            let mut flipped = torsion.compress().to_bytes();
            flipped[31] ^= 0x80;
            encodings.push(flipped);
        }
        encodings.retain(|bytes| CompressedEdwardsY(*bytes).decompress().is_some());
        // Flipping the sign of a torsion point with x ≠ 0 gives another one's canonical
        // encoding: keep each string once.
        let canonical: Vec<[u8; 32]> = EIGHT_TORSION
            .iter()
            .map(|p| p.compress().to_bytes())
            .collect();
        let mut seen = BTreeSet::new();
        encodings.retain(|bytes| !canonical.contains(bytes) && seen.insert(*bytes));
        encodings
    }

    fn small_order(bytes: &[u8; 32]) -> bool {
        CompressedEdwardsY(*bytes)
            .decompress()
            .is_some_and(|point| point.is_small_order())
    }

    /// The small-order points are the eight torsion points; their encodings are their
    /// canonical ones and those of [`unusual_encodings`] that decode to them. The table
    /// the rule uses is exactly that set.
    #[test]
    fn small_order_keys_are_every_encoding_of_the_torsion_points() {
        let canonical = EIGHT_TORSION
            .iter()
            .map(|point| point.compress().to_bytes());
        let derived: BTreeSet<[u8; 32]> = canonical
            .chain(unusual_encodings())
            .filter(small_order)
            .collect();
        let table: BTreeSet<[u8; 32]> = SMALL_ORDER_KEYS.into_iter().collect();
        assert_eq!(table.len(), SMALL_ORDER_KEYS.len(), "no duplicates");
        assert_eq!(derived, table);
    }

    /// The ZIP 215 test vectors, made from their definition rather than pasted: every
    /// pair (A, R) from the small-order points in all their encodings, the non-canonical
    /// encodings of other points, and ordinary and mixed-order keys and nonces (a
    /// prime-order point plus each torsion point). Where the discrete logs are known the
    /// pair is signed (`s = r + k·a`), so ZIP 215's cofactored equation holds; otherwise
    /// `s = 0`, which fails it. For every vector, single and batch verification (of the
    /// crate, and of this module's functions) give the same answer, and that answer is
    /// ZIP 215's. The old rule's problem case is among them: torsion added to `R` of an
    /// ordinary key, which dalek's `verify_strict` refused and its `verify_batch` often
    /// accepted; both now accept it.
    #[test]
    fn zip215_vectors_single_and_batch_agree() {
        let genesis = genesis();
        // (encoding, discrete log of its prime-order part if known)
        let mut points: Vec<([u8; 32], Option<Scalar>)> = EIGHT_TORSION
            .iter()
            .map(|point| point.compress().to_bytes())
            .chain(unusual_encodings())
            .map(|bytes| (bytes, small_order(&bytes).then(Scalar::zero)))
            .collect();
        for (n, torsion) in EIGHT_TORSION.iter().enumerate() {
            let log = scalar("log", n as u64);
            points.push(((base(&log) + torsion).compress().to_bytes(), Some(log)));
        }
        let mut vectors = Vec::new();
        let mut zip215_valid = 0;
        for (n, (key, a)) in points.iter().enumerate() {
            for (m, (r_bytes, r)) in points.iter().enumerate() {
                let logs = a.zip(*r);
                let tx = sign_raw(
                    unsigned(*key, (n * 100 + m) as u64),
                    &genesis,
                    logs,
                    *r_bytes,
                );
                // The crate's own single and batch verification.
                let payload = tx.signing_payload(&genesis);
                let signature = Signature::from(*tx.signature.as_bytes());
                let single = VerificationKey::try_from(*key)
                    .and_then(|vk| vk.verify(&signature, &payload))
                    .is_ok();
                let mut verifier = batch::Verifier::new();
                verifier.queue((
                    VerificationKeyBytes::from(*key),
                    signature,
                    payload.as_slice(),
                ));
                let batch = verifier.verify(rand::thread_rng()).is_ok();
                assert_eq!(single, batch, "crate: key {n}, R {m}");
                assert_eq!(single, logs.is_some(), "ZIP 215: key {n}, R {m}");
                zip215_valid += usize::from(single);
                // This chain's rule: the same, but small-order keys are refused.
                let ours = verify_signature(&tx, &genesis);
                assert_eq!(ours.is_ok(), batch_holds([&tx], &genesis), "key {n}, R {m}");
                let expected = if SMALL_ORDER_KEYS.contains(key) {
                    Err(TxError::InvalidSenderKey)
                } else if logs.is_some() {
                    Ok(())
                } else {
                    Err(TxError::BadSignature)
                };
                assert_eq!(ours, expected, "key {n}, R {m}");
                vectors.push(tx);
            }
        }
        // Both outcomes are well represented, and the ones that matter are there.
        assert!(zip215_valid > 300 && vectors.len() - zip215_valid > 300);
        // All at once: the valid ones pass as one batch on any number of threads, and
        // in the full list the first invalid vector is named.
        let valid: Vec<Transaction> = vectors
            .iter()
            .filter(|tx| verify_signature(tx, &genesis).is_ok())
            .cloned()
            .collect();
        assert_eq!(verify_everywhere(&valid, &genesis), Ok(()));
        let first_invalid = vectors
            .iter()
            .position(|tx| verify_signature(tx, &genesis).is_err());
        assert_eq!(
            verify_everywhere(&vectors, &genesis)
                .err()
                .map(|(index, _)| index),
            first_invalid
        );
    }

    /// Each body gets its own answer, whatever the bodies' sizes and however the
    /// signatures were split over threads; a body after a bad one is judged on its own.
    #[test]
    fn verify_bodies_answers_per_body() {
        let genesis = genesis();
        let mut txs = signed(100, &genesis);
        txs[45].amount = Amount::new(txs[45].amount.get() + 1);
        let bodies: Vec<&[Transaction]> =
            vec![&txs[..40], &[], &txs[40..50], &txs[50..51], &txs[51..]];
        let answers: Vec<bool> = verify_bodies(&bodies, &genesis)
            .iter()
            .map(Option::is_some)
            .collect();
        assert_eq!(answers, [true, true, false, true, true]);
        assert!(verify_bodies(&[], &genesis).is_empty());
    }

    /// `check_body` checks fields before signatures but must still name the first invalid
    /// transaction in block order, with the error the one-by-one loop gave.
    #[test]
    fn check_body_reports_the_first_invalid_transaction() {
        use crate::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
        use crate::consensus::error::BlockError;
        use crate::consensus::target::CompactTarget;
        use crate::consensus::transaction::Reward;
        use crate::consensus::validation::check_body;

        let genesis = genesis();
        let params = testkit::params(&[]);
        let body = |txs: Vec<Transaction>| {
            // The reward pays exactly the block reward plus the fees, as it must.
            let fees = Amount::checked_sum(txs.iter().map(|tx| tx.fee)).unwrap();
            let reward = params.block_reward.checked_add(fees).unwrap();
            let mut block = Block {
                header: BlockHeader {
                    version: BLOCK_VERSION,
                    height: 1,
                    prev: genesis,
                    merkle_root: Default::default(),
                    timestamp_ms: 1,
                    target: CompactTarget::from_consensus(0x2100_ffff),
                    nonce: 0,
                },
                reward: Reward {
                    miner: testkit::address(0),
                    amount: reward,
                    height: 1,
                },
                txs,
            };
            block.header.merkle_root = block.compute_merkle_root();
            let result = check_body(&block, &params, &genesis, None);
            result.map(|_| ()).map_err(|error| match error {
                BlockError::InvalidTransaction { index, txid, error } => {
                    assert_eq!(txid, block.txs[index].id());
                    (index, error)
                }
                other => panic!("unexpected {other:?}"),
            })
        };
        let mut txs = signed(80, &genesis);
        assert_eq!(body(txs.clone()), Ok(()));
        txs[50].amount = Amount::new(txs[50].amount.get() + 1);
        txs[60].fee = Amount::ZERO;
        assert_eq!(body(txs.clone()), Err((50, TxError::BadSignature)));
        // A field failure before the first bad signature wins; at one index, fields first.
        txs[20].fee = Amount::ZERO;
        let too_low = TxError::FeeTooLow {
            fee: Amount::ZERO,
            min: Amount::new(1),
        };
        assert_eq!(body(txs.clone()), Err((20, too_low)));
    }

    #[test]
    fn valid_bodies_pass() {
        let genesis = genesis();
        assert_eq!(verify_everywhere(&[], &genesis), Ok(()));
        for count in [1, 5, 64, 100] {
            assert_eq!(
                verify_everywhere(&signed(count, &genesis), &genesis),
                Ok(())
            );
        }
    }

    /// A batch with one bad signature among many is refused, and the fallback names that
    /// transaction; a later failure in another thread's batch does not hide it.
    #[test]
    fn one_bad_signature_among_many_is_named() {
        let genesis = genesis();
        let mut txs = signed(200, &genesis);
        txs[137].amount = Amount::new(txs[137].amount.get() + 1);
        assert!(!batch_holds(&txs, &genesis));
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((137, TxError::BadSignature))
        );
        let each = verify_each(&txs, &genesis);
        let refused: Vec<usize> = (0..each.len()).filter(|&i| each[i].is_err()).collect();
        assert_eq!(refused, [137]);
        txs[190].amount = Amount::new(txs[190].amount.get() + 1);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((137, TxError::BadSignature))
        );
        // About half of all y have no x on the curve: such bytes are no key at all.
        let not_a_point = (0..=u8::MAX)
            .map(|byte| [byte; 32])
            .find(|bytes| VerificationKey::try_from(*bytes).is_err())
            .unwrap();
        txs[3].sender = Address::from_bytes(not_a_point);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((3, TxError::InvalidSenderKey))
        );
    }

    #[test]
    fn signature_for_another_network_fails() {
        let txs = signed(40, &genesis());
        let other = BlockHash::from_bytes([8; 32]);
        assert_eq!(
            verify_everywhere(&txs, &other),
            Err((0, TxError::BadSignature))
        );
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        let genesis = genesis();
        let mut txs = signed(3, &genesis);
        // s + ℓ still fits in 32 bytes and is the same scalar mod ℓ: the classic malleation.
        let ell: [u8; 32] = (Scalar::zero() - Scalar::one()).to_bytes();
        let mut bytes = *txs[1].signature.as_bytes();
        let mut carry = 1u16; // ℓ = (ℓ − 1) + 1
        for (byte, add) in bytes[32..].iter_mut().zip(ell) {
            let sum = u16::from(*byte) + u16::from(add) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        txs[1].signature = TxSignature::from_bytes(bytes);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((1, TxError::BadSignature))
        );
    }

    /// Under bare ZIP 215 the identity as a key "signs" every message with `(r·B, r)`;
    /// this chain refuses small-order sender keys, so such a transfer fails, alone and in
    /// a batch alike.
    #[test]
    fn small_order_sender_key_is_refused() {
        let genesis = genesis();
        let identity = EIGHT_TORSION[0].compress().to_bytes();
        let r = scalar("nonce", 1);
        let tx = sign_raw(
            unsigned(identity, 1),
            &genesis,
            Some((Scalar::zero(), r)),
            base(&r).compress().to_bytes(),
        );
        let payload = tx.signing_payload(&genesis);
        let signature = Signature::from(*tx.signature.as_bytes());
        let vk = VerificationKey::try_from(identity).unwrap();
        assert!(
            vk.verify(&signature, &payload).is_ok(),
            "bare ZIP 215 accepts it"
        );
        let mut txs = signed(50, &genesis);
        txs.insert(20, tx);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((20, TxError::InvalidSenderKey))
        );
    }
}
