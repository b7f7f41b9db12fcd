//! The `ironchain` command line (the book's Guide, `docs/src/guide/`): run a node (the
//! default), verify a stored chain, and the client subcommands. Every failure is one clear
//! line on stderr and a non-zero exit code.

// The doc comments of the command-line arguments below are clap's `--help` text, written
// for a terminal (`[[nodes]]`, `<port>`), not rustdoc Markdown.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

pub mod client;
pub mod format;
pub mod launch_command;
pub mod multisig;
pub mod node_command;
pub mod rpc;
pub mod send;
pub mod token;
pub mod wallet_command;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// A small proof-of-work blockchain node for learning, teaching and studying blockchains.
#[derive(Parser, Debug)]
#[command(name = "ironchain", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(flatten)]
    pub node: node_command::NodeArgs,
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
        command: wallet_command::WalletCommand,
    },
    /// Balance and next nonce of an address.
    Balance(client::BalanceArgs),
    /// Sign a transfer with a key file and submit it to a node.
    Send(send::SendArgs),
    /// Submit a transaction signed earlier (`send --save-tx FILE`, `sign`).
    Submit(send::SubmitArgs),
    /// Issue a token, or show one.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Add a member's signature to a multisig transaction file (`send --policy`).
    Sign(multisig::SignArgs),
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
    Launch(launch_command::LaunchArgs),
}

/// Parses the command line `args` (the program name first). `Ok(Err(error))` is a
/// request for help or the version, which clap prints in full (`error.exit()`); `Err`
/// is bad input, as the one line to print after "error: " (the book's
/// Operating › Failures and exit codes).
pub fn parse<I, T>(args: I) -> Result<Result<Cli, clap::Error>, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::error::ErrorKind;
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => Ok(Ok(cli)),
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            Ok(Err(error))
        }
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
            ) =>
        {
            Err(missing_subcommand(&args))
        }
        Err(error) => Err(one_line(&error.to_string())),
    }
}

/// Folds clap's error text (message, tips, usage, "For more information…") into one
/// line: the message, its continuation lines after it, and any tips in parentheses.
fn one_line(text: &str) -> String {
    let text = text.trim().trim_start_matches("error:").trim_start();
    let mut message = String::new();
    let mut tips = Vec::new();
    for (at, paragraph) in text.split("\n\n").enumerate() {
        let lines: Vec<&str> = paragraph
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        let Some(first) = lines.first() else {
            continue;
        };
        if first.starts_with("Usage:") || first.starts_with("For more information") {
            continue;
        }
        let folded = match lines.get(1..) {
            Some(rest) if !rest.is_empty() => format!("{first} {}", rest.join(", ")),
            _ => first.to_string(),
        };
        if at == 0 {
            message = folded;
        } else {
            tips.push(folded);
        }
    }
    if tips.is_empty() {
        message
    } else {
        format!("{message} ({})", tips.join("; "))
    }
}

/// The error for a command given without its subcommand (`ironchain wallet`): which
/// subcommands it has, instead of clap's whole help text on stderr.
fn missing_subcommand(args: &[std::ffi::OsString]) -> String {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut path = vec![command.get_name().to_string()];
    for arg in args.iter().skip(1) {
        let Some(arg) = arg.to_str() else { break };
        let Some(sub) = command.find_subcommand(arg).cloned() else {
            continue;
        };
        path.push(sub.get_name().to_string());
        command = sub;
    }
    let names: Vec<&str> = command
        .get_subcommands()
        .map(clap::Command::get_name)
        .filter(|name| *name != "help")
        .collect();
    let path = path.join(" ");
    format!(
        "'{path}' needs a subcommand: {} (see '{path} --help')",
        names.join(", ")
    )
}

/// Runs the command line; the error is the one line to print.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        None => node_command::run_node(cli.node),
        Some(Command::Verify { data_dir, config }) => node_command::run_verify(data_dir, config),
        Some(Command::Wallet { command }) => wallet_command::run(command),
        Some(Command::Balance(args)) => client::balance(args),
        Some(Command::Send(args)) => send::send(args),
        Some(Command::Submit(args)) => send::submit(args),
        Some(Command::Sign(args)) => multisig::sign(args),
        Some(Command::Token { command }) => token::run(command),
        Some(Command::Tip(args)) => client::tip(args),
        Some(Command::Block(args)) => client::block(args),
        Some(Command::Tx(args)) => client::tx(args),
        Some(Command::Peers(args)) => client::peers(args),
        Some(Command::Launch(args)) => launch_command::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(args: &[&str]) -> String {
        match parse(std::iter::once("ironchain").chain(args.iter().copied())) {
            Err(line) => line,
            Ok(_) => panic!("{args:?} parsed"),
        }
    }

    /// Bad command lines are usage errors (`Err`, which the binary exits with 2 for; see
    /// `tests/cli_usage.rs`), told in one line that names the offending argument and
    /// value. Clap's own wording is not asserted: it may change with any clap release.
    #[test]
    fn bad_input_is_one_line_naming_the_offending_argument() {
        let cases: [(&[&str], &[&str]); 6] = [
            (&["--port", "99999"], &["--port", "99999"]),
            (
                &[
                    "send", "--key", "k", "--to", "x", "--fee", "1", "--amount", "-5",
                ],
                &["--amount", "-5"],
            ),
            (
                &[
                    "send",
                    "--key",
                    "k",
                    "--to",
                    "x",
                    "--fee",
                    "1",
                    "--amount",
                    "1",
                    "--wait",
                    "--timeout",
                    "18446744073709551615",
                ],
                &["--timeout", "18446744073709551615"],
            ),
            (&["send", "--key", "k"], &["--to", "--amount"]),
            (&["walet"], &["walet", "wallet"]),
            (&["wallet"], &["wallet", "new", "address", "multisig"]),
        ];
        for (args, named) in cases {
            let line = error(args);
            assert!(!line.contains('\n'), "{args:?}: {line}");
            for name in named {
                assert!(
                    line.contains(name),
                    "{args:?}: {line:?} does not name {name}"
                );
            }
        }
        // Our own value checks explain themselves (this text is ours, not clap's).
        assert!(
            error(&["send", "--key", "k", "--to", "x", "--fee", "1", "--amount", "-5"])
                .contains("cannot be negative")
        );
        assert!(!error(&["--port", "1", "verify"]).contains('\n'));
    }

    #[test]
    fn help_and_version_are_not_errors() {
        for args in [
            &["--help"][..],
            &["--version"],
            &["wallet", "--help"],
            &["help"],
        ] {
            let parsed = parse(std::iter::once("ironchain").chain(args.iter().copied()));
            assert!(matches!(parsed, Ok(Err(_))), "{args:?}");
        }
    }
}
