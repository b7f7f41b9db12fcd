//! The multi-node part of a config file (the book's Guide › Launching a network):
//! `[[nodes]]` entries and the `[simulation]` table that `ironchain launch` reads, and
//! their consistency checks.
//!
//! ```toml
//! [[nodes]]
//! name = "a"            # also names the data directory: <run dir>/node-a
//! port = 0              # 0 (default): the OS picks a free port
//! peers = ["b"]         # nodes this one dials, by name
//! mine = true           # default true
//! hash_power = 2.0      # relative share of the network's hash power (simulated mining)
//! delay_ms = 40         # optional: delay of everything this node sends
//! jitter_ms = 10
//! strategy = "selfish"  # or "honest" (default), or "double_spend": how the node relays
//!                       # its own blocks (issue 16; see node::withholding)
//! confirmations = 6     # with "double_spend": the blocks the merchant waits for (z)
//!
//! [simulation]
//! mining = "simulated"  # or "real" (default): real hashing with the [chain] difficulty
//! seed = 7              # default: drawn at random and reported in the summary
//! duration_ms = 60000   # stop after this long ...
//! stop_after_blocks = 200 # ... or once this many blocks were mined, whichever is first
//! delay_ms = 50         # default one-way delay of every message between nodes
//! jitter_ms = 10        # plus up to this much more, uniformly
//! topology = "peers"    # each node dials its `peers` (default), or "mesh": every pair,
//!                       # or "random": each node dials `outbound` others (seeded)
//! outbound = 8          # with topology = "random"
//! settle_ms = 10000     # at the end, wait up to this long for the nodes to agree
//! clock = "virtual"     # or "real" (default): run in virtual time (see launch::virtual_time)
//! store = "memory"      # or "disk" (default): where the nodes keep their chains
//! upload_mbps = 20      # default bandwidth of every node (absent: unlimited); a link
//! download_mbps = 50    # carries min(sender's upload, receiver's download)
//! block_fill_bytes = 535000 # each block counts this many bytes more on a link with a
//!                       # bandwidth (simulated blocks are nearly empty; real ones are not)
//!
//! [[simulation.groups]] # `count` nodes named name_prefix0, name_prefix1, ...
//! name_prefix = "eu-"
//! count = 500
//! hash_power = 1.0      # each; or total_hash_power = 100.0, shared equally
//! mine = true
//! region = "eu"         # optional; also upload_mbps, download_mbps, strategy
//!
//! [simulation.regions.eu]   # one table per region: latency to every region, itself too
//! latency_ms = { eu = 15, us = 90 }
//! jitter_ms = 5             # optional
//! upload_mbps = 50          # optional: the default of the region's nodes
//! download_mbps = 100
//!
//! [[simulation.links]]  # overrides the delays above for one link
//! from = "a"
//! to = "b"
//! delay_ms = 200
//! jitter_ms = 0
//! both_ways = true      # default true: also from "b" to "a"
//!
//! [[simulation.partitions]]  # links between the groups are cut from start_ms to heal_ms
//! groups = [["a", "b"], ["c", "d"]]
//! start_ms = 2000
//! heal_ms = 8000
//!
//! [simulation.eclipse]     # an eclipse attack (launch::eclipse): every link of the
//! victim = "v"              # victim goes to the attackers, which have no link to the
//! attackers = ["x0", "x1"]  # honest nodes; until an honest node dials the victim at
//! until_ms = 3600000        # until_ms (absent: never)
//!
//! [[simulation.accounts]]  # genesis allocations whose keys the launcher holds
//! name = "alice"
//! balance = 100000
//!
//! [[simulation.transfers]]  # signed by the launcher and submitted to `node`
//! at_ms = 3000
//! node = "c"
//! from = "alice"
//! to = "bob"
//! amount = 10
//! fee = 1
//! count = 5             # default 1: repeated ...
//! every_ms = 500        # ... this far apart
//! ```
//!
//! Delays are integers so that a negative one is reported as such (with its key) rather
//! than as a type error. Every error names the key (`simulation.links[0].to`) and why.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Longest delay, jitter or time accepted: one day, in milliseconds.
const MAX_MS: i64 = 86_400_000;
/// Most blocks a run may stop after: more than a laptop's run can mine, and the launcher
/// draws the network's simulated finds up to this count in advance.
const MAX_STOP_BLOCKS: u64 = 1_000_000;

