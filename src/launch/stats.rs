//! `StatsActor`: collects the [`NodeEvent`]s every node's `ChainActor` reports during a
//! launch — blocks stored, blocks mined, reorgs — with the moment each happened, and
//! optionally prints them as they come. All nodes run in one process, so their
//! `Instant`s share one clock and propagation delays are plain differences.

use crate::consensus::hash::BlockHash;
use crate::node::chain_actor::{NodeEvent, NodeEventKind};
use crate::node::sim_miner::FindInfo;
use actix::prelude::*;
use futures::channel::oneshot;
use std::collections::HashMap;
use tokio::time::Instant;

/// A block one node's miner found.
#[derive(Clone, Debug)]
pub struct MinedRecord {
    pub node: usize,
    pub hash: BlockHash,
    pub height: u64,
    pub at: Instant,
    pub find: Option<FindInfo>,
}

/// What the statistics hold, copied out.
#[derive(Clone, Debug, Default)]
pub struct StatsSnapshot {
    pub mined: Vec<MinedRecord>,
    /// For each block, when each node first stored it.
    pub stored: HashMap<BlockHash, Vec<Option<Instant>>>,
    /// Depths of each node's reorgs, in order.
    pub reorgs: Vec<Vec<usize>>,
    /// When any node last stored a block.
    pub last_stored: Option<Instant>,
}

/// The launch's statistics.
pub struct StatsActor {
    names: Vec<String>,
    /// Print mined blocks and reorgs as they happen.
    progress: bool,
    epoch: Option<Instant>,
    data: StatsSnapshot,
    /// Told once this many blocks were mined.
    notify: Option<(usize, oneshot::Sender<()>)>,
}

impl StatsActor {
    pub fn new(names: Vec<String>, progress: bool) -> Self {
        let reorgs = vec![Vec::new(); names.len()];
        StatsActor {
            names,
            progress,
            epoch: None,
            data: StatsSnapshot {
                reorgs,
                ..StatsSnapshot::default()
            },
            notify: None,
        }
    }

    fn name(&self, node: usize) -> &str {
        self.names.get(node).map_or("?", String::as_str)
    }

    fn print(&self, at: Instant, line: String) {
        if self.progress {
            let seconds = self.epoch.map_or(0.0, |epoch| {
                at.saturating_duration_since(epoch).as_secs_f64()
            });
            crate::outln!("{seconds:>9.3} s  {line}");
        }
    }

    fn check_notify(&mut self) {
        if self
            .notify
            .as_ref()
            .is_some_and(|(count, _)| self.data.mined.len() >= *count)
        {
            if let Some((_, sender)) = self.notify.take() {
                let _ = sender.send(());
            }
        }
    }
}

impl Actor for StatsActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Every node reports every block: keep up with bursts after a partition heals.
        ctx.set_mailbox_capacity(1 << 16);
    }
}

impl Handler<NodeEvent> for StatsActor {
    type Result = ();

    fn handle(&mut self, event: NodeEvent, _: &mut Self::Context) {
        let nodes = self.names.len();
        match event.kind {
            NodeEventKind::Stored(hashes) => {
                for hash in hashes {
                    let times = self
                        .data
                        .stored
                        .entry(hash)
                        .or_insert_with(|| vec![None; nodes]);
                    if let Some(slot) = times.get_mut(event.node) {
                        slot.get_or_insert(event.at);
                    }
                }
                self.data.last_stored = Some(event.at);
            }
            NodeEventKind::Mined { hash, height, find } => {
                self.print(
                    event.at,
                    format!(
                        "{:<8} mined block {height:<5} {}",
                        self.name(event.node),
                        hash.short()
                    ),
                );
                self.data.mined.push(MinedRecord {
                    node: event.node,
                    hash,
                    height,
                    at: event.at,
                    find,
                });
                self.check_notify();
            }
            NodeEventKind::Reorg {
                depth,
                old_tip,
                new_tip,
                height,
            } => {
                self.print(
                    event.at,
                    format!(
                        "{:<8} reorg of depth {depth}: tip {} -> {} at height {height}",
                        self.name(event.node),
                        old_tip.short(),
                        new_tip.short()
                    ),
                );
                if let Some(depths) = self.data.reorgs.get_mut(event.node) {
                    depths.push(depth);
                }
            }
        }
    }
}

/// Sets the run's start (progress lines show time since it).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetEpoch(pub Instant);

impl Handler<SetEpoch> for StatsActor {
    type Result = ();

    fn handle(&mut self, message: SetEpoch, _: &mut Self::Context) {
        self.epoch = Some(message.0);
    }
}

/// Fires the sender once `0` blocks were mined in all.
#[derive(Message)]
#[rtype(result = "()")]
pub struct NotifyAfterBlocks(pub usize, pub oneshot::Sender<()>);

impl Handler<NotifyAfterBlocks> for StatsActor {
    type Result = ();

    fn handle(&mut self, message: NotifyAfterBlocks, _: &mut Self::Context) {
        self.notify = Some((message.0, message.1));
        self.check_notify();
    }
}

/// A copy of everything collected.
#[derive(Message)]
#[rtype(result = "StatsSnapshot")]
pub struct GetStats;

impl Handler<GetStats> for StatsActor {
    type Result = MessageResult<GetStats>;

    fn handle(&mut self, _: GetStats, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.data.clone())
    }
}

/// A line for the progress output (partitions, transfers), stamped like the others.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Note(pub String);

impl Handler<Note> for StatsActor {
    type Result = ();

    fn handle(&mut self, message: Note, _: &mut Self::Context) {
        self.print(Instant::now(), message.0);
    }
}

/// When any node last stored a block (cheaper than a whole [`GetStats`]).
#[derive(Message)]
#[rtype(result = "Option<Instant>")]
pub struct LastStored;

impl Handler<LastStored> for StatsActor {
    type Result = Option<Instant>;

    fn handle(&mut self, _: LastStored, _: &mut Self::Context) -> Option<Instant> {
        self.data.last_stored
    }
}
