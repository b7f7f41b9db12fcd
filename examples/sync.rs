//! Initial sync speed (issue 6, targets: ≥ 20,000 empty blocks/s and ≥ 50,000 signed
//! transactions/s; issue 12: and ≥ 1.3x the single-verify ceiling printed beside it): a node in a child process serves a cached 20,000-block fixture (see
//! `common/fixture.rs`: empty blocks, then blocks of 10 signed transfers each), and a fresh
//! node in this process syncs it over loopback with every rule checked and every batch
//! committed to its store with fsync, as a real node does. Timed from starting the fresh
//! node to its tip reaching height 20,000 and the node stopped, which waits for the last
//! batch's commit (it runs behind the tip). Also prints this process's peak RSS.
//!
//!     cargo run --release --example sync [-- empty|full]
//!
//! The first run generates the fixtures (tens of seconds) into target/bench-fixtures/.

mod common;

use clap::Parser;
use common::fixture::{self, Kind};
use serde_json::json;

/// The command line: which fixture to sync. A bad argument is a usage error (exit 2).
#[derive(Parser)]
#[command(
    about = "Initial sync speed: a fresh node syncs a 20,000-block fixture served \
                   by a child process over loopback"
)]
struct Args {
    /// `empty` (20,000 empty blocks) or `full` (blocks of 10 signed transfers); both
    /// when omitted.
    #[arg(value_enum)]
    kind: Option<Kind>,
}

fn main() {
    // The serving child is this executable started by `fixture::measure`, not a person.
    if fixture::serve_if_child() {
        return;
    }
    let args = Args::parse();
    let kinds: Vec<Kind> = match args.kind {
        Some(kind) => vec![kind],
        None => vec![Kind::Empty, Kind::Full],
    };
    for kind in kinds {
        // Generated before timing (by a child, so this process stays lean).
        let run = fixture::measure(kind);
        let ceiling = &run.ceiling;
        let target = match kind {
            Kind::Empty => "target >= 20,000 blocks/s",
            Kind::Full => "target >= 50,000 tx/s and >= 1.3x the ceiling",
        };
        // Empty blocks carry no signatures: no ratio to speak of.
        let ratio = (kind == Kind::Full).then(|| run.txs_per_s / ceiling.rate());
        common::report(
            "sync",
            format!(
                "{} blocks ({}): {:.2} s, {:.0} blocks/s, {:.0} tx/s verified; \
                 {}{}; peak RSS so far {:.1} MiB ({target})",
                fixture::BLOCKS,
                match kind {
                    Kind::Empty => "empty".to_string(),
                    Kind::Full => format!("{} signed transfers each", fixture::TXS_PER_BLOCK),
                },
                run.seconds,
                run.blocks_per_s,
                run.txs_per_s,
                ratio.map_or(String::new(), |ratio| format!("{ratio:.2}x the ")),
                ceiling.describe(),
                run.peak_rss_mib
            ),
            json!({
                "kind": kind.name(), "blocks": fixture::BLOCKS,
                "transactions": kind.transactions(), "seconds": run.seconds,
                "blocks_per_s": run.blocks_per_s, "txs_per_s": run.txs_per_s,
                "peak_rss_mib": run.peak_rss_mib,
                "single_verify_ceiling": ceiling.rate(), "cores": ceiling.cores,
                "ratio_to_single_verify_ceiling": ratio,
            }),
        );
    }
}
