//! `ConnectionActor`: exactly one per TCP socket, peer or client. Frames the byte stream,
//! runs the handshake, enforces per-connection limits, translates wire messages into
//! actor messages and back, and keeps the link alive with ping/pong and an idle timeout.
//!
//! Misbehaviour (bad frames, invalid blocks, invalid transactions from peers) is answered
//! with a reason where a reply is possible and reported to the `PeerManagerActor`, which
//! bans past a threshold. Nothing here can make the node panic.
//!
//! In simulations, what the connection sends waits out the link's delay in a
//! [`DelayLine`] and a timer writes it when due (see [`super::netsim`]).

use super::chain_actor::{
    ChainActor, ChainSummary, CheckTx, GetAccount, GetBlock, GetBlocksAfter, GetPending,
    GetSummary, GetTip, GetTx, Origin, SubmitBlocks, SubmitOutcome, SubmitTx,
};
use super::netsim::{DelayLine, LinkDelay, Pushed};
use super::peer_manager::{
    Closed, GetAddrs, GetPeers, LearnAddrs, Misbehaved, PeerManagerActor, PeerReady, PeerTip,
    SyncDone,
};
use super::tx_verifier::{TxVerifierActor, VerifyTx};
use super::PeerId;
use crate::consensus::block::Block;
use crate::consensus::error::TxError;
use crate::consensus::hash::BlockHash;
use crate::consensus::transaction::Transaction;
use crate::net::frame::{Decoded, FrameCodec, FrameError};
use crate::net::message::{Message, PeerHello, MAX_LOCATOR, PROTOCOL_VERSION};
use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use log::{debug, info, warn};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio_util::codec::FramedRead;

const PING_INTERVAL: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(45);
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Most pending transactions handed to a peer when it connects.
const MAX_PENDING_SHARED: usize = 1000;

/// Misbehaviour scores (the ban threshold is 100).
const SCORE_MALFORMED_FRAME: u32 = 25;
const SCORE_PROTOCOL_VIOLATION: u32 = 20;
const SCORE_INVALID_TX: u32 = 20;
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

/// Download the peer's blocks after our locator.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StartSync;

/// One socket.
pub struct ConnectionActor {
    id: PeerId,
    remote: SocketAddr,
    inbound: bool,
    chain: Addr<ChainActor>,
    peers: Addr<PeerManagerActor>,
    settings: ConnectionSettings,
    writer: FramedWrite<Message, OwnedWriteHalf, FrameCodec>,
    /// Outgoing messages waiting out the link's delay.
    outbox: DelayLine<Message>,
    role: Role,
    hello_sent: bool,
    last_received: Instant,
    peer_height: u64,
    syncing: bool,
    /// The locator of our last `GetBlocks` built from our own chain; a request sent ahead
    /// puts the last block received in front of it.
    last_locator: Vec<BlockHash>,
    /// Set once the connection is closing: input is ignored while the reason flushes.
    closing: bool,
}

impl ConnectionActor {
    /// Starts the actor for `stream` in the current arbiter.
    pub fn start_on(
        stream: TcpStream,
        id: PeerId,
        remote: SocketAddr,
        inbound: bool,
        chain: Addr<ChainActor>,
        peers: Addr<PeerManagerActor>,
        settings: ConnectionSettings,
    ) -> Addr<Self> {
        let (read, write) = stream.into_split();
        let codec = FrameCodec::for_network(settings.max_block_txs);
        let outbox = DelayLine::new(settings.link);
        ConnectionActor::create(move |ctx| {
            ctx.add_stream(FramedRead::new(read, codec));
            ConnectionActor {
                id,
                remote,
                inbound,
                chain,
                peers,
                settings,
                writer: FramedWrite::new(write, codec, ctx),
                outbox,
                role: Role::AwaitingHello,
                hello_sent: false,
                last_received: Instant::now(),
                peer_height: 0,
                syncing: false,
                last_locator: Vec::new(),
                closing: false,
            }
        })
    }

