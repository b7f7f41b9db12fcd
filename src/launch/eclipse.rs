//! Eclipse attacks (`[simulation.eclipse]`, issue 16 item 5): one honest node, the
//! victim, whose every link goes to attacker nodes, while the honest network moves on.
//!
//! The launch wires it so ([`rewire`]): the victim dials each attacker and nobody else;
//! the attackers keep the links they have among themselves and lose every link to an
//! honest node; honest nodes lose their links to the victim. So the attackers mine their
//! own branch with their own hash power, the victim sees only that branch (an ordinary
//! peer relaying ordinary blocks: the attack needs no special node code), and the honest
//! network, not hearing of it, builds its own. At `until_ms` one honest node (the
//! rescuer) dials the victim, as a new honest peer would; the victim learns of the
//! heavier honest chain through the handshake, syncs it and reorganises away from the
//! attackers' branch. The summary ([`EclipseSummary`]) says how long the victim stayed
//! eclipsed, how many honest blocks it missed and how many attacker blocks it was fed.
//!
//! What in the node limits an eclipse, and what does not:
//! - Inbound eviction protection (`node::policy::eviction`, Bitcoin Core's rules): when
//!   the inbound slots are full, a newcomer evicts a peer, but peers from distinct
//!   address groups, with the lowest ping, or that last brought new blocks or
//!   transactions are protected; so an attacker who floods the inbound slots cannot push
//!   out an honest peer that serves blocks, and an honest newcomer (the rescuer here) can
//!   still get in by evicting an attacker.
//! - Per-IP caps (`max_inbound_per_ip`, `max_pending`): one host cannot take all the
//!   slots; the attacker needs many addresses. A Sybil with one address per node, as
//!   here, passes them.
//! - What does not limit it: the node picks its outbound peers only from its seeds and
//!   its address book, with no rule spreading them over address groups (Bitcoin Core
//!   keeps one outbound per /16), no anchor connections kept across restarts, no feeler
//!   connections testing other addresses, and no stale-tip check that dials an extra
//!   peer when no block came for a long time. An attacker who holds every outbound slot
//!   keeps the victim until an honest peer dials in. In a virtual launch every node is in
//!   10.0.0.0/16, one address group, so the group-based protections cannot tell the
//!   attackers from honest peers at all.

use super::plan::{LaunchPlan, PlannedEclipse};
use super::stats::StatsSnapshot;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

/// `connections` with the eclipse's links: every link of the victim, and every link
/// between an attacker and an honest node, removed; the victim dialing each attacker.
pub fn rewire(connections: Vec<(usize, usize)>, eclipse: &PlannedEclipse) -> Vec<(usize, usize)> {
    let attackers: BTreeSet<usize> = eclipse.attackers.iter().copied().collect();
    let kept = connections.into_iter().filter(|&(a, b)| {
        let touches_victim = a == eclipse.victim || b == eclipse.victim;
        let crosses = attackers.contains(&a) != attackers.contains(&b);
        !touches_victim && !crosses
    });
    kept.chain(attackers.iter().map(|&attacker| (eclipse.victim, attacker)))
        .collect()
}

/// How the eclipse went, in `summary.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EclipseSummary {
    pub victim: String,
    pub attackers: Vec<String>,
    /// When the rescuer dialed the victim (none: never).
    pub until_ms: Option<u64>,
    /// From the start until the victim first stored a block an honest node mined (the
    /// whole run if it never did).
    pub eclipsed_ms: u64,
    /// Whether the victim got an honest block before the run ended.
    pub escaped: bool,
    /// Blocks honest nodes found while the victim was eclipsed.
    pub honest_blocks_missed: u64,
    /// Blocks the attackers found that the victim stored.
    pub attacker_blocks_fed: u64,
}

/// The eclipse of `plan` (if it has one) as the statistics saw it.
pub fn summarize(
    plan: &LaunchPlan,
    stats: &StatsSnapshot,
    epoch: Instant,
    elapsed: Duration,
) -> Option<EclipseSummary> {
    let eclipse = plan.eclipse.as_ref()?;
    let attacker = |node: usize| eclipse.attackers.contains(&node);
    let honest = |node: usize| node != eclipse.victim && !attacker(node);
    let victim_stored = |hash| {
        stats
            .stored
            .get(hash)
            .and_then(|times| times.get(eclipse.victim).copied().flatten())
    };
    let escaped_at = stats
        .mined
        .iter()
        .filter(|mined| honest(mined.node))
        .filter_map(|mined| victim_stored(&mined.hash))
        .min();
    let eclipsed = escaped_at.map_or(elapsed, |at| at.saturating_duration_since(epoch));
    let name = |node: usize| plan.nodes.get(node).map_or("?", |n| n.name.as_str());
    Some(EclipseSummary {
        victim: name(eclipse.victim).to_string(),
        attackers: eclipse
            .attackers
            .iter()
            .map(|&a| name(a).to_string())
            .collect(),
        until_ms: eclipse.until.map(|until| until.as_millis() as u64),
        eclipsed_ms: eclipsed.as_millis() as u64,
        escaped: escaped_at.is_some(),
        honest_blocks_missed: stats
            .mined
            .iter()
            .filter(|mined| honest(mined.node))
            .filter(|mined| escaped_at.is_none_or(|at| mined.at < at))
            .count() as u64,
        attacker_blocks_fed: stats
            .mined
            .iter()
            .filter(|mined| attacker(mined.node) && victim_stored(&mined.hash).is_some())
            .count() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_victim_links_only_to_the_attackers_and_they_to_no_honest_node() {
        // 0 victim, 1-2 attackers, 3-4 honest.
        let eclipse = PlannedEclipse {
            victim: 0,
            attackers: vec![2, 1],
            until: None,
            rescuer: Some(3),
        };
        let all = vec![(0, 3), (1, 2), (1, 3), (3, 4), (4, 0), (2, 0), (4, 2)];
        let wired = rewire(all, &eclipse);
        assert_eq!(wired, vec![(1, 2), (3, 4), (0, 1), (0, 2)]);
    }
}
