//! Why a transaction or block is refused: one variant per consensus rule, each with a
//! message a person understands. These travel back to peers and clients as reasons.

use super::address::Address;
use super::amount::Amount;
use super::hash::{BlockHash, TokenId, TxId};
use super::target::{CompactTarget, CompactTargetError};
use std::fmt;

/// Why a transaction is invalid, or not accepted into the mempool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxError {
    MessageTooLong {
        bytes: usize,
        max: usize,
    },
    FeeTooLow {
        fee: Amount,
        min: Amount,
    },
    AmountOverflow,
    InvalidSenderKey,
    BadSignature,
    NonceTooLow {
        nonce: u64,
        expected: u64,
    },
    NonceTooHigh {
        nonce: u64,
        expected: u64,
    },
    NonceExhausted,
    InsufficientBalance {
        balance: Amount,
        needed: Amount,
    },
    ReceiverBalanceOverflow,
    AlreadyInMempool,
    NoncePending {
        nonce: u64,
    },
    MempoolFull {
        lowest_fee: Amount,
    },
    /// Mempool policy, not consensus: a transfer of nothing only costs its sender the fee.
    ZeroAmount,
    /// Mempool policy, not consensus: the receiver is one of the small-order points (the
    /// all-zero address among them) that the signature rule refuses as a signer, so
    /// nothing sent there could ever be spent.
    UnspendableReceiver {
        receiver: Address,
    },
    /// A plain key-signed native transfer has one encoding, the original one.
    NeedlessExtension,
    /// A policy spend is authorised by its cosignatures; the key signature stays zero.
    StraySignature,
    BadThreshold {
        threshold: u8,
        members: usize,
    },
    PolicyMembersNotCanonical,
    PolicyMismatch,
    TooFewSignatures {
        got: usize,
        required: u8,
    },
    DuplicateSigner {
        signer: Address,
    },
    SignerNotMember {
        signer: Address,
    },
    InvalidSignerKey {
        signer: Address,
    },
    BadSymbol {
        symbol: String,
    },
    BadDecimals {
        decimals: u8,
    },
    ZeroSupply,
    IssueReceiverNotIssuer,
    IssueFeeTooLow {
        fee: Amount,
        min: Amount,
    },
    UnknownToken {
        token: TokenId,
    },
    InsufficientTokenBalance {
        balance: Amount,
        needed: Amount,
    },
    TokenBalanceOverflow,
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxError::MessageTooLong { bytes, max } => {
                write!(f, "message is {bytes} bytes, at most {max} allowed")
            }
            TxError::FeeTooLow { fee, min } => write!(f, "fee {fee} is below the minimum {min}"),
            TxError::AmountOverflow => write!(f, "amount + fee overflows a 64-bit integer"),
            TxError::InvalidSenderKey => write!(
                f,
                "sender is not a usable Ed25519 public key (not a curve point, or a small-order point anyone could sign for)"
            ),
            TxError::BadSignature => write!(
                f,
                "signature does not verify (wrong key, altered fields, or signed for another network)"
            ),
            TxError::NonceTooLow { nonce, expected } => write!(
                f,
                "nonce {nonce} already used, expected {expected} (replayed transaction?)"
            ),
            TxError::NonceTooHigh { nonce, expected } => {
                write!(f, "nonce {nonce} is ahead of the account, expected {expected}")
            }
            TxError::NonceExhausted => {
                write!(f, "the sender's account has used every possible nonce")
            }
            TxError::InsufficientBalance { balance, needed } => write!(
                f,
                "insufficient balance: {balance} available, {needed} needed for amount + fee"
            ),
            TxError::ReceiverBalanceOverflow => {
                write!(f, "receiver's balance would overflow a 64-bit integer")
            }
            TxError::AlreadyInMempool => write!(f, "transaction is already in the mempool"),
            TxError::NoncePending { nonce } => write!(
                f,
                "nonce {nonce} is already used by a transaction waiting in the mempool"
            ),
            TxError::MempoolFull { lowest_fee } => write!(
                f,
                "mempool is full: a fee above {lowest_fee} is needed to get in"
            ),
            TxError::ZeroAmount => write!(
                f,
                "amount is 0: the transfer would move nothing and only cost the fee \
                 (mempool policy)"
            ),
            TxError::UnspendableReceiver { receiver } => write!(
                f,
                "receiver {receiver} can never spend: it is a small-order point (such as \
                 the all-zero address of the genesis placeholder), which the signature rule \
                 refuses as a signer, so the coins would be lost (mempool policy)"
            ),
            TxError::NeedlessExtension => write!(
                f,
                "a key-signed native transfer must use the original transfer encoding"
            ),
            TxError::StraySignature => write!(
                f,
                "a multisig spend is signed by its cosignatures; its key signature must be zero"
            ),
            TxError::BadThreshold { threshold, members } => write!(
                f,
                "a {threshold}-of-{members} policy is not allowed: need 1 <= m <= n <= {}",
                super::policy::MAX_POLICY_MEMBERS
            ),
            TxError::PolicyMembersNotCanonical => write!(
                f,
                "policy members must be distinct and in ascending order"
            ),
            TxError::PolicyMismatch => {
                write!(f, "the revealed policy does not hash to the sender's address")
            }
            TxError::TooFewSignatures { got, required } => {
                write!(f, "{got} of {required} required signatures")
            }
            TxError::DuplicateSigner { signer } => {
                write!(f, "{} signed twice", signer.short())
            }
            TxError::SignerNotMember { signer } => {
                write!(f, "{} is not a member of the policy", signer.short())
            }
            TxError::InvalidSignerKey { signer } => write!(
                f,
                "signer {} is not a valid Ed25519 public key",
                signer.short()
            ),
            TxError::BadSymbol { symbol } => write!(
                f,
                "token symbol {symbol:?} must be 1-{} characters A-Z or 0-9",
                super::token::MAX_SYMBOL_LEN
            ),
            TxError::BadDecimals { decimals } => write!(
                f,
                "{decimals} decimals, at most {} allowed",
                super::token::MAX_DECIMALS
            ),
            TxError::ZeroSupply => write!(f, "a token's supply must be positive"),
            TxError::IssueReceiverNotIssuer => write!(
                f,
                "an issue credits its supply to the issuer: receiver must equal sender"
            ),
            TxError::IssueFeeTooLow { fee, min } => write!(
                f,
                "fee {fee} is below {min}, the minimum fee plus the token issue fee"
            ),
            TxError::UnknownToken { token } => write!(f, "token {} does not exist", token.short()),
            TxError::InsufficientTokenBalance { balance, needed } => write!(
                f,
                "insufficient token balance: {balance} available, {needed} needed"
            ),
            TxError::TokenBalanceOverflow => {
                write!(f, "receiver's token balance would overflow a 64-bit integer")
            }
        }
    }
}