/// One `[[nodes]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    pub name: String,
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub peers: Vec<String>,
    #[serde(default = "default_true")]
    pub mine: bool,
    #[serde(default = "default_hash_power")]
    pub hash_power: f64,
    pub delay_ms: Option<i64>,
    pub jitter_ms: Option<i64>,
    /// A `[simulation.regions]` name: this node takes that region's latencies.
    pub region: Option<String>,
    pub upload_mbps: Option<f64>,
    pub download_mbps: Option<f64>,
    #[serde(default)]
    pub strategy: Strategy,
    pub confirmations: Option<u64>,
}

/// What a mining node does with the blocks it finds (issue 16).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Relays each block the moment it is found.
    #[default]
    Honest,
    /// Eyal & Sirer's selfish mining (`node::policy::selfish`): withholds its blocks and
    /// publishes them to match or override the public chain.
    Selfish,
    /// The whitepaper's double-spend race (`node::policy::double_spend`): mines a private
    /// branch holding its own spend and publishes it once the merchant has delivered.
    #[serde(rename = "double_spend")]
    DoubleSpend,
}

/// Most confirmations a double-spend's merchant may wait for.
const MAX_CONFIRMATIONS: u64 = 1_000;

/// How blocks are found.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MiningMode {
    /// Hashing with the `[chain]` difficulty (the node's `MinerActor`).
    #[default]
    Real,
    /// Exponential waits, then a trivially easy target (`SimMinerActor`).
    Simulated,
}

/// Which nodes connect.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    /// Each node dials the nodes in its `peers`.
    #[default]
    Peers,
    /// Every pair of nodes is connected (and `peers` must be empty).
    Mesh,
    /// Each node dials `outbound` others drawn with the seed (and `peers` must be empty).
    Random,
}

/// Which clock a launch runs on.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// Real time, a thread per node's chain, TCP on loopback.
    #[default]
    Real,
    /// Virtual time on one thread, in-memory links (`launch::virtual_time`).
    Virtual,
}

/// Where the nodes of a launch keep their chains.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In each node's directory under the run directory.
    #[default]
    Disk,
    /// In memory, thrown away at the end (many nodes, no disk I/O).
    Memory,
}

/// The `[simulation]` table.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    #[serde(default)]
    pub mining: MiningMode,
    pub seed: Option<u64>,
    pub duration_ms: Option<i64>,
    pub stop_after_blocks: Option<u64>,
    #[serde(default)]
    pub delay_ms: i64,
    #[serde(default)]
    pub jitter_ms: i64,
    #[serde(default)]
    pub topology: Topology,
    pub settle_ms: Option<i64>,
    #[serde(default)]
    pub links: Vec<LinkEntry>,
    #[serde(default)]
    pub partitions: Vec<PartitionEntry>,
    #[serde(default)]
    pub accounts: Vec<AccountEntry>,
    #[serde(default)]
    pub transfers: Vec<TransferEntry>,
    #[serde(default)]
    pub clock: Clock,
    #[serde(default)]
    pub store: StoreKind,
    pub outbound: Option<u64>,
    pub upload_mbps: Option<f64>,
    pub download_mbps: Option<f64>,
    #[serde(default)]
    pub groups: Vec<GroupEntry>,
    #[serde(default)]
    pub regions: BTreeMap<String, RegionEntry>,
    /// Bytes each block counts for beyond its encoding on links with a bandwidth.
    pub block_fill_bytes: Option<i64>,
    pub eclipse: Option<EclipseEntry>,
}

/// The `[simulation.eclipse]` table.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EclipseEntry {
    pub victim: String,
    pub attackers: Vec<String>,
    /// When an honest node dials the victim; absent: the eclipse lasts the whole run.
    pub until_ms: Option<i64>,
}

/// One `[[simulation.groups]]` entry: `count` alike nodes.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    pub name_prefix: String,
    pub count: u64,
    /// Each node's share; or `total_hash_power`, split equally. Default: 1 each.
    pub hash_power: Option<f64>,
    pub total_hash_power: Option<f64>,
    #[serde(default = "default_true")]
    pub mine: bool,
    pub region: Option<String>,
    pub upload_mbps: Option<f64>,
    pub download_mbps: Option<f64>,
    #[serde(default)]
    pub strategy: Strategy,
    pub confirmations: Option<u64>,
}

