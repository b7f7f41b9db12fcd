//! `ironchain send` and `ironchain submit`: sign a transfer locally and hand it to a node.
//!
//! `send` asks the node for the network's genesis hash (in its welcome) and the sender's
//! next nonce, signs with the key file (the private key never leaves this process),
//! submits, and prints the transaction id or the node's reason for refusing it.
//! `--wait` then polls the node until the transaction is in a block, and checks its
//! merkle proof. `submit` sends an already signed transaction from a file.

use super::client::{parse_address, NodeOpts};
use super::format::print_json;
use super::proof::check_inclusion;
use super::rpc::NodeConnection;
use super::tx_file;
use crate::consensus::address::Address;
use crate::consensus::hash::{BlockHash, TxId};
use crate::consensus::transaction::{Transaction, UnsignedTransaction, MAX_MESSAGE_BYTES};
use crate::net::message::{Message, TxStatus};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Longest `--wait --timeout`: a week, far beyond any block time, and far from where
/// adding it to the clock could overflow.
const MAX_WAIT_SECS: u64 = 7 * 24 * 60 * 60;
/// How often `--wait` asks the node.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Options of waiting for inclusion, shared by `send` and `submit`.
#[derive(Args, Debug, Clone)]
pub struct WaitOpts {
    /// Wait until the transaction is in a block, then print the block height.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds (at most a week).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 120,
        requires = "wait",
        value_parser = clap::value_parser!(u64).range(1..=MAX_WAIT_SECS)
    )]
    pub timeout: u64,
}

/// `ironchain send`.
#[derive(Args, Debug)]
pub struct SendArgs {
    /// Key file of the sender (see `ironchain wallet new`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Receiving address (ic…).
    #[arg(long, value_name = "ADDR")]
    pub to: String,
    /// Coins to transfer.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = coins)]
    pub amount: u64,
    /// Fee for the miner (at least the network's minimum fee).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = coins)]
    pub fee: u64,
    /// Free text stored with the transaction (at most 256 bytes).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub message: String,
    /// Also write the signed transaction to FILE (for `ironchain submit`).
    #[arg(long, value_name = "FILE")]
    pub save_tx: Option<PathBuf>,
    #[command(flatten)]
    pub wait: WaitOpts,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// `ironchain submit`.
#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// A signed transaction file written by `ironchain send --save-tx`.
    pub file: PathBuf,
    #[command(flatten)]
    pub wait: WaitOpts,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// Reads a number of coins. Negative numbers are let through to here (otherwise clap
/// takes `-5` for an unknown option) so that the error says what is wrong with them.
fn coins(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| {
        if text.trim_start().starts_with('-') {
            "a number of coins cannot be negative".to_string()
        } else {
            format!("not a whole number of coins from 0 to {}", u64::MAX)
        }
    })
}

/// `ironchain send`.
pub fn send(args: SendArgs) -> Result<(), String> {
    let receiver = parse_address("--to", &args.to)?;
    if args.message.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "--message is {} bytes, at most {MAX_MESSAGE_BYTES} allowed",
            args.message.len()
        ));
    }
    let key = crate::keyfile::load(&args.key).map_err(|e| e.to_string())?;
    let sender = Address::of(&key);
    let mut node = args.opts.connect()?;
    let nonce = next_nonce(&mut node, sender)?;
    let genesis = *node.genesis();
    let tx = UnsignedTransaction {
        receiver,
        amount: args.amount,
        fee: args.fee,
        nonce,
        message: args.message,
    }
    .sign(&key, &genesis);
    if let Some(path) = &args.save_tx {
        tx_file::save(path, &tx)?;
    }
    submit_and_report(&mut node, tx, &args.wait, &args.opts)
}

/// `ironchain submit`.
pub fn submit(args: SubmitArgs) -> Result<(), String> {
    let tx = tx_file::load(&args.file)?;
    let mut node = args.opts.connect()?;
    submit_and_report(&mut node, tx, &args.wait, &args.opts)
}

fn next_nonce(node: &mut NodeConnection, address: Address) -> Result<u64, String> {
    let reply = node.request(Message::GetAccount(address))?;
    match reply {
        Message::Account { next_nonce, .. } => Ok(next_nonce),
        other => Err(node.unexpected(&other)),
    }
}

/// Where a transaction ended up.
struct Inclusion {
    height: u64,
    block_hash: BlockHash,
    proof_valid: bool,
}

fn submit_and_report(
    node: &mut NodeConnection,
    tx: Transaction,
    wait: &WaitOpts,
    opts: &NodeOpts,
) -> Result<(), String> {
    let txid = tx.id();
    let reply = node.request(Message::SubmitTx(tx))?;
    match reply {
        Message::TxAccepted(accepted) if accepted == txid => {}
        Message::TxAccepted(other) => {
            return Err(format!(
                "{} accepted the transaction under another id ({other}, expected {txid})",
                opts.node
            ))
        }
        Message::TxRejected { reason } => {
            if opts.json {
                print_json(&json!({
                    "txid": txid.to_string(),
                    "accepted": false,
                    "reason": reason,
                }))?;
            }
            return Err(format!("transaction rejected: {reason}"));
        }
        other => return Err(node.unexpected(&other)),
    }
    if !wait.wait {
        if opts.json {
            return print_json(&json!({
                "txid": txid.to_string(),
                "accepted": true,
                "reason": null,
            }));
        }
        crate::outln!("accepted {txid}");
        return Ok(());
    }
    if !opts.json {
        crate::outln!("accepted {txid}, waiting for a block…");
    }
    let outcome = wait_for_block(node, &txid, Duration::from_secs(wait.timeout));
    if opts.json {
        let included = outcome.as_ref().ok();
        print_json(&json!({
            "txid": txid.to_string(),
            "accepted": true,
            "reason": null,
            "height": included.map(|inclusion| inclusion.height),
            "block_hash": included.map(|inclusion| inclusion.block_hash.to_string()),
            "proof_valid": included.map(|inclusion| inclusion.proof_valid),
        }))?;
    }
    let inclusion = outcome?;
    if !inclusion.proof_valid {
        return Err(format!(
            "the node's merkle proof for {txid} in block {} does not hold",
            inclusion.height
        ));
    }
    if !opts.json {
        crate::outln!(
            "confirmed in block {} {}",
            inclusion.height,
            inclusion.block_hash
        );
    }
    Ok(())
}

/// Polls the node until `txid` is in a block of its active chain, or `timeout` passes.
fn wait_for_block(
    node: &mut NodeConnection,
    txid: &TxId,
    timeout: Duration,
) -> Result<Inclusion, String> {
    let deadline = Instant::now()
        .checked_add(timeout)
        .ok_or_else(|| format!("a wait of {} s is beyond the clock", timeout.as_secs()))?;
    loop {
        let reply = node.request(Message::GetTx(*txid))?;
        let Message::TxReply(status) = reply else {
            return Err(node.unexpected(&reply));
        };
        let state = match &*status {
            TxStatus::Confirmed {
                block_hash, header, ..
            } => {
                return Ok(Inclusion {
                    height: header.height,
                    block_hash: *block_hash,
                    proof_valid: check_inclusion(txid, &status).is_some_and(|c| c.holds()),
                })
            }
            TxStatus::Pending(_) => "still in the mempool",
            TxStatus::NotFound => "no longer known to the node",
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "transaction {txid} is not in a block after {} s ({state}); \
                 check later with `ironchain tx {txid}`",
                timeout.as_secs()
            ));
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}
