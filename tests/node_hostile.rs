//! Hostile input against a real node (issue 3): garbage frames and an oversize length
//! prefix get their sender disconnected and banned (by IP: a new port from the same
//! address is refused, another address is served) while honest peers stay connected and
//! the node keeps extending its chain; blocks with bad proof of work or a bad signature
//! inside are refused with their reason and not relayed; a node records why it gave up
//! on a peer (its refusal, or our own handshake deadline) and that an address is itself.
//! Distinct hosts are distinct loopback addresses (127.0.0.2, 127.0.0.3, …).

mod common;

use common::read_message;
use common::*;
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::Block;
use ironchain::consensus::hash::BlockHash;
use ironchain::consensus::target::Work;
use ironchain::net::frame::encode_frame;
use ironchain::net::message::{Message, PeerHello, PROTOCOL_VERSION};
use ironchain::node::peer_manager::{AddPeer, GetAddressInfo, IsBanned};
use ironchain::testkit;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LONG: Duration = Duration::from_secs(60);

/// Reads frames until a `Reject`, returning its reason (`None` if the stream ends).
async fn next_reject(stream: &mut TcpStream) -> Option<String> {
    loop {
        match tokio::time::timeout(LONG, read_message(stream))
            .await
            .ok()??
        {
            Message::Reject { reason } => return Some(reason),
            _ => continue,
        }
    }
}

/// Whether the node has closed `stream` (reads to EOF within the timeout).
async fn closed_by_node(stream: &mut TcpStream) -> bool {
    let mut sink = Vec::new();
    matches!(
        tokio::time::timeout(LONG, stream.read_to_end(&mut sink)).await,
        Ok(Ok(_)) | Ok(Err(_))
    )
}

/// Opens a connection from `host` that has completed a peer handshake.
async fn fake_peer(host: &str, node: SocketAddr, genesis: BlockHash) -> TcpStream {
    let mut stream = connect_from(host, node).await;
    let hello = Message::HelloPeer(PeerHello {
        version: PROTOCOL_VERSION,
        genesis,
        best_height: 0,
        best_hash: genesis,
        work: Work::ZERO,
        listen_port: 0,
        node_id: 42,
    });
    stream
        .write_all(&encode_frame(hello).unwrap())
        .await
        .unwrap();
    stream
}

#[actix_rt::test]
async fn garbage_and_oversize_senders_are_banned_and_honest_peers_stay() {
    let params = fast_params(&[]);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(settings(&params, dir_a.path(), &[], true, 1)).await;
    let b = start(settings(&params, dir_b.path(), &[a.listen_addr], false, 2)).await;
    assert!(wait_until(LONG, || async { peer_count(&a).await == 1 }).await);

    // Frames with a sane length and a body that is not CBOR of any message.
    let mut garbage = connect_from("127.0.0.2", a.listen_addr).await;
    let garbage_addr = garbage.local_addr().unwrap();
    for _ in 0..4 {
        let mut frame = 16u32.to_be_bytes().to_vec();
        frame.extend((0..16).map(|i| 0xff ^ (i * 37) as u8));
        garbage.write_all(&frame).await.unwrap();
    }
    let reason = next_reject(&mut garbage)
        .await
        .expect("a reason comes back");
    assert!(reason.contains("undecodable"), "{reason}");
    assert!(
        closed_by_node(&mut garbage).await,
        "garbage sender not disconnected"
    );
    assert!(
        a.peers.send(IsBanned(garbage_addr)).await.unwrap(),
        "garbage sender not banned"
    );

    // The ban covers the host, not the socket: a new port from 127.0.0.2 is refused with
    // the reason, while 127.0.0.3 is served.
    let mut again = connect_from("127.0.0.2", a.listen_addr).await;
    let reason = next_reject(&mut again).await.expect("a reason comes back");
    assert!(reason.contains("banned until"), "{reason}");
    assert!(closed_by_node(&mut again).await);
    let mut other = connect_from("127.0.0.3", a.listen_addr).await;
    let hello = Message::HelloClient {
        version: PROTOCOL_VERSION,
    };
    other
        .write_all(&encode_frame(hello).unwrap())
        .await
        .unwrap();
    other
        .write_all(&encode_frame(Message::GetTip).unwrap())
        .await
        .unwrap();
    assert!(matches!(
        read_message(&mut other).await,
        Some(Message::Welcome { .. })
    ));
    assert!(matches!(
        read_message(&mut other).await,
        Some(Message::Tip { .. })
    ));

    // A length prefix far above the limit: refused before any body is read.
    let mut oversize = connect_from("127.0.0.4", a.listen_addr).await;
    let oversize_addr = oversize.local_addr().unwrap();
    oversize.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    let reason = next_reject(&mut oversize)
        .await
        .expect("a reason comes back");
    assert!(reason.contains("exceeds the limit"), "{reason}");
    assert!(closed_by_node(&mut oversize).await);
    assert!(a.peers.send(IsBanned(oversize_addr)).await.unwrap());

    let height = summary(&a).await.tip.height;
    assert!(
        wait_until(LONG, || converged(vec![&a, &b], height + 3)).await,
        "node stalled"
    );
    assert_eq!(peer_count(&a).await, 1, "the honest peer was dropped");
    b.stop().await;
    a.stop().await;
}

