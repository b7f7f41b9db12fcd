//! Multi-node launches (`ironchain launch FILE`, the book's Guide › Launching a network):
//! start every node a config lists in one actix system — each with its own actors, port and
//! data directory under one run directory — inject delays and partitions inside the actor
//! system, stop on a duration, a block count or an interrupt, and summarise the forks.
//!
//! A run goes: start the nodes with mining off; give each peer manager its link delays;
//! connect the configured pairs and wait until they are connected; start mining on a
//! shared clock (`epoch`); partition, heal and submit transfers on schedule; once the
//! duration or block count is reached, keep mining only until every node is on one tip
//! (a tie between branches is broken by a next block, as in a real network; at most
//! `settle_ms`), then stop mining and wait until no block is in flight; read every
//! node's tip and block tree; stop the nodes; write `summary.json` (see [`summary`]).
//! Blocks mined while settling count like any other.
//!
//! The run directory holds `node-<name>/` (each node's store and miner key),
//! `chain.toml` (the `[chain]` parameters the run really used, for `ironchain verify`),
//! `accounts/<name>.key` (keys of the launch accounts) and `summary.json`.
//!
//! [`run`] is the library entry point (tests and examples use it; it never needs Ctrl-C);
//! [`run_blocking`] wraps it in its own actix system and stops on Ctrl-C or SIGTERM.

pub mod double_spend;
pub mod eclipse;
pub mod plan;
pub mod race_odds;
pub mod revenue;
pub mod stats;
pub mod summary;
pub mod virtual_time;

pub use plan::LaunchPlan;
pub use summary::Summary;

use crate::config::scenario::{Clock, MiningMode, StoreKind};
use crate::config::ConfigError;
use crate::consensus::amount::Amount;
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::params::ChainParams;
use crate::consensus::transaction::UnsignedTransaction;
use crate::consensus::validation::VerifiedTx;
use crate::explorer::launch_page::LaunchPage;
use crate::net::message::{BlockRef, TxStatus};
use crate::net::only_net::OnlyNet;
use crate::node::chain_actor::{
    GetAccount, GetBlock, GetBlockTree, GetSummary, GetTx, SetEventSink, SetMining, SubmitTx,
};
use crate::node::limits::NetLimits;
use crate::node::netsim::LinkTable;
use crate::node::peer_manager::{AddPeer, GetPeers, SetBlocked, SetLinks};
use crate::node::sim_miner::StartFinds;
use crate::node::stop_signal::{stop_requested, StopSignal};
use crate::node::transport::{Network, Switchboard};
use crate::node::{start_node_with, NodeHandle, NodeOptions, NodeSettings};
use crate::plural::count;
use actix::prelude::*;
use futures::channel::oneshot;
use futures::FutureExt;
use serde::Serialize;
use stats::{GetStats, LastStored, Note, NotifyAfterBlocks, SetEpoch, StatsActor};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use summary::{ForkView, NodeFinal, PartitionSummary, RunFacts, TipSummary, TxSummary};
use tokio::time::sleep_until;
use tokio::time::Instant;

/// How long connecting the configured pairs may take before the run starts anyway.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the launcher polls the nodes while connecting and settling.
const POLL: Duration = Duration::from_millis(20);

/// Why a launch failed.
#[derive(Debug)]
pub struct LaunchError(pub String);

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LaunchError {}

impl From<ConfigError> for LaunchError {
    fn from(error: ConfigError) -> Self {
        LaunchError(error.to_string())
    }
}

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Must not exist yet, or be empty.
    pub run_dir: PathBuf,
    /// Print where the nodes listen and when mining starts.
    pub announce: bool,
    /// Print mined blocks, reorgs, partitions and transfers as they happen.
    pub progress: bool,
    /// Serve the launch's web page here (port 0: the OS picks); `None`: no page.
    pub page: Option<SocketAddr>,
}

/// `runs/<name>-<UTC date and time>`, with a suffix if that exists already.
pub fn default_run_dir(name: &str) -> PathBuf {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let base = format!("{name}-{}", utc_stamp(seconds));
    let mut dir = Path::new("runs").join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = Path::new("runs").join(format!("{base}-{n}"));
        n += 1;
    }
    dir
}

/// `YYYYMMDD-HHMMSS` in UTC.
fn utc_stamp(unix_seconds: u64) -> String {
    i64::try_from(unix_seconds)
        .ok()
        .and_then(|seconds| jiff::Timestamp::from_second(seconds).ok())
        .map_or_else(
            || unix_seconds.to_string(),
            |time| time.strftime("%Y%m%d-%H%M%S").to_string(),
        )
}

