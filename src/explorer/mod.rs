//! The explorer: an HTTP server inside the node (actix-web, on the node's own actix
//! system) with a JSON API under `/api`, live Server-Sent Events, and a web page at `/`
//! that draws the block tree, forks included, as it grows.
//!
//! The HTTP layer is thin on purpose: every handler asks the node's actors with the same
//! typed messages the TCP client path uses, and answers with the JSON views of
//! [`crate::view`] that the command line's `--json` prints. The page is static HTML, CSS
//! and JavaScript compiled into the binary (`include_str!`): no build step, no CDN, it
//! works offline.

pub mod api;
pub mod launch_page;
pub mod page;

use crate::consensus::hash::BlockHash;
use crate::node::chain_actor::ChainActor;
use crate::node::events::EventHub;
use crate::node::peer_manager::PeerManagerActor;
use crate::node::tx_verifier::TxVerifierActor;
use crate::node::NodeHandle;
use actix::Addr;
use actix_web::{web, App, HttpServer};
use log::{info, warn};
use std::net::SocketAddr;

/// The port offset of the explorer from the node's port (`--port 1111` serves 2111).
pub const PORT_OFFSET: u16 = 1000;

/// What the handlers talk to: the node's actors.
#[derive(Clone)]
pub struct NodeLink {
    pub chain: Addr<ChainActor>,
    pub peers: Addr<PeerManagerActor>,
    pub events: Addr<EventHub>,
    pub verifier: Addr<TxVerifierActor>,
    pub genesis: BlockHash,
}

impl NodeLink {
    pub fn of(node: &NodeHandle) -> Self {
        NodeLink {
            chain: node.chain.clone(),
            peers: node.peers.clone(),
            events: node.events.clone(),
            verifier: node.verifier.clone(),
            genesis: node.genesis,
        }
    }
}

/// A running explorer; dropping it leaves the server running until [`Self::stop`].
pub struct Explorer {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl Explorer {
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }

    /// The page's address, as a person would type it.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// Starts the explorer of `node` on `addr` (port 0: the OS picks one) and logs its URL.
pub async fn serve(node: &NodeHandle, addr: SocketAddr) -> Result<Explorer, String> {
    serve_app(addr, NodeLink::of(node), "explorer", |config, link| {
        config
            .app_data(web::Data::new(link))
            .configure(api::routes)
            .configure(page::node_routes);
    })
}

/// Binds `addr` and runs an HTTP server whose routes `configure` sets up with `state`;
/// shared by a node's explorer and a launch's page. `what` names it in the log.
pub fn serve_app<S: Clone + Send + 'static>(
    addr: SocketAddr,
    state: S,
    what: &str,
    configure: fn(&mut web::ServiceConfig, S),
) -> Result<Explorer, String> {
    if !addr.ip().is_loopback() {
        warn!(
            "the {what} listens on {addr}, which is not a loopback address: anyone who can \
             reach it can read the node's data and submit transactions"
        );
    }
    let server = HttpServer::new(move || {
        let state = state.clone();
        App::new().configure(move |config| configure(config, state))
    })
    // One worker thread: the work is in the actors; the handlers only wait on them.
    .workers(1)
    // The node handles Ctrl-C and stops the server itself.
    .disable_signals()
    // Event streams never end by themselves: do not wait long for them when stopping.
    .shutdown_timeout(1)
    .bind(addr)
    .map_err(|e| format!("{what}: cannot listen on {addr}: {e}"))?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| format!("{what}: no listening address"))?;
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    let explorer = Explorer {
        addr: bound,
        handle,
    };
    info!("{what} at {}", explorer.url());
    Ok(explorer)
}
