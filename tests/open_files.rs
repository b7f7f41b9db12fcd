//! The node raises its soft open-file limit to the hard one at start, and sizes the
//! explorer's connection cap from what it got (issue 22: 1,100 event streams exhausted a
//! node left at a soft limit of 1,024). Alone in its file: it lowers this process's own
//! soft limit for the child to inherit, which no concurrent test should see.

mod common;

use common::binary::{number_after, BinaryNode};
use ironchain::explorer::limits::ExplorerLimits;
use rlimit::Resource;

/// The soft "Max open files" of process `pid`.
fn soft_limit_of(pid: u32) -> u64 {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[test]
fn the_node_raises_its_open_file_limit_and_sizes_the_explorer_from_it() {
    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    let lowered = 300.min(hard);
    if hard <= lowered {
        eprintln!("skipped: the hard open-file limit ({hard}) leaves nothing to raise");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    rlimit::setrlimit(Resource::NOFILE, lowered, hard).unwrap();
    let node = BinaryNode::start([
        "--port",
        "0",
        "--no-mine",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    rlimit::setrlimit(Resource::NOFILE, soft, hard).unwrap();
    let line = node.line_with("explorer at ");
    // The bound: the node runs at the hard limit, not the soft one it was given, and its
    // explorer's connection cap is the share of that limit.
    assert_eq!(soft_limit_of(node.id()), hard);
    let expected = ExplorerLimits::from_open_files(hard).max_connections as u64;
    assert_eq!(number_after(&line, "at most "), expected, "{line}");
    assert!(expected > ExplorerLimits::from_open_files(lowered).max_connections as u64);
}
