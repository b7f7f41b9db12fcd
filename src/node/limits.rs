//! The limits that keep a node's door open under attack (issue 10): how long a socket may
//! take to say hello, how many sockets and peers one host may hold, the clients' own
//! slots, when a sync counts as stalled, and what one connection may make us buffer and
//! send. The `[node]` table sets the ones an operator may want to change.

use crate::config::NodeConfig;
use crate::net::only_net::OnlyNet;
use std::time::Duration;

/// Connection and request limits of one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetLimits {
    /// A socket that has not sent a valid hello by then is closed (slowloris).
    pub handshake_timeout: Duration,
    /// Inbound sockets still waiting for their hello; past it the oldest of the largest
    /// address group is closed for a newcomer.
    pub max_pending: usize,
    /// Inbound peers, and un-handshaken sockets, from one IP address.
    pub max_inbound_per_ip: usize,
    /// Client connections (the command line's); they have their own slots, so peers and
    /// floods cannot lock clients out.
    pub max_clients: usize,
    /// Client slots one address may hold (the local host, the user's own command line,
    /// has no such cap), so one host cannot take them all.
    pub max_clients_per_ip: usize,
    /// A client that sends no request (pings aside) for this long is closed.
    pub client_idle_timeout: Duration,
    /// A sync peer that delivers no new block for this long is dropped.
    pub sync_timeout: Duration,
    /// Addresses in the address book.
    pub max_known_addrs: usize,
    /// Requests of one connection answered concurrently; past it, reading that socket
    /// waits for an answer.
    pub max_requests_in_flight: usize,
    /// Transactions of one connection queued for admission (a client may pipeline, see
    /// [`super::tx_admission`]); past it, reading that socket waits for room.
    pub max_txs_in_flight: usize,
    /// Bytes queued for a socket and not yet taken by it; past it the peer is
    /// disconnected as a slow reader.
    pub max_send_backlog: u64,
    /// Bytes one connection may make us send per [`Self::send_interval`]; past it,
    /// its requests wait for the next interval.
    pub send_bytes_per_interval: u64,
    pub send_interval: Duration,
    /// The networks outbound connections may go to.
    pub only_net: OnlyNet,
    /// Failed dials of learned addresses per minute; past it, only the peers the user
    /// named are dialed until the minute has passed.
    pub max_failed_dials_per_minute: usize,
}

impl Default for NetLimits {
    fn default() -> Self {
        NetLimits {
            handshake_timeout: Duration::from_secs(5),
            max_pending: 32,
            max_inbound_per_ip: 8,
            max_clients: 16,
            max_clients_per_ip: 4,
            client_idle_timeout: Duration::from_secs(10),
            sync_timeout: Duration::from_secs(20),
            max_known_addrs: 1_000,
            max_requests_in_flight: 8,
            // One verification batch's worth.
            max_txs_in_flight: super::tx_verifier::MAX_BATCH,
            // Four full sync batches.
            max_send_backlog: 8 << 20,
            send_bytes_per_interval: 256 << 20,
            send_interval: Duration::from_secs(10),
            only_net: OnlyNet::any(),
            max_failed_dials_per_minute: 20,
        }
    }
}

impl NetLimits {
    /// The `[node]` table's limits over the built-in ones.
    pub fn from_config(node: &NodeConfig) -> NetLimits {
        NetLimits {
            handshake_timeout: Duration::from_millis(node.handshake_timeout_ms),
            max_pending: node.max_pending,
            max_inbound_per_ip: node.max_inbound_per_ip,
            max_clients: node.max_clients,
            max_clients_per_ip: node.max_clients_per_ip,
            client_idle_timeout: Duration::from_millis(node.client_idle_timeout_ms),
            sync_timeout: Duration::from_millis(node.sync_timeout_ms),
            only_net: OnlyNet::of(node.only_net.clone()),
            ..NetLimits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_embedded_config_gives_the_built_in_limits() {
        let node = Config::embedded().node;
        assert_eq!(NetLimits::from_config(&node), NetLimits::default());
    }
}
