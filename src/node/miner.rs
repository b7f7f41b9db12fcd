//! `MinerActor`: hashes block templates from the `ChainActor`, on its own arbiter so
//! hashing never stalls networking.
//!
//! It mines in bounded batches (sized to take about a millisecond), so its mailbox is
//! served between batches: a [`NewVerifiedBlock`] from the chain replaces the template at
//! once. There is no shared stop flag. Each template starts at a random nonce, so several
//! miner threads (and nodes mining to the same address) never repeat each other's work.
//! Each batch first moves the header's timestamp to the current time, so a block carries
//! the time it was found.

use super::chain_actor::{ChainActor, Origin, SubmitBlocks};
use super::clock::unix_time_ms;
use crate::chain::BlockTemplate;
use crate::consensus::pow::MidstateHasher;
use actix::prelude::*;
use log::debug;
use rand::Rng;
use std::time::{Duration, Instant};

const MIN_BATCH: u64 = 1 << 10;
const MAX_BATCH: u64 = 1 << 24;
/// Batches aim for this duration: short enough for a fast restart, long enough that
/// message handling is negligible next to hashing.
const BATCH_TARGET: Duration = Duration::from_millis(1);

/// The chain verified a new tip (or its mempool changed): mine `next_template` from now
/// on. The message keeps the design card's name, but it does not carry the verified block
/// itself: it carries the unmined template of the block to build on top of it.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct NewVerifiedBlock {
    pub next_template: BlockTemplate,
}

/// Stop hashing until the next template (the node is syncing: its tip is stale).
#[derive(Message)]
#[rtype(result = "()")]
pub struct PauseMining;

/// Hash the next batch of the current template, if it is still `generation`.
#[derive(Message)]
#[rtype(result = "()")]
struct MineBatch {
    generation: u64,
}

struct Job {
    template: BlockTemplate,
    hasher: MidstateHasher,
    next_nonce: u64,
    /// Whether the probe (if any) was told this job's hashing started.
    announced: bool,
}

/// Sent to a miner's probe when it starts hashing a new template: lets the `restart`
/// benchmark measure the delay from a block's acceptance to hashing on its successor.
#[derive(Message, Clone, Copy, Debug)]
#[rtype(result = "()")]
pub struct TemplateStarted {
    /// Height of the block being mined.
    pub height: u64,
    pub at: Instant,
}

/// One mining thread.
pub struct MinerActor {
    chain: Addr<ChainActor>,
    job: Option<Job>,
    generation: u64,
    batch: u64,
    probe: Option<Recipient<TemplateStarted>>,
}

impl MinerActor {
    pub fn new(chain: Addr<ChainActor>) -> Self {
        MinerActor {
            chain,
            job: None,
            generation: 0,
            batch: MIN_BATCH,
            probe: None,
        }
    }

    /// Reports every template's first batch to `probe` (benchmarks).
    pub fn with_probe(mut self, probe: Recipient<TemplateStarted>) -> Self {
        self.probe = Some(probe);
        self
    }
}

impl Actor for MinerActor {
    type Context = Context<Self>;
}

impl Handler<NewVerifiedBlock> for MinerActor {
    type Result = ();

    fn handle(&mut self, message: NewVerifiedBlock, ctx: &mut Self::Context) {
        let hasher = MidstateHasher::new(&message.next_template.block.header);
        self.job = Some(Job {
            template: message.next_template,
            hasher,
            next_nonce: rand::thread_rng().gen(),
            announced: false,
        });
        self.generation += 1;
        ctx.notify(MineBatch {
            generation: self.generation,
        });
    }
}

impl Handler<PauseMining> for MinerActor {
    type Result = ();

    fn handle(&mut self, _: PauseMining, _: &mut Self::Context) {
        self.job = None;
        self.generation += 1;
    }
}

impl Handler<MineBatch> for MinerActor {
    type Result = ();

    fn handle(&mut self, message: MineBatch, ctx: &mut Self::Context) {
        if message.generation != self.generation {
            return;
        }
        let Some(job) = self.job.as_mut() else {
            return;
        };
        let started = Instant::now();
        // The timestamp says when the block was found, not when its template was made
        // (which can be many seconds earlier): roll it forward before every batch. It lies
        // in the header's last SHA-256 block, so only that block's bytes change.
        let now_ms = unix_time_ms();
        if now_ms > job.template.block.header.timestamp_ms {
            job.template.block.header.timestamp_ms = now_ms;
            job.hasher = MidstateHasher::new(&job.template.block.header);
        }
        if !job.announced {
            job.announced = true;
            if let Some(probe) = &self.probe {
                probe.do_send(TemplateStarted {
                    height: job.template.block.header.height,
                    at: started,
                });
            }
        }
        let found = job
            .hasher
            .search(&job.template.target, job.next_nonce, self.batch);
        let elapsed = started.elapsed();
        if let Some(nonce) = found {
            let mut block = job.template.block.clone();
            block.header.nonce = nonce;
            debug!("found nonce {nonce} for height {}", block.header.height);
            self.job = None;
            self.chain.do_send(SubmitBlocks {
                blocks: vec![block],
                origin: Origin::Mined,
            });
            return;
        }
        job.next_nonce = job.next_nonce.wrapping_add(self.batch);
        if elapsed < BATCH_TARGET / 2 {
            self.batch = (self.batch * 2).min(MAX_BATCH);
        } else if elapsed > BATCH_TARGET * 2 {
            self.batch = (self.batch / 2).max(MIN_BATCH);
        }
        ctx.notify(MineBatch {
            generation: self.generation,
        });
    }
}
