//! `PeerManagerActor`: the node's view of the network, and only the actor wiring of it.
//! It accepts inbound sockets, dials known addresses to keep a target number of outbound
//! peers, relays blocks and transactions to every peer but their source (each hash once),
//! runs one sync at a time, and bans misbehaving hosts. The decisions themselves live in
//! plain structs with their own tests ([`super::policy`]): the address book, the ban
//! list (by IP), the eviction choice, the sync-peer choice and the log summaries.
//!
//! Inbound sockets are admitted in three pools, so that no flood can lock the door:
//! sockets still waiting for their hello (bounded in number and per IP; the oldest of the
//! largest address group gives way to a newcomer; closed at the handshake deadline),
//! handshaken peers (`max_inbound`, per-IP cap, Bitcoin Core-style eviction), and clients
//! (their own slots; the least recently active idle client gives way to a new one).
//!
//! For simulations (the book's Guide › Launching a network) it also holds the injected
//! network conditions: the delay of each peer's link (handed to the peer's
//! `ConnectionActor`, see [`super::netsim`]) and the peers cut off by a partition, whose
//! connections it closes and refuses until healed.

use super::chain_actor::{ChainActor, SetSyncing};
use super::clock::now;
use super::connection::{
    ConnectionActor, ConnectionSettings, Disconnect, Send, StartSync, SHUTDOWN_REASON,
};
use super::events::{EventHub, LiveEvent, Publish};
use super::limits::NetLimits;
use super::netsim::{LinkDelay, LinkTable};
use super::policy::address_book::{AddrEntry, AddressBook};
use super::policy::ban_list::{BanList, Verdict};
use super::policy::client_slots::{ClientAdmission, ClientSlot, ClientSlots};
use super::policy::dial_budget::DialBudget;
use super::policy::eviction::{self, Candidate};
use super::policy::log_summary::LogSummary;
use super::policy::net_group::NetGroup;
use super::policy::peer_text::peer_text;
use super::policy::recent_set::RecentSet;
use super::policy::sync_choice::{BatchReport, BatchVerdict, SyncTracker};
use super::transport::{Network, Transport};
use super::PeerId;
use crate::consensus::block::Block;
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::target::Work;
use crate::consensus::transaction::Transaction;
use crate::net::frame::encode_frame;
use crate::net::message::{Message, PeerHello, PeerInfo, MAX_ADDRS_PER_REPLY};
use actix::prelude::*;
use log::{debug, info};
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use super::policy::ban_list::{BAN_DURATION, BAN_THRESHOLD};

/// Hashes remembered for relay deduplication.
const RELAY_MEMORY: usize = 10_000;
/// How often the peer manager dials and expires bans, unless its settings say otherwise.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_millis(500);
/// Repeated log lines are summarised over this interval.
pub const LOG_SUMMARY_INTERVAL: Duration = Duration::from_secs(10);
/// A client idle at least this long gives its slot to a new client when slots are full.
const CLIENT_YIELD_IDLE: Duration = Duration::from_secs(1);
/// Misbehaviour score of a sync peer that claimed work it did not deliver: two such
/// failures ban it.
const SCORE_BROKEN_CLAIM: u32 = 50;

/// Connection limits and identity.
#[derive(Clone, Debug)]
pub struct PeerSettings {
    pub listen_port: u16,
    pub node_id: u64,
    /// A per-node secret ordering address groups for eviction's distinct-group protection.
    pub eviction_key: u64,
    pub max_inbound: usize,
    pub max_outbound: usize,
    /// Addresses to dial at start (and keep dialing with backoff).
    pub seeds: Vec<SocketAddr>,
    /// Whether to dial addresses learned from gossip, or only seeds and [`AddPeer`]s.
    /// Launches turn it off so the network keeps the topology their config describes.
    pub dial_learned: bool,
    /// The address outbound sockets are bound to (the node's own, when it listens on a
    /// specific one), so peers see the connection come from the host they would dial.
    pub bind_ip: Option<IpAddr>,
    pub limits: NetLimits,
    /// TCP, or a virtual-time launch's in-memory network.
    pub network: Network,
    /// How often to dial toward `max_outbound` and expire bans ([`MAINTENANCE_INTERVAL`]
    /// normally; a virtual launch of thousands of nodes ticks less often).
    pub maintenance_interval: Duration,
}