/// A block on genesis whose hash misses its target.
fn bad_pow_block(local: &Chain) -> Block {
    let mut block = testkit::next_block(local, testkit::address(9), Vec::new());
    let target = block.header.target.to_target().unwrap();
    while target.is_met_by(block.hash().as_bytes()) {
        block.header.nonce += 1;
    }
    block
}

/// A block on genesis with valid proof of work but a transfer whose signature is broken.
fn bad_signature_block(local: &Chain) -> Block {
    let mut tx = testkit::transfer(
        &testkit::key(1),
        testkit::address(2),
        10,
        1,
        0,
        &local.genesis_hash(),
    );
    tx.amount = Amount::new(11);
    let mut block = testkit::next_block(local, testkit::address(9), Vec::new());
    block.reward.amount = block.reward.amount.checked_add(tx.fee).unwrap();
    block.txs.push(tx);
    testkit::seal(&mut block);
    block
}

#[actix_rt::test]
async fn invalid_blocks_are_refused_with_a_reason_and_not_relayed() {
    let params = ironchain::consensus::params::ChainParams {
        initial_difficulty_bits: 8,
        ..fast_params(&[(testkit::address(1), 1_000)])
    };
    let (dir_a, dir_b, mirror) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let local = Chain::open(mirror.path(), params.clone(), MempoolLimits::default()).unwrap();
    let cases = [
        (bad_pow_block(&local), "proof of work"),
        (bad_signature_block(&local), "signature does not verify"),
    ];
    let genesis = local.genesis_hash();
    drop(local);

    let a = start(settings(&params, dir_a.path(), &[], false, 1)).await;
    let b = start(settings(&params, dir_b.path(), &[a.listen_addr], false, 2)).await;
    assert!(wait_until(LONG, || async { peer_count(&a).await == 1 }).await);

    for ((block, expected), host) in cases.into_iter().zip(["127.0.0.2", "127.0.0.3"]) {
        let mut peer = fake_peer(host, a.listen_addr, genesis).await;
        peer.write_all(&encode_frame(Message::NewBlock(block.clone())).unwrap())
            .await
            .unwrap();
        let reason = next_reject(&mut peer).await.expect("a reason comes back");
        assert!(reason.contains(expected), "{reason}");
        assert!(
            closed_by_node(&mut peer).await,
            "sender of an invalid block kept"
        );
        assert!(!has_block(&a, block.hash()).await);
        assert!(
            !has_block(&b, block.hash()).await,
            "invalid block was relayed"
        );
    }
    assert_eq!(summary(&a).await.tip.height, 0);
    assert_eq!(peer_count(&a).await, 1, "the honest peer was dropped");
    b.stop().await;
    a.stop().await;
}

