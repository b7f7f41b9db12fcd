//! Who gets a client slot. Clients (the command line, wallets, scripts) have their own
//! slots apart from peers, and one host must not take them all: sixteen clients from one
//! address asking for the tip every second would otherwise hold every slot, and the
//! user's own command line would be told the node is busy.
//!
//! So each address holds at most a few slots; when the slots are full, an idle client
//! gives way first, and otherwise a newcomer from a host holding fewer slots than the
//! largest holder takes the least recently active slot of that holder. The local host
//! (127.0.0.1, ::1: the user's own command line) is never refused and has no per-address
//! cap, and remote newcomers do not take its slots.

use super::local_host::is_local_host;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A client holding a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSlot<Id> {
    pub id: Id,
    pub ip: IpAddr,
    /// Its last request (pings aside).
    pub last_active: Instant,
}

/// What to do with a client that completed its hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAdmission<Id> {
    /// A slot is free.
    Admit,
    /// Admit it in the slot of this client, which is to be closed.
    Replace(Id),
    /// No slot: the reason, for the client.
    Refuse(String),
}

/// The client-slot rules.
#[derive(Debug, Clone, Copy)]
pub struct ClientSlots {
    /// Slots in all.
    pub max_clients: usize,
    /// Slots one remote address may hold.
    pub max_per_ip: usize,
    /// A client idle at least this long gives its slot to a newcomer.
    pub yield_idle: Duration,
}

impl ClientSlots {
    /// Decides on a newcomer from `ip`, given the clients holding slots now.
    pub fn admit<Id: Copy>(
        &self,
        clients: &[ClientSlot<Id>],
        ip: IpAddr,
        now: Instant,
    ) -> ClientAdmission<Id> {
        let local = is_local_host(ip);
        let idlest = |slots: &mut dyn Iterator<Item = &ClientSlot<Id>>| {
            slots
                .filter(|slot| now.saturating_duration_since(slot.last_active) >= self.yield_idle)
                .min_by_key(|slot| slot.last_active)
                .map(|slot| slot.id)
        };
        let from_ip = clients.iter().filter(|slot| slot.ip == ip).count();
        if !local && from_ip >= self.max_per_ip {
            return match idlest(&mut clients.iter().filter(|slot| slot.ip == ip)) {
                Some(id) => ClientAdmission::Replace(id),
                None => ClientAdmission::Refuse(format!(
                    "too many clients from {ip} (limit {})",
                    self.max_per_ip
                )),
            };
        }
        if clients.len() < self.max_clients {
            return ClientAdmission::Admit;
        }
        if let Some(id) = idlest(&mut clients.iter()) {
            return ClientAdmission::Replace(id);
        }
        // Every slot is busy: the largest holder gives up its least recently active slot
        // to a host holding fewer (always to the local host; never the local host's to a
        // remote one).
        let held = |ip: IpAddr| clients.iter().filter(|slot| slot.ip == ip).count();
        let takeable = clients
            .iter()
            .filter(|slot| local || !is_local_host(slot.ip));
        let most = takeable
            .clone()
            .map(|slot| held(slot.ip))
            .max()
            .unwrap_or(0);
        if local || most > from_ip + 1 {
            let victim = takeable
                .filter(|slot| held(slot.ip) == most)
                .min_by_key(|slot| slot.last_active);
            if let Some(slot) = victim {
                return ClientAdmission::Replace(slot.id);
            }
        }
        ClientAdmission::Refuse(format!(
            "the node is busy: {} clients connected",
            clients.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const SLOTS: ClientSlots = ClientSlots {
        max_clients: 4,
        max_per_ip: 2,
        yield_idle: Duration::from_secs(1),
    };

    /// `count` busy clients from `host`, ids from `first`.
    fn busy(host: &str, first: u32, count: u32, now: Instant) -> Vec<ClientSlot<u32>> {
        (first..first + count)
            .map(|id| ClientSlot {
                id,
                ip: ip(host),
                last_active: now,
            })
            .collect()
    }

    #[test]
    fn one_remote_address_holds_at_most_its_share() {
        let now = Instant::now();
        let clients = busy("127.0.2.1", 0, 2, now);
        assert_eq!(
            SLOTS.admit(&clients, ip("127.0.2.1"), now),
            ClientAdmission::Refuse("too many clients from 127.0.2.1 (limit 2)".into())
        );
        assert_eq!(
            SLOTS.admit(&clients, ip("127.0.2.2"), now),
            ClientAdmission::Admit
        );
        // Its own idle client gives way to it.
        let later = now + Duration::from_secs(2);
        assert_eq!(
            SLOTS.admit(&clients, ip("127.0.2.1"), later),
            ClientAdmission::Replace(0)
        );
    }

    #[test]
    fn the_local_host_has_no_cap_and_always_gets_a_slot() {
        let now = Instant::now();
        let mut clients = busy("127.0.0.1", 0, 3, now);
        assert_eq!(
            SLOTS.admit(&clients, ip("127.0.0.1"), now),
            ClientAdmission::Admit
        );
        clients.extend(busy("127.0.2.1", 10, 1, now));
        // Full of busy clients: the largest holder (the local host itself) gives way.
        assert_eq!(
            SLOTS.admit(&clients, ip("::1"), now),
            ClientAdmission::Replace(0)
        );
        let mut remote = busy("127.0.2.1", 0, 2, now);
        remote.extend(busy("127.0.2.2", 2, 2, now + Duration::from_millis(1)));
        assert_eq!(
            SLOTS.admit(&remote, ip("127.0.0.1"), now),
            ClientAdmission::Replace(0)
        );
    }

    #[test]
    fn when_full_an_idle_client_yields_then_the_largest_holder_then_none() {
        let now = Instant::now();
        let mut clients = busy("127.0.2.1", 0, 2, now);
        clients.extend(busy("127.0.2.2", 2, 1, now));
        clients.push(ClientSlot {
            id: 9,
            ip: ip("127.0.2.3"),
            last_active: now - Duration::from_secs(5),
        });
        assert_eq!(
            SLOTS.admit(&clients, ip("127.0.2.4"), now),
            ClientAdmission::Replace(9)
        );
        clients.pop();
        clients.extend(busy("127.0.2.2", 3, 1, now));
        // Two hosts with two busy slots each: a third host holding none takes one.
        assert_eq!(
            SLOTS.admit(&clients, ip("127.0.2.4"), now),
            ClientAdmission::Replace(0)
        );
        // A host holding one of four busy slots spread evenly is refused.
        let even: Vec<_> = (0..4)
            .flat_map(|i| busy(&format!("127.0.2.{}", i + 1), i, 1, now))
            .collect();
        assert_eq!(
            SLOTS.admit(&even, ip("127.0.2.1"), now),
            ClientAdmission::Refuse("the node is busy: 4 clients connected".into())
        );
    }

    #[test]
    fn remote_newcomers_do_not_take_the_local_hosts_slots() {
        let now = Instant::now();
        let clients = busy("127.0.0.1", 0, 4, now);
        assert_eq!(
            SLOTS.admit(&clients, ip("127.0.2.1"), now),
            ClientAdmission::Refuse("the node is busy: 4 clients connected".into())
        );
    }
}