/// What a connection is, as far as admission goes.
#[derive(Debug, Clone)]
enum Kind {
    /// No valid hello yet.
    Pending,
    Peer(PeerState),
    Client {
        last_active: Instant,
    },
}

#[derive(Debug)]
struct Conn {
    actor: Addr<ConnectionActor>,
    remote: SocketAddr,
    /// The address we dialed (outbound only).
    dialed: Option<SocketAddr>,
    inbound: bool,
    kind: Kind,
    opened: Instant,
    /// Told to close (evicted, banned): no longer counted against any limit.
    closing: bool,
    min_ping: Option<Duration>,
    last_block: Option<Instant>,
    last_tx: Option<Instant>,
}

impl Conn {
    fn peer(&self) -> Option<&PeerState> {
        match &self.kind {
            Kind::Peer(peer) => Some(peer),
            _ => None,
        }
    }

    /// Counted against the inbound limits.
    fn counts_inbound(&self) -> bool {
        self.inbound && !self.closing
    }

    fn candidate(&self, id: PeerId) -> Candidate<PeerId> {
        Candidate {
            id,
            group: NetGroup::of(self.remote.ip()),
            connected_at: self.opened,
            min_ping: self.min_ping,
            last_block: self.last_block,
            last_tx: self.last_tx,
        }
    }
}

#[derive(Debug, Clone)]
struct PeerState {
    node_id: u64,
    listen: SocketAddr,
    best_height: u64,
    work: Work,
}

