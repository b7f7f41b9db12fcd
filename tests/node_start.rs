//! What starting a node leaves on disk: a node that does not mine creates no miner key,
//! and one that cannot listen on its port creates no data directory.

mod common;

use common::*;
use ironchain::node::{start_node, MINER_KEY_FILE};

#[actix_rt::test]
async fn a_node_that_does_not_mine_creates_no_miner_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(&fast_params(&[]), dir.path(), &[], false, 1);
    settings.miner_address = None;
    let node = start(settings).await;
    assert_eq!(node.miner_address, None);
    node.stop().await;
    assert!(dir.path().join("chain.redb").exists());
    assert!(!dir.path().join(MINER_KEY_FILE).exists());
}

#[actix_rt::test]
async fn a_port_in_use_is_refused_before_anything_is_written() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("node");
    let mut settings = settings(&fast_params(&[]), &data_dir, &[], true, 1);
    settings.listen = taken.local_addr().unwrap();
    settings.miner_address = None;
    let error = start_node(settings).await.err().expect("the port is taken");
    assert!(error.to_string().contains("cannot listen"), "{error}");
    assert!(!data_dir.exists());
}
