//! Signed-transaction files, written by `ironchain send --save-tx FILE` and read by
//! `ironchain submit FILE`: sign once, submit later or again (a replay is refused by the
//! node's nonce rule, which is what tests use this for).
//!
//! Format (JSON): `{"txid", "genesis", "signing_hash", "sender", "receiver", "amount",
//! "fee", "nonce", "message", "signature"}`, with addresses in their text form and the
//! signature as 128 hex digits. `txid` is optional on reading; when present it must match
//! the other fields. `genesis` names the network the transaction is signed for, and
//! `signing_hash` is the SHA-256 of what every signer signs (the transaction without its
//! signatures, for that network): like a Bitcoin PSBT, a multisig file thus carries all a
//! member needs to review and sign it on a machine with no node, and the signing hash is
//! the id the members compare, as the txid changes with every signature added. A token
//! transaction adds `"kind"` (`{"issue": {"symbol", "decimals"}}` or
//! `{"token_transfer": {"token"}}`); a multisig spend (`ironchain send --policy`, then
//! `ironchain sign`) adds `"policy"` (`{"threshold", "members"}`) and `"signatures"`
//! (`[{"signer", "signature"}]`), its sender is the `icm…` policy address and its
//! `signature` stays all zeros.

use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::hash::{from_hex, sha256, to_hex, BlockHash, TokenId};
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
    /// The genesis block hash of the network the transaction is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    genesis: Option<String>,
    /// [`signing_hash`] for that network; checked on reading when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signing_hash: Option<String>,
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

/// A transaction read from a file, and the network it says it is for.
pub struct TxFileContents {
    pub tx: Transaction,
    /// `None` in a file written before files named their network.
    pub genesis: Option<BlockHash>,
}

/// What every signer of `tx` signs on the network `genesis`, hashed: unlike the txid, it
/// stays the same as signatures are added, so the members of a policy compare it.
pub fn signing_hash(tx: &Transaction, genesis: &BlockHash) -> String {
    to_hex(&sha256(&tx.signing_payload(genesis)))
}

/// Writes `tx`, signed for the network `genesis`, to `path` (replacing any file there).
pub fn save(path: &Path, tx: &Transaction, genesis: &BlockHash) -> Result<(), String> {
    let text = file_text(tx, Some(genesis))
        .map_err(|e| format!("transaction file {}: {e}", path.display()))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| format!("transaction file {}: cannot write: {e}", path.display()))
}

/// The text of a transaction file holding `tx` (also what `POST /api/tx` takes).
pub fn to_text(tx: &Transaction) -> Result<String, String> {
    file_text(tx, None)
}

fn file_text(tx: &Transaction, genesis: Option<&BlockHash>) -> Result<String, String> {
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
        genesis: genesis.map(ToString::to_string),
        signing_hash: genesis.map(|genesis| signing_hash(tx, genesis)),
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

/// Reads a signed transaction, and the network it is for, from `path`.
pub fn load(path: &Path) -> Result<TxFileContents, String> {
    let name = path.display();
    let text = crate::small_file::read_to_string(path, MAX_TX_FILE_BYTES)
        .map_err(|e| format!("transaction file {name}: {e}"))?;
    parse_file(&text).map_err(|e| format!("transaction file {name}: {e}"))
}

/// Reads a signed transaction from the text of a transaction file (also the body of the
/// explorer's `POST /api/tx`).
pub fn parse(text: &str) -> Result<Transaction, String> {
    parse_file(text).map(|contents| contents.tx)
}

fn parse_file(text: &str) -> Result<TxFileContents, String> {
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
    let genesis = file
        .genesis
        .map(|text| {
            text.trim()
                .parse::<BlockHash>()
                .map_err(|e| format!("genesis: {e}"))
        })
        .transpose()?;
    match (&genesis, file.signing_hash) {
        (Some(genesis), Some(hash)) if hash.trim() != signing_hash(&tx, genesis) => {
            return Err("signing_hash does not match the other fields (edited file?)".to_string());
        }
        (None, Some(_)) => return Err("signing_hash without the genesis it is for".to_string()),
        _ => {}
    }
    Ok(TxFileContents { tx, genesis })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::hash::TokenId;
    use crate::testkit::{address, key, transfer};

    #[test]
    fn round_trip_and_edits_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tx.json");
        let mut tx = transfer(&key(1), address(2), 5, 1, 3, &BlockHash::default());
        tx.message = "hello".into();
        let genesis = BlockHash::from_bytes([7; 32]);
        save(&path, &tx, &genesis).unwrap();
        let contents = load(&path).unwrap();
        assert_eq!((contents.tx, contents.genesis), (tx, Some(genesis)));

        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("\"amount\": 5", "\"amount\": 6")).unwrap();
        assert!(load(&path).err().unwrap().contains("txid does not match"));

        std::fs::write(&path, "{}").unwrap();
        assert!(load(&path)
            .err()
            .unwrap()
            .contains("not a transaction file"));
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
        save(&path, &spend, &genesis).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&policy.address().to_string()), "{text}");
        assert_eq!(load(&path).unwrap().tx, spend);
        let issue = crate::testkit::issue(&key(1), "GOLD", 2, 100, 1, 0, &genesis);
        save(&path, &issue, &genesis).unwrap();
        assert_eq!(load(&path).unwrap().tx, issue);
    }

    /// The signing hash is what the members compare: the same whatever signatures the
    /// file holds (the txid is not), and an edit of the network is caught.
    #[test]
    fn the_signing_hash_stays_while_the_txid_changes_with_each_signature() {
        let genesis = BlockHash::from_bytes([3; 32]);
        let policy = Policy::new(2, vec![address(1), address(2)]).unwrap();
        let one = crate::testkit::policy_spend(
            &policy,
            &[&key(1)],
            TxKind::Transfer,
            address(5),
            7,
            1,
            0,
            &genesis,
        );
        let mut two = one.clone();
        two.cosign(&key(2), &genesis);
        assert_ne!(one.id(), two.id());
        assert_eq!(signing_hash(&one, &genesis), signing_hash(&two, &genesis));
        assert_ne!(
            signing_hash(&one, &genesis),
            signing_hash(&one, &BlockHash::default())
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tx.json");
        save(&path, &two, &genesis).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace(&genesis.to_string(), &BlockHash::default().to_string()),
        )
        .unwrap();
        let error = load(&path).err().unwrap();
        assert!(error.contains("signing_hash does not match"), "{error}");
    }
}
