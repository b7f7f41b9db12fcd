//! `ChainActor`: owns the [`Chain`] (block tree, state, mempool, store) and is the only
//! writer of chain data. Runs on its own arbiter so block validation never stalls the
//! sockets. Tells miners to restart when the tip moves, and the peer manager what to
//! relay.
//!
//! For launches (the book's Guide › Launching a network) it can start with mining switched
//! off ([`SetMining`]), and it reports what happens to its block tree — blocks stored,
//! blocks mined here, reorgs — as [`NodeEvent`]s to a recipient the launcher registers,
//! stamped with the moment it happened, so the launcher can measure propagation delays and
//! reorg depths.
//!
//! A node with a withholding strategy (issue 16: selfish mining, the double-spend race)
//! relays its own blocks only when the strategy says so, and shows peers (in hellos,
//! pongs and sync batches) only the chain up to its first withheld block, so to them it is
//! an ordinary peer. A racing double-spender also holds the public blocks aside
//! ([`Withholding::hold`]) and keeps its conflicting spend to itself.

use super::clock::unix_time_ms;
use super::events::{EventHub, LiveEvent, Publish};
use super::miner::{NewVerifiedBlock, PauseMining};
use super::miner_cache::MinerCache;
use super::peer_manager::{PeerManagerActor, RelayBlock, RelayTx, TipChanged};
use super::policy::private_branch::Action;
use super::sim_miner::FindInfo;
use super::withholding::{MinerStrategy, Withholding};
use super::PeerId;
use crate::chain::blockchain::TxEntry;
use crate::chain::id_prefix::{IdPrefix, MAX_PREFIX_MATCHES};
use crate::chain::mempool_file::{MempoolFile, MEMPOOL_EXPIRY_MS};
use crate::chain::state::{Account, TokenInfo};
use crate::chain::TipInfo;
use crate::chain::{BlockOutcome, Chain, ChainError, TipChange, TxLookup};
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::block::Block;
use crate::consensus::error::{BlockError, TxError};
use crate::consensus::hash::{BlockHash, TokenId, TxId};
use crate::consensus::transaction::Transaction;
use crate::consensus::validation::VerifiedTx;
use crate::net::message::TokenHolding;
use crate::net::message::{
    BlockRef, PlacedBlock, TxEntryWire, TxStatus, MAX_BATCH_BYTES, MAX_BLOCKS_PER_BATCH,
    MAX_LOCATOR,
};
use crate::view::TreeBlock;
use actix::prelude::*;
use futures::channel::oneshot;
use log::{debug, error, info, warn};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// How often a miner gets a fresh template when only the mempool changed.
const TEMPLATE_REFRESH: Duration = Duration::from_millis(500);
/// How often pending transactions are checked for expiry.
const MEMPOOL_EXPIRY_CHECK: Duration = Duration::from_secs(600);
/// How often a sync batch's commit running behind is checked for failure while nothing
/// else uses the store (which would report it).
const COMMIT_BEHIND_CHECK: Duration = Duration::from_millis(250);

/// Where a block came from: decides relaying and logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Found by one of this node's miners.
    Mined,
    /// Relayed by a peer as a new block.
    Relay(PeerId),
    /// Downloaded from a peer while syncing.
    Sync(PeerId),
}

impl Origin {
    fn peer(self) -> Option<PeerId> {
        match self {
            Origin::Mined => None,
            Origin::Relay(peer) | Origin::Sync(peer) => Some(peer),
        }
    }
}

/// Blocks to add, in order (a sync batch, a relayed block, or a mined one).
#[derive(Message)]
#[rtype(result = "SubmitOutcome")]
pub struct SubmitBlocks {
    pub blocks: Vec<Block>,
    pub origin: Origin,
}

/// What happened to a [`SubmitBlocks`].
#[derive(Clone, Debug, Default)]
pub struct SubmitOutcome {
    /// Blocks newly stored in the tree.
    pub stored: usize,
    /// Blocks held in memory because their branch is too light to store yet.
    pub held: usize,
    /// Set when a block's parent is unknown: the ancestor to fetch.
    pub missing: Option<BlockHash>,
    /// The sender's orphans overflowed its share of the orphan pool.
    pub orphans_over_share: bool,
    /// The first block that broke a rule; processing stopped there.
    pub invalid: Option<BlockError>,
    /// Set when a block was only refused for now (e.g. timestamp ahead of our clock).
    pub deferred: Option<BlockError>,
    /// The height of the tip this node shows once the blocks were processed, so the
    /// connection need not ask again (a second round trip behind the next sync batch).
    pub shown_height: u64,
}

/// Whether transactions would be admitted now, in this order, signature aside
/// ([`Chain::precheck_transactions`]); the reply gives back those that would. Connections
/// ask this before verifying the signatures off this actor's thread, so that duplicates
/// and stale transactions cost no verification.
#[derive(Message)]
#[rtype(result = "Vec<Result<Transaction, TxError>>")]
pub struct CheckTxs(pub Vec<Transaction>);

/// A transaction from a client or a peer, its signature already verified.
#[derive(Message)]
#[rtype(result = "Result<TxId, TxError>")]
pub struct SubmitTx {
    pub tx: VerifiedTx,
    pub origin: Option<PeerId>,
}

/// Transactions from one client or peer, their signatures already verified, offered in
/// this order (a sender's run is in nonce order). One answer per transaction.
#[derive(Message)]
#[rtype(result = "Vec<Result<TxId, TxError>>")]
pub struct SubmitTxs {
    pub txs: Vec<VerifiedTx>,
    pub origin: Option<PeerId>,
}

/// The active chain's tip.
#[derive(Message)]
#[rtype(result = "TipInfo")]
pub struct GetTip;

/// An account's balance and nonces.
#[derive(Message)]
#[rtype(result = "AccountInfo")]
pub struct GetAccount(pub Address);