/// A wall-clock rendering of `until`, for "banned until" lines.
fn clock_time(until: Instant) -> String {
    let at = SystemTime::now() + until.saturating_duration_since(now());
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The peer manager.
pub struct PeerManagerActor {
    chain: Addr<ChainActor>,
    settings: PeerSettings,
    connection: ConnectionSettings,
    // Ordered: relays and dials go out in a reproducible order, so a virtual-time
    // launch gives the same run from the same seed.
    conns: BTreeMap<PeerId, Conn>,
    next_id: PeerId,
    book: AddressBook,
    self_addrs: HashSet<SocketAddr>,
    dialing: HashSet<SocketAddr>,
    bans: BanList,
    /// Failed dials of learned addresses in the last minute.
    dial_budget: DialBudget,
    relayed_blocks: RecentSet<BlockHash>,
    relayed_txs: RecentSet<TxId>,
    our_work: Work,
    our_height: u64,
    sync: SyncTracker<PeerId>,
    /// Whether the chain actor was told to pause mining for the sync.
    mining_paused: bool,
    logs: LogSummary,
    /// Simulated delays of links to peers, by their listening address.
    links: LinkTable,
    /// Listening addresses cut off by a simulated partition.
    blocked: HashSet<SocketAddr>,
    /// Where peers joining and leaving are published for watchers.
    live: Option<Addr<EventHub>>,
}

impl PeerManagerActor {
    pub fn new(
        chain: Addr<ChainActor>,
        settings: PeerSettings,
        connection: ConnectionSettings,
    ) -> Self {
        let now = now();
        let mut book = AddressBook::new(settings.limits.max_known_addrs);
        for seed in &settings.seeds {
            book.add_seed(*seed, now);
        }
        PeerManagerActor {
            live: None,
            chain,
            conns: BTreeMap::new(),
            next_id: 1,
            book,
            self_addrs: HashSet::new(),
            dialing: HashSet::new(),
            bans: BanList::default(),
            dial_budget: DialBudget::new(settings.limits.max_failed_dials_per_minute),
            relayed_blocks: RecentSet::new(RELAY_MEMORY),
            relayed_txs: RecentSet::new(RELAY_MEMORY),
            our_work: Work::ZERO,
            our_height: 0,
            sync: SyncTracker::new(settings.limits.sync_timeout),
            mining_paused: false,
            logs: LogSummary::new(LOG_SUMMARY_INTERVAL, now),
            links: LinkTable {
                default: connection.link,
                ..LinkTable::default()
            },
            blocked: HashSet::new(),
            settings,
            connection,
        }
    }

    /// Logs `detail` at `level` if it is the first `reason` of the summary interval;
    /// later ones are logged at debug only, counted by source and summarised by
    /// [`Self::flush_log_summary`].
    fn summarised(
        &mut self,
        level: log::Level,
        reason: &'static str,
        source: IpAddr,
        detail: impl FnOnce() -> String,
    ) {
        self.summarised_line(level, reason, source, || format!("{reason}: {}", detail()));
    }

    /// As [`Self::summarised`], with the whole line given.
    fn summarised_line(
        &mut self,
        level: log::Level,
        reason: &'static str,
        source: IpAddr,
        line: impl FnOnce() -> String,
    ) {
        if self.logs.note(reason, Some(source)) {
            log::log!(level, "{}", line());
        } else {
            debug!("{}", line());
        }
    }

    fn flush_log_summary(&mut self, now: Instant) {
        for line in self.logs.take_due(now) {
            info!("{line}");
        }
    }

    fn outbound_count(&self) -> usize {
        self.conns.values().filter(|conn| !conn.inbound).count() + self.dialing.len()
    }

    fn connected_to(&self, addr: &SocketAddr) -> bool {
        self.conns.values().any(|conn| {
            conn.dialed.as_ref() == Some(addr) || conn.peer().map(|peer| &peer.listen) == Some(addr)
        })
    }

    fn start_connection(
        &mut self,
        stream: Transport,
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
                kind: Kind::Pending,
                opened: now(),
                closing: false,
                min_ping: None,
                last_block: None,
                last_tx: None,
            },
        );
    }

    /// Tells a connection to close with `reason`; it stops counting against the limits.
    fn close(&mut self, id: PeerId, reason: String) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.closing = true;
            conn.actor.do_send(Disconnect { reason });
        }
    }

    fn maintain(&mut self, ctx: &mut Context<Self>) {
        let now = now();
        self.bans.expire(now);
        self.flush_log_summary(now);
        if let Some(peer) = self.sync.stalled(now) {
            self.sync.stop();
            let reason = format!(
                "sync: no new block for {} s while claiming more work than ours",
                self.settings.limits.sync_timeout.as_secs_f32()
            );
            self.penalise(peer, SCORE_BROKEN_CLAIM, &reason);
            self.close(peer, reason);
        }
        self.update_mining_pause(now);
        let wanted = self
            .settings
            .max_outbound
            .saturating_sub(self.outbound_count());
        let mut started = 0;
        // With every outbound slot taken, nothing is to be dialed: the book (up to a
        // thousand addresses) is not even read. In a virtual launch of thousands of nodes
        // reading it on every tick was a fifth of the run's time.
        let due = if wanted > 0 {
            self.book.due(now, self.settings.dial_learned)
        } else {
            Vec::new()
        };
        for addr in due {
            if started >= wanted {
                break;
            }
            if self.self_addrs.contains(&addr)
                || self.dialing.contains(&addr)
                || self.blocked.contains(&addr)
                || self.connected_to(&addr)
            {
                continue;
            }
            if let Some(until) = self.bans.banned_until(addr.ip(), now) {
                self.book.defer(&addr, until, "banned");
                continue;
            }
            if !self.is_seed(&addr) {
                let under_way = self.dialing.iter().filter(|a| !self.is_seed(a)).count();
                if !self.dial_budget.may_dial(under_way, now) {
                    continue;
                }
            }
            started += 1;
            self.dial(addr, ctx);
        }
        self.choose_sync_peer();
    }

    /// Whether the user named `addr` (`--peer`): dialed whatever the dial budget says.
    fn is_seed(&self, addr: &SocketAddr) -> bool {
        self.settings.seeds.contains(addr)
    }

    fn dial(&mut self, addr: SocketAddr, ctx: &mut Context<Self>) {
        if !self.settings.limits.only_net.allows(addr.ip()) {
            debug!(
                "not dialling {addr}: outside the networks dialed ({})",
                self.settings.limits.only_net
            );
            return;
        }
        self.dialing.insert(addr);
        debug!("dialing {addr}");
        let network = self.settings.network.clone();
        let bind_ip = self.settings.bind_ip;
        let connect = async move { network.dial(addr, bind_ip).await };
        ctx.spawn(connect.into_actor(self).map(move |result, actor, ctx| {
            actor.dialing.remove(&addr);
            match result {
                Ok(stream) => actor.start_connection(stream, addr, Some(addr), ctx),
                Err(reason) => actor.dial_failed(addr, &reason),
            }
        }));
    }

    /// Backs off from `addr`: it could not be reached, or the connection ended before the
    /// handshake completed (a peer of another network, say). Only a completed handshake
    /// resets the backoff, so such a peer is not redialed at once, forever.
    fn dial_failed(&mut self, addr: SocketAddr, reason: &str) {
        let now = now();
        if !self.is_seed(&addr) {
            self.dial_budget.failed(now);
        }
        if let Some(until) = self.bans.banned_until(addr.ip(), now) {
            self.book.defer(&addr, until, reason);
            info!(
                "not dialling {addr} again: banned until {}",
                clock_time(until)
            );
            return;
        }
        if let Some(backoff) = self.book.failed(&addr, reason, now) {
            // The peers the user named are worth a line; gossiped addresses are not.
            let level = if backoff.seed {
                log::Level::Info
            } else {
                log::Level::Debug
            };
            log::log!(
                level,
                "cannot connect to {addr}: {reason}; retrying in {} s",
                backoff.wait.as_secs()
            );
        }
    }

    /// Keeps `addr` in the address book, unless it is this node or outside the networks
    /// dialed (never dialed, so never gossiped either).
    fn learn(&mut self, addr: SocketAddr) {
        if !self.self_addrs.contains(&addr) && self.settings.limits.only_net.allows(addr.ip()) {
            self.book.learn(addr, now());
        }
    }

    /// Adds `points` to the host's misbehaviour score; at the threshold every connection
    /// from that host is closed and the host banned.
    fn penalise(&mut self, id: PeerId, points: u32, reason: &str) {
        if let Some(remote) = self.conns.get(&id).map(|conn| conn.remote) {
            self.penalise_host(remote.ip(), &remote.to_string(), Some(id), points, reason);
        }
    }

    /// [`Self::penalise`] by host: `remote` names the offender in the log (a peer's
    /// `IP:port`, or the explorer's client); `offender` is its connection, if it is one
    /// of ours (the explorer closes its own).
    fn penalise_host(
        &mut self,
        ip: IpAddr,
        remote: &str,
        offender: Option<PeerId>,
        points: u32,
        reason: &str,
    ) {
        // The reason may quote what the peer sent (a decoder's complaint, say).
        let reason = peer_text(reason);
        match self.bans.misbehaved(ip, points, now()) {
            // The rest of a burst of bad frames adds nothing.
            Verdict::AlreadyBanned => {}
            Verdict::Scored { total } => {
                self.summarised(log::Level::Warn, "peer misbehaved", ip, || {
                    format!("{remote} (+{points} = {total}): {reason}")
                });
            }
            Verdict::Disconnected => {
                self.summarised(log::Level::Warn, "local peer misbehaved", ip, || {
                    format!("{remote} disconnected, not banned (local host): {reason}")
                });
                if let Some(id) = offender {
                    self.close(id, format!("disconnected for misbehaviour: {reason}"));
                }
            }
            Verdict::Banned { until } => {
                let text = format!("banned until {}: {reason}", clock_time(until));
                self.summarised(log::Level::Warn, "banned", ip, || format!("{ip} {text}"));
                let from_host: Vec<PeerId> = self
                    .conns
                    .iter()
                    .filter(|(_, conn)| conn.remote.ip() == ip)
                    .map(|(id, _)| *id)
                    .collect();
                for id in from_host {
                    if let Some(dialed) = self.conns.get(&id).and_then(|conn| conn.dialed) {
                        self.book.defer(&dialed, until, "banned");
                    }
                    self.close(id, text.clone());
                }
            }
        }
    }

    /// Starts a sync from the peer claiming the most work above ours, if none is running.
    /// Mining is not paused yet: only blocks arriving do that.
    fn choose_sync_peer(&mut self) {
        if self
            .sync
            .peer()
            .is_some_and(|id| self.conns.contains_key(&id))
        {
            return;
        }
        self.sync.stop();
        let claims = self.conns.iter().filter_map(|(id, conn)| {
            (!conn.closing)
                .then_some(())
                .and(conn.peer())
                .map(|peer| (*id, peer.work))
        });
        if let Some(id) = SyncTracker::choose(claims, self.our_work) {
            if let Some(conn) = self.conns.get(&id) {
                conn.actor.do_send(StartSync {
                    our_height: self.our_height,
                });
                self.sync.start(id, now());
            }
        }
    }

    /// Pauses mining while the sync makes progress, and resumes it when it stalls or ends.
    fn update_mining_pause(&mut self, now: Instant) {
        let paused = self.sync.mining_paused(now);
        if paused != self.mining_paused {
            self.mining_paused = paused;
            self.chain.do_send(SetSyncing(paused));
        }
    }

    /// Makes room among un-handshaken sockets for one from `ip`: first within its own
    /// per-IP share, then overall.
    fn make_pending_room(&mut self, ip: IpAddr) {
        let pending: Vec<Candidate<PeerId>> = self
            .conns
            .iter()
            .filter(|(_, conn)| conn.counts_inbound() && matches!(conn.kind, Kind::Pending))
            .map(|(id, conn)| conn.candidate(*id))
            .collect();
        let limits = &self.settings.limits;
        let same_ip: Vec<Candidate<PeerId>> = pending
            .iter()
            .filter(|candidate| candidate.group == NetGroup::of(ip))
            .filter(|candidate| {
                self.conns
                    .get(&candidate.id)
                    .is_some_and(|conn| conn.remote.ip() == ip)
            })
            .cloned()
            .collect();
        let victim = if same_ip.len() >= limits.max_inbound_per_ip {
            eviction::choose_pending(&same_ip)
        } else if pending.len() >= limits.max_pending {
            eviction::choose_pending(&pending)
        } else {
            None
        };
        if let Some(victim) = victim {
            let remote = self.conns[&victim].remote;
            self.summarised(
                log::Level::Info,
                "closing a socket without hello for a newcomer",
                ip,
                || format!("{remote}"),
            );
            self.close(
                victim,
                "closed for a newcomer: too many connections without a hello".into(),
            );
        }
    }

    /// Whether an inbound peer `id` from `ip` may take a slot, evicting another if the
    /// slots are full; the reason if not.
    fn admit_inbound_peer(&mut self, id: PeerId, ip: IpAddr) -> Result<(), String> {
        let limits = &self.settings.limits;
        let peers: Vec<(PeerId, IpAddr)> = self
            .conns
            .iter()
            .filter(|(other, conn)| **other != id && conn.counts_inbound() && conn.peer().is_some())
            .map(|(other, conn)| (*other, conn.remote.ip()))
            .collect();
        let from_ip = peers.iter().filter(|(_, other)| *other == ip).count();
        if from_ip >= limits.max_inbound_per_ip {
            let limit = limits.max_inbound_per_ip;
            self.summarised(
                log::Level::Info,
                "refusing peer: too many from its address",
                ip,
                || format!("{ip} has {from_ip} (limit {limit})"),
            );
            return Err(format!("too many connections from {ip} (limit {limit})"));
        }
        if peers.len() < self.settings.max_inbound {
            return Ok(());
        }
        let candidates: Vec<Candidate<PeerId>> = peers
            .iter()
            .map(|(other, _)| self.conns[other].candidate(*other))
            .collect();
        let key = self.settings.eviction_key;
        let victim = eviction::choose_peer(&candidates, |group| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (key, group).hash(&mut hasher);
            hasher.finish()
        });
        let count = peers.len();
        match victim {
            Some(victim) => {
                let remote = self.conns[&victim].remote;
                self.summarised(
                    log::Level::Info,
                    "evicting an inbound peer for a newcomer",
                    ip,
                    || format!("{remote} ({count} inbound peers)"),
                );
                self.close(
                    victim,
                    "evicted for a newcomer: inbound peer slots are full".into(),
                );
                Ok(())
            }
            None => {
                self.summarised(
                    log::Level::Info,
                    "refusing peer: inbound slots full",
                    ip,
                    || format!("{ip} ({count} inbound peers, all protected)"),
                );
                Err(format!("inbound peer slots are full ({count})"))
            }
        }
    }
}