/// Runs `plan` in its own actix system until its duration or block count, or a stop
/// signal (Ctrl-C, SIGTERM, SIGHUP): in real time, or on a virtual clock
/// ([`virtual_time`]) if the plan says so.
pub fn run_blocking(plan: &LaunchPlan, options: &RunOptions) -> Result<Summary, LaunchError> {
    run_blocking_until_signal(plan, options).map(|(summary, _)| summary)
}

/// [`run_blocking`], also returning the signal that ended the run, if one did.
pub fn run_blocking_until_signal(
    plan: &LaunchPlan,
    options: &RunOptions,
) -> Result<(Summary, Option<StopSignal>), LaunchError> {
    run_blocking_reporting(plan, options, None)
}

/// What a launcher does with the summary as soon as it is written (print it, copy it).
pub type Report<'a> = Box<dyn FnOnce(&Summary) -> Result<(), String> + 'a>;

/// [`run_blocking_until_signal`] for a person at a terminal: `report` is given the
/// summary as soon as it is written. Then, if the run served a page and ended by itself
/// (not by a signal), the page goes on showing the final state, saying the run is over,
/// until a stop signal, which ends the launcher as the run's own end would have (no
/// signal is returned): a page that vanished the moment the run ended left the viewer
/// with an error instead of the outcome.
pub fn run_blocking_reporting(
    plan: &LaunchPlan,
    options: &RunOptions,
    report: Option<Report<'_>>,
) -> Result<(Summary, Option<StopSignal>), LaunchError> {
    match plan.clock {
        Clock::Real => actix_rt::System::new().block_on(run_until_stopped(plan, options, report)),
        Clock::Virtual => virtual_time::block_on(plan, run_until_stopped(plan, options, report))?,
    }
}

async fn run_until_stopped(
    plan: &LaunchPlan,
    options: &RunOptions,
    report: Option<Report<'_>>,
) -> Result<(Summary, Option<StopSignal>), LaunchError> {
    // Listen from the very start (the handlers are installed now), not only once the
    // nodes are up: a signal while they start must count too.
    let stop =
        stop_requested().map_err(|e| LaunchError(format!("cannot handle stop signals: {e}")))?;
    let (pressed, interrupted) = oneshot::channel();
    actix_rt::spawn(async move {
        let _ = pressed.send(stop.await);
    });
    let received = std::rc::Rc::new(std::cell::Cell::new(None));
    let seen = received.clone();
    let interrupt = async move {
        match interrupted.await {
            Ok(signal) => seen.set(Some(signal)),
            // No signal handling here: only the duration or block count stops the run.
            Err(_) => futures::future::pending::<()>().await,
        }
    }
    .shared();
    let (summary, page) =
        run_keeping_page(plan, options, interrupt.clone(), report.is_some()).await?;
    let signal = received.get();
    let reported = report.map_or(Ok(()), |report| report(&summary));
    if let Some(page) = page {
        if signal.is_none() && reported.is_ok() {
            crate::outln!(
                "the run is over; the launch page at {} shows its final state until Ctrl-C",
                page.url()
            );
            interrupt.await;
        }
        page.stop().await;
    }
    reported.map_err(LaunchError)?;
    Ok((summary, signal))
}

/// One scheduled action.
#[derive(Clone, Copy, Debug)]
enum Action {
    Cut(usize),
    Heal(usize),
    Transfer(usize),
    /// An honest node dials the eclipsed victim.
    EndEclipse,
}

/// A submitted transfer.
struct Submitted {
    txid: TxId,
    accepted: bool,
}

/// Everything a run holds while going.
struct Launch<'a> {
    plan: &'a LaunchPlan,
    nodes: Vec<NodeHandle>,
    stats: Addr<StatsActor>,
    epoch: Instant,
    genesis: BlockHash,
    partitions: Vec<PartitionSummary>,
    submitted: Vec<Submitted>,
    rejected: Vec<String>,
}

/// Runs `plan` inside the current actix system until its duration or block count is
/// reached or `interrupt` completes, and returns the summary (also written to
/// `summary.json` in the run directory).
pub async fn run<F: Future<Output = ()>>(
    plan: &LaunchPlan,
    options: &RunOptions,
    interrupt: F,
) -> Result<Summary, LaunchError> {
    run_keeping_page(plan, options, interrupt, false)
        .await
        .map(|(summary, _)| summary)
}