/// See [`GetAccount`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountInfo {
    pub address: Address,
    pub account: Account,
    /// Counting transactions waiting in the mempool.
    pub next_nonce: u64,
    /// Nonzero token balances, ordered by token id.
    pub tokens: Vec<TokenHolding>,
}

/// A token by id, if it has been issued on the active chain.
#[derive(Message)]
#[rtype(result = "Option<TokenInfo>")]
pub struct GetToken(pub TokenId);

/// A block by height on the active chain, or by hash; `None` when unknown.
#[derive(Message)]
#[rtype(result = "Option<Block>")]
pub struct GetBlock(pub BlockRef);

/// A block as [`GetBlock`] finds it, with where it stands against the active chain.
#[derive(Message)]
#[rtype(result = "Option<PlacedBlock>")]
pub struct GetPlacedBlock(pub BlockRef);

/// A transaction (or reward record) and where it is.
#[derive(Message)]
#[rtype(result = "TxStatus")]
pub struct GetTx(pub TxId);

/// Ids of transactions (active chain and mempool) that start with a prefix, at most
/// [`MAX_PREFIX_MATCHES`], in order; `Err` when the store could not be read.
#[derive(Message)]
#[rtype(result = "Result<Vec<TxId>, String>")]
pub struct FindTxs(pub IdPrefix);

/// Hashes of blocks in the tree that start with a prefix, at most
/// [`MAX_PREFIX_MATCHES`], in order (`Result` as [`FindTxs`], though the index is in
/// memory).
#[derive(Message)]
#[rtype(result = "Result<Vec<BlockHash>, String>")]
pub struct FindBlocks(pub IdPrefix);

/// A sync batch: the blocks after the first locator hash we share. `None` when the store
/// could not be read (logged here), so the asker sends nothing rather than a wrong batch.
#[derive(Message)]
#[rtype(result = "Option<BlockBatch>")]
pub struct GetBlocksAfter {
    pub locator: Vec<BlockHash>,
}

/// See [`GetBlocksAfter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockBatch {
    pub blocks: Vec<Block>,
    /// We have further blocks after these.
    pub more: bool,
}

/// Pending transactions to hand a newly connected peer, best fee first (at most `max`), so
/// that what waits here (restored from the mempool file after a restart, say) reaches a
/// miner that connects later.
#[derive(Message)]
#[rtype(result = "Vec<Transaction>")]
pub struct GetPending {
    pub max: usize,
}

/// A block found by a simulated miner (see [`super::sim_miner`]): processed like a
/// [`SubmitBlocks`] from [`Origin::Mined`], and reported with which draw found it.
#[derive(Message)]
#[rtype(result = "SubmitOutcome")]
pub struct SubmitMined {
    pub block: Block,
    pub find: FindInfo,
}

/// Where to send a miner its templates and pauses: a hashing [`super::miner::MinerActor`]
/// or a [`super::sim_miner::SimMinerActor`].
#[derive(Clone)]
pub struct MinerHandle {
    template: Recipient<NewVerifiedBlock>,
    pause: Recipient<PauseMining>,
}

impl<A> From<Addr<A>> for MinerHandle
where
    A: Actor<Context = Context<A>> + Handler<NewVerifiedBlock> + Handler<PauseMining>,
{
    fn from(addr: Addr<A>) -> Self {
        MinerHandle {
            template: addr.clone().recipient(),
            pause: addr.recipient(),
        }
    }
}

/// Registers a miner to be told about new tips.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RegisterMiner(pub MinerHandle);

/// Switches mining on (templates flow to the miners) or off (miners are paused and get
/// no templates until switched on again).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetMining(pub bool);

/// Where to report [`NodeEvent`]s, and the node number to stamp them with.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetEventSink {
    pub node: usize,
    pub sink: Recipient<NodeEvent>,
}

/// Something that happened to a node's block tree, for a launch's statistics.
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct NodeEvent {
    pub node: usize,
    pub at: Instant,
    pub kind: NodeEventKind,
}

/// See [`NodeEvent`].
#[derive(Clone, Debug)]
pub enum NodeEventKind {
    /// Blocks newly stored in the block tree, on the active chain or not.
    Stored(Vec<BlockHash>),
    /// This node's miner found the block (reported as stored just before).
    Mined {
        hash: BlockHash,
        height: u64,
        /// Set for simulated mining.
        find: Option<FindInfo>,
    },
    /// The active chain switched branches, disconnecting `depth` blocks.
    Reorg {
        depth: usize,
        old_tip: BlockHash,
        new_tip: BlockHash,
        height: u64,
    },
}

/// Every block of the tree, for a launch's statistics.
#[derive(Message)]
#[rtype(result = "Vec<TreeEntry>")]
pub struct GetBlockTree;

/// One block of [`GetBlockTree`]'s answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    pub hash: BlockHash,
    pub prev: BlockHash,
    pub height: u64,
    /// On the active chain.
    pub active: bool,
}

/// Where to publish live events for watchers (the explorer).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetEventHub(pub Addr<EventHub>);

/// The blocks of the tree from height `top` (default: the tip's) down to `depth` below it,
/// stale ones included, lowest first: at most `limit` of them, whole heights only, the
/// highest kept.
#[derive(Message)]
#[rtype(result = "TreeSlice")]
pub struct GetTree {
    pub depth: u64,
    pub top: Option<u64>,
    pub limit: usize,
}

/// The answer to [`GetTree`].
#[derive(Debug, Clone, Default)]
pub struct TreeSlice {
    pub blocks: Vec<TreeBlock>,
    /// The highest height `limit` left out, if it left any out.
    pub cut_at: Option<u64>,
}

/// The mempool: how many transactions and bytes, and the first `limit` transactions in
/// the order a template would take them.
#[derive(Message)]
#[rtype(result = "MempoolView")]
pub struct GetMempool {
    pub limit: usize,
}

/// See [`GetMempool`].
#[derive(Clone, Debug)]
pub struct MempoolView {
    pub count: usize,
    pub bytes: usize,
    pub transactions: Vec<Transaction>,
}

