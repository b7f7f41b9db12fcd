//! The JSON views of chain data: one definition of each shape, used by the command line's
//! `--json` output and by the explorer's HTTP API, so a script can switch between the two
//! without re-learning field names. The shapes are a stable interface, documented in the
//! book's Guide › Wallet and client: every documented key is present in every state, `null`
//! where it does not apply or is not known yet, so a script never has to test whether a key
//! exists. Numbers that can pass 2^53 (JavaScript's exact integers) are decimal strings: a
//! block's nonce (miners use all 64 bits), total work, and every amount of coins or token
//! base units (amounts, fees, balances, rewards, supplies: u64 values, and one token of 18
//! decimals is already 10^18 base units). Heights, timestamps, account nonces and counts
//! stay numbers: they count blocks, milliseconds and transactions, and cannot reach 2^53.

pub mod lookup;
pub mod proof;
pub mod tx_file;

use crate::chain::blockchain::BlockPlace;
use crate::chain::state::{Account, TokenInfo};
use crate::consensus::block::Block;
use crate::consensus::hash::{BlockHash, TokenId, TxId};
use crate::consensus::target::{CompactTarget, Work};
use crate::consensus::token::{format_units, token_id};
use crate::consensus::transaction::{Reward, Transaction, TxKind};
use crate::net::message::{PeerInfo, TokenHolding, TxEntryWire, TxStatus};
use proof::check_inclusion;
use serde_json::{json, Value};

/// Difficulty as leading zero bits of the target (0 for an undecodable target).
pub fn difficulty_bits(target: CompactTarget) -> u32 {
    target
        .to_target()
        .map_or(0, |target| target.leading_zero_bits())
}

/// A transaction's kind as a word: `transfer`, `token_transfer` or `issue`.
pub fn kind_name(kind: &TxKind) -> &'static str {
    match kind {
        TxKind::Transfer => "transfer",
        TxKind::TokenTransfer { .. } => "token_transfer",
        TxKind::Issue { .. } => "issue",
    }
}

