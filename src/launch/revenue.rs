//! A miner's share of the final best chain (its "relative revenue", Eyal & Sirer 2014),
//! with a 95 % interval that respects how correlated consecutive blocks are: a selfish
//! miner's blocks come in runs, so the binomial interval of independent draws would be
//! too narrow. The interval comes from batch means: the best chain, in height order, is
//! cut into [`BATCHES`] consecutive batches, each batch's share is one sample, and the
//! interval is Student's t over those samples. Batches hundreds of blocks long are far
//! longer than any run of withheld blocks, so their shares are close to independent.

use super::Summary;

/// Batches of the batch-means interval.
pub const BATCHES: usize = 20;
/// Student's t for 95 % with `BATCHES - 1` degrees of freedom.
const T_95_19: f64 = 2.093;

/// See the module comment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Share {
    /// Blocks on the final best chain (genesis not counted).
    pub blocks: u64,
    /// Of those, the fraction the node mined.
    pub share: f64,
    /// Half-width of the 95 % interval (batch means); `None` with too few blocks.
    pub ci95: Option<f64>,
}

/// `node`'s share of the final best chain of `summary`.
pub fn best_chain_share(summary: &Summary, node: &str) -> Share {
    let mut chain: Vec<(u64, bool)> = summary
        .finds
        .iter()
        .filter(|find| !find.stale)
        .map(|find| (find.height, find.node == node))
        .collect();
    chain.sort_unstable();
    let ours = chain.iter().filter(|(_, mine)| *mine).count();
    let blocks = chain.len();
    let share = if blocks == 0 {
        0.0
    } else {
        ours as f64 / blocks as f64
    };
    Share {
        blocks: blocks as u64,
        share,
        ci95: batch_means_ci95(&chain.iter().map(|(_, mine)| *mine).collect::<Vec<_>>()),
    }
}

/// Half-width of the 95 % interval of the mean of `hits` by batch means (see the module
/// comment); `None` when there are fewer than two blocks per batch.
pub fn batch_means_ci95(hits: &[bool]) -> Option<f64> {
    let size = hits.len() / BATCHES;
    if size < 2 {
        return None;
    }
    let means: Vec<f64> = hits
        .chunks_exact(size)
        .take(BATCHES)
        .map(|batch| batch.iter().filter(|hit| **hit).count() as f64 / size as f64)
        .collect();
    let n = means.len() as f64;
    let mean = means.iter().sum::<f64>() / n;
    let variance = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(T_95_19 * (variance / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_hits_have_no_spread_between_batches() {
        let hits: Vec<bool> = (0..400).map(|i| i % 2 == 0).collect();
        assert_eq!(batch_means_ci95(&hits), Some(0.0));
    }

    #[test]
    fn runs_longer_than_a_batch_widen_the_interval() {
        // Twenty batches of 10: all hits in the first half, none in the second.
        let hits: Vec<bool> = (0..200).map(|i| i < 100).collect();
        let ci = batch_means_ci95(&hits).unwrap();
        // Ten batch means of 1 and ten of 0: variance 20 × 0.25 / 19, so t × √(5/19/20).
        assert!((ci - 2.093 * (5.0f64 / 19.0 / 20.0).sqrt()).abs() < 1e-9);
        assert_eq!(batch_means_ci95(&hits[..30]), None);
    }
}
