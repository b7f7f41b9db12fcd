//! Shared plumbing of the examples: for the whole-system benchmarks (issue 6), node
//! settings built in ONE place (so a change to `NodeSettings`/`NodeOptions` is a one-line
//! fix here), the clap parser of positive whole-number options (each example declares its
//! own options as a clap derive struct, so `--help` works and a bad option is clap's usage
//! error, exit 2), percentiles, peak RSS, where fixtures and scratch
//! directories live, and the one readable line plus one JSON line every benchmark prints;
//! for the launch demos, running one config file; for the attack experiments, a chart.
//!
//! Each example includes this file with `mod common;`, and not every example uses every
//! helper, hence the `dead_code` allowance.

#![allow(dead_code)]

pub mod chart;
pub mod fixture;

use ironchain::consensus::address::Address;
use ironchain::consensus::params::ChainParams;
use ironchain::node::chain_actor::GetSummary;
use ironchain::node::limits::NetLimits;
use ironchain::node::{start_node_with, NodeHandle, NodeOptions, NodeSettings};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How a benchmark node is set up, beyond its chain parameters and directory.
#[derive(Clone, Debug)]
pub struct BenchNode {
    pub peers: Vec<SocketAddr>,
    pub mine: bool,
    pub miner_threads: usize,
    pub miner_address: Address,
    pub max_inbound: usize,
    pub max_outbound: usize,
    /// Dial addresses learned from gossip (off keeps a fixed topology).
    pub dial_learned: bool,
    /// fsync on every commit, as a real node does.
    pub sync_each_commit: bool,
}

impl Default for BenchNode {
    fn default() -> Self {
        BenchNode {
            peers: Vec::new(),
            mine: false,
            miner_threads: 1,
            miner_address: ironchain::testkit::address(999_999),
            max_inbound: 16,
            max_outbound: 8,
            dial_learned: true,
            sync_each_commit: true,
        }
    }
}

/// The only place the examples build `NodeSettings` and `NodeOptions`.
pub fn node_config(
    params: &ChainParams,
    dir: &Path,
    node: &BenchNode,
) -> (NodeSettings, NodeOptions) {
    let settings = NodeSettings {
        params: params.clone(),
        data_dir: dir.to_path_buf(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        peers: node.peers.clone(),
        mine: node.mine,
        miner_address: Some(node.miner_address),
        miner_threads: node.miner_threads,
        max_inbound: node.max_inbound,
        max_outbound: node.max_outbound,
        send_delay: Duration::ZERO,
        limits: NetLimits::default(),
    };
    let options = NodeOptions {
        dial_learned: node.dial_learned,
        sync_each_commit: node.sync_each_commit,
        ..NodeOptions::default()
    };
    (settings, options)
}

/// Starts a node on 127.0.0.1 with an OS-chosen port, inside the running actix system.
pub async fn start(params: &ChainParams, dir: &Path, node: &BenchNode) -> NodeHandle {
    let (settings, options) = node_config(params, dir, node);
    start_node_with(settings, options)
        .await
        .expect("benchmark node starts")
}

/// The node's tip height (0 if its chain actor does not answer).
pub async fn height(node: &NodeHandle) -> u64 {
    node.chain
        .send(GetSummary)
        .await
        .map_or(0, |summary| summary.tip.height)
}

/// Polls `condition` every `every` until it holds or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, every: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(every).await;
    }
}

/// Where cached fixtures live: `target/bench-fixtures/` of the repository.
pub fn fixture_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-fixtures");
    std::fs::create_dir_all(&root).expect("create target/bench-fixtures");
    root
}

/// A fresh scratch directory (removed when dropped), on the same disk as the fixtures
/// so every node's store pays the same fsync cost.
pub fn scratch_dir(tag: &str) -> tempfile::TempDir {
    let parent = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-tmp");
    std::fs::create_dir_all(&parent).expect("create target/bench-tmp");
    tempfile::Builder::new()
        .prefix(tag)
        .tempdir_in(parent)
        .expect("create a scratch directory")
}

