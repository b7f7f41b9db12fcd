//! `ConnectionActor`: exactly one per TCP socket, peer or client. Frames the byte stream,
//! runs the handshake, enforces per-connection limits, translates wire messages into
//! actor messages and back, and keeps the link alive with ping/pong and an idle timeout.
//!
//! Misbehaviour (bad frames, invalid blocks, invalid transactions from peers) is answered
//! with a reason where a reply is possible and reported to the `PeerManagerActor`, which
//! bans past a threshold. Nothing here can make the node panic.
//!
//! What a connection can make the node hold is bounded ([`NetLimits`]): a socket must say
//! hello within the handshake deadline; at most a few requests are answered at once
//! (past that, reading the socket waits for an answer); replies are paced by a byte budget
//! per interval; and a peer that leaves more than the backlog bound unread is
//! disconnected rather than buffered forever. A client that only pings is closed after a
//! short idle deadline.
//!
//! In simulations, what the connection sends waits out the link's delay in a
//! [`DelayLine`] and a timer writes it when due (see [`super::netsim`]).

use super::chain_actor::{
    ChainActor, ChainSummary, FindBlocks, FindTxs, GetAccount, GetBlock, GetBlocksAfter,
    GetPending, GetPlacedBlock, GetSummary, GetTip, GetToken, GetTx, Origin, SubmitBlocks,
    SubmitOutcome,
};
use super::clock::now;
use super::limits::NetLimits;
use super::netsim::{DelayLine, LinkDelay, Pushed};
use super::output_queue::{CountingCodec, CountingWrite, OutputMeter};
use super::peer_manager::{
    ClientActive, ClientReady, Closed, GaveNew, GetAddrs, GetPeers, LearnAddrs, Misbehaved, Noted,
    PeerManagerActor, PeerReady, PeerTip, SyncBatch, LOG_SUMMARY_INTERVAL,
};
use super::policy::log_summary::LogSummary;
use super::policy::peer_text::peer_text;
use super::policy::send_budget::SendBudget;
use super::policy::sync_choice::BatchReport;
use super::reply_order::{ReplyOrder, Ticket};
use super::transport::{Transport, WriteHalf};
use super::tx_admission::{is_forged, NotAdmitted, TxPipeline, TxsAdmitted, SCORE_INVALID_TX};
use super::tx_verifier::TxVerifierActor;
use super::PeerId;
use crate::chain::id_prefix::IdPrefix;
use crate::consensus::block::Block;
use crate::consensus::error::TxError;
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::transaction::Transaction;
use crate::net::frame::{frame_len, Decoded, FrameCodec, FrameError, MAX_FRAME_BYTES};
use crate::net::message::{Message, PeerHello, MAX_LOCATOR, PROTOCOL_VERSION};
use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use futures::future::{FutureExt, Shared};
use log::{debug, info};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_util::codec::FramedRead;

const PING_INTERVAL: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(45);
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Most pending transactions handed to a peer when it connects.
const MAX_PENDING_SHARED: usize = 1000;
/// How often deadlines (idle peers and clients, pings) are checked.
const TICK: Duration = Duration::from_millis(250);
/// A client reports activity to the peer manager at most this often.
const ACTIVITY_REPORT: Duration = Duration::from_millis(500);
/// The reason a node gives its peers when it stops; a peer logs it as a shutdown.
pub const SHUTDOWN_REASON: &str = "node shutting down";

/// Misbehaviour scores (the ban threshold is 100).
const SCORE_MALFORMED_FRAME: u32 = 25;
const SCORE_PROTOCOL_VIOLATION: u32 = 20;
const SCORE_INVALID_BLOCK: u32 = 100;
/// Orphans past the sender's share of the pool: each costs the sender only pow-limit work.
const SCORE_ORPHAN_OVERFLOW: u32 = 10;
const SCORE_OVERSIZE_FRAME: u32 = 100;

/// What every connection of one node shares.
#[derive(Clone, Debug)]
pub struct ConnectionSettings {
    pub genesis: BlockHash,
    pub node_id: u64,
    pub listen_port: u16,
    /// The network's `max_block_txs`, enforced while frames are decoded.
    pub max_block_txs: usize,
    /// Delay of what this connection sends (network simulation); zero normally. The peer
    /// manager sets each peer's own link once it knows who the peer is.
    pub link: LinkDelay,
    /// Verifies incoming transactions' signatures in batches, off the chain actor.
    pub verifier: Addr<TxVerifierActor>,
    pub limits: NetLimits,
    /// Ping peers, drop idle ones and idle clients. Off on a virtual network: its links
    /// cannot fail silently, and with thousands of nodes the pings would be most of its
    /// events.
    pub keepalive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    AwaitingHello,
    Peer,
    Client,
}

/// Queue a message for sending.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Send(pub Message);

/// Send a reason, then close.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub reason: String,
}

/// Download the peer's blocks after our locator. `our_height` decides whether the
/// download is worth a line at info (more than a block behind) or only at debug.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StartSync {
    pub our_height: u64,
}

