//! Framing: a 4-byte big-endian length, then one CBOR-encoded message.
//!
//! The length is checked against [`MAX_FRAME_BYTES`] before any of the body is buffered,
//! so a hostile length prefix costs the node nothing. A body that does not decode is
//! reported as a [`Decoded::Malformed`] item rather than a stream error: the frame
//! boundary is still known, so the connection can answer with a reason and go on.
//!
//! Both ends use this one implementation: the node's connections through the tokio
//! [`FrameCodec`], the blocking command-line client through [`FrameCodec::read_blocking`]
//! and [`encode_frame`], so the prefix, the limit and their errors cannot drift apart.

use super::message::Message;
use crate::consensus::bounded::{with_max_block_txs, MAX_DECODABLE_BLOCK_TXS};
use bytes::{Buf, BufMut, BytesMut};
use std::fmt;
use std::io::{self, Read};
use tokio_util::codec::{Decoder, Encoder};

/// Largest frame body accepted or sent: room for a full block plus CBOR overhead.
pub const MAX_FRAME_BYTES: usize = 4 << 20;
const LENGTH_BYTES: usize = 4;

/// One received frame.
#[derive(Debug)]
pub enum Decoded {
    Message(Box<Message>),
    /// The body was not a valid message; the reason says why.
    Malformed(String),
}

/// A stream-ending framing failure.
#[derive(Debug)]
pub enum FrameError {
    Io(io::Error),
    /// The length prefix announced a body larger than [`MAX_FRAME_BYTES`].
    TooLarge {
        length: usize,
    },
    /// An outgoing message failed to encode (never expected for our own types).
    Encode(String),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Io(error) => write!(f, "i/o error: {error}"),
            FrameError::TooLarge { length } => write!(
                f,
                "frame of {length} bytes exceeds the limit of {MAX_FRAME_BYTES}"
            ),
            FrameError::Encode(reason) => write!(f, "cannot encode message: {reason}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<io::Error> for FrameError {
    fn from(error: io::Error) -> Self {
        FrameError::Io(error)
    }
}

/// The codec for both directions.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    /// The network's `max_block_txs`: a block with more is refused while decoding.
    max_block_txs: usize,
}

impl Default for FrameCodec {
    /// A codec for any network: blocks may hold as many transactions as a frame can.
    fn default() -> Self {
        FrameCodec {
            max_block_txs: MAX_DECODABLE_BLOCK_TXS,
        }
    }
}

impl FrameCodec {
    /// A codec for a network whose blocks hold at most `max_block_txs` transactions.
    pub fn for_network(max_block_txs: usize) -> Self {
        FrameCodec { max_block_txs }
    }

    /// Reads exactly one frame from a blocking reader (a client's `TcpStream`): the
    /// prefix, checked against the limit before any of the body is read, then exactly the
    /// body, so replies pipelined behind it stay in the socket for the next call.
    pub fn read_blocking(&self, reader: &mut impl Read) -> Result<Decoded, FrameError> {
        let mut prefix = [0u8; LENGTH_BYTES];
        reader.read_exact(&mut prefix)?;
        let length = body_length(prefix)?;
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        Ok(self.decode_body(&body))
    }

    /// One frame's body as a message, or the reason it is not one.
    fn decode_body(&self, body: &[u8]) -> Decoded {
        let decoded = with_max_block_txs(self.max_block_txs, || {
            serde_cbor::from_slice::<Message>(body)
        });
        match decoded {
            Ok(message) => Decoded::Message(Box::new(message)),
            Err(error) => Decoded::Malformed(format!("undecodable message: {error}")),
        }
    }
}

/// The body length a prefix announces, refused if over [`MAX_FRAME_BYTES`] (the check that
/// comes before any of the body is buffered).
fn body_length(prefix: [u8; LENGTH_BYTES]) -> Result<usize, FrameError> {
    let length = u32::from_be_bytes(prefix) as usize;
    if length > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge { length });
    }
    Ok(length)
}

