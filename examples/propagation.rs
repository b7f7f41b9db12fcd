//! Block propagation over real TCP on loopback (issue 6, target: p99 < 100 ms for 16
//! nodes): 16 nodes in one process and actix system, connected as a random 4-regular
//! graph (seeded), none mining. 100 valid blocks are built beforehand on a private copy of
//! the chain; block k is handed to one node (seeded choice) as if its miner had found it,
//! and the delay is measured from that moment to the last of the 16 nodes storing it on
//! its active chain (each node's `NodeEvent::Stored`, stamped on its chain actor). Blocks
//! go one at a time, each once the previous one reached everyone.
//!
//!     cargo run --release --example propagation [-- --nodes 16 --blocks 100 --seed 7]

mod common;

use actix::prelude::*;
use clap::Parser;
use common::BenchNode;
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::consensus::block::Block;
use ironchain::consensus::hash::BlockHash;
use ironchain::node::chain_actor::{NodeEvent, NodeEventKind, Origin, SetEventSink, SubmitBlocks};
use ironchain::node::peer_manager::GetPeers;
use ironchain::testkit;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// When each node stored each block.
type Seen = Arc<Mutex<HashMap<BlockHash, Vec<(usize, Instant)>>>>;

struct Collector(Seen);

impl Actor for Collector {
    type Context = Context<Self>;
}

impl Handler<NodeEvent> for Collector {
    type Result = ();

    fn handle(&mut self, event: NodeEvent, _: &mut Self::Context) {
        if let NodeEventKind::Stored(hashes) = event.kind {
            let mut seen = self.0.lock().expect("collector lock");
            for hash in hashes {
                seen.entry(hash).or_default().push((event.node, event.at));
            }
        }
    }
}

/// A random simple connected `degree`-regular graph on `n` nodes (pairing model, retried).
fn regular_graph(n: usize, degree: usize, rng: &mut StdRng) -> Vec<(usize, usize)> {
    loop {
        let mut stubs: Vec<usize> = (0..n)
            .flat_map(|v| std::iter::repeat_n(v, degree))
            .collect();
        stubs.shuffle(rng);
        let edges: BTreeSet<(usize, usize)> = stubs
            .chunks(2)
            .map(|pair| (pair[0].min(pair[1]), pair[0].max(pair[1])))
            .collect();
        let simple = edges.len() * 2 == n * degree && edges.iter().all(|(a, b)| a != b);
        if !simple {
            continue;
        }
        // Connected?
        let mut reached = vec![false; n];
        let mut stack = vec![0];
        reached[0] = true;
        while let Some(v) = stack.pop() {
            for &(a, b) in &edges {
                let other = if a == v {
                    b
                } else if b == v {
                    a
                } else {
                    continue;
                };
                if !reached[other] {
                    reached[other] = true;
                    stack.push(other);
                }
            }
        }
        if reached.iter().all(|r| *r) {
            return edges.into_iter().collect();
        }
    }
}

/// Block propagation delay over a seeded random 4-regular graph of nodes.
#[derive(Parser)]
struct Args {
    /// Nodes; a 4-regular graph without loops or double edges needs at least 5.
    #[arg(long, default_value_t = 16, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(5..))]
    nodes: usize,
    /// Blocks handed out, one at a time.
    #[arg(long, default_value_t = 100, value_parser = common::at_least_one::<usize>())]
    blocks: usize,
    /// Seed of the graph and of which node gets each block.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn main() {
    let Args {
        nodes,
        blocks,
        seed,
    } = Args::parse();
    let params = testkit::params(&[]);
    let mut rng = StdRng::seed_from_u64(seed);
    let edges = regular_graph(nodes, 4, &mut rng);

