//! A blocking client connection to a node, for the client subcommands: a plain
//! `std::net::TcpStream` with read and write timeouts, the client handshake, and one
//! request with one reply at a time.
//!
//! Frames are the node's own (4-byte big-endian length, then CBOR). The length prefix is
//! checked against [`MAX_FRAME_BYTES`] before any of the body is read, so a confused or
//! hostile server cannot make the client allocate more than that.

use crate::consensus::hash::BlockHash;
use crate::net::frame::{encode_frame, MAX_FRAME_BYTES};
use crate::net::message::{Message, PROTOCOL_VERSION};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long to wait for a connection, and for each reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// An open, greeted connection to a node.
#[derive(Debug)]
pub struct NodeConnection {
    stream: TcpStream,
    /// What the user typed, for error messages.
    node: String,
    genesis: BlockHash,
}

/// A short, lowercase description of a socket error ("connection refused", not
/// "Connection refused (os error 111)").
fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by the node".into(),
        io::ErrorKind::ConnectionAborted => "connection aborted".into(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "timed out".into(),
        io::ErrorKind::UnexpectedEof => "the node closed the connection".into(),
        io::ErrorKind::BrokenPipe => "the node closed the connection".into(),
        _ => {
            let text = error.to_string();
            // Drop the "(os error N)" suffix people do not need.
            match text.find(" (os error") {
                Some(end) => text[..end].to_lowercase(),
                None => text,
            }
        }
    }
}

impl NodeConnection {
    /// Connects to `node` (HOST:PORT) and performs the client handshake.
    pub fn open(node: &str, timeout: Duration) -> Result<Self, String> {
        if !node.contains(':') {
            return Err(format!("cannot reach {node}: expected HOST:PORT"));
        }
        let addrs: Vec<SocketAddr> = node
            .to_socket_addrs()
            .map_err(|e| format!("cannot reach {node}: {}", describe(&e)))?
            .collect();
        let mut last_error = format!("cannot reach {node}: no address");
        let mut connected = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    connected = Some(stream);
                    break;
                }
                Err(e) => last_error = format!("cannot reach {node}: {}", describe(&e)),
            }
        }
        let stream = connected.ok_or(last_error)?;
        let setup = |stream: &TcpStream| -> io::Result<()> {
            stream.set_read_timeout(Some(timeout))?;
            stream.set_write_timeout(Some(timeout))?;
            stream.set_nodelay(true)
        };
        setup(&stream).map_err(|e| format!("cannot reach {node}: {}", describe(&e)))?;
        let mut connection = NodeConnection {
            stream,
            node: node.to_string(),
            genesis: BlockHash::default(),
        };
        match connection.request(Message::HelloClient {
            version: PROTOCOL_VERSION,
        })? {
            Message::Welcome { version, genesis } if version == PROTOCOL_VERSION => {
                connection.genesis = genesis;
                Ok(connection)
            }
            Message::Welcome { version, .. } => Err(format!(
                "{node} speaks protocol version {version}, this client {PROTOCOL_VERSION}"
            )),
            other => Err(connection.unexpected(&other)),
        }
    }

    /// The network's genesis hash, from the node's welcome (transactions are signed for it).
    pub fn genesis(&self) -> &BlockHash {
        &self.genesis
    }

    /// Sends one request and returns the node's reply. A `Reject` from the node becomes
    /// an error with its reason.
    pub fn request(&mut self, message: Message) -> Result<Message, String> {
        let frame =
            encode_frame(message).map_err(|e| format!("cannot send to {}: {e}", self.node))?;
        self.stream
            .write_all(&frame)
            .and_then(|_| self.stream.flush())
            .map_err(|e| format!("cannot send to {}: {}", self.node, describe(&e)))?;
        match read_frame(&mut self.stream).map_err(|e| match e {
            ReplyError::Io(reason) => format!("no reply from {}: {reason}", self.node),
            ReplyError::Foreign(reason) => format!(
                "{} did not answer as an ironchain node ({reason})",
                self.node
            ),
        })? {
            Message::Reject { reason } => {
                Err(format!("{} refused the request: {reason}", self.node))
            }
            reply => Ok(reply),
        }
    }

    /// The error for a reply of the wrong kind.
    pub fn unexpected(&self, reply: &Message) -> String {
        let kind = format!("{reply:?}");
        let kind = kind
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("message");
        format!("{} sent an unexpected reply ({kind})", self.node)
    }
}

