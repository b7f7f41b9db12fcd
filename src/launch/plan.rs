//! A launch's config resolved into what the launcher runs: nodes by position, the delay
//! of every directed link, who dials whom, partitions, accounts with their keys, and the
//! transfers to submit — plus the chain parameters the run really uses.
//!
//! Simulated mining changes the `[chain]` table: proof of work must cost nothing and the
//! block rate must come from the simulated miners alone, so the plan sets
//! `pow_limit_bits = 0`, `initial_difficulty_bits = 0` (every hash meets the target) and
//! `retarget_interval = 1000000000` (never reached). `target_block_time_ms` stays: it
//! is the mean block interval of the whole network.

use crate::config::scenario::{
    expand_groups, Clock, MiningMode, Simulation, StoreKind, Strategy, Topology,
};
use crate::config::{Config, ConfigError, NodeConfig, DEFAULT_CONFIG};
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::hash::sha256;
use crate::consensus::params::{Allocation, ChainParams};
use crate::consensus::signatures::SigningKey;
use crate::node::netsim::{derive_seed, LinkDelay};
use crate::node::sim_miner::{FindSchedule, SimMining};
use crate::node::withholding::MinerStrategy;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::SeedableRng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::path::Path;
use std::time::Duration;

/// The smallest share of the network's hash power a mining node may have: below it the
/// node's mean wait between finds is millions of block times, which no run would see.
const MIN_SHARE: f64 = 1e-6;
/// The default end-of-run settle time is 5 s plus ten times the longest link delay, but
/// at most this: links may be slow (a day at most), a run's end should not be.
const DEFAULT_SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// The retarget interval of simulated runs: far beyond any run's length.
pub const SIMULATED_RETARGET_INTERVAL: u64 = 1_000_000_000;

/// One node of a launch.
#[derive(Clone, Debug)]
pub struct PlannedNode {
    pub name: String,
    /// 0: the OS picks.
    pub port: u16,
    pub mine: bool,
    /// Share of the network's hash power (0 for a node that does not mine).
    pub share: f64,
    /// The node's own delay and jitter of what it sends, if it sets them.
    pub delay: Option<(Duration, Duration)>,
    /// Position in [`LaunchPlan::regions`].
    pub region: Option<usize>,
    /// Bits per second; `None`: unlimited.
    pub upload_bps: Option<u64>,
    pub download_bps: Option<u64>,
    /// How it relays its own blocks.
    pub strategy: MinerStrategy,
}

/// A `[simulation.regions]` entry: latency to each region, by position.
#[derive(Clone, Debug)]
pub struct PlannedRegion {
    pub name: String,
    pub latency: Vec<Duration>,
    pub jitter: Duration,
}

/// A partition: links between different groups are cut from `start` to `heal`.
#[derive(Clone, Debug)]
pub struct PlannedPartition {
    pub groups: Vec<Vec<usize>>,
    pub start: Duration,
    pub heal: Option<Duration>,
}

impl PlannedPartition {
    /// The group of `node`, if it is in one.
    pub fn group_of(&self, node: usize) -> Option<usize> {
        self.groups.iter().position(|group| group.contains(&node))
    }

    /// Whether the link between `a` and `b` is cut while this partition lasts.
    pub fn cuts(&self, a: usize, b: usize) -> bool {
        matches!((self.group_of(a), self.group_of(b)), (Some(x), Some(y)) if x != y)
    }
}

/// An eclipse attack (`[simulation.eclipse]`, see [`super::eclipse`]).
#[derive(Clone, Debug)]
pub struct PlannedEclipse {
    pub victim: usize,
    pub attackers: Vec<usize>,
    /// When `rescuer` dials the victim; `None`: never.
    pub until: Option<Duration>,
    /// The honest node that ends the eclipse: the first that neither is nor attacks the
    /// victim.
    pub rescuer: Option<usize>,
}

/// An account the launcher holds the key of. Its key derives from its name: fine for a
/// simulation, never for real money.
#[derive(Clone, Debug)]
pub struct LaunchAccount {
    pub name: String,
    pub key: SigningKey,
    pub address: Address,
}