/// One socket.
pub struct ConnectionActor {
    id: PeerId,
    remote: SocketAddr,
    inbound: bool,
    chain: Addr<ChainActor>,
    peers: Addr<PeerManagerActor>,
    settings: ConnectionSettings,
    writer: FramedWrite<Message, CountingWrite<WriteHalf>, CountingCodec>,
    meter: OutputMeter,
    budget: SendBudget,
    /// Requests being answered (or waiting for the send budget).
    in_flight: usize,
    /// Replies leave in request order (clients may pipeline).
    replies: ReplyOrder<Message>,
    /// Transactions being admitted, from the first one on.
    txs: Option<TxPipeline>,
    /// `meter.queued()` when the budget was last charged.
    charged: u64,
    /// Outgoing messages waiting out the link's delay.
    outbox: DelayLine<Message>,
    role: Role,
    hello_sent: bool,
    opened: Instant,
    last_received: Instant,
    /// A client's last request other than a ping.
    last_request: Instant,
    last_activity_report: Option<Instant>,
    last_ping: Option<(u64, Instant)>,
    /// The peer's listening address, once its hello named it.
    peer_listen: Option<SocketAddr>,
    peer_height: u64,
    syncing: bool,
    /// Whether this download was announced at info (so is its end).
    sync_announced: bool,
    /// The locator of our last `GetBlocks` built from our own chain; a request sent ahead
    /// puts the last block received in front of it.
    last_locator: Vec<BlockHash>,
    /// The chain actor's answer to the last batch of blocks handed to it (see
    /// [`ConnectionActor::on_blocks`]).
    batch_at_chain: Option<BatchAtChain>,
    /// Set once the connection is closing: input is ignored while the reason flushes.
    closing: bool,
    /// Why the connection ends, for the peer manager's log.
    close_reason: Option<String>,
    /// Chatty events a peer can repeat at will, counted here and summarised by the peer
    /// manager ([`Self::note`]).
    logs: LogSummary,
}

/// The chain actor's answer to a [`SubmitBlocks`], awaited by two: the outcome's handler
/// and the next batch.
type BatchAtChain = Shared<actix::dev::Request<ChainActor, SubmitBlocks>>;

impl ConnectionActor {
    /// Starts the actor for `stream` in the current arbiter.
    pub fn start_on(
        stream: Transport,
        id: PeerId,
        remote: SocketAddr,
        inbound: bool,
        chain: Addr<ChainActor>,
        peers: Addr<PeerManagerActor>,
        settings: ConnectionSettings,
    ) -> Addr<Self> {
        let Transport { read, write } = stream;
        let read_codec = FrameCodec::for_network(settings.max_block_txs);
        let outbox = DelayLine::new(settings.link);
        let meter = OutputMeter::default();
        let (write, codec) = meter.wrap(write);
        let now = now();
        let budget = SendBudget::new(
            settings.limits.send_bytes_per_interval,
            settings.limits.send_interval,
            now,
        );
        ConnectionActor::create(move |ctx| {
            ctx.add_stream(FramedRead::new(read, read_codec));
            let mut writer = FramedWrite::new(write, codec, ctx);
            // actix would otherwise pause the whole actor while the socket does not drain,
            // so a peer that never reads would freeze it (and its mailbox would grow); the
            // backlog is bounded by `check_backlog` instead.
            writer.set_buffer_capacity(MAX_FRAME_BYTES, usize::MAX);
            ConnectionActor {
                id,
                remote,
                inbound,
                chain,
                peers,
                settings,
                writer,
                meter,
                budget,
                in_flight: 0,
                replies: ReplyOrder::default(),
                txs: None,
                charged: 0,
                outbox,
                role: Role::AwaitingHello,
                hello_sent: false,
                opened: now,
                last_received: now,
                last_request: now,
                last_activity_report: None,
                last_ping: None,
                peer_listen: None,
                peer_height: 0,
                syncing: false,
                sync_announced: false,
                last_locator: Vec::new(),
                batch_at_chain: None,
                closing: false,
                close_reason: None,
                logs: LogSummary::new(LOG_SUMMARY_INTERVAL, now),
            }
        })
    }

    fn send(&mut self, message: Message, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let now = now();
        // Only a link with a bandwidth charges for size: counting costs an encoding.
        let link = self.outbox.link();
        let size = match link.bits_per_second {
            Some(_) => link.charged_size(&message, frame_len(&message)),
            None => 0,
        };
        match self.outbox.push(now, message, size) {
            Pushed::Now(message) => {
                self.writer.write(message);
                self.check_backlog(ctx);
            }
            Pushed::Queued { due, arm_timer } => {
                if arm_timer {
                    ctx.run_later(due.saturating_duration_since(now), |actor, ctx| {
                        actor.flush_outbox(ctx)
                    });
                }
            }
        }
    }

    /// Writes the delayed messages that are due, and sets the timer for the next one.
    fn flush_outbox(&mut self, ctx: &mut Context<Self>) {
        let now = now();
        let (due, next) = self.outbox.pop_due(now);
        if self.closing {
            // The close reason went out already; the rest would follow it into a closed
            // writer.
            return;
        }
        for message in due {
            self.writer.write(message);
        }
        self.check_backlog(ctx);
        if let Some(next) = next {
            ctx.run_later(next.saturating_duration_since(now), |actor, ctx| {
                actor.flush_outbox(ctx)
            });
        }
    }

