//! Signed-transaction files, written by `ironchain send --save-tx FILE` and read by
//! `ironchain submit FILE`: sign once, submit later or again (a replay is refused by the
//! node's nonce rule, which is what tests use this for).
//!
//! Format (JSON): `{"txid", "sender", "receiver", "amount", "fee", "nonce", "message",
//! "signature"}`, with addresses in their `ic…` text form and the signature as 128 hex
//! digits. `txid` is optional on reading; when present it must match the other fields.

use crate::consensus::address::Address;
use crate::consensus::hash::{from_hex, to_hex};
use crate::consensus::transaction::{Signature, Transaction};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    txid: Option<String>,
    sender: Address,
    receiver: Address,
    amount: u64,
    fee: u64,
    nonce: u64,
    #[serde(default)]
    message: String,
    signature: String,
}

/// Writes `tx` to `path` (replacing any file there).
pub fn save(path: &Path, tx: &Transaction) -> Result<(), String> {
    let file = TxFile {
        txid: Some(tx.id().to_string()),
        sender: tx.sender,
        receiver: tx.receiver,
        amount: tx.amount,
        fee: tx.fee,
        nonce: tx.nonce,
        message: tx.message.clone(),
        signature: to_hex(tx.signature.as_bytes()),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| format!("transaction file {}: {e}", path.display()))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| format!("transaction file {}: cannot write: {e}", path.display()))
}

/// Reads a signed transaction from `path`.
pub fn load(path: &Path) -> Result<Transaction, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("transaction file {name}: cannot read: {e}"))?;
    let file: TxFile = serde_json::from_str(&text)
        .map_err(|e| format!("transaction file {name}: not a transaction file: {e}"))?;
    let signature = from_hex::<64>(file.signature.trim())
        .map_err(|e| format!("transaction file {name}: signature: {e}"))?;
    let tx = Transaction {
        sender: file.sender,
        receiver: file.receiver,
        amount: file.amount,
        fee: file.fee,
        nonce: file.nonce,
        message: file.message,
        signature: Signature::from_bytes(signature),
        extension: None,
    };
    if let Some(txid) = file.txid {
        if txid.trim() != tx.id().to_string() {
            return Err(format!(
                "transaction file {name}: txid does not match the other fields (edited file?)"
            ));
        }
    }
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::hash::BlockHash;
    use crate::testkit::{address, key, transfer};

    #[test]
    fn round_trip_and_edits_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tx.json");
        let mut tx = transfer(&key(1), address(2), 5, 1, 3, &BlockHash::default());
        tx.message = "hello".into();
        save(&path, &tx).unwrap();
        assert_eq!(load(&path).unwrap(), tx);

        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"amount\": 5", "\"amount\": 6")).unwrap();
        assert!(load(&path).unwrap_err().contains("txid does not match"));

        std::fs::write(&path, "{}").unwrap();
        assert!(load(&path).unwrap_err().contains("not a transaction file"));
    }
}
