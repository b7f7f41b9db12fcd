//! The `ironchain` command line (SPEC §6): run a node (the default), verify a stored
//! chain, and the client subcommands. Every failure is one clear line on stderr and a
//! non-zero exit code.

pub mod client;
pub mod format;
pub mod launch;
pub mod node;
pub mod proof;
pub mod rpc;
pub mod send;
pub mod tx_file;
pub mod wallet;

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
    /// Create a key file, or show a key file's address.
    Wallet {
        #[command(subcommand)]
        command: wallet::WalletCommand,
    },
    /// Balance and next nonce of an address.
    Balance(client::BalanceArgs),
    /// Sign a transfer with a key file and submit it to a node.
    Send(send::SendArgs),
    /// Submit a transaction signed earlier (`send --save-tx FILE`).
    Submit(send::SubmitArgs),
    /// The node's best block: height, hash, difficulty.
    Tip(client::TipArgs),
    /// A block by height or hash, with its transactions.
    Block(client::BlockArgs),
    /// A transaction by id; for one in a block, checks its merkle proof against the header.
    Tx(client::TxArgs),
    /// The node's connected peers.
    Peers(client::PeersArgs),
    /// Start every node a config file lists (with its simulated network) and summarise
    /// the forks when the run ends.
    Launch(launch::LaunchArgs),
}

/// Runs the command line; the error is the one line to print.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None => node::run_node(cli.node),
        Some(Command::Verify { data_dir, config }) => node::run_verify(data_dir, config),
        Some(Command::Wallet { command }) => wallet::run(command),
        Some(Command::Balance(args)) => client::balance(args),
        Some(Command::Send(args)) => send::send(args),
        Some(Command::Submit(args)) => send::submit(args),
        Some(Command::Tip(args)) => client::tip(args),
        Some(Command::Block(args)) => client::block(args),
        Some(Command::Tx(args)) => client::tx(args),
        Some(Command::Peers(args)) => client::peers(args),
        Some(Command::Launch(args)) => launch::run(args),
    }
}
