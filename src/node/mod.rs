//! The node: the four actors wired together (the book's Internals › Actors,
//! `docs/src/internals/actors.md`).
//!
//! - [`chain_actor::ChainActor`] (own arbiter) owns the chain and is its only writer;
//! - [`miner::MinerActor`] (one per thread, each on its own arbiter) hashes templates;
//! - [`peer_manager::PeerManagerActor`] keeps peers, addresses, bans and relays;
//! - [`connection::ConnectionActor`], one per TCP socket, speaks the wire protocol.
//!
//! [`start_node`] starts them inside a running actix system; [`NodeHandle::stop`] stops
//! them and closes the store. Launches (`crate::launch`) start several nodes in one system
//! with [`start_node_with`], which adds simulated mining ([`sim_miner`]) and network
//! conditions ([`netsim`]).

pub mod chain_actor;
pub mod clock;
pub mod connection;
pub mod delivered;
pub mod events;
pub mod limits;
pub mod miner;
pub mod miner_cache;
pub mod netsim;
pub mod open_files;
pub mod output_queue;
pub mod peer_manager;
pub mod policy;
pub mod reply_order;
pub mod sim_miner;
pub mod stop_signal;
pub mod transport;
pub mod tx_admission;
pub mod tx_verifier;
pub mod withholding;

use crate::chain::mempool::MempoolLimits;
use crate::chain::mempool_file::{self, Restored, MEMPOOL_FILE};
use crate::chain::store::{StoreError, DAMAGED_ADVICE};
use crate::chain::{unix_time_ms, Chain, ChainError};
use crate::consensus::address::Address;
use crate::consensus::hash::BlockHash;
use crate::consensus::params::ChainParams;
use actix::prelude::*;
use chain_actor::{ChainActor, GetSummary, RegisterMiner, SetEventHub, SetPeerManager, Shutdown};
use connection::ConnectionSettings;
use events::EventHub;
use futures::channel::oneshot;
use limits::NetLimits;
use log::{info, warn};
use miner::MinerActor;
use netsim::LinkDelay;
use peer_manager::{
    Inbound, PeerManagerActor, PeerSettings, SetPeerEventHub, StopNetwork, TipChanged,
    MAINTENANCE_INTERVAL,
};
use sim_miner::{SimMinerActor, SimMining};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use transport::{Listen, Network, Transport, Unlisten};
use withholding::MinerStrategy;

/// Identifies one connection within a node.
pub type PeerId = u64;

/// Name of the miner's key file inside the data directory.
pub const MINER_KEY_FILE: &str = "miner.key";
/// How often a node of a virtual network runs its peer maintenance: rarely, since a
/// virtual launch dials its peers explicitly and heals partitions with an immediate
/// pass, and thousands of nodes ticking every half second would be most of its work.
const VIRTUAL_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);

/// Everything needed to start a node.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    pub params: ChainParams,
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 lets the OS choose.
    pub listen: SocketAddr,
    pub peers: Vec<SocketAddr>,
    pub mine: bool,
    /// Default: the key in `data_dir/miner.key`, created on first start.
    pub miner_address: Option<Address>,
    pub miner_threads: usize,
    pub max_inbound: usize,
    pub max_outbound: usize,
    /// Delay added to every outgoing message (simulations).
    pub send_delay: Duration,
    /// Handshake deadline, per-IP caps, client slots, sync timeout, send bounds.
    pub limits: NetLimits,
}

