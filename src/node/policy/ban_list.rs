//! Misbehaviour scores and bans, by IP address (not `IP:port`): a banned host must not
//! come back from its next ephemeral port, and a host that misbehaves on several
//! connections adds up its score. Scores are forgotten a while after the last offence,
//! and the number of hosts tracked is bounded, so a swarm of addresses cannot grow it.
//!
//! The local host (127.0.0.1, ::1) is scored like any other, but reaching the threshold
//! only disconnects the offending connection: the user's command line and explorer share
//! that address, and a buggy local script must not lock them out (as in Bitcoin Core).
//! Every surface that scores by IP (the P2P door and the HTTP API) goes through this list,
//! so all of them follow that rule.

use super::local_host::is_local_host;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Misbehaviour score at which a host is banned.
pub const BAN_THRESHOLD: u32 = 100;
/// How long a ban lasts, and how long a score is remembered after the last offence.
pub const BAN_DURATION: Duration = Duration::from_secs(600);
/// Hosts tracked at most (scored or banned).
const MAX_TRACKED: usize = 10_000;

/// What a misbehaviour report led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The host's score is now `total`, below the threshold.
    Scored { total: u32 },
    /// The host reached the threshold and is banned until then.
    Banned { until: Instant },
    /// The local host reached the threshold: the offending connection is to be closed,
    /// and the host is not banned (its score starts again from zero).
    Disconnected,
    /// The host was banned already: the report adds nothing.
    AlreadyBanned,
}

#[derive(Debug, Clone, Copy)]
struct Record {
    score: u32,
    last_offence: Instant,
    banned_until: Option<Instant>,
}

/// Scores and bans by host.
#[derive(Debug, Default)]
pub struct BanList {
    hosts: HashMap<IpAddr, Record>,
}

impl BanList {
    /// Until when `ip` is banned, if it is.
    pub fn banned_until(&self, ip: IpAddr, now: Instant) -> Option<Instant> {
        self.hosts
            .get(&ip)
            .and_then(|record| record.banned_until)
            .filter(|until| *until > now)
    }

    /// Adds `points` to the host's score; bans it at the threshold.
    pub fn misbehaved(&mut self, ip: IpAddr, points: u32, now: Instant) -> Verdict {
        if self.banned_until(ip, now).is_some() {
            return Verdict::AlreadyBanned;
        }
        self.make_room(ip, now);
        let record = self.hosts.entry(ip).or_insert(Record {
            score: 0,
            last_offence: now,
            banned_until: None,
        });
        if now.saturating_duration_since(record.last_offence) > BAN_DURATION {
            record.score = 0;
        }
        record.score = record.score.saturating_add(points);
        record.last_offence = now;
        if record.score >= BAN_THRESHOLD && is_local_host(ip) {
            record.score = 0;
            Verdict::Disconnected
        } else if record.score >= BAN_THRESHOLD {
            let until = now + BAN_DURATION;
            record.banned_until = Some(until);
            record.score = 0;
            Verdict::Banned { until }
        } else {
            Verdict::Scored {
                total: record.score,
            }
        }
    }

    /// Forgets expired bans and stale scores.
    pub fn expire(&mut self, now: Instant) {
        self.hosts.retain(|_, record| {
            record.banned_until.is_some_and(|until| until > now)
                || now.saturating_duration_since(record.last_offence) <= BAN_DURATION
        });
    }

