//! `PeerManagerActor`: the node's view of the network. Accepts inbound sockets within the
//! connection limit, dials known addresses to keep a target number of outbound peers
//! (with exponential backoff per address), keeps a bounded address table fed by gossip,
//! relays blocks and transactions to every peer but their source (each hash once),
//! picks one peer at a time to sync from, and bans misbehaving peers for a while.
//!
//! Bans are per IP address, except on loopback: every node of a one-laptop network shares
//! 127.0.0.1, so there a ban covers one socket address and one bad local process cannot
//! cut the whole network apart.
//!
//! For simulations (SPEC §7) it also holds the injected network conditions: the delay of
//! each peer's link (handed to the peer's `ConnectionActor`, see [`super::netsim`]) and the
//! peers cut off by a partition, whose connections it closes and refuses until healed.

use super::chain_actor::{ChainActor, SetSyncing};
use super::connection::{ConnectionActor, ConnectionSettings, Disconnect, Send, StartSync};
use super::netsim::{LinkDelay, LinkTable};
use super::PeerId;
use crate::consensus::block::Block;
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::target::Work;
use crate::consensus::transaction::Transaction;
use crate::net::message::{Message, PeerHello, PeerInfo, MAX_ADDRS_PER_REPLY};
use actix::prelude::*;
use log::{debug, info, warn};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Misbehaviour score at which a peer is disconnected and banned.
pub const BAN_THRESHOLD: u32 = 100;
/// How long a ban lasts.
pub const BAN_DURATION: Duration = Duration::from_secs(600);
/// Most addresses remembered.
const MAX_KNOWN_ADDRS: usize = 1_000;
/// Hashes remembered for relay deduplication.
const RELAY_MEMORY: usize = 10_000;
const MAINTENANCE_INTERVAL: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Connection limits and identity.
#[derive(Clone, Debug)]
pub struct PeerSettings {
    pub listen_port: u16,
    pub node_id: u64,
    pub max_inbound: usize,
    pub max_outbound: usize,
    /// Addresses to dial at start (and keep dialing with backoff).
    pub seeds: Vec<SocketAddr>,
    /// Whether to dial addresses learned from gossip, or only seeds and [`AddPeer`]s.
    /// Launches turn it off so the network keeps the topology their config describes.
    pub dial_learned: bool,
}