/// An address's latest transactions: pending ones, then those in the last `blocks` blocks
/// of the active chain, newest first, at most `limit`. There is no address index: this
/// reads those blocks, so `blocks` is kept small.
#[derive(Message)]
#[rtype(result = "Vec<AddressActivity>")]
pub struct GetAddressActivity {
    pub address: Address,
    pub blocks: u64,
    pub limit: usize,
}

/// See [`GetAddressActivity`]: a transfer, or a block reward (`tx` is `None`).
#[derive(Clone, Debug)]
pub struct AddressActivity {
    pub txid: TxId,
    /// `None` while pending.
    pub height: Option<u64>,
    pub tx: Option<Transaction>,
    pub reward: Amount,
}

/// The node started (true) or finished (false) downloading a better chain.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetSyncing(pub bool);

/// Whom to tell about relays and tip changes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetPeerManager(pub Addr<PeerManagerActor>);

/// The tip and a locator for syncing.
#[derive(Message)]
#[rtype(result = "ChainSummary")]
pub struct GetSummary;

/// See [`GetSummary`].
#[derive(Clone, Debug)]
pub struct ChainSummary {
    /// The tip peers are shown (below the blocks a withholding strategy keeps back).
    pub tip: crate::chain::TipInfo,
    pub genesis: BlockHash,
    pub locator: Vec<BlockHash>,
    pub mempool: usize,
    /// Blocks in the block tree, active or not.
    pub blocks_in_tree: usize,
    /// Blocks this node's miners found.
    pub mined: u64,
    /// Of those, blocks that did not extend the tip when they arrived: work wasted on a
    /// stale template.
    pub mined_stale: u64,
    /// Consensus-encoded bytes of the blocks waiting for their parent.
    pub orphan_bytes: usize,
}

/// Stops the actor, closing the store.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// The chain's actor.
pub struct ChainActor {
    chain: Chain,
    /// Where templates pay the reward; `None` for a node that does not mine.
    miner_address: Option<Address>,
    miners: Vec<MinerHandle>,
    /// Switched off by [`SetMining`]: no templates go out.
    mining: bool,
    events: Option<(usize, Recipient<NodeEvent>)>,
    live: Option<Addr<EventHub>>,
    /// While downloading a better chain, mining on our stale tip would be wasted work.
    syncing: bool,
    peers: Option<Addr<PeerManagerActor>>,
    refresh_scheduled: bool,
    mined: u64,
    mined_stale: u64,
    /// The mempool's journal on disk; `None` when the mempool need not survive restarts.
    mempool_file: Option<MempoolFile>,
    /// Told the reason when the store fails (the binary then exits); if nobody listens,
    /// the actix system is stopped instead.
    on_store_failure: Option<oneshot::Sender<String>>,
    /// Set by a failed commit: memory is ahead of disk, so nothing more may be written.
    store_failed: Option<String>,
    /// Set while a check of a commit running behind is scheduled.
    watching_commit: bool,
    /// Set for a strategy that withholds blocks.
    withholding: Option<Withholding>,
    /// Recent blocks' miners, for views of the block tree.
    miner_cache: MinerCache,
}

impl ChainActor {
    pub fn new(chain: Chain, miner_address: Option<Address>) -> Self {
        ChainActor {
            chain,
            miner_address,
            miners: Vec::new(),
            mining: true,
            events: None,
            live: None,
            syncing: false,
            peers: None,
            refresh_scheduled: false,
            mined: 0,
            mined_stale: 0,
            mempool_file: None,
            on_store_failure: None,
            store_failed: None,
            watching_commit: false,
            withholding: None,
            miner_cache: MinerCache::default(),
        }
    }

    /// How this node relays the blocks its miners find.
    pub fn with_strategy(mut self, strategy: MinerStrategy) -> Self {
        self.withholding = Withholding::new(strategy, &self.chain);
        self
    }

    /// The tip peers are shown: ours, or, while we withhold blocks, the block below them.
    fn shown_tip(&self) -> TipInfo {
        let tip = self.chain.tip();
        match &self.withholding {
            Some(withholding) if withholding.shown_height() < tip.height => self
                .chain
                .active_tip_at(withholding.shown_height())
                .unwrap_or(tip),
            _ => tip,
        }
    }

    /// The tip our peer manager is told (see [`Withholding::claimed_tip`]).
    fn tip_changed(&self) -> TipChanged {
        let tip = self.chain.tip();
        let (height, work) = match &self.withholding {
            Some(withholding) => withholding.claimed_tip((tip.height, tip.work)),
            None => (tip.height, tip.work),
        };
        TipChanged { height, work }
    }

    fn racing(&self) -> bool {
        self.withholding.as_ref().is_some_and(Withholding::racing)
    }

    /// Acts on a withholding strategy's decision: relays the blocks it publishes (oldest
    /// first, and before anything else this call relays, so that in a tie peers hear ours
    /// first).
    fn act(&self, action: Action) {
        let lead = match &self.withholding {
            Some(Withholding::Selfish(selfish)) => selfish.lead().to_string(),
            _ => "-".to_string(),
        };
        let hashes = match action {
            Action::Withhold => return,
            Action::Adopt => {
                info!("withholding: adopting the public chain");
                return;
            }
            Action::Publish(hashes) => hashes,
        };
        info!(
            "withholding: publishing {} block(s) (selfish lead now {lead})",
            hashes.len()
        );
        let Some(peers) = &self.peers else { return };
        for hash in hashes {
            match self.chain.block(&hash) {
                Ok(Some(block)) => peers.do_send(RelayBlock {
                    block,
                    except: None,
                }),
                Ok(None) => {}
                Err(error) => error!("store read failed: {error}"),
            }
        }
    }

    /// A racing double-spender keeps public blocks aside (see [`Withholding::hold`]);
    /// once the race is decided they are connected like any others.
    fn hold(&mut self, blocks: Vec<Block>, peer: PeerId) -> SubmitOutcome {
        for block in blocks {
            let Some(withholding) = &mut self.withholding else {
                break;
            };
            let action = withholding.hold(&self.chain, block, peer);
            self.act(action);
        }
        if let Some(peers) = &self.peers {
            peers.do_send(self.tip_changed());
        }
        self.end_race_if_over();
        SubmitOutcome::default()
    }

