//! How the client subcommands show chain data: JSON views (a stable interface for
//! scripts, documented in the README) and helpers for the human-readable text.

use crate::consensus::block::Block;
use crate::consensus::target::CompactTarget;
use crate::consensus::token::token_id;
use crate::consensus::transaction::{Reward, Transaction, TxKind};
use serde_json::{json, Value};

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &Value) -> Result<(), String> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| format!("cannot write JSON: {e}"))?;
    crate::outln!("{text}");
    Ok(())
}

/// Difficulty as leading zero bits of the target (0 for an undecodable target).
pub fn difficulty_bits(target: CompactTarget) -> u32 {
    target
        .to_target()
        .map_or(0, |target| target.leading_zero_bits())
}

/// A transaction's kind as a word: `transfer`, `token_transfer` or `issue`.
fn kind_name(kind: &TxKind) -> &'static str {
    match kind {
        TxKind::Transfer => "transfer",
        TxKind::TokenTransfer { .. } => "token_transfer",
        TxKind::Issue { .. } => "issue",
    }
}

/// A transaction's fields: `kind`, and for tokens `token` (the id; for an issue the id
/// it creates), `symbol` and `decimals` of an issue; for a multisig spend `policy` (its
/// `icm…` address, threshold, members) and `signers`. The sender of a multisig spend is
/// shown as its policy address.
pub fn transaction_json(tx: &Transaction) -> Value {
    let mut value = json!({
        "txid": tx.id().to_string(),
        "kind": kind_name(tx.kind()),
        "sender": super::tx_file::sender_text(tx),
        "receiver": tx.receiver.to_string(),
        "amount": tx.amount,
        "fee": tx.fee,
        "nonce": tx.nonce,
        "message": tx.message,
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

/// Whether `reward` is the genesis block's placeholder: it pays nothing and is no leaf
/// of a merkle tree (the genesis merkle root commits to the chain parameters), so it has
/// no transaction id a node could find or prove.
pub fn is_genesis_placeholder(reward: &Reward) -> bool {
    reward.height == 0
}

/// A reward record's fields (`txid` null for the genesis placeholder).
pub fn reward_json(reward: &Reward) -> Value {
    json!({
        "txid": (!is_genesis_placeholder(reward)).then(|| reward.id().to_string()),
        "miner": reward.miner.to_string(),
        "amount": reward.amount,
        "height": reward.height,
    })
}

/// A whole block.
pub fn block_json(block: &Block) -> Value {
    let header = &block.header;
    json!({
        "height": header.height,
        "hash": block.hash().to_string(),
        "prev": header.prev.to_string(),
        "timestamp_ms": header.timestamp_ms,
        "difficulty_bits": difficulty_bits(header.target),
        "target": header.target.to_string(),
        "nonce": header.nonce,
        "merkle_root": header.merkle_root.to_string(),
        "reward": reward_json(&block.reward),
        "txs": block.txs.iter().map(transaction_json).collect::<Vec<_>>(),
    })
}

/// A transaction as indented lines of text.
pub fn transaction_lines(tx: &Transaction, indent: &str) -> String {
    let mut out = format!(
        "{indent}kind     {}\n{indent}from     {}\n{indent}to       {}\n{indent}amount   {}\n{indent}fee      {}\n{indent}nonce    {}",
        kind_name(tx.kind()),
        super::tx_file::sender_text(tx),
        tx.receiver,
        tx.amount,
        tx.fee,
        tx.nonce
    );
    match tx.kind() {
        TxKind::Transfer => {}
        TxKind::TokenTransfer { token } => out.push_str(&format!("\n{indent}token    {token}")),
        TxKind::Issue { symbol, decimals } => out.push_str(&format!(
            "\n{indent}token    {} ({symbol}, {decimals} decimals)",
            token_id(&tx.sender, tx.nonce)
        )),
    }
    if let Some(spend) = tx.policy_spend() {
        out.push_str(&format!(
            "\n{indent}policy   {}-of-{}, signed by {}",
            spend.policy.threshold,
            spend.policy.members.len(),
            spend
                .signatures
                .iter()
                .map(|cosignature| cosignature.signer.short())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !tx.message.is_empty() {
        out.push_str(&format!("\n{indent}message  {:?}", tx.message));
    }
    out
}

/// A timestamp in ms since the Unix epoch as `YYYY-MM-DD hh:mm:ss.mmm UTC`. A block's
/// timestamp comes from its miner: one past the calendar's range (year 9999) is shown as
/// the raw number instead.
pub fn utc(timestamp_ms: u64) -> String {
    i64::try_from(timestamp_ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(
            || format!("{timestamp_ms} ms after 1970 (beyond the calendar)"),
            |time| time.strftime("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(1_767_225_600_000), "2026-01-01 00:00:00.000 UTC");
        assert_eq!(utc(951_825_599_999), "2000-02-29 11:59:59.999 UTC");
        assert_eq!(utc(1_709_251_199_000), "2024-02-29 23:59:59.000 UTC");
        assert_eq!(
            utc(u64::MAX),
            "18446744073709551615 ms after 1970 (beyond the calendar)"
        );
    }
}