/// One `[simulation.regions.NAME]` table.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionEntry {
    /// One-way latency to each region (this one included), by region name.
    pub latency_ms: BTreeMap<String, i64>,
    #[serde(default)]
    pub jitter_ms: i64,
    pub upload_mbps: Option<f64>,
    pub download_mbps: Option<f64>,
}

/// One `[[simulation.links]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LinkEntry {
    pub from: String,
    pub to: String,
    pub delay_ms: i64,
    /// Absent: the scenario's `jitter_ms`, as every per-link key inherits the
    /// scenario's value.
    #[serde(default)]
    pub jitter_ms: Option<i64>,
    #[serde(default = "default_true")]
    pub both_ways: bool,
}

/// One `[[simulation.partitions]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PartitionEntry {
    pub groups: Vec<Vec<String>>,
    pub start_ms: i64,
    /// Absent: the partition lasts to the end of the run.
    pub heal_ms: Option<i64>,
}

/// One `[[simulation.accounts]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    pub name: String,
    pub balance: u64,
}

/// One `[[simulation.transfers]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TransferEntry {
    pub at_ms: i64,
    pub node: String,
    pub from: String,
    pub to: String,
    pub amount: u64,
    pub fee: u64,
    #[serde(default = "default_count")]
    pub count: u64,
    #[serde(default)]
    pub every_ms: i64,
}

fn default_true() -> bool {
    true
}

fn default_hash_power() -> f64 {
    1.0
}

fn default_count() -> u64 {
    1
}

/// A key and the reason it is wrong.
pub type KeyError = (String, String);

fn fail<T>(key: impl Into<String>, reason: impl Into<String>) -> Result<T, KeyError> {
    Err((key.into(), reason.into()))
}

/// Checks a duration or delay in milliseconds: not negative, not absurd.
pub fn check_ms(key: &str, value: i64) -> Result<(), KeyError> {
    if value < 0 {
        return fail(key, format!("must not be negative (got {value})"));
    }
    if value > MAX_MS {
        return fail(key, format!("{value} ms is more than a day"));
    }
    Ok(())
}

fn check_name(key: &str, name: &str, what: &str) -> Result<(), KeyError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || name.len() > 32 || !name.chars().all(allowed) {
        return fail(
            key,
            format!(
                "{what} name \"{name}\" must be 1 to 32 letters, digits, '-' or '_' \
                 (it names a directory)"
            ),
        );
    }
    Ok(())
}

/// Resolves names to positions, with an error naming the known ones.
struct Names<'a> {
    what: &'static str,
    index: HashMap<&'a str, usize>,
    listed: String,
}

impl<'a> Names<'a> {
    fn new(what: &'static str, names: impl Iterator<Item = &'a str>) -> Self {
        let names: Vec<&str> = names.collect();
        Names {
            what,
            // A launch of thousands of nodes would make an error line a page long.
            listed: if names.len() > 20 {
                format!("{}, ... ({} in all)", names[..20].join(", "), names.len())
            } else {
                names.join(", ")
            },
            index: names.iter().enumerate().map(|(i, n)| (*n, i)).collect(),
        }
    }

    fn get(&self, key: &str, name: &str) -> Result<usize, KeyError> {
        self.index.get(name).copied().ok_or_else(|| {
            (
                key.to_string(),
                format!(
                    "unknown {} \"{name}\" (the {}s are: {})",
                    self.what,
                    self.what,
                    if self.listed.is_empty() {
                        "none".to_string()
                    } else {
                        self.listed.clone()
                    }
                ),
            )
        })
    }
}

/// Most nodes one launch may have (groups included).
const MAX_NODES: u64 = 100_000;
/// Largest `block_fill_bytes`: 32 MB, Bitcoin's largest block weight eight times over.
const MAX_BLOCK_FILL: i64 = 32_000_000;