impl LaunchAccount {
    pub fn new(name: &str) -> Self {
        let key = SigningKey::from(sha256(
            format!("ironchain launch account {name}").as_bytes(),
        ));
        LaunchAccount {
            name: name.to_string(),
            address: Address::of(&key),
            key,
        }
    }
}

/// One transfer to sign and submit.
#[derive(Clone, Debug)]
pub struct PlannedTransfer {
    pub at: Duration,
    pub node: usize,
    pub from: usize,
    pub to: usize,
    pub amount: u64,
    pub fee: u64,
}

/// A launch, ready to run.
#[derive(Clone, Debug)]
pub struct LaunchPlan {
    /// The config file, for messages.
    pub file: String,
    /// Names the run directory: the file's stem.
    pub name: String,
    /// The chain parameters every node uses (with the simulated-mining changes and the
    /// accounts' allocations).
    pub params: ChainParams,
    /// The `[node]` table: connection limits and mining threads of every node.
    pub node: NodeConfig,
    pub nodes: Vec<PlannedNode>,
    pub mining: MiningMode,
    pub seed: u64,
    pub duration: Option<Duration>,
    pub stop_after_blocks: Option<u64>,
    /// How long to wait at the end for the nodes to agree on a tip.
    pub settle: Duration,
    /// Delay and jitter of links no node, region or link entry sets.
    pub default_delay: (Duration, Duration),
    pub regions: Vec<PlannedRegion>,
    /// `[[simulation.links]]` entries: delay and jitter by `(from, to)`.
    pub link_overrides: BTreeMap<(usize, usize), (Duration, Duration)>,
    pub clock: Clock,
    pub store: StoreKind,
    /// `(dialer, dialed)` pairs, one per connected pair.
    pub connections: Vec<(usize, usize)>,
    pub partitions: Vec<PlannedPartition>,
    pub accounts: Vec<LaunchAccount>,
    pub transfers: Vec<PlannedTransfer>,
    /// Bytes each block counts for beyond its encoding on links with a bandwidth.
    pub block_fill_bytes: u64,
    pub eclipse: Option<PlannedEclipse>,
}

fn ms(value: i64) -> Duration {
    Duration::from_millis(u64::try_from(value).unwrap_or(0))
}

impl LaunchPlan {
    /// Reads a config file (merged over the embedded default) and resolves it.
    pub fn load(path: &Path) -> Result<LaunchPlan, ConfigError> {
        let config = Config::load(path)?;
        LaunchPlan::from_config(&path.display().to_string(), config)
    }

    /// Resolves config text (merged over the embedded default); `file` names it in errors
    /// and its stem names the run.
    pub fn from_toml(file: &str, text: &str) -> Result<LaunchPlan, ConfigError> {
        let base: toml::Table = toml::from_str(DEFAULT_CONFIG).map_err(|e| ConfigError {
            file: "config/default.toml (embedded)".into(),
            key: String::new(),
            reason: e.to_string(),
        })?;
        let config = Config::parse(file, text, Some(base))?;
        LaunchPlan::from_config(file, config)
    }

