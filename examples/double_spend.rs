//! The whitepaper's double-spend race (§11) on real nodes (issue 16): for each attacker
//! share q and merchant wait z, runs `--trials` virtual-time trials
//! (`launch::double_spend::Trial`: the attacker, the merchant's node and `--honest` honest
//! miners) and counts the attacks that succeeded as the merchant's node sees it: the
//! merchant delivered after z confirmations, and its balance then lost the payment.
//! The attacker gives up 12 blocks behind; a trial also stops after 2z + 48 blocks.
//!
//! Beside each measured rate, three theories (`launch::race_odds`): Nakamoto's formula at
//! z, the probability that the attacker ever *catches up* (on a real network a tie is not
//! enough: the attacker's branch must be longer for the nodes to switch); the same at
//! z + 1, a rough allowance for that; and the exact model of the race as the nodes run
//! it (`RaceRules::of_trial`: get ahead, negative binomial progress, the give-up and the
//! block cap), against which the measured rates are judged.
//! Intervals are Wilson's 95 % score intervals (trials are independent).
//! Writes `double_spend.csv` and `double_spend.svg` into `--out` and prints the table as
//! Markdown. Run from the repository root:
//!
//!     cargo run --release --example double_spend -- [--out docs/src/experiments] [--trials 200]
//!         [--honest 3] [--jobs 2] [--seed 1]
//!
//! With `--replot docs/src/experiments/double_spend.csv` it runs no trial: it rewrites the theory
//! columns, the table and the plot from the measured columns of that file.

mod common;

use clap::Parser;
use common::chart::{Chart, Curve, Points};
use ironchain::launch::double_spend::Trial;
use ironchain::launch::race_odds::{nakamoto, RaceRules};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const QS: [f64; 5] = [0.1, 0.15, 0.2, 0.25, 0.3];
const ZS: [u64; 7] = [0, 1, 2, 4, 6, 8, 10];
const COLOURS: [&str; 5] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];

/// The double-spend race on real nodes, beside Nakamoto's formula and the exact model.
#[derive(Parser)]
struct Args {
    /// Where double_spend.csv and double_spend.svg are written.
    #[arg(long, default_value = "docs/src/experiments")]
    out: PathBuf,
    /// Trials per (q, z) point.
    #[arg(long, default_value_t = 200, value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=100_000))]
    trials: u64,
    /// Equal honest miners beside the attacker and the merchant's node.
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=16))]
    honest: usize,
    /// Trials run at a time.
    #[arg(long, default_value_t = 2, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    jobs: usize,
    /// The first trial's seed; trial i of point k gets seed + k × trials + i.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instead of running trials, take the measured columns of this double_spend.csv and
    /// rewrite the theory columns, the table and the plot: for when only the theory or
    /// the plot changed, which should not cost a sweep of thousands of launches.
    #[arg(long, value_name = "CSV")]
    replot: Option<PathBuf>,
}