impl std::error::Error for TxError {}

/// Why a block is invalid (or, for `UnknownParent`, cannot be checked yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockError {
    UnknownParent {
        parent: BlockHash,
    },
    DescendsFromInvalid {
        ancestor: BlockHash,
    },
    /// Found invalid before (and remembered): refused by a lookup, not checked again.
    KnownInvalid {
        hash: BlockHash,
        reason: Box<BlockError>,
    },
    BadVersion {
        version: u32,
    },
    BadHeight {
        expected: u64,
        got: u64,
    },
    BadTarget {
        expected: CompactTarget,
        got: CompactTarget,
    },
    InvalidTarget(CompactTargetError),
    InsufficientProofOfWork {
        hash: BlockHash,
    },
    TimestampNotAfterMedian {
        timestamp: u64,
        median: u64,
    },
    TimestampTooFarInFuture {
        timestamp: u64,
        limit: u64,
    },
    TooManyTransactions {
        count: usize,
        max: u32,
    },
    TooLarge {
        bytes: usize,
        max: u64,
    },
    RewardHeightMismatch {
        header: u64,
        reward: u64,
    },
    BadMerkleRoot,
    DuplicateTransaction {
        txid: TxId,
    },
    InvalidTransaction {
        index: usize,
        txid: TxId,
        error: TxError,
    },
    FeeOverflow,
    /// The chain's cumulative work up to this block passes 2^256 - 1: unreachable with
    /// any real proof of work, but a consensus sum must not wrap or stand still silently.
    WorkOverflow,
    BadReward {
        expected: Amount,
        got: Amount,
    },
    /// A block we hold, offered with a body its header does not commit to: the sender's
    /// forgery, never a reason to doubt the block we hold.
    OtherBodyForKnownBlock {
        hash: BlockHash,
    },
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockError::UnknownParent { parent } => {
                write!(f, "parent block {} is unknown", parent.short())
            }
            BlockError::DescendsFromInvalid { ancestor } => {
                write!(f, "builds on invalid block {}", ancestor.short())
            }
            BlockError::KnownInvalid { hash, reason } => write!(
                f,
                "block {} was found invalid before ({reason}); not checked again",
                hash.short()
            ),
            BlockError::BadVersion { version } => write!(f, "unknown block version {version}"),
            BlockError::BadHeight { expected, got } => {
                write!(
                    f,
                    "height {got} does not follow its parent, expected {expected}"
                )
            }
            BlockError::BadTarget { expected, got } => write!(
                f,
                "target {:#010x} is not the expected {:#010x}",
                got.to_consensus(),
                expected.to_consensus()
            ),
            BlockError::InvalidTarget(error) => write!(f, "invalid compact target: {error}"),
            BlockError::InsufficientProofOfWork { hash } => {
                write!(
                    f,
                    "hash {} does not meet its target (bad proof of work)",
                    hash.short()
                )
            }
            BlockError::TimestampNotAfterMedian { timestamp, median } => write!(
                f,
                "timestamp {timestamp} not after median of last 11 blocks ({median})"
            ),
            BlockError::TimestampTooFarInFuture { timestamp, limit } => write!(
                f,
                "timestamp {timestamp} is too far in the future (limit {limit})"
            ),
            BlockError::TooManyTransactions { count, max } => {
                write!(f, "{count} transactions, at most {max} allowed")
            }
            BlockError::TooLarge { bytes, max } => {
                write!(f, "block is {bytes} bytes, at most {max} allowed")
            }
            BlockError::RewardHeightMismatch { header, reward } => write!(
                f,
                "reward record names height {reward} but the header has {header}"
            ),
            BlockError::BadMerkleRoot => {
                write!(f, "merkle root does not match the block's transactions")
            }
            BlockError::DuplicateTransaction { txid } => {
                write!(f, "transaction {} appears twice", txid.short())
            }
            BlockError::InvalidTransaction { index, txid, error } => {
                write!(
                    f,
                    "transaction {index} ({}) is invalid: {error}",
                    txid.short()
                )
            }
            BlockError::FeeOverflow => write!(f, "sum of fees overflows a 64-bit integer"),
            BlockError::WorkOverflow => {
                write!(f, "cumulative work overflows a 256-bit integer")
            }
            BlockError::BadReward { expected, got } => write!(
                f,
                "reward record pays {got}, expected block reward + fees = {expected}"
            ),
            BlockError::OtherBodyForKnownBlock { hash } => write!(
                f,
                "block {} is known here, but this body is not the one its header commits to",
                hash.short()
            ),
        }
    }
}

impl std::error::Error for BlockError {}

impl BlockError {
    /// Whether the block itself breaks a rule, as opposed to not being checkable yet
    /// (unknown parent) or only being early (timestamp ahead of our clock). Peers are
    /// penalised only for invalid blocks.
    pub fn is_invalid(&self) -> bool {
        !matches!(
            self,
            BlockError::UnknownParent { .. } | BlockError::TimestampTooFarInFuture { .. }
        )
    }
}