    /// A peer that leaves more than the bound unread is disconnected: buffering for it
    /// forever is what it would want.
    fn check_backlog(&mut self, ctx: &mut Context<Self>) {
        let backlog = self.meter.backlog();
        if backlog > self.settings.limits.max_send_backlog && !self.closing {
            self.closing = true;
            self.close_reason = Some(format!(
                "slow reader: {backlog} bytes unread (bound {})",
                self.settings.limits.max_send_backlog
            ));
            // No reason can reach a peer that does not read.
            ctx.stop();
        }
    }

    /// Sends `reason`, then closes once it is flushed: the actor stops when the writer
    /// finishes (or after a grace period, if the peer does not read).
    fn reject_and_close(&mut self, reason: String, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        debug!("closing {}: {reason}", self.remote);
        self.closing = true;
        self.close_reason = Some(format!("we closed it: {reason}"));
        self.writer.write(Message::Reject { reason });
        self.writer.close();
        ctx.run_later(CLOSE_GRACE, |_, ctx| ctx.stop());
    }

    /// Ends the connection without a word, noting why for the log.
    fn close_quietly(&mut self, reason: String, ctx: &mut Context<Self>) {
        if self.close_reason.is_none() {
            self.close_reason = Some(reason);
        }
        ctx.stop();
    }

