//! The node's clocks. Its wall clock — block timestamps, the future-drift check — read
//! as milliseconds since the Unix epoch: the system clock, or on a virtual-time launch's
//! thread the launch's virtual one, so that its blocks carry virtual times and a run
//! from the same seed stamps the same times. And its monotonic clock ([`now`]).
//!
//! A virtual launch runs every node on one thread under tokio's paused clock; it names
//! the Unix time its clock starts at with [`VirtualClock::start`], and the node code reads
//! both clocks through [`unix_time_ms`] without knowing which one it gets.

use std::cell::Cell;
use tokio::time::Instant;

thread_local! {
    /// The virtual clock of this thread's launch: its start on tokio's clock, and the Unix
    /// time in milliseconds that start stands for.
    static VIRTUAL: Cell<Option<(Instant, u64)>> = const { Cell::new(None) };
}

/// The node's monotonic clock as a `std` instant: tokio's clock, which a virtual launch
/// runs paused (and which is the system's otherwise), so that deadlines, backoffs and
/// link delays all follow virtual time there.
pub fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// Milliseconds since the Unix epoch, on this thread's clock.
pub fn unix_time_ms() -> u64 {
    match VIRTUAL.with(Cell::get) {
        Some((start, unix_ms)) => {
            let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
            unix_ms.saturating_add(elapsed)
        }
        None => crate::chain::unix_time_ms(),
    }
}

/// While alive, this thread's wall clock is virtual.
pub struct VirtualClock(());

impl VirtualClock {
    /// From now on (on tokio's clock), this thread's wall clock reads `unix_ms` plus the
    /// time elapsed on tokio's clock.
    pub fn start(unix_ms: u64) -> VirtualClock {
        VIRTUAL.with(|clock| clock.set(Some((Instant::now(), unix_ms))));
        VirtualClock(())
    }
}

impl Drop for VirtualClock {
    fn drop(&mut self) {
        VIRTUAL.with(|clock| clock.set(None));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_virtual_clock_follows_tokio_time_and_ends_with_its_guard() {
        let clock = VirtualClock::start(1_000_000);
        assert_eq!(unix_time_ms(), 1_000_000);
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(unix_time_ms(), 1_600_000);
        drop(clock);
        assert!(unix_time_ms() > 1_700_000_000_000, "the system clock again");
    }
}
