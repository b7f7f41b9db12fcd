//! The explorer's share of the node's resources: how many HTTP connections it holds at
//! once, how long a socket may take to send its request or sit idle, how large a page of
//! blocks may be, and each client's budget ([`super::client_budget`]). The connection caps come from the node's open-file
//! limit, after a fixed share is kept for peers, clients, the store and the runtime, so
//! that no flood of HTTP sockets or event streams can take the descriptors a peer's hello
//! or the command line needs.

use super::block_page::PAGE_BYTES;
use super::client_budget::BudgetLimits;
use std::time::Duration;

/// Descriptors kept for everything but the explorer: inbound and outbound peers (32 + 8 by
/// default), sockets waiting for their hello (32), the command line's clients (16), the
/// store, the log, the runtime's own (epoll, wakers, the miners' threads), with room to
/// spare for an operator who raises the peer limits.
pub const KEPT_FOR_THE_NODE: u64 = 256;
/// Connections the explorer holds at most, however high the open-file limit.
const MAX_CONNECTIONS: u64 = 4_096;
/// Connections the explorer holds at least, however low the limit (a node started with
/// too few descriptors still serves its own page).
const MIN_CONNECTIONS: u64 = 16;

/// The explorer's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplorerLimits {
    /// Open HTTP connections; past it the explorer stops accepting until one closes
    /// (the rest wait in the kernel's backlog, which takes no descriptor of ours).
    pub max_connections: usize,
    /// A connection that has not sent a request's headers by then is answered 408 and
    /// closed (slowloris).
    pub request_timeout: Duration,
    /// An idle keep-alive connection is closed after this long.
    pub keep_alive: Duration,
    /// The most JSON one page of `/api/blocks` carries.
    pub page_bytes: usize,
    pub budget: BudgetLimits,
}

impl ExplorerLimits {
    /// The bounds for a node whose open-file limit is `open_files`: half of what is left
    /// after [`KEPT_FOR_THE_NODE`] (the other half is slack for sockets being closed and
    /// files the node opens), and half of those connections for event streams.
    pub fn from_open_files(open_files: u64) -> Self {
        let connections = (open_files.saturating_sub(KEPT_FOR_THE_NODE) / 2)
            .clamp(MIN_CONNECTIONS, MAX_CONNECTIONS);
        let connections = usize::try_from(connections).unwrap_or(usize::MAX);
        let defaults = BudgetLimits::default();
        ExplorerLimits {
            max_connections: connections,
            request_timeout: Duration::from_secs(3),
            keep_alive: Duration::from_secs(5),
            page_bytes: PAGE_BYTES,
            budget: BudgetLimits {
                max_streams: connections / 2,
                max_requests: defaults.max_requests.min(connections / 2),
                ..defaults
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explorer_takes_at_most_half_of_what_the_node_does_not_keep() {
        for open_files in [0, 100, 300, 1_024, 4_096, 65_536, 1 << 20, u64::MAX] {
            let limits = ExplorerLimits::from_open_files(open_files);
            let connections = limits.max_connections as u64;
            assert!((MIN_CONNECTIONS..=MAX_CONNECTIONS).contains(&connections));
            if open_files > KEPT_FOR_THE_NODE + 2 * MIN_CONNECTIONS {
                assert!(
                    connections + KEPT_FOR_THE_NODE <= open_files,
                    "{open_files}: {connections} connections eat into the node's share"
                );
            }
            assert!(limits.budget.max_streams < limits.max_connections);
            assert!(limits.budget.max_requests <= limits.max_connections);
        }
        assert_eq!(ExplorerLimits::from_open_files(1_024).max_connections, 384);
    }
}