    /// Resolves a parsed (and so already consistent) config.
    pub fn from_config(file: &str, config: Config) -> Result<LaunchPlan, ConfigError> {
        let error = |key: &str, reason: &str| ConfigError {
            file: file.to_string(),
            key: key.to_string(),
            reason: reason.to_string(),
        };
        let all_nodes = expand_groups(&config.nodes, config.simulation.as_ref())
            .map_err(|(key, reason)| error(&key, &reason))?;
        if all_nodes.is_empty() {
            return Err(error(
                "nodes",
                "a launch needs at least one [[nodes]] entry (or [[simulation.groups]])",
            ));
        }
        let sim: Simulation = config.simulation.clone().unwrap_or_default();
        let region_of = |node: &crate::config::scenario::NodeEntry| {
            node.region.as_ref().and_then(|name| sim.regions.get(name))
        };
        let index = |name: &str| all_nodes.iter().position(|node| node.name == name);
        let mining_power: f64 = all_nodes
            .iter()
            .filter(|node| node.mine)
            .map(|node| node.hash_power)
            .sum();
        if sim.stop_after_blocks.is_some() && mining_power <= 0.0 {
            return Err(error(
                "simulation.stop_after_blocks",
                "no node mines, so no block would ever be found",
            ));
        }
        for (i, node) in all_nodes.iter().enumerate() {
            let share = node.hash_power / mining_power;
            if node.mine && share < MIN_SHARE {
                return Err(error(
                    &format!("nodes[{i}].hash_power"),
                    &format!(
                        "{share:.1e} of the network's hash power is too small to simulate \
                         (at least {MIN_SHARE:.0e})"
                    ),
                ));
            }
        }
        let nodes: Vec<PlannedNode> = all_nodes
            .iter()
            .map(|node| PlannedNode {
                name: node.name.clone(),
                port: node.port,
                mine: node.mine,
                share: if node.mine && mining_power > 0.0 {
                    node.hash_power / mining_power
                } else {
                    0.0
                },
                delay: match (node.delay_ms, node.jitter_ms) {
                    (None, None) => None,
                    (delay, jitter) => Some((
                        ms(delay.unwrap_or(sim.delay_ms)),
                        ms(jitter.unwrap_or(sim.jitter_ms)),
                    )),
                },
                region: node
                    .region
                    .as_ref()
                    .and_then(|name| sim.regions.keys().position(|r| r == name)),
                upload_bps: node
                    .upload_mbps
                    .or_else(|| region_of(node).and_then(|r| r.upload_mbps))
                    .or(sim.upload_mbps)
                    .map(bits_per_second),
                download_bps: node
                    .download_mbps
                    .or_else(|| region_of(node).and_then(|r| r.download_mbps))
                    .or(sim.download_mbps)
                    .map(bits_per_second),
                strategy: match node.strategy {
                    Strategy::Honest => MinerStrategy::Honest,
                    Strategy::Selfish => MinerStrategy::Selfish,
                    Strategy::DoubleSpend => MinerStrategy::DoubleSpend {
                        confirmations: node.confirmations.unwrap_or(0),
                    },
                },
            })
            .collect();
        let seed = sim.seed.unwrap_or_else(rand::random);

        let count = nodes.len();
        let mut link_overrides = BTreeMap::new();
        for link in &sim.links {
            let (Some(from), Some(to)) = (index(&link.from), index(&link.to)) else {
                continue; // checked when parsing
            };
            let delay = (
                ms(link.delay_ms),
                ms(link.jitter_ms.unwrap_or(sim.jitter_ms)),
            );
            link_overrides.insert((from, to), delay);
            if link.both_ways {
                link_overrides.insert((to, from), delay);
            }
        }
        let regions: Vec<PlannedRegion> = sim
            .regions
            .iter()
            .map(|(name, region)| PlannedRegion {
                name: name.clone(),
                latency: sim
                    .regions
                    .keys()
                    .map(|other| ms(region.latency_ms.get(other).copied().unwrap_or(0)))
                    .collect(),
                jitter: ms(region.jitter_ms),
            })
            .collect();

        let mut connections: Vec<(usize, usize)> = Vec::new();
        match sim.topology {
            Topology::Mesh => {
                for a in 0..count {
                    for b in a + 1..count {
                        connections.push((a, b));
                    }
                }
            }
            Topology::Peers => {
                for (a, node) in all_nodes.iter().enumerate() {
                    for b in node.peers.iter().filter_map(|peer| index(peer)) {
                        // One connection per pair: two nodes dialing each other at once
                        // would race and both be refused as duplicates.
                        if !connections.contains(&(b, a)) {
                            connections.push((a, b));
                        }
                    }
                }
            }
            Topology::Random => {
                let outbound = usize::try_from(sim.outbound.unwrap_or(0))
                    .unwrap_or(usize::MAX)
                    .min(count.saturating_sub(1));
                let mut pairs = BTreeSet::new();
                for a in 0..count {
                    let mut rng = StdRng::seed_from_u64(derive_seed(seed, a, "outbound"));
                    // `outbound` distinct others: draw among the count - 1 nodes but `a`.
                    for drawn in sample(&mut rng, count - 1, outbound) {
                        let b = if drawn >= a { drawn + 1 } else { drawn };
                        if pairs.insert((a.min(b), a.max(b))) {
                            connections.push((a, b));
                        }
                    }
                }
            }
        }

        let eclipse = sim.eclipse.as_ref().map(|eclipse| {
            let victim = index(&eclipse.victim).unwrap_or(0); // checked when parsing
            let attackers: Vec<usize> = eclipse
                .attackers
                .iter()
                .filter_map(|name| index(name))
                .collect();
            PlannedEclipse {
                rescuer: (0..count).find(|i| *i != victim && !attackers.contains(i)),
                victim,
                attackers,
                until: eclipse.until_ms.map(ms),
            }
        });
        if let Some(eclipse) = &eclipse {
            connections = super::eclipse::rewire(connections, eclipse);
        }

        let partitions = sim
            .partitions
            .iter()
            .map(|partition| PlannedPartition {
                groups: partition
                    .groups
                    .iter()
                    .map(|group| group.iter().filter_map(|name| index(name)).collect())
                    .collect(),
                start: ms(partition.start_ms),
                heal: partition.heal_ms.map(ms),
            })
            .collect();

        let accounts: Vec<LaunchAccount> = sim
            .accounts
            .iter()
            .map(|account| LaunchAccount::new(&account.name))
            .collect();
        let account = |name: &str| sim.accounts.iter().position(|a| a.name == name);
        let mut transfers = Vec::new();
        for transfer in &sim.transfers {
            let (Some(node), Some(from), Some(to)) = (
                index(&transfer.node),
                account(&transfer.from),
                account(&transfer.to),
            ) else {
                continue; // checked when parsing
            };
            for k in 0..transfer.count {
                let offset = u64::try_from(transfer.every_ms)
                    .unwrap_or(0)
                    .saturating_mul(k);
                transfers.push(PlannedTransfer {
                    at: ms(transfer.at_ms) + Duration::from_millis(offset),
                    node,
                    from,
                    to,
                    amount: transfer.amount,
                    fee: transfer.fee,
                });
            }
        }
        transfers.sort_by_key(|transfer| transfer.at);

        let mut params = config.chain.clone();
        if sim.mining == MiningMode::Simulated {
            params.pow_limit_bits = 0;
            params.initial_difficulty_bits = 0;
            params.retarget_interval = SIMULATED_RETARGET_INTERVAL;
        }
        for (entry, account) in sim.accounts.iter().zip(&accounts) {
            params.allocations.push(Allocation {
                address: account.address,
                amount: Amount::new(entry.balance),
            });
        }
        params
            .validate()
            .map_err(|e| error(&format!("chain.{}", e.key), &e.reason))?;

        let default_delay = (ms(sim.delay_ms), ms(sim.jitter_ms));
        let longest_link = longest_link(default_delay, &nodes, &regions, &link_overrides);
        let settle = sim
            .settle_ms
            .map(ms)
            .unwrap_or((Duration::from_secs(5) + longest_link * 10).min(DEFAULT_SETTLE_LIMIT));

        Ok(LaunchPlan {
            file: file.to_string(),
            name: Path::new(file).file_stem().map_or_else(
                || "launch".to_string(),
                |s| s.to_string_lossy().into_owned(),
            ),
            params,
            node: config.node,
            nodes,
            mining: sim.mining,
            seed,
            duration: sim.duration_ms.map(ms),
            stop_after_blocks: sim.stop_after_blocks,
            settle,
            default_delay,
            regions,
            link_overrides,
            clock: sim.clock,
            store: sim.store,
            connections,
            partitions,
            accounts,
            transfers,
            block_fill_bytes: sim
                .block_fill_bytes
                .and_then(|fill| u64::try_from(fill).ok())
                .unwrap_or(0),
            eclipse,
        })
    }