/// What a launch sets beyond [`NodeSettings`]; the default is a plain node.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// Mine with a [`SimMinerActor`] instead of hashing (when `NodeSettings::mine`).
    pub sim_mining: Option<SimMining>,
    /// Mine from the start, or only once told [`chain_actor::SetMining`].
    pub mining_on_start: bool,
    /// Dial addresses learned from gossip, or keep to seeds and added peers.
    pub dial_learned: bool,
    /// Sync the store to disk on every commit; throw-away simulation runs need not.
    pub sync_each_commit: bool,
    /// TCP, or a virtual-time launch's in-memory network. A node on a virtual network
    /// listens only there, and runs all its actors on the current thread, whose clock the
    /// launch controls.
    pub network: Network,
    /// Keep the chain in memory rather than in `data_dir` (throw-away simulation runs).
    pub memory_store: bool,
    /// The node id of the handshake; random when `None` (a reproducible run sets it).
    pub node_id: Option<u64>,
    /// How the node relays the blocks its miners find.
    pub strategy: MinerStrategy,
    /// The secret that orders address groups for eviction's protection; random when
    /// `None` (a reproducible run draws it from its seed).
    pub eviction_key: Option<u64>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            sim_mining: None,
            mining_on_start: true,
            dial_learned: true,
            sync_each_commit: true,
            network: Network::Tcp,
            memory_store: false,
            node_id: None,
            strategy: MinerStrategy::Honest,
            eviction_key: None,
        }
    }
}

/// Why a node could not start.
#[derive(Debug)]
pub struct NodeError(pub String);

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NodeError {}

/// A running node.
pub struct NodeHandle {
    pub listen_addr: SocketAddr,
    pub chain: Addr<ChainActor>,
    pub peers: Addr<PeerManagerActor>,
    /// Where this node's miners pay block rewards (none when it does not mine).
    pub miner_address: Option<Address>,
    /// The simulated miner, if the node mines that way.
    pub sim_miner: Option<Addr<SimMinerActor>>,
    /// Live events for watchers (the explorer's `/api/events`).
    pub events: Addr<EventHub>,
    /// The network's genesis block (what signatures commit to).
    pub genesis: BlockHash,
    /// Checks transactions' signatures for admission.
    pub verifier: Addr<tx_verifier::TxVerifierActor>,
    /// `None` on a virtual network, where everything runs on the launch's thread.
    chain_arbiter: Option<Arbiter>,
    miner_arbiters: Vec<Arbiter>,
    store_failure: oneshot::Receiver<String>,
    accept_task: Option<actix_rt::task::JoinHandle<()>>,
    network: Network,
}

/// Starts a node inside the current actix system.
pub async fn start_node(settings: NodeSettings) -> Result<NodeHandle, NodeError> {
    start_node_with(settings, NodeOptions::default()).await
}