/// Where an address stands.
#[derive(Debug)]
struct KnownAddr {
    failures: u32,
    next_attempt: Instant,
    /// A seed or an explicitly added peer, as opposed to one learned from gossip.
    seed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum BanKey {
    Ip(IpAddr),
    Socket(SocketAddr),
}

fn ban_key(addr: SocketAddr) -> BanKey {
    if addr.ip().is_loopback() {
        BanKey::Socket(addr)
    } else {
        BanKey::Ip(addr.ip())
    }
}

#[derive(Debug)]
struct Conn {
    actor: Addr<ConnectionActor>,
    remote: SocketAddr,
    /// The address we dialed (outbound only).
    dialed: Option<SocketAddr>,
    inbound: bool,
    peer: Option<PeerState>,
    score: u32,
}

#[derive(Debug, Clone)]
struct PeerState {
    node_id: u64,
    listen: SocketAddr,
    best_height: u64,
    work: Work,
}

/// Remembers recent hashes, forgetting the oldest.
#[derive(Default)]
struct RecentSet<T: std::hash::Hash + Eq + Copy> {
    set: HashSet<T>,
    order: VecDeque<T>,
}

impl<T: std::hash::Hash + Eq + Copy> RecentSet<T> {
    /// Whether `item` is new (and remembers it).
    fn insert(&mut self, item: T) -> bool {
        if !self.set.insert(item) {
            return false;
        }
        self.order.push_back(item);
        if self.order.len() > RELAY_MEMORY {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// The peer manager.
pub struct PeerManagerActor {
    chain: Addr<ChainActor>,
    settings: PeerSettings,
    connection: ConnectionSettings,
    conns: HashMap<PeerId, Conn>,
    next_id: PeerId,
    addrs: HashMap<SocketAddr, KnownAddr>,
    self_addrs: HashSet<SocketAddr>,
    dialing: HashSet<SocketAddr>,
    bans: HashMap<BanKey, Instant>,
    relayed_blocks: RecentSet<BlockHash>,
    relayed_txs: RecentSet<TxId>,
    our_work: Work,
    syncing: Option<PeerId>,
    /// Simulated delays of links to peers, by their listening address.
    links: LinkTable,
    /// Listening addresses cut off by a simulated partition.
    blocked: HashSet<SocketAddr>,
}

impl PeerManagerActor {
    pub fn new(
        chain: Addr<ChainActor>,
        settings: PeerSettings,
        connection: ConnectionSettings,
    ) -> Self {
        let now = Instant::now();
        let addrs = settings
            .seeds
            .iter()
            .map(|addr| {
                (
                    *addr,
                    KnownAddr {
                        failures: 0,
                        next_attempt: now,
                        seed: true,
                    },
                )
            })
            .collect();
        PeerManagerActor {
            chain,
            settings,
            conns: HashMap::new(),
            next_id: 1,
            addrs,
            self_addrs: HashSet::new(),
            dialing: HashSet::new(),
            bans: HashMap::new(),
            relayed_blocks: RecentSet::default(),
            relayed_txs: RecentSet::default(),
            our_work: Work::ZERO,
            syncing: None,
            links: LinkTable {
                default: connection.link,
                ..LinkTable::default()
            },
            blocked: HashSet::new(),
            connection,
        }
    }

    fn is_banned(&mut self, addr: SocketAddr) -> bool {
        let key = ban_key(addr);
        match self.bans.get(&key) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                self.bans.remove(&key);
                false
            }
            None => false,
        }
    }

    fn outbound_count(&self) -> usize {
        self.conns.values().filter(|conn| !conn.inbound).count() + self.dialing.len()
    }

    fn connected_to(&self, addr: &SocketAddr) -> bool {
        self.conns.values().any(|conn| {
            conn.dialed.as_ref() == Some(addr)
                || conn.peer.as_ref().map(|peer| &peer.listen) == Some(addr)
        })
    }

    fn start_connection(
        &mut self,
        stream: TcpStream,
        remote: SocketAddr,
        dialed: Option<SocketAddr>,
        ctx: &mut Context<Self>,
    ) {
        let id = self.next_id;
        self.next_id += 1;
        let mut settings = self.connection.clone();
        // An inbound peer's link is known once its hello names its listening port.
        settings.link = dialed.map_or(self.links.default, |addr| self.links.get(&addr));
        let actor = ConnectionActor::start_on(
            stream,
            id,
            remote,
            dialed.is_none(),
            self.chain.clone(),
            ctx.address(),
            settings,
        );
        self.conns.insert(
            id,
            Conn {
                actor,
                remote,
                dialed,
                inbound: dialed.is_none(),
                peer: None,
                score: 0,
            },
        );
    }

    fn maintain(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        self.bans.retain(|_, until| *until > now);
        let wanted = self
            .settings
            .max_outbound
            .saturating_sub(self.outbound_count());
        let candidates: Vec<SocketAddr> = self
            .addrs
            .iter()
            .filter(|(addr, known)| {
                known.next_attempt <= now
                    && (known.seed || self.settings.dial_learned)
                    && !self.self_addrs.contains(*addr)
                    && !self.dialing.contains(*addr)
                    && !self.blocked.contains(*addr)
            })
            .map(|(addr, _)| *addr)
            .collect();
        let mut started = 0;
        for addr in candidates {
            if started >= wanted {
                break;
            }
            if self.connected_to(&addr) || self.is_banned(addr) {
                continue;
            }
            started += 1;
            self.dial(addr, ctx);
        }
        self.choose_sync_peer();
    }

    fn dial(&mut self, addr: SocketAddr, ctx: &mut Context<Self>) {
        self.dialing.insert(addr);
        debug!("dialing {addr}");
        let timeout = Duration::from_secs(5);
        let connect = async move { tokio::time::timeout(timeout, TcpStream::connect(addr)).await };
        ctx.spawn(connect.into_actor(self).map(move |result, actor, ctx| {
            actor.dialing.remove(&addr);
            match result {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    actor.start_connection(stream, addr, Some(addr), ctx);
                }
                Ok(Err(error)) => actor.dial_failed(addr, &error.to_string()),
                Err(_) => actor.dial_failed(addr, "timed out"),
            }
        }));
    }