impl Decoder for FrameCodec {
    type Item = Decoded;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Decoded>, FrameError> {
        let Some(prefix) = src.get(..LENGTH_BYTES) else {
            return Ok(None);
        };
        let mut length_bytes = [0u8; LENGTH_BYTES];
        length_bytes.copy_from_slice(prefix);
        let length = body_length(length_bytes)?;
        if src.len() < LENGTH_BYTES + length {
            src.reserve(LENGTH_BYTES + length - src.len());
            return Ok(None);
        }
        src.advance(LENGTH_BYTES);
        let body = src.split_to(length);
        Ok(Some(self.decode_body(&body)))
    }
}

impl Encoder<Message> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, message: Message, dst: &mut BytesMut) -> Result<(), FrameError> {
        let body =
            serde_cbor::to_vec(&message).map_err(|error| FrameError::Encode(error.to_string()))?;
        if body.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge { length: body.len() });
        }
        dst.reserve(LENGTH_BYTES + body.len());
        dst.put_u32(body.len() as u32);
        dst.extend_from_slice(&body);
        Ok(())
    }
}

/// Encodes one message as a complete frame (for clients using blocking sockets).
pub fn encode_frame(message: Message) -> Result<Vec<u8>, FrameError> {
    let mut buffer = BytesMut::new();
    FrameCodec::default().encode(message, &mut buffer)?;
    Ok(buffer.to_vec())
}

