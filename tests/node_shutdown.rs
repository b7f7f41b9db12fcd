//! A node's clean shutdown, with the real binary: SIGTERM and SIGHUP stop it exactly as
//! Ctrl-C does (exit 0, store and mempool intact), and when a node stops, its peer logs
//! "peer ADDR is shutting down" by the stopped node's listening address, not a rejection
//! from an ephemeral port (issue 11 item 17).

mod common;

use common::binary::BinaryNode;
use ironchain::consensus::address::Address;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ironchain");

fn start(data_dir: &Path, extra: &[&str]) -> BinaryNode {
    let mut args = vec!["--port", "0", "--no-mine", "--data-dir"];
    args.push(data_dir.to_str().expect("temp dirs are UTF-8"));
    args.extend(extra);
    BinaryNode::start(args)
}

#[test]
fn a_stopping_peer_is_logged_as_shutting_down_by_its_listening_address() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path(), &[]);
    let a_addr = a.listen_addr();
    let b = start(dir_b.path(), &["--peer", &a_addr]);
    b.line_with(&format!("peer joined: {a_addr}"));

    let status = Command::new("kill")
        .args(["-INT", &a.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let line = b.line_with("shutting down");
    assert!(
        line.contains(&format!("peer {a_addr} is shutting down")),
        "{line}"
    );
}

/// Every stop signal a supervisor or a terminal sends is the clean shutdown: the node
/// logs it, exits 0 (not 128 + the signal), its store verifies, and the transfer pending
/// in its mempool is back after a restart. Before SIGTERM and SIGHUP were handled, the
/// process died of them (no exit code at all) with nothing of the shutdown logged.
#[test]
fn sigterm_and_sighup_are_the_same_clean_shutdown_as_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("sender.key");
    let key = ironchain::testkit::key(1);
    ironchain::keyfile::save(&key_file, &key).unwrap();
    let config = dir.path().join("chain.toml");
    std::fs::write(
        &config,
        format!(
            "[chain]\npow_limit_bits = 0\ninitial_difficulty_bits = 8\n\n\
             [[chain.allocations]]\naddress = \"{}\"\namount = 1000\n",
            Address::of(&key)
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let config_arg = config.to_str().unwrap();
    let start = || start(&data, &["--config", config_arg, "--no-http"]);
    let node = start();
    let addr = node.listen_addr();
    let sent = Command::new(BIN)
        .args(["send", "--key", key_file.to_str().unwrap()])
        .args(["--to", &ironchain::testkit::address(2).to_string()])
        .args(["--amount", "5", "--fee", "1", "--node", &addr])
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );

    let mut node = node;
    for signal in ["TERM", "HUP", "INT"] {
        let (status, log) = node.stop_with(signal);
        assert_eq!(status.code(), Some(0), "SIG{signal}: {status}; log {log:?}");
        assert!(
            log.iter()
                .any(|line| line.contains(&format!("shutting down (SIG{signal})"))),
            "SIG{signal}: {log:?}"
        );
        let verified = Command::new(BIN)
            .args(["verify", "--config", config_arg, "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            verified.status.success(),
            "verify after SIG{signal}: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
        node = start();
        node.line_with("mempool: 1 transaction restored");
    }
}