    fn send(&mut self, message: Message, ctx: &mut Context<Self>) {
        let now = Instant::now();
        match self.outbox.push(now, message) {
            Pushed::Now(message) => self.writer.write(message),
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
        let now = Instant::now();
        let (due, next) = self.outbox.pop_due(now);
        if self.closing {
            // The close reason went out already; the rest would follow it into a closed
            // writer.
            return;
        }
        for message in due {
            self.writer.write(message);
        }
        if let Some(next) = next {
            ctx.run_later(next.saturating_duration_since(now), |actor, ctx| {
                actor.flush_outbox(ctx)
            });
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
        self.writer.write(Message::Reject { reason });
        self.writer.close();
        ctx.run_later(CLOSE_GRACE, |_, ctx| ctx.stop());
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
            info!("refusing peer {}: {reason}", self.remote);
            return self.reject_and_close(reason, ctx);
        }
        if hello.genesis != self.settings.genesis {
            let reason = format!(
                "genesis {} is not ours ({}): another network",
                hello.genesis.short(),
                self.settings.genesis.short()
            );
            info!("refusing peer {}: {reason}", self.remote);
            return self.reject_and_close(reason, ctx);
        }
        // Answer with our own hello (if not sent yet) strictly before anything that follows
        // the peer manager's decision, such as our address request.
        let summary = (!self.hello_sent).then(|| self.chain.send(GetSummary));
        self.hello_sent = true;
        self.peer_height = hello.best_height;
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

    fn on_blocks(&mut self, blocks: Vec<Block>, more: bool, ctx: &mut Context<Self>) {
        let count = blocks.len();
        let requested_ahead = self.request_ahead(&blocks, more, ctx);
        let request = self.chain.send(SubmitBlocks {
            blocks,
            origin: Origin::Sync(self.id),
        });
        ctx.wait(
            request
                .into_actor(self)
                .then(|outcome, actor, _| {
                    let summary = actor.chain.send(GetSummary);
                    summary
                        .into_actor(actor)
                        .map(move |summary, _, _| (outcome, summary))
                })
                .map(move |(outcome, summary), actor, ctx| {
                    let Ok(outcome) = outcome else { return };
                    if actor.judge_blocks(&outcome, ctx) {
                        return;
                    }
                    let height = summary.map_or(0, |summary| summary.tip.height);
                    if more && outcome.stored > 0 {
                        info!(
                            "sync: height {height} of {} from {} ({count} blocks in batch)",
                            actor.peer_height.max(height),
                            actor.remote
                        );
                        if !requested_ahead {
                            actor.request_blocks(ctx);
                        }
                    } else {
                        if actor.syncing {
                            info!("sync: caught up with {} at height {height}", actor.remote);
                        }
                        actor.syncing = false;
                        actor.peers.do_send(SyncDone { id: actor.id });
                    }
                }),
        );
    }

    /// Admits a transaction from a client or a peer in three steps: the chain actor's cheap
    /// checks, the signature by the [`TxVerifierActor`] (in a batch with whatever arrived
    /// at the same time, on the blocking pool, not on the chain actor's one thread), then
    /// admission. One transaction at a
    /// time per connection, so that a sender's transactions keep their nonce order.
    fn on_tx(&mut self, tx: Transaction, from_peer: bool, ctx: &mut Context<Self>) {
        let chain = self.chain.clone();
        let verifier = self.settings.verifier.clone();
        let origin = from_peer.then_some(self.id);
        let admit = async move {
            let tx = chain.send(CheckTx(tx)).await??;
            let verified = verifier
                .send(VerifyTx(tx))
                .await?
                .ok_or(NotAdmitted::NodeStopping)??;
            Ok::<_, NotAdmitted>(
                chain
                    .send(SubmitTx {
                        tx: verified,
                        origin,
                    })
                    .await??,
            )
        };
        ctx.wait(
            admit
                .into_actor(self)
                .map(move |result, actor, ctx| match result {
                    Ok(txid) if !from_peer => {
                        debug!(
                            "transaction {} from {} accepted",
                            txid.short(),
                            actor.remote
                        );
                        actor.send(Message::TxAccepted(txid), ctx)
                    }
                    Err(NotAdmitted::Refused(reason)) if !from_peer => {
                        info!("transaction from {} refused: {reason}", actor.remote);
                        actor.send(
                            Message::TxRejected {
                                reason: reason.to_string(),
                            },
                            ctx,
                        );
                        // A client's wallet signs correctly: one that does not costs the
                        // node signature checks, as an invalid relay would.
                        if is_stateless(&reason) {
                            actor.misbehaved(
                                SCORE_INVALID_TX,
                                format!("invalid transaction: {reason}"),
                            );
                        }
                    }
                    Err(NotAdmitted::Refused(reason)) if is_stateless(&reason) => {
                        actor.misbehaved(SCORE_INVALID_TX, format!("invalid transaction: {reason}"))
                    }
                    _ => {}
                }),
        );
    }

    /// Sends the wire form of a chain actor's typed answer once it arrives. A request the
    /// actor cannot answer (it stopped: the node is shutting down) gets no reply.
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
        ctx.spawn(
            self.chain
                .send(request)
                .into_actor(self)
                .map(|reply, actor, ctx| {
                    if let Ok(reply) = reply {
                        actor.send(to_wire(reply), ctx);
                    }
                }),
        );
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
        if outcome.missing.is_some() {
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
                self.role = Role::Client;
                debug!("client connected from {}", self.remote);
                self.send(
                    Message::Welcome {
                        version: PROTOCOL_VERSION,
                        genesis: self.settings.genesis,
                    },
                    ctx,
                );
            }
            (Role::AwaitingHello, Message::Reject { reason }) => {
                // The peer refused us before the handshake (another network, say): its
                // reason is the useful part, and it broke no rule by telling us.
                warn!("{} refused the connection: {reason}", self.remote);
                ctx.stop();
            }
            (Role::AwaitingHello, other) => {
                self.misbehaved(
                    SCORE_PROTOCOL_VIOLATION,
                    format!("{} before hello", name(&other)),
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
                },
                ctx,
            ),
            (_, Message::GetBlock(reference)) => {
                self.answer(GetBlock(reference), Message::BlockReply, ctx)
            }
            (_, Message::GetTx(txid)) => self.answer(
                GetTx(txid),
                |status| Message::TxReply(Box::new(status)),
                ctx,
            ),
            (_, Message::GetBlocks { locator }) => {
                let request = self.chain.send(GetBlocksAfter { locator });
                ctx.spawn(request.into_actor(self).map(|batch, actor, ctx| {
                    // No batch when the store could not be read: that is logged, and the
                    // peer's sync times out and retries elsewhere.
                    if let Ok(Some(batch)) = batch {
                        let (blocks, more) = (batch.blocks, batch.more);
                        actor.send(Message::Blocks { blocks, more }, ctx);
                    }
                }));
            }
            (_, Message::GetPeers) => {
                ctx.spawn(
                    self.peers
                        .send(GetPeers)
                        .into_actor(self)
                        .map(|peers, actor, ctx| {
                            actor.send(Message::Peers(peers.unwrap_or_default()), ctx);
                        }),
                );
            }
            (_, Message::GetAddrs) => {
                ctx.spawn(
                    self.peers
                        .send(GetAddrs)
                        .into_actor(self)
                        .map(|addrs, actor, ctx| {
                            actor.send(Message::Addrs(addrs.unwrap_or_default()), ctx);
                        }),
                );
            }
            (_, Message::Ping { nonce }) => {
                ctx.spawn(self.chain.send(GetSummary).into_actor(self).map(
                    move |summary, actor, ctx| {
                        if let Ok(summary) = summary {
                            actor.send(
                                Message::Pong {
                                    nonce,
                                    best_height: summary.tip.height,
                                    work: summary.tip.work,
                                },
                                ctx,
                            );
                        }
                    },
                ));
            }
            (role, Message::SubmitTx(tx)) | (role @ Role::Peer, Message::NewTx(tx)) => {
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
                        actor.judge_blocks(&outcome, ctx);
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
                    best_height, work, ..
                },
            ) => {
                self.peer_height = best_height;
                self.peers.do_send(PeerTip {
                    id: self.id,
                    best_height,
                    work,
                });
            }
            (_, Message::Reject { reason }) => {
                info!("{} sent a rejection: {reason}", self.remote)
            }
            (role, other) => {
                let reason = format!("{} is not a valid request from a {role:?}", name(&other));
                self.send(
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

/// Why a transaction did not get into the mempool.
enum NotAdmitted {
    Refused(TxError),
    /// The chain actor or the blocking pool is gone: the node is shutting down.
    NodeStopping,
}

impl From<TxError> for NotAdmitted {
    fn from(error: TxError) -> Self {
        NotAdmitted::Refused(error)
    }
}

impl From<MailboxError> for NotAdmitted {
    fn from(_: MailboxError) -> Self {
        NotAdmitted::NodeStopping
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

/// A message's kind, for reasons and logs.
fn name(message: &Message) -> String {
    let debug = format!("{message:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("message")
        .to_string()
}

impl Actor for ConnectionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if !self.inbound {
            self.send_hello(ctx);
        }
        ctx.run_later(HELLO_TIMEOUT, |actor, ctx| {
            if actor.role == Role::AwaitingHello {
                actor.reject_and_close("no hello in time".into(), ctx);
            }
        });
        ctx.run_interval(PING_INTERVAL, |actor, ctx| {
            if actor.last_received.elapsed() > IDLE_TIMEOUT {
                info!(
                    "{} idle for {} s, disconnecting",
                    actor.remote,
                    IDLE_TIMEOUT.as_secs()
                );
                ctx.stop();
            } else if actor.role == Role::Peer {
                actor.send(
                    Message::Ping {
                        nonce: rand::random(),
                    },
                    ctx,
                );
            }
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.peers.do_send(Closed { id: self.id });
    }
}

impl StreamHandler<Result<Decoded, FrameError>> for ConnectionActor {
    fn handle(&mut self, item: Result<Decoded, FrameError>, ctx: &mut Self::Context) {
        if self.closing {
            return;
        }
        self.last_received = Instant::now();
        match item {
            Ok(Decoded::Message(message)) => self.on_message(*message, ctx),
            Ok(Decoded::Malformed(reason)) => {
                self.send(
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
                ctx.stop();
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        // While closing, the writer decides when to stop, so the reason gets out.
        if !self.closing {
            ctx.stop();
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

impl Handler<Disconnect> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, message: Disconnect, ctx: &mut Self::Context) {
        self.reject_and_close(message.reason, ctx);
    }
}

impl Handler<StartSync> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, _: StartSync, ctx: &mut Self::Context) {
        if !self.syncing {
            self.syncing = true;
            info!(
                "sync: downloading from {} (its height {})",
                self.remote, self.peer_height
            );
            self.request_blocks(ctx);
        }
    }
}
