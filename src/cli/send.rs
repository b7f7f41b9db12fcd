//! `ironchain send` and `ironchain submit`: sign a transfer locally and hand it to a node.
//!
//! `send` asks the node for the network's genesis hash (in its welcome) and the sender's
//! next nonce, signs with the key file (the private key never leaves this process),
//! submits, and prints the transaction id or the node's reason for refusing it.
//! `--wait` then polls the node until the transaction is in a block, and checks its
//! merkle proof. `submit` sends an already signed transaction from a file.

use super::client::{parse_address, NodeOpts};
use super::format::print_json;
use super::multisig::{load_policy, signature_count};
use super::rpc::NodeConnection;
use crate::chain::mempool::relay_policy;
use crate::chain::state::TokenInfo;
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::hash::{BlockHash, TokenId, TxId};
use crate::consensus::token::parse_units;
use crate::consensus::transaction::{Transaction, TxKind, UnsignedTransaction, MAX_MESSAGE_BYTES};
use crate::consensus::validation::check_policy_spend;
use crate::net::message::{Message, TxStatus};
use crate::view::proof::check_inclusion;
use crate::view::{submit_json, tx_file};
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
    /// Coins to transfer; with --token, token units (decimals allowed, up to the token's).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = amount_text)]
    pub amount: String,
    /// Send this token (its id, from `ironchain token issue`) instead of coins. The fee
    /// is still paid in coins.
    #[arg(long, value_name = "TOKEN_ID")]
    pub token: Option<String>,
    /// Fee for the miner (at least the network's minimum fee).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = coins)]
    pub fee: u64,
    /// Free text stored with the transaction (at most 256 bytes).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub message: String,
    /// Also write the signed transaction to FILE (for `ironchain submit`).
    #[arg(long, value_name = "FILE")]
    pub save_tx: Option<PathBuf>,
    /// Spend from this multisig policy (a `wallet multisig` file) instead of the key's
    /// own address; the key signs as one member. Until the policy's threshold is met the
    /// transaction is only written to --save-tx, for the other members' `ironchain sign`.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
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

/// Checks an amount's form: coins, or token units with a decimal point. As with
/// [`coins`], negative numbers get their own reason.
fn amount_text(text: &str) -> Result<String, String> {
    if text.trim_start().starts_with('-') {
        return Err("a number of coins cannot be negative".to_string());
    }
    let digits = text.trim().replacen('.', "", 1);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("not a number of coins or token units".to_string());
    }
    // Whatever a token's decimals, its whole part alone must fit: checked here, before
    // anything runs, rather than after reaching the node.
    let whole = text.trim().split('.').next().unwrap_or_default();
    if !whole.is_empty() && whole.parse::<u64>().is_err() {
        return Err(format!("more than the largest amount, {}", u64::MAX));
    }
    Ok(text.trim().to_string())
}

/// Reads a number of coins. Negative numbers are let through to here (otherwise clap
/// takes `-5` for an unknown option) so that the error says what is wrong with them.
pub fn coins(text: &str) -> Result<u64, String> {
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
    let policy = args.policy.as_deref().map(load_policy).transpose()?;
    if let Some(policy) = &policy {
        if !policy.has_member(&Address::of(&key)) {
            return Err(format!(
                "{} is not a member of the policy",
                Address::of(&key)
            ));
        }
        if args.save_tx.is_none() && policy.threshold > 1 {
            return Err(format!(
                "a {}-of-{} spend needs --save-tx FILE, for the other members to sign",
                policy.threshold,
                policy.members.len()
            ));
        }
    }
    let sender = match &policy {
        Some(policy) => policy.address().account(),
        None => Address::of(&key),
    };
    let token = args.token.as_deref().map(parse_token).transpose()?;
    let mut node = args.opts.connect()?;
    let (kind, amount) = match token {
        None => (
            TxKind::Transfer,
            coins(&args.amount).map_err(|e| format!("--amount {}: {e}", args.amount))?,
        ),
        Some(token) => {
            let info = token_info(&mut node, token)?;
            let amount = parse_units(&args.amount, info.decimals)
                .map_err(|e| format!("--amount {}: {e}", args.amount))?;
            (TxKind::TokenTransfer { token }, amount)
        }
    };
    let nonce = next_nonce(&mut node, sender)?;
    let genesis = *node.genesis();
    let unsigned = UnsignedTransaction {
        receiver,
        amount: Amount::new(amount),
        fee: Amount::new(args.fee),
        nonce,
        message: args.message,
    };
    let tx = match policy {
        Some(policy) => {
            let mut tx = unsigned.for_policy(kind, policy);
            tx.cosign(&key, &genesis);
            tx
        }
        None => unsigned.sign_kind(kind, &key, &genesis),
    };
    // The node would refuse it with the same reason; a partial multisig spend should not
    // collect signatures first.
    if let Err(error) = relay_policy(&tx) {
        if args.opts.json {
            print_json(&submit_json(&tx.id(), Some(&error.to_string())))?;
        }
        return Err(format!("transaction refused locally: {error}"));
    }
    if let Some(path) = &args.save_tx {
        tx_file::save(path, &tx, &genesis)?;
    }
    if let Some((signatures, required)) = signature_count(&tx) {
        if signatures < usize::from(required) {
            return report_partial(&tx, &genesis, args.save_tx.as_deref(), &args.opts);
        }
    }
    submit_and_report(&mut node, tx, &args.wait, &args.opts, None)
}

