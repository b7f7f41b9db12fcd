//! The node's open-file limit (RLIMIT_NOFILE). Every socket is a file descriptor, and a
//! node out of descriptors can accept no peer, no client and no explorer request: the
//! door is shut for everyone. Many systems start programs with a soft limit of 1,024 and a
//! hard limit far above it, so the node raises its soft limit to the hard one at start,
//! and sizes the explorer's connection caps from the result ([`crate::explorer::limits`]),
//! keeping a fixed share for peers and clients.

use log::{debug, warn};

/// The soft limit when the platform has none or it cannot be read: the common default.
const ASSUMED_LIMIT: u64 = 1_024;

/// Raises the soft open-file limit as far as the hard limit allows; returns the limit
/// now in force.
pub fn raise_soft_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            debug!("open-file limit: {limit}");
            limit
        }
        Err(error) => {
            let limit = soft_limit();
            warn!("cannot raise the open-file limit (staying at {limit}): {error}");
            limit
        }
    }
}

/// The soft open-file limit in force.
pub fn soft_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(ASSUMED_LIMIT, |(soft, _)| soft)
}