/// Why no message could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// The connection failed or closed.
    Io(String),
    /// Bytes came, but not an ironchain frame: most likely another kind of server (an
    /// HTTP server's "HTTP/1.1" reads as a length of 1,213,486,160 bytes).
    Foreign(String),
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyError::Io(reason) | ReplyError::Foreign(reason) => f.write_str(reason),
        }
    }
}

/// Reads one frame: checks the length prefix against [`MAX_FRAME_BYTES`], then reads and
/// decodes exactly that many bytes.
pub fn read_frame(reader: &mut impl Read) -> Result<Message, ReplyError> {
    let io = |e: io::Error| ReplyError::Io(describe(&e));
    let mut prefix = [0u8; 4];
    reader.read_exact(&mut prefix).map_err(io)?;
    let length = u32::from_be_bytes(prefix) as usize;
    if length > MAX_FRAME_BYTES {
        return Err(ReplyError::Foreign(format!(
            "frame of {length} bytes exceeds the limit of {MAX_FRAME_BYTES}"
        )));
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).map_err(io)?;
    serde_cbor::from_slice(&body)
        .map_err(|e| ReplyError::Foreign(format!("undecodable message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn frames_round_trip_and_oversize_prefix_is_refused_before_the_body() {
        let frame = encode_frame(Message::GetTip).unwrap();
        assert_eq!(read_frame(&mut frame.as_slice()).unwrap(), Message::GetTip);

        let mut huge = (u32::MAX).to_be_bytes().to_vec();
        huge.extend_from_slice(&[0; 16]);
        assert!(read_frame(&mut huge.as_slice())
            .unwrap_err()
            .to_string()
            .contains("exceeds the limit"));

        let mut garbage = 3u32.to_be_bytes().to_vec();
        garbage.extend_from_slice(&[0xff, 0x00, 0x13]);
        assert!(matches!(
            read_frame(&mut garbage.as_slice()),
            Err(ReplyError::Foreign(reason)) if reason.contains("undecodable")
        ));

        let truncated = &frame[..frame.len() - 1];
        assert!(matches!(
            read_frame(&mut &truncated[..]),
            Err(ReplyError::Io(reason)) if reason.contains("closed the connection")
        ));
    }

    #[test]
    fn unreachable_node_is_one_clear_line() {
        // Bind then drop: nothing listens on this port any more.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let node = format!("127.0.0.1:{port}");
        let error = NodeConnection::open(&node, Duration::from_secs(2)).unwrap_err();
        assert_eq!(error, format!("cannot reach {node}: connection refused"));
    }

    #[test]
    fn a_server_that_is_not_a_node_is_named_as_such() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let node = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // Read the whole greeting: closing with unread bytes would reset the
            // connection before the client sees the reply.
            let _ = read_frame(&mut stream);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        });
        let error = NodeConnection::open(&node, Duration::from_secs(5)).unwrap_err();
        assert_eq!(
            error,
            format!(
                "{node} did not answer as an ironchain node (frame of 1213486160 bytes \
                 exceeds the limit of {MAX_FRAME_BYTES})"
            )
        );
        server.join().unwrap();
    }

    #[test]
    fn handshake_learns_the_genesis_and_rejects_become_errors() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let node = listener.local_addr().unwrap().to_string();
        let genesis = BlockHash::from_bytes([7; 32]);
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            assert!(matches!(
                read_frame(&mut stream).unwrap(),
                Message::HelloClient { .. }
            ));
            let welcome = Message::Welcome {
                version: PROTOCOL_VERSION,
                genesis,
            };
            stream.write_all(&encode_frame(welcome).unwrap()).unwrap();
            assert_eq!(read_frame(&mut stream).unwrap(), Message::GetTip);
            let reject = Message::Reject {
                reason: "busy".into(),
            };
            stream.write_all(&encode_frame(reject).unwrap()).unwrap();
        });
        let mut connection = NodeConnection::open(&node, Duration::from_secs(5)).unwrap();
        assert_eq!(connection.genesis(), &genesis);
        assert_eq!(
            connection.request(Message::GetTip).unwrap_err(),
            format!("{node} refused the request: busy")
        );
        server.join().unwrap();
    }
}
