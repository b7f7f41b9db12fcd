//! Framing: a 4-byte big-endian length, then one CBOR-encoded message.
//!
//! The length is checked against [`MAX_FRAME_BYTES`] before any of the body is buffered,
//! so a hostile length prefix costs the node nothing. A body that does not decode is
//! reported as a [`Decoded::Malformed`] item rather than a stream error: the frame
//! boundary is still known, so the connection can answer with a reason and go on.

use super::message::Message;
use bytes::{Buf, BufMut, BytesMut};
use std::fmt;
use std::io;
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
#[derive(Debug, Default, Clone, Copy)]
pub struct FrameCodec;

impl Decoder for FrameCodec {
    type Item = Decoded;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Decoded>, FrameError> {
        let Some(prefix) = src.get(..LENGTH_BYTES) else {
            return Ok(None);
        };
        let mut length_bytes = [0u8; LENGTH_BYTES];
        length_bytes.copy_from_slice(prefix);
        let length = u32::from_be_bytes(length_bytes) as usize;
        if length > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge { length });
        }
        if src.len() < LENGTH_BYTES + length {
            src.reserve(LENGTH_BYTES + length - src.len());
            return Ok(None);
        }
        src.advance(LENGTH_BYTES);
        let body = src.split_to(length);
        Ok(Some(match serde_cbor::from_slice::<Message>(&body) {
            Ok(message) => Decoded::Message(Box::new(message)),
            Err(error) => Decoded::Malformed(format!("undecodable message: {error}")),
        }))
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
    FrameCodec.encode(message, &mut buffer)?;
    Ok(buffer.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_split_across_reads() {
        let frame = encode_frame(Message::Ping { nonce: 7 }).unwrap();
        let mut codec = FrameCodec;
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
        match FrameCodec.decode(&mut buffer) {
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
            FrameCodec.decode(&mut buffer).unwrap(),
            Some(Decoded::Malformed(_))
        ));
        assert!(matches!(
            FrameCodec.decode(&mut buffer).unwrap(),
            Some(Decoded::Message(_))
        ));
    }
}
