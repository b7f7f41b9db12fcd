//! The read-only client subcommands: `balance`, `tip`, `block`, `tx` (with its merkle
//! proof checked against the block header) and `peers`. Each asks one node over a
//! blocking connection and prints text, or JSON with `--json`.

use super::format::{print_json, transaction_lines, utc};
use super::rpc::{NodeConnection, DEFAULT_TIMEOUT};
use crate::consensus::address::Address;
use crate::consensus::hash::TxId;
use crate::net::message::{BlockRef, Message, TxEntryWire, TxStatus};
use crate::view::proof::check_inclusion;
use crate::view::{
    account_json, block_json, difficulty_bits, is_genesis_placeholder, parse_block_ref, peers_json,
    tip_json, tx_status_json, TipView,
};
use clap::Args;

/// Options every client subcommand shares.
#[derive(Args, Debug, Clone)]
pub struct NodeOpts {
    /// The node to ask.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:1111")]
    pub node: String,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl NodeOpts {
    /// Connects to the node and greets it.
    pub fn connect(&self) -> Result<NodeConnection, String> {
        NodeConnection::open(&self.node, DEFAULT_TIMEOUT)
    }
}

/// `ironchain balance ADDR`.
#[derive(Args, Debug)]
pub struct BalanceArgs {
    /// The address (ic…).
    pub address: String,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// `ironchain tip`.
#[derive(Args, Debug)]
pub struct TipArgs {
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// `ironchain block HEIGHT|HASH`.
#[derive(Args, Debug)]
pub struct BlockArgs {
    /// A height on the node's active chain, or a block hash (64 hex digits).
    #[arg(value_name = "HEIGHT|HASH")]
    pub block: String,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// `ironchain tx TXID`.
#[derive(Args, Debug)]
pub struct TxArgs {
    /// The transaction id (64 hex digits).
    pub txid: String,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// `ironchain peers`.
#[derive(Args, Debug)]
pub struct PeersArgs {
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// Parses a command-line address, naming the argument in the error.
/// Parses an account: a key address (`ic…`) or a multisig policy address (`icm…`).
pub fn parse_address(what: &str, text: &str) -> Result<Address, String> {
    crate::consensus::policy::parse_account(text).map_err(|e| format!("{what} {text:?}: {e}"))
}

/// Parses a transaction id.
pub fn parse_txid(text: &str) -> Result<TxId, String> {
    text.parse()
        .map_err(|e| format!("TXID {text:?} is not a transaction id: {e}"))
}

/// `ironchain balance`.
pub fn balance(args: BalanceArgs) -> Result<(), String> {
    let address = parse_address("address", &args.address)?;
    // A policy address is shown as given: its bytes' key-address form would name it
    // as if it were a key.
    let shown = args.address.trim();
    let mut node = args.opts.connect()?;
    let reply = node.request(Message::GetAccount(address))?;
    let Message::Account {
        account,
        next_nonce,
        tokens,
        ..
    } = reply
    else {
        return Err(node.unexpected(&reply));
    };
    let display = |holding: &crate::net::message::TokenHolding| {
        crate::consensus::token::format_units(holding.balance, holding.decimals)
    };
    if args.opts.json {
        return print_json(&account_json(shown, &account, next_nonce, &tokens));
    }
    let pending = next_nonce.saturating_sub(account.nonce);
    crate::outln!("address     {shown}");
    crate::outln!("balance     {}", account.balance);
    crate::outln!("next nonce  {next_nonce} ({pending} pending in the mempool)");
    for holding in &tokens {
        crate::outln!(
            "token       {} {} ({})",
            display(holding),
            holding.symbol,
            holding.token
        );
    }
    Ok(())
}

/// `ironchain tip`.
pub fn tip(args: TipArgs) -> Result<(), String> {
    let mut node = args.opts.connect()?;
    let reply = node.request(Message::GetTip)?;
    let Message::Tip {
        height,
        hash,
        work,
        difficulty_bits,
        timestamp_ms,
    } = reply
    else {
        return Err(node.unexpected(&reply));
    };
    if args.opts.json {
        return print_json(&tip_json(&TipView {
            height,
            hash,
            work,
            difficulty_bits,
            timestamp_ms,
            genesis: *node.genesis(),
        }));
    }
    crate::outln!("height      {height}");
    crate::outln!("hash        {hash}");
    crate::outln!("difficulty  {difficulty_bits} bits");
    crate::outln!("time        {}", utc(timestamp_ms));
    crate::outln!("total work  {work}");
    crate::outln!("genesis     {}", node.genesis());
    Ok(())
}

/// `ironchain block`.
pub fn block(args: BlockArgs) -> Result<(), String> {
    let reference = parse_block_ref(&args.block)?;
    let mut node = args.opts.connect()?;
    let reply = node.request(Message::GetBlock(reference.clone()))?;
    let Message::BlockReply(found) = reply else {
        return Err(node.unexpected(&reply));
    };
    let block = found.ok_or_else(|| match &reference {
        BlockRef::Height(height) => format!("no block at height {height} on the node's chain"),
        BlockRef::Hash(hash) => format!("unknown block {hash}"),
    })?;
    let hash = block.hash();
    let matches = match &reference {
        BlockRef::Height(height) => block.header.height == *height,
        BlockRef::Hash(wanted) => hash == *wanted,
    };
    if !matches {
        return Err(format!("the node answered with another block ({hash})"));
    }
    if args.opts.json {
        return print_json(&block_json(&block));
    }
    let header = &block.header;
    crate::outln!("block {} {hash}", header.height);
    crate::outln!("  prev         {}", header.prev);
    crate::outln!("  time         {}", utc(header.timestamp_ms));
    crate::outln!(
        "  difficulty   {} bits (target {})",
        difficulty_bits(header.target),
        header.target
    );
    crate::outln!("  nonce        {}", header.nonce);
    crate::outln!("  merkle root  {}", header.merkle_root);
    if is_genesis_placeholder(&block.reward) {
        crate::outln!(
            "  reward       none (the genesis merkle root commits to the chain parameters)"
        );
    } else {
        crate::outln!(
            "  reward       {} to {} (txid {})",
            block.reward.amount,
            block.reward.miner,
            block.reward.id()
        );
    }
    crate::outln!("{} transaction(s)", block.txs.len());
    for tx in &block.txs {
        crate::outln!("  txid     {}", tx.id());
        crate::outln!("{}", transaction_lines(tx, "    "));
    }
    Ok(())
}

/// The id of the genesis block's reward record, the same on every network.
fn genesis_placeholder_id() -> TxId {
    crate::config::Config::embedded()
        .chain
        .genesis_block()
        .reward
        .id()
}

/// `ironchain tx`: prints the transaction and checks its merkle proof.
pub fn tx(args: TxArgs) -> Result<(), String> {
    let txid = parse_txid(&args.txid)?;
    let mut node = args.opts.connect()?;
    let reply = node.request(Message::GetTx(txid))?;
    let Message::TxReply(status) = reply else {
        return Err(node.unexpected(&reply));
    };
    match &*status {
        // Versions before this one showed this id as block 0's reward txid.
        TxStatus::NotFound if txid == genesis_placeholder_id() => Err(format!(
            "{txid} is the genesis block's placeholder reward record, which pays nothing \
             and is not a transaction: the genesis merkle root commits to the chain \
             parameters, so there is nothing to look up or prove"
        )),
        TxStatus::NotFound => Err(format!(
            "transaction {txid} is not known to {} (neither in its chain nor in its mempool)",
            args.opts.node
        )),
        TxStatus::Pending(tx) => {
            if tx.id() != txid {
                return Err(format!(
                    "{} answered with another transaction",
                    args.opts.node
                ));
            }
            if let Some(view) = tx_status_json(&txid, &status).filter(|_| args.opts.json) {
                return print_json(&view);
            }
            crate::outln!("transaction {txid}");
            crate::outln!("  status   pending (in the mempool, not yet in a block)");
            crate::outln!("{}", transaction_lines(tx, "  "));
            Ok(())
        }
        TxStatus::Confirmed {
            entry,
            block_hash,
            header,
            proof,
        } => {
            let check = check_inclusion(&txid, &status)
                .ok_or_else(|| "internal error: confirmed status not checked".to_string())?;
            if let Some(view) = tx_status_json(&txid, &status).filter(|_| args.opts.json) {
                print_json(&view)?;
            } else {
                crate::outln!("transaction {txid}");
                crate::outln!(
                    "  status   confirmed in block {} {block_hash}",
                    header.height
                );
                match entry {
                    TxEntryWire::Transfer(tx) => crate::outln!("{}", transaction_lines(tx, "  ")),
                    TxEntryWire::Reward(reward) => crate::outln!(
                        "  reward   {} to {} for block {}",
                        reward.amount,
                        reward.miner,
                        reward.height
                    ),
                }
                crate::outln!(
                    "merkle proof: leaf {} of {}, {} sibling hash(es)",
                    proof.index,
                    proof.leaf_count,
                    proof.siblings.len()
                );
                for sibling in &proof.siblings {
                    crate::outln!("  sibling        {sibling}");
                }
                let verdict = |ok: bool| if ok { "ok" } else { "FAILED" };
                match &check.computed_root {
                    Some(root) => crate::outln!("  computed root  {root}"),
                    None => crate::outln!("  computed root  none (malformed proof)"),
                }
                crate::outln!(
                    "  header root    {}  {}",
                    header.merkle_root,
                    verdict(check.root_matches)
                );
                crate::outln!(
                    "  header hash    {}  {}",
                    header.hash(),
                    verdict(check.header_matches)
                );
                crate::outln!(
                    "  proof of work  {} bits  {}",
                    difficulty_bits(header.target),
                    verdict(check.proof_of_work)
                );
                if check.holds() {
                    crate::outln!(
                        "proof holds: {txid} is in block {} {block_hash}",
                        header.height
                    );
                }
            }
            if check.holds() {
                Ok(())
            } else if !check.entry_matches {
                Err("the node returned a different transaction than asked for".into())
            } else {
                Err(format!(
                    "the merkle proof for {txid} does not hold: the node's answer is wrong"
                ))
            }
        }
    }
}

/// `ironchain peers`.
pub fn peers(args: PeersArgs) -> Result<(), String> {
    let mut node = args.opts.connect()?;
    let reply = node.request(Message::GetPeers)?;
    let Message::Peers(peers) = reply else {
        return Err(node.unexpected(&reply));
    };
    if args.opts.json {
        return print_json(&peers_json(&peers));
    }
    if peers.is_empty() {
        crate::outln!("no peers connected to {}", args.opts.node);
    }
    for peer in &peers {
        let direction = if peer.inbound { "inbound" } else { "outbound" };
        crate::outln!(
            "{:<22} {direction:<8} height {}",
            peer.addr,
            peer.best_height
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::hash::BlockHash;

    #[test]
    fn block_references() {
        assert_eq!(parse_block_ref("12"), Ok(BlockRef::Height(12)));
        let zeros = "0".repeat(64);
        assert_eq!(
            parse_block_ref(&zeros),
            Ok(BlockRef::Hash(BlockHash::default()))
        );
        let hash = BlockHash::from_bytes([0xab; 32]);
        assert_eq!(parse_block_ref(&hash.to_string()), Ok(BlockRef::Hash(hash)));
        assert!(parse_block_ref("-1")
            .unwrap_err()
            .contains("neither a block height nor a block hash"));
    }

    #[test]
    fn a_typo_in_an_address_is_named() {
        let address = crate::testkit::address(1).to_string();
        let mut typo = address.clone().into_bytes();
        typo[10] = if typo[10] == b'0' { b'1' } else { b'0' };
        let typo = String::from_utf8(typo).unwrap();
        let error = parse_address("--to", &typo).unwrap_err();
        assert!(error.contains("checksum does not match"), "{error}");
        assert!(parse_address("--to", &address).is_ok());
    }
}
