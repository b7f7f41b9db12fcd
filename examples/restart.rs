//! Miner restart delay (issue 6, target: p99 < 5 ms): the time from the `ChainActor`
//! accepting a block (its `NodeEvent::Mined`, stamped right after the block's commit) to
//! each `MinerActor` hashing its first batch on the successor template (the miner's
//! `TemplateStarted` probe), while the miners hash at full speed.
//!
//! One node, no peers, real `MinerActor`s (1, then 2 threads, each on its own arbiter as
//! `start_node` does) mining at a fixed 22-bit difficulty, so a block comes every 0.1–0.2 s
//! and every block restarts every miner: the finder (idle since its find) and the others
//! (mid-batch). Run from the repository root:
//!
//!     cargo run --release --example restart [-- --blocks 100 --bits 22]

mod common;

use actix::prelude::*;
use clap::Parser;
use common::BenchNode;
use ironchain::consensus::params::ChainParams;
use ironchain::node::chain_actor::{NodeEvent, NodeEventKind, RegisterMiner, SetEventSink};
use ironchain::node::miner::{MinerActor, TemplateStarted};
use ironchain::testkit;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Default)]
struct Log {
    /// Block height -> when the chain accepted it.
    accepted: HashMap<u64, Instant>,
    /// (miner, template height) -> when that miner started hashing it (first time).
    started: HashMap<(usize, u64), Instant>,
}

type Shared = Arc<Mutex<Log>>;

struct Sink(Shared);

impl Actor for Sink {
    type Context = Context<Self>;
}

impl Handler<NodeEvent> for Sink {
    type Result = ();

    fn handle(&mut self, event: NodeEvent, _: &mut Self::Context) {
        if let NodeEventKind::Mined { height, .. } = event.kind {
            let mut log = self.0.lock().expect("log lock");
            log.accepted.entry(height).or_insert(event.at);
        }
    }
}

struct Probe(usize, Shared);

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Handler<TemplateStarted> for Probe {
    type Result = ();

    fn handle(&mut self, event: TemplateStarted, _: &mut Self::Context) {
        let mut log = self.1.lock().expect("log lock");
        log.started
            .entry((self.0, event.height))
            .or_insert(event.at.into());
    }
}

fn run(threads: usize, blocks: u64, bits: u32) -> Vec<f64> {
    let params = ChainParams {
        initial_difficulty_bits: bits,
        ..testkit::params(&[])
    };
    let system = System::new();
    system.block_on(async move {
        let dir = common::scratch_dir("restart");
        let node = common::start(&params, dir.path(), &BenchNode::default()).await;
        let log: Shared = Arc::default();
        node.chain.do_send(SetEventSink {
            node: 0,
            sink: Sink(log.clone()).start().recipient(),
        });
        let mut arbiters = Vec::new();
        for miner in 0..threads {
            let arbiter = Arbiter::new();
            let probe = Probe(miner, log.clone()).start().recipient();
            let chain = node.chain.clone();
            let addr = MinerActor::start_in_arbiter(&arbiter.handle(), move |_| {
                MinerActor::new(chain).with_probe(probe)
            });
            node.chain.do_send(RegisterMiner(addr.into()));
            arbiters.push(arbiter);
        }
        let reached =
            common::wait_until(Duration::from_secs(600), Duration::from_millis(20), || {
                let done = log.lock().expect("log lock").accepted.len() as u64 > blocks;
                async move { done }
            })
            .await;
        assert!(reached, "mining too slow: lower --bits");
        for arbiter in arbiters {
            arbiter.stop();
        }
        node.stop().await;
        let log = log.lock().expect("log lock");
        let mut delays = Vec::new();
        for (&height, &accepted) in &log.accepted {
            for miner in 0..threads {
                if let Some(started) = log.started.get(&(miner, height + 1)) {
                    delays.push(common::ms(started.saturating_duration_since(accepted)));
                }
            }
        }
        delays
    })
}

/// Miner restart delay after each accepted block.
#[derive(Parser)]
struct Args {
    /// Blocks mined per miner-thread count.
    #[arg(long, default_value_t = 100, value_parser = common::at_least_one::<u64>())]
    blocks: u64,
    /// Fixed difficulty in leading zero bits (chain parameters allow at most 255).
    #[arg(long, default_value_t = 22, value_parser = clap::value_parser!(u32).range(0..=255))]
    bits: u32,
}

fn main() {
    let Args { blocks, bits } = Args::parse();
    for threads in [1usize, 2] {
        let delays = run(threads, blocks, bits);
        let p50 = common::percentile(&delays, 50.0);
        let p99 = common::percentile(&delays, 99.0);
        let max = common::percentile(&delays, 100.0);
        common::report(
            "restart",
            format!(
                "{threads} miner thread(s), {bits}-bit blocks, {} restarts: accept -> hashing \
                 the new template p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms \
                 (target p99 < 5 ms)",
                delays.len()
            ),
            json!({
                "miner_threads": threads, "difficulty_bits": bits, "samples": delays.len(),
                "p50_ms": p50, "p99_ms": p99, "max_ms": max,
            }),
        );
    }
}
