//! Difficulty retargeting and the median-time-past timestamp rule.
//!
//! These are pure functions of block heights, timestamps and targets, kept
//! apart from storage and networking so every node computes them identically
//! and tests can pin them down exactly.
//!
//! # Retargeting, exactly
//!
//! A block at height `h` is a retarget block when `interval != 0`,
//! `h >= interval` and `h % interval == 0`. An `interval` of 0 means "never
//! retarget" (configuration validation requires `interval >= 2`; 0 and 1 are
//! only given a defined, panic-free meaning).
//!
//! The "last interval" is the `interval` blocks at heights
//! `h - interval ..= h - 1`. Its actual span is `ts(h-1) - ts(h-interval)`,
//! taken as 0 if timestamps went backwards; its expected span is
//! `(interval - 1) * target_block_time_ms`, so both sides count the same
//! `interval - 1` gaps (Bitcoin compares `interval - 1` gaps with `interval`
//! block times, an off-by-one we avoid).
//!
//! The new target is `old * actual / expected` with the factor clamped to
//! `[1/4, 4]` exactly (the clamp compares rationals rather than rounding
//! `expected / 4`), computed without rounding until the final floor, then
//! capped at `pow_limit`, floored at [`Target::HARDEST`] (the compact form
//! cannot carry zero), and encoded with [`Target::to_compact`], which rounds
//! down. Blocks at other heights keep their parent's compact target; a
//! block whose compact target differs from the expected one is invalid.
//!
//! # Timestamps
//!
//! A block's timestamp (u64 milliseconds since the Unix epoch) must be
//! strictly greater than [`median_time_past`] of the previous
//! [`MEDIAN_TIME_SPAN`] blocks, and not more than the configured drift ahead
//! of the node's clock.
//!
//! # Branches that ease their difficulty
//!
//! A side branch can space its timestamps to ease its target ×4 per interval,
//! down to the pow limit. No rule here stops that, by design: each eased
//! block still carries only its own work, fork choice follows work, and the
//! node stores a branch only near its tip's work (`chain::work_margin`), so
//! light blocks cost memory within the orphan pool's bounds and never disk.
//! The spans above leave the gap between intervals uncounted (Bitcoin's time
//! warp): an interval's last timestamp may sit at the drift limit and the
//! next interval's first near the median, easing without spending time. That
//! concerns the active chain's block rate, not storage; closing it would take
//! a consensus rule like BIP 94's (ARCHITECTURE.md, "Side branches").

use super::target::{CompactTarget, CompactTargetError, Target};

/// How many previous blocks' timestamps the median-time-past rule looks at.
pub const MEDIAN_TIME_SPAN: usize = 11;

/// A retarget changes the target by at most this factor either way (the book's Protocol and
/// rules › Blocks, `docs/src/protocol/blocks.md`: [1/4, 4]).
pub const MAX_RETARGET_FACTOR: u64 = 4;

/// Chain parameters that retargeting depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetargetParams {
    /// Blocks between retargets; 0 means never retarget.
    pub interval: u64,
    /// Intended time between blocks, in milliseconds.
    pub target_block_time_ms: u64,
    /// The easiest target the chain ever allows.
    pub pow_limit: Target,
}

/// Whether the block at `height` gets a freshly computed target.
pub fn is_retarget_height(interval: u64, height: u64) -> bool {
    interval != 0 && height >= interval && height % interval == 0
}

/// The compact target for a retarget block, given the parent's compact
/// target `old` and the timestamps of the first (`h - interval`) and last
/// (`h - 1`) blocks of the interval that just ended.
///
/// Fails only if `old` does not decode. When the expected span is zero
/// (`interval <= 1` or a zero block time, both rejected by configuration
/// validation) there is no meaningful ratio, and `old` is returned unchanged.
pub fn retarget(
    params: &RetargetParams,
    old: CompactTarget,
    first_ts: u64,
    last_ts: u64,
) -> Result<CompactTarget, CompactTargetError> {
    let old_target = old.to_target()?;
    // Saturation needs a span of over 500 million years; it only skews the
    // ratio for configurations validation would never let through.
    let expected = params
        .interval
        .saturating_sub(1)
        .saturating_mul(params.target_block_time_ms);
    if expected == 0 {
        return Ok(old);
    }
    let actual = last_ts.saturating_sub(first_ts);
    // Compare in u128 so the bounds `expected / 4` and `expected * 4` are
    // exact rather than rounded or saturated.
    let factor = MAX_RETARGET_FACTOR;
    let (numerator, denominator) = if u128::from(actual) * u128::from(factor) < u128::from(expected)
    {
        (1, factor)
    } else if u128::from(actual) > u128::from(expected) * u128::from(factor) {
        (factor, 1)
    } else {
        (actual, expected)
    };
    // Every denominator above is nonzero, so `scale` cannot fail; keeping
    // the old target would be the conservative answer if it somehow did.
    let scaled = old_target
        .scale(numerator, denominator)
        .unwrap_or(old_target);
    let bounded = scaled.min(params.pow_limit).max(Target::HARDEST);
    Ok(bounded.to_compact())
}

