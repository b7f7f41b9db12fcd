//! Verifying every signature of a block body at once, exactly as strictly as one
//! transaction is verified on its own ([`verify_signature`], i.e. ed25519-dalek's
//! `verify_strict`), and as fast as that allows. Initial sync spends most of its time here.
//!
//! # Why this does not use `ed25519_dalek::verify_batch`
//!
//! SPEC §3 asks for strict verification, and consensus needs a block to be valid or
//! invalid no matter how a node groups its checks. `verify_strict` accepts `(R, s)` for key
//! `A` and message `M` exactly when `s < ℓ` (canonical), `A` and `R` decode and are not of
//! small order, and the bytes of `compress(s·B − k·A)` equal `R`, with
//! `k = SHA-512(R ‖ A ‖ M)`. That last test is the *cofactorless* equation `s·B − k·A = R`
//! on the full curve group, whose order is `8ℓ`, plus canonical encoding of `R`.
//!
//! `verify_batch` checks one random combination `Σ zᵢ·(sᵢ·B − kᵢ·Aᵢ − Rᵢ) = 0` with 128-bit
//! `zᵢ`, and it does not reject small-order keys, small-order or non-canonically encoded
//! `R`. Pre-checking those (`is_weak`, `R.is_small_order()`, re-encoding `R`) still leaves
//! one gap that no cheap pre-check closes: *mixed-order* points, a prime-order point plus a
//! nonzero 8-torsion point `T`, which are not of small order. If a signer puts `T` into
//! `R` (or `A`), each difference `sᵢ·B − kᵢ·Aᵢ − Rᵢ` can be a nonzero torsion point, which
//! `verify_strict` rejects but the batch equation kills whenever `zᵢ` is a multiple of the
//! torsion order: probability 1/2 for a point of order 2. ed25519-dalek derives the `zᵢ`
//! from the batch's own contents, so the signer can re-sign (change the amount, say) until
//! the batch accepts; the test `verify_batch_accepts_what_verify_strict_rejects` does so
//! in a few tries with an ordinary key. Such a block would be valid to a node that verifies
//! it in one batch and invalid to one that splits it differently or checks the transactions
//! one by one (the mempool does) — a consensus split.
//!
//! Closing the gap means proving every `Aᵢ` and `Rᵢ` torsion-free (or `kᵢ·Aᵢ + Rᵢ`, one
//! point per signature): a multiplication by `ℓ`, about 250 doublings. That cannot be
//! batched (the torsion group has 8 elements, so one random combination misses a nonzero
//! torsion part with probability up to 1/2), and it costs about as much as the whole
//! `verify_strict` it would save. benches/signatures.rs on the project's 2-core machine:
//! ~34 µs per torsion check, ~56 µs per strict verification, ~15 µs per signature in a
//! `verify_batch` of 1000. An exact batch would be slower than not batching at all.
//!
//! # What this does instead
//!
//! [`verify_all`] runs [`verify_signature`] (`verify_strict`) on every transaction — so it
//! accepts exactly what the per-transaction check accepts, by construction — and spreads
//! large bodies over the available cores in contiguous batches. The first failing index is
//! reported, with the same error the sequential loop would give, whatever the thread
//! count. (If the network ever wants single-core batch speed, the rule itself has to
//! change to one where batch and single verification agree, such as ZIP 215's cofactored
//! equation; that is a consensus change, not an optimisation.)

use super::error::TxError;
use super::hash::BlockHash;
use super::transaction::Transaction;
use super::validation::verify_signature;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Below this many transactions the bodies are verified on the calling thread: a strict
/// verification takes tens of microseconds, so a thread only pays for itself once it has
/// a few dozen of them to do.
pub const PARALLEL_MIN_TXS: usize = 32;

/// Upper bound on threads per call, so a many-core host does not spawn a thread for every
/// handful of transactions.
const MAX_THREADS: usize = 16;

/// Verifies every transaction's signature for the network `genesis`, strictly.
///
/// `Err((index, error))` names the first transaction, in block order, whose signature
/// fails, with the error [`verify_signature`] gives for it.
pub fn verify_all(txs: &[Transaction], genesis: &BlockHash) -> Result<(), (usize, TxError)> {
    let threads = cores().min(txs.len() / PARALLEL_MIN_TXS);
    verify_all_with_threads(txs, genesis, threads)
}

/// The cores verification may use, read once: `available_parallelism` reads cgroup files
/// under /proc on every call, which took a fifth of an empty-block sync's time when it
/// was asked once per block.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    })
}

