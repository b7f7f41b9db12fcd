//! What the transaction cap in the frame decoder saves (issue 10, "cheap checks come too
//! late"): one `NewBlock` frame of 9,000 transactions (3.5 MB, the attack measured in the
//! issue) decoded by a codec that knows the network's `max_block_txs` (2,000), which
//! refuses it from the announced count, and by one that does not, which decodes every
//! transaction before any rule can refuse the block. Prints the median of 10 decodes each.
//!
//!     cargo run --example oversize_block

use bytes::{BufMut, BytesMut};
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use ironchain::consensus::target::CompactTarget;
use ironchain::consensus::transaction::{Reward, Transaction};
use ironchain::net::frame::{Decoded, FrameCodec};
use ironchain::net::message::Message;
use ironchain::testkit;
use std::time::Instant;
use tokio_util::codec::Decoder;

fn main() {
    let txs: Vec<Transaction> = (0..9_000)
        .map(|nonce| Transaction {
            message: "x".repeat(200),
            ..testkit::unsigned_transfer(nonce)
        })
        .collect();
    let block = Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            height: 1,
            prev: Default::default(),
            merkle_root: Default::default(),
            timestamp_ms: 0,
            target: CompactTarget::from_consensus(0x2000_ffff),
            nonce: 0,
        },
        reward: Reward {
            miner: testkit::address(1),
            amount: Amount::new(50),
            height: 1,
        },
        txs,
    };
    let body = serde_cbor::to_vec(&Message::NewBlock(block)).expect("a block encodes");
    println!(
        "one NewBlock frame of 9,000 transactions: {} bytes",
        body.len()
    );
    for (name, codec) in [
        ("without the cap", FrameCodec::default()),
        ("capped at 2,000", FrameCodec::for_network(2_000)),
    ] {
        let mut millis: Vec<f64> = (0..10)
            .map(|_| {
                let mut frame = BytesMut::new();
                frame.put_u32(body.len() as u32);
                frame.extend_from_slice(&body);
                let mut codec = codec;
                let start = Instant::now();
                let decoded = codec.decode(&mut frame);
                let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                if let Ok(Some(Decoded::Malformed(reason))) = decoded {
                    assert!(reason.contains("exceed the limit"), "{reason}");
                }
                elapsed
            })
            .collect();
        millis.sort_by(f64::total_cmp);
        println!(
            "{name}: median {:.3} ms (min {:.3}, max {:.3})",
            millis[5], millis[0], millis[9]
        );
    }
}
