//! Signed transactions between accounts, and the reward record that pays a block's miner.
//!
//! A plain native transfer signed by one key keeps the original consensus encoding
//! (big-endian integers), used for the transaction id, the block size limit and, without
//! the signature, for the signed payload:
//!
//! ```text
//! sender 32 | receiver 32 | amount u64 | fee u64 | nonce u64 | message length u16 | message | signature 64
//! ```
//!
//! signed as `"ironchain-tx-v1" ‖ genesis hash ‖ encoding without signature`: the genesis
//! hash stops a transaction from being replayed on another network, and the nonce (which
//! must equal the sender's next nonce) stops replay and reordering here.
//!
//! Every other transaction (a token issue, a token transfer, or any spend by a multisig
//! policy) carries a [`TxExtension`] and has the version-2 encoding, which starts with a
//! format byte and a kind tag that the original transfer does not have:
//!
//! ```text
//! 0x02 | kind u8 | sender 32 | receiver 32 | amount u64 | fee u64 | nonce u64
//!      | message length u16 | message | kind fields | authorisation
//! kind 0 native transfer:  (no fields)
//! kind 1 token transfer:   token id 32                       (amount in token base units)
//! kind 2 issue:            symbol length u8 | symbol | decimals u8   (amount = supply)
//! authorisation, key:      0x00 | signature 64
//! authorisation, policy:   0x01 | threshold u8 | n u8 | members 32·n
//!                               | signature count u8 | (signer 32 | signature 64)·count
//! ```
//!
//! The signed payload is `"ironchain-tx-v2" ‖ genesis hash ‖ encoding without the
//! signatures` (for a policy: up to and including the members), so every cosigner signs the
//! same bytes, and a version-1 signature can never be read as a version-2 one. Fees are
//! always paid in the native coin.

use super::address::Address;
use super::amount::Amount;
use super::hash::{sha256, BlockHash, TokenId, TxId};
use super::policy::Policy;
use super::signatures::SigningKey;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest message a transaction may carry, in bytes of UTF-8.
pub const MAX_MESSAGE_BYTES: usize = 256;
const SIGNING_DOMAIN: &[u8] = b"ironchain-tx-v1";
const SIGNING_DOMAIN_V2: &[u8] = b"ironchain-tx-v2";
/// First byte of the version-2 encoding.
const FORMAT_V2: u8 = 0x02;
const AUTH_KEY: u8 = 0x00;
const AUTH_POLICY: u8 = 0x01;
/// Encoded size of a transaction with an empty message.
pub const TX_BASE_SIZE: usize = 32 + 32 + 8 + 8 + 8 + 2 + 64;
/// Encoded size of a reward record.
pub const REWARD_SIZE: usize = 32 + 8 + 8;

/// An Ed25519 signature, as its 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(#[serde(with = "crate::consensus::bytes")] [u8; 64]);

impl Signature {
    /// Wraps raw signature bytes.
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The raw signature bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The all-zero placeholder of a transaction not signed yet (or signed by a policy).
    pub const ZERO: Signature = Signature([0; 64]);
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", super::hash::to_hex(&self.0[..4]))
    }
}

/// A signed transfer of `amount` from `sender` to `receiver`, paying `fee` to the miner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub sender: Address,
    pub receiver: Address,
    pub amount: Amount,
    pub fee: Amount,
    /// Must equal the sender's next account nonce when the transaction is applied.
    pub nonce: u64,
    /// Free text, at most [`MAX_MESSAGE_BYTES`] bytes.
    pub message: String,
    /// The sender key's signature; [`Signature::ZERO`] for a policy spend.
    pub signature: Signature,
    /// `None` for a plain key-signed native transfer (the original encoding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Box<TxExtension>>,
}

/// What a transaction does besides paying its fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxKind {
    /// Moves `amount` native coins to the receiver.
    Transfer,
    /// Moves `amount` base units of `token` to the receiver.
    TokenTransfer { token: TokenId },
    /// Creates a token whose supply is `amount` base units, credited to the sender
    /// (the receiver must be the sender). Its id is
    /// [`token_id`](super::token::token_id)`(sender, nonce)`.
    Issue { symbol: String, decimals: u8 },
}

impl TxKind {
    fn tag(&self) -> u8 {
        match self {
            TxKind::Transfer => 0,
            TxKind::TokenTransfer { .. } => 1,
            TxKind::Issue { .. } => 2,
        }
    }
}

/// One member's signature of a policy spend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cosignature {
    pub signer: Address,
    pub signature: Signature,
}

/// The policy a multisig sender reveals, and its members' signatures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySpend {
    pub policy: Policy,
    pub signatures: Vec<Cosignature>,
}

/// What makes a transaction other than a plain key-signed native transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxExtension {
    pub kind: TxKind,
    /// `Some` when the sender is a policy address.
    pub policy: Option<PolicySpend>,
}