impl Actor for PeerManagerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        self.maintain(ctx);
        ctx.run_interval(self.settings.maintenance_interval, |actor, ctx| {
            actor.maintain(ctx)
        });
    }
}

/// An accepted inbound socket.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Inbound {
    pub stream: Transport,
    pub remote: SocketAddr,
}

impl Handler<Inbound> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: Inbound, ctx: &mut Self::Context) {
        let ip = message.remote.ip();
        if let Some(until) = self.bans.banned_until(ip, now()) {
            let reason = format!("you are banned until {}", clock_time(until));
            self.summarised(log::Level::Info, "refusing a banned host", ip, || {
                format!("{}", message.remote)
            });
            // One non-blocking write: the reason if the socket takes it, nothing else.
            if let Ok(frame) = encode_frame(Message::Reject { reason }) {
                message.stream.try_write(&frame);
            }
            return;
        }
        self.make_pending_room(ip);
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
        let (inbound, dialed, ip) = (conn.inbound, conn.dialed, conn.remote.ip());
        if hello.node_id == self.settings.node_id {
            if let Some(dialed) = dialed {
                info!("{dialed} is this node itself: not dialling it again");
                self.self_addrs.insert(dialed);
                self.book.remove(&dialed);
            }
            return Err("connected to myself".into());
        }
        let duplicate = self.conns.iter().any(|(id, other)| {
            *id != message.id
                && other
                    .peer()
                    .is_some_and(|peer| peer.node_id == hello.node_id)
        });
        if duplicate {
            return Err("already connected to this node".into());
        }
        if self.blocked.contains(&listen) {
            return Err("link cut by a simulated partition".into());
        }
        if inbound {
            self.admit_inbound_peer(message.id, ip)?;
        }
        if let Some(dialed) = dialed {
            self.book.reached(&dialed);
        }
        if let Some(conn) = self.conns.get_mut(&message.id) {
            conn.kind = Kind::Peer(PeerState {
                node_id: hello.node_id,
                listen,
                best_height: hello.best_height,
                work: hello.work,
            });
        }
        self.summarised(log::Level::Info, "peer joined", ip, || {
            format!(
                "{listen} ({}, height {})",
                if inbound { "inbound" } else { "outbound" },
                hello.best_height
            )
        });
        if let Some(live) = &self.live {
            live.do_send(Publish(LiveEvent::PeerJoined {
                addr: listen.to_string(),
                inbound,
            }));
        }
        self.learn(listen);
        self.choose_sync_peer();
        Ok(self.links.get(&listen))
    }
}

