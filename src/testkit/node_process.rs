//! An `ironchain` node process for harnesses (the soak, tests of the binary): the node is
//! started on port 0, so the operating system picks a free port at bind time, and the
//! harness learns it from the node's `listening on ADDR` log line. Choosing a "free" port
//! in the harness and handing it over races with every other process on the machine.
//! A node that dies at start is noticed at once, with the last lines it logged.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Log lines kept for the harness to read; beyond, lines are only copied to the log file
/// (so a node that logs for hours does not fill the harness's memory).
const KEPT_LINES: usize = 10_000;
/// Log lines quoted when a node dies at start.
const QUOTED_LINES: usize = 5;

/// A running node process. Dropping it kills the process (SIGKILL).
pub struct NodeProcess {
    child: Child,
    lines: Receiver<String>,
    addr: SocketAddr,
}

impl NodeProcess {
    /// Spawns `command` (a node started with `--port 0`, or any port) with its log
    /// (stderr) appended to `log` if given, and waits until the node logs the address it
    /// listens on. An error, quoting the node's last log lines, when the process exits
    /// first or has not said within `deadline`.
    pub fn start(
        mut command: Command,
        log: Option<&Path>,
        deadline: Duration,
    ) -> Result<NodeProcess, String> {
        let mut log_file = match log {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
            ),
            None => None,
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        let stderr = child.stderr.take().ok_or("stderr is not piped")?;
        let (sender, lines) = sync_channel(KEPT_LINES);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(file) = &mut log_file {
                    let _ = writeln!(file, "{line}");
                }
                // Full: the harness reads no more; the log file has everything.
                let _ = sender.try_send(line);
            }
        });
        let mut process = NodeProcess {
            child,
            lines,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        };
        let started = Instant::now();
        let mut seen: Vec<String> = Vec::new();
        loop {
            let left = deadline.saturating_sub(started.elapsed());
            match process.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = listening_addr(&line) {
                        process.addr = addr;
                        return Ok(process);
                    }
                    seen.push(line);
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = process
                        .child
                        .wait()
                        .map_or_else(|e| e.to_string(), |status| status.to_string());
                    return Err(format!(
                        "the node died at start ({status}); its last log lines: {}",
                        last_lines(&seen)
                    ));
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the node did not say where it listens within {deadline:?}; \
                         its last log lines: {}",
                        last_lines(&seen)
                    ));
                }
            }
        }
    }

    /// Where to reach the node: its listening address, with 127.0.0.1 for a node bound
    /// to every interface.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id, to send it a signal.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The log lines the node wrote since the last call (at most `KEPT_LINES` kept).
    pub fn lines(&self) -> &Receiver<String> {
        &self.lines
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in a node's `listening on ADDR` log line (loopback for an unspecified
/// address, which is where a local harness reaches it).
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let text = line.split("listening on ").nth(1)?;
    let mut addr: SocketAddr = text.split_whitespace().next()?.parse().ok()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    Some(addr)
}

fn last_lines(seen: &[String]) -> String {
    if seen.is_empty() {
        return "none".to_string();
    }
    seen[seen.len().saturating_sub(QUOTED_LINES)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_a_reachable_address() {
        let line = "[2026-12-08T01:00:00Z INFO  ironchain::node] listening on 0.0.0.0:40123";
        assert_eq!(
            listening_addr(line),
            Some("127.0.0.1:40123".parse().unwrap())
        );
        let line = "INFO listening on 127.0.0.3:5";
        assert_eq!(listening_addr(line), Some("127.0.0.3:5".parse().unwrap()));
        assert_eq!(listening_addr("INFO mining to ic1…"), None);
    }
}
