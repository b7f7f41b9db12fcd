//! The explorer: an HTTP server inside the node (actix-web, on the node's own actix
//! system) with a JSON API under `/api`, live Server-Sent Events, and a web page at `/`
//! that draws the block tree, forks included, as it grows.
//!
//! The HTTP layer is thin on purpose: every handler asks the node's actors with the same
//! typed messages the TCP client path uses, and answers with the JSON views of
//! [`crate::view`] that the command line's `--json` prints. The page is static HTML, CSS
//! and JavaScript compiled into the binary (`include_str!`): no build step, no CDN, it
//! works offline.

pub mod admission;
pub mod api;
pub mod block_page;
pub mod client_budget;
pub mod client_door;
pub mod launch_page;
pub mod limits;
pub mod page;
pub mod request_gate;

use crate::consensus::hash::BlockHash;
use crate::node::chain_actor::ChainActor;
use crate::node::events::EventHub;
use crate::node::peer_manager::PeerManagerActor;
use crate::node::tx_verifier::TxVerifierActor;
use crate::node::NodeHandle;
use actix::{Actor, Addr};
use actix_web::{middleware, web, App, HttpServer};
use admission::Door;
use client_door::ClientDoor;
use limits::ExplorerLimits;
use log::{info, warn};
use request_gate::RequestGate;
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

/// Starts the explorer of `node` on `addr` (port 0: the OS picks one) and logs its URL;
/// its bounds come from the node's open-file limit.
pub async fn serve(node: &NodeHandle, addr: SocketAddr) -> Result<Explorer, String> {
    let limits = ExplorerLimits::from_open_files(crate::node::open_files::soft_limit());
    serve_with(node, addr, limits).await
}

/// [`serve`] within `limits`.
pub async fn serve_with(
    node: &NodeHandle,
    addr: SocketAddr,
    limits: ExplorerLimits,
) -> Result<Explorer, String> {
    let server = AppServer {
        addr,
        what: "explorer",
        limits,
        bans: Some(node.peers.clone()),
    };
    server.serve(NodeLink::of(node), |config, link| {
        config
            .app_data(web::Data::new(link))
            .configure(api::routes)
            .configure(page::node_routes);
    })
}

/// An HTTP server of the node's: a node's explorer or a launch's page.
pub struct AppServer {
    pub addr: SocketAddr,
    /// Names it in the log.
    pub what: &'static str,
    pub limits: ExplorerLimits,
    /// The ban list its clients answer to, if it has one.
    pub bans: Option<Addr<PeerManagerActor>>,
}

impl AppServer {
    /// Binds the address and runs a server whose routes `configure` sets up with `state`,
    /// behind the [`admission`] door.
    pub fn serve<S: Clone + Send + 'static>(
        self,
        state: S,
        configure: fn(&mut web::ServiceConfig, S),
    ) -> Result<Explorer, String> {
        let AppServer {
            addr,
            what,
            limits,
            bans,
        } = self;
        if !addr.ip().is_loopback() {
            warn!(
                "the {what} listens on {addr}, which is not a loopback address: anyone who can \
                 reach it can read the node's data and submit transactions"
            );
        }
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| format!("{what}: cannot listen on {addr}: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("{what}: no listening address: {e}"))?;
        let door = Door {
            gate: RequestGate::new(bound),
            clients: ClientDoor::new(limits.budget.clone()).start(),
            limits: limits.clone(),
            bans,
        };
        let server = HttpServer::new(move || {
            let state = state.clone();
            App::new()
                .app_data(web::Data::new(door.clone()))
                .wrap(middleware::from_fn(admission::admission))
                .configure(move |config| configure(config, state))
        })
        // One worker thread: the work is in the actors; the handlers only wait on them.
        .workers(1)
        // Past it the explorer stops accepting; the node's own descriptors stay free.
        .max_connections(limits.max_connections)
        // Slowloris: a request's headers must arrive in time; idle sockets are closed.
        .client_request_timeout(limits.request_timeout)
        .keep_alive(limits.keep_alive)
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        // The node handles Ctrl-C and stops the server itself.
        .disable_signals()
        // Event streams never end by themselves: do not wait long for them when stopping.
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|e| format!("{what}: cannot listen on {addr}: {e}"))?;
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        let explorer = Explorer {
            addr: bound,
            handle,
        };
        info!(
            "{what} at {} (at most {} connections)",
            explorer.url(),
            limits.max_connections
        );
        Ok(explorer)
    }
}
