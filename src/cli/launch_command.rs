//! `ironchain launch FILE` (the book's Guide › Launching a network): starts every node a
//! config file lists, with its simulated network, until the run's duration or block count
//! or a stop signal (Ctrl-C, SIGTERM, SIGHUP), then prints the summary and writes
//! `summary.json` into the run directory.
//!
//! The nodes' own log lines do not say which node they come from, so unless `RUST_LOG`
//! asks for them, only warnings are logged and the launcher prints its own labelled
//! progress lines instead.

// The doc comments of the command-line arguments below are clap's `--help` text, written
// for a terminal (`[[nodes]]`, `<port>`), not rustdoc Markdown.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use crate::config::scenario::MiningMode;
use crate::launch::plan::SIMULATED_RETARGET_INTERVAL;
use crate::launch::{
    check_run_dir, default_run_dir, run_blocking_reporting, LaunchPlan, RunOptions,
};
use clap::Args;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// Options of `ironchain launch`.
#[derive(Args, Debug)]
pub struct LaunchArgs {
    /// Config file with [[nodes]] and a [simulation] table (see config/fork-demo.toml).
    pub file: PathBuf,
    /// Run directory for the nodes' data and summary.json (default:
    /// runs/<config name>-<UTC date-time>); must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Print only where the nodes listen and the summary, not each block and reorg.
    #[arg(long)]
    pub quiet: bool,
    /// Also write summary.json and blocks.csv (one row per block found: height, miner,
    /// when found, reached 50 % and 90 % of the nodes, stale) into DIR, for plotting.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the launch's web page listens (default 127.0.0.1 and a port the OS picks;
    /// the URL is printed at start).
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "no_http")]
    pub http: Option<SocketAddr>,
    /// Serve no web page. With a page, the launcher keeps showing the run's final state
    /// on it after the run ends, until Ctrl-C; without one it exits when the run ends.
    #[arg(long)]
    pub no_http: bool,
}

/// Runs `ironchain launch`.
pub fn run(args: LaunchArgs) -> Result<(), String> {
    let plan = LaunchPlan::load(&args.file).map_err(|e| e.to_string())?;
    if std::env::var_os("RUST_LOG").is_none() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    let run_dir = args.run_dir.unwrap_or_else(|| default_run_dir(&plan.name));
    check_run_dir(&run_dir).map_err(|e| e.to_string())?;
    crate::outln!(
        "launching {} from {} into {}",
        crate::plural::count(plan.nodes.len() as u64, "node", "nodes"),
        plan.file,
        run_dir.display()
    );
    if plan.mining == MiningMode::Simulated {
        crate::outln!(
            "simulated mining: mean block interval {} ms over the network, seed {}; \
             difficulty fixed at 0 bits and retargeting off (retarget_interval = {})",
            plan.params.target_block_time_ms,
            plan.seed,
            SIMULATED_RETARGET_INTERVAL
        );
    }
    let options = RunOptions {
        run_dir: run_dir.clone(),
        announce: true,
        progress: !args.quiet,
        page: (!args.no_http).then(|| {
            args.http
                .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        }),
    };
    // The summary is printed as soon as it is written; the page may then go on showing
    // the final state until Ctrl-C.
    let report = |summary: &crate::launch::Summary| -> Result<(), String> {
        crate::outln!("\n{summary}");
        crate::outln!(
            "summary written to {} (per-block rows in blocks.csv beside it)",
            run_dir.join("summary.json").display()
        );
        if let Some(out) = &args.out {
            let copy = |name: &str| {
                std::fs::create_dir_all(out)
                    .and_then(|()| std::fs::copy(run_dir.join(name), out.join(name)))
                    .map_err(|e| format!("cannot write {}: {e}", out.join(name).display()))
            };
            copy("summary.json")?;
            copy("blocks.csv")?;
            crate::outln!(
                "summary.json and blocks.csv also written to {}",
                out.display()
            );
        }
        Ok(())
    };
    let (_, signal) = run_blocking_reporting(&plan, &options, Some(Box::new(report)))
        .map_err(|e| e.to_string())?;
    if let Some(signal) = signal {
        // Every stop signal is the same clean stop (summary written, stores closed), but
        // the run did not reach its end: the status says so as shells do for a program a
        // signal ended (128 + its number: 130 for Ctrl-C, 143 for SIGTERM), so a script
        // does not take a cut-short run for a finished one. A node has no end of its
        // own, and exits 0 when stopped.
        std::process::exit(128 + signal.number());
    }
    Ok(())
}