/// A client completed its hello: `Err` with a reason if it gets no slot.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct ClientReady {
    pub id: PeerId,
}

impl Handler<ClientReady> for PeerManagerActor {
    type Result = Result<(), String>;

    fn handle(&mut self, message: ClientReady, _: &mut Self::Context) -> Self::Result {
        let now = now();
        let Some(ip) = self.conns.get(&message.id).map(|conn| conn.remote.ip()) else {
            return Err("connection already closed".into());
        };
        let clients: Vec<ClientSlot<PeerId>> = self
            .conns
            .iter()
            .filter(|(id, conn)| **id != message.id && !conn.closing)
            .filter_map(|(id, conn)| match conn.kind {
                Kind::Client { last_active } => Some(ClientSlot {
                    id: *id,
                    ip: conn.remote.ip(),
                    last_active,
                }),
                _ => None,
            })
            .collect();
        let slots = ClientSlots {
            max_clients: self.settings.limits.max_clients,
            max_per_ip: self.settings.limits.max_clients_per_ip,
            yield_idle: CLIENT_YIELD_IDLE,
        };
        match slots.admit(&clients, ip, now) {
            ClientAdmission::Admit => {}
            ClientAdmission::Replace(victim) => {
                let count = clients.len();
                self.summarised(
                    log::Level::Info,
                    "closing a client for a new one",
                    ip,
                    || format!("{count} clients connected, newcomer from {ip}"),
                );
                self.close(
                    victim,
                    "closed for a new client: client slots are full".into(),
                );
            }
            ClientAdmission::Refuse(reason) => {
                self.summarised(log::Level::Info, "refusing client", ip, || {
                    format!("{ip}: {reason}")
                });
                return Err(reason);
            }
        }
        if let Some(conn) = self.conns.get_mut(&message.id) {
            conn.kind = Kind::Client { last_active: now };
        }
        Ok(())
    }
}

