//! The theory beside the double-spend experiment (issue 16): the probability that an
//! attacker with hash share q wins the race of [`super::double_spend`], three ways.
//!
//! - [`nakamoto`]: the whitepaper's §11 formula. It approximates the attacker's blocks
//!   while the merchant waits by a Poisson variable, and counts a tie (catching up) as
//!   a win.
//! - [`rosenfeld`]: the closed form of Rosenfeld ("Analysis of hashrate-based double
//!   spending", 2014, arXiv:1402.2009) for a race without limits. The attacker's blocks
//!   found while the honest network finds its z blocks are negative binomial (the z-th
//!   honest block's time varies, which Nakamoto's Poisson with a fixed mean ignores); from
//!   a deficit d the attacker then wins with the gambler's-ruin probability (q/p)^d, or
//!   (q/p)^(d+1) when it must get a block *ahead* rather than catch up.
//! - [`RaceRules::odds`]: the race exactly as the nodes run it, limits included: the
//!   attacker's share of each next block is q, blocks are counted until the attacker
//!   wins, falls [`RaceRules::give_up_deficit`] behind, or [`RaceRules::block_cap`]
//!   blocks have been mined. It is computed by dynamic programming over (attacker's
//!   blocks, honest blocks), with nothing approximated but floating point.
//!
//! The rules of a trial, read from the code (`node::policy::double_spend`,
//! `node::withholding`, `launch::double_spend`, `launch::mod`), and why the exact model
//! is [`RaceRules::of_trial`]:
//! - Everything starts at genesis: the attacker withholds every block it finds from the
//!   start, so its branch forks from genesis, which is the parent of the payment's block.
//! - The payment is in the first public block: both spends are submitted at the start and
//!   miners get a template with them within 0.5 s (`TEMPLATE_REFRESH`), against a 600 s
//!   block time; so the merchant's confirmations are the public height (the payment's
//!   block is confirmation 1). The chance (≈ 10⁻³) that the first block came sooner is
//!   left out.
//! - The attacker publishes when the merchant has z confirmations and its branch is
//!   strictly longer (all blocks have one difficulty, so longer is more work); a tie is
//!   not enough, as nodes keep the branch they saw first. It gives up when the public
//!   chain is `GIVE_UP_DEFICIT` (12) blocks ahead, before or after the merchant delivers.
//! - The trial stops after 2z + 48 blocks mined by anyone
//!   ([`super::double_spend::block_cap`], the launch's `stop_after_blocks`); a race
//!   still open then is a failure (the launch mines on for at most 5.5 s of the 600 s
//!   block time while settling, which is left out).
//! - Each block is the attacker's with probability q, independent of the others
//!   (simulated miners find blocks as Poisson processes). Links are 50 ms against a 600 s
//!   block time: two honest blocks within 50 ms of each other (one of them stale), or an
//!   honest block in flight when the attacker releases, have probability ≈ 10⁻⁴ a block,
//!   also left out.

/// Nakamoto's probability (whitepaper §11) that an attacker with share `q` ever catches up
/// from z blocks behind, the attacker's progress while the merchant waits being Poisson.
pub fn nakamoto(q: f64, z: u64) -> f64 {
    let p = 1.0 - q;
    let lambda = z as f64 * q / p;
    let mut sum = 1.0;
    let mut poisson = (-lambda).exp();
    for k in 0..=z {
        if k > 0 {
            poisson *= lambda / k as f64;
        }
        sum -= poisson * (1.0 - (q / p).powi((z - k) as i32));
    }
    sum
}

/// What the attacker's branch must do to win.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Win {
    /// Be as long as the public chain (Nakamoto's and Rosenfeld's criterion).
    CatchUp,
    /// Be longer than the public chain: what makes real nodes switch (ties go to the
    /// branch seen first).
    Ahead,
}

impl Win {
    /// The blocks the attacker must gain from a deficit of zero.
    fn extra(self) -> i32 {
        match self {
            Win::CatchUp => 0,
            Win::Ahead => 1,
        }
    }
}

/// Rosenfeld's closed form: the probability that an attacker with share `q` wins against
/// a merchant waiting `z` confirmations, with no give-up and no block limit:
/// 1 − Σ_{m=0}^{z} C(m+z−1, m) (p^z q^m − q^(z+e) p^(m−e)), with e = 0 to catch up
/// (Rosenfeld's equation) and e = 1 to get ahead. `q` is in [0, 1].
pub fn rosenfeld(q: f64, z: u64, win: Win) -> f64 {
    let p = 1.0 - q;
    if q >= p {
        return 1.0;
    }
    if z == 0 {
        // No honest block to wait for: the race starts level.
        return (q / p).powi(win.extra());
    }
    let e = win.extra();
    let zi = z as i32;
    // C(m + z − 1, m), built up term by term.
    let mut binomial = 1.0;
    let mut sum = 0.0;
    for m in 0..=z {
        if m > 0 {
            binomial *= (z - 1 + m) as f64 / m as f64;
        }
        let mi = m as i32;
        sum += binomial * (p.powi(zi) * q.powi(mi) - q.powi(zi + e) * p.powi(mi - e));
    }
    1.0 - sum
}