/// The bytes `message` takes on the wire, frame header included (what a simulated
/// link's bandwidth is charged), counted without building the frame.
pub fn frame_len(message: &Message) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Encoding into a counter cannot fail but for a message serde cannot encode, which
    // the codec refuses anyway.
    let _ = serde_cbor::to_writer(&mut counter, message);
    LENGTH_BYTES + counter.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_split_across_reads() {
        let frame = encode_frame(Message::Ping { nonce: 7 }).unwrap();
        let mut codec = FrameCodec::default();
        let mut buffer = BytesMut::new();
        for byte in &frame[..frame.len() - 1] {
            buffer.put_u8(*byte);
            assert!(codec.decode(&mut buffer).unwrap().is_none());
        }
        buffer.put_u8(frame[frame.len() - 1]);
        match codec.decode(&mut buffer).unwrap() {
            Some(Decoded::Message(message)) => assert_eq!(*message, Message::Ping { nonce: 7 }),
            other => panic!("unexpected {other:?}"),
        }
        assert!(buffer.is_empty());
    }

    #[test]
    fn oversize_prefix_is_refused_before_the_body() {
        let mut buffer = BytesMut::new();
        buffer.put_u32(u32::MAX);
        match FrameCodec::default().decode(&mut buffer) {
            Err(FrameError::TooLarge { length }) => assert_eq!(length, u32::MAX as usize),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn garbage_body_is_malformed_and_stream_continues() {
        let mut buffer = BytesMut::new();
        buffer.put_u32(3);
        buffer.extend_from_slice(&[0xff, 0x00, 0x13]);
        buffer.extend_from_slice(&encode_frame(Message::Ping { nonce: 1 }).unwrap());
        assert!(matches!(
            FrameCodec::default().decode(&mut buffer).unwrap(),
            Some(Decoded::Malformed(_))
        ));
        assert!(matches!(
            FrameCodec::default().decode(&mut buffer).unwrap(),
            Some(Decoded::Message(_))
        ));
    }

    #[test]
    fn blocking_reads_take_exactly_one_frame_and_refuse_oversize_before_the_body() {
        let codec = FrameCodec::default();
        let mut stream = encode_frame(Message::Ping { nonce: 1 }).unwrap();
        stream.extend_from_slice(&encode_frame(Message::Ping { nonce: 2 }).unwrap());
        let mut reader = stream.as_slice();
        for nonce in [1, 2] {
            match codec.read_blocking(&mut reader).unwrap() {
                Decoded::Message(message) => assert_eq!(*message, Message::Ping { nonce }),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(reader.is_empty());

        // Only the prefix is there: refused from it, not by running out of body.
        let huge = u32::MAX.to_be_bytes();
        match codec.read_blocking(&mut huge.as_slice()) {
            Err(FrameError::TooLarge { length }) => assert_eq!(length, u32::MAX as usize),
            other => panic!("unexpected {other:?}"),
        }

        let mut garbage = 3u32.to_be_bytes().to_vec();
        garbage.extend_from_slice(&[0xff, 0x00, 0x13]);
        assert!(matches!(
            codec.read_blocking(&mut garbage.as_slice()),
            Ok(Decoded::Malformed(reason)) if reason.starts_with("undecodable message")
        ));

        let truncated = &stream[..stream.len() / 2 - 1];
        assert!(matches!(
            codec.read_blocking(&mut &truncated[..]),
            Err(FrameError::Io(error)) if error.kind() == io::ErrorKind::UnexpectedEof
        ));
    }

    fn decode_body(mut codec: FrameCodec, body: &[u8]) -> Decoded {
        let mut buffer = BytesMut::new();
        buffer.put_u32(body.len() as u32);
        buffer.extend_from_slice(body);
        codec.decode(&mut buffer).unwrap().unwrap()
    }

    fn malformed_reason(codec: FrameCodec, body: &[u8]) -> String {
        match decode_body(codec, body) {
            Decoded::Malformed(reason) => reason,
            Decoded::Message(message) => panic!("decoded {message:?}"),
        }
    }

    /// The body of a message whose one list announces `count` elements, cut off right
    /// after that announcement: it can only be refused from the announced length.
    fn announcing(message: Message, count: u32) -> Vec<u8> {
        let mut body = serde_cbor::to_vec(&message).unwrap();
        // Each message below ends in its (empty) list, encoded as the single byte 0x80.
        assert_eq!(body.pop(), Some(0x80));
        body.push(0x9a);
        body.extend_from_slice(&count.to_be_bytes());
        body
    }

    #[test]
    fn oversized_lists_are_refused_from_their_announced_length() {
        use crate::consensus::hash::BlockHash;
        let codec = FrameCodec::default();
        let locator = Message::GetBlocks {
            locator: Vec::new(),
        };
        let reason = malformed_reason(codec, &announcing(locator, 100_000));
        assert!(
            reason.contains("100000 locator hashes exceed the limit of 64"),
            "{reason}"
        );
        let reason = malformed_reason(codec, &announcing(Message::Addrs(Vec::new()), 100_000));
        assert!(
            reason.contains("100000 addresses exceed the limit of 100"),
            "{reason}"
        );

        // The same, sent whole: 100,000 real hashes (3.2 MB) in a frame under the limit.
        let whole = serde_cbor::to_vec(&Message::GetBlocks {
            locator: vec![BlockHash::from_bytes([7; 32]); 100_000],
        })
        .unwrap();
        assert!(whole.len() <= MAX_FRAME_BYTES);
        let reason = malformed_reason(codec, &whole);
        assert!(reason.contains("100000 locator hashes"), "{reason}");

        // At the limit, both decode.
        let fits = Message::GetBlocks {
            locator: vec![BlockHash::from_bytes([7; 32]); 64],
        };
        let body = serde_cbor::to_vec(&fits).unwrap();
        assert!(matches!(decode_body(codec, &body), Decoded::Message(m) if *m == fits));
        let addrs = Message::Addrs(vec!["127.0.0.1:1".to_string(); 100]);
        let body = serde_cbor::to_vec(&addrs).unwrap();
        assert!(matches!(decode_body(codec, &body), Decoded::Message(m) if *m == addrs));
    }

    #[test]
    fn a_batch_over_the_block_limit_is_refused_while_decoding() {
        let batch = Message::Blocks {
            blocks: Vec::new(),
            more: false,
        };
        let mut body = serde_cbor::to_vec(&batch).unwrap();
        // `blocks` is encoded before `more`: announce 2,001 blocks where the empty list is.
        let at = body.iter().position(|byte| *byte == 0x80).unwrap();
        body.splice(at..=at, [0x19, 0x07, 0xd1]);
        body[at] = 0x99;
        let reason = malformed_reason(FrameCodec::default(), &body);
        assert!(
            reason.contains("2001 blocks in a batch exceed the limit of 2000"),
            "{reason}"
        );
    }
}
