//! A real `ironchain` process, for tests that need the binary itself (kill -9, signals,
//! what a user runs): its log lines arrive on a channel, a test waits for a line with a
//! deadline instead of sleeping, and the process is killed when the handle is dropped.

use super::spawn_binary;
use std::ffi::OsStr;
use std::process::{Child, ExitStatus};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// How long a test waits for one expected log line.
const LINE_DEADLINE: Duration = Duration::from_secs(60);

/// A running `ironchain` process, killed (SIGKILL) when dropped.
pub struct BinaryNode {
    child: Child,
    lines: Receiver<String>,
}

impl BinaryNode {
    /// Starts the binary with `args` at `RUST_LOG=info`.
    pub fn start<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> BinaryNode {
        let (child, lines) = spawn_binary(args);
        BinaryNode { child, lines }
    }

    /// The process id, to send it a signal.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The next log line containing `needle`; panics after [`LINE_DEADLINE`].
    pub fn line_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + LINE_DEADLINE;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no log line containing {needle:?}");
    }

    /// The address the node listens on, as `127.0.0.1:PORT`, from its log.
    pub fn listen_addr(&self) -> String {
        let line = self.line_with("listening on ");
        let port = line.rsplit(':').next().unwrap_or_default().trim();
        format!("127.0.0.1:{port}")
    }

    /// The height a node reopened its chain at, from its start-up log line.
    pub fn opened_height(&self) -> u64 {
        number_after(&self.line_with("tip height "), "tip height ")
    }

    /// Waits until the node logs a block it mined at `height` or above; returns that
    /// height.
    pub fn wait_for_mined(&self, height: u64) -> u64 {
        loop {
            let mined = number_after(&self.line_with("block mined: height "), "height ");
            if mined >= height {
                return mined;
            }
        }
    }

    /// Sends the process `signal` (a name `kill` takes: "TERM", "HUP", "INT") and waits
    /// for it to exit; panics if it has not after [`LINE_DEADLINE`]. Returns its exit
    /// status and the log lines no wait has consumed.
    pub fn stop_with(mut self, signal: &str) -> (ExitStatus, Vec<String>) {
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} failed");
        let deadline = Instant::now() + LINE_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                // The reader thread ends at the pipe's end, which the process has closed.
                let mut rest = Vec::new();
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    rest.push(line);
                }
                return (status, rest);
            }
            assert!(
                Instant::now() < deadline,
                "still running {LINE_DEADLINE:?} after SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL (no shutdown path runs) and returns the log lines
    /// it wrote that no wait has consumed yet.
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = Vec::new();
        // The reader thread ends at the pipe's end, which the dead process has closed.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            rest.push(line);
        }
        rest
    }
}

impl Drop for BinaryNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number that follows `label` in a log line.
pub fn number_after(line: &str, label: &str) -> u64 {
    let at = line
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} not in {line:?}"));
    line[at + label.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in {line:?}"))
}
