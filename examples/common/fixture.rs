//! The sync fixture of the `sync` and `memory` benchmarks: a chain of 20,000 blocks, either
//! empty or each full of signed transfers, generated once with the testkit and cached in
//! `target/bench-fixtures/`, served by a node in a child process, and synced over loopback
//! by a fresh node in this process (so this process's peak RSS is the syncing node's own).
//!
//! "Full" means `max_block_txs` transfers per block, with `max_block_txs` = 10 in the
//! fixture's chain parameters: 20,000 blocks of the default 2,000 transactions (40 M
//! signatures) would take hours to sign and verify on the 2-core benchmark machine, so the
//! fixture keeps the block count of the issue and scales the transactions to 200,000.

use super::BenchNode;
use actix::prelude::*;
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::consensus::address::Address;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::signatures::SigningKey;
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BLOCKS: u64 = 20_000;
/// Transfers per "full" block (the fixture's `max_block_txs`).
pub const TXS_PER_BLOCK: usize = 10;
/// Distinct senders, each funded in the genesis block.
const SENDERS: usize = 1_000;
/// Bump when the fixture's contents change, so a stale cache is not reused.
const VERSION: u32 = 1;
/// Set (to the kind's name) on the serving child, and only there. The child role is how
/// `measure` works, not an option for people, so it stays out of the command line: each
/// example's clap options are then exactly what its `--help` shows.
const SERVE_ENV: &str = "IRONCHAIN_BENCH_SERVE_FIXTURE";

/// Which fixture; also a clap value (`empty`, `full`) for the examples that choose one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Empty,
    Full,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Empty => "empty",
            Kind::Full => "full",
        }
    }

    /// The kind named `text` (as on the command line), by clap's own reading of it.
    pub fn parse(text: &str) -> Option<Kind> {
        <Kind as clap::ValueEnum>::from_str(text, false).ok()
    }

    pub fn transactions(self) -> u64 {
        match self {
            Kind::Empty => 0,
            Kind::Full => BLOCKS * TXS_PER_BLOCK as u64,
        }
    }
}

fn sender_key(n: usize) -> SigningKey {
    testkit::key(10_000 + n as u64)
}

/// The fixture's chain parameters (the genesis message keeps the two apart).
pub fn params(kind: Kind) -> ChainParams {
    let allocations: Vec<(Address, u64)> = match kind {
        Kind::Empty => Vec::new(),
        Kind::Full => (0..SENDERS)
            .map(|n| (Address::of(&sender_key(n)), 1_000_000_000))
            .collect(),
    };
    ChainParams {
        genesis_message: format!("ironchain sync bench {} v{VERSION}", kind.name()),
        max_block_txs: TXS_PER_BLOCK as u32,
        ..testkit::params(&allocations)
    }
}

