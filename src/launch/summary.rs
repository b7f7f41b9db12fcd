//! The launch summary (the book's Guide › Launching a network): what `summary.json` holds
//! and how it reads on stdout.
//!
//! Definitions:
//! - a node's `stale` blocks: blocks in its own block tree that are not on its active
//!   chain (exactly what its index says);
//! - the network's `stale` blocks: blocks in the union of all nodes' trees that are not on
//!   the final best chain (the tip with the most work any node holds), and `stale_rate` =
//!   stale ÷ all blocks mined in the run;
//! - propagation delay: for each mined block and each other node that stored it, the time
//!   from the miner storing it to that node storing it (in its tree, on the active chain or
//!   not); blocks that never reached a node (cut off by a partition, say) are counted as
//!   `unreached` instead;
//! - `converged`: every node ended on the same tip;
//! - reach (Decker & Wattenhofer's propagation measure): for each mined block, the time
//!   from its miner storing it until 10 %, 50 %, 90 % and 100 % of all nodes (the miner
//!   included) stored it; `reach_ms` gives percentiles of those times over the blocks
//!   that got that far;
//! - fork lengths: each branch off the final best chain (stale blocks whose parent is on
//!   it), by its length in blocks;
//! - `elapsed_ms` is on the run's clock (virtual in a virtual-time run) and `wall_ms` on
//!   the wall clock: the one field two runs of a virtual launch from one seed differ in
//!   (with `run_dir`);
//! - `eclipse` (with `[simulation.eclipse]`, see [`super::eclipse`]): how long the victim
//!   went without a block mined by an honest node;
//! - `messages_delivered` (virtual time only): peer messages delivered to the nodes'
//!   connections during the whole run, the launch's events.

use super::eclipse::EclipseSummary;
use super::stats::StatsSnapshot;
use crate::consensus::hash::{short_hex, BlockHash};
use crate::consensus::target::Work;
use crate::node::chain_actor::TreeEntry;
use crate::plural::count;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use tokio::time::Instant;

/// The whole summary, as written to `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The config file the run came from.
    pub config: String,
    pub run_dir: String,
    /// "real" or "simulated".
    pub mining: String,
    pub seed: u64,
    /// What ended the run: "duration", "blocks" or "interrupt".
    pub stopped_by: String,
    /// "real" or "virtual".
    pub clock: String,
    /// From the start of mining to the end of the run, on the run's clock.
    pub elapsed_ms: u64,
    /// The whole run, nodes' start and stop included, on the wall clock.
    pub wall_ms: u64,
    /// Virtual clock: messages delivered between nodes in the whole run (its events);
    /// `None` in real time, where nodes run on many threads and nobody counts.
    #[serde(default)]
    pub messages_delivered: Option<u64>,
    pub target_block_time_ms: u64,
    pub nodes: Vec<NodeSummary>,
    /// All blocks mined in the run (the union of the nodes' trees, genesis not counted).
    pub blocks_mined: u64,
    /// Blocks of the union not on the final best chain.
    pub stale: u64,
    /// `stale / blocks_mined` (0 when nothing was mined).
    pub stale_rate: f64,
    /// Every node ended on the same tip.
    pub converged: bool,
    /// The tip with the most work any node ended on.
    pub best_tip: TipSummary,
    pub propagation_ms: Propagation,
    /// Time for a block to reach 10 %, 50 %, 90 % and 100 % of the nodes.
    pub reach_ms: Vec<Reach>,
    /// Branches off the final best chain: length in blocks → how many.
    pub fork_lengths: BTreeMap<u64, u64>,
    pub partitions: Vec<PartitionSummary>,
    pub transactions: TxSummary,
    /// Every block found, in order (simulated mining: the order of the draws).
    pub finds: Vec<Find>,
    /// `[simulation.eclipse]`: how long the victim stayed eclipsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eclipse: Option<EclipseSummary>,
}

/// One node's end state and history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeSummary {
    pub name: String,
    pub listen: String,
    pub height: u64,
    pub tip_hash: String,
    /// Blocks this node's miner found.
    pub mined: u64,
    /// Of those, blocks on the final best chain.
    pub mined_on_best_chain: u64,
    /// Blocks in this node's tree not on its active chain.
    pub stale: u64,
    /// Blocks in this node's tree, genesis not counted.
    pub blocks_in_tree: u64,
    pub reorgs: u64,
    pub max_reorg_depth: u64,
    /// Reorg depth → how many reorgs had it.
    pub reorg_depths: BTreeMap<u64, u64>,
    /// Median and largest delay of other miners' blocks reaching this node, in ms.
    pub propagation_p50_ms: Option<f64>,
    pub propagation_max_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TipSummary {
    pub height: u64,
    pub hash: String,
}

