//! What the explorer's HTTP clients may hold and take, per address and in total, as a
//! peer's budget bounds a peer: requests in flight, live event streams (each one an open
//! socket for as long as the page stays open), bytes served per time window, and
//! signature checks spent on forged transactions per window (the local host is never
//! banned for those, so without this budget it could make the node verify forever). A client
//! past its own share is answered 429 with the reason; when the explorer as a whole is
//! full, 503. Nothing is queued: a refusal costs the node one short answer.
//!
//! The table of addresses is bounded too, so a swarm of source addresses (127.0.0.0/8
//! alone has sixteen million) cannot grow it.

use super::request_gate::Refusal;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The bounds, derived from the node's open-file limit ([`crate::node::open_files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Requests being answered at once, all clients together.
    pub max_requests: usize,
    pub max_requests_per_ip: usize,
    /// Live event streams (`/api/events`), all clients together.
    pub max_streams: usize,
    pub max_streams_per_ip: usize,
    /// Trees and pages of blocks being built at once, all clients together.
    pub max_heavy: usize,
    pub max_heavy_per_ip: usize,
    /// Response bytes one address is served per [`Self::window`].
    pub bytes_per_ip: u64,
    /// Transactions with forged signatures one address may submit per window; past it,
    /// its submissions are refused before their signature is checked.
    pub forged_per_ip: u32,
    pub window: Duration,
    /// Addresses tracked at most.
    pub max_tracked: usize,
}

impl Default for BudgetLimits {
    fn default() -> Self {
        BudgetLimits {
            max_requests: 64,
            max_requests_per_ip: 16,
            max_streams: 256,
            max_streams_per_ip: 8,
            max_heavy: 8,
            max_heavy_per_ip: 2,
            bytes_per_ip: 512 << 20,
            // As many as get a remote address banned (a ban threshold of 100, 20 each).
            forged_per_ip: 5,
            window: Duration::from_secs(60),
            max_tracked: 10_000,
        }
    }
}

impl BudgetLimits {
    /// The most holds of `hold`'s kind: (per address, in total).
    fn caps(&self, hold: Hold) -> (usize, usize) {
        match hold {
            Hold::Request => (self.max_requests_per_ip, self.max_requests),
            Hold::Stream => (self.max_streams_per_ip, self.max_streams),
            Hold::Heavy => (self.max_heavy_per_ip, self.max_heavy),
        }
    }
}

/// What a request holds while it is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Any request, until its answer is built.
    Request,
    /// An event stream, until its socket closes.
    Stream,
    /// A request that reads many blocks (a tree, a page of blocks), besides its
    /// [`Hold::Request`], until its answer is built: few at once, since they share the
    /// chain actor with mining and peers.
    Heavy,
}

/// Kinds of [`Hold`].
const HOLDS: usize = 3;

