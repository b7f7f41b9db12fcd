//! `ironchain token issue` (create a token with a fixed supply, credited to the key's
//! address) and `ironchain token info` (what the node knows of a token). Sending a token
//! is `ironchain send --token`.

use super::client::NodeOpts;
use super::format::print_json;
use super::send::{coins, next_nonce, parse_token, submit_and_report, token_info, WaitOpts};
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::token::{format_units, parse_units, token_id, MAX_DECIMALS};
use crate::consensus::transaction::{TxKind, UnsignedTransaction};
use crate::view::token_json;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `ironchain token …`.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue a token: its whole supply goes to the key's address.
    Issue(IssueArgs),
    /// A token's symbol, decimals, supply, issuer and issuing transaction.
    Info(InfoArgs),
}

/// `ironchain token issue`.
#[derive(Args, Debug)]
pub struct IssueArgs {
    /// 1-8 characters A-Z and 0-9.
    #[arg(long)]
    pub symbol: String,
    /// The fixed supply, in display units (`--supply 1000000 --decimals 2` makes
    /// 100,000,000 base units).
    #[arg(long, value_name = "N")]
    pub supply: String,
    /// Digits after the decimal point in display units (0-18). Checked while the line is
    /// parsed, before --supply is read with them.
    #[arg(
        long,
        default_value_t = 0,
        value_parser = clap::value_parser!(u8).range(0..=i64::from(MAX_DECIMALS))
    )]
    pub decimals: u8,
    /// Key file of the issuer.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Fee for the miner, in coins: at least the minimum fee plus the network's
    /// token_issue_fee.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = coins)]
    pub fee: u64,
    #[command(flatten)]
    pub wait: WaitOpts,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// `ironchain token info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The token id.
    pub token: String,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// Runs a `token` subcommand.
pub fn run(command: TokenCommand) -> Result<(), String> {
    match command {
        TokenCommand::Issue(args) => issue(args),
        TokenCommand::Info(args) => info(args),
    }
}

fn issue(args: IssueArgs) -> Result<(), String> {
    let supply = parse_units(&args.supply, args.decimals)
        .map(Amount::new)
        .map_err(|e| format!("--supply {}: {e}", args.supply))?;
    crate::consensus::token::check_issue(&args.symbol, args.decimals, supply)
        .map_err(|e| e.to_string())?;
    let key = crate::keyfile::load(&args.key).map_err(|e| e.to_string())?;
    let issuer = Address::of(&key);
    let mut node = args.opts.connect()?;
    let nonce = next_nonce(&mut node, issuer)?;
    let kind = TxKind::Issue {
        symbol: args.symbol,
        decimals: args.decimals,
    };
    let tx = UnsignedTransaction {
        receiver: issuer,
        amount: supply,
        fee: Amount::new(args.fee),
        nonce,
        message: String::new(),
    }
    .sign_kind(kind, &key, node.genesis());
    let token = token_id(&issuer, nonce);
    if !args.opts.json {
        crate::outln!("token {token}");
    }
    // The submit report (JSON or text) follows, with the token id added to the JSON.
    submit_and_report(&mut node, tx, &args.wait, &args.opts, Some(token))
}

fn info(args: InfoArgs) -> Result<(), String> {
    let token = parse_token(&args.token)?;
    let mut node = args.opts.connect()?;
    let info = token_info(&mut node, token)?;
    if args.opts.json {
        return print_json(&token_json(&token, &info));
    }
    crate::outln!("token     {token}");
    crate::outln!("symbol    {}", info.symbol);
    crate::outln!("decimals  {}", info.decimals);
    crate::outln!(
        "supply    {}",
        format_units(info.supply.get(), info.decimals)
    );
    crate::outln!("issuer    {}", info.issuer);
    crate::outln!("issued by {}", info.issue_txid);
    Ok(())
}
