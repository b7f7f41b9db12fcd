//! Every message of the wire protocol, for peers and clients alike (the book's
//! Protocol and rules › Wire protocol, `docs/src/protocol/wire.md`).
//!
//! The first message on a connection is a hello naming the role: [`Message::HelloPeer`]
//! or [`Message::HelloClient`]. Requests from clients get exactly one reply each; peer
//! messages are mostly one-way gossip.

use crate::chain::blockchain::BlockPlace;
use crate::chain::id_prefix::MAX_PREFIX_MATCHES;
use crate::chain::state::{Account, TokenInfo};
use crate::consensus::address::Address;
use crate::consensus::amount::Amount;
use crate::consensus::block::{Block, BlockHeader};
use crate::consensus::bounded::at_most;
use crate::consensus::hash::{BlockHash, TokenId, TxId};
use crate::consensus::merkle::MerkleProof;
use crate::consensus::target::Work;
use crate::consensus::transaction::{Reward, Transaction};
use serde::{Deserialize, Deserializer, Serialize};

/// Bumped on incompatible changes; peers with another version are refused.
pub const PROTOCOL_VERSION: u32 = 1;
/// Most blocks in one sync batch. Each batch is one store commit (with its fsync) and one
/// round trip, so larger batches sync faster: 500 gave ~19,000 empty blocks/s, 2,000 gives
/// ~27,000 (CHANGELOG.md, 2026-11-24). The chain actor is busy for one batch at a time, ~70 ms at
/// this size; blocks full of transactions are bounded by `MAX_BATCH_BYTES` instead.
pub const MAX_BLOCKS_PER_BATCH: usize = 2000;
/// Approximate byte budget of one sync batch (below the frame limit).
pub const MAX_BATCH_BYTES: usize = 2 << 20;
/// Most locator hashes a `GetBlocks` is read for (ours have about 10 + log2(height)).
pub const MAX_LOCATOR: usize = 64;
/// Most addresses in one address-gossip reply.
pub const MAX_ADDRS_PER_REPLY: usize = 100;

// Every list a peer sends is capped while it is decoded (see `consensus::bounded`): a
// frame announcing 100,000 locator hashes is refused from its length alone.
fn locator<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<BlockHash>, D::Error> {
    at_most(deserializer, MAX_LOCATOR, "locator hashes")
}

fn batch<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Block>, D::Error> {
    at_most(deserializer, MAX_BLOCKS_PER_BATCH, "blocks in a batch")
}

fn addrs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    at_most(deserializer, MAX_ADDRS_PER_REPLY, "addresses")
}

fn tx_matches<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<TxId>, D::Error> {
    at_most(deserializer, MAX_PREFIX_MATCHES, "prefix matches")
}

fn block_matches<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<BlockHash>, D::Error> {
    at_most(deserializer, MAX_PREFIX_MATCHES, "prefix matches")
}

/// A peer's introduction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerHello {
    pub version: u32,
    pub genesis: BlockHash,
    pub best_height: u64,
    pub best_hash: BlockHash,
    pub work: Work,
    /// The port the peer accepts connections on, so others can dial it.
    pub listen_port: u16,
    /// Random per process, to detect connecting to oneself.
    pub node_id: u64,
}

/// One token balance of an account, with what a person needs to read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHolding {
    pub token: TokenId,
    pub symbol: String,
    pub decimals: u8,
    pub balance: Amount,
}

/// A block by height on the active chain, or by hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockRef {
    Height(u64),
    Hash(BlockHash),
}

/// A block with where it stands against the sender's active chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedBlock {
    pub block: Block,
    pub place: BlockPlace,
}

/// A transaction (or reward record) with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxStatus {
    /// In an active-chain block; `proof` links its id to `header.merkle_root`.
    Confirmed {
        entry: TxEntryWire,
        block_hash: BlockHash,
        header: BlockHeader,
        proof: MerkleProof,
    },
    Pending(Transaction),
    NotFound,
}

/// A merkle leaf: the reward record or a transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxEntryWire {
    Reward(Reward),
    Transfer(Transaction),
}

impl TxEntryWire {
    /// The leaf id the merkle proof is about.
    pub fn id(&self) -> TxId {
        match self {
            TxEntryWire::Reward(reward) => reward.id(),
            TxEntryWire::Transfer(tx) => tx.id(),
        }
    }
}

/// One connected peer, as reported to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    pub addr: String,
    pub inbound: bool,
    pub best_height: u64,
}

impl Message {
    /// The variant's name ("Tip", "Peers"), for reasons and logs.
    pub fn variant_name(&self) -> String {
        let debug = format!("{self:?}");
        debug
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("message")
            .to_string()
    }
}

/// Every message that crosses a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    // Handshake.
    HelloPeer(PeerHello),
    HelloClient {
        version: u32,
    },
    /// The node's answer to a client hello.
    Welcome {
        version: u32,
        genesis: BlockHash,
    },
    /// Why the last message was refused; sent before disconnecting where possible.
    Reject {
        reason: String,
    },

    // Peer gossip and sync.
    /// Blocks after the first locator hash the receiver shares.
    GetBlocks {
        #[serde(deserialize_with = "locator")]
        locator: Vec<BlockHash>,
    },
    /// A sync batch; `more` says the sender has further blocks after these.
    Blocks {
        #[serde(deserialize_with = "batch")]
        blocks: Vec<Block>,
        more: bool,
    },
    /// A newly connected block, relayed.
    NewBlock(Block),
    /// A transaction the sender's mempool accepted, relayed.
    NewTx(Transaction),
    GetAddrs,
    Addrs(#[serde(deserialize_with = "addrs")] Vec<String>),
    Ping {
        nonce: u64,
    },
    Pong {
        nonce: u64,
        best_height: u64,
        work: Work,
    },

    // Requests from clients (and peers).
    GetTip,
    Tip {
        height: u64,
        hash: BlockHash,
        work: Work,
        difficulty_bits: u32,
        timestamp_ms: u64,
    },
    GetAccount(Address),
    Account {
        address: Address,
        account: Account,
        /// Counting transactions waiting in the mempool.
        next_nonce: u64,
        /// The account's nonzero token balances, by token id.
        #[serde(default)]
        tokens: Vec<TokenHolding>,
    },
    GetToken(TokenId),
    TokenReply(Option<TokenInfo>),
    SubmitTx(Transaction),
    TxAccepted(TxId),
    TxRejected {
        reason: String,
    },
    GetBlock(BlockRef),
    BlockReply(Option<Block>),
    GetTx(TxId),
    TxReply(Box<TxStatus>),
    GetPeers,
    Peers(Vec<PeerInfo>),
    /// Ids of transactions on the active chain or in the mempool that start with a
    /// prefix of hex digits ([`IdPrefix`](crate::chain::id_prefix::IdPrefix)); the
    /// reply lists the first [`MAX_PREFIX_MATCHES`] in order.
    FindTxs(String),
    TxMatches(#[serde(deserialize_with = "tx_matches")] Vec<TxId>),
    /// Hashes of blocks in the node's block tree that start with a prefix.
    FindBlocks(String),
    BlockMatches(#[serde(deserialize_with = "block_matches")] Vec<BlockHash>),
    /// A block as [`Message::GetBlock`] finds it, with whether it is on the active chain,
    /// its confirmations and the next block: what `ironchain block` shows.
    GetPlacedBlock(BlockRef),
    PlacedBlockReply(Option<Box<PlacedBlock>>),
}