/// Block propagation delays in milliseconds (`None` without samples).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Propagation {
    pub samples: u64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    /// (block, node) pairs where the node never stored the block.
    pub unreached: u64,
}

/// How long blocks took to reach a fraction of the nodes, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    /// 0.1, 0.5, 0.9 or 1.0.
    pub fraction: f64,
    /// Blocks that reached that fraction of the nodes (the percentiles are over these).
    pub blocks: u64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub max: Option<f64>,
}

/// The fractions of the nodes [`Reach`] is measured at.
const REACH_FRACTIONS: [f64; 4] = [0.1, 0.5, 0.9, 1.0];

/// A partition, with each group's best tip when it healed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionSummary {
    pub groups: Vec<Vec<String>>,
    pub start_ms: u64,
    pub heal_ms: Option<u64>,
    /// Per group (same order), the tip with the most work among its nodes just before
    /// the links came back; empty if the run ended first.
    pub tips_at_heal: Vec<TipSummary>,
}

/// The transfers the launcher submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxSummary {
    pub submitted: u64,
    pub accepted: u64,
    /// Reasons of refused submissions, one per refusal.
    pub rejected: Vec<String>,
    /// Accepted transfers in a block of the final best chain.
    pub confirmed: u64,
    /// Accepted transfers found in at least one stale block.
    pub in_stale_blocks: u64,
    /// Of those, transfers that were mined again onto the final best chain.
    pub remined: u64,
}

/// One block found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Find {
    pub node: String,
    pub height: u64,
    pub hash: String,
    /// When its miner stored it, since the start.
    pub at_ms: u64,
    /// Simulated mining: when the draw scheduled it, since the start.
    pub scheduled_ms: Option<u64>,
    /// When half and nine tenths of the nodes had stored it, since the start.
    pub reached_50_ms: Option<u64>,
    pub reached_90_ms: Option<u64>,
    /// Not on the final best chain.
    pub stale: bool,
}

/// A node's state at the end of the run.
#[derive(Clone, Debug)]
pub struct NodeFinal {
    pub name: String,
    pub listen: String,
    pub tip_height: u64,
    pub tip_hash: BlockHash,
    pub tip_work: Work,
    pub tree: Vec<TreeEntry>,
}

/// The final best chain and the stale blocks of the union of `nodes`' trees.
#[derive(Clone, Debug)]
pub struct ForkView {
    /// Position in `nodes` of a node on the best tip.
    pub best_node: usize,
    pub best_chain: HashSet<BlockHash>,
    pub stale: Vec<BlockHash>,
    /// Blocks in the union, genesis not counted.
    pub mined: u64,
}

impl ForkView {
    pub fn new(nodes: &[NodeFinal]) -> ForkView {
        let mut union: HashMap<BlockHash, (BlockHash, u64)> = HashMap::new();
        for node in nodes {
            for entry in &node.tree {
                union.insert(entry.hash, (entry.prev, entry.height));
            }
        }
        // Most work; among equals the tip most nodes share, then the first node's.
        let mut sharing: HashMap<BlockHash, usize> = HashMap::new();
        for node in nodes {
            *sharing.entry(node.tip_hash).or_insert(0) += 1;
        }
        let on_tip = |hash: &BlockHash| sharing.get(hash).copied().unwrap_or(0);
        let best_node = (0..nodes.len())
            .max_by(|&a, &b| {
                let (x, y) = (&nodes[a], &nodes[b]);
                x.tip_work
                    .cmp(&y.tip_work)
                    .then(on_tip(&x.tip_hash).cmp(&on_tip(&y.tip_hash)))
                    .then(b.cmp(&a))
            })
            .unwrap_or(0);
        let mut best_chain = HashSet::new();
        let mut cursor = nodes.get(best_node).map(|node| node.tip_hash);
        while let Some(hash) = cursor {
            best_chain.insert(hash);
            cursor = match union.get(&hash) {
                Some((prev, height)) if *height > 0 => Some(*prev),
                _ => None,
            };
        }
        let mut stale: Vec<(u64, BlockHash)> = union
            .iter()
            .filter(|(hash, (_, height))| *height > 0 && !best_chain.contains(*hash))
            .map(|(hash, (_, height))| (*height, *hash))
            .collect();
        stale.sort();
        ForkView {
            best_node,
            best_chain,
            stale: stale.into_iter().map(|(_, hash)| hash).collect(),
            mined: union.values().filter(|(_, height)| *height > 0).count() as u64,
        }
    }
}