/// Checks `[simulation] block_fill_bytes`: not negative, not absurd, and some link must
/// have a bandwidth for it to change anything.
fn check_block_fill(sim: &Simulation, nodes: &[NodeEntry]) -> Result<(), KeyError> {
    let key = "simulation.block_fill_bytes";
    match sim.block_fill_bytes {
        None | Some(0) => Ok(()),
        Some(fill) if fill < 0 => fail(key, format!("must not be negative (got {fill})")),
        Some(fill) if fill > MAX_BLOCK_FILL => {
            fail(key, format!("{fill} is more than {MAX_BLOCK_FILL} bytes"))
        }
        Some(_) => {
            let bandwidth = sim.upload_mbps.is_some()
                || sim.download_mbps.is_some()
                || sim
                    .regions
                    .values()
                    .any(|r| r.upload_mbps.is_some() || r.download_mbps.is_some())
                || nodes
                    .iter()
                    .any(|n| n.upload_mbps.is_some() || n.download_mbps.is_some());
            if bandwidth {
                Ok(())
            } else {
                fail(
                    key,
                    "no link has a bandwidth (upload_mbps / download_mbps), so the fill \
                     would change nothing",
                )
            }
        }
    }
}

/// Checks a bandwidth in megabits per second: a positive, finite number.
fn check_mbps(key: &str, value: Option<f64>) -> Result<(), KeyError> {
    match value {
        Some(mbps) if !mbps.is_finite() => fail(
            key,
            format!("must be a finite number of megabits per second (got {mbps})"),
        ),
        Some(mbps) if mbps < 0.0 => fail(key, format!("must not be negative (got {mbps})")),
        Some(0.0) => fail(key, "must be positive (leave it out: unlimited)"),
        _ => Ok(()),
    }
}

/// The `[[nodes]]` entries followed by the nodes of each `[[simulation.groups]]` entry,
/// or the key and reason why the groups cannot be expanded.
pub fn expand_groups(
    nodes: &[NodeEntry],
    simulation: Option<&Simulation>,
) -> Result<Vec<NodeEntry>, KeyError> {
    let mut all = nodes.to_vec();
    let Some(simulation) = simulation else {
        return Ok(all);
    };
    for (g, group) in simulation.groups.iter().enumerate() {
        let key = format!("simulation.groups[{g}]");
        if group.count == 0 {
            return fail(format!("{key}.count"), "must be positive");
        }
        if all.len() as u64 + group.count > MAX_NODES {
            return fail(
                format!("{key}.count"),
                format!("a launch has at most {MAX_NODES} nodes"),
            );
        }
        let hash_power = match (group.hash_power, group.total_hash_power) {
            (Some(_), Some(_)) => {
                return fail(
                    format!("{key}.total_hash_power"),
                    "give hash_power (each) or total_hash_power (shared), not both",
                )
            }
            (Some(each), None) => each,
            (None, Some(total)) => total / group.count as f64,
            (None, None) => default_hash_power(),
        };
        check_name(&format!("{key}.name_prefix"), &group.name_prefix, "group")?;
        check_strategy(&key, group.strategy, group.confirmations, group.mine)?;
        for k in 0..group.count {
            all.push(NodeEntry {
                name: format!("{}{k}", group.name_prefix),
                port: 0,
                peers: Vec::new(),
                mine: group.mine,
                hash_power,
                delay_ms: None,
                jitter_ms: None,
                region: group.region.clone(),
                upload_mbps: group.upload_mbps,
                download_mbps: group.download_mbps,
                strategy: group.strategy,
                confirmations: group.confirmations,
            });
        }
        check_mbps(&format!("{key}.upload_mbps"), group.upload_mbps)?;
        check_mbps(&format!("{key}.download_mbps"), group.download_mbps)?;
        if !hash_power.is_finite() || hash_power < 0.0 {
            return fail(
                format!("{key}.hash_power"),
                format!("must be a non-negative number (got {hash_power})"),
            );
        }
        if let Some(region) = &group.region {
            check_region(&format!("{key}.region"), region, simulation)?;
        }
    }
    Ok(all)
}

/// Checks a node's or group's `strategy` against its `confirmations` and `mine`; `key`
/// is the entry's (`nodes[0]`).
fn check_strategy(
    key: &str,
    strategy: Strategy,
    confirmations: Option<u64>,
    mine: bool,
) -> Result<(), KeyError> {
    if strategy != Strategy::Honest && !mine {
        return fail(
            format!("{key}.strategy"),
            "only a mining node has blocks of its own to withhold (set mine = true)",
        );
    }
    match (strategy, confirmations) {
        (Strategy::DoubleSpend, None) => fail(
            format!("{key}.confirmations"),
            "strategy = \"double_spend\" needs the confirmations the merchant waits for",
        ),
        (Strategy::DoubleSpend, Some(z)) if z > MAX_CONFIRMATIONS => fail(
            format!("{key}.confirmations"),
            format!("at most {MAX_CONFIRMATIONS} (got {z})"),
        ),
        (Strategy::Honest | Strategy::Selfish, Some(_)) => fail(
            format!("{key}.confirmations"),
            "only used with strategy = \"double_spend\"",
        ),
        _ => Ok(()),
    }
}

