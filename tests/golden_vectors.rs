//! Golden vectors of every consensus and wire encoding (issue 11 item 27): the 96-byte
//! header, a transaction's encoding and id, the default genesis hash, an address with its
//! checksum, and one frame (length prefix + CBOR) of each message kind.
//!
//! The hex literals were derived once from the code and checked against the layouts that
//! the book (Protocol and rules › Encodings) and the modules' documentation state. Any
//! change to an `encode()`, to a serde derive of a wire type, or to the default chain
//! parameters fails here loudly, naming the vector: such a change splits the network, so it
//! must be deliberate (and then the vector is updated in the same commit, with the reason).
//! `PRINT_GOLDEN=1 cargo test --test golden_vectors -- --nocapture` prints the frames as
//! the code encodes them now.

use ironchain::chain::blockchain::BlockPlace;
use ironchain::chain::state::{Account, TokenInfo};
use ironchain::config::Config;
use ironchain::consensus::address::Address;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::block::{Block, BlockHeader, HEADER_SIZE};
use ironchain::consensus::hash::{sha256, to_hex, BlockHash, MerkleRoot, TokenId, TxId};
use ironchain::consensus::merkle::MerkleProof;
use ironchain::consensus::target::{CompactTarget, Target};
use ironchain::consensus::transaction::Reward;
use ironchain::net::frame::encode_frame;
use ironchain::net::message::{
    BlockRef, Message, PeerHello, PeerInfo, PlacedBlock, TokenHolding, TxEntryWire, TxStatus,
};
use ironchain::testkit::{address, key, transfer};

/// Distinct, recognisable values in every field, so a swapped or resized field shows.
fn header() -> BlockHeader {
    BlockHeader {
        version: 1,
        height: 0x0102_0304_0506_0708,
        prev: BlockHash::from_bytes([0xaa; 32]),
        merkle_root: MerkleRoot::from_bytes([0xbb; 32]),
        timestamp_ms: 1_700_000_000_123,
        target: CompactTarget::from_consensus(0x1d00_ffff),
        nonce: 0xdead_beef_0bad_f00d,
    }
}

const HEADER_HEX: &str = "000000010102030405060708aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb0000018bcfe5687b1d00ffffdeadbeef0badf00d";

#[test]
fn header_encoding_is_the_documented_96_bytes() {
    let encoded = header().encode();
    assert_eq!(encoded.len(), HEADER_SIZE);
    assert_eq!(to_hex(&encoded), HEADER_HEX);
    // The layout of the book's Protocol and rules › Encodings and consensus/block.rs, field
    // by field, big-endian.
    assert_eq!(&encoded[0..4], &1u32.to_be_bytes(), "version at 0");
    assert_eq!(
        &encoded[4..12],
        &0x0102_0304_0506_0708u64.to_be_bytes(),
        "height at 4"
    );
    assert_eq!(&encoded[12..44], &[0xaa; 32], "previous hash at 12");
    assert_eq!(&encoded[44..76], &[0xbb; 32], "merkle root at 44");
    assert_eq!(
        &encoded[76..84],
        &1_700_000_000_123u64.to_be_bytes(),
        "timestamp at 76"
    );
    assert_eq!(
        &encoded[84..88],
        &0x1d00_ffffu32.to_be_bytes(),
        "target at 84"
    );
    assert_eq!(
        &encoded[88..96],
        &0xdead_beef_0bad_f00du64.to_be_bytes(),
        "nonce at 88"
    );
    // Block hash = SHA-256 of the header bytes.
    assert_eq!(header().hash().as_bytes(), &sha256(&encoded));
}

const TRANSFER_HEX: &str = "287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f800000000000003e800000000000000070000000000000003000081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c64861906";
const TXID_HEX: &str = "8f1a46b69a9ceeb349c23c14f6eb171d597077faee078645b15f267a45942d8d";

fn sample_transfer() -> ironchain::consensus::transaction::Transaction {
    transfer(
        &key(1),
        address(2),
        1_000,
        7,
        3,
        &BlockHash::from_bytes([0x11; 32]),
    )
}