/// A client sent a request (not a ping): it is not idle.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ClientActive {
    pub id: PeerId,
}

impl Handler<ClientActive> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: ClientActive, _: &mut Self::Context) {
        if let Some(Kind::Client { last_active }) =
            self.conns.get_mut(&message.id).map(|conn| &mut conn.kind)
        {
            *last_active = now();
        }
    }
}

/// Where to publish peers joining and leaving.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetPeerEventHub(pub Addr<EventHub>);

impl Handler<SetPeerEventHub> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: SetPeerEventHub, _: &mut Self::Context) {
        self.live = Some(message.0);
    }
}

/// A connection closed; `reason` says why, for the log.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Closed {
    pub id: PeerId,
    pub reason: String,
}

impl Handler<Closed> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: Closed, _: &mut Self::Context) {
        if let Some(conn) = self.conns.remove(&message.id) {
            if let (Kind::Peer(peer), Some(live)) = (&conn.kind, &self.live) {
                live.do_send(Publish(LiveEvent::PeerLeft {
                    addr: peer.listen.to_string(),
                }));
            }
            let ip = conn.remote.ip();
            let reason = peer_text(&message.reason);
            match (conn.kind, conn.dialed) {
                (Kind::Peer(peer), _) if message.reason == "it is shutting down" => self
                    .summarised_line(log::Level::Info, "peer shutting down", ip, || {
                        format!("peer {} is shutting down", peer.listen)
                    }),
                (Kind::Peer(peer), _) => self.summarised(log::Level::Info, "peer left", ip, || {
                    format!("{} ({reason})", peer.listen)
                }),
                (_, Some(dialed)) => self.dial_failed(dialed, &reason),
                (_, None) => debug!("{} closed: {reason}", conn.remote),
            }
        }
        if self.sync.peer() == Some(message.id) {
            self.sync.stop();
            self.update_mining_pause(now());
            self.choose_sync_peer();
        }
    }
}

