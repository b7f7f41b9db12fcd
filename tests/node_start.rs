//! What starting a node leaves on disk: a node that does not mine creates no miner key,
//! and one that cannot listen on its port creates no data directory; and how a harness
//! learns the port a node process bound.

mod common;

use common::*;
use ironchain::consensus::amount::Amount;
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

/// Benchmarks start a node that does not mine by itself and register their own miners;
/// with the address it was given, they get work.
#[actix_rt::test]
async fn a_miner_registered_from_outside_mines_to_the_given_address() {
    use actix::prelude::*;
    use ironchain::node::chain_actor::RegisterMiner;
    use ironchain::node::miner::MinerActor;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let node = start(settings(&fast_params(&[]), dir.path(), &[], false, 7)).await;
    assert!(!dir.path().join(MINER_KEY_FILE).exists());
    let arbiter = Arbiter::new();
    let chain = node.chain.clone();
    let miner = MinerActor::start_in_arbiter(&arbiter.handle(), move |_| MinerActor::new(chain));
    node.chain.do_send(RegisterMiner(miner.into()));
    let mined = wait_until(Duration::from_secs(60), || async {
        summary(&node).await.tip.height >= 1
    })
    .await;
    assert!(mined, "the registered miner got no work");
    let paid = account(&node, ironchain::testkit::address(7)).await.balance;
    assert!(paid > Amount::ZERO, "the reward went elsewhere");
    arbiter.stop();
    node.stop().await;
}

/// How harnesses start the binary (`testkit::node_process`, the soak): on port 0, the
/// port read from the node's log, so no other process can take it between a harness
/// choosing it and the node binding it; and a node that dies at start is reported at
/// once with its reason, not found out minutes later as a store that was never written.
#[test]
fn a_node_process_reports_the_port_it_bound_or_why_it_died_at_start() {
    use ironchain::testkit::node_process::NodeProcess;
    use std::process::Command;
    use std::time::{Duration, Instant};
    let binary = env!("CARGO_BIN_EXE_ironchain");
    let dir = tempfile::tempdir().unwrap();
    let node = |port: &str, data: &str| {
        let mut command = Command::new(binary);
        command
            .args(["--port", port, "--no-mine", "--no-http", "--data-dir"])
            .arg(dir.path().join(data))
            .env("RUST_LOG", "info");
        command
    };
    let log = dir.path().join("a.log");
    let a = NodeProcess::start(node("0", "a"), Some(&log), Duration::from_secs(60))
        .expect("a node on port 0 starts");
    assert_ne!(a.addr().port(), 0);
    assert!(a.addr().ip().is_loopback(), "{}", a.addr());
    let tip = Command::new(binary)
        .args(["tip", "--node", &a.addr().to_string()])
        .output()
        .unwrap();
    assert!(
        tip.status.success(),
        "{}",
        String::from_utf8_lossy(&tip.stderr)
    );
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("listening on"));

    // A second node on the first one's port dies at start; the harness says why, long
    // before its deadline.
    let started = Instant::now();
    let error = NodeProcess::start(
        node(&a.addr().port().to_string(), "b"),
        None,
        Duration::from_secs(60),
    )
    .err()
    .expect("the port is taken");
    assert!(started.elapsed() < Duration::from_secs(30), "{error}");
    assert!(error.contains("died at start"), "{error}");
    assert!(error.contains("cannot listen on"), "{error}");
}

/// A policy address is accepted wherever an address is, `--miner-address` included
/// (before: "74 characters, this one has 75"); the rewards go to the policy's account,
/// which only a spend signed by its members can move.
#[test]
fn a_node_mines_to_a_policy_address() {
    use ironchain::consensus::policy::Policy;
    use ironchain::testkit::node_process::NodeProcess;
    use std::time::Duration;
    let policy = Policy::new(1, vec![ironchain::testkit::address(1)]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ironchain"));
    command
        .args(["--port", "0", "--no-http", "--miner-address"])
        .arg(policy.address().to_string())
        .arg("--data-dir")
        .arg(dir.path().join("node"))
        .env("RUST_LOG", "info");
    let node = NodeProcess::start(command, None, Duration::from_secs(60))
        .expect("a node mining to a policy address starts");
    node.kill();
}

/// A client pointed at the explorer's port by mistake is told so, with the node's port
/// (the explorer's minus 1000 by default), and the node's log stays free of errors: a
/// request the explorer cannot parse is the sender's fault, not the node's.
#[test]
fn a_client_at_the_explorers_port_is_told_so_and_the_node_logs_no_error() {
    use ironchain::testkit::node_process::NodeProcess;
    use std::process::Command;
    use std::time::{Duration, Instant};
    let binary = env!("CARGO_BIN_EXE_ironchain");
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(binary);
    command
        .args(["--port", "0", "--no-mine", "--data-dir"])
        .arg(dir.path().join("node"))
        .env("RUST_LOG", "info");
    let node = NodeProcess::start(command, None, Duration::from_secs(60)).expect("starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    let explorer = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = node
            .lines()
            .recv_timeout(left)
            .expect("the explorer's line");
        let url = line
            .split_once("explorer at http://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(addr, _)| addr.to_string());
        lines.push(line);
        if let Some(addr) = url {
            break addr;
        }
    };
    let tip = Command::new(binary)
        .args(["tip", "--node", &explorer])
        .output()
        .unwrap();
    assert_eq!(tip.status.code(), Some(1));
    let error = String::from_utf8_lossy(&tip.stderr);
    assert!(
        error.starts_with(&format!(
            "error: {explorer} is an HTTP server, not an ironchain node: most likely the \
             explorer's port"
        )),
        "{error}"
    );
    // The node still answers, and has logged nothing at ERROR about the stray frame.
    let tip = Command::new(binary)
        .args(["tip", "--node", &node.addr().to_string()])
        .output()
        .unwrap();
    assert!(tip.status.success());
    let stopped = Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    while let Ok(line) = node.lines().recv_timeout(Duration::from_secs(30)) {
        lines.push(line);
    }
    assert!(
        lines.iter().any(|line| line.contains("shutting down")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|line| !line.contains("ERROR")),
        "{lines:?}"
    );
}
