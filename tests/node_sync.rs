//! Sync that survives its serving peer (issue 3): a fresh node downloading a long chain
//! from one peer carries on from another when the first disconnects mid-sync, and ends
//! with the whole chain.

mod common;

use common::*;
use ironchain::chain::mempool::MempoolLimits;
use ironchain::net::message::MAX_BLOCKS_PER_BATCH;
use ironchain::node::peer_manager::AddPeer;
use ironchain::testkit;
use std::path::Path;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(120);
/// Three sync batches: the last one partly filled.
const CHAIN_LENGTH: u64 = 2 * MAX_BLOCKS_PER_BATCH as u64 + 200;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[actix_rt::test]
async fn sync_carries_on_from_another_peer_when_the_first_leaves() {
    let params = testkit::params(&[]);
    let (dir_a, dir_b, dir_c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    {
        let mut chain =
            common::chain::open_chain_in(dir_a.path(), params.clone(), MempoolLimits::default());
        testkit::extend(&mut chain, testkit::address(1), CHAIN_LENGTH as usize);
    }
    copy_dir(dir_a.path(), dir_b.path());

    // The first server answers slowly, so the test can act between its batches: seconds
    // apart, so that connecting the second peer fits between two of them even on a
    // loaded machine (sync pipelines batches, so the gaps are the server's delays alone).
    let mut slow = settings(&params, dir_a.path(), &[], false, 1);
    slow.send_delay = Duration::from_secs(3);
    let a = start(slow).await;
    let b = start(settings(&params, dir_b.path(), &[], false, 2)).await;
    let c = start(settings(&params, dir_c.path(), &[a.listen_addr], false, 3)).await;

    assert!(
        wait_until(LONG, || async { summary(&c).await.tip.height > 0 }).await,
        "sync never started"
    );
    c.peers.do_send(AddPeer(b.listen_addr));
    assert!(wait_until(LONG, || async { peer_count(&c).await == 2 }).await);
    let height_when_a_left = summary(&c).await.tip.height;
    a.stop().await;
    assert!(
        height_when_a_left < CHAIN_LENGTH,
        "sync finished before the first peer left"
    );

    assert!(
        wait_until(LONG, || async {
            summary(&c).await.tip.height == CHAIN_LENGTH
        })
        .await,
        "sync did not carry on from the second peer"
    );
    assert_eq!(summary(&c).await.tip.hash, summary(&b).await.tip.hash);
    c.stop().await;
    b.stop().await;
}