    /// Answers a request: at most `max_requests_in_flight` at once, paced by the send
    /// budget. Past the in-flight bound the answer is awaited before the next frame is
    /// read, so a peer that pipelines requests waits for its answers instead of making
    /// us hold them all.
    fn serve<F>(&mut self, request: F, ctx: &mut Context<Self>)
    where
        F: std::future::Future<Output = Option<Message>> + 'static,
    {
        let now = now();
        let queued = self.meter.queued();
        self.budget.spend(queued.saturating_sub(self.charged), now);
        self.charged = queued;
        let delay = self.budget.wait(now);
        self.in_flight += 1;
        let ticket = self.replies.ticket();
        let answer = async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            request.await
        };
        let answer = answer.into_actor(self).map(move |reply, actor, ctx| {
            actor.in_flight = actor.in_flight.saturating_sub(1);
            actor.reply(ticket, reply, ctx);
        });
        if self.in_flight > self.settings.limits.max_requests_in_flight {
            ctx.wait(answer);
        } else {
            ctx.spawn(answer);
        }
    }

    /// Sends the answer to the request of `ticket` (if it has one) when those of the
    /// requests before it have gone.
    fn reply(&mut self, ticket: Ticket, reply: Option<Message>, ctx: &mut Context<Self>) {
        for reply in self.replies.answer(ticket, reply) {
            self.send(reply, ctx);
        }
        // More answers held than a connection within its bounds can have unanswered: it
        // floods requests (while over the bound, the newest request's answer is awaited
        // before older ones progress), and holding them all is what it would want.
        let bound =
            self.settings.limits.max_requests_in_flight + self.settings.limits.max_txs_in_flight;
        if self.replies.held() > bound && !self.closing {
            self.misbehaved(
                SCORE_PROTOCOL_VIOLATION,
                format!("more than {bound} requests ahead of their answers"),
            );
            self.reject_and_close(
                format!("more than {bound} requests ahead of their answers"),
                ctx,
            );
        }
    }

    /// Answers the request just read now, in its turn among the replies.
    fn reply_now(&mut self, reply: Message, ctx: &mut Context<Self>) {
        let ticket = self.replies.ticket();
        self.reply(ticket, Some(reply), ctx);
    }

    /// A client's request (not a ping) keeps its slot: tells the peer manager, at most
    /// twice a second.
    fn client_active(&mut self) {
        if self.role != Role::Client {
            return;
        }
        let now = now();
        self.last_request = now;
        if self
            .last_activity_report
            .is_none_or(|last| now.duration_since(last) >= ACTIVITY_REPORT)
        {
            self.last_activity_report = Some(now);
            self.peers.do_send(ClientActive { id: self.id });
        }
    }

    /// An event a peer can repeat at will, worth a line at `level`: the first of its
    /// `reason` in an interval goes to the peer manager's summary with its detail (which
    /// must pass peer text through [`peer_text`]), the rest only at debug here, and their
    /// count to the peer manager when the interval ends (or the connection closes).
    fn note(&mut self, level: log::Level, reason: &'static str, detail: impl FnOnce() -> String) {
        if self.logs.note(reason, None) {
            self.peers.do_send(Noted {
                source: self.remote.ip(),
                reason,
                level,
                detail: Some(format!("{}: {}", self.remote, detail())),
                count: 1,
            });
        } else {
            debug!("{reason}: {}: {}", self.remote, detail());
        }
    }

    /// Hands the peer manager the counts of [`Self::note`]'s events not logged in full.
    fn report_noted(&mut self, all: bool) {
        let lines = if all {
            self.logs.take_all()
        } else {
            self.logs.take_due(now())
        };
        for line in lines {
            self.peers.do_send(Noted {
                source: self.remote.ip(),
                reason: line.reason,
                level: log::Level::Info,
                detail: None,
                count: line.count,
            });
        }
    }

    fn misbehaved(&mut self, score: u32, reason: String) {
        self.peers.do_send(Misbehaved {
            id: self.id,
            score,
            reason,
        });
    }

    fn send_hello(&mut self, ctx: &mut Context<Self>) {
        self.hello_sent = true;
        ctx.wait(
            self.chain
                .send(GetSummary)
                .into_actor(self)
                .map(|summary, actor, ctx| match summary {
                    Ok(summary) => actor.write_hello(&summary, ctx),
                    Err(_) => ctx.stop(),
                }),
        );
    }

    fn write_hello(&mut self, summary: &ChainSummary, ctx: &mut Context<Self>) {
        let hello = PeerHello {
            version: PROTOCOL_VERSION,
            genesis: self.settings.genesis,
            best_height: summary.tip.height,
            best_hash: summary.tip.hash,
            work: summary.tip.work,
            listen_port: self.settings.listen_port,
            node_id: self.settings.node_id,
        };
        self.send(Message::HelloPeer(hello), ctx);
    }

    fn on_hello_peer(&mut self, hello: PeerHello, ctx: &mut Context<Self>) {
        if hello.version != PROTOCOL_VERSION {
            let reason = format!(
                "protocol version {} is not ours ({PROTOCOL_VERSION})",
                hello.version
            );
            self.note(
                log::Level::Info,
                "refusing a peer of another version",
                || reason.clone(),
            );
            return self.reject_and_close(reason, ctx);
        }
        if hello.genesis != self.settings.genesis {
            // The dialer logs this reason as it comes, so it names whose genesis is whose
            // from its reader's side, and the usual cause: a node started without the
            // --config of the network it dials.
            let reason = format!(
                "your genesis {} is not this node's genesis {}: another network; start \
                 with the same --config as this node",
                hello.genesis.short(),
                self.settings.genesis.short()
            );
            self.note(
                log::Level::Info,
                "refusing a peer of another network",
                || reason.clone(),
            );
            return self.reject_and_close(reason, ctx);
        }
        // Answer with our own hello (if not sent yet) strictly before anything that follows
        // the peer manager's decision, such as our address request.
        let summary = (!self.hello_sent).then(|| self.chain.send(GetSummary));
        self.hello_sent = true;
        self.peer_height = hello.best_height;
        self.peer_listen = Some(SocketAddr::new(self.remote.ip(), hello.listen_port));
        // Peer messages may arrive while the peer manager decides; they are served as a
        // peer's, and the connection closes if the peer manager refuses.
        self.role = Role::Peer;
        let ready = self.peers.send(PeerReady { id: self.id, hello });
        let steps = async move {
            let summary = match summary {
                Some(request) => request.await.ok(),
                None => None,
            };
            (summary, ready.await)
        };
        ctx.wait(steps.into_actor(self).map(|(summary, ready), actor, ctx| {
            if let Ok(Ok(link)) = &ready {
                actor.outbox.set_link(*link);
            }
            if let Some(summary) = summary {
                actor.write_hello(&summary, ctx);
            }
            match ready {
                Ok(Ok(_)) => {
                    actor.send(Message::GetAddrs, ctx);
                    actor.share_mempool(ctx);
                }
                Ok(Err(reason)) => actor.reject_and_close(reason, ctx),
                Err(_) => ctx.stop(),
            }
        }));
    }

    /// Hands a new peer our pending transactions (best fee first, bounded), so that
    /// transactions waiting here reach a miner that connects later.
    fn share_mempool(&mut self, ctx: &mut Context<Self>) {
        ctx.spawn(
            self.chain
                .send(GetPending {
                    max: MAX_PENDING_SHARED,
                })
                .into_actor(self)
                .map(|pending, actor, ctx| {
                    for tx in pending.unwrap_or_default() {
                        actor.send(Message::NewTx(tx), ctx);
                    }
                }),
        );
    }

    fn request_blocks(&mut self, ctx: &mut Context<Self>) {
        ctx.wait(
            self.chain
                .send(GetSummary)
                .into_actor(self)
                .map(|summary, actor, ctx| {
                    if let Ok(summary) = summary {
                        actor.last_locator = summary.locator.clone();
                        actor.send(
                            Message::GetBlocks {
                                locator: summary.locator,
                            },
                            ctx,
                        );
                    }
                }),
        );
    }

    /// While syncing, asks for the batch after `blocks` before they are processed, so the
    /// peer reads and sends it while we verify these (one request ahead; the two nodes
    /// otherwise take turns). Returns whether it did.
    fn request_ahead(&mut self, blocks: &[Block], more: bool, ctx: &mut Context<Self>) -> bool {
        let Some(last) = blocks.last() else {
            return false;
        };
        if !(self.syncing && more) {
            return false;
        }
        // The peer sent these from its active chain, so it knows the last one; the older
        // locator follows in case it reorganises meanwhile.
        let mut locator = Vec::with_capacity(self.last_locator.len() + 1);
        locator.push(last.hash());
        locator.extend_from_slice(&self.last_locator);
        locator.truncate(MAX_LOCATOR);
        self.send(Message::GetBlocks { locator }, ctx);
        true
    }

    /// A batch of blocks from the peer goes to the chain actor once the previous batch
    /// has been processed there. Meanwhile this connection goes on reading: the next
    /// batch (requested ahead) is read and decoded while the chain actor verifies and
    /// commits this one, instead of after it. So at most one batch is at the chain actor
    /// and one decoded here, waiting for it; the outcomes are handled in order.
    fn on_blocks(&mut self, blocks: Vec<Block>, more: bool, ctx: &mut Context<Self>) {
        let requested_ahead = self.request_ahead(&blocks, more, ctx);
        match self.batch_at_chain.take() {
            // Waiting stops reading, which bounds what is decoded ahead to this batch.
            Some(previous) => ctx.wait(previous.into_actor(self).map(
                move |_, actor: &mut Self, ctx| {
                    actor.submit_blocks(blocks, more, requested_ahead, ctx)
                },
            )),
            None => self.submit_blocks(blocks, more, requested_ahead, ctx),
        }
    }

    fn submit_blocks(
        &mut self,
        blocks: Vec<Block>,
        more: bool,
        requested_ahead: bool,
        ctx: &mut Context<Self>,
    ) {
        let count = blocks.len();
        // Shared: the next batch waits on the chain's answer (a wait item, which actix
        // polls while it holds back the spawned ones), and the outcome is handled here.
        let request = self
            .chain
            .send(SubmitBlocks {
                blocks,
                origin: Origin::Sync(self.id),
            })
            .shared();
        self.batch_at_chain = Some(request.clone());
        ctx.spawn(request.into_actor(self).map(move |outcome, actor, ctx| {
            let Ok(outcome) = outcome else { return };
            if actor.judge_blocks(&outcome, ctx) {
                return;
            }
            let was_syncing = actor.syncing;
            let height = outcome.shown_height;
            if was_syncing {
                actor.peers.do_send(SyncBatch {
                    id: actor.id,
                    report: BatchReport {
                        received: count,
                        stored: outcome.stored,
                        held: outcome.held,
                        more,
                    },
                });
            }
            if more && outcome.stored + outcome.held > 0 {
                let level = if actor.sync_announced {
                    log::Level::Info
                } else {
                    log::Level::Debug
                };
                log::log!(
                    level,
                    "sync: height {height} of {} from {} ({} in batch)",
                    actor.peer_height.max(height),
                    actor.remote,
                    crate::plural::count(count as u64, "block", "blocks")
                );
                if !requested_ahead {
                    actor.request_blocks(ctx);
                }
            } else {
                if was_syncing && actor.sync_announced {
                    info!("sync: caught up with {} at height {height}", actor.remote);
                }
                actor.syncing = false;
                actor.sync_announced = false;
            }
        }));
    }

    /// Queues a transaction from a client or a peer for admission
    /// ([`super::tx_admission`]): several may be in flight, admitted in the order they came
    /// (so a sender's run keeps its nonce order), a client's answered in request order.
    /// Past [`NetLimits::max_txs_in_flight`] queued, reading waits for room.
    fn on_tx(&mut self, tx: Transaction, from_peer: bool, ctx: &mut Context<Self>) {
        let ticket = (!from_peer).then(|| self.replies.ticket());
        let pipeline = self.txs.get_or_insert_with(|| {
            TxPipeline::start(
                self.chain.clone(),
                self.settings.verifier.clone(),
                from_peer.then_some(self.id),
                self.settings.limits.max_txs_in_flight,
                ctx.address().recipient(),
            )
        });
        if let Some(room) = pipeline.push(tx, ticket) {
            ctx.wait(room.into_actor(self));
        }
    }

    /// One admitted transaction's outcome: a client's reply, a peer's credit or score.
    fn on_admitted(
        &mut self,
        ticket: Option<Ticket>,
        result: Result<TxId, NotAdmitted>,
        ctx: &mut Context<Self>,
    ) {
        let from_peer = ticket.is_none();
        let reply = match result {
            Ok(_) if from_peer => {
                self.peers.do_send(GaveNew {
                    id: self.id,
                    block: false,
                });
                None
            }
            Ok(txid) => {
                debug!("transaction {} from {} accepted", txid.short(), self.remote);
                Some(Message::TxAccepted(txid))
            }
            Err(NotAdmitted::Refused(reason)) if !from_peer => {
                self.note(log::Level::Info, "client transaction refused", || {
                    reason.to_string()
                });
                // A client's wallet signs correctly: one that does not costs the node
                // signature checks, as an invalid relay would. A fee or a message a user
                // mistyped costs nothing and must not get the user's host (with every
                // node on it) banned.
                if is_forged(&reason) {
                    self.misbehaved(SCORE_INVALID_TX, format!("invalid transaction: {reason}"));
                }
                Some(Message::TxRejected {
                    reason: reason.to_string(),
                })
            }
            Err(NotAdmitted::Refused(reason)) if is_stateless(&reason) => {
                self.misbehaved(SCORE_INVALID_TX, format!("invalid transaction: {reason}"));
                None
            }
            _ => None,
        };
        if let Some(ticket) = ticket {
            self.reply(ticket, reply, ctx);
        }
    }

    /// Sends the wire form of a chain actor's typed answer once it arrives, within the
    /// connection's request bounds ([`Self::serve`]). A request the actor cannot answer
    /// (it stopped: the node is shutting down) gets no reply.
    fn answer<M>(
        &mut self,
        request: M,
        to_wire: impl FnOnce(M::Result) -> Message + 'static,
        ctx: &mut Context<Self>,
    ) where
        M: actix::Message + std::marker::Send + 'static,
        M::Result: std::marker::Send,
        ChainActor: Handler<M>,
    {
        self.client_active();
        let reply = self.chain.send(request);
        self.serve(async move { reply.await.ok().map(to_wire) }, ctx);
    }

    /// Answers a lookup by a prefix that does not parse (the client checks it first, so
    /// this is an old or other client: no misbehaviour).
    fn refuse_prefix(&mut self, text: &str, reason: String, ctx: &mut Context<Self>) {
        let reason = format!("prefix {text:?}: {reason}");
        self.serve(std::future::ready(Some(Message::Reject { reason })), ctx);
    }

    /// Penalises invalid blocks and fetches missing ancestors. Returns whether the
    /// connection is being closed.
    fn judge_blocks(&mut self, outcome: &SubmitOutcome, ctx: &mut Context<Self>) -> bool {
        if let Some(reason) = &outcome.invalid {
            let text = format!("invalid block: {reason}");
            self.send(
                Message::Reject {
                    reason: text.clone(),
                },
                ctx,
            );
            self.misbehaved(SCORE_INVALID_BLOCK, text);
            return true;
        }
        if outcome.orphans_over_share {
            self.misbehaved(
                SCORE_ORPHAN_OVERFLOW,
                "orphan blocks past its share of the orphan pool".into(),
            );
        }
        // A block whose parent we lack asks the peer for what leads to it, unless a sync
        // from this peer is under way: its batches bring the parents, and a request per
        // relayed orphan (a fast miner relays many while we catch up) would only pile up
        // requests the peer counts against us.
        if outcome.missing.is_some() && !self.syncing {
            self.request_blocks(ctx);
        }
        false
    }

    fn on_message(&mut self, message: Message, ctx: &mut Context<Self>) {
        match (self.role, message) {
            (Role::AwaitingHello, Message::HelloPeer(hello)) => self.on_hello_peer(hello, ctx),
            (Role::AwaitingHello, Message::HelloClient { version }) => {
                if version != PROTOCOL_VERSION {
                    let reason =
                        format!("protocol version {version} is not ours ({PROTOCOL_VERSION})");
                    return self.reject_and_close(reason, ctx);
                }
                // Served as a client from now on; closed if the peer manager has no slot.
                self.role = Role::Client;
                self.last_request = now();
                debug!("client connected from {}", self.remote);
                let ready = self.peers.send(ClientReady { id: self.id });
                ctx.wait(ready.into_actor(self).map(|ready, actor, ctx| match ready {
                    Ok(Ok(())) => actor.send(
                        Message::Welcome {
                            version: PROTOCOL_VERSION,
                            genesis: actor.settings.genesis,
                        },
                        ctx,
                    ),
                    Ok(Err(reason)) => actor.reject_and_close(reason, ctx),
                    Err(_) => ctx.stop(),
                }));
            }
            (Role::AwaitingHello, Message::Reject { reason }) => {
                // The peer refused us before the handshake (another network, say): its
                // reason is the useful part, and it broke no rule by telling us.
                let reason = peer_text(&reason).into_owned();
                self.note(log::Level::Warn, "refused by the other side", || {
                    reason.clone()
                });
                self.close_quietly(format!("it refused us: {reason}"), ctx);
            }
            (Role::AwaitingHello, other) => {
                self.misbehaved(
                    SCORE_PROTOCOL_VIOLATION,
                    format!("{} before hello", other.variant_name()),
                );
                self.reject_and_close("the first message must be a hello".into(), ctx);
            }
            (_, Message::HelloPeer(_) | Message::HelloClient { .. }) => {
                self.misbehaved(SCORE_PROTOCOL_VIOLATION, "second hello".into());
            }
            (_, Message::GetTip) => self.answer(
                GetTip,
                |tip| Message::Tip {
                    height: tip.height,
                    hash: tip.hash,
                    work: tip.work,
                    difficulty_bits: tip.difficulty_bits(),
                    timestamp_ms: tip.timestamp_ms,
                },
                ctx,
            ),
            (_, Message::GetAccount(address)) => self.answer(
                GetAccount(address),
                |info| Message::Account {
                    address: info.address,
                    account: info.account,
                    next_nonce: info.next_nonce,
                    tokens: info.tokens,
                },
                ctx,
            ),
            (_, Message::GetToken(token)) => self.answer(GetToken(token), Message::TokenReply, ctx),
            (_, Message::GetBlock(reference)) => {
                self.answer(GetBlock(reference), Message::BlockReply, ctx)
            }
            (_, Message::GetPlacedBlock(reference)) => self.answer(
                GetPlacedBlock(reference),
                |found| Message::PlacedBlockReply(found.map(Box::new)),
                ctx,
            ),
            (_, Message::GetTx(txid)) => self.answer(
                GetTx(txid),
                |status| Message::TxReply(Box::new(status)),
                ctx,
            ),
            (_, Message::FindTxs(text)) => match IdPrefix::parse(&text) {
                Ok(prefix) => self.answer(FindTxs(prefix), found(Message::TxMatches), ctx),
                Err(reason) => self.refuse_prefix(&text, reason, ctx),
            },
            (_, Message::FindBlocks(text)) => match IdPrefix::parse(&text) {
                Ok(prefix) => self.answer(FindBlocks(prefix), found(Message::BlockMatches), ctx),
                Err(reason) => self.refuse_prefix(&text, reason, ctx),
            },
            (_, Message::GetBlocks { locator }) => {
                let request = self.chain.send(GetBlocksAfter { locator });
                // No batch when the store could not be read: that is logged, and the
                // peer's sync times out and retries elsewhere.
                self.serve(
                    async move {
                        let batch = request.await.ok().flatten()?;
                        let (blocks, more) = (batch.blocks, batch.more);
                        Some(Message::Blocks { blocks, more })
                    },
                    ctx,
                );
            }
            (_, Message::GetPeers) => {
                self.client_active();
                let peers = self.peers.send(GetPeers);
                self.serve(
                    async move { Some(Message::Peers(peers.await.unwrap_or_default())) },
                    ctx,
                );
            }
            (_, Message::GetAddrs) => {
                let addrs = self.peers.send(GetAddrs);
                self.serve(
                    async move { Some(Message::Addrs(addrs.await.unwrap_or_default())) },
                    ctx,
                );
            }
            (_, Message::Ping { nonce }) => {
                let summary = self.chain.send(GetSummary);
                self.serve(
                    async move {
                        let summary = summary.await.ok()?;
                        Some(Message::Pong {
                            nonce,
                            best_height: summary.tip.height,
                            work: summary.tip.work,
                        })
                    },
                    ctx,
                );
            }
            (role, Message::SubmitTx(tx)) | (role @ Role::Peer, Message::NewTx(tx)) => {
                self.client_active();
                self.on_tx(tx, role == Role::Peer, ctx)
            }
            (Role::Peer, Message::NewBlock(block)) => {
                self.peer_height = self.peer_height.max(block.header.height);
                let request = self.chain.send(SubmitBlocks {
                    blocks: vec![block],
                    origin: Origin::Relay(self.id),
                });
                ctx.wait(request.into_actor(self).map(|outcome, actor, ctx| {
                    if let Ok(outcome) = outcome {
                        if !actor.judge_blocks(&outcome, ctx) && outcome.stored > 0 {
                            actor.peers.do_send(GaveNew {
                                id: actor.id,
                                block: true,
                            });
                        }
                    }
                }));
            }
            (Role::Peer, Message::Blocks { blocks, more }) => self.on_blocks(blocks, more, ctx),
            (Role::Peer, Message::Addrs(addrs)) => {
                let parsed = addrs
                    .iter()
                    .filter_map(|text| text.parse::<SocketAddr>().ok())
                    .collect();
                self.peers.do_send(LearnAddrs(parsed));
            }
            (
                Role::Peer,
                Message::Pong {
                    nonce,
                    best_height,
                    work,
                },
            ) => {
                self.peer_height = best_height;
                let ping = match self.last_ping {
                    Some((sent, at)) if sent == nonce => Some(now().duration_since(at)),
                    _ => None,
                };
                self.peers.do_send(PeerTip {
                    id: self.id,
                    best_height,
                    work,
                    ping,
                });
            }
            (Role::Peer, Message::Reject { reason }) if reason == SHUTDOWN_REASON => {
                // Logged by the peer manager by the peer's listening address.
                self.close_quietly("it is shutting down".into(), ctx);
            }
            (_, Message::Reject { reason }) => {
                self.note(log::Level::Info, "sent a rejection", || {
                    peer_text(&reason).into_owned()
                })
            }
            (role, other) => {
                let reason = format!(
                    "{} is not a valid request from a {role:?}",
                    other.variant_name()
                );
                self.reply_now(
                    Message::Reject {
                        reason: reason.clone(),
                    },
                    ctx,
                );
                self.misbehaved(SCORE_PROTOCOL_VIOLATION, reason);
            }
        }
    }
}