/// The fields a wallet fills in before signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedTransaction {
    pub receiver: Address,
    pub amount: Amount,
    pub fee: Amount,
    pub nonce: u64,
    pub message: String,
}

impl UnsignedTransaction {
    /// Signs for the network whose genesis block is `genesis`.
    pub fn sign(self, key: &SigningKey, genesis: &BlockHash) -> Transaction {
        let mut tx = Transaction {
            sender: Address::of(key),
            receiver: self.receiver,
            amount: self.amount,
            fee: self.fee,
            nonce: self.nonce,
            message: self.message,
            signature: Signature::ZERO,
            extension: None,
        };
        tx.signature = sign_payload(key, &tx.signing_payload(genesis));
        tx
    }

    /// Signs a transaction of `kind` (a plain native transfer takes the original
    /// encoding, as [`UnsignedTransaction::sign`]).
    pub fn sign_kind(self, kind: TxKind, key: &SigningKey, genesis: &BlockHash) -> Transaction {
        if kind == TxKind::Transfer {
            return self.sign(key, genesis);
        }
        let mut tx = self.with_extension(Address::of(key), kind, None);
        tx.signature = sign_payload(key, &tx.signing_payload(genesis));
        tx
    }

    /// A spend by `policy`'s address with no signatures yet: members add theirs with
    /// [`Transaction::cosign`].
    pub fn for_policy(self, kind: TxKind, policy: Policy) -> Transaction {
        let sender = policy.address().account();
        let spend = PolicySpend {
            policy,
            signatures: Vec::new(),
        };
        self.with_extension(sender, kind, Some(spend))
    }

    fn with_extension(
        self,
        sender: Address,
        kind: TxKind,
        policy: Option<PolicySpend>,
    ) -> Transaction {
        Transaction {
            sender,
            receiver: self.receiver,
            amount: self.amount,
            fee: self.fee,
            nonce: self.nonce,
            message: self.message,
            signature: Signature::ZERO,
            extension: Some(Box::new(TxExtension { kind, policy })),
        }
    }
}

fn sign_payload(key: &SigningKey, payload: &[u8]) -> Signature {
    Signature(key.sign(payload).to_bytes())
}

const TRANSFER: TxKind = TxKind::Transfer;

impl Transaction {
    /// What the transaction does.
    pub fn kind(&self) -> &TxKind {
        self.extension
            .as_ref()
            .map_or(&TRANSFER, |extension| &extension.kind)
    }

    /// The revealed policy and cosignatures, when the sender is a policy address.
    pub fn policy_spend(&self) -> Option<&PolicySpend> {
        self.extension.as_ref()?.policy.as_ref()
    }

    /// Adds `key`'s signature to a policy spend (replacing an earlier one by the same
    /// key). Returns `false`, changing nothing, when this is not a policy spend.
    pub fn cosign(&mut self, key: &SigningKey, genesis: &BlockHash) -> bool {
        let signature = sign_payload(key, &self.signing_payload(genesis));
        let signer = Address::of(key);
        let Some(spend) = self
            .extension
            .as_mut()
            .and_then(|extension| extension.policy.as_mut())
        else {
            return false;
        };
        spend
            .signatures
            .retain(|cosignature| cosignature.signer != signer);
        spend.signatures.push(Cosignature { signer, signature });
        true
    }

    /// Every (public key, signature) pair that must verify over
    /// [`Transaction::signing_payload`]: the sender's key, or each cosigner of a policy.
    pub fn signatures(&self) -> Vec<(Address, Signature)> {
        match self.policy_spend() {
            None => vec![(self.sender, self.signature)],
            Some(spend) => spend
                .signatures
                .iter()
                .map(|cosignature| (cosignature.signer, cosignature.signature))
                .collect(),
        }
    }

    /// Native coins the receiver gets: the amount of a native transfer, else nothing.
    pub fn native_amount(&self) -> Amount {
        match self.kind() {
            TxKind::Transfer => self.amount,
            TxKind::TokenTransfer { .. } | TxKind::Issue { .. } => Amount::ZERO,
        }
    }