/// What a sync batch from a connection brought.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SyncBatch {
    pub id: PeerId,
    pub report: BatchReport,
}

impl Handler<SyncBatch> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: SyncBatch, _: &mut Self::Context) {
        let Some(claimed) = self
            .conns
            .get(&message.id)
            .and_then(|conn| conn.peer())
            .map(|peer| peer.work)
        else {
            return;
        };
        let now = now();
        let verdict = self
            .sync
            .batch(message.id, message.report, claimed, self.our_work, now);
        if let BatchVerdict::Broken(reason) = verdict {
            let reason = format!("sync: {reason}");
            self.penalise(message.id, SCORE_BROKEN_CLAIM, &reason);
            self.close(message.id, reason);
        }
        self.update_mining_pause(now);
    }
}

/// Something a connection saw that is worth a line at `level` but that a peer can repeat
/// at will (a rejection it sent, a refused transaction, a hello of another network):
/// summarised here with every other connection's, so the log stays bounded whatever
/// the sources do. `detail` (peer text already cut) is the connection's first of
/// `reason` in its interval; `count` occurrences it counted without detail.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Noted {
    pub source: IpAddr,
    pub reason: &'static str,
    pub level: log::Level,
    pub detail: Option<String>,
    pub count: u64,
}

impl Handler<Noted> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: Noted, _: &mut Self::Context) {
        let Noted {
            source,
            reason,
            level,
            detail,
            count,
        } = message;
        match detail {
            Some(detail) => self.summarised(level, reason, source, || detail),
            None => self.logs.add(reason, Some(source), count),
        }
    }
}

/// A peer broke a rule; `score` is added to its host's misbehaviour score.
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
        self.penalise(message.id, message.score, &message.reason);
    }
}

/// A peer gave us something new: a block (`block`) or a transaction. Such peers are
/// protected from eviction.
#[derive(Message)]
#[rtype(result = "()")]
pub struct GaveNew {
    pub id: PeerId,
    pub block: bool,
}

impl Handler<GaveNew> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: GaveNew, _: &mut Self::Context) {
        if let Some(conn) = self.conns.get_mut(&message.id) {
            let now = Some(now());
            if message.block {
                conn.last_block = now;
            } else {
                conn.last_tx = now;
            }
        }
    }
}