    /// After a double-spend race: connects the public blocks held aside; the node is an
    /// honest one from now on.
    fn end_race_if_over(&mut self) {
        if !self
            .withholding
            .as_ref()
            .is_some_and(Withholding::race_over)
        {
            return;
        }
        let held = self
            .withholding
            .take()
            .map(|mut withholding| withholding.take_held())
            .unwrap_or_default();
        info!(
            "double-spend race over: connecting {} held public blocks",
            held.len()
        );
        for (block, peer) in held {
            self.process(vec![block], Origin::Relay(peer), None);
        }
    }

    /// Journals accepted transactions to `file`, if any (see [`crate::chain::mempool_file`]).
    pub fn with_mempool_file(mut self, file: Option<MempoolFile>) -> Self {
        self.mempool_file = file;
        self
    }

    /// Where to send the reason if the store fails.
    pub fn with_store_failure_signal(mut self, signal: oneshot::Sender<String>) -> Self {
        self.on_store_failure = Some(signal);
        self
    }

    /// After a failed commit: stops this actor (closing the store) and says why, once.
    fn stop_if_store_failed(&mut self, ctx: &mut Context<Self>) {
        let Some(reason) = self.store_failed.take() else {
            return;
        };
        error!("store failure, stopping the node: {reason}");
        self.pause_miners();
        ctx.stop();
        let delivered = self
            .on_store_failure
            .take()
            .is_some_and(|signal| signal.send(reason).is_ok());
        if !delivered {
            // Nobody waits for the reason: stopping the whole system is all that is left.
            System::current().stop();
        }
    }

    /// Watches a sync batch's commit running behind until it is done, so that a failure
    /// stops the node even if nothing more is stored after it.
    fn watch_commit_behind(&mut self, ctx: &mut Context<Self>) {
        if self.watching_commit || !self.chain.commit_behind_pending() {
            return;
        }
        self.watching_commit = true;
        ctx.run_later(COMMIT_BEHIND_CHECK, |actor, ctx| {
            actor.watching_commit = false;
            match actor.chain.check_commit_behind() {
                Ok(()) => actor.watch_commit_behind(ctx),
                Err(error) => {
                    actor.store_failed = Some(error.to_string());
                    actor.stop_if_store_failed(ctx);
                }
            }
        });
    }

    /// Keeps the mempool journal in step after blocks moved the tip.
    fn refresh_mempool_file(&mut self, returned: bool) {
        if let Some(file) = &mut self.mempool_file {
            if let Err(error) = file.refresh(&self.chain, returned) {
                error!("cannot rewrite the mempool file: {error}");
            }
        }
    }

    /// Drops transactions pending longer than the mempool expiry.
    fn expire_mempool(&mut self) {
        let Some(file) = &mut self.mempool_file else {
            return;
        };
        let expired = file.expired(unix_time_ms());
        let dropped = self.chain.expire_transactions(&expired);
        if dropped > 0 {
            info!(
                "mempool: {} expired after {} days",
                crate::plural::count(dropped as u64, "transaction", "transactions"),
                MEMPOOL_EXPIRY_MS / (24 * 60 * 60 * 1000)
            );
            if let Err(error) = file.rewrite(&self.chain) {
                error!("cannot rewrite the mempool file: {error}");
            }
        }
    }

    /// Starts with mining switched on (`true`, as a plain node) or off until a
    /// [`SetMining`] (launches start mining once the network is connected).
    pub fn with_mining(mut self, on: bool) -> Self {
        self.mining = on;
        self
    }

    fn send_templates(&self) {
        if !self.mining || self.syncing || self.miners.is_empty() {
            return;
        }
        let Some(miner_address) = self.miner_address else {
            return;
        };
        let template = self.chain.template(miner_address, unix_time_ms());
        for miner in &self.miners {
            miner.template.do_send(NewVerifiedBlock {
                next_template: template.clone(),
            });
        }
    }

    fn pause_miners(&self) {
        for miner in &self.miners {
            miner.pause.do_send(PauseMining);
        }
    }

    fn report(&self, at: Instant, kind: NodeEventKind) {
        if let Some((node, sink)) = &self.events {
            sink.do_send(NodeEvent {
                node: *node,
                at,
                kind,
            });
        }
    }

    fn log_tip_change(&self, change: &TipChange, origin: Origin) {
        if !change.disconnected.is_empty() {
            info!(
                "reorg: depth {}, old tip {} -> new tip {} at height {} ({} back to the mempool)",
                change.disconnected.len(),
                change.old_tip.short(),
                change.new_tip.short(),
                change.height,
                crate::plural::count(
                    change.returned_to_mempool as u64,
                    "transaction",
                    "transactions"
                )
            );
        }
        let (how, level) = match origin {
            Origin::Mined => ("mined", log::Level::Info),
            Origin::Relay(_) => ("accepted", log::Level::Info),
            // One line per synced block would drown the progress lines.
            Origin::Sync(_) => ("synced", log::Level::Debug),
        };
        let index = self.chain.index();
        for entry in change.connected.iter().filter_map(|hash| index.get(hash)) {
            // The genesis timestamp is a fixed date in the chain parameters, so the
            // first block's distance from it says nothing about mining.
            let interval = match index.get(&entry.header.prev) {
                Some(parent) if parent.header.height > 0 => {
                    let ms = entry
                        .header
                        .timestamp_ms
                        .saturating_sub(parent.header.timestamp_ms);
                    format!("{:.1} s after its parent", ms as f64 / 1000.0)
                }
                _ => "the first after genesis".to_string(),
            };
            let bits = entry
                .header
                .target
                .to_target()
                .map_or(0, |target| target.leading_zero_bits());
            log::log!(
                level,
                "block {how}: height {} hash {} difficulty {bits} bits, {interval}",
                entry.header.height,
                entry.hash.short(),
            );
        }
    }