    /// Backs off from `addr`: it could not be reached, or closed before the handshake
    /// completed (a peer of another network, say). Only a completed handshake resets the
    /// backoff, so such a peer is not redialed at once, forever.
    fn dial_failed(&mut self, addr: SocketAddr, reason: &str) {
        if let Some(known) = self.addrs.get_mut(&addr) {
            known.failures = known.failures.saturating_add(1);
            let backoff = Duration::from_secs(1 << known.failures.min(6)).min(MAX_BACKOFF);
            known.next_attempt = Instant::now() + backoff;
            // The peers the user named are worth a line; gossiped addresses are not.
            let level = if known.seed {
                log::Level::Info
            } else {
                log::Level::Debug
            };
            log::log!(
                level,
                "cannot connect to {addr}: {reason}; retrying in {} s",
                backoff.as_secs()
            );
        }
    }

    fn learn(&mut self, addr: SocketAddr) {
        if self.addrs.len() >= MAX_KNOWN_ADDRS
            || addr.port() == 0
            || self.self_addrs.contains(&addr)
        {
            return;
        }
        self.addrs.entry(addr).or_insert(KnownAddr {
            failures: 0,
            next_attempt: Instant::now(),
            seed: false,
        });
    }

    /// Starts a sync from the peer with the most work above ours, if none is running.
    fn choose_sync_peer(&mut self) {
        if self.syncing.is_some_and(|id| self.conns.contains_key(&id)) {
            return;
        }
        self.set_syncing(None);
        let best = self
            .conns
            .iter()
            .filter_map(|(id, conn)| conn.peer.as_ref().map(|peer| (*id, peer.work)))
            .filter(|(_, work)| *work > self.our_work)
            .max_by_key(|(_, work)| *work);
        if let Some((id, _)) = best {
            if let Some(conn) = self.conns.get(&id) {
                conn.actor.do_send(StartSync);
                self.set_syncing(Some(id));
            }
        }
    }
}

impl PeerManagerActor {
    fn set_syncing(&mut self, peer: Option<PeerId>) {
        if self.syncing.is_some() != peer.is_some() {
            self.chain.do_send(SetSyncing(peer.is_some()));
        }
        self.syncing = peer;
    }
}

impl Actor for PeerManagerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        self.maintain(ctx);
        ctx.run_interval(MAINTENANCE_INTERVAL, |actor, ctx| actor.maintain(ctx));
    }
}

/// An accepted inbound socket.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Inbound {
    pub stream: TcpStream,
    pub remote: SocketAddr,
}

impl Handler<Inbound> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: Inbound, ctx: &mut Self::Context) {
        if self.is_banned(message.remote) {
            debug!("refusing banned {}", message.remote);
            return;
        }
        let inbound = self.conns.values().filter(|conn| conn.inbound).count();
        if inbound >= self.settings.max_inbound {
            info!(
                "refusing {}: {inbound} inbound connections already",
                message.remote
            );
            return;
        }
        let _ = message.stream.set_nodelay(true);
        self.start_connection(message.stream, message.remote, None, ctx);
    }
}

/// A peer completed its hello. The reply is the delay of its link, or a reason to refuse
/// it.
#[derive(Message)]
#[rtype(result = "Result<LinkDelay, String>")]
pub struct PeerReady {
    pub id: PeerId,
    pub hello: PeerHello,
}

impl Handler<PeerReady> for PeerManagerActor {
    type Result = Result<LinkDelay, String>;

    fn handle(&mut self, message: PeerReady, _: &mut Self::Context) -> Self::Result {
        let hello = message.hello;
        let Some(conn) = self.conns.get(&message.id) else {
            return Err("connection already closed".into());
        };
        let listen = SocketAddr::new(conn.remote.ip(), hello.listen_port);
        if hello.node_id == self.settings.node_id {
            if let Some(dialed) = conn.dialed {
                self.self_addrs.insert(dialed);
                self.addrs.remove(&dialed);
            }
            return Err("connected to myself".into());
        }
        let duplicate = self.conns.iter().any(|(id, other)| {
            *id != message.id
                && other
                    .peer
                    .as_ref()
                    .is_some_and(|peer| peer.node_id == hello.node_id)
        });
        if duplicate {
            return Err("already connected to this node".into());
        }
        if self.blocked.contains(&listen) {
            return Err("link cut by a simulated partition".into());
        }
        let inbound = conn.inbound;
        if let Some(known) = conn.dialed.and_then(|addr| self.addrs.get_mut(&addr)) {
            known.failures = 0;
        }
        if let Some(conn) = self.conns.get_mut(&message.id) {
            conn.peer = Some(PeerState {
                node_id: hello.node_id,
                listen,
                best_height: hello.best_height,
                work: hello.work,
            });
        }
        info!(
            "peer joined: {listen} ({}, height {})",
            if inbound { "inbound" } else { "outbound" },
            hello.best_height
        );
        self.learn(listen);
        self.choose_sync_peer();
        Ok(self.links.get(&listen))
    }
}

