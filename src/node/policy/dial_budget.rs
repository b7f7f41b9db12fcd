//! Failed dials per minute, bounded. Gossip can fill the address book with addresses
//! where nothing answers (or where an attacker's listener hangs up at once); dialing
//! them as fast as slots free up made a node open hundreds of connections a minute to
//! addresses of the attacker's choosing. Dials of learned addresses stop while the
//! failures of the last minute (counting the dials still under way, which may yet fail)
//! reach the budget; the peers the user named are dialed regardless, on their own
//! backoff.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window the budget counts failures over.
pub const DIAL_WINDOW: Duration = Duration::from_secs(60);

/// Failed dials of the last minute.
#[derive(Debug)]
pub struct DialBudget {
    max_failures: usize,
    failures: VecDeque<Instant>,
}

impl DialBudget {
    pub fn new(max_failures_per_minute: usize) -> DialBudget {
        DialBudget {
            max_failures: max_failures_per_minute,
            failures: VecDeque::new(),
        }
    }

    /// Records a failed dial.
    pub fn failed(&mut self, now: Instant) {
        self.forget(now);
        self.failures.push_back(now);
    }

    /// Whether another learned address may be dialed, with `under_way` dials of learned
    /// addresses not yet settled.
    pub fn may_dial(&mut self, under_way: usize, now: Instant) -> bool {
        self.forget(now);
        self.failures.len() + under_way < self.max_failures
    }

    fn forget(&mut self, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= DIAL_WINDOW)
        {
            self.failures.pop_front();
        }
        // Never more remembered than the budget needs to decide.
        while self.failures.len() > self.max_failures {
            self.failures.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dials_stop_at_the_budget_counting_those_under_way_and_resume_a_minute_later() {
        let now = Instant::now();
        let mut budget = DialBudget::new(3);
        assert!(budget.may_dial(2, now));
        assert!(!budget.may_dial(3, now), "three under way may all fail");
        budget.failed(now);
        budget.failed(now + Duration::from_secs(10));
        assert!(budget.may_dial(0, now + Duration::from_secs(20)));
        assert!(!budget.may_dial(1, now + Duration::from_secs(20)));
        budget.failed(now + Duration::from_secs(20));
        assert!(!budget.may_dial(0, now + Duration::from_secs(59)));
        assert!(budget.may_dial(0, now + Duration::from_secs(60)));
        assert!(!budget.may_dial(1, now + Duration::from_secs(60)));
    }
}
