//! The address book: where peers can be dialled, with a backoff per address, bounded in
//! size. When full, a new address takes the place of the least useful one: an address
//! that keeps failing, or one never tried; addresses we have reached stay. Only reached
//! addresses (a handshake completed when we dialled them) are gossiped, so junk fed to us
//! is not passed on.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Longest wait between attempts on one address.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Where an address stands.
#[derive(Debug, Clone)]
pub struct AddrEntry {
    /// Failed attempts since the last success.
    pub failures: u32,
    pub next_attempt: Instant,
    /// Named by the user (a seed or an added peer), as opposed to learned from gossip;
    /// never evicted.
    pub seed: bool,
    /// A handshake completed when we dialled it.
    pub reached: bool,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Order of arrival in the book (smaller is older).
    arrival: u64,
}

impl AddrEntry {
    /// Reached, and not failing since.
    fn works(&self) -> bool {
        self.reached && self.failures == 0
    }
}

/// What [`AddressBook::failed`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub wait: Duration,
    pub seed: bool,
}

/// The bounded address book.
#[derive(Debug)]
pub struct AddressBook {
    // Ordered: which of several due addresses is dialed first must not vary from run
    // to run (virtual-time launches repeat exactly).
    entries: BTreeMap<SocketAddr, AddrEntry>,
    /// The seeds among `entries`: a node that dials only seeds (a launch's) looks at
    /// these alone, not at a thousand gossiped addresses, on every tick.
    seeds: BTreeSet<SocketAddr>,
    capacity: usize,
    arrivals: u64,
}