/// A connection closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Closed {
    pub id: PeerId,
}

impl Handler<Closed> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: Closed, _: &mut Self::Context) {
        if let Some(conn) = self.conns.remove(&message.id) {
            match (conn.peer, conn.dialed) {
                (Some(peer), _) => info!("peer left: {}", peer.listen),
                (None, Some(dialed)) => {
                    self.dial_failed(dialed, "closed before the handshake completed")
                }
                (None, None) => {}
            }
        }
        if self.syncing == Some(message.id) {
            self.set_syncing(None);
            self.choose_sync_peer();
        }
    }
}

/// A connection's sync finished (caught up, or gave up).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SyncDone {
    pub id: PeerId,
}

impl Handler<SyncDone> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: SyncDone, _: &mut Self::Context) {
        if self.syncing == Some(message.id) {
            self.set_syncing(None);
        }
    }
}

/// A peer broke a rule; `score` is added to its misbehaviour score.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Misbehaved {
    pub id: PeerId,
    pub score: u32,
    pub reason: String,
}

impl Handler<Misbehaved> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: Misbehaved, _: &mut Self::Context) {
        let Some(conn) = self.conns.get_mut(&message.id) else {
            return;
        };
        if conn.score >= BAN_THRESHOLD {
            // Already banned and closing: the rest of a burst of bad frames adds nothing.
            return;
        }
        conn.score = conn.score.saturating_add(message.score);
        warn!(
            "{} misbehaved (+{} = {}): {}",
            conn.remote, message.score, conn.score, message.reason
        );
        if conn.score >= BAN_THRESHOLD {
            let remote = conn.remote;
            conn.actor.do_send(Disconnect {
                reason: format!("banned: {}", message.reason),
            });
            self.bans
                .insert(ban_key(remote), Instant::now() + BAN_DURATION);
            if let Some(dialed) = conn.dialed {
                self.bans
                    .insert(ban_key(dialed), Instant::now() + BAN_DURATION);
            }
            warn!("banned {remote} for {} s", BAN_DURATION.as_secs());
        }
    }
}

/// A peer told us its best chain (pong, or a block it relayed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct PeerTip {
    pub id: PeerId,
    pub best_height: u64,
    pub work: Work,
}

impl Handler<PeerTip> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: PeerTip, _: &mut Self::Context) {
        if let Some(peer) = self
            .conns
            .get_mut(&message.id)
            .and_then(|conn| conn.peer.as_mut())
        {
            peer.best_height = message.best_height;
            peer.work = message.work;
        }
        self.choose_sync_peer();
    }
}

/// Our tip moved.
#[derive(Message)]
#[rtype(result = "()")]
pub struct TipChanged {
    pub height: u64,
    pub work: Work,
}

impl Handler<TipChanged> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: TipChanged, _: &mut Self::Context) {
        self.our_work = message.work;
    }
}

/// Send a block to every peer but `except`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RelayBlock {
    pub block: Block,
    pub except: Option<PeerId>,
}

impl Handler<RelayBlock> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: RelayBlock, _: &mut Self::Context) {
        if !self.relayed_blocks.insert(message.block.hash()) {
            return;
        }
        for (id, conn) in &self.conns {
            if conn.peer.is_some() && Some(*id) != message.except {
                conn.actor
                    .do_send(Send(Message::NewBlock(message.block.clone())));
            }
        }
    }
}

/// Send a mempool-accepted transaction to every peer but `except`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RelayTx {
    pub tx: Transaction,
    pub except: Option<PeerId>,
}

impl Handler<RelayTx> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: RelayTx, _: &mut Self::Context) {
        if !self.relayed_txs.insert(message.tx.id()) {
            return;
        }
        for (id, conn) in &self.conns {
            if conn.peer.is_some() && Some(*id) != message.except {
                conn.actor.do_send(Send(Message::NewTx(message.tx.clone())));
            }
        }
    }
}

