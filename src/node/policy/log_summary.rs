//! Summarised logging: under attack the same line (a refused connection, an eviction, a
//! ban) could be written thousands of times a second and fill the disk. The first
//! occurrence of a reason in an interval is logged in full; the rest are only counted,
//! and one line per reason gives the count when the interval ends.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Counts repeated log reasons per interval.
#[derive(Debug)]
pub struct LogSummary {
    interval: Duration,
    window_start: Instant,
    /// Occurrences not logged in full in the current window, per reason.
    suppressed: BTreeMap<&'static str, u64>,
}

impl LogSummary {
    pub fn new(interval: Duration, now: Instant) -> Self {
        LogSummary {
            interval,
            window_start: now,
            suppressed: BTreeMap::new(),
        }
    }

    /// Records one occurrence of `reason`; true if it is the first of the window and so
    /// should be logged in full.
    pub fn note(&mut self, reason: &'static str) -> bool {
        match self.suppressed.get_mut(reason) {
            Some(count) => {
                *count += 1;
                false
            }
            None => {
                self.suppressed.insert(reason, 0);
                true
            }
        }
    }

    /// When the interval is over: the reasons with occurrences not logged in full, and
    /// their counts, and a new window starts. Empty before the interval is over.
    pub fn take_due(&mut self, now: Instant) -> Vec<(&'static str, u64)> {
        if now.saturating_duration_since(self.window_start) < self.interval {
            return Vec::new();
        }
        self.window_start = now;
        std::mem::take(&mut self.suppressed)
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// The interval's length, for the summary lines.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_full_line_per_reason_per_interval_then_a_count() {
        let now = Instant::now();
        let mut summary = LogSummary::new(Duration::from_secs(10), now);
        let logged = (0..1000).filter(|_| summary.note("refused: full")).count();
        assert_eq!(logged, 1);
        assert!(summary.note("refused: banned"));
        assert!(summary.take_due(now + Duration::from_secs(1)).is_empty());
        assert_eq!(
            summary.take_due(now + Duration::from_secs(10)),
            vec![("refused: full", 999)]
        );
        assert!(summary.note("refused: full"), "a new window logs again");
    }
}