/// Facts about the run that are not in the nodes or the statistics.
#[derive(Clone, Debug)]
pub struct RunFacts {
    pub config: String,
    pub run_dir: String,
    pub mining: String,
    pub seed: u64,
    pub stopped_by: String,
    pub clock: String,
    pub epoch: Instant,
    pub elapsed_ms: u64,
    pub wall_ms: u64,
    pub messages_delivered: Option<u64>,
    pub target_block_time_ms: u64,
    pub partitions: Vec<PartitionSummary>,
    pub transactions: TxSummary,
    pub eclipse: Option<EclipseSummary>,
}

/// Nearest-rank percentile `p` (0–100) of `sorted` (ascending); `None` when empty. The one
/// definition of a percentile for launch summaries and the examples' measurements alike.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// Puts the summary together.
pub fn summarize(facts: RunFacts, nodes: &[NodeFinal], stats: &StatsSnapshot) -> Summary {
    let view = ForkView::new(nodes);

    // Propagation samples, by receiving node.
    let mut received: Vec<Vec<f64>> = vec![Vec::new(); nodes.len()];
    let mut unreached = 0;
    for mined in &stats.mined {
        let Some(times) = stats.stored.get(&mined.hash) else {
            continue;
        };
        for (node, time) in times.iter().enumerate() {
            if node == mined.node {
                continue;
            }
            match (time, received.get_mut(node)) {
                (Some(time), Some(samples)) => {
                    samples.push(millis(time.saturating_duration_since(mined.at)))
                }
                _ => unreached += 1,
            }
        }
    }
    for samples in &mut received {
        samples.sort_by(f64::total_cmp);
    }
    let mut delays: Vec<f64> = received.iter().flatten().copied().collect();
    delays.sort_by(f64::total_cmp);

    let mut node_summaries = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mined: Vec<_> = stats.mined.iter().filter(|m| m.node == i).collect();
        let depths = stats.reorgs.get(i).cloned().unwrap_or_default();
        let mut histogram = BTreeMap::new();
        for depth in &depths {
            *histogram.entry(*depth as u64).or_insert(0) += 1;
        }
        node_summaries.push(NodeSummary {
            name: node.name.clone(),
            listen: node.listen.clone(),
            height: node.tip_height,
            tip_hash: node.tip_hash.to_string(),
            mined: mined.len() as u64,
            mined_on_best_chain: mined
                .iter()
                .filter(|m| view.best_chain.contains(&m.hash))
                .count() as u64,
            stale: node.tree.iter().filter(|entry| !entry.active).count() as u64,
            blocks_in_tree: node.tree.iter().filter(|entry| entry.height > 0).count() as u64,
            reorgs: depths.len() as u64,
            max_reorg_depth: depths.iter().copied().max().unwrap_or(0) as u64,
            reorg_depths: histogram,
            propagation_p50_ms: received.get(i).and_then(|s| percentile(s, 50.0)),
            propagation_max_ms: received.get(i).and_then(|s| s.last().copied()),
        });
    }

    // Per block, when each fraction of the nodes had it (time since it was mined).
    let reach_times: Vec<[Option<std::time::Duration>; 4]> = stats
        .mined
        .iter()
        .map(|mined| {
            let mut times: Vec<std::time::Duration> = stats
                .stored
                .get(&mined.hash)
                .map(|times| {
                    times
                        .iter()
                        .flatten()
                        .map(|at| at.saturating_duration_since(mined.at))
                        .collect()
                })
                .unwrap_or_default();
            times.sort();
            REACH_FRACTIONS.map(|fraction| {
                let needed = ((fraction * nodes.len() as f64).ceil() as usize).max(1);
                times.get(needed - 1).copied()
            })
        })
        .collect();
    let reach_ms = REACH_FRACTIONS
        .iter()
        .enumerate()
        .map(|(k, fraction)| {
            let mut times: Vec<f64> = reach_times
                .iter()
                .filter_map(|times| times[k].map(millis))
                .collect();
            times.sort_by(f64::total_cmp);
            Reach {
                fraction: *fraction,
                blocks: times.len() as u64,
                p50: percentile(&times, 50.0),
                p90: percentile(&times, 90.0),
                max: times.last().copied(),
            }
        })
        .collect();

    let mut finds: Vec<(Option<u64>, Find)> = stats
        .mined
        .iter()
        .zip(&reach_times)
        .map(|(mined, reach)| {
            let scheduled = mined.find.map(|find| find.scheduled.as_millis() as u64);
            let since_epoch = mined.at.saturating_duration_since(facts.epoch);
            let at_ms = since_epoch.as_millis() as u64;
            let reached = |k: usize| reach[k].map(|time| (since_epoch + time).as_millis() as u64);
            (
                mined.find.map(|find| find.scheduled.as_nanos() as u64),
                Find {
                    node: nodes
                        .get(mined.node)
                        .map_or_else(|| mined.node.to_string(), |n| n.name.clone()),
                    height: mined.height,
                    hash: mined.hash.to_string(),
                    at_ms,
                    scheduled_ms: scheduled,
                    reached_50_ms: reached(1),
                    reached_90_ms: reached(2),
                    stale: !view.best_chain.contains(&mined.hash),
                },
            )
        })
        .collect();
    // Simulated finds in the order of their draws; real ones as they came.
    finds.sort_by_key(|(scheduled, find)| (scheduled.unwrap_or(0), find.at_ms));

    let best = nodes.get(view.best_node);
    let stale = view.stale.len() as u64;
    Summary {
        config: facts.config,
        run_dir: facts.run_dir,
        mining: facts.mining,
        seed: facts.seed,
        stopped_by: facts.stopped_by,
        clock: facts.clock,
        elapsed_ms: facts.elapsed_ms,
        wall_ms: facts.wall_ms,
        messages_delivered: facts.messages_delivered,
        target_block_time_ms: facts.target_block_time_ms,
        nodes: node_summaries,
        blocks_mined: view.mined,
        stale,
        stale_rate: if view.mined == 0 {
            0.0
        } else {
            stale as f64 / view.mined as f64
        },
        converged: nodes
            .windows(2)
            .all(|pair| pair[0].tip_hash == pair[1].tip_hash),
        best_tip: TipSummary {
            height: best.map_or(0, |node| node.tip_height),
            hash: best.map_or_else(String::new, |node| node.tip_hash.to_string()),
        },
        propagation_ms: Propagation {
            samples: delays.len() as u64,
            p50: percentile(&delays, 50.0),
            p90: percentile(&delays, 90.0),
            p99: percentile(&delays, 99.0),
            max: delays.last().copied(),
            unreached,
        },
        reach_ms,
        fork_lengths: fork_lengths(nodes, &view),
        partitions: facts.partitions,
        transactions: facts.transactions,
        finds: finds.into_iter().map(|(_, find)| find).collect(),
        eclipse: facts.eclipse,
    }
}