/// [`verify_all`] on exactly `threads` threads (the caller's counts as one; 0 means 1).
pub fn verify_all_with_threads(
    txs: &[Transaction],
    genesis: &BlockHash,
    threads: usize,
) -> Result<(), (usize, TxError)> {
    let first_failure = AtomicUsize::new(usize::MAX);
    if threads <= 1 {
        return verify_range(txs, 0, genesis, &first_failure).map_or(Ok(()), Err);
    }
    // At least one per chunk: `chunks(0)` panics, and an empty body has nothing to split.
    let chunk = txs.len().div_ceil(threads).max(1);
    let failures: Vec<Option<(usize, TxError)>> = std::thread::scope(|scope| {
        let mut chunks = txs.chunks(chunk).enumerate();
        // The calling thread takes the first chunk itself rather than idling in `join`.
        let own = chunks.next();
        let handles: Vec<_> = chunks
            .map(|(n, part)| {
                let first_failure = &first_failure;
                scope.spawn(move || verify_range(part, n * chunk, genesis, first_failure))
            })
            .collect();
        let mut failures =
            vec![own.and_then(|(_, part)| verify_range(part, 0, genesis, &first_failure))];
        for handle in handles {
            // Verification does not panic on any input; if it ever did, re-raising the
            // panic here is better than calling the block valid or inventing an error.
            failures.push(
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        failures
    });
    failures
        .into_iter()
        .flatten()
        .min_by_key(|(index, _)| *index)
        .map_or(Ok(()), Err)
}

/// Proof that every signature of one block body was verified strictly by
/// [`verify_bodies`], so that [`check_body`](super::validation::check_body) does not verify
/// them again. Only this module makes one; the caller pairs it with the body it came from.
#[derive(Debug)]
pub struct BodyVerified(());

/// Verifies the signatures of several block bodies at once (a sync batch), spread over the
/// cores even when each body alone is too small to be worth a thread. For each body:
/// `Some` when every signature in it holds. A body with a failing signature gets `None`
/// and is verified again, in order, by `check_body`, which reports its first failure as
/// it always does; so the outcome of each block is the same as without this step.
pub fn verify_bodies(bodies: &[&[Transaction]], genesis: &BlockHash) -> Vec<Option<BodyVerified>> {
    let all: Vec<&Transaction> = bodies.iter().flat_map(|body| body.iter()).collect();
    let check = |part: &[&Transaction]| -> Vec<bool> {
        part.iter()
            .map(|tx| verify_signature(tx, genesis).is_ok())
            .collect()
    };
    let threads = cores().min(all.len() / PARALLEL_MIN_TXS);
    let valid: Vec<bool> = if threads <= 1 {
        check(&all)
    } else {
        let chunk = all.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let mut parts = all.chunks(chunk);
            let own = parts.next().unwrap_or_default();
            let handles: Vec<_> = parts.map(|part| scope.spawn(move || check(part))).collect();
            let mut valid = check(own);
            for handle in handles {
                // As in `verify_all_with_threads`: a panic is re-raised, never guessed at.
                valid.extend(
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            valid
        })
    };
    // `valid` has one flag per transaction of `bodies`, in order.
    let mut start = 0;
    bodies
        .iter()
        .map(|body| {
            let flags = &valid[start..start + body.len()];
            start += body.len();
            flags.iter().all(|ok| *ok).then_some(BodyVerified(()))
        })
        .collect()
}

/// Verifies `txs` (whose first element is at block index `offset`) in order and returns
/// the first failure. Gives up early once another range has failed at a lower index,
/// since nothing found here could then be the first failure.
fn verify_range(
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
    use crate::consensus::hash::sha256;
    use crate::consensus::transaction::Signature;
    use crate::testkit;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::IsIdentity;
    use ed25519_dalek::{Signature as DalekSignature, Verifier, VerifyingKey};
    use sha2::{Digest, Sha512};

    fn genesis() -> BlockHash {
        BlockHash::from_bytes([7; 32])
    }

    fn signed(count: u64, genesis: &BlockHash) -> Vec<Transaction> {
        (0..count)
            .map(|n| testkit::transfer(&testkit::key(n), testkit::address(n + 1), 5, 1, 0, genesis))
            .collect()
    }

    fn thread_counts() -> [usize; 5] {
        [0, 1, 2, 3, 7]
    }

    /// Verifies with every thread count and checks they all agree, returning the result.
    fn verify_everywhere(txs: &[Transaction], genesis: &BlockHash) -> Result<(), (usize, TxError)> {
        let result = verify_all(txs, genesis);
        for threads in thread_counts() {
            assert_eq!(
                verify_all_with_threads(txs, genesis, threads),
                result,
                "{threads} threads"
            );
        }
        result
    }

    fn dalek_parts(tx: &Transaction) -> (Option<VerifyingKey>, DalekSignature) {
        (
            VerifyingKey::from_bytes(tx.sender.as_bytes()).ok(),
            DalekSignature::from_bytes(tx.signature.as_bytes()),
        )
    }

    fn scalar(tag: &str, n: u64) -> Scalar {
        Scalar::from_bytes_mod_order(sha256(format!("{tag} {n}").as_bytes()))
    }

    fn challenge(r: &[u8; 32], key: &[u8; 32], message: &[u8]) -> Scalar {
        let digest: [u8; 64] = Sha512::new()
            .chain_update(r)
            .chain_update(key)
            .chain_update(message)
            .finalize()
            .into();
        Scalar::from_bytes_mod_order_wide(&digest)
    }

    /// Signs by hand with secret scalar `a` for the (possibly manipulated) public point
    /// `key`, using nonce point `r_point = r·B (+ anything)`.
    fn sign_raw(
        mut tx: Transaction,
        genesis: &BlockHash,
        a: &Scalar,
        r: &Scalar,
        r_point: EdwardsPoint,
    ) -> Transaction {
        let r_bytes = r_point.compress().to_bytes();
        let k = challenge(&r_bytes, tx.sender.as_bytes(), &tx.signing_payload(genesis));
        let s = r + k * a;
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&r_bytes);
        bytes[32..].copy_from_slice(s.as_bytes());
        tx.signature = Signature::from_bytes(bytes);
        tx
    }

    fn unsigned(sender: [u8; 32], amount: u64) -> Transaction {
        Transaction {
            sender: Address::from_bytes(sender),
            receiver: testkit::address(99),
            amount,
            fee: 1,
            nonce: 0,
            message: String::new(),
            signature: Signature::from_bytes([0; 64]),
        }
    }

    /// `check_body` checks fields before signatures but must still name the first invalid
    /// Each body gets its own answer, whatever the bodies' sizes and however the
    /// signatures were split over threads; a body after a bad one is judged on its own.
    #[test]
    fn verify_bodies_answers_per_body() {
        let genesis = genesis();
        let mut txs = signed(100, &genesis);
        txs[45].amount += 1;
        let bodies: Vec<&[Transaction]> =
            vec![&txs[..40], &[], &txs[40..50], &txs[50..51], &txs[51..]];
        let answers: Vec<bool> = verify_bodies(&bodies, &genesis)
            .iter()
            .map(Option::is_some)
            .collect();
        assert_eq!(answers, [true, true, false, true, true]);
        assert!(verify_bodies(&[], &genesis).is_empty());
    }

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
                    amount: 0,
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
        txs[50].amount += 1;
        txs[60].fee = 0;
        assert_eq!(body(txs.clone()), Err((50, TxError::BadSignature)));
        // A field failure before the first bad signature wins; at one index, fields first.
        txs[20].fee = 0;
        let too_low = TxError::FeeTooLow { fee: 0, min: 1 };
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

    #[test]
    fn first_bad_signature_is_reported_with_its_index() {
        let genesis = genesis();
        let mut txs = signed(100, &genesis);
        txs[37].amount += 1;
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((37, TxError::BadSignature))
        );
        // A later failure, in another thread's range, does not hide the first one.
        txs[90].amount += 1;
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((37, TxError::BadSignature))
        );
        txs[0].sender = Address::from_bytes([0xff; 32]);
        let invalid_key = VerifyingKey::from_bytes(&[0xff; 32]).is_err();
        let expected = if invalid_key {
            TxError::InvalidSenderKey
        } else {
            TxError::BadSignature
        };
        assert_eq!(verify_everywhere(&txs, &genesis), Err((0, expected)));
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
        let ell: [u8; 32] = (Scalar::ZERO - Scalar::ONE).to_bytes();
        let mut bytes = *txs[1].signature.as_bytes();
        let mut carry = 1u16; // ℓ = (ℓ − 1) + 1
        for (byte, add) in bytes[32..].iter_mut().zip(ell) {
            let sum = u16::from(*byte) + u16::from(add) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        txs[1].signature = Signature::from_bytes(bytes);
        let (key, signature) = dalek_parts(&txs[1]);
        let key = key.unwrap();
        let payload = txs[1].signing_payload(&genesis);
        assert!(key.verify_strict(&payload, &signature).is_err());
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((1, TxError::BadSignature))
        );
    }

    #[test]
    fn small_order_key_is_rejected_like_verify_strict() {
        // The identity as a public key: (r·B, r) "signs" every message under the lax
        // equation. verify_strict refuses the key, and so must the block.
        let genesis = genesis();
        let identity = EdwardsPoint::mul_base(&Scalar::ZERO).compress().to_bytes();
        let r = scalar("nonce", 1);
        let tx = sign_raw(
            unsigned(identity, 1),
            &genesis,
            &Scalar::ZERO,
            &r,
            EdwardsPoint::mul_base(&r),
        );
        let (key, signature) = dalek_parts(&tx);
        let key = key.unwrap();
        let payload = tx.signing_payload(&genesis);
        assert!(key.is_weak());
        assert!(key.verify(&payload, &signature).is_ok());
        assert!(key.verify_strict(&payload, &signature).is_err());

        let mut txs = signed(50, &genesis);
        txs.insert(20, tx);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((20, TxError::BadSignature))
        );
    }

    #[test]
    fn small_order_r_is_rejected_like_verify_strict() {
        // R = identity with s = k·a satisfies s·B − k·A = R, but R has small order.
        let genesis = genesis();
        let a = scalar("secret", 2);
        let key = EdwardsPoint::mul_base(&a).compress().to_bytes();
        let identity = EdwardsPoint::mul_base(&Scalar::ZERO);
        let tx = sign_raw(unsigned(key, 1), &genesis, &a, &Scalar::ZERO, identity);
        let (verifying_key, signature) = dalek_parts(&tx);
        let verifying_key = verifying_key.unwrap();
        let payload = tx.signing_payload(&genesis);
        assert!(verifying_key.verify(&payload, &signature).is_ok());
        assert!(verifying_key.verify_strict(&payload, &signature).is_err());

        let mut txs = signed(50, &genesis);
        txs.insert(45, tx);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((45, TxError::BadSignature))
        );
    }

    /// The reason this module does not batch: with an ordinary key, a signer who adds an
    /// order-2 point to `R` gets a signature that `verify_strict` always rejects, and that
    /// `verify_batch` accepts about every other try, even though the key is not weak, `R`
    /// is not of small order and `s` is canonical.
    #[test]
    fn verify_batch_accepts_what_verify_strict_rejects() {
        let genesis = genesis();
        let a = scalar("secret", 3);
        let key_point = EdwardsPoint::mul_base(&a);
        let key_bytes = key_point.compress().to_bytes();
        let order_two = EIGHT_TORSION[4];
        assert!(order_two.is_small_order() && !order_two.is_identity());

        let found = (0..64u64).find_map(|attempt| {
            let r = scalar("nonce", attempt);
            let r_point = EdwardsPoint::mul_base(&r) + order_two;
            let tx = sign_raw(unsigned(key_bytes, attempt), &genesis, &a, &r, r_point);
            let (key, signature) = dalek_parts(&tx);
            let key = key?;
            let payload = tx.signing_payload(&genesis);
            assert!(!key.is_weak());
            let r_decoded = CompressedEdwardsY(*signature.r_bytes()).decompress()?;
            assert!(!r_decoded.is_small_order());
            assert!(key.verify_strict(&payload, &signature).is_err());
            ed25519_dalek::verify_batch(&[payload.as_slice()], &[signature], &[key])
                .is_ok()
                .then_some(tx)
        });
        let Some(tx) = found else {
            panic!("verify_batch rejected 64 torsioned signatures in a row")
        };
        let mut txs = signed(40, &genesis);
        txs.insert(33, tx);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((33, TxError::BadSignature))
        );
    }

    /// Strictness is not over-done: a key with a torsion component is not weak, and when
    /// the torsion happens to cancel (`k` even for an order-2 point) `verify_strict`
    /// accepts the signature, so the block must too.
    #[test]
    fn mixed_order_key_accepted_when_verify_strict_accepts() {
        let genesis = genesis();
        let a = scalar("secret", 4);
        let key_point = EdwardsPoint::mul_base(&a) + EIGHT_TORSION[4];
        let key_bytes = key_point.compress().to_bytes();
        let mut accepted = None;
        let mut rejected = None;
        for attempt in 0..64u64 {
            let r = scalar("nonce", attempt);
            let tx = sign_raw(
                unsigned(key_bytes, attempt),
                &genesis,
                &a,
                &r,
                EdwardsPoint::mul_base(&r),
            );
            let (key, signature) = dalek_parts(&tx);
            let Some(key) = key else {
                panic!("mixed-order key does not decode")
            };
            assert!(!key.is_weak());
            let slot = if key
                .verify_strict(&tx.signing_payload(&genesis), &signature)
                .is_ok()
            {
                &mut accepted
            } else {
                &mut rejected
            };
            slot.get_or_insert(tx);
            if accepted.is_some() && rejected.is_some() {
                break;
            }
        }
        let (Some(accepted), Some(rejected)) = (accepted, rejected) else {
            panic!("64 tries gave only one outcome")
        };
        let mut txs = signed(40, &genesis);
        txs.insert(10, accepted);
        assert_eq!(verify_everywhere(&txs, &genesis), Ok(()));
        txs.insert(30, rejected);
        assert_eq!(
            verify_everywhere(&txs, &genesis),
            Err((30, TxError::BadSignature))
        );
    }
}
