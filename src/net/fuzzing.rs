//! What the fuzz targets (`fuzz/`, the book's Operating › Fuzzing) and the decoder property
//! test share: one valid message of every kind, built from real keys, a sealed block and a
//! real merkle proof (the seeds, instead of hand-typed bytes, so they stay valid as the
//! message types change), and a driver that decodes a byte stream the way a connection
//! reads it.

use super::frame::{Decoded, FrameCodec};
use super::message::{
    BlockRef, Message, PeerHello, PeerInfo, PlacedBlock, TokenHolding, TxEntryWire, TxStatus,
    MAX_ADDRS_PER_REPLY, PROTOCOL_VERSION,
};
use crate::chain::blockchain::BlockPlace;
use crate::chain::state::{Account, TokenInfo};
use crate::consensus::amount::Amount;
use crate::consensus::block::{Block, BlockHeader, BLOCK_VERSION};
use crate::consensus::merkle;
use crate::consensus::params::ChainParams;
use crate::consensus::token::token_id;
use crate::consensus::transaction::{Reward, Transaction, UnsignedTransaction};
use crate::testkit;
use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// The frame codec a node of the samples' network decodes with.
pub fn sample_codec() -> FrameCodec {
    FrameCodec::for_network(sample_params().max_block_txs as usize)
}

/// Decodes every frame of `stream` with `codec` as a connection does when the bytes arrive
/// `chunk` at a time (at least 1): each item is a message, or the reason a frame (or, at
/// the end, an incomplete frame) was refused. A stream error ends the list, as it ends a
/// connection.
pub fn decode_stream(
    mut codec: FrameCodec,
    stream: &[u8],
    chunk: usize,
) -> Vec<Result<Message, String>> {
    let mut buffer = BytesMut::new();
    let mut items = Vec::new();
    let mut push = |decoded: Decoded| {
        items.push(match decoded {
            Decoded::Message(message) => Ok(*message),
            Decoded::Malformed(reason) => Err(reason),
        })
    };
    for piece in stream.chunks(chunk.max(1)) {
        buffer.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buffer) {
                Ok(Some(decoded)) => push(decoded),
                Ok(None) => break,
                Err(error) => {
                    items.push(Err(error.to_string()));
                    return items;
                }
            }
        }
    }
    match codec.decode_eof(&mut buffer) {
        Ok(Some(decoded)) => push(decoded),
        Ok(None) => {}
        Err(error) => items.push(Err(error.to_string())),
    }
    items
}

/// A short stable name for each kind of message (the file name of its seed). The match has
/// no catch-all arm, so a new message kind does not compile until it is named here, which
/// is the reminder to give it a sample in [`every_kind`] too.
pub fn kind_name(message: &Message) -> &'static str {
    match message {
        Message::HelloPeer(_) => "hello_peer",
        Message::HelloClient { .. } => "hello_client",
        Message::Welcome { .. } => "welcome",
        Message::Reject { .. } => "reject",
        Message::GetBlocks { .. } => "get_blocks",
        Message::Blocks { .. } => "blocks",
        Message::NewBlock(_) => "new_block",
        Message::NewTx(_) => "new_tx",
        Message::GetAddrs => "get_addrs",
        Message::Addrs(_) => "addrs",
        Message::Ping { .. } => "ping",
        Message::Pong { .. } => "pong",
        Message::GetTip => "get_tip",
        Message::Tip { .. } => "tip",
        Message::GetAccount(_) => "get_account",
        Message::Account { .. } => "account",
        Message::GetToken(_) => "get_token",
        Message::TokenReply(_) => "token_reply",
        Message::SubmitTx(_) => "submit_tx",
        Message::TxAccepted(_) => "tx_accepted",
        Message::TxRejected { .. } => "tx_rejected",
        Message::GetBlock(_) => "get_block",
        Message::BlockReply(_) => "block_reply",
        Message::GetTx(_) => "get_tx",
        Message::TxReply(_) => "tx_reply",
        Message::GetPeers => "get_peers",
        Message::Peers(_) => "peers",
        Message::FindTxs(_) => "find_txs",
        Message::TxMatches(_) => "tx_matches",
        Message::FindBlocks(_) => "find_blocks",
        Message::BlockMatches(_) => "block_matches",
        Message::GetPlacedBlock(_) => "get_placed_block",
        Message::PlacedBlockReply(_) => "placed_block_reply",
    }
}

/// The test network the samples belong to: testkit parameters with one funded account.
pub fn sample_params() -> ChainParams {
    testkit::params(&[(testkit::address(1), 1_000_000)])
}

/// A signed transfer from the funded account, valid on [`sample_params`]'s genesis.
pub fn sample_transfer(params: &ChainParams) -> Transaction {
    UnsignedTransaction {
        receiver: testkit::address(2),
        amount: Amount::new(250),
        fee: Amount::new(2),
        nonce: 0,
        message: "seed".into(),
    }
    .sign(&testkit::key(1), &sample_genesis(params).hash())
}