/// [`run`]; with `keep_page`, its page (if it served one) is frozen on the final state
/// before the nodes stop, and handed back still serving.
async fn run_keeping_page<F: Future<Output = ()>>(
    plan: &LaunchPlan,
    options: &RunOptions,
    interrupt: F,
    keep_page: bool,
) -> Result<(Summary, Option<LaunchPage>), LaunchError> {
    let wall_start = std::time::Instant::now();
    // A virtual launch runs on its own thread: what was delivered on it before is not its.
    let delivered_before = crate::node::delivered::so_far();
    // Both the schedule and the settling at the end wait on it.
    let interrupt = interrupt.shared();
    prepare_run_dir(plan, &options.run_dir)?;
    let names: Vec<String> = plan.nodes.iter().map(|node| node.name.clone()).collect();
    let stats = StatsActor::new(names, options.progress).start();
    let switchboard = (plan.clock == Clock::Virtual).then(|| Switchboard::default().start());
    let nodes = match start_nodes(plan, options, &stats, switchboard).await {
        Ok(nodes) => nodes,
        Err(error) => {
            // It was empty or missing, so all it holds is this failed start: clearing it
            // lets the same command run again once the cause is fixed.
            let _ = std::fs::remove_dir_all(&options.run_dir);
            return Err(error);
        }
    };
    let genesis = match nodes.first() {
        Some(node) => node.chain.send(GetSummary).await.map(|s| s.genesis),
        None => return Err(LaunchError("no nodes to launch".into())),
    };
    let Ok(genesis) = genesis else {
        stop_all(nodes).await;
        return Err(LaunchError("a node stopped while starting".into()));
    };
    let mut launch = Launch {
        plan,
        nodes,
        stats,
        epoch: Instant::now(),
        genesis,
        partitions: plan
            .partitions
            .iter()
            .map(|partition| PartitionSummary {
                groups: partition
                    .groups
                    .iter()
                    .map(|group| group.iter().map(|&i| plan.nodes[i].name.clone()).collect())
                    .collect(),
                start_ms: partition.start.as_millis() as u64,
                heal_ms: partition.heal.map(|heal| heal.as_millis() as u64),
                tips_at_heal: Vec::new(),
            })
            .collect(),
        submitted: Vec::new(),
        rejected: Vec::new(),
    };
    // A virtual-time launch has no live page: its clock jumps whenever the nodes are idle,
    // so the run is over in wall-clock seconds, before anyone could watch it, and the
    // page's HTTP timers would run on that jumping clock too. summary.json and
    // blocks.csv are what it leaves to look at.
    let page_addr = options.page.filter(|_| plan.clock == Clock::Real);
    if options.page.is_some() && page_addr.is_none() && options.announce {
        crate::outln!("no launch page in virtual time (the run ends in seconds; see summary.json)");
    }
    let page = match page_addr {
        Some(addr) => {
            match crate::explorer::launch_page::serve(addr, plan, &launch.nodes, launch.epoch) {
                Ok(page) => {
                    if options.announce {
                        crate::outln!("launch page at {}", page.url());
                    }
                    Some(page)
                }
                Err(error) => {
                    stop_all(launch.nodes).await;
                    return Err(LaunchError(error));
                }
            }
        }
        None => None,
    };
    launch.connect(options.announce).await;
    let stopped_by = launch.run_schedule(interrupt.clone()).await;
    let elapsed = launch.epoch.elapsed();
    // After Ctrl-C the user wants out: no mining on to settle a tie. Nor while a partition
    // is still cut: the halves cannot agree, and more mining would only add stale blocks.
    let keep_mining = stopped_by != "interrupt" && !launch.partitioned_at(elapsed);
    launch
        .settle(options.progress && keep_mining, keep_mining, interrupt)
        .await;
    let summary = launch
        .summarize(&options.run_dir, stopped_by, elapsed)
        .await;
    let delivered = crate::node::delivered::so_far().saturating_sub(delivered_before);
    let page = match page {
        Some(page) if keep_page && page.freeze().await.is_ok() => Some(page),
        Some(page) => {
            page.stop().await;
            None
        }
        None => None,
    };
    stop_all(launch.nodes).await;
    let summary = Summary {
        wall_ms: u64::try_from(wall_start.elapsed().as_millis()).unwrap_or(u64::MAX),
        messages_delivered: (plan.clock == Clock::Virtual).then_some(delivered),
        ..summary
    };
    let path = options.run_dir.join("summary.json");
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| LaunchError(format!("cannot encode the summary: {e}")))?;
    std::fs::write(&path, json + "\n")
        .map_err(|e| LaunchError(format!("cannot write {}: {e}", path.display())))?;
    let csv = options.run_dir.join("blocks.csv");
    std::fs::write(&csv, summary::blocks_csv(&summary))
        .map_err(|e| LaunchError(format!("cannot write {}: {e}", csv.display())))?;
    Ok((summary, page))
}