/// Median of the last (up to) [`MEDIAN_TIME_SPAN`] entries of `timestamps`.
///
/// Entries may be in any order; if more than [`MEDIAN_TIME_SPAN`] are given,
/// only the last ones by position count. With an even count the upper of the
/// two middle values is taken, so the rule is never looser than the lower
/// median would be. An empty slice gives 0, so any timestamp passes (the
/// genesis block has no predecessors).
pub fn median_time_past(timestamps: &[u64]) -> u64 {
    let recent = &timestamps[timestamps.len().saturating_sub(MEDIAN_TIME_SPAN)..];
    // A fixed stack buffer: this runs for every block validated and needs
    // no allocation.
    let mut buffer = [0u64; MEDIAN_TIME_SPAN];
    let sorted = &mut buffer[..recent.len()];
    sorted.copy_from_slice(recent);
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK_MS: u64 = 10_000;
    const INTERVAL: u64 = 10;
    const EXPECTED: u64 = (INTERVAL - 1) * BLOCK_MS;

    fn compact(bits: u32) -> CompactTarget {
        CompactTarget::from_consensus(bits)
    }

    fn params(pow_limit: Target) -> RetargetParams {
        RetargetParams {
            interval: INTERVAL,
            target_block_time_ms: BLOCK_MS,
            pow_limit,
        }
    }

    /// 0x1d00ffff: 0xffff << 208, a target with room to move both ways.
    fn genesis() -> CompactTarget {
        compact(0x1d00_ffff)
    }

    #[test]
    fn retarget_heights() {
        assert!(!is_retarget_height(10, 0));
        assert!(!is_retarget_height(10, 5));
        assert!(is_retarget_height(10, 10));
        assert!(!is_retarget_height(10, 11));
        assert!(is_retarget_height(10, 20));
        assert!(!is_retarget_height(0, 0));
        assert!(!is_retarget_height(0, 10));
        assert!(is_retarget_height(1, 1));
        assert!(!is_retarget_height(1, 0));
        assert!(is_retarget_height(u64::MAX, u64::MAX));
    }

    #[test]
    fn on_time_interval_keeps_target() {
        let p = params(Target::MAX);
        assert_eq!(
            retarget(&p, genesis(), 1_000, 1_000 + EXPECTED),
            Ok(genesis())
        );
    }

    #[test]
    fn twice_too_fast_halves_target() {
        let p = params(Target::MAX);
        let new = retarget(&p, genesis(), 5_000, 5_000 + EXPECTED / 2).unwrap();
        // 0xffff << 208 halved is 0x7fff80 << 200.
        assert_eq!(new, compact(0x1c7f_ff80));
        let old = genesis().to_target().unwrap();
        assert_eq!(new.to_target().ok(), old.scale(1, 2).ok());
    }

    #[test]
    fn ten_times_too_fast_is_clamped_to_a_quarter() {
        let p = params(Target::MAX);
        let new = retarget(&p, genesis(), 0, EXPECTED / 10).unwrap();
        // 0xffff << 208 divided by 4 is 0x3fffc0 << 200.
        assert_eq!(new, compact(0x1c3f_ffc0));
    }

    #[test]
    fn clamp_to_a_quarter_is_exact_not_rounded() {
        // expected = 9 ms: a span of 2 ms is under a quarter (2.25) and must
        // clamp to exactly 1/4, not to floor(9/4) / 9 = 2/9.
        let p = RetargetParams {
            interval: 10,
            target_block_time_ms: 1,
            pow_limit: Target::MAX,
        };
        assert_eq!(retarget(&p, genesis(), 0, 2), Ok(compact(0x1c3f_ffc0)));
    }

    #[test]
    fn ten_times_too_slow_is_clamped_to_four_times() {
        let p = params(Target::MAX);
        let new = retarget(&p, genesis(), 0, EXPECTED * 10).unwrap();
        // 0xffff << 208 times 4 is 0x03fffc << 208.
        assert_eq!(new, compact(0x1d03_fffc));
    }

    #[test]
    fn never_easier_than_pow_limit() {
        let limit = genesis().to_target().unwrap();
        let p = params(limit);
        assert_eq!(retarget(&p, genesis(), 0, EXPECTED * 2), Ok(genesis()));
        assert_eq!(retarget(&p, genesis(), 0, u64::MAX), Ok(genesis()));
        // A limit that is not exactly representable still rounds down.
        let odd_limit = Target::from_leading_zero_bits(20).unwrap();
        let p = params(odd_limit);
        let new = retarget(&p, odd_limit.to_compact(), 0, EXPECTED * 3).unwrap();
        assert!(new.to_target().unwrap() <= odd_limit);
        assert_eq!(new, odd_limit.to_compact());
    }

    #[test]
    fn never_reaches_zero() {
        let p = params(Target::MAX);
        let hardest = Target::HARDEST.to_compact();
        assert_eq!(retarget(&p, hardest, 0, 0), Ok(hardest));
    }

    #[test]
    fn backwards_timestamps_do_not_panic() {
        let p = params(Target::MAX);
        // Negative span counts as zero, which clamps to a quarter.
        assert_eq!(
            retarget(&p, genesis(), 50_000, 10),
            Ok(compact(0x1c3f_ffc0))
        );
        assert_eq!(
            retarget(&p, genesis(), u64::MAX, 0),
            Ok(compact(0x1c3f_ffc0))
        );
    }

    #[test]
    fn degenerate_params_keep_target() {
        let mut p = params(Target::MAX);
        p.interval = 1;
        assert_eq!(retarget(&p, genesis(), 0, 1_000_000), Ok(genesis()));
        p.interval = 0;
        assert_eq!(retarget(&p, genesis(), 0, 1_000_000), Ok(genesis()));
        p.interval = 10;
        p.target_block_time_ms = 0;
        assert_eq!(retarget(&p, genesis(), 0, 1_000_000), Ok(genesis()));
        p.target_block_time_ms = u64::MAX;
        // expected saturates; a short span clamps to a quarter without panic.
        assert_eq!(retarget(&p, genesis(), 0, 1), Ok(compact(0x1c3f_ffc0)));
    }

    #[test]
    fn invalid_old_target_is_an_error() {
        let p = params(Target::MAX);
        assert_eq!(
            retarget(&p, compact(0), 0, EXPECTED),
            Err(CompactTargetError::Zero(compact(0)))
        );
        assert_eq!(
            retarget(&p, compact(0x1d80_ffff), 0, EXPECTED),
            Err(CompactTargetError::Negative(compact(0x1d80_ffff)))
        );
        assert_eq!(
            retarget(&p, compact(0xff12_3456), 0, EXPECTED),
            Err(CompactTargetError::Overflow(compact(0xff12_3456)))
        );
    }

    #[test]
    fn median_of_eleven() {
        let ts: Vec<u64> = (1..=11).map(|i| i * 100).collect();
        assert_eq!(median_time_past(&ts), 600);
    }

    #[test]
    fn median_of_unsorted_input() {
        let ts = [900, 100, 1100, 300, 700, 500, 200, 1000, 400, 800, 600];
        assert_eq!(median_time_past(&ts), 600);
    }

    #[test]
    fn median_of_fewer_than_eleven() {
        assert_eq!(median_time_past(&[42]), 42);
        assert_eq!(median_time_past(&[30, 10, 20]), 20);
        // Even count: the upper middle value.
        assert_eq!(median_time_past(&[10, 40]), 40);
        assert_eq!(median_time_past(&[40, 10, 30, 20]), 30);
    }

    #[test]
    fn median_of_more_than_eleven_uses_the_last_eleven() {
        let mut ts = vec![1_000_000, 2_000_000];
        ts.extend((1..=11).map(|i| i * 100));
        assert_eq!(median_time_past(&ts), 600);
    }

    #[test]
    fn median_of_empty_is_zero() {
        assert_eq!(median_time_past(&[]), 0);
    }
}