    fn process(
        &mut self,
        blocks: Vec<Block>,
        origin: Origin,
        find: Option<FindInfo>,
    ) -> SubmitOutcome {
        let mut outcome = SubmitOutcome::default();
        let mut tip_moved = false;
        let mut returned_to_mempool = false;
        let mut relay = Vec::new();
        let mut others_height: Option<u64> = None;
        // One store commit for the whole batch (a sync batch is up to MAX_BLOCKS_PER_BATCH).
        let mut prepared = blocks
            .iter()
            .map(|block| {
                let relay_copy = (!matches!(origin, Origin::Sync(_))).then(|| block.clone());
                (block.hash(), relay_copy)
            })
            .collect::<Vec<_>>()
            .into_iter();
        let miners: HashMap<BlockHash, Address> = match self.live {
            Some(_) => blocks
                .iter()
                .map(|block| (block.hash(), block.reward.miner))
                .collect(),
            None => HashMap::new(),
        };
        let now = unix_time_ms();
        let results = match origin {
            Origin::Sync(peer) => self.chain.process_sync_batch(blocks, now, Some(peer)),
            _ => self.chain.process_blocks_from(blocks, now, origin.peer()),
        };
        for result in results {
            // A failed commit comes after the last block's outcome.
            let (hash, relay_copy) = prepared.next().unwrap_or_default();
            match result {
                Ok(BlockOutcome::AlreadyKnown) => {}
                Ok(BlockOutcome::Held) => {
                    debug!(
                        "block {} held: its branch is too light to store",
                        hash.short()
                    );
                    outcome.held += 1;
                }
                Ok(BlockOutcome::Orphan {
                    missing,
                    over_share,
                }) => {
                    debug!("orphan block {}: missing {}", hash.short(), missing.short());
                    outcome.missing = Some(missing);
                    // A relayed block was validated by its sender, on a parent we may just
                    // not have: the share bounds such orphans, but only a batch (which
                    // answers our own locator) can prove the sender at fault. While the
                    // node downloads a better chain, honest peers relaying new blocks past
                    // our tip make orphans faster than they can connect: not to blame either.
                    let relayed = matches!(origin, Origin::Relay(_));
                    outcome.orphans_over_share |= over_share && !self.syncing && !relayed;
                }
                Ok(BlockOutcome::Accepted(accepted)) => {
                    let now = Instant::now();
                    outcome.stored += accepted.stored.len();
                    for (rejected, reason) in &accepted.rejected {
                        warn!("block {} rejected: {reason}", rejected.short());
                    }
                    self.report(now, NodeEventKind::Stored(accepted.stored.clone()));
                    if origin == Origin::Mined {
                        self.report(
                            now,
                            NodeEventKind::Mined {
                                hash,
                                height: self
                                    .chain
                                    .index()
                                    .get(&hash)
                                    .map_or(0, |entry| entry.header.height),
                                find,
                            },
                        );
                    }
                    for (hash, miner) in &miners {
                        self.miner_cache.insert(*hash, *miner);
                    }
                    self.publish(&accepted.stored, accepted.tip_change.as_ref(), &miners);
                    if let Some(change) = &accepted.tip_change {
                        self.log_tip_change(change, origin);
                        if !change.disconnected.is_empty() {
                            self.report(
                                now,
                                NodeEventKind::Reorg {
                                    depth: change.disconnected.len(),
                                    old_tip: change.old_tip,
                                    new_tip: change.new_tip,
                                    height: change.height,
                                },
                            );
                        }
                        tip_moved = true;
                        returned_to_mempool |= change.returned_to_mempool > 0;
                    }
                    if origin != Origin::Mined {
                        let index = self.chain.index();
                        let highest = accepted
                            .stored
                            .iter()
                            .filter_map(|stored| index.get(stored))
                            .map(|entry| entry.header.height)
                            .max();
                        others_height = others_height.max(highest);
                    }
                    if let Some(block) = relay_copy {
                        relay.push(block);
                    }
                    for extra in accepted.stored.iter().skip(1) {
                        if let Ok(Some(block)) = self.chain.block(extra) {
                            relay.push(block);
                        }
                    }
                }
                Err(ChainError::Block(reason)) => {
                    if reason.is_invalid() {
                        warn!("block {} rejected: {reason}", hash.short());
                        outcome.invalid = Some(reason);
                    } else {
                        debug!("block {} deferred: {reason}", hash.short());
                        outcome.deferred = Some(reason);
                    }
                    break;
                }
                Err(ChainError::Store(reason)) => {
                    // Nothing of this call reached the disk: relay and report none of it.
                    self.store_failed = Some(reason.to_string());
                    return outcome;
                }
            }
        }
        if tip_moved {
            self.refresh_mempool_file(returned_to_mempool);
        }
        let decision = match &mut self.withholding {
            Some(withholding) => {
                // Our own blocks go out only when the strategy publishes them.
                let tip = self.chain.tip().hash;
                let mined = (origin == Origin::Mined)
                    .then(|| {
                        relay
                            .first()
                            .map(|block| (block.header.height, block.hash()))
                    })
                    .flatten()
                    .filter(|(_, hash)| *hash == tip);
                if origin == Origin::Mined {
                    relay.clear();
                }
                match (mined, others_height) {
                    (Some((height, hash)), _) => withholding.on_mined(height, hash),
                    (None, Some(height)) => withholding.on_others_block(height),
                    (None, None) => Action::Withhold,
                }
            }
            None => Action::Withhold,
        };
        self.act(decision);
        if let Some(peers) = &self.peers {
            for block in relay {
                peers.do_send(RelayBlock {
                    block,
                    except: origin.peer(),
                });
            }
            if tip_moved {
                peers.do_send(self.tip_changed());
            }
        }
        if origin == Origin::Mined {
            self.mined += 1;
            if !tip_moved {
                self.mined_stale += 1;
            }
        }
        // A mined block that did not move the tip (it lost a race) leaves the miner idle
        // without a new template.
        if tip_moved || origin == Origin::Mined {
            self.send_templates();
        }
        self.end_race_if_over();
        outcome
    }

