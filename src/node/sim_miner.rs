//! `SimMinerActor`: simulated mining for launches (the book's Guide › Launching a
//! network), so a fork experiment with many nodes on a 2-core machine measures the
//! network rather than CPU contention.
//!
//! A simulated miner with hash-power share `s` finds blocks as a Poisson process: after
//! exponentially distributed waits with mean `target_block_time / s`, then "solves" the
//! trivially easy target its launch sets. It is started and told like a hashing
//! [`super::miner::MinerActor`] — a [`NewVerifiedBlock`] replaces its template, a
//! [`PauseMining`] drops it — and the waits run on `ctx.run_later`, never by sleeping.
//!
//! Reproducibility: the find times are drawn up front from a generator seeded per node
//! ([`FindSchedule`]), measured from one run start shared by all nodes, and a new tip does
//! not redraw them (the exponential is memoryless, so restarting the wait on each template
//! would not change the statistics, but it would make the draws depend on network
//! timing). So which node finds the k-th block of a run depends only on the seed.

use super::chain_actor::{ChainActor, SubmitMined};
use super::clock::unix_time_ms;
use super::miner::{NewVerifiedBlock, PauseMining};
use crate::chain::BlockTemplate;
use actix::prelude::*;
use log::{debug, warn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use tokio::time::Instant;

/// Nonces tried before giving up on a template: the simulated target is meant to be met
/// by the first hash or nearly so.
const MAX_TRIES: u64 = 1 << 20;

/// Which draw of a simulated miner found a block: its `index` (0-based) in the node's
/// schedule and its `scheduled` time since the run started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindInfo {
    pub index: u64,
    pub scheduled: Duration,
}

/// A simulated miner's find times since the run's start: the partial sums of exponential
/// waits with mean `mean`, drawn from a generator seeded with `seed`.
#[derive(Clone, Debug)]
pub struct FindSchedule {
    rng: StdRng,
    mean_secs: f64,
    elapsed: Duration,
}

impl FindSchedule {
    pub fn new(seed: u64, mean: Duration) -> Self {
        FindSchedule {
            rng: StdRng::seed_from_u64(seed),
            mean_secs: mean.as_secs_f64(),
            elapsed: Duration::ZERO,
        }
    }
}

impl Iterator for FindSchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        // Inverse transform sampling: 1 - u is in (0, 1], so the logarithm is finite.
        let u: f64 = self.rng.gen();
        let wait = -self.mean_secs * (1.0 - u).ln();
        // A wait too long for a Duration is, for a run, never.
        let wait = Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX);
        self.elapsed = self.elapsed.saturating_add(wait);
        Some(self.elapsed)
    }
}

/// How a node mines when simulating.
#[derive(Clone, Debug)]
pub struct SimMining {
    /// Mean wait between this node's finds: target block time ÷ hash-power share.
    pub mean: Duration,
    /// Seeds the find times.
    pub schedule_seed: u64,
    /// Seeds the starting nonces.
    pub nonce_seed: u64,
}

/// Start finding blocks on the shared clock `epoch` (the run's start).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StartFinds {
    pub epoch: Instant,
}

/// One node's simulated miner.
pub struct SimMinerActor {
    chain: Addr<ChainActor>,
    schedule: FindSchedule,
    nonces: StdRng,
    template: Option<BlockTemplate>,
    /// A find that came while there was no template (between our own block and the
    /// template on top of it): it takes the next template.
    pending: Option<FindInfo>,
    next_index: u64,
    epoch: Option<Instant>,
}

impl SimMinerActor {
    pub fn new(chain: Addr<ChainActor>, settings: SimMining) -> Self {
        SimMinerActor {
            chain,
            schedule: FindSchedule::new(settings.schedule_seed, settings.mean),
            nonces: StdRng::seed_from_u64(settings.nonce_seed),
            template: None,
            pending: None,
            next_index: 0,
            epoch: None,
        }
    }

    fn schedule_next(&mut self, ctx: &mut Context<Self>) {
        let (Some(epoch), Some(at)) = (self.epoch, self.schedule.next()) else {
            return;
        };
        let find = FindInfo {
            index: self.next_index,
            scheduled: at,
        };
        self.next_index += 1;
        let Some(due) = epoch.checked_add(at) else {
            return; // beyond what the clock can name: never, for this run
        };
        let wait = due.saturating_duration_since(Instant::now());
        ctx.run_later(wait, move |actor, ctx| {
            match actor.template.take() {
                Some(template) => actor.mine(template, find),
                None => {
                    if let Some(lost) = actor.pending.replace(find) {
                        debug!("simulated find {} lost: no template", lost.index);
                    }
                }
            }
            actor.schedule_next(ctx);
        });
    }

    /// "Solves" the template's (trivially easy) target and submits the block.
    fn mine(&mut self, template: BlockTemplate, find: FindInfo) {
        let mut block = template.block;
        // Mined now, not when the template was made.
        block.header.timestamp_ms = block.header.timestamp_ms.max(unix_time_ms());
        let start: u64 = self.nonces.gen();
        for i in 0..MAX_TRIES {
            block.header.nonce = start.wrapping_add(i);
            if template.target.is_met_by(block.header.hash().as_bytes()) {
                debug!(
                    "simulated find {} at height {}",
                    find.index, block.header.height
                );
                self.chain.do_send(SubmitMined { block, find });
                return;
            }
        }
        warn!(
            "simulated mining gave up on height {}: the target is not trivially easy",
            block.header.height
        );
    }
}

impl Actor for SimMinerActor {
    type Context = Context<Self>;
}

impl Handler<StartFinds> for SimMinerActor {
    type Result = ();

    fn handle(&mut self, message: StartFinds, ctx: &mut Self::Context) {
        if self.epoch.is_some() {
            return;
        }
        self.epoch = Some(message.epoch);
        self.schedule_next(ctx);
    }
}

impl Handler<NewVerifiedBlock> for SimMinerActor {
    type Result = ();

    fn handle(&mut self, message: NewVerifiedBlock, _: &mut Self::Context) {
        match self.pending.take() {
            Some(find) => self.mine(message.next_template, find),
            None => self.template = Some(message.next_template),
        }
    }
}

impl Handler<PauseMining> for SimMinerActor {
    type Result = ();

    fn handle(&mut self, _: PauseMining, _: &mut Self::Context) {
        // A paused miner does not hash: finds due meanwhile are lost, as real work would be.
        self.template = None;
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_reproducible_increasing_and_have_the_right_mean() {
        let mean = Duration::from_millis(500);
        let a: Vec<Duration> = FindSchedule::new(1, mean).take(20_000).collect();
        let b: Vec<Duration> = FindSchedule::new(1, mean).take(20_000).collect();
        let c: Vec<Duration> = FindSchedule::new(2, mean).take(20).collect();
        assert_eq!(a, b);
        assert_ne!(a[..20], c[..]);
        assert!(a.windows(2).all(|pair| pair[0] <= pair[1]));
        let average = a[a.len() - 1].as_secs_f64() / a.len() as f64;
        // The standard error of the mean of 20 000 exponential draws is 0.7 %.
        assert!((average - 0.5).abs() < 0.02, "mean wait {average} s");
    }
}
