//! The `ironchain` command line (SPEC §6): run a node (the default), verify a stored
//! chain, and the client subcommands. Every failure is one clear line on stderr and a
//! non-zero exit code.

pub mod node;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// A small proof-of-work blockchain node for learning, teaching and studying blockchains.
#[derive(Parser, Debug)]
#[command(name = "ironchain", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(flatten)]
    pub node: node::NodeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Re-validate the stored chain from genesis with every consensus rule.
    Verify {
        /// Data directory (default: ./data/node-<port of the config>).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Config file whose [chain] parameters the data was made with.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Runs the command line; the error is the one line to print.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None => node::run_node(cli.node),
        Some(Command::Verify { data_dir, config }) => node::run_verify(data_dir, config),
    }
}
