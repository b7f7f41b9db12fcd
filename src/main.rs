//! The `ironchain` binary: parses the command line and prints any failure as one line.

use clap::Parser;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = ironchain::cli::Cli::parse();
    if let Err(reason) = ironchain::cli::run(cli) {
        eprintln!("error: {reason}");
        std::process::exit(1);
    }
}
