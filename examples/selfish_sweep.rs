//! Selfish mining on real nodes (issue 16): sweeps the selfish pool's hash share α and
//! measures its relative revenue — its share of the blocks on the final best chain —
//! against Eyal & Sirer's closed form (2014, eq. 8):
//!
//!     R = [α(1−α)²(4α + γ(1−2α)) − α³] / [1 − α(1 + (2−α)α)]
//!
//! where γ is the share of honest miners that build on the pool's block in a tie. γ is
//! not set here: it comes from where the pool sits in the network. Each point is a
//! virtual-time launch of one selfish node (`strategy = "selfish"`, share α) and
//! `--honest` equal honest nodes, every pair connected, in one of two layouts:
//! - `well_connected`: the pool is 5 ms from every honest node, which are 200 ms from
//!   each other, so in a tie the pool's block reaches most honest miners first (γ high);
//! - `poorly_connected`: the other way round (γ near 0).
//!
//! The mean block interval is 600 s, so the 5 ms and 200 ms only decide races, not the
//! honest stale rate. The 95 % interval comes from batch means (`launch::revenue`), since
//! consecutive blocks are correlated. A point whose first run (`--blocks`) leaves an
//! interval wider than `--target-ci95` (± 1 point) runs again for as many blocks as that
//! takes: the variance grows fast with α (a lead can last hundreds of blocks), so α = 0.45
//! needs about ten times the blocks of α = 0.3. Points run `--jobs` at a time, one
//! thread each. Writes `selfish_sweep.csv` and `selfish_sweep.svg` into `--out` and prints the table as
//! Markdown. Run from the repository root (release: tens of thousands of blocks a point):
//!
//!     cargo run --release --example selfish_sweep -- [--out docs/src/experiments] [--blocks 20000]
//!         [--target-ci95 0.01] [--max-blocks 400000] [--honest 5] [--jobs 2] [--seed 1]

mod common;

use clap::Parser;
use common::chart::{Chart, Curve, Points};
use ironchain::launch::revenue::best_chain_share;
use ironchain::launch::{run_blocking, LaunchPlan, RunOptions};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

const ALPHAS: [f64; 7] = [0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45];
const LAYOUTS: [&str; 2] = ["well_connected", "poorly_connected"];
/// One-way delays: near and far.
const NEAR_MS: u64 = 5;
const FAR_MS: u64 = 200;

