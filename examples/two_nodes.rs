//! Runs `config/two-nodes.toml` (see the comments there) and prints the nodes' addresses,
//! blocks and reorgs as they happen, then the summary: `ironchain launch` called through
//! the library. Run it from the repository root:
//!
//!     cargo run --release --example two_nodes

use ironchain::cli::launch::{run, LaunchArgs};
use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = LaunchArgs {
        file: "config/two-nodes.toml".into(),
        run_dir: None,
        quiet: false,
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