/// Starts a node inside the current actix system, with a launch's options.
pub async fn start_node_with(
    settings: NodeSettings,
    options: NodeOptions,
) -> Result<NodeHandle, NodeError> {
    let on_virtual_network = matches!(options.network, Network::Virtual { .. });
    // The port first: a node that cannot listen must not create a data directory.
    let (listener, listen_addr) = if on_virtual_network {
        (None, settings.listen)
    } else {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| NodeError(format!("cannot listen on {}: {e}", settings.listen)))?;
        let listen_addr = listener
            .local_addr()
            .map_err(|e| NodeError(format!("cannot read listening address: {e}")))?;
        (Some(listener), listen_addr)
    };
    let opened = if options.memory_store {
        Chain::open_in_memory(settings.params.clone(), MempoolLimits::default())
    } else {
        Chain::open(
            &settings.data_dir,
            settings.params.clone(),
            MempoolLimits::default(),
        )
    };
    let mut chain = opened.map_err(|e| {
        let advice = match &e {
            ChainError::Store(StoreError::Damaged { .. }) => format!(
                ": run `ironchain verify --data-dir {}` for details; {DAMAGED_ADVICE}",
                settings.data_dir.display()
            ),
            _ => String::new(),
        };
        NodeError(format!(
            "cannot open chain in {}: {e}{advice}",
            settings.data_dir.display()
        ))
    })?;
    chain.set_sync_each_commit(options.sync_each_commit);
    // A chain kept in memory keeps no files: its mempool is not journaled either.
    let mempool_file = if options.memory_store {
        None
    } else {
        let (mempool_file, restored) =
            mempool_file::restore(&mut chain, &settings.data_dir, unix_time_ms()).map_err(|e| {
                NodeError(format!(
                    "{}: {e}",
                    settings.data_dir.join(MEMPOOL_FILE).display()
                ))
            })?;
        if restored != Restored::default() {
            info!(
                "mempool: {} restored from {MEMPOOL_FILE}, {} dropped (mined, \
                 invalid now or expired){}",
                crate::plural::count(restored.pending as u64, "transaction", "transactions"),
                restored.dropped,
                if restored.torn_tail {
                    "; its last record was torn by a crash"
                } else {
                    ""
                }
            );
        }
        Some(mempool_file)
    };
    let genesis = chain.genesis_hash();
    let tip = chain.tip();
    info!(
        "chain in {}: genesis {}, tip height {} hash {}",
        if options.memory_store {
            "memory".to_string()
        } else {
            settings.data_dir.display().to_string()
        },
        genesis.short(),
        tip.height,
        tip.hash.short()
    );
    // A node that does not mine needs no key (but keeps an address it is given: miners
    // can be registered from outside, as benchmarks do).
    let miner_address = match (settings.mine, settings.miner_address) {
        (_, Some(address)) => Some(address),
        (false, None) => None,
        (true, None) => {
            let path = settings.data_dir.join(MINER_KEY_FILE);
            let (key, created) =
                crate::keyfile::load_or_create(&path).map_err(|e| NodeError(e.to_string()))?;
            if created {
                info!("created miner key {}", path.display());
            }
            Some(Address::of(&key))
        }
    };
    if let (true, Some(address)) = (settings.mine, miner_address) {
        info!("mining to {address}");
    }

    let mining_on_start = options.mining_on_start;
    let strategy = options.strategy;
    let (failure_signal, store_failure) = oneshot::channel();
    let chain_actor = move |_: &mut Context<ChainActor>| {
        ChainActor::new(chain, miner_address)
            .with_mining(mining_on_start)
            .with_strategy(strategy)
            .with_mempool_file(mempool_file)
            .with_store_failure_signal(failure_signal)
    };
    let (chain_addr, chain_arbiter) = if on_virtual_network {
        (ChainActor::create(chain_actor), None)
    } else {
        let arbiter = Arbiter::new();
        (
            ChainActor::start_in_arbiter(&arbiter.handle(), chain_actor),
            Some(arbiter),
        )
    };
    let node_id: u64 = options.node_id.unwrap_or_else(rand::random);
    let verifier = if on_virtual_network {
        tx_verifier::TxVerifierActor::on_current_thread(genesis)
    } else {
        tx_verifier::TxVerifierActor::new(genesis)
    }
    .start();
    let peers = PeerManagerActor::new(
        chain_addr.clone(),
        PeerSettings {
            listen_port: listen_addr.port(),
            node_id,
            eviction_key: options.eviction_key.unwrap_or_else(rand::random),
            max_inbound: settings.max_inbound,
            max_outbound: settings.max_outbound,
            seeds: settings.peers.clone(),
            dial_learned: options.dial_learned,
            bind_ip: Some(listen_addr.ip()).filter(|ip| !ip.is_unspecified()),
            limits: settings.limits.clone(),
            network: options.network.clone(),
            maintenance_interval: if on_virtual_network {
                VIRTUAL_MAINTENANCE_INTERVAL
            } else {
                MAINTENANCE_INTERVAL
            },
        },
        ConnectionSettings {
            genesis,
            node_id,
            listen_port: listen_addr.port(),
            max_block_txs: settings.params.max_block_txs as usize,
            link: LinkDelay::fixed(settings.send_delay),
            verifier: verifier.clone(),
            limits: settings.limits.clone(),
            keepalive: !on_virtual_network,
        },
    )
    .start();
    peers.do_send(TipChanged {
        height: tip.height,
        work: tip.work,
    });
    chain_addr.do_send(SetPeerManager(peers.clone()));
    let events = EventHub::default().start();
    chain_addr.do_send(SetEventHub(events.clone()));
    peers.do_send(SetPeerEventHub(events.clone()));

    let mut miner_arbiters = Vec::new();
    let mut sim_miner = None;
    match (settings.mine, options.sim_mining) {
        (false, _) => {}
        (true, Some(sim)) => {
            let chain_for_miner = chain_addr.clone();
            let miner_actor =
                move |_: &mut Context<SimMinerActor>| SimMinerActor::new(chain_for_miner, sim);
            let miner = if on_virtual_network {
                SimMinerActor::create(miner_actor)
            } else {
                let arbiter = Arbiter::new();
                let miner = SimMinerActor::start_in_arbiter(&arbiter.handle(), miner_actor);
                miner_arbiters.push(arbiter);
                miner
            };
            chain_addr.do_send(RegisterMiner(miner.clone().into()));
            sim_miner = Some(miner);
        }
        (true, None) if on_virtual_network => {
            return Err(NodeError(
                "a node on a virtual network cannot hash: its clock is not real".into(),
            ));
        }
        (true, None) => {
            for _ in 0..settings.miner_threads {
                let arbiter = Arbiter::new();
                let chain_for_miner = chain_addr.clone();
                let miner = MinerActor::start_in_arbiter(&arbiter.handle(), move |_| {
                    MinerActor::new(chain_for_miner)
                });
                chain_addr.do_send(RegisterMiner(miner.into()));
                miner_arbiters.push(arbiter);
            }
        }
    }

    let accept_task = match (&options.network, listener) {
        (Network::Virtual { switchboard, .. }, _) => {
            switchboard
                .send(Listen {
                    addr: listen_addr,
                    peers: peers.clone(),
                })
                .await
                .map_err(|_| NodeError("the virtual network is gone".into()))?
                .map_err(|e| NodeError(format!("cannot listen on {listen_addr}: {e}")))?;
            None
        }
        (Network::Tcp, Some(listener)) => {
            let accept_peers = peers.clone();
            Some(actix_rt::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, remote)) => accept_peers.do_send(Inbound {
                            stream: Transport::tcp(stream),
                            remote,
                        }),
                        Err(error) => {
                            warn!("accept failed: {error}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            }))
        }
        (Network::Tcp, None) => None,
    };
    info!("listening on {listen_addr}");
    Ok(NodeHandle {
        listen_addr,
        chain: chain_addr,
        peers,
        miner_address,
        sim_miner,
        events,
        genesis,
        verifier,
        chain_arbiter,
        miner_arbiters,
        store_failure,
        accept_task,
        network: options.network,
    })
}