    /// Hosts tracked.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Keeps the table bounded: at the limit, the unbanned host with the oldest offence
    /// goes (bans are kept, since forgetting them is what an attacker would want).
    fn make_room(&mut self, incoming: IpAddr, now: Instant) {
        if self.hosts.len() < MAX_TRACKED || self.hosts.contains_key(&incoming) {
            return;
        }
        self.expire(now);
        if self.hosts.len() < MAX_TRACKED {
            return;
        }
        let oldest = self
            .hosts
            .iter()
            .filter(|(_, record)| record.banned_until.is_none())
            .min_by_key(|(_, record)| record.last_offence)
            .map(|(ip, _)| *ip);
        let victim = oldest.or_else(|| {
            self.hosts
                .iter()
                .min_by_key(|(_, record)| record.banned_until)
                .map(|(ip, _)| *ip)
        });
        if let Some(ip) = victim {
            self.hosts.remove(&ip);
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
    fn scores_add_up_across_reports_until_a_ban() {
        let mut bans = BanList::default();
        let now = Instant::now();
        assert_eq!(
            bans.misbehaved(ip("127.0.0.2"), 50, now),
            Verdict::Scored { total: 50 }
        );
        assert!(bans.banned_until(ip("127.0.0.2"), now).is_none());
        let Verdict::Banned { until } = bans.misbehaved(ip("127.0.0.2"), 50, now) else {
            panic!("not banned at the threshold");
        };
        assert_eq!(until, now + BAN_DURATION);
        assert_eq!(bans.banned_until(ip("127.0.0.2"), now), Some(until));
        assert_eq!(
            bans.misbehaved(ip("127.0.0.2"), 50, now),
            Verdict::AlreadyBanned
        );
    }

    #[test]
    fn the_local_host_is_disconnected_never_banned_and_other_loopback_hosts_are() {
        let mut bans = BanList::default();
        let now = Instant::now();
        for local in [ip("127.0.0.1"), ip("::1"), ip("::ffff:127.0.0.1")] {
            assert_eq!(
                bans.misbehaved(local, 50, now),
                Verdict::Scored { total: 50 }
            );
            assert_eq!(bans.misbehaved(local, 50, now), Verdict::Disconnected);
            assert!(bans.banned_until(local, now).is_none());
            assert_eq!(
                bans.misbehaved(local, BAN_THRESHOLD, now),
                Verdict::Disconnected,
                "a score past the threshold disconnects again, and still does not ban"
            );
            assert!(bans.banned_until(local, now).is_none());
        }
        assert!(matches!(
            bans.misbehaved(ip("127.0.0.2"), BAN_THRESHOLD, now),
            Verdict::Banned { .. }
        ));
        assert!(bans.banned_until(ip("127.0.0.2"), now).is_some());
    }

    #[test]
    fn a_ban_covers_the_host_and_no_other() {
        let mut bans = BanList::default();
        let now = Instant::now();
        bans.misbehaved(ip("127.0.0.2"), BAN_THRESHOLD, now);
        assert!(bans.banned_until(ip("127.0.0.2"), now).is_some());
        assert!(bans.banned_until(ip("127.0.0.3"), now).is_none());
    }

    #[test]
    fn bans_and_scores_expire() {
        let mut bans = BanList::default();
        let now = Instant::now();
        bans.misbehaved(ip("10.0.0.1"), BAN_THRESHOLD, now);
        bans.misbehaved(ip("10.0.0.2"), 10, now);
        let later = now + BAN_DURATION + Duration::from_secs(1);
        assert!(bans.banned_until(ip("10.0.0.1"), later).is_none());
        assert_eq!(
            bans.misbehaved(ip("10.0.0.2"), 10, later),
            Verdict::Scored { total: 10 },
            "an old score was not forgotten"
        );
        bans.expire(later + BAN_DURATION + Duration::from_secs(1));
        assert!(bans.is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_keeps_bans() {
        let mut bans = BanList::default();
        let now = Instant::now();
        bans.misbehaved(ip("10.9.9.9"), BAN_THRESHOLD, now);
        for i in 0..(MAX_TRACKED as u32 + 500) {
            let host = IpAddr::from((0x0b00_0000u32 + i).to_be_bytes());
            bans.misbehaved(host, 1, now + Duration::from_millis(u64::from(i)));
        }
        assert_eq!(bans.len(), MAX_TRACKED);
        assert!(bans.banned_until(ip("10.9.9.9"), now).is_some());
    }
}