    /// How node `index` mines when simulating: mean wait = target block time ÷ its share.
    pub fn sim_mining(&self, index: usize) -> Option<SimMining> {
        let node = self.nodes.get(index)?;
        if self.mining != MiningMode::Simulated || !node.mine || node.share <= 0.0 {
            return None;
        }
        let mean = Duration::try_from_secs_f64(
            Duration::from_millis(self.params.target_block_time_ms).as_secs_f64() / node.share,
        )
        .unwrap_or(Duration::MAX);
        Some(SimMining {
            mean,
            schedule_seed: derive_seed(self.seed, index, "finds"),
            nonce_seed: derive_seed(self.seed, index, "nonces"),
        })
    }

    /// The find times of node `index` when simulating (the same draws its miner makes).
    pub fn find_schedule(&self, index: usize) -> Option<FindSchedule> {
        self.sim_mining(index)
            .map(|sim| FindSchedule::new(sim.schedule_seed, sim.mean))
    }

    /// When simulating: the scheduled finds of the whole network in time order, as
    /// `(time since start, node)`, the first `count` of them.
    pub fn first_finds(&self, count: usize) -> Vec<(Duration, usize)> {
        // Merge the nodes' schedules (each in time order) with a heap of their next finds.
        let mut schedules: Vec<Option<FindSchedule>> = (0..self.nodes.len())
            .map(|i| self.find_schedule(i))
            .collect();
        let mut next: BinaryHeap<Reverse<(Duration, usize)>> = schedules
            .iter_mut()
            .enumerate()
            .filter_map(|(i, schedule)| Some(Reverse((schedule.as_mut()?.next()?, i))))
            .collect();
        let mut finds = Vec::new();
        while finds.len() < count {
            let Some(Reverse((at, i))) = next.pop() else {
                break;
            };
            finds.push((at, i));
            if let Some(later) = schedules[i].as_mut().and_then(Iterator::next) {
                next.push(Reverse((later, i)));
            }
        }
        finds
    }

