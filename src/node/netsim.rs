//! Simulated network conditions (the book's Guide › Launching a network,
//! `docs/src/guide/launching.md`): per-link message delays with jitter and bandwidth, and
//! the table of them a node's `PeerManagerActor` keeps for multi-node launches.
//!
//! Bandwidth follows SimBlock's model: a message of `size` bytes occupies the link for
//! `size × 8 ÷ bandwidth` seconds, where the bandwidth is the smaller of the sender's
//! upload and the receiver's download; messages on one link queue behind each other, so
//! a big block delays what follows it; then the latency (with jitter) is added.
//!
//! Delays are injected inside the actor system, never by sleeping: each `ConnectionActor`
//! puts what it sends into a [`DelayLine`], and one timer (`ctx.run_later`) writes each
//! message to the socket when it is due. Jitter never reorders a link's messages, as on a
//! real TCP connection: a message is never due before the one queued ahead of it.

use crate::consensus::hash::sha256_parts;
use crate::net::message::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A seed for one use (`stream`) by one node of a launch's `seed`, so that each node's
/// random draws are independent of the others' and reproducible.
pub fn derive_seed(seed: u64, node: usize, stream: &str) -> u64 {
    let digest = sha256_parts(&[
        b"ironchain-simulation",
        &seed.to_be_bytes(),
        &(node as u64).to_be_bytes(),
        stream.as_bytes(),
    ]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The one-way delay of a link: `delay`, plus up to `jitter` more (uniform, drawn per
/// message from a generator seeded with `seed`, so a launch seed reproduces the draws),
/// after the message's transmission time at `bits_per_second` (`None`: unlimited).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkDelay {
    pub delay: Duration,
    pub jitter: Duration,
    pub seed: u64,
    pub bits_per_second: Option<u64>,
    /// Bytes each block in a message counts for beyond its encoding, in its transmission
    /// time (`[simulation] block_fill_bytes`): simulated blocks are nearly empty, the
    /// blocks of the network studied are not, and only their time on the link matters.
    /// Counted, never allocated: 10,000 nodes holding real padding would not fit.
    pub block_fill_bytes: u64,
}

impl LinkDelay {
    /// A fixed delay without jitter.
    pub fn fixed(delay: Duration) -> Self {
        LinkDelay {
            delay,
            jitter: Duration::ZERO,
            seed: 0,
            bits_per_second: None,
            block_fill_bytes: 0,
        }
    }

    /// The size `message`, `encoded` bytes long, occupies the link for: its encoding plus
    /// the fill of each block it carries.
    pub fn charged_size(&self, message: &Message, encoded: usize) -> usize {
        let blocks = match message {
            Message::NewBlock(_) | Message::BlockReply(Some(_)) => 1,
            Message::Blocks { blocks, .. } => blocks.len(),
            _ => 0,
        };
        let fill = self.block_fill_bytes.saturating_mul(blocks as u64);
        encoded.saturating_add(usize::try_from(fill).unwrap_or(usize::MAX))
    }

    pub fn is_zero(&self) -> bool {
        self.delay.is_zero() && self.jitter.is_zero() && self.bits_per_second.is_none()
    }

    /// How long `size` bytes occupy the link.
    pub fn transmission(&self, size: usize) -> Duration {
        match self.bits_per_second {
            Some(bps) if bps > 0 => {
                let nanos = (size as u128 * 8 * 1_000_000_000) / u128::from(bps);
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            }
            _ => Duration::ZERO,
        }
    }
}

/// The delays of one node's outgoing links, by the peer's listening address; peers not
/// listed get `default`.
#[derive(Clone, Debug, Default)]
pub struct LinkTable {
    pub default: LinkDelay,
    pub by_peer: HashMap<SocketAddr, LinkDelay>,
}

impl LinkTable {
    pub fn get(&self, peer: &SocketAddr) -> LinkDelay {
        self.by_peer.get(peer).copied().unwrap_or(self.default)
    }
}

/// What [`DelayLine::push`] did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<T> {
    /// No delay and nothing queued ahead: send it now.
    Now(T),
    /// Queued. `arm_timer` is set when the queue was empty, so no timer is pending yet:
    /// the caller must arrange to call [`DelayLine::pop_due`] at `due`.
    Queued { due: Instant, arm_timer: bool },
}

/// Messages waiting for their delivery time, in sending order.
#[derive(Debug)]
pub struct DelayLine<T> {
    link: LinkDelay,
    rng: StdRng,
    queue: VecDeque<(Instant, T)>,
    /// Until when the link is busy transmitting what was pushed before.
    busy_until: Option<Instant>,
}

impl<T> DelayLine<T> {
    pub fn new(link: LinkDelay) -> Self {
        DelayLine {
            link,
            rng: StdRng::seed_from_u64(link.seed),
            queue: VecDeque::new(),
            busy_until: None,
        }
    }

    /// Changes the link's delay for messages pushed from now on (queued ones keep their
    /// due time).
    pub fn set_link(&mut self, link: LinkDelay) {
        self.link = link;
        self.rng = StdRng::seed_from_u64(link.seed);
    }

    pub fn link(&self) -> LinkDelay {
        self.link
    }

    /// Queues `item` of `size` bytes, sent at `now`.
    pub fn push(&mut self, now: Instant, item: T, size: usize) -> Pushed<T> {
        if self.link.is_zero() && self.queue.is_empty() {
            return Pushed::Now(item);
        }
        let start = self.busy_until.map_or(now, |busy| busy.max(now));
        let sent = start + self.link.transmission(size);
        self.busy_until = Some(sent);
        let jitter = match u64::try_from(self.link.jitter.as_micros()) {
            Ok(0) | Err(_) => Duration::ZERO,
            Ok(micros) => Duration::from_micros(self.rng.gen_range(0..=micros)),
        };
        let mut due = sent + self.link.delay + jitter;
        let arm_timer = match self.queue.back() {
            // In order: never before the message ahead.
            Some((ahead, _)) => {
                due = due.max(*ahead);
                false
            }
            None => true,
        };
        self.queue.push_back((due, item));
        Pushed::Queued { due, arm_timer }
    }

    /// Removes and returns the messages due at `now`, in order, and when the next one is
    /// due (the caller's next timer), if any remain.
    pub fn pop_due(&mut self, now: Instant) -> (Vec<T>, Option<Instant>) {
        let mut due = Vec::new();
        while self.queue.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, item)) = self.queue.pop_front() {
                due.push(item);
            }
        }
        (due, self.queue.front().map(|(at, _)| *at))
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn zero_delay_sends_at_once() {
        let mut line = DelayLine::new(LinkDelay::default());
        assert_eq!(line.push(Instant::now(), 1, 0), Pushed::Now(1));
        assert!(line.is_empty());
    }

    #[test]
    fn messages_wait_their_delay_and_keep_their_order_despite_jitter() {
        let start = Instant::now();
        let mut line = DelayLine::new(LinkDelay {
            delay: 10 * MS,
            jitter: 50 * MS,
            seed: 7,
            ..LinkDelay::default()
        });
        let mut dues = Vec::new();
        for i in 0..100u32 {
            match line.push(start + i * MS, i, 0) {
                Pushed::Queued { due, arm_timer } => {
                    assert_eq!(arm_timer, i == 0);
                    assert!(due >= start + i * MS + 10 * MS);
                    assert!(due <= start + i * MS + 60 * MS || Some(&due) == dues.last());
                    dues.push(due);
                }
                Pushed::Now(_) => panic!("a delayed link sent at once"),
            }
        }
        assert!(dues.windows(2).all(|pair| pair[0] <= pair[1]));
        let (none, next) = line.pop_due(start + 9 * MS);
        assert!(none.is_empty());
        assert_eq!(next, Some(dues[0]));
        let (all, next) = line.pop_due(start + 200 * MS);
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(next, None);
    }

    #[test]
    fn the_same_seed_draws_the_same_jitter() {
        let link = LinkDelay {
            delay: MS,
            jitter: 100 * MS,
            seed: 42,
            ..LinkDelay::default()
        };
        let start = Instant::now();
        let draws = |link: LinkDelay| {
            let mut line = DelayLine::new(link);
            (0..20u32)
                .map(|i| match line.push(start + i * 200 * MS, (), 0) {
                    Pushed::Queued { due, .. } => due,
                    Pushed::Now(()) => start,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(link), draws(link));
        assert_ne!(draws(link), draws(LinkDelay { seed: 43, ..link }));
    }

    #[test]
    fn a_queued_message_holds_back_an_undelayed_one() {
        let start = Instant::now();
        let mut line = DelayLine::new(LinkDelay::fixed(5 * MS));
        assert!(matches!(line.push(start, 1, 0), Pushed::Queued { .. }));
        line.set_link(LinkDelay::default());
        assert!(matches!(
            line.push(start, 2, 0),
            Pushed::Queued {
                arm_timer: false,
                ..
            }
        ));
        assert_eq!(line.pop_due(start + 5 * MS).0, vec![1, 2]);
    }

    #[test]
    fn a_megabyte_over_one_megabit_takes_eight_seconds_and_holds_back_what_follows() {
        let start = Instant::now();
        let link = LinkDelay {
            delay: 100 * MS,
            bits_per_second: Some(1_000_000),
            ..LinkDelay::default()
        };
        let due = |pushed: Pushed<u32>| match pushed {
            Pushed::Queued { due, .. } => due,
            Pushed::Now(_) => start,
        };
        let mut empty = DelayLine::new(link);
        let empty_due = due(empty.push(start, 0, 0));
        assert_eq!(empty_due, start + 100 * MS);
        let mut line = DelayLine::new(link);
        let block_due = due(line.push(start, 1, 1_000_000));
        assert_eq!(block_due - empty_due, Duration::from_secs(8));
        // A ping sent just after waits for the block to leave the link first.
        let ping_due = due(line.push(start + MS, 2, 100));
        assert_eq!(ping_due, block_due + Duration::from_micros(800));
        // An idle link starts each message afresh.
        let later = start + Duration::from_secs(60);
        assert_eq!(due(line.push(later, 3, 0)), later + 100 * MS);
    }

    #[test]
    fn each_block_a_message_carries_is_charged_its_fill() {
        let link = LinkDelay {
            block_fill_bytes: 500_000,
            ..LinkDelay::default()
        };
        let block = crate::testkit::params(&[]).genesis_block().unwrap();
        let blocks = Message::Blocks {
            blocks: vec![block.clone(), block.clone(), block.clone()],
            more: false,
        };
        assert_eq!(
            link.charged_size(&Message::NewBlock(block.clone()), 300),
            500_300
        );
        assert_eq!(
            link.charged_size(&Message::BlockReply(Some(block)), 300),
            500_300
        );
        assert_eq!(link.charged_size(&blocks, 900), 1_500_900);
        assert_eq!(link.charged_size(&Message::GetAddrs, 5), 5);
        assert_eq!(LinkDelay::default().charged_size(&blocks, 900), 900);
    }
}