/// Wilson's 95 % score interval of `successes` in `trials`: (centre, half-width).
fn wilson(successes: u64, trials: u64) -> (f64, f64) {
    let (n, z) = (trials as f64, 1.96f64);
    let p = successes as f64 / n;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let spread = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    (centre, spread)
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("error")).init();
    // A bad option is clap's usage error (exit 2).
    let args = Args::parse();
    let tallies = match &args.replot {
        Some(csv) => read_tallies(csv).map(|tallies| (tallies, None)),
        None => run_trials(&args).map(|(tallies, seconds)| (tallies, Some(seconds))),
    };
    match tallies.and_then(|(tallies, seconds)| report(&tallies, &args.out, seconds)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// One point's tally.
struct Tally {
    q: f64,
    z: u64,
    trials: u64,
    successes: u64,
}

/// Runs every point's trials; returns the tallies and the seconds it took.
fn run_trials(args: &Args) -> Result<(Vec<Tally>, f64), String> {
    let base = ironchain::launch::default_run_dir("double-spend");
    let mut trials = Vec::new();
    for (qi, q) in QS.iter().enumerate() {
        for (zi, z) in ZS.iter().enumerate() {
            for t in 0..args.trials {
                let point = (qi * ZS.len() + zi) as u64;
                let seed = point
                    .checked_mul(args.trials)
                    .and_then(|first| first.checked_add(t))
                    .and_then(|offset| offset.checked_add(args.seed))
                    .ok_or("--seed and --trials: the trials' seeds overflow")?;
                trials.push(Trial {
                    q: *q,
                    confirmations: *z,
                    honest: args.honest,
                    seed,
                });
            }
        }
    }
    println!(
        "{} points × {} trials, attacker + merchant + {} honest nodes, {} at a time; run data \
         in {} (each trial's directory is removed after its verdict)",
        QS.len() * ZS.len(),
        args.trials,
        args.honest,
        args.jobs,
        base.display()
    );
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Vec<Result<Vec<(usize, bool)>, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut verdicts = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(trial) = trials.get(i) else { break };
                        let dir = base.join(format!("trial-{i}"));
                        let verdict = trial.run(&dir)?;
                        let _ = std::fs::remove_dir_all(&dir);
                        verdicts.push((i, verdict.succeeded()));
                        if (i + 1) % 500 == 0 {
                            eprintln!(
                                "{} of {} trials, {:.0} s",
                                i + 1,
                                trials.len(),
                                started.elapsed().as_secs_f64()
                            );
                        }
                    }
                    Ok(verdicts)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err("a worker panicked".into()))
            })
            .collect()
    });
    let mut tallies: Vec<Tally> = QS
        .iter()
        .flat_map(|q| {
            ZS.iter().map(|z| Tally {
                q: *q,
                z: *z,
                trials: args.trials,
                successes: 0,
            })
        })
        .collect();
    for verdicts in results {
        for (i, succeeded) in verdicts? {
            if succeeded {
                tallies[i / args.trials as usize].successes += 1;
            }
        }
    }
    Ok((tallies, started.elapsed().as_secs_f64()))
}

/// The tallies in the measured columns (q, z, trials, successes) of a double_spend.csv.
fn read_tallies(path: &Path) -> Result<Vec<Tally>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut tallies = Vec::new();
    for (at, line) in text.lines().enumerate().skip(1) {
        let bad = |why: &str| format!("{} line {}: {why}", path.display(), at + 1);
        let cells: Vec<&str> = line.split(',').collect();
        let [q, z, trials, successes, ..] = cells[..] else {
            return Err(bad("expected q,z,trials,successes,…"));
        };
        let q: f64 = q.parse().map_err(|_| bad("q is not a number"))?;
        let z: u64 = z.parse().map_err(|_| bad("z is not a whole number"))?;
        let trials: u64 = trials
            .parse()
            .map_err(|_| bad("trials is not a whole number"))?;
        let successes: u64 = successes
            .parse()
            .map_err(|_| bad("successes is not a whole number"))?;
        if !QS.contains(&q) || !ZS.contains(&z) {
            return Err(bad("not one of the sweep's (q, z) points"));
        }
        if trials == 0 || successes > trials {
            return Err(bad(
                "needs 1 or more trials and no more successes than trials",
            ));
        }
        if tallies
            .first()
            .is_some_and(|first: &Tally| first.trials != trials)
        {
            return Err(bad("every point must have the same number of trials"));
        }
        tallies.push(Tally {
            q,
            z,
            trials,
            successes,
        });
    }
    if tallies.is_empty() {
        return Err(format!("{} has no points", path.display()));
    }
    Ok(tallies)
}

