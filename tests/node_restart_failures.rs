//! The real binary across failures and restarts (issue 10):
//! - a full disk (the file-size limit lowered with `ulimit -f`, SIGXFSZ ignored) ends the
//!   node with a non-zero exit and one clear line when a commit fails; restarted without
//!   the limit, `verify` passes and it catches up with its peer;
//! - a data directory that could not even be initialised is not left behind;
//! - a transfer accepted by a node that does not mine survives `kill -9` of that node, is
//!   pending again after the restart, and is mined once a miner connects.

use serde_json::Value;
mod common;

use common::log_lines;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ironchain");
const LONG: Duration = Duration::from_secs(60);
/// Just above the size of a new chain.redb (about 1.5 MiB, in 1 KiB blocks of `ulimit -f`):
/// the store opens, and fails once the chain grows past it.
const FILE_LIMIT_KB: u32 = 1600;

/// A node process whose log lines arrive on a channel; killed (SIGKILL) when dropped.
struct Node {
    child: Child,
    lines: Receiver<String>,
    /// What the node logged up to its listening address.
    startup: Vec<String>,
    addr: String,
}

/// Starts `ironchain` with `args` (through bash when `file_limit_kb` is set, so the limit
/// applies to the node alone), and waits for its listening address.
fn start(args: &[&str], file_limit_kb: Option<u32>) -> Node {
    let mut command = match file_limit_kb {
        Some(limit) => {
            let mut bash = Command::new("bash");
            bash.arg("-c")
                .arg(format!(
                    "trap '' XFSZ; ulimit -f {limit}; exec \"$0\" \"$@\""
                ))
                .arg(BIN);
            bash
        }
        None => Command::new(BIN),
    };
    let mut child = command
        .args(["--port", "0"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // A pipe, not a file: the file-size limit must not stop the log.
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let lines = log_lines(child.stderr.take().expect("stderr is piped"));
    let mut node = Node {
        child,
        lines,
        startup: Vec::new(),
        addr: String::new(),
    };
    let deadline = Instant::now() + LONG;
    let line = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match node.lines.recv_timeout(left) {
            Ok(line) if line.contains("listening on ") => break line,
            Ok(line) => node.startup.push(line),
            Err(_) => panic!("the node did not start: {:?}", node.startup),
        }
    };
    let port = line
        .rsplit(':')
        .next()
        .expect("an address")
        .trim()
        .to_string();
    node.addr = format!("127.0.0.1:{port}");
    node
}

impl Node {
    /// Waits for the process to exit by itself, returning its status and last log line.
    fn wait_for_exit(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + LONG;
        let mut last = String::new();
        loop {
            while let Ok(line) = self.lines.try_recv() {
                last = line;
            }
            if let Some(status) = self.child.try_wait().expect("wait works") {
                // The rest of the log is in the pipe until the reader thread ends.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    last = line;
                }
                return (status, last);
            }
            assert!(Instant::now() < deadline, "the node did not exit: a zombie");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json(args: &[&str]) -> Value {
    let output = run(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

fn height(node: &Node) -> u64 {
    json(&["tip", "--node", &node.addr, "--json"])["height"]
        .as_u64()
        .expect("a height")
}

fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + LONG;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn write_config(dir: &Path, extra: &str) -> String {
    let path = dir.join("chain.toml");
    std::fs::write(
        &path,
        format!(
            "[chain]\npow_limit_bits = 0\ninitial_difficulty_bits = 4\n\
             target_block_time_ms = 2\nretarget_interval = 10\n{extra}"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_full_disk_ends_the_node_loudly_and_it_recovers_without_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let (miner_dir, full_dir) = (dir.path().join("miner"), dir.path().join("full"));
    let (miner_dir, full_dir) = (miner_dir.to_str().unwrap(), full_dir.to_str().unwrap());
    let miner = start(&["--config", &config, "--data-dir", miner_dir], None);
    // A chain long enough that storing it outgrows the limit.
    assert!(wait_until(|| height(&miner) >= 1_500), "the miner stalled");

    let full_args = [
        "--config",
        &config,
        "--data-dir",
        full_dir,
        "--no-mine",
        "--peer",
        &miner.addr,
    ];
    let mut full = start(&full_args, Some(FILE_LIMIT_KB));
    let (status, last) = full.wait_for_exit();
    assert!(!status.success(), "exit status {status}");
    assert!(
        last.starts_with("error: store failure, node stopped: ") && last.contains("File too large"),
        "{last}"
    );

    let verify = run(&["verify", "--data-dir", full_dir, "--config", &config]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    let restarted = start(&full_args, None);
    let target = height(&miner);
    assert!(
        wait_until(|| height(&restarted) >= target),
        "the restarted node did not catch up to {target}"
    );
    // Catching up behind a fast miner makes orphans of its relays: nobody is to blame.
    for node in [&miner, &restarted] {
        let blamed: Vec<String> = node
            .lines
            .try_iter()
            .filter(|line| line.contains("misbehaved"))
            .collect();
        assert!(blamed.is_empty(), "{blamed:?}");
    }
    drop(restarted);
    let verify = run(&["verify", "--data-dir", full_dir, "--config", &config]);
    assert!(verify.status.success());
}

#[test]
fn a_data_dir_that_cannot_be_initialised_is_not_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let data = dir.path().join("data");
    let output = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"")
        .arg(BIN)
        .args([
            "--port",
            "0",
            "--no-mine",
            "--config",
            &config,
            "--data-dir",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open chain in "),
        "{stderr}"
    );
    assert!(!data.exists(), "a half-made data directory was left behind");
}

#[test]
fn a_transfer_survives_kill_9_of_its_node_and_is_mined_once_a_miner_connects() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("alice.key");
    let key = key.to_str().unwrap();
    let alice = json(&["wallet", "new", "--out", key, "--json"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let config = write_config(
        dir.path(),
        &format!("\n[[chain.allocations]]\naddress = \"{alice}\"\namount = 1000\n"),
    );
    let relay_dir = dir.path().join("relay");
    let relay_args = [
        "--config",
        &config,
        "--data-dir",
        relay_dir.to_str().unwrap(),
        "--no-mine",
    ];

    let relay = start(&relay_args, None);
    let sent = json(&[
        "send",
        "--node",
        &relay.addr,
        "--key",
        key,
        "--to",
        &alice,
        "--amount",
        "5",
        "--fee",
        "1",
        "--json",
    ]);
    assert_eq!(sent["accepted"], true);
    let txid = sent["txid"].as_str().unwrap().to_string();
    // SIGKILL: no shutdown path runs.
    drop(relay);

    let relay = start(&relay_args, None);
    assert!(
        relay
            .startup
            .iter()
            .any(|line| line.contains("mempool: 1 transaction restored")),
        "{:?}",
        relay.startup
    );
    let status = |node: &Node| json(&["tx", &txid, "--node", &node.addr, "--json"]);
    assert_eq!(status(&relay)["status"], "pending");

    let miner_dir = dir.path().join("miner");
    let _miner = start(
        &[
            "--config",
            &config,
            "--data-dir",
            miner_dir.to_str().unwrap(),
            "--peer",
            &relay.addr,
        ],
        None,
    );
    assert!(
        wait_until(|| status(&relay)["height"].as_u64().is_some()),
        "the restored transfer was not mined"
    );
}
