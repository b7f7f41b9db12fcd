//! Signed transfers between accounts, and the reward record that pays a block's miner.
//!
//! Consensus encoding (big-endian integers), used for the transaction id, the block size
//! limit and, without the signature, for the signed payload:
//!
//! ```text
//! sender 32 | receiver 32 | amount u64 | fee u64 | nonce u64 | message length u16 | message | signature 64
//! ```
//!
//! The signed payload is `"ironchain-tx-v1" ‖ genesis hash ‖ encoding without signature`:
//! the genesis hash stops a transaction from being replayed on another network, and the
//! nonce (which must equal the sender's next nonce) stops replay and reordering here.

use super::address::Address;
use super::hash::{sha256, BlockHash, TxId};
use super::signatures::SigningKey;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest message a transaction may carry, in bytes of UTF-8.
pub const MAX_MESSAGE_BYTES: usize = 256;
const SIGNING_DOMAIN: &[u8] = b"ironchain-tx-v1";
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
    pub amount: u64,
    pub fee: u64,
    /// Must equal the sender's next account nonce when the transaction is applied.
    pub nonce: u64,
    /// Free text, at most [`MAX_MESSAGE_BYTES`] bytes.
    pub message: String,
    pub signature: Signature,
}

/// The fields a wallet fills in before signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedTransaction {
    pub receiver: Address,
    pub amount: u64,
    pub fee: u64,
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
            signature: Signature([0; 64]),
        };
        tx.signature = Signature(key.sign(&tx.signing_payload(genesis)).to_bytes());
        tx
    }
}

impl Transaction {
    fn encode_unsigned(&self, out: &mut Vec<u8>) {
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
    }

    /// The bytes the sender signs.
    pub fn signing_payload(&self, genesis: &BlockHash) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNING_DOMAIN.len() + 32 + self.encoded_size());
        out.extend_from_slice(SIGNING_DOMAIN);
        out.extend_from_slice(genesis.as_bytes());
        self.encode_unsigned(&mut out);
        out
    }

    /// The full consensus encoding, signature included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_size());
        self.encode_unsigned(&mut out);
        out.extend_from_slice(self.signature.as_bytes());
        out
    }

    /// Size of [`Transaction::encode`] in bytes, without encoding.
    pub fn encoded_size(&self) -> usize {
        TX_BASE_SIZE + self.message.len()
    }

    /// SHA-256 of the full encoding.
    pub fn id(&self) -> TxId {
        TxId::from_bytes(sha256(&self.encode()))
    }

    /// `amount + fee`, or `None` when that overflows (such a transaction is invalid).
    pub fn total_cost(&self) -> Option<u64> {
        self.amount.checked_add(self.fee)
    }
}

/// The first entry of every block: pays the block reward plus the block's fees to the miner.
/// The height makes every reward record's id unique.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reward {
    pub miner: Address,
    pub amount: u64,
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
            amount: 10,
            fee: 1,
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