/// Writes the CSV and the plot into `out` and prints the table; `seconds`, the run's time
/// when trials were run.
fn report(tallies: &[Tally], out: &Path, seconds: Option<f64>) -> Result<(), String> {
    let mut csv = String::from(
        "q,z,trials,successes,measured_success_rate,ci95,nakamoto,nakamoto_z_plus_1,exact_model\n",
    );
    let mut table = String::from(
        "| q | z | trials | successes | measured | 95 % interval | Nakamoto (z) | Nakamoto (z + 1) | exact model |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    // Points whose interval holds the exact model, and those that do not.
    let mut within = 0;
    let mut outside = Vec::new();
    for tally in tallies {
        let rate = tally.successes as f64 / tally.trials as f64;
        let (centre, spread) = wilson(tally.successes, tally.trials);
        let (low, high) = ((centre - spread).max(0.0), (centre + spread).min(1.0));
        let (formula, formula_next) = (nakamoto(tally.q, tally.z), nakamoto(tally.q, tally.z + 1));
        let model = RaceRules::of_trial(tally.z).odds(tally.q).success;
        if (low..=high).contains(&model) {
            within += 1;
        } else {
            outside.push(format!("q = {} z = {}", tally.q, tally.z));
        }
        let _ = writeln!(
            csv,
            "{},{},{},{},{rate:.4},{:.4},{formula:.6},{formula_next:.6},{model:.6}",
            tally.q, tally.z, tally.trials, tally.successes, spread
        );
        let _ = writeln!(
            table,
            "| {:.2} | {} | {} | {} | {rate:.3} | {low:.3} – {high:.3} | {formula:.4} | {formula_next:.4} | {model:.4} |",
            tally.q, tally.z, tally.trials, tally.successes
        );
    }
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    write(&out.join("double_spend.csv"), &csv)?;
    write(&out.join("double_spend.svg"), &svg(tallies))?;
    println!("\n{table}");
    println!(
        "{within} of {} points have the exact model within their 95 % interval{}",
        tallies.len(),
        if outside.is_empty() {
            String::new()
        } else {
            format!("; outside: {}", outside.join(", "))
        }
    );
    if let Some(seconds) = seconds {
        println!("took {seconds:.0} s");
    }
    println!(
        "wrote {} and {}",
        out.join("double_spend.csv").display(),
        out.join("double_spend.svg").display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Success rate against z, one colour per q: the exact model as a solid line, Nakamoto's
/// formula as a dashed one (the reference the experiment was set up against), the
/// measured rates as points with their Wilson interval. The legend names the colours
/// once (with the model's lines) and the dashes and dots once each: fifteen entries would
/// cover the points.
fn svg(tallies: &[Tally]) -> String {
    let mut curves: Vec<Curve> = QS
        .iter()
        .zip(COLOURS)
        .map(|(q, colour)| Curve {
            label: format!("exact model, q = {q}"),
            colour,
            dashed: false,
            points: ZS
                .iter()
                .map(|z| (*z as f64, RaceRules::of_trial(*z).odds(*q).success))
                .collect(),
        })
        .collect();
    for (i, (q, colour)) in QS.iter().zip(COLOURS).enumerate() {
        curves.push(Curve {
            label: if i == 0 {
                "dashed: Nakamoto (z), same colours".into()
            } else {
                String::new()
            },
            colour,
            dashed: true,
            points: ZS.iter().map(|z| (*z as f64, nakamoto(*q, *z))).collect(),
        });
    }
    let points: Vec<Points> = QS
        .iter()
        .zip(COLOURS)
        .enumerate()
        .map(|(i, (q, colour))| Points {
            label: if i == 0 {
                "dots: measured, 95 % interval".into()
            } else {
                String::new()
            },
            colour,
            points: tallies
                .iter()
                .filter(|tally| tally.q == *q)
                .map(|tally| {
                    let rate = tally.successes as f64 / tally.trials as f64;
                    let (_, spread) = wilson(tally.successes, tally.trials);
                    (tally.z as f64, rate, spread)
                })
                .collect(),
        })
        .collect();
    let trials = tallies.first().map_or(0, |tally| tally.trials);
    Chart {
        title: format!(
            "Double spend: success rate against confirmations ({trials} trials a point)"
        ),
        x_label: "confirmations the merchant waits for (z)".into(),
        y_label: "attacker's success rate".into(),
        x_range: (0.0, 10.0),
        y_range: (0.0, 1.0),
        x_step: 1.0,
        y_step: 0.1,
        x_decimals: 0,
        y_decimals: 1,
    }
    .render(&curves, &points)
}