impl AddressBook {
    pub fn new(capacity: usize) -> Self {
        AddressBook {
            entries: BTreeMap::new(),
            seeds: BTreeSet::new(),
            capacity: capacity.max(1),
            arrivals: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, addr: &SocketAddr) -> Option<&AddrEntry> {
        self.entries.get(addr)
    }

    /// Adds an address the user named; it is dialled at once and never evicted.
    pub fn add_seed(&mut self, addr: SocketAddr, now: Instant) {
        let fresh = self.fresh(now);
        self.entries.entry(addr).or_insert(fresh).seed = true;
        self.seeds.insert(addr);
    }

    /// Adds an address learned from gossip, evicting the least useful entry when full.
    /// Returns whether it is in the book now.
    pub fn learn(&mut self, addr: SocketAddr, now: Instant) -> bool {
        if addr.port() == 0 || addr.ip().is_unspecified() || addr.ip().is_multicast() {
            return false;
        }
        if self.entries.contains_key(&addr) {
            return true;
        }
        if self.entries.len() >= self.capacity && !self.evict_one() {
            return false;
        }
        let fresh = self.fresh(now);
        self.entries.insert(addr, fresh);
        true
    }

    /// Forgets `addr` (our own address, say).
    pub fn remove(&mut self, addr: &SocketAddr) {
        self.entries.remove(addr);
        self.seeds.remove(addr);
    }

    /// Addresses due for an attempt, seeds first; learned ones only if `learned`.
    pub fn due(&self, now: Instant, learned: bool) -> Vec<SocketAddr> {
        let candidates: Box<dyn Iterator<Item = (&SocketAddr, &AddrEntry)>> = if learned {
            Box::new(self.entries.iter())
        } else {
            Box::new(
                self.seeds
                    .iter()
                    .filter_map(|addr| self.entries.get_key_value(addr)),
            )
        };
        let mut due: Vec<(&SocketAddr, &AddrEntry)> = candidates
            .filter(|(_, entry)| entry.next_attempt <= now && (entry.seed || learned))
            .collect();
        due.sort_by_key(|(_, entry)| (!entry.seed, !entry.reached, entry.failures));
        due.into_iter().map(|(addr, _)| *addr).collect()
    }

    /// A handshake with `addr`, which we dialled, completed.
    pub fn reached(&mut self, addr: &SocketAddr) {
        if let Some(entry) = self.entries.get_mut(addr) {
            entry.failures = 0;
            entry.reached = true;
            entry.last_error = None;
        }
    }

    /// An attempt on `addr` failed: backs off exponentially (1 s, 2 s, … up to a minute).
    /// Only a completed handshake resets the backoff.
    pub fn failed(&mut self, addr: &SocketAddr, reason: &str, now: Instant) -> Option<Backoff> {
        let entry = self.entries.get_mut(addr)?;
        entry.failures = entry.failures.saturating_add(1);
        let wait = Duration::from_secs(1 << entry.failures.min(6)).min(MAX_BACKOFF);
        entry.next_attempt = now + wait;
        entry.last_error = Some(reason.to_string());
        Some(Backoff {
            wait,
            seed: entry.seed,
        })
    }

    /// Holds off attempts on `addr` until `until` (it banned us, say).
    pub fn defer(&mut self, addr: &SocketAddr, until: Instant, reason: &str) {
        if let Some(entry) = self.entries.get_mut(addr) {
            entry.next_attempt = entry.next_attempt.max(until);
            entry.last_error = Some(reason.to_string());
        }
    }

    /// Lets every address be tried at once (a simulated partition healed).
    pub fn retry_all_now(&mut self, now: Instant) {
        for entry in self.entries.values_mut() {
            entry.next_attempt = entry.next_attempt.min(now);
        }
    }

    /// Up to `limit` addresses worth passing on: reached ones that are not failing now.
    pub fn gossip(&self, limit: usize) -> Vec<SocketAddr> {
        self.entries
            .iter()
            .filter(|(_, entry)| entry.works())
            .map(|(addr, _)| *addr)
            .take(limit)
            .collect()
    }

    fn fresh(&mut self, now: Instant) -> AddrEntry {
        self.arrivals += 1;
        AddrEntry {
            failures: 0,
            next_attempt: now,
            seed: false,
            reached: false,
            last_error: None,
            arrival: self.arrivals,
        }
    }

    /// Drops the least useful non-seed entry, unless every one was reached and works.
    fn evict_one(&mut self) -> bool {
        let victim = self
            .entries
            .iter()
            .filter(|(_, entry)| !entry.seed && !entry.works())
            // Failing most first, then never reached before once reached, then oldest.
            .max_by_key(|(_, entry)| {
                (
                    entry.failures,
                    !entry.reached,
                    std::cmp::Reverse(entry.arrival),
                )
            })
            .map(|(addr, _)| *addr);
        match victim {
            Some(addr) => {
                self.entries.remove(&addr);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u32) -> SocketAddr {
        SocketAddr::from(((0x0a00_0000u32 + i).to_be_bytes(), 1111))
    }

    #[test]
    fn junk_leaves_the_book_at_its_bound_and_is_never_gossiped() {
        let mut book = AddressBook::new(100);
        let now = Instant::now();
        book.learn(addr(0), now);
        book.reached(&addr(0));
        for i in 1..10_001 {
            book.learn(addr(i), now);
        }
        assert_eq!(book.len(), 100);
        assert_eq!(book.gossip(1000), vec![addr(0)]);
    }

    #[test]
    fn failing_addresses_go_before_untried_and_reached_ones_stay() {
        let mut book = AddressBook::new(3);
        let now = Instant::now();
        for i in 0..3 {
            book.learn(addr(i), now);
        }
        book.reached(&addr(0));
        book.failed(&addr(1), "refused", now);
        assert!(book.learn(addr(3), now));
        assert!(book.get(&addr(1)).is_none(), "the failing address stayed");
        assert!(book.learn(addr(4), now));
        assert!(book.get(&addr(2)).is_none(), "the untried address stayed");
        assert!(book.get(&addr(0)).is_some(), "the reached address went");
    }

    #[test]
    fn a_book_full_of_working_addresses_refuses_newcomers() {
        let mut book = AddressBook::new(2);
        let now = Instant::now();
        for i in 0..2 {
            book.learn(addr(i), now);
            book.reached(&addr(i));
        }
        assert!(!book.learn(addr(9), now));
        assert_eq!(book.len(), 2);
    }

    #[test]
    fn seeds_are_never_evicted() {
        let mut book = AddressBook::new(1);
        let now = Instant::now();
        book.add_seed(addr(0), now);
        assert!(!book.learn(addr(1), now));
        assert!(book.get(&addr(0)).is_some());
    }

    #[test]
    fn failures_back_off_exponentially_and_a_handshake_resets() {
        let mut book = AddressBook::new(10);
        let now = Instant::now();
        book.add_seed(addr(0), now);
        let waits: Vec<u64> = (0..8)
            .map(|_| book.failed(&addr(0), "x", now).unwrap().wait.as_secs())
            .collect();
        assert_eq!(waits, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(book.due(now, true).is_empty());
        assert_eq!(book.get(&addr(0)).unwrap().last_error.as_deref(), Some("x"));
        book.reached(&addr(0));
        assert_eq!(book.get(&addr(0)).unwrap().failures, 0);
    }

    #[test]
    fn learned_addresses_are_dialled_only_when_allowed() {
        let mut book = AddressBook::new(10);
        let now = Instant::now();
        book.add_seed(addr(0), now);
        book.learn(addr(1), now);
        assert_eq!(book.due(now, false), vec![addr(0)]);
        assert_eq!(book.due(now, true), vec![addr(0), addr(1)]);
    }

    #[test]
    fn unusable_addresses_are_not_learned() {
        let mut book = AddressBook::new(10);
        let now = Instant::now();
        assert!(!book.learn("10.0.0.1:0".parse().unwrap(), now));
        assert!(!book.learn("0.0.0.0:1111".parse().unwrap(), now));
        assert!(book.is_empty());
    }
}
