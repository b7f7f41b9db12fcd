//! Real nodes on loopback (issue 3): convergence while mining, cloning by a late joiner,
//! restart and resync, transaction relay, fork resolution between nodes that mined apart,
//! and the miner restarting on a peer's block.

mod common;

use common::*;
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::validation::VerifiedTx;
use ironchain::net::message::TxStatus;
use ironchain::node::chain_actor::{GetTx, Origin, SubmitBlocks, SubmitTx};
use ironchain::node::peer_manager::AddPeer;
use ironchain::testkit;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

#[actix_rt::test]
async fn two_mining_nodes_converge_on_one_tip() {
    let params = fast_params(&[]);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(settings(&params, dir_a.path(), &[], true, 1)).await;
    let b = start(settings(&params, dir_b.path(), &[a.listen_addr], true, 2)).await;
    // Both keep mining, so tips differ for moments; they must meet on one tip, past
    // heights both have mined at.
    assert!(
        wait_until(LONG, || converged(vec![&a, &b], 15)).await,
        "no common tip"
    );
    assert!(
        summary(&a).await.mined > 0 && summary(&b).await.mined > 0,
        "both mined"
    );
    b.stop().await;
    a.stop().await;
}

#[actix_rt::test]
async fn late_joiner_clones_the_chain_and_follows_the_tip() {
    let params = fast_params(&[]);
    let (dir_a, dir_c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(settings(&params, dir_a.path(), &[], true, 1)).await;
    assert!(wait_until(LONG, || async { summary(&a).await.tip.height >= 30 }).await);
    let c = start(settings(&params, dir_c.path(), &[a.listen_addr], false, 3)).await;
    assert!(
        wait_until(LONG, || converged(vec![&a, &c], 30)).await,
        "clone did not finish"
    );
    let cloned = summary(&c).await.tip.height;
    assert!(
        wait_until(LONG, || converged(vec![&a, &c], cloned + 5)).await,
        "joiner does not follow new blocks"
    );
    assert_eq!(summary(&c).await.mined, 0);
    c.stop().await;
    a.stop().await;
}

#[actix_rt::test]
async fn restarted_node_resumes_at_its_tip_and_resyncs() {
    let params = fast_params(&[]);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(settings(&params, dir_a.path(), &[], true, 1)).await;
    let b = start(settings(&params, dir_b.path(), &[a.listen_addr], false, 2)).await;
    assert!(wait_until(LONG, || converged(vec![&a, &b], 10)).await);
    let before = summary(&b).await.tip;
    b.stop().await;
    assert!(
        wait_until(LONG, || async {
            summary(&a).await.tip.height >= before.height + 10
        })
        .await
    );

    let b = start(settings(&params, dir_b.path(), &[a.listen_addr], false, 2)).await;
    // Read the tip straight from the reopened store, before the network had a say.
    let reopened = summary(&b).await.tip;
    assert!(
        reopened.height >= before.height,
        "lost blocks: {reopened:?} < {before:?}"
    );
    assert!(
        wait_until(LONG, || converged(vec![&a, &b], before.height + 10)).await,
        "no resync"
    );
    b.stop().await;
    a.stop().await;
}

#[actix_rt::test]
async fn transaction_is_relayed_mined_and_seen_by_every_node() {
    let alice = testkit::key(1);
    let bob = testkit::address(2);
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let miner = start(settings(&params, dirs[0].path(), &[], true, 10)).await;
    let relay = start(settings(
        &params,
        dirs[1].path(),
        &[miner.listen_addr],
        false,
        11,
    ))
    .await;
    let edge = start(settings(
        &params,
        dirs[2].path(),
        &[relay.listen_addr],
        false,
        12,
    ))
    .await;
    assert!(wait_until(LONG, || async { peer_count(&relay).await == 2 }).await);

    let genesis = summary(&edge).await.genesis;
    let tx = testkit::transfer(&alice, bob, 300, 7, 0, &genesis);
    let txid = edge
        .chain
        .send(SubmitTx {
            tx: VerifiedTx::verify(tx, &genesis).expect("signed for this network"),
            origin: None,
        })
        .await
        .unwrap()
        .expect("edge node accepts the transaction");

    for node in [&miner, &relay, &edge] {
        let seen = wait_until(LONG, || async {
            account(node, bob).await.balance == Amount::new(300)
                && account(node, testkit::address(1)).await.nonce == 1
        })
        .await;
        assert!(seen, "a node never saw the transfer");
        assert_eq!(
            account(node, testkit::address(1)).await.balance,
            Amount::new(693)
        );
    }
    let status = miner.chain.send(GetTx(txid)).await.unwrap();
    assert!(
        matches!(status, TxStatus::Confirmed { .. }),
        "not confirmed: {status:?}"
    );
    edge.stop().await;
    relay.stop().await;
    miner.stop().await;
}

#[actix_rt::test]
async fn nodes_that_mined_apart_end_on_the_heavier_branch_and_loser_txs_return() {
    let alice = testkit::key(1);
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    let (dir_a, dir_b, mirror) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // B's branch: one block carrying a transfer, built on a local copy of the chain.
    let local = Chain::open(mirror.path(), params.clone(), MempoolLimits::default()).unwrap();
    let tx = testkit::transfer(&alice, testkit::address(2), 50, 1, 0, &local.genesis_hash());
    let txid = tx.id();
    let b_block = testkit::next_block(&local, testkit::address(20), vec![tx]);
    drop(local);

    let a = start(settings(&params, dir_a.path(), &[], true, 1)).await;
    let b = start(settings(&params, dir_b.path(), &[], false, 2)).await;
    let outcome = b
        .chain
        .send(SubmitBlocks {
            blocks: vec![b_block.clone()],
            origin: Origin::Mined,
        })
        .await
        .unwrap();
    assert_eq!(outcome.stored, 1);
    assert_eq!(
        account(&b, testkit::address(2)).await.balance,
        Amount::new(50)
    );
    assert!(wait_until(LONG, || async { summary(&a).await.tip.height >= 5 }).await);

    b.peers.do_send(AddPeer(a.listen_addr));
    assert!(
        wait_until(LONG, || converged(vec![&a, &b], 5)).await,
        "no convergence"
    );
    assert!(!summary(&a).await.locator.contains(&b_block.hash()));
    assert_eq!(
        account(&b, testkit::address(2)).await.balance,
        Amount::ZERO,
        "B left its branch"
    );
    let status = b.chain.send(GetTx(txid)).await.unwrap();
    assert!(
        matches!(status, TxStatus::Pending(_)),
        "tx not back in mempool: {status:?}"
    );
    b.stop().await;
    a.stop().await;
}

#[actix_rt::test]
async fn miner_switches_to_a_peer_block_once_it_is_accepted() {
    // Hard enough that the miner is mid-template when the peer block arrives, and rarely
    // finds a block of its own first.
    let params = ironchain::consensus::params::ChainParams {
        pow_limit_bits: 20,
        initial_difficulty_bits: 20,
        ..testkit::params(&[])
    };
    let (dir, mirror) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let local = Chain::open(mirror.path(), params.clone(), MempoolLimits::default()).unwrap();
    let peer_block = testkit::next_block(&local, testkit::address(30), Vec::new());
    drop(local);

    let node = start(settings(&params, dir.path(), &[], true, 1)).await;
    let outcome = node
        .chain
        .send(SubmitBlocks {
            blocks: vec![peer_block.clone()],
            origin: Origin::Relay(0),
        })
        .await
        .unwrap();
    assert_eq!(outcome.stored, 1);
    // If the miner found its own height-1 block before the peer's arrived, the peer's lost
    // the tie (first received wins) and there is nothing to switch to: a race of the
    // start-up, not of the behaviour under test.
    if block_at(&node, 1).await.unwrap().hash() != peer_block.hash() {
        node.stop().await;
        return;
    }
    // A hit already in flight when the new template arrives may still land on the old
    // tip (batches are bounded, not zero): what must hold every time is that the miner's
    // work from then on extends the peer's block.
    assert!(
        wait_until(Duration::from_secs(120), || async {
            summary(&node).await.tip.height >= 2
        })
        .await
    );
    assert_eq!(block_at(&node, 1).await.unwrap().hash(), peer_block.hash());
    assert_eq!(
        block_at(&node, 2).await.unwrap().header.prev,
        peer_block.hash(),
        "the miner did not build on the peer's block"
    );
    node.stop().await;
}