/// The value below which `p` percent of `samples` fall (nearest rank); 0 when empty.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    ironchain::launch::summary::percentile(&sorted, p).unwrap_or(0.0)
}

/// Peak resident set size of this process in MiB (`VmHWM` of /proc/self/status).
pub fn peak_rss_mib() -> f64 {
    proc_status_kib("self", "VmHWM:") as f64 / 1024.0
}

/// Current resident set size of this process in MiB (`VmRSS`).
pub fn rss_mib() -> f64 {
    proc_status_kib("self", "VmRSS:") as f64 / 1024.0
}

/// Current resident set size of process `pid` in MiB (0 if it is gone).
pub fn rss_mib_of(pid: u32) -> f64 {
    proc_status_kib(&pid.to_string(), "VmRSS:") as f64 / 1024.0
}

/// A field of `/proc/<process>/status` in KiB (0 if absent).
fn proc_status_kib(process: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// clap's parser of a whole number of at least 1, for the options (client counts, block
/// counts, durations) where 0 would divide by zero, loop forever or measure nothing: a 0
/// on the command line is a usage error (exit 2) rather than a panic or a silent run.
pub fn at_least_one<T>() -> clap::builder::RangedU64ValueParser<T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
{
    clap::builder::RangedU64ValueParser::new().range(1..)
}

/// The options of `ironchain launch`, for a demo whose config file is fixed.
#[derive(clap::Parser)]
struct DemoArgs {
    #[command(flatten)]
    launch: ironchain::cli::launch_command::LaunchArgs,
}

/// Runs `ironchain launch FILE` through the library, as the launch demos do, with the
/// options given on the example's command line (`--quiet`, `--run-dir DIR`, `--out DIR`,
/// `--http ADDR:PORT`, `--no-http`), which clap checks as `launch` does.
pub fn launch(file: &str) -> std::process::ExitCode {
    use clap::Parser;
    use ironchain::cli::launch_command::run;
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let mut line: Vec<std::ffi::OsString> = std::env::args_os().take(1).collect();
    line.push(file.into());
    line.extend(std::env::args_os().skip(1));
    let args = DemoArgs::parse_from(line).launch;
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints the readable line, then the JSON line (with the benchmark's name added).
pub fn report(name: &str, readable: String, mut json: serde_json::Value) {
    println!("{name}: {readable}");
    if let Some(object) = json.as_object_mut() {
        object.insert("bench".into(), serde_json::Value::from(name));
    }
    println!("{json}");
}

/// Milliseconds of a duration, as a float.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// What verifying signatures one at a time could give at most on this machine, measured
/// now, in this process (so it shares the moment's load with the run it is compared to):
/// the cores times one thread's rate of single ZIP 215 verifications (`verify_signature`)
/// over 2,000 distinct signed transfers, timed after a warm-up pass.
pub struct SingleVerifyCeiling {
    pub cores: usize,
    pub per_core: f64,
}

impl SingleVerifyCeiling {
    pub fn measure() -> Self {
        use ironchain::consensus::hash::BlockHash;
        use ironchain::consensus::signatures::{cores, verify_signature};
        use ironchain::testkit;
        let genesis = BlockHash::from_bytes([9; 32]);
        let txs: Vec<_> = (0..2_000)
            .map(|n| {
                testkit::transfer(&testkit::key(n), testkit::address(n + 1), 1, 1, 0, &genesis)
            })
            .collect();
        let verify_all_once = || {
            let started = Instant::now();
            for tx in &txs {
                verify_signature(std::hint::black_box(tx), &genesis).expect("valid signature");
            }
            started.elapsed().as_secs_f64()
        };
        verify_all_once();
        let per_core = txs.len() as f64 / verify_all_once();
        SingleVerifyCeiling {
            cores: cores(),
            per_core,
        }
    }

    /// Signatures per second on all cores.
    pub fn rate(&self) -> f64 {
        self.per_core * self.cores as f64
    }

    /// For the readable line.
    pub fn describe(&self) -> String {
        format!(
            "single-verify ceiling {:.0} sig/s ({} cores x {:.0})",
            self.rate(),
            self.cores,
            self.per_core
        )
    }
}