/// Each branch off the final best chain, by length: a stale block whose parent is on
/// the best chain starts a branch, which is as long as its longest run of stale
/// descendants.
fn fork_lengths(nodes: &[NodeFinal], view: &ForkView) -> BTreeMap<u64, u64> {
    let mut parent: HashMap<BlockHash, BlockHash> = HashMap::new();
    for node in nodes {
        for entry in &node.tree {
            parent.insert(entry.hash, entry.prev);
        }
    }
    // `view.stale` is in height order, so a block's stale parent is measured first.
    let mut depth: HashMap<BlockHash, (BlockHash, u64)> = HashMap::new();
    let mut longest: BTreeMap<BlockHash, u64> = BTreeMap::new();
    for hash in &view.stale {
        let prev = parent.get(hash).copied().unwrap_or_default();
        let (root, length) = match depth.get(&prev) {
            Some((root, length)) => (*root, length + 1),
            None => (*hash, 1),
        };
        depth.insert(*hash, (root, length));
        let best = longest.entry(root).or_insert(0);
        *best = (*best).max(length);
    }
    let mut histogram = BTreeMap::new();
    for length in longest.values() {
        *histogram.entry(*length).or_insert(0) += 1;
    }
    histogram
}

/// The per-block rows of `summary` as CSV, for plotting: one row per block found.
pub fn blocks_csv(summary: &Summary) -> String {
    let cell = |value: Option<u64>| value.map_or_else(String::new, |v| v.to_string());
    let mut csv = String::from("height,miner,hash,found_ms,reached_50_ms,reached_90_ms,stale\n");
    for find in &summary.finds {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            find.height,
            find.node,
            find.hash,
            find.at_ms,
            cell(find.reached_50_ms),
            cell(find.reached_90_ms),
            find.stale
        ));
    }
    csv
}

