//! Helpers for tests that run real nodes on loopback inside one actix system: settings
//! with OS-assigned ports and tiny difficulty, polling with a timeout instead of sleeps,
//! short-hand queries to a node's actors, and reading the node's frames off a raw socket.
//! `chain` holds the helpers of tests that drive a `Chain` without any node.

#![allow(dead_code)]

pub mod binary;
pub mod chain;

use ironchain::chain::state::Account;
use ironchain::consensus::address::Address;
use ironchain::consensus::block::Block;
use ironchain::consensus::params::ChainParams;
use ironchain::net::frame::MAX_FRAME_BYTES;
use ironchain::net::message::{BlockRef, Message};
use ironchain::net::only_net::OnlyNet;
use ironchain::node::chain_actor::{ChainSummary, GetAccount, GetBlock, GetSummary};
use ironchain::node::limits::NetLimits;
use ironchain::node::peer_manager::GetPeers;
use ironchain::node::{start_node, NodeHandle, NodeSettings};
use ironchain::testkit;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Chain parameters for node tests: blocks come quickly, retargeting toward 100 ms.
pub fn fast_params(allocations: &[(Address, u64)]) -> ChainParams {
    ChainParams {
        initial_difficulty_bits: 10,
        target_block_time_ms: 100,
        retarget_interval: 10,
        ..testkit::params(allocations)
    }
}

/// Settings for a node on 127.0.0.1 with an OS-chosen port.
pub fn settings(
    params: &ChainParams,
    dir: &Path,
    peers: &[SocketAddr],
    mine: bool,
    miner: u64,
) -> NodeSettings {
    NodeSettings {
        params: params.clone(),
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        peers: peers.to_vec(),
        mine,
        miner_address: Some(testkit::address(miner)),
        miner_threads: 1,
        max_inbound: 16,
        max_outbound: 8,
        send_delay: Duration::ZERO,
        // No test dials an address off this machine.
        limits: NetLimits {
            only_net: OnlyNet::loopback(),
            ..NetLimits::default()
        },
    }
}

pub async fn start(settings: NodeSettings) -> NodeHandle {
    start_node(settings).await.expect("node starts")
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn summary(node: &NodeHandle) -> ChainSummary {
    node.chain
        .send(GetSummary)
        .await
        .expect("chain actor answers")
}

pub async fn account(node: &NodeHandle, address: Address) -> Account {
    node.chain
        .send(GetAccount(address))
        .await
        .expect("chain actor answers")
        .account
}

pub async fn block_at(node: &NodeHandle, height: u64) -> Option<Block> {
    node.chain
        .send(GetBlock(BlockRef::Height(height)))
        .await
        .expect("chain actor answers")
}

pub async fn has_block(node: &NodeHandle, hash: ironchain::consensus::hash::BlockHash) -> bool {
    node.chain
        .send(GetBlock(BlockRef::Hash(hash)))
        .await
        .expect("chain actor answers")
        .is_some()
}

pub async fn peer_count(node: &NodeHandle) -> usize {
    node.peers
        .send(GetPeers)
        .await
        .map(|peers| peers.len())
        .unwrap_or(0)
}

/// Whether all nodes report the same tip at a height of at least `min_height`.
pub async fn converged(nodes: Vec<&NodeHandle>, min_height: u64) -> bool {
    let mut tips = Vec::new();
    for node in &nodes {
        tips.push(summary(node).await.tip);
    }
    tips.iter()
        .all(|tip| tip.hash == tips[0].hash && tip.height >= min_height)
}

/// Starts the `ironchain` binary with `args` at `RUST_LOG=info`; its log lines (stderr)
/// arrive on the returned channel.
pub fn spawn_binary<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ironchain"))
        .args(args)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("binary starts");
    let lines = log_lines(child.stderr.take().expect("stderr is piped"));
    (child, lines)
}

/// The lines a child process writes to `stderr`, as they come, read on their own thread
/// so that the process never blocks on a full pipe.
pub fn log_lines(stderr: std::process::ChildStderr) -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader};
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Connects to `node` from the loopback address `host` (a distinct host on one machine).
pub async fn connect_from(host: &str, node: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(host.parse().unwrap(), 0))
        .unwrap();
    socket.connect(node).await.unwrap()
}

/// A socket to `node` that has sent a peer hello for the network `genesis` (claiming no
/// work), for tests that speak the protocol as a hostile peer would.
pub async fn fake_peer(
    node: SocketAddr,
    genesis: ironchain::consensus::hash::BlockHash,
    node_id: u64,
) -> tokio::net::TcpStream {
    use ironchain::net::message::{Message, PeerHello, PROTOCOL_VERSION};
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(node).await.unwrap();
    let hello = Message::HelloPeer(PeerHello {
        version: PROTOCOL_VERSION,
        genesis,
        best_height: 0,
        best_hash: genesis,
        work: ironchain::consensus::target::Work::ZERO,
        listen_port: 0,
        node_id,
    });
    let frame = ironchain::net::frame::encode_frame(hello).unwrap();
    stream.write_all(&frame).await.unwrap();
    stream
}

/// Writes each config of `cases` to a file and runs `ironchain launch` on it: each must
/// fail with one line on stderr that names the file and then `key: reason` as given.
pub fn assert_launch_refuses(cases: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    for (i, (text, expected)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ironchain"))
            .arg("launch")
            .arg(&file)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("{}: {expected}", file.display())),
            "{stderr}"
        );
    }
}

/// Reads one frame off a raw socket, as a hostile or hand-written peer would; `None` when
/// the connection ends. Deliberately written from the framing rules rather than through
/// the node's own codec, so these tests check the node against the protocol.
pub async fn read_message(stream: &mut (impl AsyncRead + Unpin)) -> Option<Message> {
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).await.ok()?;
    let length = u32::from_be_bytes(length) as usize;
    assert!(length <= MAX_FRAME_BYTES);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(serde_cbor::from_slice(&body).expect("the node sends valid messages"))
}
