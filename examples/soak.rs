//! Soak (issue 10): four `ironchain` processes mining at a tiny difficulty, a steady stream
//! of signed transfers, and one node killed with SIGKILL and restarted every minute, for
//! `--minutes N` (default 10). Every minute it prints each node's resident memory, open
//! file descriptors (`/proc/PID/fd`), mempool size and height. At the end it checks that
//! the nodes converged, that `ironchain verify` passes on every data directory, and that
//! no accepted transfer was lost, and exits non-zero if any of that fails.
//!
//! Node 0 is never killed, so one process runs for the whole soak: its memory and
//! descriptors show whether anything grows. Nodes 1–3 take turns being killed.
//! Transfers come from four funded senders, sender i always through node i (as a wallet
//! talks to its own node), each taking its nonce from that node like `ironchain send`.
//!
//! The nodes are the release binary, so build it first; from the repository root:
//!
//!     cargo build --release && cargo run --release --example soak -- --minutes 30
//!
//! (`IRONCHAIN_BIN=PATH` runs another binary.) Data and logs go to `runs/soak/`; the nodes
//! run under `nice` to leave the machine usable.

mod common;

use clap::Parser;
use ironchain::cli::rpc::NodeConnection;
use ironchain::consensus::address::Address;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::hash::{BlockHash, TxId};
use ironchain::consensus::signatures::SigningKey;
use ironchain::consensus::transaction::UnsignedTransaction;
use ironchain::net::message::{Message, TxStatus};
use ironchain::testkit;
use ironchain::testkit::node_process::NodeProcess;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const NODES: usize = 4;
/// One transfer is submitted every this often, the senders taking turns.
const TRANSFER_EVERY: Duration = Duration::from_millis(500);
const KILL_EVERY: Duration = Duration::from_secs(60);
/// How long the end of the run may take to confirm what is pending and converge.
const SETTLE: Duration = Duration::from_secs(180);
const RPC_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a node may take to open its store and say where it listens.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// Test keys of the funded senders (sender i submits through node i).
fn sender_key(i: usize) -> SigningKey {
    testkit::key(7_000 + i as u64)
}

/// A tiny-difficulty network: blocks every ~2 s across four miners once retargeting has
/// caught up with the machine's hash rate; a block per minute of transfers fits easily.
fn chain_config() -> String {
    let mut config = String::from(
        "[chain]\n\
         genesis_message = \"ironchain soak\"\n\
         pow_limit_bits = 4\n\
         initial_difficulty_bits = 16\n\
         target_block_time_ms = 2000\n\
         retarget_interval = 10\n",
    );
    for i in 0..NODES {
        config.push_str(&format!(
            "\n[[chain.allocations]]\naddress = \"{}\"\namount = 1000000000\n",
            Address::of(&sender_key(i))
        ));
    }
    config
}

/// One node process; its stderr log is appended to across restarts. It listens on a
/// port the OS picks (a new one at each restart), read from its log.
struct Node {
    addr: Option<SocketAddr>,
    dir: PathBuf,
    log: PathBuf,
    child: Option<NodeProcess>,
    restarts: u32,
    killed_at: Vec<Instant>,
}

struct Soak {
    binary: PathBuf,
    config: PathBuf,
    extra_args: Vec<String>,
    nodes: Vec<Node>,
    connections: HashMap<usize, NodeConnection>,
}

/// An accepted transfer and where it went in.
struct Sent {
    txid: TxId,
    sender: usize,
    nonce: u64,
    at: Instant,
}

impl Soak {
    /// Starts node `i` on port 0, joining through the nodes running now, and waits until
    /// it says where it listens; an error, with its last log lines, if it dies first.
    fn start(&mut self, i: usize) -> Result<(), String> {
        let peers: Vec<String> = (0..NODES)
            .filter(|&j| j != i)
            .filter_map(|j| self.nodes[j].addr)
            .flat_map(|addr| ["--peer".to_string(), addr.to_string()])
            .collect();
        let node = &self.nodes[i];
        let mut command = Command::new("nice");
        command
            .args(["-n", "10"])
            .arg(&self.binary)
            .args(["--port", "0", "--data-dir"])
            .arg(&node.dir)
            .arg("--config")
            .arg(&self.config)
            .args(["--miner-threads", "1"])
            .args(&self.extra_args)
            .args(peers)
            .env("RUST_LOG", "info");
        let process = NodeProcess::start(command, Some(&node.log), START_DEADLINE)
            .map_err(|e| format!("node-{i} (log {}): {e}", node.log.display()))?;
        self.nodes[i].addr = Some(process.addr());
        self.nodes[i].child = Some(process);
        Ok(())
    }