    /// Who the reward of the stored block `hash` pays: remembered, or read (its reward
    /// only) and remembered.
    fn miner_of(&mut self, hash: &BlockHash) -> Option<Address> {
        if let Some(miner) = self.miner_cache.get(hash) {
            return Some(miner);
        }
        match self.chain.block_miner(hash) {
            Ok(miner) => {
                if let Some(miner) = miner {
                    self.miner_cache.insert(*hash, miner);
                }
                miner
            }
            Err(error) => {
                error!("store read failed: {error}");
                None
            }
        }
    }

    /// `hash` as a [`TreeBlock`]; the miner is looked up unless given.
    fn tree_block(&self, hash: &BlockHash, miner: Option<Address>) -> Option<TreeBlock> {
        let index = self.chain.index();
        let entry = index.get(hash)?;
        let header = &entry.header;
        let miner = miner.or_else(|| self.miner_cache.get(hash)).or_else(|| {
            self.chain.block_miner(hash).unwrap_or_else(|error| {
                error!("store read failed: {error}");
                None
            })
        });
        let interval_ms = index
            .get(&header.prev)
            .filter(|parent| parent.header.height > 0)
            .map(|parent| {
                header
                    .timestamp_ms
                    .saturating_sub(parent.header.timestamp_ms)
            });
        Some(TreeBlock {
            hash: hash.to_string(),
            parent: header.prev.to_string(),
            height: header.height,
            miner: (header.height > 0)
                .then(|| miner.map(|m| m.to_string()))
                .flatten(),
            timestamp_ms: header.timestamp_ms,
            interval_ms,
            on_best_chain: index.is_active(hash),
        })
    }

    /// Tells watchers what a batch did: blocks stored beside the active chain, the reorg,
    /// the blocks connected. `miners` are the batch's reward addresses (others are read).
    fn publish(
        &self,
        stored: &[BlockHash],
        change: Option<&TipChange>,
        miners: &HashMap<BlockHash, Address>,
    ) {
        let Some(live) = &self.live else { return };
        let block = |hash: &BlockHash| self.tree_block(hash, miners.get(hash).copied());
        for hash in stored {
            if !self.chain.index().is_active(hash) {
                if let Some(view) = block(hash) {
                    live.do_send(Publish(LiveEvent::BlockStale(view)));
                }
            }
        }
        let Some(change) = change else { return };
        if !change.disconnected.is_empty() {
            live.do_send(Publish(LiveEvent::Reorg {
                depth: change.disconnected.len(),
                old_tip: change.old_tip.to_string(),
                new_tip: change.new_tip.to_string(),
                height: change.height,
                fork_height: change.fork_height,
            }));
        }
        for hash in &change.connected {
            if let Some(view) = block(hash) {
                live.do_send(Publish(LiveEvent::BlockConnected(view)));
            }
        }
    }

    fn transaction_status(&self, txid: &TxId) -> TxStatus {
        match self.chain.transaction(txid) {
            Ok(Some(TxLookup::Pending(tx))) => TxStatus::Pending(tx),
            Ok(Some(TxLookup::InBlock {
                entry,
                header,
                block_hash,
                proof,
            })) => TxStatus::Confirmed {
                entry: match entry {
                    TxEntry::Reward(reward) => TxEntryWire::Reward(reward),
                    TxEntry::Transfer(tx) => TxEntryWire::Transfer(tx),
                },
                block_hash,
                header,
                proof,
            },
            Ok(None) => TxStatus::NotFound,
            Err(error) => {
                error!("store read failed: {error}");
                TxStatus::NotFound
            }
        }
    }
}

impl Actor for ChainActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(MEMPOOL_EXPIRY_CHECK, |actor, _| actor.expire_mempool());
    }
}

impl Handler<SubmitBlocks> for ChainActor {
    type Result = MessageResult<SubmitBlocks>;

    fn handle(&mut self, message: SubmitBlocks, ctx: &mut Self::Context) -> Self::Result {
        let mut outcome = match (self.racing(), message.origin.peer()) {
            (true, Some(peer)) => self.hold(message.blocks, peer),
            _ => {
                let outcome = self.process(message.blocks, message.origin, None);
                self.stop_if_store_failed(ctx);
                self.watch_commit_behind(ctx);
                outcome
            }
        };
        outcome.shown_height = self.shown_tip().height;
        MessageResult(outcome)
    }
}

impl Handler<SubmitMined> for ChainActor {
    type Result = MessageResult<SubmitMined>;

    fn handle(&mut self, message: SubmitMined, ctx: &mut Self::Context) -> Self::Result {
        let outcome = self.process(vec![message.block], Origin::Mined, Some(message.find));
        self.stop_if_store_failed(ctx);
        MessageResult(outcome)
    }
}

impl Handler<SubmitTx> for ChainActor {
    type Result = Result<TxId, TxError>;

    fn handle(&mut self, message: SubmitTx, ctx: &mut Self::Context) -> Self::Result {
        self.admit_verified(message.tx, message.origin, ctx)
    }
}

impl Handler<SubmitTxs> for ChainActor {
    type Result = Vec<Result<TxId, TxError>>;

    fn handle(&mut self, message: SubmitTxs, ctx: &mut Self::Context) -> Self::Result {
        let origin = message.origin;
        message
            .txs
            .into_iter()
            .map(|tx| self.admit_verified(tx, origin, ctx))
            .collect()
    }
}