    fn encode_unsigned(&self, out: &mut Vec<u8>) {
        if let Some(extension) = &self.extension {
            out.push(FORMAT_V2);
            out.push(extension.kind.tag());
        }
        out.extend_from_slice(self.sender.as_bytes());
        out.extend_from_slice(self.receiver.as_bytes());
        out.extend_from_slice(&self.amount.to_be_bytes());
        out.extend_from_slice(&self.fee.to_be_bytes());
        out.extend_from_slice(&self.nonce.to_be_bytes());
        // Messages longer than u16::MAX are invalid anyway; saturating keeps the encoding
        // total so that such a transaction can still be hashed and then rejected.
        let length = u16::try_from(self.message.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(self.message.as_bytes());
        let Some(extension) = &self.extension else {
            return;
        };
        match &extension.kind {
            TxKind::Transfer => {}
            TxKind::TokenTransfer { token } => out.extend_from_slice(token.as_bytes()),
            TxKind::Issue { symbol, decimals } => {
                // Like the message length: an over-long symbol is refused, not unhashable.
                out.push(u8::try_from(symbol.len()).unwrap_or(u8::MAX));
                out.extend_from_slice(symbol.as_bytes());
                out.push(*decimals);
            }
        }
        match &extension.policy {
            None => out.push(AUTH_KEY),
            Some(spend) => {
                out.push(AUTH_POLICY);
                spend.policy.encode_into(out);
            }
        }
    }

    /// The bytes the sender (or every cosigner) signs.
    pub fn signing_payload(&self, genesis: &BlockHash) -> Vec<u8> {
        let domain = match self.extension {
            None => SIGNING_DOMAIN,
            Some(_) => SIGNING_DOMAIN_V2,
        };
        let mut out = Vec::with_capacity(domain.len() + 32 + self.encoded_size());
        out.extend_from_slice(domain);
        out.extend_from_slice(genesis.as_bytes());
        self.encode_unsigned(&mut out);
        out
    }

    /// The full consensus encoding, signatures included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_size());
        self.encode_unsigned(&mut out);
        match self.policy_spend() {
            None => out.extend_from_slice(self.signature.as_bytes()),
            Some(spend) => {
                out.push(u8::try_from(spend.signatures.len()).unwrap_or(u8::MAX));
                for cosignature in &spend.signatures {
                    out.extend_from_slice(cosignature.signer.as_bytes());
                    out.extend_from_slice(cosignature.signature.as_bytes());
                }
            }
        }
        out
    }

    /// Size of [`Transaction::encode`] in bytes, without encoding.
    pub fn encoded_size(&self) -> usize {
        let Some(extension) = &self.extension else {
            return TX_BASE_SIZE + self.message.len();
        };
        let kind = match &extension.kind {
            TxKind::Transfer => 0,
            TxKind::TokenTransfer { .. } => 32,
            TxKind::Issue { symbol, .. } => 2 + symbol.len(),
        };
        let authorisation = match &extension.policy {
            None => 1 + 64,
            Some(spend) => 1 + spend.policy.encoded_size() + 1 + 96 * spend.signatures.len(),
        };
        // TX_BASE_SIZE counts a key signature, which `authorisation` counts instead.
        2 + TX_BASE_SIZE - 64 + self.message.len() + kind + authorisation
    }

    /// SHA-256 of the full encoding.
    pub fn id(&self) -> TxId {
        TxId::from_bytes(sha256(&self.encode()))
    }

    /// Native coins the sender spends, `native_amount + fee`, or `None` when that
    /// overflows (such a transaction is invalid).
    pub fn total_cost(&self) -> Option<Amount> {
        self.native_amount().checked_add(self.fee)
    }
}

/// The first entry of every block: pays the block reward plus the block's fees to the miner.
/// The height makes every reward record's id unique.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reward {
    pub miner: Address,
    pub amount: Amount,
    pub height: u64,
}

impl Reward {
    /// Consensus encoding: `miner 32 | amount u64 | height u64`.
    pub fn encode(&self) -> [u8; REWARD_SIZE] {
        let mut out = [0u8; REWARD_SIZE];
        out[..32].copy_from_slice(self.miner.as_bytes());
        out[32..40].copy_from_slice(&self.amount.to_be_bytes());
        out[40..].copy_from_slice(&self.height.to_be_bytes());
        out
    }

    /// SHA-256 of the encoding: the first leaf of the block's merkle tree.
    pub fn id(&self) -> TxId {
        TxId::from_bytes(sha256(&self.encode()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(genesis: &BlockHash) -> Transaction {
        let key = SigningKey::from([1; 32]);
        UnsignedTransaction {
            receiver: Address::from_bytes([2; 32]),
            amount: Amount::new(10),
            fee: Amount::new(1),
            nonce: 0,
            message: "hi".into(),
        }
        .sign(&key, genesis)
    }

    #[test]
    fn id_covers_signature_and_size_matches_encoding() {
        let genesis = BlockHash::from_bytes([9; 32]);
        let tx = sample(&genesis);
        assert_eq!(tx.encode().len(), tx.encoded_size());
        let mut altered = tx.clone();
        altered.signature = Signature([0; 64]);
        assert_ne!(tx.id(), altered.id());
    }

    #[test]
    fn payload_depends_on_genesis() {
        let tx = sample(&BlockHash::from_bytes([9; 32]));
        assert_ne!(
            tx.signing_payload(&BlockHash::from_bytes([9; 32])),
            tx.signing_payload(&BlockHash::from_bytes([8; 32]))
        );
    }

    #[test]
    fn cbor_round_trip() {
        let tx = sample(&BlockHash::from_bytes([9; 32]));
        let bytes = serde_cbor::to_vec(&tx).unwrap();
        assert_eq!(serde_cbor::from_slice::<Transaction>(&bytes).unwrap(), tx);
    }
}