/// A peer told us its best chain in a pong; `ping` is the round trip, if the pong
/// answered our last ping.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PeerTip {
    pub id: PeerId,
    pub best_height: u64,
    pub work: Work,
    pub ping: Option<Duration>,
}

impl Handler<PeerTip> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: PeerTip, _: &mut Self::Context) {
        if let Some(conn) = self.conns.get_mut(&message.id) {
            if let Some(ping) = message.ping {
                conn.min_ping = Some(conn.min_ping.map_or(ping, |best| best.min(ping)));
            }
            if let Kind::Peer(peer) = &mut conn.kind {
                peer.best_height = message.best_height;
                peer.work = message.work;
            }
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
        self.our_height = message.height;
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
            if conn.peer().is_some() && !conn.closing && Some(*id) != message.except {
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
            if conn.peer().is_some() && !conn.closing && Some(*id) != message.except {
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

/// Addresses to gossip: only those we have reached ourselves.
#[derive(Message)]
#[rtype(result = "Vec<String>")]
pub struct GetAddrs;

impl Handler<GetAddrs> for PeerManagerActor {
    type Result = MessageResult<GetAddrs>;

    fn handle(&mut self, _: GetAddrs, _: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.book
                .gossip(MAX_ADDRS_PER_REPLY)
                .iter()
                .map(SocketAddr::to_string)
                .collect(),
        )
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
                    conn.peer().map(|peer| PeerInfo {
                        addr: peer.listen.to_string(),
                        inbound: conn.inbound,
                        best_height: peer.best_height,
                    })
                })
                .collect(),
        )
    }
}

/// What the node knows of one address (tests and operators).
#[derive(Debug, Clone)]
pub struct AddressInfo {
    /// Its address-book entry, if it has one.
    pub entry: Option<AddrEntry>,
    /// Found to be this node itself.
    pub is_self: bool,
    /// Entries in the address book.
    pub book_len: usize,
}

/// Asks for [`AddressInfo`] about an address.
#[derive(Message)]
#[rtype(result = "AddressInfo")]
pub struct GetAddressInfo(pub SocketAddr);

impl Handler<GetAddressInfo> for PeerManagerActor {
    type Result = MessageResult<GetAddressInfo>;

    fn handle(&mut self, message: GetAddressInfo, _: &mut Self::Context) -> Self::Result {
        MessageResult(AddressInfo {
            entry: self.book.get(&message.0).cloned(),
            is_self: self.self_addrs.contains(&message.0),
            book_len: self.book.len(),
        })
    }
}

/// Dial `addr` now and keep it in the address book.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AddPeer(pub SocketAddr);

impl Handler<AddPeer> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: AddPeer, ctx: &mut Self::Context) {
        self.book.add_seed(message.0, now());
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
            let listen = conn.peer().map(|peer| peer.listen);
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
        // Healed links come back at once rather than after a backoff.
        self.book.retry_all_now(now());
        self.maintain(ctx);
    }
}

/// A host misbehaved over another surface than a connection of ours (the explorer's
/// HTTP API): the same score and ban list as a peer or client, so no surface is cheaper
/// to abuse than another.
#[derive(Message)]
#[rtype(result = "()")]
pub struct HostMisbehaved {
    pub ip: IpAddr,
    /// How the offender is named in the log ("HTTP client 127.0.0.2:51234").
    pub remote: String,
    pub score: u32,
    pub reason: String,
}

impl Handler<HostMisbehaved> for PeerManagerActor {
    type Result = ();

    fn handle(&mut self, message: HostMisbehaved, _: &mut Self::Context) {
        self.penalise_host(
            message.ip,
            &message.remote,
            None,
            message.score,
            &message.reason,
        );
    }
}

/// Whether the host of `addr` is banned now (for tests and operators).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct IsBanned(pub SocketAddr);

impl Handler<IsBanned> for PeerManagerActor {
    type Result = bool;

    fn handle(&mut self, message: IsBanned, _: &mut Self::Context) -> bool {
        self.bans.banned_until(message.0.ip(), now()).is_some()
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
                reason: SHUTDOWN_REASON.into(),
            });
        }
        ctx.stop();
    }
}