fn check_region(key: &str, region: &str, simulation: &Simulation) -> Result<(), KeyError> {
    if simulation.regions.contains_key(region) {
        return Ok(());
    }
    let known: Vec<&str> = simulation.regions.keys().map(String::as_str).collect();
    fail(
        key,
        format!(
            "unknown region \"{region}\" (the regions are: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ),
    )
}

/// Checks that the `[[nodes]]` entries and the `[simulation]` table fit together.
pub fn validate(nodes: &[NodeEntry], simulation: Option<&Simulation>) -> Result<(), KeyError> {
    let expanded = expand_groups(nodes, simulation)?;
    let nodes = expanded.as_slice();
    let mut seen = HashSet::new();
    let mut ports = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let key = format!("nodes[{i}]");
        check_name(&format!("{key}.name"), &node.name, "node")?;
        if !seen.insert(node.name.as_str()) {
            return fail(
                format!("{key}.name"),
                format!("node name \"{}\" is used twice", node.name),
            );
        }
        if node.port != 0 {
            if let Some(other) = ports.insert(node.port, i) {
                return fail(
                    format!("{key}.port"),
                    format!("port {} is also nodes[{other}]'s", node.port),
                );
            }
        }
        if !node.hash_power.is_finite() || node.hash_power < 0.0 {
            return fail(
                format!("{key}.hash_power"),
                format!("must be a non-negative number (got {})", node.hash_power),
            );
        }
        if node.mine && node.hash_power == 0.0 {
            return fail(
                format!("{key}.hash_power"),
                "a mining node needs a positive share (or set mine = false)",
            );
        }
        check_strategy(&key, node.strategy, node.confirmations, node.mine)?;
        if let Some(delay) = node.delay_ms {
            check_ms(&format!("{key}.delay_ms"), delay)?;
        }
        if let Some(jitter) = node.jitter_ms {
            check_ms(&format!("{key}.jitter_ms"), jitter)?;
        }
        check_mbps(&format!("{key}.upload_mbps"), node.upload_mbps)?;
        check_mbps(&format!("{key}.download_mbps"), node.download_mbps)?;
        if let (Some(region), Some(simulation)) = (&node.region, simulation) {
            check_region(&format!("{key}.region"), region, simulation)?;
        } else if let Some(region) = &node.region {
            return fail(
                format!("{key}.region"),
                format!("region \"{region}\" needs a [simulation.regions] table"),
            );
        }
    }
    let names = Names::new("node", nodes.iter().map(|node| node.name.as_str()));
    let topology = simulation.map_or(Topology::Peers, |sim| sim.topology);
    for (i, node) in nodes.iter().enumerate() {
        let key = format!("nodes[{i}].peers");
        if topology == Topology::Mesh && !node.peers.is_empty() {
            return fail(
                key,
                "with simulation.topology = \"mesh\" every pair is connected: leave peers empty",
            );
        }
        if topology == Topology::Random && !node.peers.is_empty() {
            return fail(
                key,
                "with simulation.topology = \"random\" the seed picks the peers: leave peers empty",
            );
        }
        let mut listed = HashSet::new();
        for peer in &node.peers {
            names.get(&key, peer)?;
            if *peer == node.name {
                return fail(key, format!("node \"{peer}\" cannot be its own peer"));
            }
            if !listed.insert(peer) {
                return fail(key, format!("\"{peer}\" is listed twice"));
            }
        }
    }
    match simulation {
        Some(simulation) => {
            check_block_fill(simulation, nodes)?;
            validate_simulation(simulation, &names, nodes.len())
        }
        None => Ok(()),
    }
}

