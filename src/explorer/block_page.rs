//! One page of `/api/blocks`: which heights it walks, in what order, and where it stops.
//! A page lists at most `count` blocks and at most [`PAGE_BYTES`] of JSON (a hundred full
//! blocks would be over a hundred megabytes), and always at least one block, so every
//! page makes progress. A page cut short names where the next one starts.
//!
//! With `from`, a page walks up from that height; without it, down from the tip (the
//! latest blocks, which a cut must keep). Either way the blocks are listed lowest first.

/// The most JSON one page of blocks carries by default (a full block's JSON is about
/// 2 MiB); [`super::limits::ExplorerLimits::page_bytes`].
pub const PAGE_BYTES: usize = 4 << 20;

/// The plan of one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPage {
    /// Heights in the order they are read.
    heights: Vec<u64>,
    upward: bool,
    count: u64,
}

/// Blocks taken so far, within the byte budget.
#[derive(Debug)]
pub struct Taken {
    /// (height, JSON) in reading order.
    blocks: Vec<(u64, Vec<u8>)>,
    /// The page's bytes so far: each block's JSON and the comma or bracket after it, and
    /// the opening bracket.
    bytes: usize,
    budget: usize,
}

impl BlockPage {
    /// The page of `count` blocks from `from` (or the latest) on a chain whose tip is at
    /// `tip`.
    pub fn plan(from: Option<u64>, count: u64, tip: u64) -> Self {
        let heights = match from {
            Some(from) if from > tip => Vec::new(),
            Some(from) => (from..=from.saturating_add(count - 1).min(tip)).collect(),
            None => (tip.saturating_sub(count - 1)..=tip).rev().collect(),
        };
        BlockPage {
            heights,
            upward: from.is_some(),
            count,
        }
    }

    /// The heights to read, in order; stop when [`Taken::take`] says so.
    pub fn heights(&self) -> &[u64] {
        &self.heights
    }

    /// The JSON array of the taken blocks, lowest first, and the path of the next page
    /// in the direction walked, if the chain goes on past it.
    pub fn finish(&self, taken: Taken, tip: u64) -> (Vec<u8>, Option<String>) {
        let count = self.count;
        let next = match (taken.blocks.first(), taken.blocks.last(), self.upward) {
            (_, Some((last, _)), true) if *last < tip => {
                Some(format!("/api/blocks?from={}&count={count}", last + 1))
            }
            (_, Some((lowest, _)), false) if *lowest > 0 => {
                let from = lowest.saturating_sub(count);
                Some(format!(
                    "/api/blocks?from={from}&count={}",
                    (lowest - from).max(1)
                ))
            }
            _ => None,
        };
        let mut blocks = taken.blocks;
        if !self.upward {
            blocks.reverse();
        }
        let mut json = Vec::with_capacity(taken.bytes);
        json.push(b'[');
        for (i, (_, block)) in blocks.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            json.extend_from_slice(block);
        }
        json.push(b']');
        (json, next)
    }
}

impl Taken {
    /// An empty page of at most `budget` bytes (whatever its first block's size).
    pub fn new(budget: usize) -> Self {
        Taken {
            blocks: Vec::new(),
            bytes: 1,
            budget,
        }
    }

    /// Takes the block at `height` if it fits in the page's bytes (the first always
    /// does); `false` means the page is full and this block starts the next one.
    pub fn take(&mut self, height: u64, json: Vec<u8>) -> bool {
        if !self.blocks.is_empty() && self.bytes + json.len() + 1 > self.budget {
            return false;
        }
        self.bytes += json.len() + 1;
        self.blocks.push((height, json));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(page: &BlockPage, size: usize) -> Taken {
        let mut taken = Taken::new(PAGE_BYTES);
        for &height in page.heights() {
            // The height, zero-padded to `size` bytes.
            let digits = height.to_string();
            let padded = "0".repeat(size.saturating_sub(digits.len())) + &digits;
            if !taken.take(height, padded.into_bytes()) {
                break;
            }
        }
        taken
    }

    fn heights(json: &[u8]) -> Vec<u64> {
        let text = std::str::from_utf8(&json[1..json.len() - 1]).unwrap();
        text.split(',')
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().unwrap())
            .collect()
    }

    #[test]
    fn a_page_from_a_height_walks_up_and_stops_at_the_tip() {
        let page = BlockPage::plan(Some(5), 10, 9);
        let (json, next) = page.finish(fill(&page, 3), 9);
        assert_eq!(heights(&json), vec![5, 6, 7, 8, 9]);
        assert_eq!(next, None);
        let page = BlockPage::plan(Some(5), 2, 9);
        let (json, next) = page.finish(fill(&page, 3), 9);
        assert_eq!(heights(&json), vec![5, 6]);
        assert_eq!(next.as_deref(), Some("/api/blocks?from=7&count=2"));
        let (json, next) =
            BlockPage::plan(Some(u64::MAX), 100, 9).finish(Taken::new(PAGE_BYTES), 9);
        assert_eq!((json, next), (b"[]".to_vec(), None));
    }

    #[test]
    fn the_latest_page_ends_at_the_tip_and_points_down() {
        let page = BlockPage::plan(None, 3, 9);
        assert_eq!(page.heights(), &[9, 8, 7]);
        let (json, next) = page.finish(fill(&page, 3), 9);
        assert_eq!(heights(&json), vec![7, 8, 9]);
        assert_eq!(next.as_deref(), Some("/api/blocks?from=4&count=3"));
        let page = BlockPage::plan(None, 100, 9);
        let (json, next) = page.finish(fill(&page, 3), 9);
        assert_eq!(heights(&json), (0..=9).collect::<Vec<_>>());
        assert_eq!(next, None);
    }

    #[test]
    fn a_page_never_passes_its_byte_budget_but_lists_at_least_one_block() {
        // Blocks of a third of the budget, less their separators: three fit, the
        // fourth starts the next page.
        let third = PAGE_BYTES / 3 - 2;
        let page = BlockPage::plan(Some(10), 100, 1_000);
        let (json, next) = page.finish(fill(&page, third), 1_000);
        assert!(json.len() <= PAGE_BYTES, "{} bytes", json.len());
        assert_eq!(heights(&json), vec![10, 11, 12]);
        assert_eq!(next.as_deref(), Some("/api/blocks?from=13&count=100"));
        // The latest blocks are the ones kept.
        let page = BlockPage::plan(None, 100, 1_000);
        let (json, next) = page.finish(fill(&page, third), 1_000);
        assert_eq!(heights(&json), vec![998, 999, 1_000]);
        assert_eq!(next.as_deref(), Some("/api/blocks?from=898&count=100"));
        // One block larger than the budget still makes a page.
        let page = BlockPage::plan(Some(0), 5, 9);
        let (json, next) = page.finish(fill(&page, PAGE_BYTES + 1), 9);
        assert_eq!(heights(&json), vec![0]);
        assert_eq!(next.as_deref(), Some("/api/blocks?from=1&count=5"));
    }
}