/// The rules of one race (see the module comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RaceRules {
    /// The merchant's confirmations z; the payment's block is the first.
    pub confirmations: u64,
    pub win: Win,
    /// The attacker gives up when the public chain is this many blocks ahead (at least 1).
    pub give_up_deficit: u64,
    /// The race ends after this many blocks, mined by anyone; still open, it is lost.
    pub block_cap: u64,
}

/// How a race ends: the three probabilities sum to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RaceOdds {
    pub success: f64,
    pub gave_up: f64,
    /// Still open after [`RaceRules::block_cap`] blocks.
    pub undecided: f64,
}

impl RaceRules {
    /// The rules of `launch::double_spend::Trial` for a merchant waiting `z` blocks.
    pub fn of_trial(z: u64) -> RaceRules {
        RaceRules {
            confirmations: z,
            win: Win::Ahead,
            give_up_deficit: crate::node::policy::double_spend::GIVE_UP_DEFICIT,
            block_cap: super::double_spend::block_cap(z),
        }
    }

    /// The exact odds for an attacker with share `q` (in [0, 1]).
    ///
    /// `mass[a]` is the probability that, after `n` blocks, the race is open with `a` of
    /// them the attacker's (and `n − a` public). Each next block moves mass from `a` to
    /// `a + 1` with probability q and leaves it at `a` (one more public block) with
    /// probability 1 − q; then states where the attacker has won or given up are
    /// absorbed, checked in that order as `DoubleSpender::decide` does. Only the open
    /// states `lo..=hi` are visited, at most z + the give-up deficit of them, so a long
    /// cap costs little.
    pub fn odds(&self, q: f64) -> RaceOdds {
        let p = 1.0 - q;
        let cap = usize::try_from(self.block_cap).unwrap_or(usize::MAX - 1);
        let mut mass = vec![0.0; cap.saturating_add(1).min(1 << 24)];
        let mut odds = RaceOdds {
            success: 0.0,
            gave_up: 0.0,
            undecided: 0.0,
        };
        mass[0] = 1.0;
        let (mut lo, mut hi) = (0usize, 0usize);
        let mut n = 0usize;
        loop {
            // Absorb the states decided after n blocks.
            for (a, open) in mass.iter_mut().enumerate().take(hi + 1).skip(lo) {
                let (attacker, public) = (a as u64, (n - a) as u64);
                let delivered = public >= self.confirmations;
                let won = match self.win {
                    Win::CatchUp => attacker >= public,
                    Win::Ahead => attacker > public,
                };
                if delivered && won {
                    odds.success += *open;
                    *open = 0.0;
                } else if public >= attacker + self.give_up_deficit {
                    odds.gave_up += *open;
                    *open = 0.0;
                }
            }
            while lo <= hi && mass[lo] == 0.0 {
                lo += 1;
            }
            while hi > lo && mass[hi] == 0.0 {
                hi -= 1;
            }
            if lo > hi || n == cap || hi + 1 >= mass.len() {
                break;
            }
            // Mine block n + 1; downwards, so that each state moves once.
            for a in (lo..=hi).rev() {
                mass[a + 1] += q * mass[a];
                mass[a] *= p;
            }
            hi += 1;
            n += 1;
        }
        if lo <= hi {
            odds.undecided = mass[lo..=hi].iter().sum();
        }
        odds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const QS: [f64; 6] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3];

    /// Limits so wide that they change no probability by more than 10⁻¹⁵ for q ≤ 0.3: a
    /// give-up deficit of 60 costs (q/p)^60 < 10⁻²², and a race between −60 and +1 that
    /// drifts at least 0.4 a block away from the attacker takes about 150 blocks to
    /// reach −60, so still being open after 3,000 is far less likely than that.
    fn unlimited(z: u64, win: Win) -> RaceRules {
        RaceRules {
            confirmations: z,
            win,
            give_up_deficit: 60,
            block_cap: 3_000,
        }
    }

    #[test]
    fn nakamoto_matches_the_whitepaper_table() {
        // §11's table for q = 0.1 and q = 0.3.
        for (q, z, expected) in [
            (0.1, 0, 1.0),
            (0.1, 1, 0.2045873),
            (0.1, 5, 0.0009137),
            (0.1, 10, 0.0000012),
            (0.3, 5, 0.1773523),
            (0.3, 10, 0.0416605),
        ] {
            let got = nakamoto(q, z);
            assert!((got - expected).abs() < 5e-7, "q {q} z {z}: {got}");
        }
    }