impl Hold {
    fn what(self) -> &'static str {
        match self {
            Hold::Request => "requests in flight",
            Hold::Stream => "event streams open",
            Hold::Heavy => "trees or pages of blocks being built",
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Client {
    /// Holds of each kind, by [`Hold`] as an index.
    held: [usize; HOLDS],
    served: u64,
    forged: u32,
    window_start: Option<Instant>,
}

impl Client {
    fn idle(&self) -> bool {
        self.held.iter().all(|held| *held == 0)
    }
}

/// Every client's use of the explorer.
#[derive(Debug)]
pub struct ClientBudgets {
    limits: BudgetLimits,
    clients: HashMap<IpAddr, Client>,
    /// Holds of each kind, all clients together.
    held: [usize; HOLDS],
}

impl ClientBudgets {
    pub fn new(limits: BudgetLimits) -> Self {
        ClientBudgets {
            limits,
            clients: HashMap::new(),
            held: [0; HOLDS],
        }
    }

    pub fn limits(&self) -> &BudgetLimits {
        &self.limits
    }

    /// Takes a `hold` for `ip`, or says why not. Every admitted hold must be
    /// [`Self::release`]d.
    pub fn admit(&mut self, ip: IpAddr, hold: Hold, now: Instant) -> Result<(), Refusal> {
        let limits = &self.limits;
        let client = self.clients.get(&ip).copied().unwrap_or_default();
        let in_window = client
            .window_start
            .is_some_and(|start| now.saturating_duration_since(start) < limits.window);
        if in_window && client.served >= limits.bytes_per_ip {
            return Err(refuse(
                429,
                format!(
                    "{ip} was served {} MiB in the last {} s, the most one address gets; \
                     try again later",
                    client.served >> 20,
                    limits.window.as_secs()
                ),
            ));
        }
        let (per_ip, total) = limits.caps(hold);
        let held = client.held[hold as usize];
        if held >= per_ip {
            return Err(refuse(
                429,
                format!(
                    "{ip} has {held} {}, the most one address may have",
                    hold.what()
                ),
            ));
        }
        let all = self.held[hold as usize];
        if all >= total {
            return Err(refuse(
                503,
                format!(
                    "the explorer has {all} {}, its most; try again shortly",
                    hold.what()
                ),
            ));
        }
        if !self.clients.contains_key(&ip) && !self.make_room(now) {
            return Err(refuse(
                503,
                "the explorer is serving as many addresses as it tracks; try again later",
            ));
        }
        self.clients.entry(ip).or_default().held[hold as usize] += 1;
        self.held[hold as usize] += 1;
        Ok(())
    }

    /// Gives back a hold taken by [`Self::admit`].
    pub fn release(&mut self, ip: IpAddr, hold: Hold) {
        let Some(client) = self.clients.get_mut(&ip) else {
            return;
        };
        let held = &mut client.held[hold as usize];
        if *held > 0 {
            *held -= 1;
            self.held[hold as usize] -= 1;
        }
        if client.idle() && client.window_start.is_none() {
            self.clients.remove(&ip);
        }
    }

    /// Counts `bytes` of answer served to `ip`.
    pub fn served(&mut self, ip: IpAddr, bytes: u64, now: Instant) {
        if let Some(client) = self.current(ip, now) {
            client.served = client.served.saturating_add(bytes);
        }
    }

    /// Counts a transaction with a forged signature from `ip`.
    pub fn forged(&mut self, ip: IpAddr, now: Instant) {
        if let Some(client) = self.current(ip, now) {
            client.forged = client.forged.saturating_add(1);
        }
    }

    /// Whether `ip` may have a transaction's signature checked, or has spent its share
    /// on forged ones in this window.
    pub fn may_submit(&self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let limits = &self.limits;
        match self.clients.get(&ip) {
            Some(client)
                if client.forged >= limits.forged_per_ip
                    && client.window_start.is_some_and(|start| {
                        now.saturating_duration_since(start) < limits.window
                    }) =>
            {
                Err(refuse(
                    429,
                    format!(
                        "{ip} sent {} transactions with forged signatures in the last {} s; \
                         its submissions are refused until then",
                        client.forged,
                        limits.window.as_secs()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The use of `ip` in the current window (a new window once the last one ended).
    /// Admitted clients are tracked until their holds are released, and their use is
    /// counted before that: an untracked address was never admitted.
    fn current(&mut self, ip: IpAddr, now: Instant) -> Option<&mut Client> {
        let window = self.limits.window;
        let client = self.clients.get_mut(&ip)?;
        if client
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= window)
        {
            client.window_start = Some(now);
            client.served = 0;
            client.forged = 0;
        }
        Some(client)
    }

    /// Holds of `hold`'s kind in use, all clients together.
    pub fn in_use(&self, hold: Hold) -> usize {
        self.held[hold as usize]
    }

    /// Addresses tracked.
    pub fn tracked(&self) -> usize {
        self.clients.len()
    }

    /// Whether a new address can be tracked, forgetting idle ones whose window ended and
    /// then, if still full, the idle one whose window started first.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.clients.len() < self.limits.max_tracked {
            return true;
        }
        let window = self.limits.window;
        self.clients.retain(|_, client| {
            !client.idle()
                || client
                    .window_start
                    .is_some_and(|start| now.saturating_duration_since(start) < window)
        });
        if self.clients.len() < self.limits.max_tracked {
            return true;
        }
        let oldest = self
            .clients
            .iter()
            .filter(|(_, client)| client.idle())
            .min_by_key(|(_, client)| client.window_start)
            .map(|(ip, _)| *ip);
        match oldest {
            Some(ip) => {
                self.clients.remove(&ip);
                true
            }
            None => false,
        }
    }
}

fn refuse(status: u16, reason: impl Into<String>) -> Refusal {
    Refusal {
        status,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from((0x7f00_0000u32 + n).to_be_bytes())
    }

    fn small() -> BudgetLimits {
        BudgetLimits {
            max_requests: 5,
            max_requests_per_ip: 2,
            max_streams: 3,
            max_streams_per_ip: 2,
            max_heavy: 3,
            max_heavy_per_ip: 1,
            bytes_per_ip: 1_000,
            forged_per_ip: 2,
            window: Duration::from_secs(60),
            max_tracked: 4,
        }
    }

    #[test]
    fn requests_in_flight_are_capped_per_address_and_in_total() {
        let mut budgets = ClientBudgets::new(small());
        let now = Instant::now();
        for _ in 0..2 {
            budgets.admit(ip(1), Hold::Request, now).unwrap();
        }
        let refusal = budgets.admit(ip(1), Hold::Request, now).unwrap_err();
        assert_eq!(refusal.status, 429);
        assert!(refusal.reason.contains("requests in flight"), "{refusal:?}");
        // Other addresses still get in, up to the total.
        budgets.admit(ip(2), Hold::Request, now).unwrap();
        budgets.admit(ip(2), Hold::Request, now).unwrap();
        budgets.admit(ip(3), Hold::Request, now).unwrap();
        assert_eq!(budgets.in_use(Hold::Request), 5);
        assert_eq!(
            budgets.admit(ip(4), Hold::Request, now).unwrap_err().status,
            503
        );
        // A released hold makes room again.
        budgets.release(ip(1), Hold::Request);
        budgets.admit(ip(1), Hold::Request, now).unwrap();
    }

    #[test]
    fn event_streams_are_capped_per_address_and_in_total() {
        let mut budgets = ClientBudgets::new(small());
        let now = Instant::now();
        budgets.admit(ip(1), Hold::Stream, now).unwrap();
        budgets.admit(ip(1), Hold::Stream, now).unwrap();
        assert_eq!(
            budgets.admit(ip(1), Hold::Stream, now).unwrap_err().status,
            429
        );
        budgets.admit(ip(2), Hold::Stream, now).unwrap();
        let full = budgets.admit(ip(3), Hold::Stream, now).unwrap_err();
        assert_eq!(full.status, 503);
        assert!(full.reason.contains("event streams"), "{full:?}");
        // Streams do not take request slots.
        budgets.admit(ip(3), Hold::Request, now).unwrap();
        budgets.release(ip(2), Hold::Stream);
        budgets.admit(ip(3), Hold::Stream, now).unwrap();
    }

    #[test]
    fn heavy_requests_are_capped_per_address_and_in_total() {
        let mut budgets = ClientBudgets::new(small());
        let now = Instant::now();
        budgets.admit(ip(1), Hold::Heavy, now).unwrap();
        let refusal = budgets.admit(ip(1), Hold::Heavy, now).unwrap_err();
        assert_eq!(refusal.status, 429);
        assert!(refusal.reason.contains("trees or pages"), "{refusal:?}");
        budgets.admit(ip(2), Hold::Heavy, now).unwrap();
        budgets.admit(ip(3), Hold::Heavy, now).unwrap();
        assert_eq!(
            budgets.admit(ip(4), Hold::Heavy, now).unwrap_err().status,
            503
        );
        // Ordinary requests are not held back by them.
        budgets.admit(ip(1), Hold::Request, now).unwrap();
        budgets.release(ip(1), Hold::Heavy);
        budgets.admit(ip(4), Hold::Heavy, now).unwrap();
    }

    #[test]
    fn bytes_served_past_the_budget_are_refused_until_the_window_ends() {
        let mut budgets = ClientBudgets::new(small());
        let now = Instant::now();
        budgets.admit(ip(1), Hold::Request, now).unwrap();
        budgets.served(ip(1), 600, now);
        budgets.release(ip(1), Hold::Request);
        budgets.admit(ip(1), Hold::Request, now).unwrap();
        budgets.served(ip(1), 600, now);
        budgets.release(ip(1), Hold::Request);
        let spent = budgets.admit(ip(1), Hold::Request, now).unwrap_err();
        assert_eq!(spent.status, 429);
        assert!(spent.reason.contains("served"), "{spent:?}");
        // Another address is not affected; the next window starts afresh.
        budgets.admit(ip(2), Hold::Request, now).unwrap();
        let later = now + Duration::from_secs(61);
        budgets.admit(ip(1), Hold::Request, later).unwrap();
    }

    #[test]
    fn forged_submissions_past_the_budget_are_refused_until_the_window_ends() {
        let mut budgets = ClientBudgets::new(small());
        let now = Instant::now();
        budgets.admit(ip(1), Hold::Request, now).unwrap();
        for _ in 0..2 {
            assert_eq!(budgets.may_submit(ip(1), now), Ok(()));
            budgets.forged(ip(1), now);
        }
        let spent = budgets.may_submit(ip(1), now).unwrap_err();
        assert_eq!(spent.status, 429);
        assert!(spent.reason.contains("forged"), "{spent:?}");
        budgets.release(ip(1), Hold::Request);
        // Remembered once its request is done; other addresses are not affected.
        assert!(budgets.may_submit(ip(1), now).is_err());
        assert_eq!(budgets.may_submit(ip(2), now), Ok(()));
        assert_eq!(
            budgets.may_submit(ip(1), now + Duration::from_secs(61)),
            Ok(())
        );
    }

    #[test]
    fn releases_never_underflow_and_unknown_addresses_are_ignored() {
        let mut budgets = ClientBudgets::new(small());
        budgets.release(ip(9), Hold::Request);
        budgets.served(ip(9), 10, Instant::now());
        budgets.admit(ip(1), Hold::Stream, Instant::now()).unwrap();
        budgets.release(ip(1), Hold::Request);
        assert_eq!(budgets.in_use(Hold::Request), 0);
        assert_eq!(budgets.in_use(Hold::Stream), 1);
        budgets.release(ip(1), Hold::Stream);
        budgets.release(ip(1), Hold::Stream);
        assert_eq!(budgets.in_use(Hold::Stream), 0);
        assert_eq!(budgets.tracked(), 0);
    }

    #[test]
    fn the_address_table_is_bounded() {
        let mut budgets = ClientBudgets::new(BudgetLimits {
            max_requests: 1_000,
            max_requests_per_ip: 1_000,
            ..small()
        });
        let now = Instant::now();
        for n in 0..100 {
            // Each address is served something, so it is remembered for the window.
            if budgets.admit(ip(n), Hold::Request, now).is_ok() {
                budgets.served(ip(n), 1, now);
                budgets.release(ip(n), Hold::Request);
            }
            assert!(budgets.tracked() <= 4);
        }
        // Addresses holding something are never forgotten; with all of them busy, a
        // newcomer is refused rather than tracked.
        let mut busy = ClientBudgets::new(BudgetLimits {
            max_requests: 1_000,
            ..small()
        });
        for n in 0..4 {
            busy.admit(ip(n), Hold::Request, now).unwrap();
        }
        assert_eq!(
            busy.admit(ip(99), Hold::Request, now).unwrap_err().status,
            503
        );
        assert_eq!(busy.tracked(), 4);
    }
}