/// What `send --policy` prints when the spend still needs other members' signatures.
fn report_partial(
    tx: &Transaction,
    genesis: &BlockHash,
    path: Option<&std::path::Path>,
    opts: &NodeOpts,
) -> Result<(), String> {
    let (signatures, required) = signature_count(tx).unwrap_or_default();
    let file = path.map(|path| path.display().to_string());
    if opts.json {
        return print_json(&json!({
            "txid": tx.id().to_string(),
            "signing_hash": tx_file::signing_hash(tx, genesis),
            "signatures": signatures,
            "required": required,
            "tx_file": file,
            "submitted": false,
        }));
    }
    crate::outln!(
        "wrote {}: {signatures} of {required} required signatures; other members add theirs \
         with `ironchain sign {0} --key KEY` (no node needed), then `ironchain submit {0}`",
        file.unwrap_or_default()
    );
    crate::outln!(
        "signing hash {} (give the members this one to compare: the txid changes with \
         every signature)",
        tx_file::signing_hash(tx, genesis)
    );
    Ok(())
}

/// `ironchain submit`.
pub fn submit(args: SubmitArgs) -> Result<(), String> {
    let tx_file::TxFileContents { tx, genesis } = tx_file::load(&args.file)?;
    // Too few or wrong signatures, and what every node's policy refuses, need no node
    // to tell.
    if let Err(error) = check_policy_spend(&tx).and_then(|()| relay_policy(&tx)) {
        if args.opts.json {
            print_json(&submit_json(&tx.id(), Some(&error.to_string())))?;
        }
        return Err(format!("transaction refused locally: {error}"));
    }
    let mut node = args.opts.connect()?;
    if let Some(genesis) = genesis.filter(|genesis| genesis != node.genesis()) {
        return Err(format!(
            "{} is for the network of genesis {}, but {} is on the network of genesis {}: \
             submit it to a node of its network",
            args.file.display(),
            genesis.short(),
            args.opts.node,
            node.genesis().short()
        ));
    }
    submit_and_report(&mut node, tx, &args.wait, &args.opts, None)
}

/// Parses a token id.
pub fn parse_token(text: &str) -> Result<TokenId, String> {
    text.parse()
        .map_err(|e| format!("TOKEN_ID {text:?} is not a token id: {e}"))
}

/// The node's record of `token`; an error if it was never issued on its chain.
pub fn token_info(node: &mut NodeConnection, token: TokenId) -> Result<TokenInfo, String> {
    let reply = node.request(Message::GetToken(token))?;
    match reply {
        Message::TokenReply(Some(info)) => Ok(info),
        Message::TokenReply(None) => Err(format!("token {token} is not known to the node")),
        other => Err(node.unexpected(&other)),
    }
}

pub fn next_nonce(node: &mut NodeConnection, address: Address) -> Result<u64, String> {
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

/// Submits `tx`, and with `--wait` waits for its block; prints the outcome (naming the
/// token an issue creates, `issued`).
pub fn submit_and_report(
    node: &mut NodeConnection,
    tx: Transaction,
    wait: &WaitOpts,
    opts: &NodeOpts,
    issued: Option<TokenId>,
) -> Result<(), String> {
    let txid = tx.id();
    // A token issue's reports also name the token it creates.
    let print_json = |mut value: serde_json::Value| {
        if let Some(token) = issued {
            value["token_id"] = json!(token.to_string());
        }
        print_json(&value)
    };
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
                print_json(submit_json(&txid, Some(&reason)))?;
            }
            return Err(format!("transaction rejected: {reason}"));
        }
        other => return Err(node.unexpected(&other)),
    }
    if !wait.wait {
        if opts.json {
            return print_json(submit_json(&txid, None));
        }
        crate::outln!("accepted {txid}");
        return Ok(());
    }
    if !opts.json {
        crate::outln!("accepted {txid}, waiting for a block…");
    }
    let outcome = wait_for_block(node, &txid, Duration::from_secs(wait.timeout), &opts.node);
    if opts.json {
        let included = outcome.as_ref().ok();
        print_json(json!({
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
    node_addr: &str,
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
                 check later with `ironchain tx {txid} --node {node_addr}`",
                timeout.as_secs()
            ));
        }
        std::thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}