impl ChainActor {
    /// Admits a transaction whose signature was verified: into the mempool, its journal
    /// and the live events, relayed to the peers but its origin.
    fn admit_verified(
        &mut self,
        tx: VerifiedTx,
        origin: Option<PeerId>,
        ctx: &mut Context<Self>,
    ) -> Result<TxId, TxError> {
        let txid = self.chain.submit_verified(tx.clone())?;
        let tx = tx.into_tx();
        debug!("transaction {} accepted into the mempool", txid.short());
        // On disk before the sender hears "accepted".
        if let Some(file) = &mut self.mempool_file {
            if let Err(error) = file.append(txid, &tx, unix_time_ms()) {
                error!("cannot write the mempool file: {error}");
            }
        }
        // Accepted transactions may push out others, which stay in the journal until
        // it is rewritten: checked here too, so it stays bounded between blocks.
        self.refresh_mempool_file(false);
        if let Some(live) = &self.live {
            live.do_send(Publish(LiveEvent::TxAccepted {
                txid: txid.to_string(),
                sender: tx.sender.to_string(),
                receiver: tx.receiver.to_string(),
                amount: tx.amount.get(),
                fee: tx.fee.get(),
            }));
        }
        // A racing double-spender keeps its conflicting spend to itself.
        if let (Some(peers), false) = (&self.peers, self.racing()) {
            peers.do_send(RelayTx { tx, except: origin });
        }
        if !self.refresh_scheduled && !self.miners.is_empty() {
            self.refresh_scheduled = true;
            ctx.run_later(TEMPLATE_REFRESH, |actor, _| {
                actor.refresh_scheduled = false;
                actor.send_templates();
            });
        }
        Ok(txid)
    }
}

impl Handler<GetPending> for ChainActor {
    type Result = MessageResult<GetPending>;

    fn handle(&mut self, message: GetPending, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.chain.pending_transactions(message.max))
    }
}

impl Handler<CheckTxs> for ChainActor {
    type Result = Vec<Result<Transaction, TxError>>;

    fn handle(&mut self, message: CheckTxs, _: &mut Self::Context) -> Self::Result {
        let checked = self.chain.precheck_transactions(&message.0);
        message
            .0
            .into_iter()
            .zip(checked)
            .map(|(tx, checked)| checked.map(|_| tx))
            .collect()
    }
}

impl Handler<GetTip> for ChainActor {
    type Result = MessageResult<GetTip>;

    fn handle(&mut self, _: GetTip, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.chain.tip())
    }
}

impl Handler<GetAccount> for ChainActor {
    type Result = MessageResult<GetAccount>;

    fn handle(&mut self, message: GetAccount, _: &mut Self::Context) -> Self::Result {
        let address = message.0;
        let (account, next_nonce) = self.chain.account(&address);
        let state = self.chain.state();
        let mut tokens: Vec<TokenHolding> = state
            .token_balances_of(&address)
            .filter_map(|(token, balance)| {
                let info = state.token(token)?;
                Some(TokenHolding {
                    token: *token,
                    symbol: info.symbol.clone(),
                    decimals: info.decimals,
                    balance,
                })
            })
            .collect();
        tokens.sort_by_key(|holding| holding.token);
        MessageResult(AccountInfo {
            address,
            account,
            next_nonce,
            tokens,
        })
    }
}

impl Handler<GetToken> for ChainActor {
    type Result = Option<TokenInfo>;

    fn handle(&mut self, message: GetToken, _: &mut Self::Context) -> Self::Result {
        self.chain.state().token(&message.0).cloned()
    }
}

impl Handler<GetBlock> for ChainActor {
    type Result = Option<Block>;

    fn handle(&mut self, message: GetBlock, _: &mut Self::Context) -> Self::Result {
        let block = match message.0 {
            BlockRef::Height(height) => self.chain.block_at(height),
            BlockRef::Hash(hash) => self.chain.block(&hash),
        };
        block.unwrap_or_else(|error| {
            error!("store read failed: {error}");
            None
        })
    }
}

impl Handler<GetPlacedBlock> for ChainActor {
    type Result = Option<PlacedBlock>;

    fn handle(&mut self, message: GetPlacedBlock, ctx: &mut Self::Context) -> Self::Result {
        let block = self.handle(GetBlock(message.0), ctx)?;
        let place = self.chain.block_place(&block.hash())?;
        Some(PlacedBlock { block, place })
    }
}

impl Handler<GetTx> for ChainActor {
    type Result = MessageResult<GetTx>;

    fn handle(&mut self, message: GetTx, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.transaction_status(&message.0))
    }
}

impl Handler<FindTxs> for ChainActor {
    type Result = Result<Vec<TxId>, String>;

    fn handle(&mut self, message: FindTxs, _: &mut Self::Context) -> Self::Result {
        self.chain
            .txids_with_prefix(&message.0, MAX_PREFIX_MATCHES)
            .map_err(|error| {
                error!("store read failed: {error}");
                format!("the node cannot read its store: {error}")
            })
    }
}

impl Handler<FindBlocks> for ChainActor {
    type Result = Result<Vec<BlockHash>, String>;

    fn handle(&mut self, message: FindBlocks, _: &mut Self::Context) -> Self::Result {
        Ok(self
            .chain
            .block_hashes_with_prefix(&message.0, MAX_PREFIX_MATCHES))
    }
}

impl Handler<GetBlocksAfter> for ChainActor {
    type Result = Option<BlockBatch>;

    fn handle(&mut self, message: GetBlocksAfter, _: &mut Self::Context) -> Self::Result {
        let locator: Vec<BlockHash> = message.locator.into_iter().take(MAX_LOCATOR).collect();
        match self
            .chain
            .blocks_after(&locator, MAX_BLOCKS_PER_BATCH, MAX_BATCH_BYTES)
        {
            Ok(mut blocks) => {
                let shown = self.shown_tip().height;
                blocks.retain(|block| block.header.height <= shown);
                let last = blocks.last().map_or(0, |block| block.header.height);
                let more = !blocks.is_empty() && last < shown;
                Some(BlockBatch { blocks, more })
            }
            Err(error) => {
                error!("store read failed: {error}");
                None
            }
        }
    }
}

impl Handler<RegisterMiner> for ChainActor {
    type Result = ();

