//! Summarised logging: under attack the same line (a refused connection, an eviction, a
//! ban, a peer's rejection, a refused transaction) could be written thousands of times a
//! second and fill the disk. The first occurrence of a reason in an interval is logged in
//! full; the rest are only counted, per reason and per source address, and one line per
//! reason gives the count and its largest sources when the interval ends. So the log
//! grows by at most two lines per reason per interval, whatever the sources do.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Source addresses counted apart per reason; the others are only in the total.
const MAX_SOURCES_PER_REASON: usize = 64;
/// Sources named in a summary line.
const SOURCES_SHOWN: usize = 3;

/// Occurrences of one reason not logged in full in the current window.
#[derive(Debug, Default)]
struct Suppressed {
    total: u64,
    by_source: BTreeMap<IpAddr, u64>,
}

/// One reason's summary line at the end of an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryLine {
    pub reason: &'static str,
    /// Occurrences not logged in full.
    pub count: u64,
    /// The sources with the most of them, most first (at most three).
    pub top_sources: Vec<(IpAddr, u64)>,
    pub interval: Duration,
}

impl fmt::Display for SummaryLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} more in the last {} s",
            self.reason,
            self.count,
            self.interval.as_secs()
        )?;
        if !self.top_sources.is_empty() {
            let sources: Vec<String> = self
                .top_sources
                .iter()
                .map(|(ip, count)| format!("{ip}: {count}"))
                .collect();
            write!(f, " (most from {})", sources.join(", "))?;
        }
        Ok(())
    }
}

/// Counts repeated log reasons per interval.
#[derive(Debug)]
pub struct LogSummary {
    interval: Duration,
    window_start: Instant,
    /// Occurrences not logged in full in the current window, per reason.
    suppressed: BTreeMap<&'static str, Suppressed>,
}

impl LogSummary {
    pub fn new(interval: Duration, now: Instant) -> Self {
        LogSummary {
            interval,
            window_start: now,
            suppressed: BTreeMap::new(),
        }
    }

    /// Records one occurrence of `reason` from `source`; true if it is the first of the
    /// window and so should be logged in full.
    pub fn note(&mut self, reason: &'static str, source: Option<IpAddr>) -> bool {
        if self.suppressed.contains_key(reason) {
            self.add(reason, source, 1);
            false
        } else {
            self.suppressed.insert(reason, Suppressed::default());
            true
        }
    }

    /// Adds `count` occurrences of `reason` from `source` that were not logged in full
    /// (counted elsewhere first, such as by a connection's own summary).
    pub fn add(&mut self, reason: &'static str, source: Option<IpAddr>, count: u64) {
        let entry = self.suppressed.entry(reason).or_default();
        entry.total = entry.total.saturating_add(count);
        if let Some(ip) = source {
            let room = entry.by_source.len() < MAX_SOURCES_PER_REASON;
            if let Some(by_ip) = entry.by_source.get_mut(&ip) {
                *by_ip = by_ip.saturating_add(count);
            } else if room {
                entry.by_source.insert(ip, count);
            }
        }
    }

    /// When the interval is over: a line for each reason with occurrences not logged in
    /// full, and a new window starts. Empty before the interval is over.
    pub fn take_due(&mut self, now: Instant) -> Vec<SummaryLine> {
        if now.saturating_duration_since(self.window_start) < self.interval {
            return Vec::new();
        }
        self.window_start = now;
        self.take_all()
    }

    /// A line for each reason with occurrences not logged in full, whether or not the
    /// interval is over (a connection closing reports what it counted).
    pub fn take_all(&mut self) -> Vec<SummaryLine> {
        let interval = self.interval;
        std::mem::take(&mut self.suppressed)
            .into_iter()
            .filter(|(_, suppressed)| suppressed.total > 0)
            .map(|(reason, suppressed)| {
                let mut top_sources: Vec<(IpAddr, u64)> =
                    suppressed.by_source.into_iter().collect();
                top_sources.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                top_sources.truncate(SOURCES_SHOWN);
                SummaryLine {
                    reason,
                    count: suppressed.total,
                    top_sources,
                    interval,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_full_line_per_reason_per_interval_then_a_count() {
        let now = Instant::now();
        let mut summary = LogSummary::new(Duration::from_secs(10), now);
        let logged = (0..1000)
            .filter(|_| summary.note("refused: full", None))
            .count();
        assert_eq!(logged, 1);
        assert!(summary.note("refused: banned", None));
        assert!(summary.take_due(now + Duration::from_secs(1)).is_empty());
        let lines = summary.take_due(now + Duration::from_secs(10));
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0].to_string(),
            "refused: full: 999 more in the last 10 s"
        );
        assert!(
            summary.note("refused: full", None),
            "a new window logs again"
        );
    }

    #[test]
    fn the_summary_names_the_largest_sources_and_tracks_a_bounded_number() {
        let now = Instant::now();
        let mut summary = LogSummary::new(Duration::from_secs(10), now);
        assert!(summary.note("sent a rejection", Some(ip("127.0.70.1"))));
        summary.add("sent a rejection", Some(ip("127.0.70.1")), 500);
        for i in 0..1000u32 {
            let source = IpAddr::from((0x0b00_0000u32 + i).to_be_bytes());
            assert!(!summary.note("sent a rejection", Some(source)));
        }
        summary.add("sent a rejection", Some(ip("127.0.70.2")), 7);
        assert_eq!(
            summary.suppressed["sent a rejection"].by_source.len(),
            MAX_SOURCES_PER_REASON
        );
        let lines = summary.take_all();
        assert_eq!(
            lines[0].to_string(),
            "sent a rejection: 1507 more in the last 10 s (most from 127.0.70.1: 500, \
             11.0.0.0: 1, 11.0.0.1: 1)",
            "127.0.70.2 came after the table of sources was full"
        );
    }
}
