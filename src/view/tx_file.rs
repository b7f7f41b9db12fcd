//! Signed-transaction files, written by `ironchain send --save-tx FILE` and read by
//! `ironchain submit FILE`: sign once, submit later or again (a replay is refused by the
//! node's nonce rule, which is what tests use this for).
//!
//! Format (JSON): `{"txid", "sender", "receiver", "amount", "fee", "nonce", "message",
//! "signature"}`, with addresses in their text form and the signature as 128 hex digits.
//! `txid` is optional on reading; when present it must match the other fields. A token
//! transaction adds `"kind"` (`{"issue": {"symbol", "decimals"}}` or
//! `{"token_transfer": {"token"}}`); a multisig spend (`ironchain send --policy`, then
//! `ironchain sign`) adds `"policy"` (`{"threshold", "members"}`) and `"signatures"`
//! (`[{"signer", "signature"}]`), its sender is the `icm…` policy address and its
//! `signature` stays all zeros.

use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::hash::{from_hex, to_hex, TokenId};
use crate::consensus::policy::{parse_account, Policy};
use crate::consensus::transaction::{
    Cosignature, PolicySpend, Signature, Transaction, TxExtension, TxKind,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum KindFile {
    Transfer,
    Issue { symbol: String, decimals: u8 },
    TokenTransfer { token: String },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CosignatureFile {
    signer: Address,
    signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    txid: Option<String>,
    /// A key address, or the policy address of a multisig spend.
    sender: String,
    receiver: String,
    amount: Amount,
    fee: Amount,
    nonce: u64,
    #[serde(default)]
    message: String,
    signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<KindFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy: Option<Policy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    signatures: Vec<CosignatureFile>,
}

/// The text form of `tx`'s sender: its policy address for a multisig spend.
pub fn sender_text(tx: &Transaction) -> String {
    match tx.policy_spend() {
        Some(spend) => spend.policy.address().to_string(),
        None => tx.sender.to_string(),
    }
}

/// Writes `tx` to `path` (replacing any file there).
pub fn save(path: &Path, tx: &Transaction) -> Result<(), String> {
    let text = to_text(tx).map_err(|e| format!("transaction file {}: {e}", path.display()))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| format!("transaction file {}: cannot write: {e}", path.display()))
}

/// The text of a transaction file holding `tx` (also what `POST /api/tx` takes).
pub fn to_text(tx: &Transaction) -> Result<String, String> {
    let kind = tx
        .extension
        .as_ref()
        .map(|extension| match &extension.kind {
            TxKind::Transfer => KindFile::Transfer,
            TxKind::Issue { symbol, decimals } => KindFile::Issue {
                symbol: symbol.clone(),
                decimals: *decimals,
            },
            TxKind::TokenTransfer { token } => KindFile::TokenTransfer {
                token: token.to_string(),
            },
        });
    let spend = tx.policy_spend();
    let receiver = match spend {
        // Coins a policy sends to itself (an issue) are named by its policy address.
        Some(_) if tx.receiver == tx.sender => sender_text(tx),
        _ => tx.receiver.to_string(),
    };
    let file = TxFile {
        txid: Some(tx.id().to_string()),
        sender: sender_text(tx),
        receiver,
        amount: tx.amount,
        fee: tx.fee,
        nonce: tx.nonce,
        message: tx.message.clone(),
        signature: to_hex(tx.signature.as_bytes()),
        kind,
        policy: spend.map(|spend| spend.policy.clone()),
        signatures: spend
            .map(|spend| {
                spend
                    .signatures
                    .iter()
                    .map(|cosignature| CosignatureFile {
                        signer: cosignature.signer,
                        signature: to_hex(cosignature.signature.as_bytes()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    serde_json::to_string_pretty(&file).map_err(|e| e.to_string())
}

/// Largest transaction file read: a policy spend with the most signatures and the
/// longest message is a few kilobytes of JSON.
const MAX_TX_FILE_BYTES: u64 = 64 << 10;

/// Reads a signed transaction from `path`.
pub fn load(path: &Path) -> Result<Transaction, String> {
    let name = path.display();
    let text = crate::small_file::read_to_string(path, MAX_TX_FILE_BYTES)
        .map_err(|e| format!("transaction file {name}: {e}"))?;
    parse(&text).map_err(|e| format!("transaction file {name}: {e}"))
}

/// Reads a signed transaction from the text of a transaction file (also the body of the
/// explorer's `POST /api/tx`).
pub fn parse(text: &str) -> Result<Transaction, String> {
    let file: TxFile =
        serde_json::from_str(text).map_err(|e| format!("not a transaction file: {e}"))?;
    let signature = |text: &str| {
        from_hex::<64>(text.trim())
            .map(Signature::from_bytes)
            .map_err(|e| format!("signature: {e}"))
    };
    let account =
        |field: &str, text: &str| parse_account(text).map_err(|e| format!("{field}: {e}"));
    let kind = match file.kind {
        None => None,
        Some(KindFile::Transfer) => Some(TxKind::Transfer),
        Some(KindFile::Issue { symbol, decimals }) => Some(TxKind::Issue { symbol, decimals }),
        Some(KindFile::TokenTransfer { token }) => Some(TxKind::TokenTransfer {
            token: token
                .parse::<TokenId>()
                .map_err(|e| format!("token: {e}"))?,
        }),
    };
    let policy = match file.policy {
        None => None,
        Some(policy) => Some(PolicySpend {
            policy,
            signatures: file
                .signatures
                .iter()
                .map(|cosignature| {
                    Ok(Cosignature {
                        signer: cosignature.signer,
                        signature: signature(&cosignature.signature)?,
                    })
                })
                .collect::<Result<_, String>>()?,
        }),
    };
    let extension = match (kind, policy) {
        (None, None) => None,
        (kind, policy) => Some(Box::new(TxExtension {
            kind: kind.unwrap_or(TxKind::Transfer),
            policy,
        })),
    };
    let tx = Transaction {
        sender: account("sender", &file.sender)?,
        receiver: account("receiver", &file.receiver)?,
        amount: file.amount,
        fee: file.fee,
        nonce: file.nonce,
        message: file.message,
        signature: signature(&file.signature)?,
        extension,
    };
    if let Some(txid) = file.txid {
        if txid.trim() != tx.id().to_string() {
            return Err("txid does not match the other fields (edited file?)".to_string());
        }
    }
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::hash::BlockHash;
    use crate::consensus::hash::TokenId;
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

    #[test]
    fn policy_spends_and_token_kinds_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tx.json");
        let genesis = BlockHash::default();
        let policy = Policy::new(2, vec![address(1), address(2), address(3)]).unwrap();
        let kind = TxKind::TokenTransfer {
            token: TokenId::from_bytes([4; 32]),
        };
        let spend =
            crate::testkit::policy_spend(&policy, &[&key(1)], kind, address(5), 7, 1, 0, &genesis);
        save(&path, &spend).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&policy.address().to_string()), "{text}");
        assert_eq!(load(&path).unwrap(), spend);
        let issue = crate::testkit::issue(&key(1), "GOLD", 2, 100, 1, 0, &genesis);
        save(&path, &issue).unwrap();
        assert_eq!(load(&path).unwrap(), issue);
    }
}
