//! Crash safety with the real binary (SPEC §4): a mining node killed with SIGKILL at an
//! arbitrary moment, several times over, restarts at a tip at least as high as the last
//! one it logged, passes `ironchain verify`, and carries on mining.

mod common;

use common::spawn_binary;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_ironchain");

/// A node process whose log lines arrive on a channel; killed (SIGKILL) when dropped.
struct Node {
    child: Child,
    lines: Receiver<String>,
}

impl Node {
    fn start(data_dir: &Path, config: &Path) -> Node {
        let (child, lines) = spawn_binary([
            "--port".as_ref(),
            "0".as_ref(),
            "--data-dir".as_ref(),
            data_dir.as_os_str(),
            "--config".as_ref(),
            config.as_os_str(),
        ]);
        Node { child, lines }
    }

    /// Waits for a log line containing `needle`, returning it.
    fn expect_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no log line containing {needle:?}");
    }

    /// Waits until the node logs a mined block at `height` or above.
    fn wait_for_height(&self, height: u64) -> u64 {
        loop {
            let line = self.expect_line("block mined: height ");
            let mined = height_in(&line);
            if mined >= height {
                return mined;
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn height_in(line: &str) -> u64 {
    let rest = &line[line.find("height ").expect("line has a height") + 7..];
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn killed_node_restarts_with_a_valid_chain_and_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fast.toml");
    std::fs::write(
        &config,
        "[chain]\npow_limit_bits = 0\ninitial_difficulty_bits = 8\ntarget_block_time_ms = 50\nretarget_interval = 10\n",
    )
    .unwrap();
    let data = dir.path().join("data");

    let mut last_logged = 0;
    for round in 0..3 {
        let node = Node::start(&data, &config);
        let opened = node.expect_line("tip height ");
        let reopened_at = height_in(&opened.replace("tip height", "height"));
        assert!(
            reopened_at >= last_logged,
            "round {round}: reopened at {reopened_at}, but height {last_logged} was logged"
        );
        last_logged = node.wait_for_height(reopened_at + 15);
        // SIGKILL mid-mining: no shutdown path runs.
        drop(node);

        let verify = Command::new(BINARY)
            .args(["verify", "--data-dir"])
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .output()
            .expect("verify runs");
        let stdout = String::from_utf8_lossy(&verify.stdout);
        assert!(
            verify.status.success(),
            "verify failed after kill: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
        assert!(stdout.contains("is valid"), "{stdout}");
    }
}
