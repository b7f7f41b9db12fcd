//! A peer's graceful shutdown, with the real binary (issue 11 item 17): when a node is
//! stopped with Ctrl-C, its peer logs "peer ADDR is shutting down" by the stopped node's
//! listening address, not a rejection from an ephemeral port.

mod common;

use common::spawn_binary;
use std::process::{Child, Command};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// A node process (killed when dropped) and its log lines.
struct Node(Child, Receiver<String>);

impl Node {
    fn start(data_dir: &std::path::Path, extra: &[&str]) -> Node {
        use std::ffi::OsStr;
        let mut args: Vec<&OsStr> = ["--port", "0", "--no-mine", "--data-dir"]
            .map(OsStr::new)
            .to_vec();
        args.push(data_dir.as_os_str());
        args.extend(extra.iter().map(OsStr::new));
        let (child, lines) = spawn_binary(args);
        Node(child, lines)
    }

    /// The first log line containing `needle`.
    fn line_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.1.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no log line containing {needle:?}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_stopping_peer_is_logged_as_shutting_down_by_its_listening_address() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Node::start(dir_a.path(), &[]);
    let listening = a.line_with("listening on ");
    let port = listening.rsplit(':').next().unwrap().trim().to_string();
    let a_addr = format!("127.0.0.1:{port}");
    let b = Node::start(dir_b.path(), &["--peer", &a_addr]);
    b.line_with(&format!("peer joined: {a_addr}"));

    let status = Command::new("kill")
        .args(["-INT", &a.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let line = b.line_with("shutting down");
    assert!(
        line.contains(&format!("peer {a_addr} is shutting down")),
        "{line}"
    );
}
