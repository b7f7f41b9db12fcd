//! Virtual-time launches (`[simulation] clock = "virtual"`): every node of the launch
//! runs on one thread, on a tokio runtime whose clock is paused, connected to the others
//! by in-memory streams ([`crate::node::transport::Switchboard`]).
//!
//! How it works, as deterministic-simulation tools do it (turmoil, madsim): tokio's
//! paused clock jumps straight to the next timer whenever every task is idle, so a
//! 600-second wait for a simulated block costs nothing, and a run lasts only as long as
//! the CPU takes to process its messages. Nothing else may move the clock or race it:
//! there is no other thread (no arbiter per chain or miner), no socket and no disk
//! (`store = "memory"`), and the wall-clock times the node code stamps into blocks come
//! from the virtual clock ([`crate::node::clock`]). The same `ConnectionActor`, framing,
//! `ChainActor` and peer manager run as in a real launch.
//!
//! Determinism: one thread polls tasks in the order they were woken, timers fire in the
//! order they were set, and every random draw of a node comes from a generator seeded by
//! the launch seed and the node's position (`derive_seed`): find times, nonces, jitter,
//! node ids, eviction keys, miner keys, random topology; and a transaction's
//! signature is verified on this thread, not on the blocking pool (which runs in real
//! time). So the same config and seed give the same run,
//! message for message, and the same `summary.json` but for its wall-clock field.

use super::plan::LaunchPlan;
use super::LaunchError;
use crate::consensus::address::Address;
use crate::consensus::hash::sha256;
use crate::consensus::signatures::SigningKey;
use crate::node::clock::VirtualClock;
use crate::node::netsim::derive_seed;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};

/// The port every node of a virtual network listens on (each has its own address).
const VIRTUAL_PORT: u16 = 8333;

/// Runs `launch` to completion on a new actix system over a paused current-thread tokio
/// runtime, with this thread's wall clock virtual from the chain's genesis time on.
pub fn block_on<T>(plan: &LaunchPlan, launch: impl Future<Output = T>) -> Result<T, LaunchError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .map_err(|e| LaunchError(format!("cannot start the virtual-time runtime: {e}")))?;
    let system = actix_rt::System::with_tokio_rt(move || runtime);
    // A second after genesis, so the first block is after it whatever the draws.
    let start_ms = plan.params.genesis_timestamp_ms.saturating_add(1_000);
    Ok(system.block_on(async move {
        let _clock = VirtualClock::start(start_ms);
        launch.await
    }))
}

/// Node `index`'s address on the virtual network: 10.0.0.1, 10.0.0.2, ... (distinct
/// hosts, as per-IP rules expect), port `VIRTUAL_PORT` unless the config names one.
pub fn node_addr(index: usize, port: u16) -> SocketAddr {
    let host = 0x0A00_0000_u32.saturating_add(u32::try_from(index).unwrap_or(u32::MAX - 1) + 1);
    let port = if port == 0 { VIRTUAL_PORT } else { port };
    SocketAddr::from((Ipv4Addr::from(host), port))
}

/// Node `index`'s handshake id: drawn from the seed, so runs repeat.
pub fn node_id(plan: &LaunchPlan, index: usize) -> u64 {
    derive_seed(plan.seed, index, "node-id")
}

/// Node `index`'s secret for ordering address groups when it evicts a peer: drawn from
/// the seed, so that who is evicted repeats too.
pub fn eviction_key(plan: &LaunchPlan, index: usize) -> u64 {
    derive_seed(plan.seed, index, "eviction")
}

/// Where node `index`'s blocks pay: a key derived from the seed (not kept anywhere),
/// so that its blocks, and their hashes, repeat from run to run.
pub fn miner_address(plan: &LaunchPlan, index: usize) -> Address {
    let seed = derive_seed(plan.seed, index, "miner-key");
    let key = SigningKey::from(sha256(&seed.to_be_bytes()));
    Address::of(&key)
}