/// A transaction error that no honest relay could cause (as opposed to nonce or balance
/// races between mempools).
fn is_stateless(error: &TxError) -> bool {
    matches!(
        error,
        TxError::BadSignature
            | TxError::InvalidSenderKey
            | TxError::MessageTooLong { .. }
            | TxError::AmountOverflow
            | TxError::FeeTooLow { .. }
    )
}

impl ConnectionActor {
    /// The periodic checks: the handshake deadline, idle peers and clients, pings.
    fn tick(&mut self, ctx: &mut Context<Self>) {
        self.report_noted(false);
        if self.closing {
            return;
        }
        let limits = &self.settings.limits;
        let now = now();
        match self.role {
            Role::AwaitingHello => {
                if now.duration_since(self.opened) >= limits.handshake_timeout {
                    let reason = format!(
                        "no hello within {} ms",
                        limits.handshake_timeout.as_millis()
                    );
                    self.reject_and_close(reason, ctx);
                }
            }
            Role::Client => {
                if now.duration_since(self.last_request) >= limits.client_idle_timeout {
                    let reason = format!(
                        "client idle for {} ms",
                        limits.client_idle_timeout.as_millis()
                    );
                    self.reject_and_close(reason, ctx);
                }
            }
            Role::Peer => {
                if now.duration_since(self.last_received) > IDLE_TIMEOUT {
                    info!(
                        "{} idle for {} s, disconnecting",
                        self.remote,
                        IDLE_TIMEOUT.as_secs()
                    );
                    self.close_quietly(format!("idle for {} s", IDLE_TIMEOUT.as_secs()), ctx);
                } else if self
                    .last_ping
                    .is_none_or(|(_, at)| now.duration_since(at) >= PING_INTERVAL)
                {
                    let nonce = rand::random();
                    self.last_ping = Some((nonce, now));
                    self.send(Message::Ping { nonce }, ctx);
                }
            }
        }
    }
}