/// The `[simulation]` keys of virtual time, bandwidth, regions and random topology.
fn validate_network(sim: &Simulation, node_count: usize) -> Result<(), KeyError> {
    if sim.clock == Clock::Virtual && sim.mining != MiningMode::Simulated {
        return fail(
            "simulation.clock",
            "\"virtual\" needs mining = \"simulated\": hashing cannot run in virtual time",
        );
    }
    match (sim.topology, sim.outbound) {
        (Topology::Random, None) => {
            return fail(
                "simulation.outbound",
                "topology = \"random\" needs outbound = N (peers each node dials)",
            )
        }
        (Topology::Random, Some(0)) => return fail("simulation.outbound", "must be positive"),
        (Topology::Random, Some(outbound)) if outbound >= node_count as u64 => {
            return fail(
                "simulation.outbound",
                format!(
                    "{outbound} outbound peers need more than {node_count} nodes \
                     (at most {} here)",
                    node_count.saturating_sub(1)
                ),
            )
        }
        (Topology::Random, Some(_)) => {}
        (_, Some(_)) => {
            return fail(
                "simulation.outbound",
                "only used with topology = \"random\"",
            )
        }
        (_, None) => {}
    }
    check_mbps("simulation.upload_mbps", sim.upload_mbps)?;
    check_mbps("simulation.download_mbps", sim.download_mbps)?;
    for (name, region) in &sim.regions {
        let key = format!("simulation.regions.{name}");
        check_name(&key, name, "region")?;
        for other in sim.regions.keys() {
            match region.latency_ms.get(other) {
                Some(latency) => check_ms(&format!("{key}.latency_ms.{other}"), *latency)?,
                None => {
                    return fail(
                        format!("{key}.latency_ms"),
                        format!("region \"{other}\" is missing from the latency matrix"),
                    )
                }
            }
        }
        if let Some(unknown) = region
            .latency_ms
            .keys()
            .find(|other| !sim.regions.contains_key(*other))
        {
            return fail(
                format!("{key}.latency_ms.{unknown}"),
                format!("unknown region \"{unknown}\" (no [simulation.regions.{unknown}] table)"),
            );
        }
        check_ms(&format!("{key}.jitter_ms"), region.jitter_ms)?;
        check_mbps(&format!("{key}.upload_mbps"), region.upload_mbps)?;
        check_mbps(&format!("{key}.download_mbps"), region.download_mbps)?;
    }
    Ok(())
}

