//! Which peer to download a better chain from, and when it has failed us.
//!
//! The work a peer claims (in its hello and pongs) is provisional: it only picks whom to
//! ask. A peer whose batches stop coming for the sync timeout, or that answers with an
//! empty batch while still claiming more work than ours, broke its claim and is dropped.
//! Only stored blocks are progress: blocks held in memory because their branch is too
//! light to store (see `chain::work_margin`) keep the download going but not its clock,
//! so a peer that trickles cheap side-branch blocks while claiming much is dropped at the
//! sync timeout like a silent one, and never pauses mining.
//! Mining pauses only while the download makes progress (a batch stored blocks within
//! the last [`SyncTracker::pause_window`]), so a peer that claims much and sends nothing
//! cannot stop this node mining.

use std::time::{Duration, Instant};

/// The current download.
#[derive(Debug, Clone, Copy)]
struct Session<Id> {
    peer: Id,
    /// When it started, or last stored blocks.
    last_progress: Instant,
    progressed: bool,
}

/// What a sync batch says about its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    /// Blocks in the batch.
    pub received: usize,
    /// Of those, blocks new to us and stored.
    pub stored: usize,
    /// Of those, blocks new to us but held in memory: their branch does not have the work
    /// to be stored yet. They keep the download going, but are no progress: a branch
    /// that never becomes worth storing stalls like a silent peer.
    pub held: usize,
    /// The sender says it has more after these.
    pub more: bool,
}

/// What to do after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchVerdict {
    /// The download goes on.
    Continue,
    /// The download is over (caught up, or nothing new): choose again later.
    Finished,
    /// The peer broke its claim: penalise and drop it, for this reason.
    Broken(&'static str),
}

/// Tracks the one download running at a time.
#[derive(Debug)]
pub struct SyncTracker<Id> {
    session: Option<Session<Id>>,
    /// A peer whose last download ended without new blocks, and since when it has given
    /// none: choosing it again does not restart its clock, so a peer that keeps sending
    /// blocks we have is caught by the timeout like a silent one.
    unproductive: Option<(Id, Instant)>,
    timeout: Duration,
}

impl<Id: Copy + PartialEq> SyncTracker<Id> {
    pub fn new(timeout: Duration) -> Self {
        SyncTracker {
            session: None,
            unproductive: None,
            timeout,
        }
    }

    /// The peer being downloaded from.
    pub fn peer(&self) -> Option<Id> {
        self.session.map(|session| session.peer)
    }

    /// The peer to download from: the one claiming the most work above ours.
    pub fn choose<W: Ord + Copy>(peers: impl IntoIterator<Item = (Id, W)>, ours: W) -> Option<Id> {
        peers
            .into_iter()
            .filter(|(_, claimed)| *claimed > ours)
            .max_by_key(|(_, claimed)| *claimed)
            .map(|(id, _)| id)
    }

    pub fn start(&mut self, peer: Id, now: Instant) {
        let since = match self.unproductive {
            Some((idle, since)) if idle == peer => since,
            _ => now,
        };
        self.session = Some(Session {
            peer,
            last_progress: since,
            progressed: false,
        });
    }

    /// Ends the download (done, or its peer left).
    pub fn stop(&mut self) {
        self.session = None;
    }

    /// Judges a batch from `peer`, which claims `claimed` work while we have `ours`.
    pub fn batch<W: Ord>(
        &mut self,
        peer: Id,
        report: BatchReport,
        claimed: W,
        ours: W,
        now: Instant,
    ) -> BatchVerdict {
        let Some(session) = self.session.as_mut().filter(|session| session.peer == peer) else {
            return BatchVerdict::Finished;
        };
        if report.received == 0 && claimed > ours {
            self.session = None;
            return BatchVerdict::Broken("sent an empty batch while claiming more work than ours");
        }
        if report.stored > 0 {
            session.last_progress = now;
            session.progressed = true;
            self.unproductive = None;
        } else {
            self.unproductive = Some((peer, session.last_progress));
        }
        if report.more && report.stored + report.held > 0 {
            BatchVerdict::Continue
        } else {
            self.session = None;
            BatchVerdict::Finished
        }
    }

    /// The peer whose download made no progress for the sync timeout, if any.
    pub fn stalled(&self, now: Instant) -> Option<Id> {
        self.session
            .filter(|session| now.saturating_duration_since(session.last_progress) > self.timeout)
            .map(|session| session.peer)
    }

    /// How recent the last progress must be for mining to stay paused.
    pub fn pause_window(&self) -> Duration {
        self.timeout.min(Duration::from_secs(2))
    }

