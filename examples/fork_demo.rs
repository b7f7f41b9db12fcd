//! Runs `config/fork-demo.toml` (see the comments there) through the library, printing the
//! nodes' addresses, blocks and reorgs as they happen and then the summary; the same as
//! `ironchain launch config/fork-demo.toml`. Run it from the repository root:
//!
//!     cargo run --release --example fork_demo

use ironchain::launch::{default_run_dir, run_blocking, LaunchPlan, RunOptions};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The nodes' own log lines do not say which node speaks; the launcher's lines do.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let plan = match LaunchPlan::load(Path::new("config/fork-demo.toml")) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = RunOptions {
        run_dir: default_run_dir(&plan.name),
        announce: true,
        progress: true,
    };
    match run_blocking(&plan, &options) {
        Ok(summary) => {
            println!("\n{summary}");
            println!("summary.json is in {}", options.run_dir.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
