//! Peak memory of a node that synced the full fixture (issue 6, target: RSS < 100 MB):
//! the same run as `sync full` (see `common/fixture.rs`), reporting this process's
//! `VmHWM` (peak resident set) and `VmRSS` afterwards. The serving node lives in a child
//! process, so the figure is the syncing node's alone (plus the actix system around it).
//!
//!     cargo run --release --example memory

mod common;

use common::fixture::{self, Kind};
use serde_json::json;

fn main() {
    if fixture::serve_if_child() {
        return;
    }
    let run = fixture::measure(Kind::Full);
    let rss = common::rss_mib();
    common::report(
        "memory",
        format!(
            "node that synced {} blocks / {} signed transfers: peak RSS {:.1} MiB \
             ({:.1} MB), RSS after stopping {:.1} MiB (target < 100 MB)",
            fixture::BLOCKS,
            Kind::Full.transactions(),
            run.peak_rss_mib,
            run.peak_rss_mib * 1.048_576,
            rss
        ),
        json!({
            "blocks": fixture::BLOCKS, "transactions": Kind::Full.transactions(),
            "peak_rss_mib": run.peak_rss_mib, "peak_rss_mb": run.peak_rss_mib * 1.048_576,
            "rss_after_mib": rss, "sync_seconds": run.seconds,
        }),
    );
}