impl Actor for ConnectionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if !self.inbound {
            self.send_hello(ctx);
        }
        // The first ping goes out one interval after the handshake.
        self.last_ping = Some((0, now()));
        if self.settings.keepalive {
            ctx.run_interval(
                TICK.min(self.settings.limits.handshake_timeout),
                |actor, ctx| actor.tick(ctx),
            );
        } else {
            // Only the handshake deadline, once.
            ctx.run_later(self.settings.limits.handshake_timeout, |actor, ctx| {
                if actor.role == Role::AwaitingHello {
                    actor.tick(ctx);
                }
            });
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.report_noted(true);
        self.peers.do_send(Closed {
            id: self.id,
            reason: self
                .close_reason
                .take()
                .unwrap_or_else(|| "connection closed".into()),
        });
    }
}

impl StreamHandler<Result<Decoded, FrameError>> for ConnectionActor {
    fn handle(&mut self, item: Result<Decoded, FrameError>, ctx: &mut Self::Context) {
        if self.closing {
            return;
        }
        self.last_received = now();
        super::delivered::count_one();
        match item {
            Ok(Decoded::Message(message)) => self.on_message(*message, ctx),
            Ok(Decoded::Malformed(reason)) => {
                self.reply_now(
                    Message::Reject {
                        reason: reason.clone(),
                    },
                    ctx,
                );
                self.misbehaved(SCORE_MALFORMED_FRAME, reason);
            }
            Err(FrameError::TooLarge { length }) => {
                let reason = FrameError::TooLarge { length }.to_string();
                self.misbehaved(SCORE_OVERSIZE_FRAME, reason.clone());
                self.reject_and_close(reason, ctx);
            }
            Err(error) => {
                debug!("{}: {error}", self.remote);
                self.close_quietly(error.to_string(), ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        // While closing, the writer decides when to stop, so the reason gets out.
        if !self.closing {
            self.close_quietly("closed by the other side".into(), ctx);
        }
    }
}

impl WriteHandler<FrameError> for ConnectionActor {}

impl Handler<Send> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, message: Send, ctx: &mut Self::Context) {
        self.send(message.0, ctx);
    }
}

impl Handler<TxsAdmitted> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, message: TxsAdmitted, ctx: &mut Self::Context) {
        for (ticket, result) in message.0 {
            self.on_admitted(ticket, result, ctx);
        }
    }
}

impl Handler<Disconnect> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, message: Disconnect, ctx: &mut Self::Context) {
        self.reject_and_close(message.reason, ctx);
    }
}

impl Handler<StartSync> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, message: StartSync, ctx: &mut Self::Context) {
        if !self.syncing {
            self.syncing = true;
            // A peer one block ahead is the normal state of a mining network, not a
            // download worth announcing (nor its end).
            self.sync_announced = self.peer_height > message.our_height.saturating_add(1);
            let level = if self.sync_announced {
                log::Level::Info
            } else {
                log::Level::Debug
            };
            log::log!(
                level,
                "sync: downloading from {} (its height {}, ours {})",
                self.remote,
                self.peer_height,
                message.our_height
            );
            self.request_blocks(ctx);
        }
    }
}

/// The wire reply to a prefix lookup: the matches, or the reason the store could not
/// be read (an empty list would wrongly say that nothing matches).
fn found<T>(to_wire: fn(Vec<T>) -> Message) -> impl FnOnce(Result<Vec<T>, String>) -> Message {
    move |found| match found {
        Ok(ids) => to_wire(ids),
        Err(reason) => Message::Reject { reason },
    }
}