    /// SIGKILL, as `kill -9`.
    fn kill(&mut self, i: usize) {
        if let Some(child) = self.nodes[i].child.take() {
            child.kill();
        }
        self.nodes[i].addr = None;
        self.connections.remove(&i);
    }

    fn pid(&self, i: usize) -> Option<u32> {
        self.nodes[i].child.as_ref().map(NodeProcess::id)
    }

    /// One request to node `i` over a kept connection, reopened after any failure.
    fn request(&mut self, i: usize, message: Message) -> Option<Message> {
        if !self.connections.contains_key(&i) {
            let addr = self.nodes[i].addr?.to_string();
            let connection = NodeConnection::open(&addr, RPC_TIMEOUT).ok()?;
            self.connections.insert(i, connection);
        }
        let reply = self.connections.get_mut(&i)?.request(message);
        if reply.is_err() {
            self.connections.remove(&i);
        }
        reply.ok()
    }

    fn genesis(&mut self, i: usize) -> Option<BlockHash> {
        self.request(i, Message::GetTip)?;
        self.connections.get(&i).map(|c| *c.genesis())
    }

    fn tip(&mut self, i: usize) -> Option<(u64, BlockHash)> {
        match self.request(i, Message::GetTip)? {
            Message::Tip { height, hash, .. } => Some((height, hash)),
            _ => None,
        }
    }

    /// (confirmed nonce, next nonce counting the node's mempool) of sender `s` at node `i`.
    fn nonces(&mut self, i: usize, s: usize) -> Option<(u64, u64)> {
        let address = Address::of(&sender_key(s));
        match self.request(i, Message::GetAccount(address))? {
            Message::Account {
                account,
                next_nonce,
                ..
            } => Some((account.nonce, next_nonce)),
            _ => None,
        }
    }

    /// The node's mempool size: only the soak's senders transact, so their pending
    /// transfers are all of it.
    fn mempool(&mut self, i: usize) -> Option<u64> {
        (0..NODES)
            .map(|s| {
                self.nonces(i, s)
                    .map(|(done, next)| next.saturating_sub(done))
            })
            .sum()
    }

    fn tx_status(&mut self, i: usize, txid: TxId) -> Option<TxStatus> {
        match self.request(i, Message::GetTx(txid))? {
            Message::TxReply(status) => Some(*status),
            _ => None,
        }
    }

    /// Signs sender `s`'s next transfer (nonce from node `s`) and submits it there.
    fn transfer(&mut self, s: usize, counter: u64) -> Result<Sent, String> {
        let genesis = self.genesis(s).ok_or("node unreachable")?;
        let (_, nonce) = self.nonces(s, s).ok_or("node unreachable")?;
        let tx = UnsignedTransaction {
            receiver: testkit::address(8_000 + counter % 64),
            amount: Amount::new(1 + counter % 1_000),
            fee: Amount::new(1 + counter % 7),
            nonce,
            message: format!("soak {counter}"),
        }
        .sign(&sender_key(s), &genesis);
        match self.request(s, Message::SubmitTx(tx)) {
            Some(Message::TxAccepted(txid)) => Ok(Sent {
                txid,
                sender: s,
                nonce,
                at: Instant::now(),
            }),
            Some(Message::TxRejected { reason }) => Err(reason),
            _ => Err("node unreachable".into()),
        }
    }

