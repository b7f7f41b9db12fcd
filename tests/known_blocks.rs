//! Work is paid for only after the cheap checks (issue 22, probe p06): blocks the node
//! already holds, sent again under their honest headers with junk bodies of thousands of
//! bad signatures, cost no signature check at all, and the sender is named a misbehaving
//! peer; the blocks held are untouched.
//!
//! This file holds one test on purpose: it reads the process-wide count of signatures
//! checked, which another test running beside it would move.

mod common;

use common::chain::{open_chain, pay};
use ironchain::chain::{BlockOutcome, ChainError};
use ironchain::consensus::error::BlockError;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::signatures::signatures_checked;
use ironchain::consensus::transaction::Signature;
use ironchain::testkit::{self, address};

const ALICE: u64 = 1;
/// Blocks in one junk frame, as the probe sends them.
const FRAME_BLOCKS: usize = 10;
/// Bad signatures in each junk body (the probe sends 2,000 per block).
const JUNK_PER_BLOCK: u64 = 2_000;

#[test]
fn known_headers_with_junk_bodies_cost_no_signature_and_name_the_sender() {
    let params = ChainParams {
        max_block_txs: 2_000,
        ..testkit::params(&[(address(ALICE), 1_000_000)])
    };
    let (_dir, mut chain) = open_chain(params);
    let honest: Vec<_> = (0..FRAME_BLOCKS as u64)
        .map(|nonce| {
            let block =
                testkit::next_block(&chain, address(9), vec![pay(&chain, ALICE, 2, 1, 1, nonce)]);
            let now = block.header.timestamp_ms;
            assert!(matches!(
                chain.process_block(block.clone(), now),
                Ok(BlockOutcome::Accepted(_))
            ));
            block
        })
        .collect();
    let tip = chain.tip().hash;
    let template = pay(&chain, ALICE, 2, 1, 1, 0);
    let junk: Vec<_> = honest
        .iter()
        .map(|block| {
            let mut forged = block.clone();
            forged.txs = (0..JUNK_PER_BLOCK)
                .map(|nonce| ironchain::consensus::transaction::Transaction {
                    nonce,
                    signature: Signature::from_bytes([7; 64]),
                    ..template.clone()
                })
                .collect();
            assert_eq!(forged.hash(), block.hash(), "the honest header is kept");
            forged
        })
        .collect();
    let now = honest[FRAME_BLOCKS - 1].header.timestamp_ms;

    let before = signatures_checked();
    let outcomes = chain.process_blocks(junk.clone(), now);
    let checked = signatures_checked() - before;
    // The bound: signatures verified per junk frame <= blocks in the frame (here: none).
    assert!(
        checked <= FRAME_BLOCKS as u64,
        "{checked} signatures checked for a frame of {FRAME_BLOCKS} known blocks"
    );
    match outcomes.first() {
        Some(Err(ChainError::Block(error @ BlockError::OtherBodyForKnownBlock { hash }))) => {
            assert_eq!(*hash, honest[0].hash());
            assert!(error.is_invalid(), "the sender is scored for it");
        }
        other => panic!("expected the forged body to be refused, got {other:?}"),
    }

    // Relayed one at a time, the same.
    let before = signatures_checked();
    for block in junk {
        let outcome = chain.process_block(block, now);
        assert!(matches!(
            outcome,
            Err(ChainError::Block(BlockError::OtherBodyForKnownBlock { .. }))
        ));
    }
    assert!(signatures_checked() - before <= FRAME_BLOCKS as u64);

    // The blocks held are untouched, and the honest bodies are still just known.
    assert_eq!(chain.tip().hash, tip);
    let again = chain.process_blocks(honest, now);
    assert!(
        again
            .iter()
            .all(|outcome| matches!(outcome, Ok(BlockOutcome::AlreadyKnown))),
        "{again:?}"
    );
}
