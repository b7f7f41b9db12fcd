//! What each AFL target does with one input, and the seed inputs. The targets in
//! `fuzz_targets/` only wrap these in `afl::fuzz!` (run outside AFL, a target reads one
//! input from stdin, which is how a crash is replayed); `seed_corpus` writes the seeds.
//!
//! Every target also checks properties, not just "no panic": a refused input always
//! carries a non-empty reason, and whatever decodes re-encodes to the same value.

use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::{unix_time_ms, Chain};
use ironchain::consensus::block::Block;
use ironchain::consensus::bounded::with_max_block_txs;
use ironchain::consensus::hash::BlockHash;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::{Signature, Transaction, UnsignedTransaction};
use ironchain::consensus::validation::{check_body, check_transaction};
use ironchain::net::frame::{encode_frame, FrameCodec};
use ironchain::net::fuzzing::{decode_stream, sample_codec};
use ironchain::net::message::{Message, TxStatus};
use ironchain::testkit;
use std::cell::RefCell;
use std::net::SocketAddr;

/// The frame decoder on a byte stream. The first byte sets how many bytes arrive per read
/// (1 to 256), so frames split across reads at every place are covered; the rest is the
/// stream. Each decoded message must survive a re-encode, each refusal must say why.
pub fn frame(data: &[u8]) {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    for item in decode_stream(sample_codec(), stream, usize::from(chunk) + 1) {
        match item {
            Ok(message) => round_trip(&message),
            Err(reason) => assert!(!reason.is_empty(), "a refusal without a reason"),
        }
    }
}

/// A decoded message encodes to a frame that decodes to the same message.
fn round_trip(message: &Message) {
    let frame = encode_frame(message.clone()).expect("a decoded message re-encodes");
    match decode_stream(FrameCodec::default(), &frame, frame.len()).as_slice() {
        [Ok(again)] => assert_eq!(again, message),
        other => panic!("re-encoded message did not decode: {other:?}"),
    }
}

/// Message decoding of one frame body (the input, behind a correct length prefix), as a
/// node decodes it, then what a node or a client computes from the message before any
/// state is involved: block and transaction ids, merkle roots, field checks, a received
/// merkle proof (the `tx` command checks one from an untrusted node), gossiped addresses.
pub fn message(data: &[u8]) {
    let Ok(length) = u32::try_from(data.len()) else {
        return;
    };
    let frame = [&length.to_be_bytes()[..], data].concat();
    let message = match decode_stream(sample_codec(), &frame, frame.len()).pop() {
        Some(Ok(message)) => message,
        Some(Err(reason)) => {
            assert!(!reason.is_empty(), "a refusal without a reason");
            return;
        }
        None => panic!("a whole frame decoded to nothing"),
    };
    round_trip(&message);
    let params = testkit::params(&[]);
    match &message {
        Message::Blocks { blocks, .. } => blocks.iter().for_each(inspect_block),
        Message::NewBlock(block) => inspect_block(block),
        Message::BlockReply(Some(block)) => inspect_block(block),
        Message::NewTx(tx) | Message::SubmitTx(tx) => inspect_tx(tx, &params),
        Message::TxReply(status) => {
            if let TxStatus::Confirmed {
                entry,
                block_hash,
                header,
                proof,
            } = status.as_ref()
            {
                let holds = proof.verify(&entry.id(), &header.merkle_root);
                let root = proof.root_for(&entry.id());
                assert_eq!(holds, root == Some(header.merkle_root));
                let _ = header.hash() == *block_hash;
            }
        }
        Message::Addrs(addrs) => {
            for addr in addrs {
                let _ = addr.parse::<SocketAddr>();
            }
        }
        _ => {}
    }
}

fn inspect_block(block: &Block) {
    let _ = block.hash();
    let _ = block.compute_merkle_root();
    let _ = block.encoded_size();
    let _ = block.header.target.to_target().map(|target| target.work());
}