/// A transaction's fields: `kind`, and for tokens `token` (the id; for an issue the id
/// it creates), `symbol` and `decimals` of an issue; for a multisig spend `policy` (its
/// `icm…` address, threshold, members) and `signers`; each `null` where it does not
/// apply. The sender of a multisig spend is shown as its policy address. `amount` is
/// in coins, or for a token transfer or issue in the token's base units.
pub fn transaction_json(tx: &Transaction) -> Value {
    let mut value = json!({
        "txid": tx.id().to_string(),
        "kind": kind_name(tx.kind()),
        "sender": tx_file::sender_text(tx),
        "receiver": tx.receiver.to_string(),
        "amount": tx.amount.to_string(),
        "fee": tx.fee.to_string(),
        "nonce": tx.nonce,
        "message": tx.message,
        "token": null,
        "symbol": null,
        "decimals": null,
        "policy": null,
        "signers": null,
    });
    match tx.kind() {
        TxKind::Transfer => {}
        TxKind::TokenTransfer { token } => value["token"] = json!(token.to_string()),
        TxKind::Issue { symbol, decimals } => {
            value["token"] = json!(token_id(&tx.sender, tx.nonce).to_string());
            value["symbol"] = json!(symbol);
            value["decimals"] = json!(decimals);
        }
    }
    if let Some(spend) = tx.policy_spend() {
        value["policy"] = json!({
            "address": spend.policy.address().to_string(),
            "threshold": spend.policy.threshold,
            "members": spend.policy.members.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        value["signers"] = json!(spend
            .signatures
            .iter()
            .map(|cosignature| cosignature.signer.to_string())
            .collect::<Vec<_>>());
    }
    value
}

/// A token as the chain records it (`token info --json`, `GET /api/token/{id}`): the
/// supply in display units and in base units.
pub fn token_json(token: &TokenId, info: &TokenInfo) -> Value {
    json!({
        "token_id": token.to_string(),
        "symbol": info.symbol,
        "decimals": info.decimals,
        "supply": format_units(info.supply.get(), info.decimals),
        "supply_base_units": info.supply.to_string(),
        "issuer": info.issuer.to_string(),
        "issue_txid": info.issue_txid.to_string(),
    })
}

/// Whether `reward` is the genesis block's placeholder: it pays nothing and is no leaf
/// of a merkle tree (the genesis merkle root commits to the chain parameters), so it has
/// no transaction id a node could find or prove.
pub fn is_genesis_placeholder(reward: &Reward) -> bool {
    reward.height == 0
}

/// A reward record's fields.
pub fn reward_json(reward: &Reward) -> Value {
    json!({
        "txid": reward.id().to_string(),
        "miner": reward.miner.to_string(),
        "amount": reward.amount.to_string(),
        "height": reward.height,
    })
}

/// A whole block, with where it stands: `on_best_chain` (false for a stale block, on a
/// branch beside the active chain), `confirmations` (1 for the tip, 0 when stale) and
/// `next` (the active chain's next block; `null` for the tip and stale blocks). The
/// genesis block pays no reward (its placeholder record pays nothing to the all-zero
/// address, which nobody holds), so its `reward` is `null`; `nonce` is a string, since a
/// miner may use all 64 bits of it.
pub fn block_json(block: &Block, place: &BlockPlace) -> Value {
    let header = &block.header;
    let reward = if is_genesis_placeholder(&block.reward) {
        Value::Null
    } else {
        reward_json(&block.reward)
    };
    json!({
        "height": header.height,
        "hash": block.hash().to_string(),
        "prev": header.prev.to_string(),
        "timestamp_ms": header.timestamp_ms,
        "difficulty_bits": difficulty_bits(header.target),
        "target": header.target.to_string(),
        "nonce": header.nonce.to_string(),
        "merkle_root": header.merkle_root.to_string(),
        "reward": reward,
        "on_best_chain": place.active,
        "confirmations": place.confirmations,
        "next": place.next.map(|next| next.to_string()),
        "txs": block.txs.iter().map(transaction_json).collect::<Vec<_>>(),
    })
}

/// What `tip` shows.
pub struct TipView {
    pub height: u64,
    pub hash: BlockHash,
    pub work: Work,
    pub difficulty_bits: u32,
    pub timestamp_ms: u64,
    pub genesis: BlockHash,
}

/// The best block (`work` as a decimal string: it outgrows every JSON number).
pub fn tip_json(tip: &TipView) -> Value {
    json!({
        "height": tip.height,
        "hash": tip.hash.to_string(),
        "difficulty_bits": tip.difficulty_bits,
        "timestamp_ms": tip.timestamp_ms,
        "work": tip.work.to_string(),
        "genesis": tip.genesis.to_string(),
    })
}

/// An account: `nonce` is the next one to sign with (mempool included); `tokens` its
/// nonzero token balances, each in display units and base units. `shown` is the address
/// as the user gave it: a policy address's bytes in key-address form would name it as if
/// it were a key.
pub fn account_json(
    shown: &str,
    account: &Account,
    next_nonce: u64,
    tokens: &[TokenHolding],
) -> Value {
    json!({
        "address": shown,
        "balance": account.balance.to_string(),
        "nonce": next_nonce,
        "confirmed_nonce": account.nonce,
        "tokens": tokens.iter().map(|holding| json!({
            "token_id": holding.token.to_string(),
            "symbol": holding.symbol,
            "balance": format_units(holding.balance.get(), holding.decimals),
            "balance_base_units": holding.balance.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// The answer to a submitted transaction (`reason` is set when it was refused). Where
/// it was included (`height`, `block_hash`, `proof_valid`) is `null` until a `--wait`
/// finds its block.
pub fn submit_json(txid: &TxId, refused: Option<&str>) -> Value {
    json!({
        "txid": txid.to_string(),
        "accepted": refused.is_none(),
        "reason": refused,
        "height": null,
        "block_hash": null,
        "proof_valid": null,
    })
}

/// A transaction and where it is; for a confirmed one, its merkle proof with the result
/// of checking it. `None` when the node knows no such transaction.
pub fn tx_status_json(txid: &TxId, status: &TxStatus) -> Option<Value> {
    match status {
        TxStatus::NotFound => None,
        TxStatus::Pending(tx) => Some(json!({
            "txid": txid.to_string(),
            "status": "pending",
            "block_hash": null,
            "height": null,
            "proof_valid": null,
            "kind": kind_name(tx.kind()),
            "transaction": transaction_json(tx),
            "proof": null,
        })),
        TxStatus::Confirmed {
            entry,
            block_hash,
            header,
            proof,
        } => {
            let check = check_inclusion(txid, status)?;
            let (kind, entry_json) = match entry {
                TxEntryWire::Transfer(tx) => (kind_name(tx.kind()), transaction_json(tx)),
                TxEntryWire::Reward(reward) => ("reward", reward_json(reward)),
            };
            Some(json!({
                "txid": txid.to_string(),
                "status": "confirmed",
                "block_hash": block_hash.to_string(),
                "height": header.height,
                "proof_valid": check.holds(),
                "kind": kind,
                "transaction": entry_json,
                "proof": {
                    "index": proof.index,
                    "leaf_count": proof.leaf_count,
                    "siblings": proof.siblings.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    "computed_root": check.computed_root.map(|root| root.to_string()),
                    "header_merkle_root": header.merkle_root.to_string(),
                    "root_matches": check.root_matches,
                    "header_matches": check.header_matches,
                    "proof_of_work": check.proof_of_work,
                    "entry_matches": check.entry_matches,
                },
            }))
        }
    }
}

/// The connected peers.
pub fn peers_json(peers: &[PeerInfo]) -> Value {
    Value::Array(
        peers
            .iter()
            .map(|peer| {
                json!({
                    "addr": peer.addr,
                    "inbound": peer.inbound,
                    "best_height": peer.best_height,
                })
            })
            .collect(),
    )
}

/// One block of the block tree, as `/api/tree` lists it and the live events carry it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TreeBlock {
    pub hash: String,
    pub parent: String,
    pub height: u64,
    /// Who the reward paid; `None` for genesis, which pays nobody.
    pub miner: Option<String>,
    pub timestamp_ms: u64,
    /// Since the parent's timestamp; `None` for genesis and the first block after it,
    /// whose parent's time is a fixed date in the chain parameters.
    pub interval_ms: Option<u64>,
    pub on_best_chain: bool,
}