    fn handle(&mut self, message: RegisterMiner, _: &mut Self::Context) {
        if self.miner_address.is_none() {
            warn!("a miner was registered, but this node has no miner address: it gets no work");
        }
        self.miners.push(message.0);
        self.send_templates();
    }
}

impl Handler<SetSyncing> for ChainActor {
    type Result = ();

    fn handle(&mut self, message: SetSyncing, _: &mut Self::Context) {
        if message.0 == self.syncing {
            return;
        }
        self.syncing = message.0;
        if self.syncing {
            self.pause_miners();
        } else {
            self.send_templates();
        }
    }
}

impl Handler<SetMining> for ChainActor {
    type Result = ();

    fn handle(&mut self, message: SetMining, _: &mut Self::Context) {
        self.mining = message.0;
        if self.mining {
            self.send_templates();
        } else {
            self.pause_miners();
        }
    }
}

impl Handler<SetEventSink> for ChainActor {
    type Result = ();

    fn handle(&mut self, message: SetEventSink, _: &mut Self::Context) {
        self.events = Some((message.node, message.sink));
    }
}

impl Handler<GetBlockTree> for ChainActor {
    type Result = MessageResult<GetBlockTree>;

    fn handle(&mut self, _: GetBlockTree, _: &mut Self::Context) -> Self::Result {
        let index = self.chain.index();
        MessageResult(
            index
                .entries()
                .map(|entry| TreeEntry {
                    hash: entry.hash,
                    prev: entry.header.prev,
                    height: entry.header.height,
                    active: index.is_active(&entry.hash),
                })
                .collect(),
        )
    }
}

impl Handler<SetEventHub> for ChainActor {
    type Result = ();

    fn handle(&mut self, message: SetEventHub, _: &mut Self::Context) {
        self.live = Some(message.0);
    }
}

impl Handler<GetTree> for ChainActor {
    type Result = MessageResult<GetTree>;

    fn handle(&mut self, message: GetTree, _: &mut Self::Context) -> Self::Result {
        let top = message.top.unwrap_or(self.chain.tip().height);
        let lowest = top.saturating_sub(message.depth);
        let mut hashes: Vec<(u64, BlockHash)> = self
            .chain
            .index()
            .entries()
            .filter(|entry| (lowest..=top).contains(&entry.header.height))
            .map(|entry| (entry.header.height, entry.hash))
            .collect();
        // Highest first, so that the cut keeps the top of the tree.
        hashes.sort_unstable_by(|a, b| b.cmp(a));
        let cut_at = hashes.get(message.limit).map(|(height, _)| *height);
        if let Some(cut) = cut_at {
            hashes.retain(|(height, _)| *height > cut);
        }
        let blocks = hashes
            .iter()
            .rev()
            .filter_map(|(_, hash)| {
                let miner = self.miner_of(hash);
                self.tree_block(hash, miner)
            })
            .collect();
        MessageResult(TreeSlice { blocks, cut_at })
    }
}

impl Handler<GetMempool> for ChainActor {
    type Result = MessageResult<GetMempool>;

    fn handle(&mut self, message: GetMempool, _: &mut Self::Context) -> Self::Result {
        let mempool = self.chain.mempool();
        MessageResult(MempoolView {
            count: mempool.len(),
            bytes: mempool.bytes(),
            transactions: mempool
                .select(self.chain.state(), message.limit, usize::MAX)
                .into_iter()
                .collect(),
        })
    }
}

impl Handler<GetAddressActivity> for ChainActor {
    type Result = MessageResult<GetAddressActivity>;

    fn handle(&mut self, message: GetAddressActivity, _: &mut Self::Context) -> Self::Result {
        let address = message.address;
        let involves = |tx: &Transaction| tx.sender == address || tx.receiver == address;
        let mut found: Vec<AddressActivity> = self
            .chain
            .mempool()
            .transactions()
            .filter(|tx| involves(tx))
            .take(message.limit)
            .map(|tx| AddressActivity {
                txid: tx.id(),
                height: None,
                tx: Some(tx.clone()),
                reward: Amount::ZERO,
            })
            .collect();
        let tip = self.chain.tip().height;
        let lowest = tip.saturating_sub(message.blocks).max(1);
        for height in (lowest..=tip).rev() {
            if found.len() >= message.limit {
                break;
            }
            let block = match self.chain.block_at(height) {
                Ok(Some(block)) => block,
                Ok(None) => break,
                Err(error) => {
                    error!("store read failed: {error}");
                    break;
                }
            };
            for tx in block.txs.iter().rev().filter(|tx| involves(tx)) {
                found.push(AddressActivity {
                    txid: tx.id(),
                    height: Some(height),
                    tx: Some(tx.clone()),
                    reward: Amount::ZERO,
                });
            }
            if block.reward.miner == address {
                found.push(AddressActivity {
                    txid: block.reward.id(),
                    height: Some(height),
                    tx: None,
                    reward: block.reward.amount,
                });
            }
        }
        found.truncate(message.limit);
        MessageResult(found)
    }
}

impl Handler<SetPeerManager> for ChainActor {
    type Result = ();

    fn handle(&mut self, message: SetPeerManager, _: &mut Self::Context) {
        self.peers = Some(message.0);
    }
}

impl Handler<GetSummary> for ChainActor {
    type Result = MessageResult<GetSummary>;

    fn handle(&mut self, _: GetSummary, _: &mut Self::Context) -> Self::Result {
        MessageResult(ChainSummary {
            tip: self.shown_tip(),
            genesis: self.chain.genesis_hash(),
            locator: self.chain.locator(),
            mempool: self.chain.mempool().len(),
            blocks_in_tree: self.chain.index().len(),
            mined: self.mined,
            mined_stale: self.mined_stale,
            orphan_bytes: self.chain.orphan_bytes(),
        })
    }
}

impl Handler<Shutdown> for ChainActor {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Self::Context) {
        // Its arbiter, if it has its own, is stopped by the node's handle: on a virtual
        // network the chain actor shares the launch's arbiter.
        ctx.stop();
    }
}