fn inspect_tx(tx: &Transaction, params: &ChainParams) {
    assert_eq!(tx.encode().len(), tx.encoded_size());
    let _ = tx.id();
    if let Err(error) = ironchain::consensus::validation::check_transaction_fields(tx, params) {
        assert!(!error.to_string().is_empty());
    }
}

/// Keys of the small chain's funded accounts; re-signing picks one of them.
const FUNDED_KEYS: u64 = 3;
/// The small chain is rebuilt after this many accepted blocks or transactions, so that it
/// stays small (and its memory bounded) over millions of inputs.
const REBUILD_AFTER: usize = 512;

/// The testkit chain the chain target validates against: funded accounts, a few blocks
/// with transfers, in a directory that is deleted as soon as the store is open (the open
/// file lives on), so that the many short-lived fuzzing processes leave nothing behind.
struct SmallChain {
    chain: Chain,
    genesis: BlockHash,
    accepted: usize,
}

impl SmallChain {
    fn build() -> SmallChain {
        let chain = small_chain();
        SmallChain {
            genesis: chain.genesis_hash(),
            chain,
            accepted: 0,
        }
    }
}

/// The chain target's chain: see [`SmallChain`].
pub fn small_chain() -> Chain {
    let funded: Vec<_> = (1..=FUNDED_KEYS)
        .map(|n| (testkit::address(n), 1_000_000))
        .collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut chain = Chain::open(
        dir.path(),
        testkit::params(&funded),
        MempoolLimits::default(),
    )
    .expect("the small chain opens");
    drop(dir);
    chain.set_sync_each_commit(false);
    let genesis = chain.genesis_hash();
    for nonce in 0..3 {
        let tx = testkit::transfer(
            &testkit::key(1),
            testkit::address(2),
            100,
            1,
            nonce,
            &genesis,
        );
        let block = testkit::next_block(&chain, testkit::address(9), vec![tx]);
        let now = block.header.timestamp_ms;
        chain
            .process_block(block, now)
            .expect("testkit block accepted");
    }
    chain
}

thread_local! {
    static SMALL_CHAIN: RefCell<Option<SmallChain>> = const { RefCell::new(None) };
}

/// Block or transaction decoding, the stateless checks, then validation against the small
/// chain. The first byte chooses: bit 0 a block (else a transaction); bit 1 re-sign every
/// transaction with a funded test key (named by its sender's first byte), so the
/// stateful rules are reached and not only the signature check; bit 2 (blocks) recompute
/// the merkle root and the proof of work (at the small chain's own target), so the body
/// and state rules are reached; bit 3 (blocks) offer it as a one-block sync batch, whose
/// signatures are verified ahead as a batch. The rest is the CBOR encoding, decoded under the network's transaction cap as
/// the frame decoder does.
pub fn chain(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let is_block = mode & 1 != 0;
    let re_sign = mode & 2 != 0;
    let reseal = mode & 4 != 0;
    let as_batch = mode & 8 != 0;
    SMALL_CHAIN.with(|cell| {
        let mut slot = cell.borrow_mut();
        let small = slot.get_or_insert_with(SmallChain::build);
        let accepted = if is_block {
            let max_block_txs = small.chain.params().max_block_txs as usize;
            let decoded =
                with_max_block_txs(max_block_txs, || serde_cbor::from_slice::<Block>(body));
            let Ok(mut block) = decoded else {
                return;
            };
            if re_sign {
                block.txs = block
                    .txs
                    .into_iter()
                    .map(|tx| sign_with_funded_key(tx, &small.genesis))
                    .collect();
            }
            // Resealing mines at the header's own target: only at the target the small
            // chain expects (trivial), since a harder one could take for ever, and a block
            // at any other target is refused for it whatever its proof of work.
            if reseal && block.header.target == small.chain.params().initial_target() {
                testkit::seal(&mut block);
            }
            validate_block(small, block, as_batch)
        } else {
            let Ok(mut tx) = serde_cbor::from_slice::<Transaction>(body) else {
                return;
            };
            if re_sign {
                tx = sign_with_funded_key(tx, &small.genesis);
            }
            validate_tx(small, tx)
        };
        if accepted {
            small.accepted += 1;
            if small.accepted >= REBUILD_AFTER {
                *slot = None;
            }
        }
    });
}

