//! A peer's graceful shutdown, with the real binary (issue 11 item 17): when a node is
//! stopped with Ctrl-C, its peer logs "peer ADDR is shutting down" by the stopped node's
//! listening address, not a rejection from an ephemeral port.

mod common;

use common::binary::BinaryNode;
use std::path::Path;
use std::process::Command;

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