/// Nodes listed in the printed summary; a launch of thousands lists them in the JSON.
const TABLE_ROWS: usize = 50;

fn ms_text(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |ms| format!("{ms:.0} ms"))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stopped = match self.stopped_by.as_str() {
            "blocks" => "stopped at its block count",
            "duration" => "stopped at its duration",
            "interrupt" => "interrupted",
            other => other,
        };
        let seed = if self.mining == "simulated" {
            format!(" (seed {})", self.seed)
        } else {
            String::new()
        };
        let clock = if self.clock == "virtual" {
            format!(" virtual ({:.1} s wall)", self.wall_ms as f64 / 1000.0)
        } else {
            String::new()
        };
        let events = match self.messages_delivered {
            Some(messages) => format!(
                "\n  {messages} messages delivered, {:.0} per wall second",
                messages as f64 * 1000.0 / self.wall_ms.max(1) as f64
            ),
            None => String::new(),
        };
        writeln!(
            f,
            "{}: {}, {} mining{seed}, {stopped} after {:.1} s{clock}{events}",
            self.config,
            count(self.nodes.len() as u64, "node", "nodes"),
            self.mining,
            self.elapsed_ms as f64 / 1000.0
        )?;
        let width = self
            .nodes
            .iter()
            .map(|node| node.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        // Short hashes keep their leading zeros, so their width follows the difficulty.
        let tip_width = self
            .nodes
            .iter()
            .map(|node| short_hex(&node.tip_hash).len())
            .max()
            .unwrap_or(3)
            .max(3);
        writeln!(
            f,
            "  {:<width$}  {:<21} {:>7}  {:<tip_width$}  {:>6} {:>6}  {:>9}  {:>6}  reorg depths",
            "node", "listening on", "height", "tip", "mined", "stale", "delay p50", "reorgs"
        )?;
        for node in self.nodes.iter().take(TABLE_ROWS) {
            let depths = if node.reorg_depths.is_empty() {
                "-".to_string()
            } else {
                node.reorg_depths
                    .iter()
                    .map(|(depth, count)| format!("{depth}:{count}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            writeln!(
                f,
                "  {:<width$}  {:<21} {:>7}  {:<tip_width$}  {:>6} {:>6}  {:>9}  {:>6}  {depths}",
                node.name,
                node.listen,
                node.height,
                short_hex(&node.tip_hash),
                node.mined,
                node.stale,
                ms_text(node.propagation_p50_ms),
                node.reorgs
            )?;
        }
        if self.nodes.len() > TABLE_ROWS {
            writeln!(
                f,
                "  ... and {} more (see summary.json)",
                count((self.nodes.len() - TABLE_ROWS) as u64, "node", "nodes")
            )?;
        }
        writeln!(
            f,
            "  (stale: blocks in the node's tree off its active chain; delay: other miners' \
             blocks reaching it; reorg depths: depth:count)"
        )?;
        writeln!(
            f,
            "network: {} mined, {} stale: stale rate {:.1} %",
            count(self.blocks_mined, "block", "blocks"),
            self.stale,
            self.stale_rate * 100.0
        )?;
        if self.converged {
            writeln!(
                f,
                "converged: every node ended on tip {} at height {}",
                short_hex(&self.best_tip.hash),
                self.best_tip.height
            )?;
        } else {
            let tips: HashSet<&str> = self.nodes.iter().map(|n| n.tip_hash.as_str()).collect();
            writeln!(
                f,
                "NOT converged: the nodes ended on {} different tips (best: {} at height {})",
                tips.len(),
                short_hex(&self.best_tip.hash),
                self.best_tip.height
            )?;
        }
        let p = &self.propagation_ms;
        writeln!(
            f,
            "block propagation (miner -> each other node), {}: p50 {}, p90 {}, p99 {}, max {}{}",
            count(p.samples, "sample", "samples"),
            ms_text(p.p50),
            ms_text(p.p90),
            ms_text(p.p99),
            ms_text(p.max),
            if p.unreached > 0 {
                format!("; {} never arrived", p.unreached)
            } else {
                String::new()
            }
        )?;
        let reach: Vec<String> = self
            .reach_ms
            .iter()
            .map(|reach| {
                format!(
                    "{:.0} %: p50 {}, p90 {}",
                    reach.fraction * 100.0,
                    ms_text(reach.p50),
                    ms_text(reach.p90)
                )
            })
            .collect();
        writeln!(f, "blocks reaching the nodes: {}", reach.join("; "))?;
        if !self.fork_lengths.is_empty() {
            let forks: Vec<String> = self
                .fork_lengths
                .iter()
                .map(|(length, count)| format!("{count} of length {length}"))
                .collect();
            writeln!(f, "forks off the best chain: {}", forks.join(", "))?;
        }
        for partition in &self.partitions {
            let groups: Vec<String> = partition
                .groups
                .iter()
                .map(|group| format!("{{{}}}", group.join(", ")))
                .collect();
            let heal = partition.heal_ms.map_or_else(
                || "never healed".to_string(),
                |ms| format!("healed at {ms} ms"),
            );
            write!(
                f,
                "partition {} from {} ms, {heal}",
                groups.join(" | "),
                partition.start_ms
            )?;
            if !partition.tips_at_heal.is_empty() {
                let tips: Vec<String> = partition
                    .tips_at_heal
                    .iter()
                    .map(|tip| format!("height {} ({})", tip.height, short_hex(&tip.hash)))
                    .collect();
                write!(f, "; tips at heal: {}", tips.join(" vs "))?;
            }
            writeln!(f)?;
        }
        if let Some(eclipse) = &self.eclipse {
            writeln!(
                f,
                "eclipse: {} fed by {} attackers {} {:.1} s; {} honest blocks missed, {} \
                 attacker blocks fed",
                eclipse.victim,
                eclipse.attackers.len(),
                if eclipse.escaped {
                    "escaped after"
                } else {
                    "eclipsed to the end,"
                },
                eclipse.eclipsed_ms as f64 / 1000.0,
                eclipse.honest_blocks_missed,
                eclipse.attacker_blocks_fed
            )?;
        }
        let t = &self.transactions;
        if t.submitted > 0 {
            writeln!(
                f,
                "transfers: {} submitted, {} accepted, {} confirmed on the best chain; \
                 {} were in stale blocks, {} of them mined again",
                t.submitted, t.accepted, t.confirmed, t.in_stale_blocks, t.remined
            )?;
            for reason in t.rejected.iter().take(3) {
                writeln!(f, "  refused: {reason}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::hash::sha256;
    use crate::launch::stats::MinedRecord;
    use crate::node::sim_miner::FindInfo;
    use std::time::Duration;

    fn hash(n: u8) -> BlockHash {
        BlockHash::from_bytes(sha256(&[n]))
    }

    fn entry(n: u8, prev: u8, height: u64, active: bool) -> TreeEntry {
        TreeEntry {
            hash: hash(n),
            prev: if height == 0 {
                BlockHash::default()
            } else {
                hash(prev)
            },
            height,
            active,
        }
    }

    fn work(n: u64) -> Work {
        let mut bytes = [0u8; 32];
        bytes[24..].copy_from_slice(&n.to_be_bytes());
        Work::from_be_bytes(bytes)
    }

    /// Genesis 0; branch 1-2-3 (best) and a stale fork 4 on 1; node b never saw 3.
    fn nodes() -> Vec<NodeFinal> {
        vec![
            NodeFinal {
                name: "a".into(),
                listen: "127.0.0.1:1".into(),
                tip_height: 3,
                tip_hash: hash(3),
                tip_work: work(4),
                tree: vec![
                    entry(0, 0, 0, true),
                    entry(1, 0, 1, true),
                    entry(2, 1, 2, true),
                    entry(3, 2, 3, true),
                    entry(4, 1, 2, false),
                ],
            },
            NodeFinal {
                name: "b".into(),
                listen: "127.0.0.1:2".into(),
                tip_height: 2,
                tip_hash: hash(4),
                tip_work: work(3),
                tree: vec![
                    entry(0, 0, 0, true),
                    entry(1, 0, 1, true),
                    entry(2, 1, 2, false),
                    entry(4, 1, 2, true),
                ],
            },
        ]
    }

    #[test]
    fn stale_blocks_are_the_union_off_the_best_chain() {
        let view = ForkView::new(&nodes());
        assert_eq!(view.best_node, 0);
        assert_eq!(view.mined, 4);
        assert_eq!(view.stale, vec![hash(4)]);
        assert!(view.best_chain.contains(&hash(0)) && view.best_chain.contains(&hash(3)));
    }

    #[test]
    fn summary_counts_per_node_and_percentiles() {
        let epoch = Instant::now();
        let at = |ms: u64| epoch + Duration::from_millis(ms);
        let mined = |node, n, ms| MinedRecord {
            node,
            hash: hash(n),
            height: 1,
            at: at(ms),
            find: Some(FindInfo {
                index: 0,
                scheduled: Duration::from_millis(ms),
            }),
        };
        let mut stored = HashMap::new();
        stored.insert(hash(1), vec![Some(at(0)), Some(at(10))]);
        stored.insert(hash(2), vec![Some(at(100)), Some(at(130))]);
        stored.insert(hash(3), vec![Some(at(200)), None]);
        stored.insert(hash(4), vec![Some(at(150)), Some(at(120))]);
        let stats = StatsSnapshot {
            mined: vec![
                mined(0, 1, 0),
                mined(0, 2, 100),
                mined(0, 3, 200),
                mined(1, 4, 120),
            ],
            stored,
            reorgs: vec![vec![], vec![1, 1, 2]],
            last_stored: None,
        };
        let facts = RunFacts {
            config: "x.toml".into(),
            run_dir: "runs/x".into(),
            mining: "simulated".into(),
            seed: 1,
            stopped_by: "blocks".into(),
            clock: "real".into(),
            epoch,
            elapsed_ms: 300,
            wall_ms: 300,
            messages_delivered: None,
            target_block_time_ms: 100,
            partitions: Vec::new(),
            transactions: TxSummary::default(),
            eclipse: None,
        };
        let summary = summarize(facts, &nodes(), &stats);
        assert_eq!(summary.blocks_mined, 4);
        assert_eq!(summary.stale, 1);
        assert!((summary.stale_rate - 0.25).abs() < 1e-9);
        assert!(!summary.converged);
        assert_eq!(summary.nodes[0].stale, 1);
        assert_eq!(summary.nodes[1].stale, 1);
        assert_eq!(summary.nodes[0].mined, 3);
        assert_eq!(summary.nodes[1].mined_on_best_chain, 0);
        assert_eq!(summary.nodes[1].reorgs, 3);
        assert_eq!(summary.nodes[1].max_reorg_depth, 2);
        assert_eq!(summary.nodes[1].reorg_depths.get(&1), Some(&2));
        // Delays 10, 30, 30 ms; block 3 never reached b.
        assert_eq!(summary.propagation_ms.samples, 3);
        assert_eq!(summary.propagation_ms.p50, Some(30.0));
        assert_eq!(summary.propagation_ms.max, Some(30.0));
        assert_eq!(summary.propagation_ms.unreached, 1);
        let order: Vec<&str> = summary.finds.iter().map(|f| f.node.as_str()).collect();
        assert_eq!(order, ["a", "a", "b", "a"]);
        let json = serde_json::to_string(&summary).unwrap();
        assert_eq!(serde_json::from_str::<Summary>(&json).unwrap(), summary);
        assert!(summary.to_string().contains("stale rate 25.0 %"));
        assert!(summary.to_string().contains("2 nodes, simulated mining"));

        // A real-mining tip is shown with its leading zeros and 8 digits after them.
        let mut real = summary.clone();
        real.nodes[0].tip_hash = format!("00000000abcdef12{}", "3".repeat(48));
        real.nodes.truncate(1);
        let text = real.to_string();
        assert!(text.contains(" 00000000abcdef12 "), "{text}");
        assert!(text.contains(": 1 node, "), "{text}");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), Some(50.0));
        assert_eq!(percentile(&values, 99.0), Some(99.0));
        assert_eq!(percentile(&values, 100.0), Some(100.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 90.0), Some(7.0));
    }
}