/// The genesis block of the sample parameters (a fixed, encodable value: a failure here
/// is a bug in this module, not an input to report).
fn sample_genesis(params: &ChainParams) -> Block {
    params
        .genesis_block()
        .expect("the sample chain parameters encode")
}

/// A valid block at height 1 of [`sample_params`]'s chain carrying `txs`.
pub fn sample_block(params: &ChainParams, txs: Vec<Transaction>) -> Block {
    let genesis = sample_genesis(params);
    let reward = Amount::checked_sum(txs.iter().map(|tx| tx.fee))
        .and_then(|fees| params.block_reward.checked_add(fees))
        .unwrap_or(Amount::MAX);
    let mut block = Block {
        header: BlockHeader {
            version: BLOCK_VERSION,
            height: 1,
            prev: genesis.hash(),
            merkle_root: Default::default(),
            timestamp_ms: genesis.header.timestamp_ms + params.target_block_time_ms,
            target: genesis.header.target,
            nonce: 0,
        },
        reward: Reward {
            miner: testkit::address(3),
            amount: reward,
            height: 1,
        },
        txs,
    };
    testkit::seal(&mut block);
    block
}

/// One message of every kind, with its [`kind_name`].
pub fn every_kind() -> Vec<(&'static str, Message)> {
    let params = sample_params();
    let genesis = sample_genesis(&params);
    let tx = sample_transfer(&params);
    let block = sample_block(&params, vec![tx.clone()]);
    let hash = block.hash();
    let work = genesis
        .header
        .target
        .to_target()
        .map(|target| target.work())
        .unwrap_or_default();
    let leaves = block.leaf_ids();
    let confirmed =
        merkle::prove(&leaves, 1).map_or(TxStatus::NotFound, |proof| TxStatus::Confirmed {
            entry: TxEntryWire::Transfer(tx.clone()),
            block_hash: hash,
            header: block.header,
            proof,
        });
    let messages = vec![
        Message::HelloPeer(PeerHello {
            version: PROTOCOL_VERSION,
            genesis: genesis.hash(),
            best_height: 1,
            best_hash: hash,
            work,
            listen_port: 1111,
            node_id: 42,
        }),
        Message::HelloClient {
            version: PROTOCOL_VERSION,
        },
        Message::Welcome {
            version: PROTOCOL_VERSION,
            genesis: genesis.hash(),
        },
        Message::Reject {
            reason: "genesis mismatch".into(),
        },
        Message::GetBlocks {
            locator: vec![hash, genesis.hash()],
        },
        Message::Blocks {
            blocks: vec![block.clone()],
            more: false,
        },
        Message::NewBlock(block.clone()),
        Message::NewTx(tx.clone()),
        Message::GetAddrs,
        Message::Addrs(
            (0..MAX_ADDRS_PER_REPLY.min(3))
                .map(|i| format!("127.0.0.{}:1111", i + 2))
                .collect(),
        ),
        Message::Ping { nonce: 7 },
        Message::Pong {
            nonce: 7,
            best_height: 1,
            work,
        },
        Message::GetTip,
        Message::Tip {
            height: 1,
            hash,
            work,
            difficulty_bits: 1,
            timestamp_ms: block.header.timestamp_ms,
        },
        Message::GetAccount(testkit::address(1)),
        Message::Account {
            address: testkit::address(1),
            account: Account {
                balance: Amount::new(1_000_000),
                nonce: 0,
            },
            next_nonce: 1,
            tokens: vec![TokenHolding {
                token: token_id(&testkit::address(1), 0),
                symbol: "GOLD".into(),
                decimals: 2,
                balance: Amount::new(1_000),
            }],
        },
        Message::GetToken(token_id(&testkit::address(1), 0)),
        Message::TokenReply(Some(TokenInfo {
            symbol: "GOLD".into(),
            decimals: 2,
            supply: Amount::new(1_000),
            issuer: testkit::address(1),
            issue_txid: tx.id(),
        })),
        Message::SubmitTx(tx.clone()),
        Message::TxAccepted(tx.id()),
        Message::TxRejected {
            reason: "fee below the minimum".into(),
        },
        Message::GetBlock(BlockRef::Height(1)),
        Message::BlockReply(Some(block.clone())),
        Message::GetTx(tx.id()),
        Message::TxReply(Box::new(confirmed)),
        Message::GetPeers,
        Message::Peers(vec![PeerInfo {
            addr: "127.0.0.2:1111".into(),
            inbound: true,
            best_height: 1,
        }]),
        Message::FindTxs(tx.id().to_string()[..8].to_string()),
        Message::TxMatches(vec![tx.id()]),
        Message::FindBlocks(hash.to_string()[..8].to_string()),
        Message::BlockMatches(vec![hash]),
        Message::GetPlacedBlock(BlockRef::Hash(hash)),
        Message::PlacedBlockReply(Some(Box::new(PlacedBlock {
            block: block.clone(),
            place: BlockPlace {
                active: true,
                confirmations: 1,
                next: None,
            },
        }))),
    ];
    messages
        .into_iter()
        .map(|message| (kind_name(&message), message))
        .collect()
}
