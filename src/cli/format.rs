//! How the client subcommands show chain data: printing the JSON views of
//! [`crate::view`] and helpers for the human-readable text.

use crate::consensus::token::token_id;
use crate::consensus::transaction::{Transaction, TxKind};
use crate::view::{kind_name, tx_file};
use serde_json::Value;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &Value) -> Result<(), String> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| format!("cannot write JSON: {e}"))?;
    crate::outln!("{text}");
    Ok(())
}

/// A transaction as indented lines of text.
pub fn transaction_lines(tx: &Transaction, indent: &str) -> String {
    let mut out = format!(
        "{indent}kind     {}\n{indent}from     {}\n{indent}to       {}\n{indent}amount   {}\n{indent}fee      {}\n{indent}nonce    {}",
        kind_name(tx.kind()),
        tx_file::sender_text(tx),
        tx.receiver,
        tx.amount,
        tx.fee,
        tx.nonce
    );
    match tx.kind() {
        TxKind::Transfer => {}
        TxKind::TokenTransfer { token } => out.push_str(&format!("\n{indent}token    {token}")),
        TxKind::Issue { symbol, decimals } => out.push_str(&format!(
            "\n{indent}token    {} ({symbol}, {})",
            token_id(&tx.sender, tx.nonce),
            crate::plural::count(u64::from(*decimals), "decimal", "decimals")
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