fn sign_with_funded_key(tx: Transaction, genesis: &BlockHash) -> Transaction {
    let key = testkit::key(u64::from(tx.sender.as_bytes()[0]) % FUNDED_KEYS + 1);
    UnsignedTransaction {
        receiver: tx.receiver,
        amount: tx.amount,
        fee: tx.fee,
        nonce: tx.nonce,
        message: tx.message,
    }
    .sign(&key, genesis)
}

/// Stateless body checks, then the chain's full processing (alone, or as a sync batch);
/// true if the chain took it.
fn validate_block(small: &mut SmallChain, block: Block, as_batch: bool) -> bool {
    let params = small.chain.params().clone();
    if let Err(error) = check_body(&block, &params, &small.genesis, None) {
        assert!(
            !error.to_string().is_empty(),
            "a block refusal without a reason"
        );
    }
    let outcomes = if as_batch {
        small.chain.process_blocks(vec![block], unix_time_ms())
    } else {
        vec![small.chain.process_block(block, unix_time_ms())]
    };
    let mut accepted = false;
    for outcome in outcomes {
        match outcome {
            Ok(_) => accepted = true,
            Err(error) => {
                assert!(
                    !error.to_string().is_empty(),
                    "a block refusal without a reason"
                );
            }
        }
    }
    accepted
}

/// Stateless checks, then mempool admission; true if the mempool took it.
fn validate_tx(small: &mut SmallChain, tx: Transaction) -> bool {
    let params = small.chain.params().clone();
    if let Err(error) = check_transaction(&tx, &params, &small.genesis) {
        assert!(!error.to_string().is_empty(), "a refusal without a reason");
    }
    match small.chain.submit_transaction(tx) {
        Ok(_) => true,
        Err(error) => {
            assert!(!error.to_string().is_empty(), "a refusal without a reason");
            false
        }
    }
}

/// Seeds of the chain target, named, with their mode byte in front: the chain's valid next
/// block (carrying the funded account's next transfer) as is, re-signed and resealed; a
/// block forking at genesis; the next transfer, and one needing a re-sign.
pub fn chain_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let chain = small_chain();
    let genesis = chain.genesis_hash();
    let next_nonce = chain.account(&testkit::address(1)).1;
    let tx = testkit::transfer(
        &testkit::key(1),
        testkit::address(3),
        7,
        2,
        next_nonce,
        &genesis,
    );
    let next = testkit::next_block(&chain, testkit::address(9), vec![tx.clone()]);
    let fork = testkit::block_on(&chain, &genesis, testkit::address(8), Vec::new(), 0);
    let mut unsigned = tx.clone();
    unsigned.signature = Signature::from_bytes([0; 64]);
    let block = |block: &Block| serde_cbor::to_vec(block).expect("a block encodes");
    let transfer = |tx: &Transaction| serde_cbor::to_vec(tx).expect("a transaction encodes");
    let seed = |mode: u8, body: Vec<u8>| [vec![mode], body].concat();
    vec![
        ("block_next", seed(1, block(&next))),
        (
            "block_next_resigned_resealed",
            seed(1 | 2 | 4, block(&next)),
        ),
        ("block_next_as_batch", seed(1 | 8, block(&next))),
        ("block_fork_at_genesis", seed(1, block(&fork))),
        ("tx_next", seed(0, transfer(&tx))),
        ("tx_unsigned_resigned", seed(2, transfer(&unsigned))),
    ]
}