    #[test]
    fn without_limits_the_exact_race_is_rosenfelds_closed_form() {
        for win in [Win::CatchUp, Win::Ahead] {
            for q in QS {
                for z in 0..=12 {
                    let exact = unlimited(z, win).odds(q);
                    let closed = rosenfeld(q, z, win);
                    assert!(
                        (exact.success - closed).abs() < 1e-12,
                        "{win:?} q {q} z {z}: dynamic programming {} against {closed}",
                        exact.success
                    );
                }
            }
        }
    }

    #[test]
    fn from_level_the_attacker_gets_ahead_with_q_over_p() {
        for q in QS {
            let odds = unlimited(0, Win::Ahead).odds(q);
            assert!(
                (odds.success - q / (1.0 - q)).abs() < 1e-12,
                "q {q}: {odds:?}"
            );
            // Catching up from level needs no block at all.
            assert_eq!(unlimited(0, Win::CatchUp).odds(q).success, 1.0);
        }
    }

    #[test]
    fn the_give_up_deficit_is_a_gamblers_ruin_barrier() {
        // From level, reaching +1 before −d: with r = p/q, (1 − r^d) / (1 − r^(d+1)).
        for q in QS {
            for deficit in [1, 2, 5, 12] {
                let rules = RaceRules {
                    give_up_deficit: deficit,
                    ..unlimited(0, Win::Ahead)
                };
                let r = (1.0 - q) / q;
                let d = deficit as i32;
                let expected = (1.0 - r.powi(d)) / (1.0 - r.powi(d + 1));
                let odds = rules.odds(q);
                assert!(
                    (odds.success - expected).abs() < 1e-12,
                    "q {q} deficit {deficit}: {odds:?} against {expected}"
                );
                assert!((odds.gave_up - (1.0 - expected)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn the_odds_fall_with_z_rise_with_q_and_sum_to_one() {
        for q in QS {
            let mut previous = f64::INFINITY;
            for z in 0..=12 {
                let odds = RaceRules::of_trial(z).odds(q);
                let total = odds.success + odds.gave_up + odds.undecided;
                assert!((total - 1.0).abs() < 1e-12, "q {q} z {z}: {odds:?}");
                assert!(odds.success < previous, "q {q} z {z}: {odds:?}");
                assert!(odds.success < rosenfeld(q, z, Win::Ahead) + 1e-15);
                previous = odds.success;
            }
        }
        for z in 0..=12 {
            let shares: Vec<f64> = QS
                .iter()
                .map(|q| RaceRules::of_trial(z).odds(*q).success)
                .collect();
            assert!(shares.windows(2).all(|w| w[0] < w[1]), "z {z}: {shares:?}");
        }
    }

    #[test]
    fn a_block_cap_of_zero_decides_nothing() {
        let rules = RaceRules {
            block_cap: 0,
            ..unlimited(2, Win::Ahead)
        };
        let odds = rules.odds(0.3);
        assert_eq!(
            (odds.success, odds.gave_up, odds.undecided),
            (0.0, 0.0, 1.0)
        );
    }

    /// The race played block by block with random draws: an implementation of the rules
    /// independent of the dynamic programming.
    fn simulate(rules: &RaceRules, q: f64, rng: &mut StdRng) -> bool {
        let (mut attacker, mut public) = (0u64, 0u64);
        while attacker + public < rules.block_cap {
            if rng.gen::<f64>() < q {
                attacker += 1;
            } else {
                public += 1;
            }
            if public >= rules.confirmations && attacker > public {
                return true;
            }
            if public >= attacker + rules.give_up_deficit {
                return false;
            }
        }
        false
    }

    #[test]
    fn tight_limits_agree_with_a_simulation_of_the_race() {
        // Limits that bind often, where the closed forms no longer apply.
        let mut rng = StdRng::seed_from_u64(16);
        for (q, z, give_up_deficit, block_cap) in [(0.35, 2, 3, 9), (0.4, 3, 3, 10)] {
            let rules = RaceRules {
                confirmations: z,
                win: Win::Ahead,
                give_up_deficit,
                block_cap,
            };
            let odds = rules.odds(q);
            assert!(odds.undecided > 0.01 && odds.gave_up > 0.1, "{odds:?}");
            let trials = 40_000;
            let wins = (0..trials)
                .filter(|_| simulate(&rules, q, &mut rng))
                .count();
            let rate = wins as f64 / trials as f64;
            let sigma = (odds.success * (1.0 - odds.success) / trials as f64).sqrt();
            assert!(
                (rate - odds.success).abs() < 4.5 * sigma,
                "{rules:?} q {q}: simulated {rate}, exact {odds:?}"
            );
        }
    }
}
