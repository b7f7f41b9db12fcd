//! Which inbound connection gives way when the slots are full, as Bitcoin Core chooses
//! (`SelectNodeToEvict`): a newcomer must be able to get in, yet an attacker who opens
//! many connections must not be able to push out the peers that serve us best.
//!
//! Sockets that have not completed a hello go first (the oldest of the largest address
//! group). Among handshaken peers, these are protected: peers from distinct address
//! groups, the lowest ping, those that most recently gave us new transactions and new
//! blocks, and the longest connected half of the rest. The youngest connection of the
//! largest remaining group is evicted; if nobody remains, the newcomer is refused.

use super::net_group::NetGroup;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const PROTECT_DISTINCT_GROUPS: usize = 4;
const PROTECT_LOWEST_PING: usize = 8;
const PROTECT_RECENT_TXS: usize = 4;
const PROTECT_RECENT_BLOCKS: usize = 4;

/// One inbound connection, as eviction sees it.
#[derive(Debug, Clone)]
pub struct Candidate<Id> {
    pub id: Id,
    pub group: NetGroup,
    pub connected_at: Instant,
    pub min_ping: Option<Duration>,
    /// When it last gave us a block new to us.
    pub last_block: Option<Instant>,
    /// When it last gave us a transaction new to us.
    pub last_tx: Option<Instant>,
}

/// The un-handshaken socket to close for a newcomer: the oldest of the largest group.
pub fn choose_pending<Id: Copy>(pending: &[Candidate<Id>]) -> Option<Id> {
    let group = largest_group(pending)?;
    pending
        .iter()
        .filter(|candidate| candidate.group == group)
        .min_by_key(|candidate| candidate.connected_at)
        .map(|candidate| candidate.id)
}

/// The handshaken peer to evict for a newcomer, or `None` if every one is protected.
/// `group_key` orders groups for the distinct-group protection; a per-node secret makes
/// it unpredictable, so an attacker cannot pick groups that win it.
pub fn choose_peer<Id: Copy>(
    peers: &[Candidate<Id>],
    group_key: impl Fn(&NetGroup) -> u64,
) -> Option<Id> {
    let mut left: Vec<&Candidate<Id>> = peers.iter().collect();

    left.sort_by_key(|candidate| group_key(&candidate.group));
    let mut seen = Vec::new();
    left.retain(|candidate| {
        if seen.len() < PROTECT_DISTINCT_GROUPS && !seen.contains(&candidate.group) {
            seen.push(candidate.group);
            false
        } else {
            true
        }
    });
    protect(&mut left, PROTECT_LOWEST_PING, |candidate| {
        candidate.min_ping.map(Reverse)
    });
    protect(&mut left, PROTECT_RECENT_TXS, |candidate| candidate.last_tx);
    protect(&mut left, PROTECT_RECENT_BLOCKS, |candidate| {
        candidate.last_block
    });
    let half = left.len() / 2;
    protect(&mut left, half, |candidate| {
        Some(Reverse(candidate.connected_at))
    });

    let group = largest_group(left.iter().copied())?;
    left.into_iter()
        .filter(|candidate| candidate.group == group)
        .max_by_key(|candidate| candidate.connected_at)
        .map(|candidate| candidate.id)
}

/// Removes from `left` the `count` candidates with the highest `key` that have one.
fn protect<Id, K: Ord>(
    left: &mut Vec<&Candidate<Id>>,
    count: usize,
    key: impl Fn(&Candidate<Id>) -> Option<K>,
) {
    left.sort_by_key(|candidate| Reverse(key(candidate)));
    let protected = left
        .iter()
        .take(count)
        .take_while(|candidate| key(candidate).is_some())
        .count();
    left.drain(..protected);
}

/// The group with the most candidates; ties go to the group with the youngest member,
/// as in Bitcoin Core.
fn largest_group<'a, Id: 'a>(
    candidates: impl IntoIterator<Item = &'a Candidate<Id>>,
) -> Option<NetGroup> {
    let mut groups: HashMap<NetGroup, (usize, Instant)> = HashMap::new();
    for candidate in candidates {
        let entry = groups
            .entry(candidate.group)
            .or_insert((0, candidate.connected_at));
        entry.0 += 1;
        entry.1 = entry.1.max(candidate.connected_at);
    }
    groups
        .into_iter()
        .max_by_key(|(group, (count, youngest))| (*count, *youngest, *group))
        .map(|(group, _)| group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn group(ip: &str) -> NetGroup {
        NetGroup::of(ip.parse::<IpAddr>().unwrap())
    }

    fn peer(id: u32, ip: &str, age_s: u64, now: Instant) -> Candidate<u32> {
        Candidate {
            id,
            group: group(ip),
            connected_at: now - Duration::from_secs(age_s),
            min_ping: None,
            last_block: None,
            last_tx: None,
        }
    }

    fn no_key(_: &NetGroup) -> u64 {
        0
    }

    #[test]
    fn pending_eviction_takes_the_oldest_of_the_largest_group() {
        let now = Instant::now();
        let pending = vec![
            peer(1, "127.0.0.1", 50, now),
            peer(2, "127.0.0.2", 40, now),
            peer(3, "127.0.0.2", 30, now),
            peer(4, "127.0.0.2", 20, now),
            peer(5, "127.0.0.3", 99, now),
        ];
        assert_eq!(choose_pending(&pending), Some(2));
        assert_eq!(choose_pending::<u32>(&[]), None);
    }

    #[test]
    fn a_few_peers_are_all_protected() {
        let now = Instant::now();
        let peers: Vec<_> = (0..4)
            .map(|i| peer(i, &format!("10.{i}.0.1"), 10, now))
            .collect();
        assert_eq!(choose_peer(&peers, no_key), None);
    }

    #[test]
    fn the_largest_group_loses_its_youngest_and_useful_peers_stay() {
        let now = Instant::now();
        // Four honest peers in distinct groups, one that relays blocks, one that relays
        // transactions, and an attacker with 30 connections from one /16.
        let mut peers = vec![
            peer(1, "10.1.0.1", 500, now),
            peer(2, "10.2.0.1", 500, now),
            peer(3, "10.3.0.1", 500, now),
            peer(4, "10.4.0.1", 500, now),
        ];
        let mut relayer = peer(5, "10.9.0.5", 1, now);
        relayer.last_block = Some(now);
        let mut tx_source = peer(6, "10.9.0.6", 1, now);
        tx_source.last_tx = Some(now);
        peers.push(relayer);
        peers.push(tx_source);
        for i in 0..30 {
            peers.push(peer(100 + i, "10.66.1.1", 100 - u64::from(i), now));
        }
        let evicted = choose_peer(&peers, no_key).expect("someone is evicted");
        assert_eq!(evicted, 129, "not the attacker's youngest");
    }

    #[test]
    fn lowest_ping_is_protected() {
        let now = Instant::now();
        // Oldest first, so the distinct-group protection takes the oldest (id 39).
        let mut peers: Vec<_> = (0..40)
            .rev()
            .map(|i| peer(i, "10.66.1.1", 10 + u64::from(i), now))
            .collect();
        // The youngest (id 0) would go first, but its ping is the best.
        for candidate in peers.iter_mut() {
            candidate.min_ping = match candidate.id {
                0 => Some(Duration::from_millis(1)),
                1..=7 => Some(Duration::from_millis(50)),
                _ => None,
            };
        }
        let evicted = choose_peer(&peers, no_key).unwrap();
        assert_ne!(evicted, 0);
        assert_eq!(evicted, 8, "the youngest unprotected one");
    }
}