    fn report_minute(&mut self, minute: u64, accepted: usize, refused: usize) -> serde_json::Value {
        let mut parts = Vec::new();
        let mut nodes = Vec::new();
        for i in 0..NODES {
            let pid = self.pid(i);
            let rss = pid.map_or(0.0, common::rss_mib_of);
            let fds = pid.map_or(0, open_fds);
            let mempool = self.mempool(i);
            let height = self.tip(i).map(|(height, _)| height);
            let show = |value: Option<u64>| value.map_or("-".into(), |v| v.to_string());
            parts.push(format!(
                "node{i} rss {rss:.1} MiB fds {fds} mempool {} height {}{}",
                show(mempool),
                show(height),
                if self.nodes[i].restarts > 0 {
                    format!(" (restarts {})", self.nodes[i].restarts)
                } else {
                    String::new()
                }
            ));
            nodes.push(json!({
                "node": i, "rss_mib": (rss * 10.0).round() / 10.0, "fds": fds,
                "mempool": mempool, "height": height, "restarts": self.nodes[i].restarts,
            }));
        }
        println!(
            "minute {minute}: {} | transfers accepted {accepted}, refused {refused}",
            parts.join(" | ")
        );
        json!({ "minute": minute, "nodes": nodes, "accepted": accepted, "refused": refused })
    }
}

fn open_fds(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |entries| entries.count())
}

fn default_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("IRONCHAIN_BIN") {
        return PathBuf::from(path);
    }
    // This example runs from target/<profile>/examples/; the binary is in target/<profile>/.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("ironchain")))
        .unwrap_or_else(|| PathBuf::from("ironchain"))
}

fn verify(binary: &Path, config: &Path, dir: &Path) -> (bool, String) {
    match Command::new(binary)
        .arg("verify")
        .arg("--data-dir")
        .arg(dir)
        .arg("--config")
        .arg(config)
        .output()
    {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout).to_string()
                + &String::from_utf8_lossy(&output.stderr);
            let last = text.lines().last().unwrap_or("").to_string();
            (output.status.success(), last)
        }
        Err(error) => (false, format!("cannot run verify: {error}")),
    }
}

/// Multi-process soak with kills and restarts.
#[derive(Parser)]
struct Args {
    /// How long to soak; at most what still counts in seconds without overflow.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=u64::MAX / 60))]
    minutes: u64,
}