/// Addresses learned from a peer's gossip.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LearnAddrs(pub Vec<SocketAddr>);

impl Handler<LearnAddrs> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: LearnAddrs, _: &mut Self::Context) {
        for addr in message.0.into_iter().take(MAX_ADDRS_PER_REPLY) {
            self.learn(addr);
        }
    }
}

/// Addresses to gossip: connected peers' listening addresses first, then known ones.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct GetAddrs;

impl Handler<GetAddrs> for PeerManagerActor {
    type Result = MessageResult<GetAddrs>;

    fn handle(&mut self, _: GetAddrs, _: &mut Self::Context) -> Self::Result {
        let mut addrs: Vec<String> = self
            .conns
            .values()
            .filter_map(|conn| conn.peer.as_ref().map(|peer| peer.listen.to_string()))
            .collect();
        for (addr, known) in &self.addrs {
            if addrs.len() >= MAX_ADDRS_PER_REPLY {
                break;
            }
            let text = addr.to_string();
            if known.failures == 0 && !addrs.contains(&text) {
                addrs.push(text);
            }
        }
        addrs.truncate(MAX_ADDRS_PER_REPLY);
        MessageResult(addrs)
    }
}

/// The connected peers, for clients and tests.
#[derive(Message)]
#[rtype(result = "Vec<PeerInfo>")]
pub struct GetPeers;

impl Handler<GetPeers> for PeerManagerActor {
    type Result = MessageResult<GetPeers>;

    fn handle(&mut self, _: GetPeers, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.conns
                .values()
                .filter_map(|conn| {
                    conn.peer.as_ref().map(|peer| PeerInfo {
                        addr: peer.listen.to_string(),
                        inbound: conn.inbound,
                        best_height: peer.best_height,
                    })
                })
                .collect(),
        )
    }
}

/// Dial `addr` now and keep it in the address table.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AddPeer(pub SocketAddr);

impl Handler<AddPeer> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: AddPeer, ctx: &mut Self::Context) {
        self.learn(message.0);
        if let Some(known) = self.addrs.get_mut(&message.0) {
            known.seed = true;
        }
        if !self.connected_to(&message.0)
            && !self.dialing.contains(&message.0)
            && !self.blocked.contains(&message.0)
        {
            self.dial(message.0, ctx);
        }
    }
}

/// The simulated delays of links to peers, by listening address (launches). Applies to
/// connections made from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetLinks(pub LinkTable);

impl Handler<SetLinks> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: SetLinks, _: &mut Self::Context) {
        self.links = message.0;
    }
}

/// A simulated partition: close connections to these listening addresses and refuse them
/// until the next `SetBlocked` (an empty set heals). Seeds and added peers among them are
/// dialed again by the regular maintenance once healed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetBlocked(pub HashSet<SocketAddr>);

impl Handler<SetBlocked> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: SetBlocked, ctx: &mut Self::Context) {
        self.blocked = message.0;
        for conn in self.conns.values() {
            let listen = conn.peer.as_ref().map(|peer| peer.listen);
            if conn
                .dialed
                .iter()
                .chain(listen.iter())
                .any(|addr| self.blocked.contains(addr))
            {
                conn.actor.do_send(Disconnect {
                    reason: "link cut by a simulated partition".into(),
                });
            }
        }
        let now = Instant::now();
        for known in self.addrs.values_mut() {
            // Healed links come back at once rather than after a backoff.
            known.next_attempt = known.next_attempt.min(now);
        }
        self.maintain(ctx);
    }
}

/// Whether `addr` is banned now (for tests and operators).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct IsBanned(pub SocketAddr);

impl Handler<IsBanned> for PeerManagerActor {
    type Result = bool;

    fn handle(&mut self, message: IsBanned, _: &mut Self::Context) -> bool {
        self.is_banned(message.0)
    }
}

/// Closes every connection and stops.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopNetwork;

impl Handler<StopNetwork> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, _: StopNetwork, ctx: &mut Self::Context) {
        for conn in self.conns.values() {
            conn.actor.do_send(Disconnect {
                reason: "node shutting down".into(),
            });
        }
        ctx.stop();
    }
}
