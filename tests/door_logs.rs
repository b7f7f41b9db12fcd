//! Log bytes a peer can cause are bounded (issue 22), with the real binary and its log:
//! rejections with 1 MiB reasons, refused transactions, hellos of another network and
//! connect/disconnect churn each add a line or two per summary interval, with any text
//! the peer sent cut to a few hundred characters.

mod common;

use common::binary::BinaryNode;
use common::{connect_from, read_message};
use ironchain::consensus::hash::BlockHash;
use ironchain::consensus::target::Work;
use ironchain::net::frame::encode_frame;
use ironchain::net::message::{Message, PeerHello, PROTOCOL_VERSION};
use ironchain::testkit;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const LONG: Duration = Duration::from_secs(60);

async fn send(stream: &mut TcpStream, message: Message) {
    stream
        .write_all(&encode_frame(message).unwrap())
        .await
        .unwrap();
}

/// The next message, within the deadline.
async fn next(stream: &mut TcpStream) -> Option<Message> {
    tokio::time::timeout(LONG, read_message(stream))
        .await
        .ok()
        .flatten()
}

/// A client from `host`, welcomed; returns the stream and the network's genesis.
async fn client(host: &str, node: SocketAddr) -> (TcpStream, BlockHash) {
    let mut stream = connect_from(host, node).await;
    let hello = Message::HelloClient {
        version: PROTOCOL_VERSION,
    };
    send(&mut stream, hello).await;
    match next(&mut stream).await {
        Some(Message::Welcome { genesis, .. }) => (stream, genesis),
        other => panic!("not welcomed: {other:?}"),
    }
}

/// Asks for the tip and waits for it: every earlier frame of `stream` has been handled.
async fn round_trip(stream: &mut TcpStream) {
    send(stream, Message::GetTip).await;
    loop {
        match next(stream).await {
            Some(Message::Tip { .. }) => return,
            Some(_) => continue,
            None => panic!("no tip"),
        }
    }
}

fn peer_hello(genesis: BlockHash) -> Message {
    Message::HelloPeer(PeerHello {
        version: PROTOCOL_VERSION,
        genesis,
        best_height: 0,
        best_hash: genesis,
        work: Work::ZERO,
        listen_port: 0,
        node_id: rand::random(),
    })
}

#[actix_rt::test]
async fn log_bytes_a_peer_causes_are_bounded() {
    const REJECTS: usize = 32;
    const TXS: u64 = 500;
    const CONNECTIONS: u8 = 100;
    let dir = tempfile::tempdir().unwrap();
    let node = BinaryNode::start([
        "--port",
        "0",
        "--no-mine",
        "--no-http",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    let addr: SocketAddr = node.listen_addr().parse().unwrap();

    // 32 rejections with 1 MiB reasons (32 MiB of text), from a client.
    let (mut rejecter, genesis) = client("127.0.0.2", addr).await;
    let reject = encode_frame(Message::Reject {
        reason: "R".repeat(1 << 20),
    })
    .unwrap();
    for _ in 0..REJECTS {
        rejecter.write_all(&reject).await.unwrap();
    }
    round_trip(&mut rejecter).await;

    // 500 transactions with no fee: refused (never scored: a user's mistake).
    let (mut wallet, _) = client("127.0.0.3", addr).await;
    for nonce in 0..TXS {
        let tx = testkit::transfer(&testkit::key(1), testkit::address(2), 1, 0, nonce, &genesis);
        send(&mut wallet, Message::SubmitTx(tx)).await;
    }
    for _ in 0..TXS {
        assert!(matches!(
            next(&mut wallet).await,
            Some(Message::TxRejected { .. })
        ));
    }

    // Hellos of another network, then peers that connect and leave, each from its own
    // address.
    let other_network = BlockHash::from_bytes([7; 32]);
    for (i, genesis) in [(0, other_network), (1, genesis)] {
        for last in 1..=CONNECTIONS {
            let mut peer = connect_from(&format!("127.0.{}.{last}", 10 + i), addr).await;
            send(&mut peer, peer_hello(genesis)).await;
            // Our hello (or the refusal) back: the node has handled this one's.
            assert!(next(&mut peer).await.is_some());
        }
    }
    round_trip(&mut rejecter).await;

    let lines = node.kill();
    let bytes: usize = lines.iter().map(|line| line.len() + 1).sum();
    let longest = lines.iter().map(String::len).max().unwrap_or(0);
    // A few lines per reason per summary interval, of a few hundred characters each.
    assert!(longest < 600, "a log line of {longest} bytes");
    assert!(
        bytes < 16 << 10,
        "{bytes} bytes in {} lines of log after {REJECTS} rejections of 1 MiB, {TXS} refused \
         transactions and {} connections; bound 16 KiB",
        lines.len(),
        2 * CONNECTIONS as usize
    );
}