    /// The link from node `from` to node `to`: a `[[simulation.links]]` entry, else the
    /// sender's own delay, else the regions' latency, else the `[simulation]` default;
    /// its bandwidth is the smaller of the sender's upload and the receiver's download.
    pub fn link(&self, from: usize, to: usize) -> LinkDelay {
        let (sender, receiver) = (self.nodes.get(from), self.nodes.get(to));
        let regional = || {
            let region = self.regions.get(sender?.region?)?;
            Some((*region.latency.get(receiver?.region?)?, region.jitter))
        };
        let (delay, jitter) = self
            .link_overrides
            .get(&(from, to))
            .copied()
            .or_else(|| sender.and_then(|node| node.delay))
            .or_else(regional)
            .unwrap_or(self.default_delay);
        let upload = sender.and_then(|node| node.upload_bps);
        let download = receiver.and_then(|node| node.download_bps);
        LinkDelay {
            delay,
            jitter,
            seed: derive_seed(self.seed, from, &format!("link-{to}")),
            bits_per_second: match (upload, download) {
                (Some(up), Some(down)) => Some(up.min(down)),
                (one, other) => one.or(other),
            },
            block_fill_bytes: self.block_fill_bytes,
        }
    }

    /// The longest delay plus jitter of any link.
    pub fn longest_link(&self) -> Duration {
        longest_link(
            self.default_delay,
            &self.nodes,
            &self.regions,
            &self.link_overrides,
        )
    }

    /// Neighbours of each node once connected (no partition active).
    pub fn degrees(&self) -> Vec<usize> {
        let mut degrees = vec![0; self.nodes.len()];
        for (a, b) in &self.connections {
            degrees[*a] += 1;
            degrees[*b] += 1;
        }
        degrees
    }
}

/// Megabits per second (checked positive and finite) in whole bits per second.
fn bits_per_second(mbps: f64) -> u64 {
    // `as` saturates: an absurd bandwidth is simply unlimited in effect.
    ((mbps * 1e6).round() as u64).max(1)
}