/// The cached fixture's data directory, generated first if missing.
pub fn ensure(kind: Kind) -> PathBuf {
    let dir = super::fixture_root().join(format!("sync-{}-v{VERSION}", kind.name()));
    let done = dir.join("complete");
    if done.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    eprintln!(
        "generating the {} sync fixture in {} ...",
        kind.name(),
        dir.display()
    );
    let params = params(kind);
    let genesis = params
        .genesis_block()
        .expect("the benchmark's chain parameters encode")
        .hash();
    let txs: Vec<Transaction> = match kind {
        Kind::Empty => Vec::new(),
        Kind::Full => sign_all(&genesis),
    };
    let mut chain = Chain::open(&dir, params, MempoolLimits::default()).expect("open fixture");
    chain.set_sync_each_commit(false);
    let miner = testkit::address(1);
    let mut chunks = txs.chunks(TXS_PER_BLOCK.max(1));
    for height in 1..=BLOCKS {
        let body = match kind {
            Kind::Empty => Vec::new(),
            Kind::Full => chunks.next().expect("enough transactions").to_vec(),
        };
        let block = testkit::next_block(&chain, miner, body);
        chain
            .process_block(block.clone(), block.header.timestamp_ms)
            .expect("fixture block accepted");
        if height % 5_000 == 0 {
            eprintln!(
                "  {height} blocks, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(chain);
    std::fs::write(&done, b"ok").expect("mark the fixture complete");
    eprintln!("fixture ready in {:.0} s", started.elapsed().as_secs_f64());
    dir
}

/// Every transfer of the full fixture, in chain order: transaction t is sender t mod
/// SENDERS paying the next sender, with nonce t / SENDERS. Signed on every core.
fn sign_all(genesis: &ironchain::consensus::hash::BlockHash) -> Vec<Transaction> {
    let keys: Vec<SigningKey> = (0..SENDERS).map(sender_key).collect();
    let addresses: Vec<Address> = keys.iter().map(Address::of).collect();
    let total = Kind::Full.transactions() as usize;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = total.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|part| {
                let (keys, addresses) = (&keys, &addresses);
                scope.spawn(move || {
                    (part * per..((part + 1) * per).min(total))
                        .map(|t| {
                            let sender = t % SENDERS;
                            testkit::transfer(
                                &keys[sender],
                                addresses[(sender + 1) % SENDERS],
                                1,
                                1,
                                (t / SENDERS) as u64,
                                genesis,
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("signing thread"))
            .collect()
    })
}

/// The child process: serve the fixture until the parent closes our stdin.
pub fn serve(kind: Kind) {
    let dir = ensure(kind);
    let system = System::new();
    system.block_on(async move {
        let node = super::start(&params(kind), &dir, &BenchNode::default()).await;
        println!("LISTEN {}", node.listen_addr);
        // Parent gone (or done) = stdin closed.
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
        node.stop().await;
    });
}

/// One measured sync.
pub struct SyncRun {
    pub kind: Kind,
    pub seconds: f64,
    pub blocks_per_s: f64,
    pub txs_per_s: f64,
    pub peak_rss_mib: f64,
    /// Measured just before the sync, once the serving child is ready.
    pub ceiling: super::SingleVerifyCeiling,
}

/// Starts a child serving `kind`, syncs it into a fresh node here, and times it.
pub fn measure(kind: Kind) -> SyncRun {
    // Generate here first (in a child, so our RSS stays the syncing node's).
    let exe = std::env::current_exe().expect("own executable");
    let mut child = Command::new(exe)
        .env(SERVE_ENV, kind.name())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the serving child");
    let mut lines = BufReader::new(child.stdout.take().expect("child stdout")).lines();
    let addr: std::net::SocketAddr = loop {
        let line = lines
            .next()
            .expect("the serving child exited early")
            .expect("child stdout readable");
        if let Some(addr) = line.strip_prefix("LISTEN ") {
            break addr.parse().expect("child prints its address");
        }
    };
    let ceiling = super::SingleVerifyCeiling::measure();
    let system = System::new();
    let seconds = system.block_on(async move {
        let dir = super::scratch_dir(&format!("sync-{}-", kind.name()));
        let started = Instant::now();
        let node = super::start(
            &params(kind),
            dir.path(),
            &BenchNode {
                peers: vec![addr],
                ..BenchNode::default()
            },
        )
        .await;
        let node_ref = &node;
        let synced = super::wait_until(
            Duration::from_secs(3_600),
            Duration::from_millis(5),
            || async move { super::height(node_ref).await >= BLOCKS },
        )
        .await;
        assert!(synced, "sync did not finish within an hour");
        // The last batch's commit may still run behind the tip (`Store::commit_behind`);
        // stopping the node waits for it, so the time covers every block on disk.
        node.stop().await;
        started.elapsed().as_secs_f64()
    });
    drop(child.stdin.take());
    let _ = child.wait();
    SyncRun {
        kind,
        seconds,
        blocks_per_s: BLOCKS as f64 / seconds,
        txs_per_s: kind.transactions() as f64 / seconds,
        peak_rss_mib: super::peak_rss_mib(),
        ceiling,
    }
}

/// Serves the fixture and returns true if this process is `measure`'s serving child;
/// returns false in the example's own process, which goes on to parse its options.
pub fn serve_if_child() -> bool {
    let Some(value) = std::env::var_os(SERVE_ENV) else {
        return false;
    };
    match value.to_str().and_then(Kind::parse) {
        Some(kind) => serve(kind),
        None => {
            eprintln!("error: {SERVE_ENV}={value:?}: expected empty or full");
            std::process::exit(2);
        }
    }
    true
}