    /// Whether mining should be paused now: only while blocks keep arriving.
    pub fn mining_paused(&self, now: Instant) -> bool {
        self.session.is_some_and(|session| {
            session.progressed
                && now.saturating_duration_since(session.last_progress) <= self.pause_window()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn report(received: usize, stored: usize, more: bool) -> BatchReport {
        BatchReport {
            received,
            stored,
            held: 0,
            more,
        }
    }

    #[test]
    fn chooses_the_most_claimed_work_above_ours() {
        let peers = [(1, 50u64), (2, 90), (3, 70)];
        assert_eq!(SyncTracker::choose(peers, 60u64), Some(2));
        assert_eq!(SyncTracker::choose(peers, 90u64), None);
    }

    #[test]
    fn a_silent_peer_stalls_and_never_pauses_mining() {
        let now = Instant::now();
        let mut sync = SyncTracker::new(TIMEOUT);
        sync.start(7, now);
        assert!(!sync.mining_paused(now), "paused before any block arrived");
        assert_eq!(sync.stalled(now + TIMEOUT), None);
        assert_eq!(
            sync.stalled(now + TIMEOUT + Duration::from_millis(1)),
            Some(7)
        );
    }

    #[test]
    fn progress_pauses_mining_and_a_stall_resumes_it() {
        let now = Instant::now();
        let mut sync = SyncTracker::new(TIMEOUT);
        sync.start(7, now);
        let t1 = now + Duration::from_secs(1);
        assert_eq!(
            sync.batch(7, report(100, 100, true), 500u64, 100, t1),
            BatchVerdict::Continue
        );
        assert!(sync.mining_paused(t1));
        assert!(!sync.mining_paused(t1 + sync.pause_window() + Duration::from_millis(1)));
        assert_eq!(sync.stalled(t1 + Duration::from_secs(5)), None);
    }

    #[test]
    fn an_empty_batch_while_claiming_more_breaks_the_claim() {
        let now = Instant::now();
        let mut sync = SyncTracker::new(TIMEOUT);
        sync.start(7, now);
        assert!(matches!(
            sync.batch(7, report(0, 0, false), 500u64, 100, now),
            BatchVerdict::Broken(_)
        ));
        assert_eq!(sync.peer(), None);
    }

    #[test]
    fn an_empty_batch_from_a_peer_not_ahead_just_finishes() {
        let now = Instant::now();
        let mut sync = SyncTracker::new(TIMEOUT);
        sync.start(7, now);
        assert_eq!(
            sync.batch(7, report(0, 0, false), 100u64, 100, now),
            BatchVerdict::Finished
        );
    }

    #[test]
    fn known_blocks_are_no_progress_and_choosing_again_keeps_the_clock() {
        let now = Instant::now();
        let mut sync = SyncTracker::new(TIMEOUT);
        sync.start(7, now);
        let later = now + Duration::from_secs(6);
        assert_eq!(
            sync.batch(7, report(50, 0, true), 500u64, 100, later),
            BatchVerdict::Finished
        );
        assert!(!sync.mining_paused(later));
        sync.start(7, later);
        assert_eq!(
            sync.stalled(now + TIMEOUT + Duration::from_secs(1)),
            Some(7)
        );
        sync.start(8, later);
        assert_eq!(sync.stalled(now + TIMEOUT + Duration::from_secs(1)), None);
    }

    #[test]
    fn a_trickle_of_held_blocks_continues_but_stalls_and_never_pauses_mining() {
        let now = Instant::now();
        let mut sync = SyncTracker::new(TIMEOUT);
        sync.start(7, now);
        let held = BatchReport {
            received: 1,
            stored: 0,
            held: 1,
            more: true,
        };
        let mut at = now;
        while at <= now + TIMEOUT {
            at += Duration::from_millis(1_500);
            if sync.peer().is_none() {
                break;
            }
            assert_eq!(
                sync.batch(7, held, 1_000_000u64, 100, at),
                BatchVerdict::Continue
            );
            assert!(!sync.mining_paused(at), "paused for a trickle");
        }
        assert_eq!(sync.stalled(at), Some(7));
    }

    #[test]
    fn batches_from_another_peer_do_not_count() {
        let now = Instant::now();
        let mut sync = SyncTracker::new(TIMEOUT);
        sync.start(7, now);
        assert_eq!(
            sync.batch(8, report(0, 0, false), 500u64, 100, now),
            BatchVerdict::Finished
        );
        assert_eq!(sync.peer(), Some(7));
    }
}