fn main() -> ExitCode {
    let Args { minutes } = Args::parse();
    let binary = default_binary();
    if !binary.exists() {
        eprintln!(
            "error: no ironchain binary at {} (run `cargo build --release` first, or set IRONCHAIN_BIN)",
            binary.display()
        );
        return ExitCode::FAILURE;
    }
    let root = PathBuf::from("runs").join("soak");
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).expect("create runs/soak");
    let config = root.join("soak.toml");
    fs::write(&config, chain_config()).expect("write the soak config");
    // A node with an HTTP server takes port + 1000 too; the soak needs only the node port.
    let help = Command::new(&binary).arg("--help").output();
    let extra_args = match help {
        Ok(output) if String::from_utf8_lossy(&output.stdout).contains("--no-http") => {
            vec!["--no-http".to_string()]
        }
        _ => Vec::new(),
    };
    let nodes = (0..NODES)
        .map(|i| Node {
            addr: None,
            dir: root.join(format!("node-{i}")),
            log: root.join(format!("node-{i}.log")),
            child: None,
            restarts: 0,
            killed_at: Vec::new(),
        })
        .collect();
    let mut soak = Soak {
        binary: binary.clone(),
        config: config.clone(),
        extra_args,
        nodes,
        connections: HashMap::new(),
    };
    println!(
        "soak: {NODES} nodes ({}), {minutes} minute(s), a transfer every {} ms, one node killed (SIGKILL) and restarted every {} s; data and logs in {}",
        binary.display(),
        TRANSFER_EVERY.as_millis(),
        KILL_EVERY.as_secs(),
        root.display()
    );
    for i in 0..NODES {
        if let Err(error) = soak.start(i) {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    }

    let started = Instant::now();
    let end = started + Duration::from_secs(minutes * 60);
    let mut sent: Vec<Sent> = Vec::new();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    let mut minutes_json = Vec::new();
    let mut next_transfer = started;
    let mut next_minute = started + Duration::from_secs(60);
    let mut next_kill = started + KILL_EVERY;
    let mut victim = 0;
    let mut counter = 0u64;
    let mut minute = 0;
    while Instant::now() < end {
        let now = Instant::now();
        if now >= next_minute {
            minute += 1;
            let refused = refusals.values().sum();
            minutes_json.push(soak.report_minute(minute, sent.len(), refused));
            next_minute += Duration::from_secs(60);
        }
        if now >= next_kill {
            victim = victim % (NODES - 1) + 1;
            soak.kill(victim);
            soak.nodes[victim].restarts += 1;
            soak.nodes[victim].killed_at.push(Instant::now());
            if let Err(error) = soak.start(victim) {
                eprintln!("error: restarting {error}");
                return ExitCode::FAILURE;
            }
            next_kill += KILL_EVERY;
        }
        if now >= next_transfer {
            let s = (counter % NODES as u64) as usize;
            match soak.transfer(s, counter) {
                Ok(accepted) => sent.push(accepted),
                Err(reason) => *refusals.entry(reason).or_default() += 1,
            }
            counter += 1;
            next_transfer += TRANSFER_EVERY;
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // The end: no more transfers or kills; the nodes mine until every transfer they hold
    // is confirmed and they agree on one tip.
    let settle_until = Instant::now() + SETTLE;
    let mut converged = false;
    let mut tips = Vec::new();
    while Instant::now() < settle_until {
        tips = (0..NODES).map(|i| soak.tip(i)).collect::<Vec<_>>();
        let pending: u64 = (0..NODES).filter_map(|i| soak.mempool(i)).sum();
        converged = tips.iter().all(|tip| tip.is_some() && *tip == tips[0]);
        if converged && pending == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // Every accepted transfer: confirmed on node 0's best chain, or pending somewhere.
    let mut confirmed = 0;
    let mut pending = 0;
    let mut lost = Vec::new();
    for entry in &sent {
        match soak.tx_status(0, entry.txid) {
            Some(TxStatus::Confirmed { .. }) => confirmed += 1,
            _ => {
                let held = (0..NODES)
                    .any(|i| matches!(soak.tx_status(i, entry.txid), Some(TxStatus::Pending(_))));
                if held {
                    pending += 1;
                } else {
                    lost.push(entry);
                }
            }
        }
    }
    // A lost transfer's node was killed after taking it ("lost at a restart": the mempool
    // held it only in memory); when the same sender and nonce are confirmed in another
    // transfer, the restarted node had forgotten it and handed its nonce out again.
    let mut lost_at_restart = 0;
    let mut superseded = 0;
    for entry in &lost {
        if soak.nodes[entry.sender]
            .killed_at
            .iter()
            .any(|&killed| killed > entry.at)
        {
            lost_at_restart += 1;
        }
        let replaced = sent.iter().any(|other| {
            other.sender == entry.sender
                && other.nonce == entry.nonce
                && other.txid != entry.txid
                && matches!(
                    soak.tx_status(0, other.txid),
                    Some(TxStatus::Confirmed { .. })
                )
        });
        if replaced {
            superseded += 1;
        }
    }

    let mut final_nodes = Vec::new();
    for i in 0..NODES {
        let pid = soak.pid(i);
        final_nodes.push(json!({
            "node": i,
            "rss_mib": pid.map_or(0.0, common::rss_mib_of),
            "fds": pid.map_or(0, open_fds),
            "height": tips.get(i).copied().flatten().map(|(height, _)| height),
        }));
    }
    for i in 0..NODES {
        soak.kill(i);
    }
    let mut verified = true;
    for i in 0..NODES {
        let (ok, line) = verify(&binary, &config, &soak.nodes[i].dir);
        println!(
            "verify node-{i}: {} ({line})",
            if ok { "passed" } else { "FAILED" }
        );
        verified &= ok;
    }
    let restarts: u32 = soak.nodes.iter().map(|node| node.restarts).sum();
    println!(
        "transfers: {} accepted, {confirmed} confirmed on the best chain, {pending} pending, {} lost ({lost_at_restart} of them accepted by a node killed before they were mined, {superseded} superseded by another transfer of the same sender and nonce); refusals: {refusals:?}",
        sent.len(),
        lost.len()
    );
    let passed = converged && verified && lost.is_empty();
    common::report(
        "soak",
        format!(
            "{minutes} min, {restarts} kills, converged {converged}, verify {}, lost {}: {}",
            if verified { "passed" } else { "FAILED" },
            lost.len(),
            if passed { "PASS" } else { "FAIL" }
        ),
        json!({
            "minutes": minutes, "restarts": restarts, "converged": converged,
            "verified": verified, "accepted": sent.len(), "confirmed": confirmed,
            "pending": pending, "lost": lost.len(), "lost_at_restart": lost_at_restart,
            "superseded": superseded, "refusals": refusals, "per_minute": minutes_json,
            "final": final_nodes,
        }),
    );
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