impl NodeHandle {
    /// The chain's current summary.
    pub async fn summary(&self) -> Option<chain_actor::ChainSummary> {
        self.chain.send(GetSummary).await.ok()
    }

    /// Resolves with the reason once the node's store has failed (disk full, I/O error):
    /// the chain actor has stopped, and the caller should [`NodeHandle::stop`] the rest
    /// and exit, so that a supervisor can restart it.
    pub async fn store_failure(&mut self) -> String {
        (&mut self.store_failure)
            .await
            .unwrap_or_else(|_| "the chain actor stopped".to_string())
    }

    /// Stops every actor and closes the store; returns once the data directory can be
    /// reopened.
    pub async fn stop(self) {
        if let Some(task) = &self.accept_task {
            task.abort();
        }
        if let Network::Virtual { switchboard, local } = &self.network {
            let _ = switchboard.send(Unlisten(*local)).await;
        }
        self.peers.do_send(StopNetwork);
        for arbiter in self.miner_arbiters {
            arbiter.stop();
        }
        let _ = self.chain.send(Shutdown).await;
        if let Some(arbiter) = self.chain_arbiter {
            arbiter.stop();
            // The chain (and its database lock) is dropped when the arbiter's thread ends.
            let _ = actix_rt::task::spawn_blocking(move || arbiter.join()).await;
        }
    }
}