#[test]
fn transfer_encoding_and_txid() {
    let tx = sample_transfer();
    let encoded = tx.encode();
    assert_eq!(to_hex(&encoded), TRANSFER_HEX);
    // sender 32 | receiver 32 | amount u64 | fee u64 | nonce u64 | length u16 | message | signature 64
    assert_eq!(&encoded[0..32], address(1).as_bytes());
    assert_eq!(&encoded[32..64], address(2).as_bytes());
    assert_eq!(&encoded[64..72], &1_000u64.to_be_bytes());
    assert_eq!(&encoded[72..80], &7u64.to_be_bytes());
    assert_eq!(&encoded[80..88], &3u64.to_be_bytes());
    assert_eq!(&encoded[88..90], &0u16.to_be_bytes());
    assert_eq!(&encoded[90..], tx.signature.as_bytes());
    // Transaction id = SHA-256 of the whole encoding, signature included (the book's
    // Protocol and rules › Encodings).
    assert_eq!(tx.id().as_bytes(), &sha256(&encoded));
    assert_eq!(tx.id().to_string(), TXID_HEX);
}

const DEFAULT_GENESIS_HEX: &str =
    "3fb6c36efa3db4eb3b8c8551fbeed408a9d94290f4f998b361c2fb6a8ea44579";

#[test]
fn default_genesis_hash() {
    let genesis = Config::embedded().chain.genesis_block().unwrap();
    assert_eq!(genesis.hash().to_string(), DEFAULT_GENESIS_HEX);
}

const ADDRESS_TEXT: &str =
    "ic287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07aba53f532f";

#[test]
fn address_text_with_checksum() {
    let text = address(1).to_string();
    assert_eq!(text, ADDRESS_TEXT);
    // `ic` + 64 hex digits of the key + 8 of SHA-256("ironchain-address" ‖ key).
    assert_eq!(&text[2..66], to_hex(address(1).as_bytes()));
    let mut checksummed = b"ironchain-address".to_vec();
    checksummed.extend_from_slice(address(1).as_bytes());
    assert_eq!(&text[66..], to_hex(&sha256(&checksummed)[..4]));
    assert_eq!(text.parse::<Address>(), Ok(address(1)));
}

/// A small block: a reward record and one transfer.
fn sample_block() -> Block {
    let tx = sample_transfer();
    Block {
        header: header(),
        reward: Reward {
            miner: address(9),
            amount: Amount::new(57),
            height: 5,
        },
        txs: vec![tx],
    }
}

/// The name of a message's kind. The match has no catch-all, so a new kind does not
/// compile until it is given a golden frame below.
fn kind(message: &Message) -> &'static str {
    match message {
        Message::HelloPeer(_) => "HelloPeer",
        Message::HelloClient { .. } => "HelloClient",
        Message::Welcome { .. } => "Welcome",
        Message::Reject { .. } => "Reject",
        Message::GetBlocks { .. } => "GetBlocks",
        Message::Blocks { .. } => "Blocks",
        Message::NewBlock(_) => "NewBlock",
        Message::NewTx(_) => "NewTx",
        Message::GetAddrs => "GetAddrs",
        Message::Addrs(_) => "Addrs",
        Message::Ping { .. } => "Ping",
        Message::Pong { .. } => "Pong",
        Message::GetTip => "GetTip",
        Message::Tip { .. } => "Tip",
        Message::GetAccount(_) => "GetAccount",
        Message::Account { .. } => "Account",
        Message::GetToken(_) => "GetToken",
        Message::TokenReply(_) => "TokenReply",
        Message::SubmitTx(_) => "SubmitTx",
        Message::TxAccepted(_) => "TxAccepted",
        Message::TxRejected { .. } => "TxRejected",
        Message::GetBlock(_) => "GetBlock",
        Message::BlockReply(_) => "BlockReply",
        Message::GetTx(_) => "GetTx",
        Message::TxReply(_) => "TxReply",
        Message::GetPeers => "GetPeers",
        Message::Peers(_) => "Peers",
        Message::FindTxs(_) => "FindTxs",
        Message::TxMatches(_) => "TxMatches",
        Message::FindBlocks(_) => "FindBlocks",
        Message::BlockMatches(_) => "BlockMatches",
        Message::GetPlacedBlock(_) => "GetPlacedBlock",
        Message::PlacedBlockReply(_) => "PlacedBlockReply",
    }
}

