//! Sweeps the network delay and measures the stale-block rate against the model
//! `1 - exp(-d (n-1) / (n T))`: the chance that one of the other n-1 equal miners finds a
//! block within the d it takes a block to reach them.
//!
//! For each d/T in {0.05, 0.1, 0.2, 0.5} it launches n equal miners (every pair
//! connected, every message delayed by d) with simulated mining at mean block interval T
//! until `blocks` blocks were mined, all points at once in one process (simulated miners
//! cost no CPU to speak of). It writes `stale_sweep.csv` and `stale_sweep.svg` (measured
//! points with 95 % binomial intervals, and the model curve) into the output directory,
//! and prints the table as Markdown. Run from the repository root:
//!
//!     cargo run --example stale_sweep -- [--out docs/src/experiments] [--nodes 4]
//!         [--blocks 500] [--target-ms 200] [--seed 1]
//!
//! (A debug build is fine: simulated miners hardly use the CPU. The committed
//! `docs/src/experiments/stale_sweep.*` came from `--out docs/src/experiments --blocks 500`,
//! in about two minutes.)

use clap::Parser;
use ironchain::launch::{run, LaunchPlan, RunOptions, Summary};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const RATIOS: [f64; 4] = [0.05, 0.1, 0.2, 0.5];

/// Stale-block rate against network delay, beside the model.
#[derive(Parser)]
struct Args {
    /// Where stale_sweep.csv and stale_sweep.svg are written.
    #[arg(long, default_value = "docs/src/experiments")]
    out: PathBuf,
    /// Equal miners per point, every pair connected.
    #[arg(long, default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=64))]
    nodes: usize,
    /// Blocks mined per point (stale included).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    blocks: u64,
    /// Mean block interval T in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    target_ms: u64,
    /// Seed of the first point (the others take the next seeds).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The config of one point: n equal miners, fully connected, every message delayed d.
fn config(args: &Args, delay_ms: u64, seed: u64) -> String {
    let mut text = format!(
        "[chain]\n\
         genesis_message = \"ironchain stale sweep\"\n\
         target_block_time_ms = {}\n\n\
         [simulation]\n\
         mining = \"simulated\"\n\
         seed = {seed}\n\
         stop_after_blocks = {}\n\
         delay_ms = {delay_ms}\n\
         topology = \"mesh\"\n",
        args.target_ms, args.blocks
    );
    for i in 0..args.nodes {
        let _ = write!(text, "\n[[nodes]]\nname = \"m{i}\"\n");
    }
    text
}

fn model(ratio: f64, n: usize) -> f64 {
    let n = n as f64;
    1.0 - (-ratio * (n - 1.0) / n).exp()
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = Args::parse();
    match sweep(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn sweep(args: &Args) -> Result<(), String> {
    let mut plans = Vec::new();
    for (i, ratio) in RATIOS.iter().enumerate() {
        let delay_ms = (ratio * args.target_ms as f64).round() as u64;
        let name = format!("stale-sweep-{ratio}.toml");
        let plan = LaunchPlan::from_toml(
            &name,
            &config(args, delay_ms, args.seed.wrapping_add(i as u64)),
        )
        .map_err(|e| e.to_string())?;
        plans.push((*ratio, delay_ms, plan));
    }
    let base = ironchain::launch::default_run_dir("stale-sweep");
    println!(
        "{} points, {} equal miners, T = {} ms, {} blocks each, run data in {}",
        RATIOS.len(),
        args.nodes,
        args.target_ms,
        args.blocks,
        base.display()
    );
    let started = Instant::now();
    let system = actix_rt::System::new();
    let results: Vec<Result<Summary, String>> = system.block_on(async {
        let runs = plans.iter().map(|(ratio, _, plan)| {
            let options = RunOptions {
                run_dir: base.join(format!("d-over-t-{ratio}")),
                announce: false,
                progress: false,
                page: None,
            };
            async move {
                run(plan, &options, std::future::pending())
                    .await
                    .map_err(|e| e.to_string())
            }
        });
        futures::future::join_all(runs).await
    });
    let seconds = started.elapsed().as_secs_f64();

    // Besides the required columns: the measured median propagation delay (the injected
    // delay plus the nodes' own handling of a block) and the model at that delay.
    let mut csv = String::from(
        "d_over_t,n,blocks,stale,measured_stale_rate,model_stale_rate,\
         propagation_p50_ms,model_at_propagation_p50\n",
    );
    let mut table = String::from(
        "| d/T | d (ms) | n | blocks | stale | measured stale rate | model 1 − e^(−d(n−1)/(nT)) \
         | measured propagation p50 | model at that delay |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let mut points = Vec::new();
    for ((ratio, delay_ms, _), result) in plans.iter().zip(results) {
        let summary = result?;
        if !summary.converged {
            eprintln!("warning: the d/T = {ratio} run did not converge");
        }
        let expected = model(*ratio, args.nodes);
        let p50 = summary.propagation_ms.p50.unwrap_or(0.0);
        let at_p50 = model(p50 / args.target_ms as f64, args.nodes);
        let _ = writeln!(
            csv,
            "{ratio},{},{},{},{:.4},{expected:.4},{p50:.1},{at_p50:.4}",
            args.nodes, summary.blocks_mined, summary.stale, summary.stale_rate
        );
        let _ = writeln!(
            table,
            "| {ratio} | {delay_ms} | {} | {} | {} | {:.1} % | {:.1} % | {p50:.1} ms | {:.1} % |",
            args.nodes,
            summary.blocks_mined,
            summary.stale,
            summary.stale_rate * 100.0,
            expected * 100.0,
            at_p50 * 100.0
        );
        points.push((*ratio, summary.stale_rate, summary.blocks_mined));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    write(&args.out.join("stale_sweep.csv"), &csv)?;
    write(
        &args.out.join("stale_sweep.svg"),
        &svg(&points, args.nodes, args.target_ms),
    )?;
    println!(
        "\nthe table for docs/src/experiments/stale-rates.md, to paste over the old one; \
         `cargo test --test book_tables` fails until it is:\n\n{table}"
    );
    println!(
        "took {seconds:.0} s; wrote {} and {}",
        args.out.join("stale_sweep.csv").display(),
        args.out.join("stale_sweep.svg").display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A hand-written SVG: grid, axes with ticks, the model curve, the measured points with
/// 95 % binomial intervals, and a legend.
fn svg(points: &[(f64, f64, u64)], n: usize, target_ms: u64) -> String {
    let (width, height) = (640.0, 420.0);
    let (left, right, top, bottom) = (70.0, 20.0, 40.0, 60.0);
    let x_max = 0.55;
    let highest = points
        .iter()
        .map(|(_, rate, _)| *rate)
        .fold(model(x_max, n), f64::max);
    let y_max = ((highest * 10.0).ceil() / 10.0).max(0.1);
    let x = |v: f64| left + v / x_max * (width - left - right);
    let y = |v: f64| height - bottom - v / y_max * (height - top - bottom);
    let (x0, x1, y0, y1) = (left, width - right, height - bottom, top);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">"#
    ));
    line(r#"<rect width="100%" height="100%" fill="white"/>"#.to_string());
    line(format!(
        r#"<text x="{:.1}" y="22" text-anchor="middle" font-size="15">Stale-block rate against network delay ({n} equal miners, T = {target_ms} ms)</text>"#,
        width / 2.0
    ));
    let steps = (y_max / 0.05).round() as i32;
    for i in 0..=steps {
        let v = 0.05 * f64::from(i);
        line(format!(
            r##"<line x1="{x0:.1}" y1="{py:.1}" x2="{x1:.1}" y2="{py:.1}" stroke="#e4e4e4"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{:.0} %</text>"##,
            v * 100.0,
            py = y(v),
            tx = x0 - 8.0,
            ty = y(v) + 4.0
        ));
    }
    for i in 0..=5 {
        let v = 0.1 * f64::from(i);
        line(format!(
            r#"<line x1="{px:.1}" y1="{y0:.1}" x2="{px:.1}" y2="{:.1}" stroke="black"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{v:.1}</text>"#,
            y0 + 5.0,
            y0 + 20.0,
            px = x(v)
        ));
    }
    line(format!(
        r#"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y0:.1}" stroke="black"/><line x1="{x0:.1}" y1="{y0:.1}" x2="{x0:.1}" y2="{y1:.1}" stroke="black"/>"#
    ));
    line(format!(
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">delay ÷ mean block interval (d/T)</text>"#,
        x(x_max / 2.0),
        height - 15.0
    ));
    line(format!(
        r#"<text x="18" y="{c:.1}" text-anchor="middle" transform="rotate(-90 18 {c:.1})">stale blocks ÷ blocks mined</text>"#,
        c = y(y_max / 2.0)
    ));
    let curve: Vec<String> = (0..=110)
        .map(|i| {
            let v = x_max * f64::from(i) / 110.0;
            format!("{:.1},{:.1}", x(v), y(model(v, n)))
        })
        .collect();
    line(format!(
        r##"<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{}"/>"##,
        curve.join(" ")
    ));
    for (ratio, rate, blocks) in points {
        let spread = 1.96 * (rate * (1.0 - rate) / (*blocks).max(1) as f64).sqrt();
        line(format!(
            r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="#d62728" stroke-width="1.5"/><circle cx="{px:.1}" cy="{:.1}" r="4.5" fill="#d62728"/>"##,
            y((rate - spread).max(0.0)),
            y(rate + spread),
            y(*rate),
            px = x(*ratio)
        ));
    }
    let (lx, ly) = (x0 + 20.0, y1 + 15.0);
    line(format!(
        r##"<rect x="{:.1}" y="{:.1}" width="310" height="48" fill="white" stroke="#999"/>"##,
        lx - 10.0,
        ly - 12.0
    ));
    line(format!(
        r##"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="#1f77b4" stroke-width="2"/><text x="{:.1}" y="{:.1}">model 1 − exp(−d(n−1)/(nT))</text>"##,
        lx + 24.0,
        lx + 32.0,
        ly + 4.0
    ));
    line(format!(
        r##"<circle cx="{:.1}" cy="{:.1}" r="4.5" fill="#d62728"/><text x="{:.1}" y="{:.1}">measured, with 95 % interval</text>"##,
        lx + 12.0,
        ly + 22.0,
        lx + 32.0,
        ly + 26.0
    ));
    line("</svg>".to_string());
    out
}
