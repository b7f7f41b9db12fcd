//! The networks a node dials, like Bitcoin Core's `-onlynet`: gossip can name any
//! address on any network, and a node that dials whatever it hears can be pointed at
//! hosts of the attacker's choosing. `--only-net loopback` (or `[node] only_net`) keeps
//! every dial on this machine, as tests and launches do; the default dials every network.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network as `--only-net` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Net {
    /// 127.0.0.0/8 and ::1.
    Loopback,
    /// Every IPv4 address (loopback ones too).
    Ipv4,
    /// Every IPv6 address that is not an IPv4 one written as IPv6.
    Ipv6,
}

impl Net {
    fn contains(self, ip: IpAddr) -> bool {
        match (self, ip.to_canonical()) {
            (Net::Loopback, ip) => ip.is_loopback(),
            (Net::Ipv4, ip) => ip.is_ipv4(),
            (Net::Ipv6, ip) => ip.is_ipv6(),
        }
    }
}

impl FromStr for Net {
    type Err = String;

    fn from_str(text: &str) -> Result<Net, String> {
        match text {
            "loopback" => Ok(Net::Loopback),
            "ipv4" => Ok(Net::Ipv4),
            "ipv6" => Ok(Net::Ipv6),
            other => Err(format!(
                "\"{other}\" is not a network: expected loopback, ipv4 or ipv6"
            )),
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Net::Loopback => "loopback",
            Net::Ipv4 => "ipv4",
            Net::Ipv6 => "ipv6",
        })
    }
}

impl Serialize for Net {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Net {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Net, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The networks dialed: every network when none is named.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OnlyNet(Vec<Net>);

impl OnlyNet {
    /// Every network (a node on the internet).
    pub fn any() -> OnlyNet {
        OnlyNet(Vec::new())
    }

    /// This machine only.
    pub fn loopback() -> OnlyNet {
        OnlyNet(vec![Net::Loopback])
    }

    /// The networks named in `names` (none: every network), or the first name's reason.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<OnlyNet, String> {
        let nets = names
            .iter()
            .map(|name| name.as_ref().parse())
            .collect::<Result<Vec<Net>, String>>()?;
        Ok(OnlyNet::of(nets))
    }

    /// These networks (none: every network).
    pub fn of(mut nets: Vec<Net>) -> OnlyNet {
        nets.sort();
        nets.dedup();
        OnlyNet(nets)
    }

    /// Whether `ip` may be dialed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.0.is_empty() || self.0.iter().any(|net| net.contains(ip))
    }
}

impl fmt::Display for OnlyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("any network");
        }
        let names: Vec<String> = self.0.iter().map(Net::to_string).collect();
        f.write_str(&names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn loopback_allows_this_machine_only() {
        let only = OnlyNet::loopback();
        for local in ["127.0.0.1", "127.0.150.1", "::1", "::ffff:127.0.0.2"] {
            assert!(only.allows(ip(local)), "{local}");
        }
        for remote in ["10.0.0.1", "8.8.8.8", "2001:db8::1", "::ffff:10.0.0.1"] {
            assert!(!only.allows(ip(remote)), "{remote}");
        }
    }

    #[test]
    fn networks_combine_and_none_named_allows_every_address() {
        let v6 = OnlyNet::parse(&["ipv6", "loopback"]).unwrap();
        assert!(v6.allows(ip("2001:db8::1")));
        assert!(v6.allows(ip("127.0.0.1")));
        assert!(!v6.allows(ip("10.0.0.1")));
        assert!(
            !v6.allows(ip("::ffff:10.0.0.1")),
            "an IPv4 address in IPv6 form"
        );
        assert!(OnlyNet::parse(&["ipv4"]).unwrap().allows(ip("10.0.0.1")));
        let any = OnlyNet::parse::<&str>(&[]).unwrap();
        assert_eq!(any, OnlyNet::any());
        assert!(any.allows(ip("8.8.8.8")));
    }

    #[test]
    fn an_unknown_network_is_refused_with_the_choices() {
        assert_eq!(
            OnlyNet::parse(&["loopback", "onion"]),
            Err("\"onion\" is not a network: expected loopback, ipv4 or ipv6".into())
        );
    }
}
