//! Address groups: the unit of "the same host or network" for per-group limits and for
//! inbound eviction. An attacker with many addresses in one /16 counts as one group, as
//! in Bitcoin Core. On loopback every address is its own group, because tests and
//! launches model distinct hosts by distinct loopback addresses (127.0.0.2, 127.0.0.3, …).

use std::net::IpAddr;

/// A group of addresses thought to belong to one operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetGroup {
    /// One loopback address (a modelled host).
    Loopback(IpAddr),
    /// The first two octets of an IPv4 address.
    V4Slash16([u8; 2]),
    /// The first 32 bits of an IPv6 address.
    V6Slash32([u8; 4]),
}

impl NetGroup {
    pub fn of(ip: IpAddr) -> NetGroup {
        if ip.is_loopback() {
            return NetGroup::Loopback(ip);
        }
        match ip {
            IpAddr::V4(v4) => {
                let [a, b, _, _] = v4.octets();
                NetGroup::V4Slash16([a, b])
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => NetGroup::of(IpAddr::V4(v4)),
                None => {
                    let octets = v6.octets();
                    NetGroup::V6Slash32([octets[0], octets[1], octets[2], octets[3]])
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_groups_by_slash16() {
        assert_eq!(NetGroup::of(ip("10.1.2.3")), NetGroup::of(ip("10.1.200.9")));
        assert_ne!(NetGroup::of(ip("10.1.2.3")), NetGroup::of(ip("10.2.2.3")));
    }

    #[test]
    fn each_loopback_address_is_its_own_group() {
        assert_ne!(NetGroup::of(ip("127.0.0.2")), NetGroup::of(ip("127.0.0.3")));
        assert_eq!(NetGroup::of(ip("127.0.0.2")), NetGroup::of(ip("127.0.0.2")));
    }

    #[test]
    fn ipv6_groups_by_slash32_and_mapped_v4_as_v4() {
        assert_eq!(
            NetGroup::of(ip("2001:db8:1::1")),
            NetGroup::of(ip("2001:db8:ffff::2"))
        );
        assert_eq!(
            NetGroup::of(ip("::ffff:10.1.2.3")),
            NetGroup::of(ip("10.1.9.9"))
        );
    }
}