fn sample_messages() -> Vec<Message> {
    let genesis = BlockHash::from_bytes([0x11; 32]);
    let work = Target::MAX.work();
    let token = TokenId::from_bytes([0x22; 32]);
    vec![
        Message::HelloPeer(PeerHello {
            version: 1,
            genesis,
            best_height: 42,
            best_hash: BlockHash::from_bytes([0x33; 32]),
            work,
            listen_port: 1111,
            node_id: 0x0123_4567_89ab_cdef,
        }),
        Message::HelloClient { version: 1 },
        Message::Welcome {
            version: 1,
            genesis,
        },
        Message::Reject {
            reason: "genesis mismatch".into(),
        },
        Message::GetBlocks {
            locator: vec![genesis, BlockHash::from_bytes([0x33; 32])],
        },
        Message::Blocks {
            blocks: vec![sample_block()],
            more: true,
        },
        Message::NewBlock(sample_block()),
        Message::NewTx(sample_transfer()),
        Message::GetAddrs,
        Message::Addrs(vec!["127.0.0.2:1111".into()]),
        Message::Ping { nonce: 7 },
        Message::Pong {
            nonce: 7,
            best_height: 42,
            work,
        },
        Message::GetTip,
        Message::Tip {
            height: 42,
            hash: genesis,
            work,
            difficulty_bits: 20,
            timestamp_ms: 1_700_000_000_123,
        },
        Message::GetAccount(address(1)),
        Message::Account {
            address: address(1),
            account: Account {
                balance: Amount::new(1_000),
                nonce: 3,
            },
            next_nonce: 4,
            tokens: vec![TokenHolding {
                token,
                symbol: "GOLD".into(),
                decimals: 2,
                balance: Amount::new(250),
            }],
        },
        Message::GetToken(token),
        Message::TokenReply(Some(TokenInfo {
            symbol: "GOLD".into(),
            decimals: 2,
            supply: Amount::new(1_000_000),
            issuer: address(1),
            issue_txid: TxId::from_bytes([0x44; 32]),
        })),
        Message::SubmitTx(sample_transfer()),
        Message::TxAccepted(sample_transfer().id()),
        Message::TxRejected {
            reason: "fee 0 below the minimum 1".into(),
        },
        Message::GetBlock(BlockRef::Height(5)),
        Message::BlockReply(Some(sample_block())),
        Message::GetTx(sample_transfer().id()),
        Message::TxReply(Box::new(TxStatus::Confirmed {
            entry: TxEntryWire::Transfer(sample_transfer()),
            block_hash: header().hash(),
            header: header(),
            proof: MerkleProof {
                index: 1,
                leaf_count: 2,
                siblings: vec![TxId::from_bytes([0x55; 32])],
            },
        })),
        Message::GetPeers,
        Message::Peers(vec![PeerInfo {
            addr: "127.0.0.2:1111".into(),
            inbound: false,
            best_height: 42,
        }]),
        Message::FindTxs("8f1a46b6".into()),
        Message::TxMatches(vec![sample_transfer().id()]),
        Message::FindBlocks("3fb6c36e".into()),
        Message::BlockMatches(vec![header().hash()]),
        Message::GetPlacedBlock(BlockRef::Height(5)),
        Message::PlacedBlockReply(Some(Box::new(PlacedBlock {
            block: sample_block(),
            place: BlockPlace {
                active: true,
                confirmations: 3,
                next: Some(BlockHash::from_bytes([0x66; 32])),
            },
        }))),
    ]
}

