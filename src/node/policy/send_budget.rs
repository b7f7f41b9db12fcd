//! What one connection may make us send: a bound on its requests in flight and a byte
//! budget per interval for the replies, so a peer cannot turn a 40-byte `GetBlocks` into
//! megabytes of our memory and bandwidth at will. A peer past the budget waits for the
//! next interval; one that does not read its replies is disconnected by the output-queue
//! bound (`ConnectionActor`).

use std::time::{Duration, Instant};

/// A byte budget refilled at the start of each interval.
#[derive(Debug, Clone)]
pub struct SendBudget {
    bytes_per_interval: u64,
    interval: Duration,
    window_start: Instant,
    spent: u64,
}

impl SendBudget {
    pub fn new(bytes_per_interval: u64, interval: Duration, now: Instant) -> Self {
        SendBudget {
            bytes_per_interval,
            interval,
            window_start: now,
            spent: 0,
        }
    }

    /// Records `bytes` sent in reply to the peer's requests.
    pub fn spend(&mut self, bytes: u64, now: Instant) {
        self.roll(now);
        self.spent = self.spent.saturating_add(bytes);
    }

    /// How long to wait before serving the next request: zero while budget is left,
    /// otherwise until the current interval ends.
    pub fn wait(&mut self, now: Instant) -> Duration {
        self.roll(now);
        if self.spent < self.bytes_per_interval {
            Duration::ZERO
        } else {
            (self.window_start + self.interval).saturating_duration_since(now)
        }
    }

    fn roll(&mut self, now: Instant) {
        if now.saturating_duration_since(self.window_start) >= self.interval {
            self.window_start = now;
            self.spent = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_until_the_budget_is_spent_then_waits_for_the_next_interval() {
        let now = Instant::now();
        let mut budget = SendBudget::new(1000, Duration::from_secs(1), now);
        assert_eq!(budget.wait(now), Duration::ZERO);
        budget.spend(600, now);
        assert_eq!(budget.wait(now), Duration::ZERO);
        budget.spend(600, now);
        let later = now + Duration::from_millis(300);
        assert_eq!(budget.wait(later), Duration::from_millis(700));
        assert_eq!(budget.wait(now + Duration::from_secs(1)), Duration::ZERO);
    }
}
