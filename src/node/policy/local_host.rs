//! The user's own machine as the node sees it: connections from 127.0.0.1 or ::1 are the
//! local command line, explorer and scripts, all behind one address. Misbehaviour from
//! there is disconnected but never banned, and the local command line always finds a
//! client slot, so a buggy local script cannot lock the user out of their own node (as in
//! Bitcoin Core). Other loopback addresses (127.0.0.2, …) stand for distinct hosts, as
//! tests and launches use them, and are treated like remote ones.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is the local host's own address: 127.0.0.1 or ::1 (also written as the
/// IPv4-mapped ::ffff:127.0.0.1).
pub fn is_local_host(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4 == Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6 == Ipv6Addr::LOCALHOST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_127_0_0_1_and_ipv6_loopback_are_the_local_host() {
        assert!(is_local_host(ip("127.0.0.1")));
        assert!(is_local_host(ip("::1")));
        assert!(is_local_host(ip("::ffff:127.0.0.1")));
        assert!(!is_local_host(ip("127.0.0.2")), "a modelled distinct host");
        assert!(!is_local_host(ip("127.1.0.1")));
        assert!(!is_local_host(ip("10.0.0.1")));
        assert!(!is_local_host(ip("::2")));
    }
}