fn validate_simulation(sim: &Simulation, nodes: &Names, node_count: usize) -> Result<(), KeyError> {
    validate_network(sim, node_count)?;
    check_ms("simulation.delay_ms", sim.delay_ms)?;
    check_ms("simulation.jitter_ms", sim.jitter_ms)?;
    if let Some(duration) = sim.duration_ms {
        check_ms("simulation.duration_ms", duration)?;
        if duration == 0 {
            return fail("simulation.duration_ms", "must be positive");
        }
    }
    match sim.stop_after_blocks {
        Some(0) => return fail("simulation.stop_after_blocks", "must be positive"),
        Some(blocks) if blocks > MAX_STOP_BLOCKS => {
            return fail(
                "simulation.stop_after_blocks",
                format!("at most {MAX_STOP_BLOCKS} (got {blocks})"),
            )
        }
        _ => {}
    }
    if let Some(settle) = sim.settle_ms {
        check_ms("simulation.settle_ms", settle)?;
    }
    let mut links = HashSet::new();
    for (i, link) in sim.links.iter().enumerate() {
        let key = format!("simulation.links[{i}]");
        let from = nodes.get(&format!("{key}.from"), &link.from)?;
        let to = nodes.get(&format!("{key}.to"), &link.to)?;
        if from == to {
            return fail(
                format!("{key}.to"),
                format!("a link joins two nodes, not \"{}\" to itself", link.to),
            );
        }
        check_ms(&format!("{key}.delay_ms"), link.delay_ms)?;
        if let Some(jitter) = link.jitter_ms {
            check_ms(&format!("{key}.jitter_ms"), jitter)?;
        }
        let directions = if link.both_ways {
            vec![(from, to), (to, from)]
        } else {
            vec![(from, to)]
        };
        for (a, b) in directions {
            if !links.insert((a, b)) {
                return fail(
                    key,
                    format!(
                        "the link from \"{}\" to \"{}\" is given twice",
                        nodes_name(nodes, a),
                        nodes_name(nodes, b)
                    ),
                );
            }
        }
    }
    let mut windows: Vec<(i64, i64, usize)> = Vec::new();
    for (i, partition) in sim.partitions.iter().enumerate() {
        let key = format!("simulation.partitions[{i}]");
        if partition.groups.len() < 2 {
            return fail(
                format!("{key}.groups"),
                "a partition needs at least two groups of nodes",
            );
        }
        let mut placed = HashSet::new();
        for (g, group) in partition.groups.iter().enumerate() {
            let group_key = format!("{key}.groups[{g}]");
            if group.is_empty() {
                return fail(group_key, "names no node");
            }
            for name in group {
                let node = nodes.get(&group_key, name)?;
                if !placed.insert(node) {
                    return fail(group_key, format!("node \"{name}\" is in two groups"));
                }
            }
        }
        check_ms(&format!("{key}.start_ms"), partition.start_ms)?;
        let end = match partition.heal_ms {
            Some(heal) => {
                check_ms(&format!("{key}.heal_ms"), heal)?;
                if heal <= partition.start_ms {
                    return fail(
                        format!("{key}.heal_ms"),
                        format!("{heal} is not after start_ms = {}", partition.start_ms),
                    );
                }
                heal
            }
            None => i64::MAX,
        };
        if let Some((_, _, other)) = windows
            .iter()
            .find(|(start, heal, _)| partition.start_ms < *heal && *start < end)
        {
            return fail(
                format!("{key}.start_ms"),
                format!("overlaps simulation.partitions[{other}]; partitions take turns"),
            );
        }
        windows.push((partition.start_ms, end, i));
    }
    let mut seen = HashSet::new();
    for (i, account) in sim.accounts.iter().enumerate() {
        let key = format!("simulation.accounts[{i}]");
        check_name(&format!("{key}.name"), &account.name, "account")?;
        if !seen.insert(account.name.as_str()) {
            return fail(
                format!("{key}.name"),
                format!("account name \"{}\" is used twice", account.name),
            );
        }
        if account.balance == 0 {
            return fail(format!("{key}.balance"), "must be positive");
        }
    }
    if let Some(eclipse) = &sim.eclipse {
        check_eclipse(eclipse, nodes, node_count)?;
    }
    let accounts = Names::new("account", sim.accounts.iter().map(|a| a.name.as_str()));
    for (i, transfer) in sim.transfers.iter().enumerate() {
        let key = format!("simulation.transfers[{i}]");
        check_ms(&format!("{key}.at_ms"), transfer.at_ms)?;
        check_ms(&format!("{key}.every_ms"), transfer.every_ms)?;
        nodes.get(&format!("{key}.node"), &transfer.node)?;
        accounts.get(&format!("{key}.from"), &transfer.from)?;
        accounts.get(&format!("{key}.to"), &transfer.to)?;
        if transfer.amount == 0 {
            return fail(format!("{key}.amount"), "must be positive");
        }
        if transfer.count == 0 || transfer.count > 100_000 {
            return fail(format!("{key}.count"), "must be between 1 and 100000");
        }
    }
    Ok(())
}

/// Checks `[simulation.eclipse]`: a known victim, known attackers other than it, and an
/// honest node left to end the eclipse.
fn check_eclipse(eclipse: &EclipseEntry, nodes: &Names, node_count: usize) -> Result<(), KeyError> {
    let key = "simulation.eclipse";
    let victim = nodes.get(&format!("{key}.victim"), &eclipse.victim)?;
    if eclipse.attackers.is_empty() {
        return fail(format!("{key}.attackers"), "names no node");
    }
    let mut attackers = HashSet::new();
    for name in &eclipse.attackers {
        let attacker = nodes.get(&format!("{key}.attackers"), name)?;
        if attacker == victim {
            return fail(
                format!("{key}.attackers"),
                format!("\"{name}\" is the victim; it cannot attack itself"),
            );
        }
        if !attackers.insert(attacker) {
            return fail(
                format!("{key}.attackers"),
                format!("\"{name}\" is listed twice"),
            );
        }
    }
    if let Some(until) = eclipse.until_ms {
        check_ms(&format!("{key}.until_ms"), until)?;
        if attackers.len() + 1 >= node_count {
            return fail(
                format!("{key}.until_ms"),
                "no honest node is left to dial the victim (every other node attacks)",
            );
        }
    }
    Ok(())
}

fn nodes_name(names: &Names, index: usize) -> String {
    names
        .index
        .iter()
        .find(|(_, i)| **i == index)
        .map_or_else(|| index.to_string(), |(name, _)| name.to_string())
}
