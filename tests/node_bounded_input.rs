//! Oversized input against a real node (issue 10): lists inside messages are refused
//! while decoding, with the reason sent back; a block over the network's transaction
//! limit is refused before its transactions are decoded; a client that submits badly
//! signed transactions is scored like a peer, and disconnected past the threshold, while
//! one that only gets a fee wrong is not.

mod common;

use common::read_message;
use common::*;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use ironchain::consensus::hash::BlockHash;
use ironchain::consensus::transaction::Reward;
use ironchain::net::frame::encode_frame;
use ironchain::net::message::{Message, PROTOCOL_VERSION};
use ironchain::testkit::{self, address, key};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const LONG: Duration = Duration::from_secs(30);

/// The next reply that `pick` accepts, skipping the rest (`None`: closed or timed out).
async fn next<T>(stream: &mut TcpStream, pick: impl Fn(Message) -> Option<T>) -> Option<T> {
    loop {
        let message = tokio::time::timeout(LONG, read_message(stream))
            .await
            .ok()??;
        if let Some(found) = pick(message) {
            return Some(found);
        }
    }
}

fn reject(message: Message) -> Option<String> {
    match message {
        Message::Reject { reason } => Some(reason),
        _ => None,
    }
}

async fn send(stream: &mut TcpStream, message: Message) {
    stream
        .write_all(&encode_frame(message).unwrap())
        .await
        .unwrap();
}

#[actix_rt::test]
async fn oversized_lists_and_blocks_are_refused_with_a_reason() {
    let params = fast_params(&[]);
    let dir = tempfile::tempdir().unwrap();
    let node = start(settings(&params, dir.path(), &[], false, 1)).await;
    let genesis = summary(&node).await.genesis;

    let mut locator_peer = common::fake_peer(node.listen_addr, genesis, 1).await;
    let locator = vec![BlockHash::from_bytes([5; 32]); 100_000];
    send(&mut locator_peer, Message::GetBlocks { locator }).await;
    let reason = next(&mut locator_peer, reject).await.expect("a reason");
    assert!(
        reason.contains("100000 locator hashes exceed the limit of 64"),
        "{reason}"
    );

    let mut addr_peer = common::fake_peer(node.listen_addr, genesis, 2).await;
    let addrs = (0..100_000u32)
        .map(|n| format!("10.{}.{}.{}:8333", n >> 16, (n >> 8) & 255, n & 255))
        .collect();
    send(&mut addr_peer, Message::Addrs(addrs)).await;
    let reason = next(&mut addr_peer, reject).await.expect("a reason");
    assert!(
        reason.contains("100000 addresses exceed the limit of 100"),
        "{reason}"
    );

    // A block of 9,000 transactions on a network allowing 1,000: refused from the
    // announced count, before any transaction is decoded.
    let mut block_peer = common::fake_peer(node.listen_addr, genesis, 3).await;
    let block = Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            height: 1,
            prev: genesis,
            merkle_root: Default::default(),
            timestamp_ms: 0,
            target: params.pow_limit().to_compact(),
            nonce: 0,
        },
        reward: Reward {
            miner: address(1),
            amount: Amount::new(50),
            height: 1,
        },
        txs: (0..9_000).map(testkit::unsigned_transfer).collect(),
    };
    send(&mut block_peer, Message::NewBlock(block)).await;
    let reason = next(&mut block_peer, reject).await.expect("a reason");
    assert!(
        reason.contains("9000 transactions in a block exceed the limit of 1000"),
        "{reason}"
    );

    // The node still answers.
    assert_eq!(summary(&node).await.tip.height, 0);
    node.stop().await;
}

#[actix_rt::test]
async fn a_client_sending_badly_signed_transactions_is_scored_and_dropped() {
    let params = fast_params(&[(address(1), 1_000)]);
    let dir = tempfile::tempdir().unwrap();
    let node = start(settings(&params, dir.path(), &[], false, 1)).await;
    let genesis = summary(&node).await.genesis;
    // From 127.0.0.2, a host of its own: the local host (127.0.0.1) is only disconnected.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut client = socket.connect(node.listen_addr).await.unwrap();
    send(
        &mut client,
        Message::HelloClient {
            version: PROTOCOL_VERSION,
        },
    )
    .await;
    // Five fees below the minimum: a user's mistake, answered but not scored. Then five
    // bad signatures: scored, and the fifth closes the connection.
    let mut rejected = 0;
    for attempt in 0..10 {
        let fee = if attempt < 5 { 0 } else { 1 };
        let mut tx = testkit::transfer(&key(1), address(2), 1, fee, 0, &genesis);
        if attempt >= 5 {
            tx.amount = Amount::new(1 + attempt);
        }
        send(&mut client, Message::SubmitTx(tx)).await;
        let reply = next(&mut client, |message| match message {
            Message::TxRejected { reason } => Some(Ok(reason)),
            Message::Reject { reason } => Some(Err(reason)),
            _ => None,
        })
        .await;
        match reply {
            Some(Ok(reason)) => {
                let expected = if attempt < 5 {
                    "below the minimum"
                } else {
                    "signature"
                };
                assert!(reason.contains(expected), "{reason}");
                rejected += 1;
            }
            Some(Err(reason)) => {
                assert!(reason.contains("banned"), "{reason}");
                break;
            }
            None => break,
        }
    }
    assert_eq!(rejected, 10, "each refused transaction gets its reason");
    let closing = next(&mut client, reject).await;
    assert!(
        closing
            .as_deref()
            .is_some_and(|reason| reason.contains("banned")),
        "{closing:?}"
    );
    node.stop().await;
}