/// The sweep's options (`--help` lists them).
#[derive(Parser)]
#[command(about = "Selfish mining on real nodes: relative revenue against Eyal & Sirer")]
struct Args {
    /// Where selfish_sweep.csv and selfish_sweep.svg are written.
    #[arg(long, default_value = "docs/src/experiments")]
    out: PathBuf,
    /// Blocks mined (stale included) in each point's first run.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..))]
    blocks: u64,
    /// Half-width of the 95 % interval each point must reach: a point whose first run
    /// is wider runs again, longer (see `blocks_for_target`).
    #[arg(long, default_value_t = 0.01)]
    target_ci95: f64,
    /// The most blocks one run may mine, whatever its interval.
    #[arg(long, default_value_t = 400_000, value_parser = clap::value_parser!(u64).range(100..))]
    max_blocks: u64,
    /// Honest nodes beside the pool.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=32))]
    honest: u64,
    /// Points run at the same time, one thread each.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    jobs: u64,
    /// The first point's launch seed; the others follow it.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Blocks to mine so that a run whose `mined` blocks gave an interval of `ci95` reaches
/// `target`: the half-width shrinks as one over the square root of the blocks, and 10 %
/// more covers the noise of the interval's own estimate (20 batches). `None` when the
/// run already reached the target.
fn blocks_for_target(mined: u64, ci95: f64, target: f64) -> Option<u64> {
    if ci95.is_nan() || ci95 > target {
        let ratio = if ci95.is_nan() { 2.0 } else { ci95 / target };
        Some((mined as f64 * ratio * ratio * 1.1).ceil() as u64)
    } else {
        None
    }
}

/// Eyal & Sirer's relative revenue of a selfish pool of share `alpha`.
fn closed_form(alpha: f64, gamma: f64) -> f64 {
    let numerator =
        alpha * (1.0 - alpha).powi(2) * (4.0 * alpha + gamma * (1.0 - 2.0 * alpha)) - alpha.powi(3);
    let denominator = 1.0 - alpha * (1.0 + (2.0 - alpha) * alpha);
    numerator / denominator
}

/// One point's launch: the pool "s" and the honest "h0", "h1", …
fn config(args: &Args, layout: &str, alpha: f64, seed: u64, blocks: u64) -> String {
    let (pool_ms, honest_ms) = match layout {
        "well_connected" => (NEAR_MS, FAR_MS),
        _ => (FAR_MS, NEAR_MS),
    };
    let mut text = format!(
        "[chain]\n\
         genesis_message = \"ironchain selfish sweep\"\n\
         target_block_time_ms = 600000\n\n\
         [simulation]\n\
         mining = \"simulated\"\n\
         clock = \"virtual\"\n\
         store = \"memory\"\n\
         seed = {seed}\n\
         stop_after_blocks = {}\n\
         topology = \"mesh\"\n\
         delay_ms = {honest_ms}\n\n\
         [[nodes]]\n\
         name = \"s\"\n\
         hash_power = {alpha}\n\
         strategy = \"selfish\"\n\n\
         [[simulation.groups]]\n\
         name_prefix = \"h\"\n\
         count = {}\n\
         total_hash_power = {}\n",
        blocks,
        args.honest,
        1.0 - alpha
    );
    for h in 0..args.honest {
        let _ = write!(
            text,
            "\n[[simulation.links]]\nfrom = \"s\"\nto = \"h{h}\"\ndelay_ms = {pool_ms}\n"
        );
    }
    text
}

/// One measured point.
struct Point {
    layout: &'static str,
    alpha: f64,
    /// Blocks mined in the reported run, stale included (its `stop_after_blocks`).
    mined: u64,
    /// Blocks on the final best chain.
    blocks: u64,
    revenue: f64,
    ci95: f64,
    stale_rate: f64,
    wall_s: f64,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = Args::parse();
    if !(args.target_ci95 > 0.0 && args.target_ci95 < 0.5) {
        eprintln!("error: --target-ci95 must be between 0 and 0.5");
        return ExitCode::from(2);
    }
    match sweep(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn sweep(args: &Args) -> Result<(), String> {
    let base = ironchain::launch::default_run_dir("selfish-sweep");
    let mut work = Vec::new();
    for (l, layout) in LAYOUTS.iter().enumerate() {
        for (a, alpha) in ALPHAS.iter().enumerate() {
            let seed = args.seed + (l * ALPHAS.len() + a) as u64;
            work.push((*layout, *alpha, seed));
        }
    }
    // The largest α need the most blocks: start them first so the jobs end together.
    work.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!(
        "{} points, 1 selfish + {} honest nodes, {} blocks a first run, longer runs until \
         ± {} (at most {} blocks), {} at a time; run data in {}",
        work.len(),
        args.honest,
        args.blocks,
        args.target_ci95,
        args.max_blocks,
        args.jobs,
        base.display()
    );
    let started = Instant::now();
    let (sender, receiver) = mpsc::channel();
    let queue = std::sync::Mutex::new(work.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..args.jobs {
            let sender = sender.clone();
            let queue = &queue;
            let base = &base;
            scope.spawn(move || loop {
                let next = queue.lock().ok().and_then(|mut queue| queue.next());
                let Some((layout, alpha, seed)) = next else {
                    break;
                };
                let result = measure(args, base, layout, alpha, seed);
                if sender.send(result).is_err() {
                    break;
                }
            });
        }
    });
    drop(sender);
    let mut points = receiver
        .into_iter()
        .collect::<Result<Vec<Point>, String>>()?;
    points.sort_by(|a, b| {
        (a.layout, a.alpha)
            .partial_cmp(&(b.layout, b.alpha))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let seconds = started.elapsed().as_secs_f64();

    let mut csv = String::from(
        "layout,alpha,blocks,measured_revenue,ci95,closed_form_gamma0,closed_form_gamma1,\
         stale_rate,mined\n",
    );
    let mut table = String::from(
        "| layout | α | blocks | measured revenue | 95 % interval | γ = 0 | γ = 1 | stale rate |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for point in &points {
        let (g0, g1) = (closed_form(point.alpha, 0.0), closed_form(point.alpha, 1.0));
        let _ = writeln!(
            csv,
            "{},{},{},{:.4},{:.4},{g0:.4},{g1:.4},{:.4},{}",
            point.layout,
            point.alpha,
            point.blocks,
            point.revenue,
            point.ci95,
            point.stale_rate,
            point.mined
        );
        let _ = writeln!(
            table,
            "| {} | {} | {} | {:.3} | ± {:.3} | {g0:.3} | {g1:.3} | {:.1} % |",
            point.layout,
            point.alpha,
            point.blocks,
            point.revenue,
            point.ci95,
            point.stale_rate * 100.0
        );
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    write(&args.out.join("selfish_sweep.csv"), &csv)?;
    write(&args.out.join("selfish_sweep.svg"), &svg(&points, args))?;
    println!("\n{table}");
    println!(
        "took {seconds:.0} s; wrote {} and {}",
        args.out.join("selfish_sweep.csv").display(),
        args.out.join("selfish_sweep.svg").display()
    );
    Ok(())
}

/// One point: a first run of `--blocks`, then, while its interval is wider than
/// `--target-ci95`, a longer run from the same seed, sized to reach it. Only the last
/// run is reported: a point is one run, never runs pooled.
fn measure(
    args: &Args,
    base: &Path,
    layout: &'static str,
    alpha: f64,
    seed: u64,
) -> Result<Point, String> {
    let began = Instant::now();
    let mut mined = args.blocks.min(args.max_blocks);
    loop {
        let name = format!("selfish-{layout}-{alpha}.toml");
        let plan = LaunchPlan::from_toml(&name, &config(args, layout, alpha, seed, mined))
            .map_err(|e| e.to_string())?;
        let options = RunOptions {
            run_dir: base.join(format!("{layout}-{alpha}-{mined}")),
            announce: false,
            progress: false,
            page: None,
        };
        let summary =
            run_blocking(&plan, &options).map_err(|e| format!("{layout} α = {alpha}: {e}"))?;
        let share = best_chain_share(&summary, "s");
        let point = Point {
            layout,
            alpha,
            mined,
            blocks: share.blocks,
            revenue: share.share,
            ci95: share.ci95.unwrap_or(f64::NAN),
            stale_rate: summary.stale_rate,
            wall_s: began.elapsed().as_secs_f64(),
        };
        eprintln!(
            "{layout} α = {alpha}: revenue {:.4} ± {:.4} over {} blocks ({mined} mined), {:.0} s",
            point.revenue, point.ci95, point.blocks, point.wall_s
        );
        match blocks_for_target(mined, point.ci95, args.target_ci95) {
            Some(more) if mined < args.max_blocks => mined = more.min(args.max_blocks),
            _ => return Ok(point),
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn svg(points: &[Point], args: &Args) -> String {
    let curve = |label: &str, colour, dashed, f: &dyn Fn(f64) -> f64| Curve {
        label: label.to_string(),
        colour,
        dashed,
        points: (0..=50)
            .map(|i| {
                let alpha = 0.5 * f64::from(i) / 50.0;
                (alpha, f(alpha))
            })
            .collect(),
    };
    let measured = |layout: &str, label: &str, colour| Points {
        label: label.to_string(),
        colour,
        points: points
            .iter()
            .filter(|point| point.layout == layout)
            .map(|point| (point.alpha, point.revenue, point.ci95))
            .collect(),
    };
    Chart {
        title: format!(
            "Selfish mining: 1 selfish + {} honest nodes, 95 % intervals of ± {}",
            args.honest, args.target_ci95
        ),
        x_label: "pool's hash share α".into(),
        y_label: "pool's share of the best chain".into(),
        x_range: (0.0, 0.5),
        y_range: (0.0, 1.0),
        x_step: 0.05,
        y_step: 0.1,
        x_decimals: 2,
        y_decimals: 1,
    }
    .render(
        &[
            curve("honest mining: revenue = α", "#777777", true, &|a| a),
            curve("Eyal & Sirer, γ = 0", "#1f77b4", false, &|a| {
                closed_form(a, 0.0).max(0.0)
            }),
            curve("Eyal & Sirer, γ = 1", "#2ca02c", false, &|a| {
                closed_form(a, 1.0)
            }),
        ],
        &[
            measured(
                "well_connected",
                "measured, well connected (95 %)",
                "#d62728",
            ),
            measured(
                "poorly_connected",
                "measured, poorly connected (95 %)",
                "#9467bd",
            ),
        ],
    )
}
