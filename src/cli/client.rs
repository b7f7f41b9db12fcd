//! The read-only client subcommands: `balance`, `tip`, `block`, `tx` (with its merkle
//! proof checked against the block header) and `peers`. Each asks one node over a
//! blocking connection and prints text, or JSON with `--json`.

use super::format::{print_json, transaction_lines, utc};
use super::rpc::{NodeConnection, DEFAULT_TIMEOUT};
use crate::consensus::address::Address;
use crate::consensus::hash::{BlockHash, TxId};
use crate::net::message::{BlockRef, Message, PlacedBlock, TxEntryWire, TxStatus};
use crate::plural::count;
use crate::view::lookup::{
    block_query, the_one, tx_query, BlockQuery, TxQuery, BLOCK_HASH, TRANSACTION_ID,
};
use crate::view::proof::check_inclusion;
use crate::view::{
    account_json, block_json, difficulty_bits, is_genesis_placeholder, peers_json, tip_json,
    tx_status_json, TipView,
};
use clap::Args;

/// Options every client subcommand shares.
#[derive(Args, Debug, Clone)]
pub struct NodeOpts {
    /// The node to ask.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:1111", value_parser = host_port)]
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
    /// A height on the node's active chain, or a block hash: all 64 hex digits, or a
    /// unique prefix of at least 8 (digits only, without leading zero, read as a height).
    #[arg(value_name = "HEIGHT|HASH")]
    pub block: String,
    #[command(flatten)]
    pub opts: NodeOpts,
}

/// `ironchain tx TXID`.
#[derive(Args, Debug)]
pub struct TxArgs {
    /// The transaction id: all 64 hex digits, or a unique prefix of at least 8.
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

/// Checks the form of a `HOST:PORT` argument while the command line is parsed, so a
/// port above 65535 or a missing port is a command line that does not parse (exit 2),
/// not a node that cannot be reached. The host is resolved when it is dialled.
pub fn host_port(text: &str) -> Result<String, String> {
    let text = text.trim();
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("expected HOST:PORT, such as 127.0.0.1:1111".to_string());
    };
    if host.is_empty() {
        return Err("expected HOST:PORT: the host is missing".to_string());
    }
    if !port.bytes().all(|byte| byte.is_ascii_digit()) || port.is_empty() {
        return Err(format!("{port:?} is not a port number"));
    }
    port.parse::<u16>()
        .map_err(|_| format!("port {port} is not in 0..=65535"))?;
    Ok(text.to_string())
}

/// Parses a command-line account, naming the argument in the error: a key address
/// (`ic…`) or a multisig policy address (`icm…`).
pub fn parse_address(what: &str, text: &str) -> Result<Address, String> {
    crate::consensus::policy::parse_account(text).map_err(|e| format!("{what} {text:?}: {e}"))
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
        crate::consensus::token::format_units(holding.balance.get(), holding.decimals)
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
    let given = block_query(&args.block)?;
    let mut node = args.opts.connect()?;
    let reference = match given {
        BlockQuery::Whole(reference) => reference,
        BlockQuery::Prefix(prefix) => {
            let reply = node.request(Message::FindBlocks(prefix.to_string()))?;
            let Message::BlockMatches(found) = reply else {
                return Err(node.unexpected(&reply));
            };
            BlockRef::Hash(
                the_one(
                    found,
                    BlockHash::as_bytes,
                    &prefix,
                    BLOCK_HASH,
                    &args.opts.node,
                )
                .map_err(|e| e.to_string())?,
            )
        }
    };
    let reply = node.request(Message::GetPlacedBlock(reference.clone()))?;
    let Message::PlacedBlockReply(found) = reply else {
        return Err(node.unexpected(&reply));
    };
    let PlacedBlock { block, place } = *found.ok_or_else(|| match &reference {
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
        return print_json(&block_json(&block, &place));
    }
    let header = &block.header;
    crate::outln!("block {} {hash}", header.height);
    if place.active {
        crate::outln!(
            "  chain        active, {}",
            count(place.confirmations, "confirmation", "confirmations")
        );
    } else {
        crate::outln!(
            "  chain        stale: on a branch beside the node's active chain (0 confirmations)"
        );
    }
    crate::outln!("  prev         {}", header.prev);
    match &place.next {
        Some(next) => crate::outln!("  next         {next}"),
        None if place.active => crate::outln!("  next         none yet (the tip)"),
        None => {}
    }
    crate::outln!("  time         {}", utc(header.timestamp_ms));
    crate::outln!(
        "  difficulty   {} bits (target {})",
        difficulty_bits(header.target),
        header.target
    );
    crate::outln!("  nonce        {}", header.nonce);
    if header.height == 0 {
        // Its hash usually does not meet the target shown above, which would puzzle
        // anyone checking it.
        crate::outln!(
            "  work         none needed: the genesis block is fixed by the chain \
             parameters (its target is where mining starts)"
        );
    }
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
    crate::outln!(
        "{}",
        count(block.txs.len() as u64, "transaction", "transactions")
    );
    for tx in &block.txs {
        crate::outln!("  txid     {}", tx.id());
        crate::outln!("{}", transaction_lines(tx, "    "));
    }
    Ok(())
}

/// The id of the genesis block's reward record, the same on every network.
fn genesis_placeholder_id() -> TxId {
    crate::consensus::params::genesis_reward().id()
}

/// `ironchain tx`: prints the transaction and checks its merkle proof.
pub fn tx(args: TxArgs) -> Result<(), String> {
    let given = tx_query(&args.txid).map_err(|e| format!("TXID {e}"))?;
    let mut node = args.opts.connect()?;
    let txid = match given {
        TxQuery::Whole(txid) => txid,
        TxQuery::Prefix(prefix) => {
            let reply = node.request(Message::FindTxs(prefix.to_string()))?;
            let Message::TxMatches(found) = reply else {
                return Err(node.unexpected(&reply));
            };
            the_one(
                found,
                TxId::as_bytes,
                &prefix,
                TRANSACTION_ID,
                &args.opts.node,
            )
            .map_err(|e| e.to_string())?
        }
    };
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
                    "merkle proof: leaf {} of {}, {}",
                    proof.index,
                    proof.leaf_count,
                    count(
                        proof.siblings.len() as u64,
                        "sibling hash",
                        "sibling hashes"
                    )
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

    #[test]
    fn a_bad_node_or_peer_address_is_a_command_line_that_does_not_parse() {
        // `parse` refusing the line is what makes the binary exit 2.
        let refused = |args: &[&str]| {
            crate::cli::parse(std::iter::once("ironchain").chain(args.iter().copied())).err()
        };
        for (args, offending) in [
            (&["tip", "--node", "127.0.0.1:70000"][..], "127.0.0.1:70000"),
            (&["tip", "--node", "127.0.0.1"], "127.0.0.1"),
            (&["tip", "--node", ":1111"], ":1111"),
            (&["balance", "x", "--node", "host:port"], "host:port"),
            (&["--peer", "127.0.0.1:99999"], "127.0.0.1:99999"),
        ] {
            let error = refused(args).unwrap_or_else(|| panic!("{args:?} parsed"));
            assert!(error.contains(offending), "{args:?}: {error}");
            let option = if args.contains(&"--peer") {
                "--peer"
            } else {
                "--node"
            };
            assert!(error.contains(option), "{args:?}: {error}");
        }
        for good in ["127.0.0.1:1111", "localhost:0", "[::1]:1111"] {
            assert_eq!(host_port(good).as_deref(), Ok(good));
            assert!(refused(&["tip", "--node", good]).is_none(), "{good}");
        }
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