fn longest_link(
    default: (Duration, Duration),
    nodes: &[PlannedNode],
    regions: &[PlannedRegion],
    overrides: &BTreeMap<(usize, usize), (Duration, Duration)>,
) -> Duration {
    let regional = regions.iter().flat_map(|region| {
        region
            .latency
            .iter()
            .map(move |latency| (*latency, region.jitter))
    });
    std::iter::once(default)
        .chain(nodes.iter().filter_map(|node| node.delay))
        .chain(regional)
        .chain(overrides.values().copied())
        .map(|(delay, jitter)| delay + jitter)
        .max()
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: &str = r#"
        [[nodes]]
        name = "a"
        peers = ["b"]
        [[nodes]]
        name = "b"
        peers = ["a", "c"]
        hash_power = 3.0
        [[nodes]]
        name = "c"
        mine = false
    "#;

    fn error(text: &str) -> ConfigError {
        LaunchPlan::from_toml("bad.toml", text).unwrap_err()
    }

    fn assert_error(text: &str, key: &str, reason: &str) {
        let error = error(text);
        assert_eq!(error.file, "bad.toml", "{error}");
        assert_eq!(error.key, key, "{error}");
        assert!(error.reason.contains(reason), "{error}");
    }

    #[test]
    fn bad_launch_configs_name_the_key_and_the_reason() {
        let link = |from: &str, to: &str, delay: i64| {
            format!("{THREE}\n[[simulation.links]]\nfrom = \"{from}\"\nto = \"{to}\"\ndelay_ms = {delay}\n")
        };
        assert_error(
            &link("a", "x", 5),
            "simulation.links[0].to",
            "unknown node \"x\"",
        );
        assert_error(
            &link("y", "a", 5),
            "simulation.links[0].from",
            "unknown node \"y\"",
        );
        assert_error(
            &link("a", "b", -5),
            "simulation.links[0].delay_ms",
            "negative",
        );
        assert_error(&link("a", "a", 5), "simulation.links[0].to", "itself");
        assert_error(
            &format!("{THREE}\n[simulation]\ndelay_ms = -1\n"),
            "simulation.delay_ms",
            "must not be negative",
        );
        assert_error(
            &format!("{THREE}\n[simulation]\njitter_ms = \"lots\"\n"),
            "simulation.jitter_ms",
            "invalid type",
        );
        let partition = |groups: &str| {
            format!("{THREE}\n[[simulation.partitions]]\ngroups = {groups}\nstart_ms = 10\nheal_ms = 20\n")
        };
        assert_error(
            &partition("[]"),
            "simulation.partitions[0].groups",
            "two groups",
        );
        assert_error(
            &partition("[[\"a\"], []]"),
            "simulation.partitions[0].groups[1]",
            "names no node",
        );
        assert_error(
            &partition("[[\"a\"], [\"q\"]]"),
            "simulation.partitions[0].groups[1]",
            "unknown node \"q\"",
        );
        assert_error(
            &partition("[[\"a\"], [\"a\", \"b\"]]"),
            "simulation.partitions[0].groups[1]",
            "two groups",
        );
        assert_error(
            "[[nodes]]\nname = \"a\"\n[[nodes]]\nname = \"a\"\n",
            "nodes[1].name",
            "used twice",
        );
        assert_error(
            "[[nodes]]\nname = \"a\"\npeers = [\"b\"]\n",
            "nodes[0].peers",
            "unknown node \"b\"",
        );
        assert_error(
            "[[nodes]]\nname = \"a/b\"\n",
            "nodes[0].name",
            "letters, digits",
        );
        assert_error("[node]\nport = 1\n", "nodes", "at least one [[nodes]]");
        assert_error(
            "[[nodes]]\nname = \"a\"\nmine = false\n[simulation]\nstop_after_blocks = 5\n",
            "simulation.stop_after_blocks",
            "no node mines",
        );
        assert_error(
            &format!("{THREE}\n[[simulation.transfers]]\nat_ms = 1\nnode = \"a\"\nfrom = \"x\"\nto = \"y\"\namount = 1\nfee = 1\n"),
            "simulation.transfers[0].from",
            "unknown account \"x\"",
        );
        assert_error(
            "[[nodes]]\nname = \"a\"\nhash_power = 1e-19\n[[nodes]]\nname = \"b\"\n",
            "nodes[0].hash_power",
            "too small to simulate",
        );
        assert_error(
            "[[nodes]]\nname = \"a\"\n[simulation]\nstop_after_blocks = 1000000000000\n",
            "simulation.stop_after_blocks",
            "at most 1000000",
        );
        let fill = |value: &str| {
            format!("{THREE}\n[simulation]\nupload_mbps = 8\nblock_fill_bytes = {value}\n")
        };
        assert_error(
            &fill("-1"),
            "simulation.block_fill_bytes",
            "must not be negative",
        );
        assert_error(
            &fill("40000000"),
            "simulation.block_fill_bytes",
            "more than",
        );
        assert_error(
            &fill("\"big\""),
            "simulation.block_fill_bytes",
            "invalid type",
        );
        assert_error(
            &format!("{THREE}\n[simulation]\nblock_fill_bytes = 1000\n"),
            "simulation.block_fill_bytes",
            "no link has a bandwidth",
        );
        let eclipse = |table: &str| format!("{THREE}\n[simulation.eclipse]\n{table}\n");
        assert_error(
            &eclipse("victim = \"q\"\nattackers = [\"a\"]"),
            "simulation.eclipse.victim",
            "unknown node \"q\"",
        );
        assert_error(
            &eclipse("victim = \"c\"\nattackers = []"),
            "simulation.eclipse.attackers",
            "names no node",
        );
        assert_error(
            &eclipse("victim = \"c\"\nattackers = [\"a\", \"z\"]"),
            "simulation.eclipse.attackers",
            "unknown node \"z\"",
        );
        assert_error(
            &eclipse("victim = \"c\"\nattackers = [\"c\"]"),
            "simulation.eclipse.attackers",
            "is the victim",
        );
        assert_error(
            &eclipse("victim = \"c\"\nattackers = [\"a\", \"a\"]"),
            "simulation.eclipse.attackers",
            "listed twice",
        );
        assert_error(
            &eclipse("victim = \"c\"\nattackers = [\"a\"]\nuntil_ms = -5"),
            "simulation.eclipse.until_ms",
            "must not be negative",
        );
        assert_error(
            &eclipse("victim = \"c\"\nattackers = [\"a\", \"b\"]\nuntil_ms = 5"),
            "simulation.eclipse.until_ms",
            "no honest node",
        );
        let missing = LaunchPlan::load(Path::new("/no/such/launch.toml")).unwrap_err();
        assert_eq!(missing.file, "/no/such/launch.toml");
        assert!(missing.reason.contains("cannot read"), "{missing}");
    }

    #[test]
    fn a_plan_resolves_names_links_and_shares() {
        let plan = LaunchPlan::from_toml(
            "dir/three.toml",
            &format!(
                "{THREE}\n[simulation]\nmining = \"simulated\"\nseed = 4\ndelay_ms = 10\n\
                 [[simulation.links]]\nfrom = \"a\"\nto = \"c\"\ndelay_ms = 90\nboth_ways = false\n\
                 [[simulation.accounts]]\nname = \"alice\"\nbalance = 70\n"
            ),
        )
        .unwrap();
        assert_eq!(plan.name, "three");
        // a and b list each other: one connection.
        assert_eq!(plan.connections, vec![(0, 1), (1, 2)]);
        assert_eq!(plan.degrees(), vec![1, 2, 1]);
        assert_eq!(plan.link(0, 2).delay, Duration::from_millis(90));
        assert_eq!(plan.link(2, 0).delay, Duration::from_millis(10));
        assert_eq!(plan.link(1, 0).delay, Duration::from_millis(10));
        assert_eq!(plan.link(1, 0).block_fill_bytes, 0);
        assert_eq!(plan.nodes[0].share, 0.25);
        assert_eq!(plan.nodes[1].share, 0.75);
        assert_eq!(plan.nodes[2].share, 0.0);
        assert!(plan.sim_mining(2).is_none());
        let mean = plan.sim_mining(1).unwrap().mean;
        assert_eq!(mean, Duration::from_secs_f64(10.0 / 0.75));
        assert_eq!(plan.params.pow_limit_bits, 0);
        assert_eq!(plan.params.initial_difficulty_bits, 0);
        assert_eq!(plan.params.retarget_interval, SIMULATED_RETARGET_INTERVAL);
        let alice = LaunchAccount::new("alice");
        assert!(plan
            .params
            .allocations
            .iter()
            .any(|a| a.address == alice.address && a.amount == Amount::new(70)));
        let finds = plan.first_finds(50);
        assert_eq!(finds.len(), 50);
        assert!(finds.iter().all(|(_, node)| *node != 2));
        assert!(finds.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    }

    #[test]
    fn real_mining_keeps_the_chain_parameters() {
        let plan = LaunchPlan::from_toml("t.toml", THREE).unwrap();
        assert_eq!(plan.mining, MiningMode::Real);
        assert_eq!(plan.params, Config::embedded().chain);
        assert!(plan.sim_mining(0).is_none());
    }
}