    // The blocks, built on a private chain with the same parameters.
    let builder_dir = common::scratch_dir("propagation-builder");
    let chain_blocks: Vec<Block> = {
        let mut chain = Chain::open(builder_dir.path(), params.clone(), MempoolLimits::default())
            .expect("open builder chain");
        chain.set_sync_each_commit(false);
        (0..blocks)
            .map(|_| {
                let block = testkit::next_block(&chain, testkit::address(1), Vec::new());
                chain
                    .process_block(block.clone(), block.header.timestamp_ms)
                    .expect("builder accepts its block");
                block
            })
            .collect()
    };
    let injected_at: Vec<usize> = (0..blocks).map(|_| rng.gen_range(0..nodes)).collect();

    let system = System::new();
    let result = system.block_on(async move {
        let seen: Seen = Arc::default();
        let collector = Collector(seen.clone()).start();
        let dirs: Vec<_> = (0..nodes)
            .map(|i| common::scratch_dir(&format!("propagation-{i}-")))
            .collect();
        let mut handles = Vec::new();
        for (i, dir) in dirs.iter().enumerate() {
            // Node i dials its neighbours that already listen; the others dial it.
            let peers = edges
                .iter()
                .filter_map(|&(a, b)| match (a, b) {
                    (a, b) if b == i && a < i => Some(a),
                    (a, b) if a == i && b < i => Some(b),
                    _ => None,
                })
                .map(|j: usize| handles_addr(&handles, j))
                .collect();
            let node = BenchNode {
                peers,
                max_inbound: 8,
                max_outbound: 4,
                dial_learned: false,
                ..BenchNode::default()
            };
            let handle = common::start(&params, dir.path(), &node).await;
            handle.chain.do_send(SetEventSink {
                node: i,
                sink: collector.clone().recipient(),
            });
            handles.push(handle);
        }
        // Every node connected to its 4 neighbours.
        let connected =
            common::wait_until(Duration::from_secs(30), Duration::from_millis(50), || {
                let peers: Vec<_> = handles.iter().map(|h| h.peers.clone()).collect();
                async move {
                    for peers in peers {
                        if peers.send(GetPeers).await.map_or(0, |list| list.len()) < 4 {
                            return false;
                        }
                    }
                    true
                }
            })
            .await;
        assert!(connected, "the 4-regular graph did not connect within 30 s");

        let mut delays = Vec::new();
        for (block, &at_node) in chain_blocks.into_iter().zip(&injected_at) {
            let hash = block.hash();
            let sent = Instant::now();
            handles[at_node].chain.do_send(SubmitBlocks {
                blocks: vec![block],
                origin: Origin::Mined,
            });
            let everywhere =
                common::wait_until(Duration::from_secs(10), Duration::from_micros(200), || {
                    let done = seen
                        .lock()
                        .expect("collector lock")
                        .get(&hash)
                        .is_some_and(|list| list.len() >= nodes);
                    async move { done }
                })
                .await;
            assert!(everywhere, "block {hash} did not reach every node in 10 s");
            let last = seen.lock().expect("collector lock")[&hash]
                .iter()
                .map(|(_, at)| *at)
                .max()
                .expect("stored somewhere");
            delays.push(common::ms(last.saturating_duration_since(sent)));
        }
        for handle in handles {
            handle.stop().await;
        }
        delays
    });
    let delays = result;
    let p50 = common::percentile(&delays, 50.0);
    let p99 = common::percentile(&delays, 99.0);
    let max = common::percentile(&delays, 100.0);
    common::report(
        "propagation",
        format!(
            "{nodes} nodes, random 4-regular graph (seed {seed}), {blocks} blocks: \
             time to reach all nodes p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms \
             (target p99 < 100 ms)"
        ),
        json!({
            "nodes": nodes, "degree": 4, "blocks": blocks, "seed": seed,
            "p50_ms": p50, "p99_ms": p99, "max_ms": max,
        }),
    );
}

fn handles_addr(handles: &[ironchain::node::NodeHandle], j: usize) -> std::net::SocketAddr {
    handles[j].listen_addr
}