/// (kind, frame as hex) in the order of [`sample_messages`].
const FRAMES: &[(&str, &str)] = &[
    (
        "HelloPeer",
        "000000c0a16948656c6c6f50656572a76776657273696f6e016767656e65736973582011111111111111111111111111111111111111111111111111111111111111116b626573745f686569676874182a69626573745f686173685820333333333333333333333333333333333333333333333333333333333333333364776f726b982000000000000000000000000000000000000000000000000000000000000000016b6c697374656e5f706f7274190457676e6f64655f69641b0123456789abcdef",
    ),
    (
        "HelloClient",
        "00000017a16b48656c6c6f436c69656e74a16776657273696f6e01",
    ),
    (
        "Welcome",
        "0000003da16757656c636f6d65a26776657273696f6e016767656e6573697358201111111111111111111111111111111111111111111111111111111111111111",
    ),
    (
        "Reject",
        "00000021a16652656a656374a166726561736f6e7067656e65736973206d69736d61746368",
    ),
    (
        "GetBlocks",
        "00000059a169476574426c6f636b73a1676c6f6361746f72825820111111111111111111111111111111111111111111111111111111111111111158203333333333333333333333333333333333333333333333333333333333333333",
    ),
    (
        "Blocks",
        "000001c5a166426c6f636b73a266626c6f636b7381a366686561646572a76776657273696f6e01666865696768741b010203040506070864707265765820aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6b6d65726b6c655f726f6f745820bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb6c74696d657374616d705f6d731b0000018bcfe5687b667461726765741a1d00ffff656e6f6e63651bdeadbeef0badf00d66726577617264a3656d696e65725820db55cabfcdce00a9821eb2d573fed611552a89c0820cfdb6b823063158de4ebd66616d6f756e74183966686569676874056374787381a76673656e6465725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6872656365697665725820908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f866616d6f756e741903e86366656507656e6f6e636503676d65737361676560697369676e6174757265584081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c64861906646d6f7265f5",
    ),
    (
        "NewBlock",
        "000001b8a1684e6577426c6f636ba366686561646572a76776657273696f6e01666865696768741b010203040506070864707265765820aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6b6d65726b6c655f726f6f745820bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb6c74696d657374616d705f6d731b0000018bcfe5687b667461726765741a1d00ffff656e6f6e63651bdeadbeef0badf00d66726577617264a3656d696e65725820db55cabfcdce00a9821eb2d573fed611552a89c0820cfdb6b823063158de4ebd66616d6f756e74183966686569676874056374787381a76673656e6465725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6872656365697665725820908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f866616d6f756e741903e86366656507656e6f6e636503676d65737361676560697369676e6174757265584081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c64861906",
    ),
    (
        "NewTx",
        "000000c7a1654e65775478a76673656e6465725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6872656365697665725820908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f866616d6f756e741903e86366656507656e6f6e636503676d65737361676560697369676e6174757265584081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c64861906",
    ),
    (
        "GetAddrs",
        "00000009684765744164647273",
    ),
    (
        "Addrs",
        "00000017a1654164647273816e3132372e302e302e323a31313131",
    ),
    (
        "Ping",
        "0000000ea16450696e67a1656e6f6e636507",
    ),
    (
        "Pong",
        "00000043a164506f6e67a3656e6f6e6365076b626573745f686569676874182a64776f726b98200000000000000000000000000000000000000000000000000000000000000001",
    ),
    (
        "GetTip",
        "0000000766476574546970",
    ),
    (
        "Tip",
        "00000084a163546970a566686569676874182a64686173685820111111111111111111111111111111111111111111111111111111111111111164776f726b982000000000000000000000000000000000000000000000000000000000000000016f646966666963756c74795f62697473146c74696d657374616d705f6d731b0000018bcfe5687b",
    ),
    (
        "GetAccount",
        "0000002ea16a4765744163636f756e745820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab",
    ),
    (
        "Account",
        "000000aca1674163636f756e74a467616464726573735820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab676163636f756e74a26762616c616e63651903e8656e6f6e6365036a6e6578745f6e6f6e63650466746f6b656e7381a465746f6b656e582022222222222222222222222222222222222222222222222222222222222222226673796d626f6c64474f4c4468646563696d616c73026762616c616e636518fa",
    ),
    (
        "GetToken",
        "0000002ca168476574546f6b656e58202222222222222222222222222222222222222222222222222222222222222222",
    ),
    (
        "TokenReply",
        "00000085a16a546f6b656e5265706c79a56673796d626f6c64474f4c4468646563696d616c730266737570706c791a000f4240666973737565725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6a69737375655f7478696458204444444444444444444444444444444444444444444444444444444444444444",
    ),
    (
        "SubmitTx",
        "000000caa1685375626d69745478a76673656e6465725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6872656365697665725820908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f866616d6f756e741903e86366656507656e6f6e636503676d65737361676560697369676e6174757265584081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c64861906",
    ),
    (
        "TxAccepted",
        "0000002ea16a5478416363657074656458208f1a46b69a9ceeb349c23c14f6eb171d597077faee078645b15f267a45942d8d",
    ),
    (
        "TxRejected",
        "0000002fa16a547852656a6563746564a166726561736f6e781966656520302062656c6f7720746865206d696e696d756d2031",
    ),
    (
        "GetBlock",
        "00000013a168476574426c6f636ba16648656967687405",
    ),
    (
        "BlockReply",
        "000001baa16a426c6f636b5265706c79a366686561646572a76776657273696f6e01666865696768741b010203040506070864707265765820aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6b6d65726b6c655f726f6f745820bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb6c74696d657374616d705f6d731b0000018bcfe5687b667461726765741a1d00ffff656e6f6e63651bdeadbeef0badf00d66726577617264a3656d696e65725820db55cabfcdce00a9821eb2d573fed611552a89c0820cfdb6b823063158de4ebd66616d6f756e74183966686569676874056374787381a76673656e6465725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6872656365697665725820908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f866616d6f756e741903e86366656507656e6f6e636503676d65737361676560697369676e6174757265584081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c64861906",
    ),
    (
        "GetTx",
        "00000029a165476574547858208f1a46b69a9ceeb349c23c14f6eb171d597077faee078645b15f267a45942d8d",
    ),
    (
        "TxReply",
        "000001ffa16754785265706c79a169436f6e6669726d6564a465656e747279a1685472616e73666572a76673656e6465725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6872656365697665725820908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f866616d6f756e741903e86366656507656e6f6e636503676d65737361676560697369676e6174757265584081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c648619066a626c6f636b5f686173685820e107c1cbdd716599c507eb87bbb7c52f87fd3f6ea9375a44e8c1067987be497766686561646572a76776657273696f6e01666865696768741b010203040506070864707265765820aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6b6d65726b6c655f726f6f745820bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb6c74696d657374616d705f6d731b0000018bcfe5687b667461726765741a1d00ffff656e6f6e63651bdeadbeef0badf00d6570726f6f66a365696e646578016a6c6561665f636f756e7402687369626c696e67738158205555555555555555555555555555555555555555555555555555555555555555",
    ),
    (
        "GetPeers",
        "00000009684765745065657273",
    ),
    (
        "Peers",
        "00000034a165506565727381a364616464726e3132372e302e302e323a3131313167696e626f756e64f46b626573745f686569676874182a",
    ),
    (
        "FindTxs",
        "00000012a16746696e64547873683866316134366236",
    ),
    (
        "TxMatches",
        "0000002ea16954784d6174636865738158208f1a46b69a9ceeb349c23c14f6eb171d597077faee078645b15f267a45942d8d",
    ),
    (
        "FindBlocks",
        "00000015a16a46696e64426c6f636b73683366623663333665",
    ),
    (
        "BlockMatches",
        "00000031a16c426c6f636b4d617463686573815820e107c1cbdd716599c507eb87bbb7c52f87fd3f6ea9375a44e8c1067987be4977",
    ),
    (
        "GetPlacedBlock",
        "00000019a16e476574506c61636564426c6f636ba16648656967687405",
    ),
    (
        "PlacedBlockReply",
        "0000020ca170506c61636564426c6f636b5265706c79a265626c6f636ba366686561646572a76776657273696f6e01666865696768741b010203040506070864707265765820aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6b6d65726b6c655f726f6f745820bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb6c74696d657374616d705f6d731b0000018bcfe5687b667461726765741a1d00ffff656e6f6e63651bdeadbeef0badf00d66726577617264a3656d696e65725820db55cabfcdce00a9821eb2d573fed611552a89c0820cfdb6b823063158de4ebd66616d6f756e74183966686569676874056374787381a76673656e6465725820287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab6872656365697665725820908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f866616d6f756e741903e86366656507656e6f6e636503676d65737361676560697369676e6174757265584081ad294c2a5f505a37784018b8920e8a4d487369de7e8af1faaf76f65ae839b715709f8b5396c49a4a6f8e14209c5aea722cbbdeddc797820f6d702c6486190665706c616365a366616374697665f56d636f6e6669726d6174696f6e7303646e65787458206666666666666666666666666666666666666666666666666666666666666666",
    ),
];

#[test]
fn a_frame_of_each_message_kind() {
    let messages = sample_messages();
    let mut seen: Vec<&str> = messages.iter().map(kind).collect();
    seen.dedup();
    assert_eq!(seen.len(), messages.len(), "one sample per kind");
    if std::env::var_os("PRINT_GOLDEN").is_some() {
        for message in &messages {
            let frame = encode_frame(message.clone()).unwrap();
            println!("    (\"{}\", \"{}\"),", kind(message), to_hex(&frame));
        }
    }
    assert_eq!(
        FRAMES.len(),
        messages.len(),
        "a golden frame for every kind"
    );
    for (message, (name, golden)) in messages.into_iter().zip(FRAMES) {
        assert_eq!(kind(&message), *name);
        let frame = encode_frame(message.clone()).unwrap();
        assert_eq!(to_hex(&frame), *golden, "frame of {name}");
        // 4-byte big-endian length, then the CBOR body.
        let length = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        assert_eq!(length, frame.len() - 4, "length prefix of {name}");
        let decoded: Message = serde_cbor::from_slice(&frame[4..]).unwrap();
        assert_eq!(decoded, message, "{name} reads back");
    }
}