/// Refuses a run directory that exists and is not empty: old chains would mix into the run.
pub fn check_run_dir(dir: &Path) -> Result<(), LaunchError> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(LaunchError(format!(
                "run directory {} already exists and is not empty: choose another",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Creates the run directory (see [`check_run_dir`]), `chain.toml` and the account key
/// files.
fn prepare_run_dir(plan: &LaunchPlan, dir: &Path) -> Result<(), LaunchError> {
    let cannot = |what: &Path, e: std::io::Error| {
        LaunchError(format!("cannot create {}: {e}", what.display()))
    };
    check_run_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| cannot(dir, e))?;
    #[derive(Serialize)]
    struct ChainOnly<'a> {
        chain: &'a ChainParams,
    }
    let chain = toml::to_string(&ChainOnly {
        chain: &plan.params,
    })
    .map_err(|e| LaunchError(format!("cannot encode the chain parameters: {e}")))?;
    let text = format!(
        "# The [chain] parameters of this run (from {}), e.g. for\n\
         # ironchain verify --config {} --data-dir {}\n\n{chain}",
        plan.file,
        dir.join("chain.toml").display(),
        dir.join("node-NAME").display(),
    );
    let path = dir.join("chain.toml");
    std::fs::write(&path, text).map_err(|e| cannot(&path, e))?;
    let accounts = dir.join("accounts");
    if !plan.accounts.is_empty() {
        std::fs::create_dir_all(&accounts).map_err(|e| cannot(&accounts, e))?;
    }
    for account in &plan.accounts {
        let path = accounts.join(format!("{}.key", account.name));
        crate::keyfile::save(&path, &account.key).map_err(|e| LaunchError(e.to_string()))?;
    }
    Ok(())
}

/// Starts every node with mining off, reporting to `stats`.
async fn start_nodes(
    plan: &LaunchPlan,
    options: &RunOptions,
    stats: &Addr<StatsActor>,
    switchboard: Option<Addr<Switchboard>>,
) -> Result<Vec<NodeHandle>, LaunchError> {
    let simulated = plan.mining == MiningMode::Simulated;
    let own_addresses = distinct_loopback_available();
    let mut nodes: Vec<NodeHandle> = Vec::new();
    // Counted once: a launch may have thousands of nodes.
    let mut dials = vec![0; plan.nodes.len()];
    let mut accepts = vec![0; plan.nodes.len()];
    for (a, b) in &plan.connections {
        dials[*a] += 1;
        accepts[*b] += 1;
    }
    for (i, node) in plan.nodes.iter().enumerate() {
        let (dials, accepts) = (dials[i], accepts[i]);
        let data_dir = options.run_dir.join(format!("node-{}", node.name));
        let (listen, network) = match &switchboard {
            Some(switchboard) => {
                let local = virtual_time::node_addr(i, node.port);
                let switchboard = switchboard.clone();
                (local, Network::Virtual { switchboard, local })
            }
            None => (
                SocketAddr::from((launch_ip(i, own_addresses), node.port)),
                Network::Tcp,
            ),
        };
        let on_virtual_network = switchboard.is_some();
        let in_memory = plan.store == StoreKind::Memory;
        let settings = NodeSettings {
            params: plan.params.clone(),
            data_dir: data_dir.clone(),
            listen,
            peers: Vec::new(),
            mine: node.mine,
            // A node keeping no files has no directory for a miner key: its blocks pay
            // a key derived from the seed, as on a virtual network.
            miner_address: (node.mine && (on_virtual_network || in_memory))
                .then(|| virtual_time::miner_address(plan, i)),
            miner_threads: plan.node.miner_threads,
            max_inbound: plan.node.max_inbound.max(accepts),
            max_outbound: plan.node.max_outbound.max(dials),
            send_delay: Duration::ZERO,
            limits: NetLimits {
                // A launch's nodes are all on this machine (or on its virtual network):
                // none dials elsewhere, whatever it is told.
                only_net: if on_virtual_network {
                    OnlyNet::any()
                } else {
                    OnlyNet::loopback()
                },
                ..NetLimits::from_config(&plan.node)
            },
        };
        let node_options = NodeOptions {
            sim_mining: plan.sim_mining(i),
            mining_on_start: false,
            dial_learned: false,
            sync_each_commit: !simulated,
            network,
            memory_store: in_memory,
            node_id: on_virtual_network.then(|| virtual_time::node_id(plan, i)),
            strategy: node.strategy,
            eviction_key: on_virtual_network.then(|| virtual_time::eviction_key(plan, i)),
        };
        match start_node_with(settings, node_options).await {
            Ok(handle) => {
                handle.chain.do_send(SetEventSink {
                    node: i,
                    sink: stats.clone().recipient(),
                });
                if options.announce {
                    // Nothing glued to the address: a double-click copies it alone.
                    crate::outln!(
                        "node {:<8} listening on {} ({}{})",
                        node.name,
                        handle.listen_addr,
                        if in_memory {
                            "chain in memory".to_string()
                        } else {
                            format!("data in {}", data_dir.display())
                        },
                        if node.mine { "" } else { ", not mining" }
                    );
                }
                nodes.push(handle);
            }
            Err(error) => {
                stop_all(nodes).await;
                // Named as the config names it, like any other error in the file.
                return Err(LaunchError(format!(
                    "{}: nodes[{i}] (\"{}\"): {error}",
                    plan.file, node.name
                )));
            }
        }
    }
    Ok(nodes)
}

/// Node `i`'s own loopback address (127.0.0.2, 127.0.0.3, …), so that it is a distinct
/// host to the others and per-IP rules (caps, bans, eviction groups) apply as between
/// machines; 127.0.0.1 for all where the system routes only that one (not Linux).
fn launch_ip(i: usize, own_addresses: bool) -> Ipv4Addr {
    if !own_addresses {
        return Ipv4Addr::LOCALHOST;
    }
    let n = (i + 2) as u32;
    Ipv4Addr::from(0x7f00_0000 | (n & 0x00ff_ffff))
}

/// Whether addresses of 127.0.0.0/8 other than 127.0.0.1 can be listened on.
fn distinct_loopback_available() -> bool {
    std::net::TcpListener::bind((Ipv4Addr::new(127, 0, 0, 2), 0)).is_ok()
}

async fn stop_all(nodes: Vec<NodeHandle>) {
    for node in nodes {
        node.stop().await;
    }
}

async fn peer_count(node: &NodeHandle) -> usize {
    node.peers
        .send(GetPeers)
        .await
        .map_or(0, |peers| peers.len())
}

impl Launch<'_> {
    fn note(&self, line: String) {
        self.stats.do_send(Note(line));
    }

    /// Gives every node its link delays, connects the configured pairs and waits (up to
    /// [`CONNECT_TIMEOUT`]) until every node has its peers.
    async fn connect(&mut self, announce: bool) {
        let addrs: Vec<SocketAddr> = self.nodes.iter().map(|n| n.listen_addr).collect();
        // The links a node can have: to the nodes it is configured to connect to (a
        // launch's nodes dial nothing else), so a table is as long as a node's degree.
        let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        let rescue = self.plan.eclipse.as_ref().and_then(|eclipse| {
            eclipse.until?;
            Some((eclipse.rescuer?, eclipse.victim))
        });
        for (a, b) in self.plan.connections.iter().chain(&rescue) {
            neighbours[*a].push(*b);
            neighbours[*b].push(*a);
        }
        for (from, node) in self.nodes.iter().enumerate() {
            let table = LinkTable {
                default: self.plan.link(from, from),
                by_peer: neighbours[from]
                    .iter()
                    .map(|&to| (addrs[to], self.plan.link(from, to)))
                    .collect(),
            };
            node.peers.do_send(SetLinks(table));
        }
        for (a, b) in &self.plan.connections {
            self.nodes[*a].peers.do_send(AddPeer(addrs[*b]));
        }
        let degrees = self.plan.degrees();
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            let mut missing = Vec::new();
            for (i, node) in self.nodes.iter().enumerate() {
                if peer_count(node).await < degrees[i] {
                    missing.push(self.plan.nodes[i].name.clone());
                }
            }
            if missing.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                log::warn!(
                    "starting although not every node is connected yet: {}",
                    missing.join(", ")
                );
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        self.epoch = Instant::now();
        self.stats.do_send(SetEpoch(self.epoch));
        if announce {
            crate::outln!(
                "{} connected; {} mining starts now{}",
                count(self.nodes.len() as u64, "node", "nodes"),
                match self.plan.mining {
                    MiningMode::Real => "real",
                    MiningMode::Simulated => "simulated",
                },
                match (self.plan.stop_after_blocks, self.plan.duration) {
                    (Some(blocks), Some(duration)) => format!(
                        " (until {} or {:.1} s, or Ctrl-C)",
                        count(blocks, "block mined", "blocks mined (stale included)"),
                        duration.as_secs_f64()
                    ),
                    (Some(blocks), None) => format!(
                        " (until {}, or Ctrl-C)",
                        count(blocks, "block mined", "blocks mined (stale included)")
                    ),
                    (None, Some(duration)) => {
                        format!(" (for {:.1} s, or Ctrl-C)", duration.as_secs_f64())
                    }
                    (None, None) => " (until Ctrl-C)".to_string(),
                }
            );
        }
    }

    /// Starts mining, carries out the schedule and returns what stopped the run.
    async fn run_schedule<F: Future<Output = ()>>(&mut self, interrupt: F) -> String {
        let plan = self.plan;
        // When the last simulated find that counts is due: finds can be lost while a
        // miner is paused (see `SimMinerActor`), so the count may come late or never.
        let last_find = match (plan.mining, plan.stop_after_blocks) {
            (MiningMode::Simulated, Some(blocks)) => plan
                .first_finds(usize::try_from(blocks).unwrap_or(usize::MAX))
                .last()
                .map(|(at, _)| *at),
            _ => None,
        };
        for node in &self.nodes {
            node.chain.do_send(SetMining(true));
            if let Some(miner) = &node.sim_miner {
                miner.do_send(StartFinds { epoch: self.epoch });
            }
        }

        let mut actions: Vec<(Duration, Action)> = Vec::new();
        for (i, partition) in plan.partitions.iter().enumerate() {
            actions.push((partition.start, Action::Cut(i)));
            if let Some(heal) = partition.heal {
                actions.push((heal, Action::Heal(i)));
            }
        }
        for (i, transfer) in plan.transfers.iter().enumerate() {
            actions.push((transfer.at, Action::Transfer(i)));
        }
        if let Some(until) = plan.eclipse.as_ref().and_then(|eclipse| eclipse.until) {
            actions.push((until, Action::EndEclipse));
        }
        actions.sort_by_key(|(at, _)| *at);

        // No deadline means none: a virtual-clock run of a million blocks covers decades.
        let epoch = self.epoch;
        let at_most = |deadline: Option<Instant>| async move {
            match deadline {
                Some(deadline) => sleep_until(deadline).await,
                None => futures::future::pending().await,
            }
        };
        let stop = at_most(plan.duration.map(|duration| epoch + duration)).fuse();
        futures::pin_mut!(stop);
        let blocks_reached = match plan.stop_after_blocks {
            Some(blocks) => {
                let (sender, receiver) = oneshot::channel();
                self.stats.do_send(NotifyAfterBlocks(
                    usize::try_from(blocks).unwrap_or(usize::MAX),
                    sender,
                ));
                // Do not wait for ever for lost finds.
                let fallback = at_most(last_find.map(|at| {
                    epoch
                        + at
                        + Duration::from_secs(2)
                        + Duration::from_millis(plan.params.target_block_time_ms) * 5
                }));
                async move {
                    tokio::select! {
                        // In a fixed order: a virtual-time run must not draw at random.
                        biased;
                        _ = receiver => {}
                        _ = fallback => {}
                    }
                }
                .boxed_local()
            }
            None => futures::future::pending().boxed_local(),
        };
        let mut blocks_reached = blocks_reached.fuse();
        let interrupt = interrupt.fuse();
        futures::pin_mut!(interrupt);
        let mut next = 0;
        loop {
            let next_at = actions.get(next).map(|(at, _)| epoch + *at);
            tokio::select! {
                biased;
                _ = &mut interrupt => return "interrupt".into(),
                _ = &mut blocks_reached => return "blocks".into(),
                _ = &mut stop => return "duration".into(),
                _ = at_most(next_at) => {
                    if let Some((_, action)) = actions.get(next).copied() {
                        next += 1;
                        self.act(action).await;
                    }
                }
            }
        }
    }

    async fn act(&mut self, action: Action) {
        let plan = self.plan;
        match action {
            Action::Cut(i) => {
                let partition = &plan.partitions[i];
                for (a, node) in self.nodes.iter().enumerate() {
                    let blocked: HashSet<SocketAddr> = (0..self.nodes.len())
                        .filter(|&b| partition.cuts(a, b))
                        .map(|b| self.nodes[b].listen_addr)
                        .collect();
                    node.peers.do_send(SetBlocked(blocked));
                }
                let groups: Vec<String> = self.partitions[i]
                    .groups
                    .iter()
                    .map(|group| format!("{{{}}}", group.join(", ")))
                    .collect();
                self.note(format!(
                    "partition: links between {} cut",
                    groups.join(" | ")
                ));
            }
            Action::Heal(i) => {
                let partition = &plan.partitions[i];
                let mut tips = Vec::new();
                for group in &partition.groups {
                    let mut best: Option<crate::chain::TipInfo> = None;
                    for &n in group {
                        if let Ok(summary) = self.nodes[n].chain.send(GetSummary).await {
                            if best.as_ref().is_none_or(|tip| summary.tip.work > tip.work) {
                                best = Some(summary.tip);
                            }
                        }
                    }
                    tips.push(TipSummary {
                        height: best.as_ref().map_or(0, |tip| tip.height),
                        hash: best.map_or_else(String::new, |tip| tip.hash.to_string()),
                    });
                }
                for node in &self.nodes {
                    node.peers.do_send(SetBlocked(HashSet::new()));
                }
                let heights: Vec<String> = tips
                    .iter()
                    .map(|tip| format!("height {}", tip.height))
                    .collect();
                self.note(format!(
                    "partition healed; the groups' tips were at {}",
                    heights.join(" vs ")
                ));
                self.partitions[i].tips_at_heal = tips;
            }
            Action::Transfer(i) => self.transfer(i).await,
            Action::EndEclipse => {
                let Some(eclipse) = &plan.eclipse else { return };
                let Some(rescuer) = eclipse.rescuer else {
                    return;
                };
                let victim = &self.nodes[eclipse.victim];
                self.nodes[rescuer]
                    .peers
                    .do_send(AddPeer(victim.listen_addr));
                self.note(format!(
                    "eclipse: {} dials the victim {}",
                    plan.nodes[rescuer].name, plan.nodes[eclipse.victim].name
                ));
            }
        }
    }

    /// Signs transfer `i` with the next nonce its node expects, and submits it there.
    async fn transfer(&mut self, i: usize) {
        let plan = self.plan;
        let transfer = &plan.transfers[i];
        let (from, to) = (&plan.accounts[transfer.from], &plan.accounts[transfer.to]);
        let node = &self.nodes[transfer.node];
        let nonce = match node.chain.send(GetAccount(from.address)).await {
            Ok(info) => info.next_nonce,
            Err(_) => return,
        };
        let tx = UnsignedTransaction {
            receiver: to.address,
            amount: Amount::new(transfer.amount),
            fee: Amount::new(transfer.fee),
            nonce,
            message: format!("launch transfer {i}"),
        }
        .sign(&from.key, &self.genesis);
        let txid = tx.id();
        let result = match VerifiedTx::verify(tx, &self.genesis) {
            Ok(tx) => node.chain.send(SubmitTx { tx, origin: None }).await,
            Err(reason) => Ok(Err(reason)),
        };
        let node_name = &plan.nodes[transfer.node].name;
        let (accepted, outcome) = match result {
            Ok(Ok(_)) => (true, "accepted".to_string()),
            Ok(Err(reason)) => {
                let line = format!("{} -> {} via {node_name}: {reason}", from.name, to.name);
                self.rejected.push(line);
                (false, format!("refused: {reason}"))
            }
            Err(_) => (false, "node stopped".to_string()),
        };
        self.note(format!(
            "{node_name:<8} got transfer {} {} -> {} (amount {}, nonce {nonce}): {outcome}",
            txid.short(),
            from.name,
            to.name,
            transfer.amount
        ));
        self.submitted.push(Submitted { txid, accepted });
    }

    /// Ends the run: mining goes on until every node is on one tip (two branches of equal
    /// work are only told apart by a next block, as in a real network), then stops, and
    /// the launcher waits until no block has arrived anywhere for a while (blocks still in
    /// flight are on their way to being stored). If late blocks split the nodes again,
    /// mining resumes. After the plan's `settle` time mining stops regardless.
    /// Without `keep_mining`, mining stops at once and only blocks in flight land.
    /// Ctrl-C (`interrupt`) ends it at once.
    async fn settle<F: Future<Output = ()>>(
        &self,
        progress: bool,
        keep_mining: bool,
        interrupt: F,
    ) {
        let interrupt = interrupt.fuse();
        futures::pin_mut!(interrupt);
        let set_mining = |on: bool| async move {
            for node in &self.nodes {
                let _ = node.chain.send(SetMining(on)).await;
            }
        };
        let longest = self.plan.longest_link();
        let quiet = longest * 2 + Duration::from_millis(200);
        let deadline = Instant::now() + self.plan.settle;
        let mut mining = true;
        if !keep_mining {
            set_mining(false).await;
            mining = false;
        }
        let mut said = false;
        // How many tips the nodes were on, counted when the last block stored anywhere
        // was the one stored at `.0`: counting asks every node, so with thousands of
        // nodes it is done only once blocks stopped arriving, and again only after
        // another one came (tips change only when blocks are stored).
        let mut counted: Option<(Option<Instant>, usize)> = None;
        loop {
            let last = self.stats.send(LastStored).await.ok().flatten();
            let calm = last.is_none_or(|at| at.elapsed() >= quiet);
            let late = Instant::now() >= deadline;
            let tips = match counted {
                Some((at, tips)) if at == last => tips,
                _ if !calm => usize::MAX,
                _ => {
                    let tips = self.count_tips().await;
                    counted = Some((last, tips));
                    tips
                }
            };
            let agreed = tips == 1;
            if mining && (agreed || late) {
                set_mining(false).await;
                mining = false;
            } else if !mining && agreed && calm {
                return;
            } else if !mining && !agreed && calm && !late && keep_mining {
                set_mining(true).await;
                mining = true;
            } else if !mining && calm && (late || !keep_mining) {
                return;
            }
            // Blocks in flight disagree for a moment; a tie stays.
            if mining && !agreed && calm && !said && progress {
                said = true;
                self.note(format!(
                    "the nodes are on {tips} tips: mining on until they agree (at most {:.1} s)",
                    self.plan.settle.as_secs_f64()
                ));
            }
            tokio::select! {
                biased;
                _ = &mut interrupt => {
                    set_mining(false).await;
                    return;
                }
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// How many different tips the nodes are on.
    async fn count_tips(&self) -> usize {
        let mut tips = HashSet::new();
        for node in &self.nodes {
            if let Ok(summary) = node.chain.send(GetSummary).await {
                tips.insert(summary.tip.hash);
            }
        }
        tips.len()
    }

    /// Whether some partition is cut at `elapsed` into the run.
    fn partitioned_at(&self, elapsed: Duration) -> bool {
        self.plan.partitions.iter().any(|partition| {
            partition.start <= elapsed && partition.heal.is_none_or(|heal| heal > elapsed)
        })
    }

    async fn summarize(&self, run_dir: &Path, stopped_by: String, elapsed: Duration) -> Summary {
        let mut finals = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let summary = node.chain.send(GetSummary).await.ok();
            let tree = node.chain.send(GetBlockTree).await.unwrap_or_default();
            finals.push(NodeFinal {
                name: self.plan.nodes[i].name.clone(),
                listen: node.listen_addr.to_string(),
                tip_height: summary.as_ref().map_or(0, |s| s.tip.height),
                tip_hash: summary
                    .as_ref()
                    .map_or_else(BlockHash::default, |s| s.tip.hash),
                tip_work: summary.map_or(crate::consensus::target::Work::ZERO, |s| s.tip.work),
                tree,
            });
        }
        let stats = self.stats.send(GetStats).await.unwrap_or_default();
        let transactions = self.transactions(&finals).await;
        let eclipse = eclipse::summarize(self.plan, &stats, self.epoch, elapsed);
        summary::summarize(
            RunFacts {
                config: self.plan.file.clone(),
                run_dir: run_dir.display().to_string(),
                mining: match self.plan.mining {
                    MiningMode::Real => "real".into(),
                    MiningMode::Simulated => "simulated".into(),
                },
                seed: self.plan.seed,
                stopped_by,
                clock: match self.plan.clock {
                    Clock::Real => "real".into(),
                    Clock::Virtual => "virtual".into(),
                },
                epoch: self.epoch,
                elapsed_ms: elapsed.as_millis() as u64,
                // Filled in once the nodes are stopped.
                wall_ms: 0,
                messages_delivered: None,
                target_block_time_ms: self.plan.params.target_block_time_ms,
                partitions: self.partitions.clone(),
                transactions,
                eclipse,
            },
            &finals,
            &stats,
        )
    }

    /// Where the submitted transfers ended up: on the best chain, in stale blocks.
    async fn transactions(&self, finals: &[NodeFinal]) -> TxSummary {
        let mut summary = TxSummary {
            submitted: self.submitted.len() as u64,
            accepted: self.submitted.iter().filter(|s| s.accepted).count() as u64,
            rejected: self.rejected.clone(),
            ..TxSummary::default()
        };
        if self.submitted.is_empty() {
            return summary;
        }
        let view = ForkView::new(finals);
        let best = &self.nodes[view.best_node];
        let mut confirmed = HashSet::new();
        for submitted in self.submitted.iter().filter(|s| s.accepted) {
            if let Ok(TxStatus::Confirmed { block_hash, .. }) =
                best.chain.send(GetTx(submitted.txid)).await
            {
                if view.best_chain.contains(&block_hash) {
                    confirmed.insert(submitted.txid);
                }
            }
        }
        // Which node holds each stale block.
        let mut holder: HashMap<BlockHash, usize> = HashMap::new();
        for (i, node) in finals.iter().enumerate() {
            for entry in &node.tree {
                holder.entry(entry.hash).or_insert(i);
            }
        }
        let mut in_stale = HashSet::new();
        for hash in &view.stale {
            let Some(&i) = holder.get(hash) else { continue };
            if let Ok(Some(block)) = self.nodes[i]
                .chain
                .send(GetBlock(BlockRef::Hash(*hash)))
                .await
            {
                in_stale.extend(block.txs.iter().map(|tx| tx.id()));
            }
        }
        for submitted in self.submitted.iter().filter(|s| s.accepted) {
            let stale = in_stale.contains(&submitted.txid);
            let on_best = confirmed.contains(&submitted.txid);
            summary.confirmed += u64::from(on_best);
            summary.in_stale_blocks += u64::from(stale);
            summary.remined += u64::from(stale && on_best);
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_767_225_600), "20260101-000000");
        assert_eq!(utc_stamp(951_782_400 + 3_723), "20000229-010203");
    }
}