#[actix_rt::test]
async fn peer_of_another_network_is_refused_with_the_reason() {
    let ours = fast_params(&[]);
    let theirs = ironchain::consensus::params::ChainParams {
        genesis_message: "another network".into(),
        ..fast_params(&[])
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(settings(&ours, dir_a.path(), &[], false, 1)).await;
    let b = start(settings(&theirs, dir_b.path(), &[], false, 2)).await;

    let their_genesis = summary(&b).await.genesis;
    let our_genesis = summary(&a).await.genesis;
    assert_ne!(their_genesis, our_genesis);
    let mut stranger = fake_peer("127.0.0.2", a.listen_addr, their_genesis).await;
    let reason = next_reject(&mut stranger)
        .await
        .expect("a reason comes back");
    assert!(reason.contains("another network"), "{reason}");
    // Read by the dialer, the reason says whose genesis is whose and what to do.
    let whose = format!(
        "your genesis {} is not this node's genesis {}",
        their_genesis.short(),
        our_genesis.short()
    );
    assert!(reason.contains(&whose), "{reason}");
    assert!(
        reason.contains("start with the same --config as this node"),
        "{reason}"
    );
    assert!(closed_by_node(&mut stranger).await);

    // Two real nodes of different networks never become peers: b dials a, and a's
    // refusal, with its reason, is what b records for a's address.
    b.peers
        .do_send(ironchain::node::peer_manager::AddPeer(a.listen_addr));
    let refused = wait_until(LONG, || async {
        let info = b.peers.send(GetAddressInfo(a.listen_addr)).await.unwrap();
        info.entry
            .and_then(|entry| entry.last_error)
            .is_some_and(|error| error.contains("another network"))
    })
    .await;
    assert!(refused, "b did not record a's refusal");
    assert_eq!(
        peer_count(&a).await,
        0,
        "nodes of different networks connected"
    );
    assert_eq!(
        peer_count(&b).await,
        0,
        "nodes of different networks connected"
    );
    b.stop().await;
    a.stop().await;
}

#[actix_rt::test]
async fn node_pointed_at_itself_detects_it_and_stays_alone() {
    let params = fast_params(&[]);
    let dir = tempfile::tempdir().unwrap();
    // Port 0, then told to dial its own address: never a port chosen for it beforehand.
    let node = start(settings(&params, dir.path(), &[], false, 1)).await;
    let own = node.listen_addr;
    node.peers.do_send(AddPeer(own));
    // The node dials its own address, recognises its node id in the hello, and marks the
    // address as itself rather than as a peer that failed.
    let detected = wait_until(LONG, || async {
        let info = node.peers.send(GetAddressInfo(own)).await.unwrap();
        info.is_self && info.entry.is_none()
    })
    .await;
    assert!(detected, "self-connection not detected");
    assert_eq!(
        peer_count(&node).await,
        0,
        "the node counts itself as a peer"
    );
    node.stop().await;
}

#[actix_rt::test]
async fn a_peer_that_never_says_hello_is_given_up_with_our_reason() {
    let params = fast_params(&[]);
    let dir = tempfile::tempdir().unwrap();
    // Accepts connections and never speaks, like a server of another protocol.
    let silent = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let held = actix_rt::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            sockets.push(socket);
        }
    });
    let mut node_settings = settings(&params, dir.path(), &[silent_addr], false, 1);
    node_settings.limits.handshake_timeout = Duration::from_millis(300);
    let node = start(node_settings).await;
    let given_up = wait_until(LONG, || async {
        let info = node.peers.send(GetAddressInfo(silent_addr)).await.unwrap();
        info.entry
            .and_then(|entry| entry.last_error)
            .is_some_and(|error| error.contains("no hello within 300 ms"))
    })
    .await;
    assert!(given_up, "the node did not record why it gave up");
    held.abort();
    node.stop().await;
}

#[actix_rt::test]
async fn a_user_mistyping_fees_does_not_get_their_host_banned() {
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    let dir = tempfile::tempdir().unwrap();
    let node = start(settings(&params, dir.path(), &[], false, 1)).await;
    let genesis = summary(&node).await.genesis;
    let mut client = connect_from("127.0.0.2", node.listen_addr).await;
    let hello = Message::HelloClient {
        version: PROTOCOL_VERSION,
    };
    client
        .write_all(&encode_frame(hello).unwrap())
        .await
        .unwrap();
    // Ten transfers with a fee below the minimum: far past the ban threshold if each
    // counted as misbehaviour.
    for nonce in 0..10 {
        let tx = testkit::transfer(&testkit::key(1), testkit::address(2), 1, 0, nonce, &genesis);
        client
            .write_all(&encode_frame(Message::SubmitTx(tx)).unwrap())
            .await
            .unwrap();
        let reason = loop {
            match read_message(&mut client).await {
                Some(Message::TxRejected { reason }) => break reason,
                Some(_) => continue,
                None => panic!("the client was disconnected"),
            }
        };
        assert!(reason.contains("fee"), "{reason}");
    }
    let addr = client.local_addr().unwrap();
    assert!(!node.peers.send(IsBanned(addr)).await.unwrap());
    node.stop().await;
}
