//! A blocking client connection to a node, for the client subcommands: a plain
//! `std::net::TcpStream` with read and write timeouts, the client handshake, and
//! requests answered in the order they were sent (one at a time, or pipelined).
//!
//! Frames are the node's own, read and written by `net::frame`'s code (4-byte big-endian
//! length, then CBOR): the length prefix is checked against its `MAX_FRAME_BYTES` before
//! any of the body is read, so a confused or hostile server cannot make the client
//! allocate more than that. Here its errors only become the client's wording.

use crate::consensus::hash::BlockHash;
use crate::net::frame::{encode_frame, Decoded, FrameCodec, FrameError};
use crate::net::message::{Message, PROTOCOL_VERSION};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long to wait for a connection, and for each reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for the node's welcome. A node answers a greeting at once (clients
/// are served even while its peer slots are full); a server of another kind, such as an
/// HTTP server waiting for a request line, may never answer, and should not keep a
/// person waiting for [`DEFAULT_TIMEOUT`] to learn so.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

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
        let handshake_deadline = timeout.min(HANDSHAKE_TIMEOUT);
        let setup = |stream: &TcpStream| -> io::Result<()> {
            stream.set_read_timeout(Some(handshake_deadline))?;
            stream.set_write_timeout(Some(timeout))?;
            stream.set_nodelay(true)
        };
        setup(&stream).map_err(|e| format!("cannot reach {node}: {}", describe(&e)))?;
        let mut connection = NodeConnection {
            stream,
            node: node.to_string(),
            genesis: BlockHash::default(),
        };
        // Every way a server can fail to greet us back as a node says the same thing.
        let not_a_node = |reason: String| format!("{node} is not an ironchain node ({reason})");
        let greeting = Message::HelloClient {
            version: PROTOCOL_VERSION,
        };
        let welcome = match connection.exchange(greeting)? {
            Ok(reply) => reply,
            Err(ReplyError::Foreign(reason)) => return Err(not_a_node(reason)),
            Err(ReplyError::Http) => return Err(http_server(node)),
            Err(ReplyError::TimedOut) => {
                return Err(not_a_node(format!(
                    "no answer to our greeting within {} s",
                    handshake_deadline.as_secs_f64()
                )))
            }
            Err(ReplyError::Io(reason)) => {
                return Err(not_a_node(format!("no answer to our greeting: {reason}")))
            }
        };
        match welcome {
            Message::Welcome { version, genesis } if version == PROTOCOL_VERSION => {
                connection.genesis = genesis;
                connection
                    .stream
                    .set_read_timeout(Some(timeout))
                    .map_err(|e| format!("cannot reach {node}: {}", describe(&e)))?;
                Ok(connection)
            }
            Message::Welcome { version, .. } => Err(format!(
                "{node} speaks protocol version {version}, this client {PROTOCOL_VERSION}"
            )),
            Message::Reject { reason } => Err(format!("{node} refused the request: {reason}")),
            other => Err(not_a_node(format!(
                "it answered our greeting with {}",
                other.variant_name()
            ))),
        }
    }

    /// Sends one message and reads one reply; the outer error is a failure to send.
    fn exchange(&mut self, message: Message) -> Result<Result<Message, ReplyError>, String> {
        self.send(message)?;
        Ok(read_frame(&mut self.stream))
    }

    /// Sends one request without waiting for its reply. The node answers a connection's
    /// requests in the order it sent them, so a client may send several (pipeline) and
    /// read their replies, in that order, with [`NodeConnection::reply`].
    pub fn send(&mut self, message: Message) -> Result<(), String> {
        let frame =
            encode_frame(message).map_err(|e| format!("cannot send to {}: {e}", self.node))?;
        self.stream
            .write_all(&frame)
            .and_then(|_| self.stream.flush())
            .map_err(|e| format!("cannot send to {}: {}", self.node, describe(&e)))
    }

    /// The network's genesis hash, from the node's welcome (transactions are signed for it).
    pub fn genesis(&self) -> &BlockHash {
        &self.genesis
    }

    /// Sends one request and returns the node's reply. A `Reject` from the node becomes
    /// an error with its reason.
    pub fn request(&mut self, message: Message) -> Result<Message, String> {
        self.send(message)?;
        self.reply()
    }

    /// The reply to the oldest request not answered yet. A `Reject` from the node becomes
    /// an error with its reason.
    pub fn reply(&mut self) -> Result<Message, String> {
        match read_frame(&mut self.stream).map_err(|e| match e {
            ReplyError::Io(reason) => format!("no reply from {}: {reason}", self.node),
            ReplyError::TimedOut => format!("no reply from {}: timed out", self.node),
            ReplyError::Foreign(reason) => {
                format!("{} is not an ironchain node ({reason})", self.node)
            }
            ReplyError::Http => http_server(&self.node),
        })? {
            Message::Reject { reason } => {
                Err(format!("{} refused the request: {reason}", self.node))
            }
            reply => Ok(reply),
        }
    }

    /// The error for a reply of the wrong kind.
    pub fn unexpected(&self, reply: &Message) -> String {
        format!(
            "{} sent an unexpected reply ({})",
            self.node,
            reply.variant_name()
        )
    }
}

/// Why no message could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// The connection failed or closed.
    Io(String),
    /// Nothing came within the read timeout.
    TimedOut,
    /// Bytes came, but not an ironchain frame: another kind of server.
    Foreign(String),
    /// An HTTP server answered: most likely the node's own explorer, given its port.
    Http,
}

/// What "HTTP" reads as when it stands where a frame's length prefix should.
const HTTP_AS_LENGTH: usize = u32::from_be_bytes(*b"HTTP") as usize;

/// The error for an HTTP server where a node was expected. The explorer listens on the
/// node's port + 1000 by default, so a port taken from its URL is the likeliest mistake.
fn http_server(node: &str) -> String {
    let node_port = node
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .and_then(|port| port.checked_sub(crate::explorer::PORT_OFFSET));
    let hint = match node_port {
        Some(port) => format!(
            "; the node's own port is usually the explorer's minus {} ({port})",
            crate::explorer::PORT_OFFSET
        ),
        None => String::new(),
    };
    format!(
        "{node} is an HTTP server, not an ironchain node: most likely the explorer's \
         port{hint}"
    )
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyError::Io(reason) | ReplyError::Foreign(reason) => f.write_str(reason),
            ReplyError::TimedOut => f.write_str("timed out"),
            ReplyError::Http => f.write_str("an HTTP server answered"),
        }
    }
}

/// Reads one frame through the node's framing ([`FrameCodec::read_blocking`]) and says
/// what went wrong in the client's terms: a length over the limit or a body that does
/// not decode means the bytes are not an ironchain frame at all.
pub fn read_frame(reader: &mut impl Read) -> Result<Message, ReplyError> {
    match FrameCodec::default().read_blocking(reader) {
        Ok(Decoded::Message(message)) => Ok(*message),
        Ok(Decoded::Malformed(reason)) => Err(ReplyError::Foreign(reason)),
        Err(FrameError::Io(error)) => Err(match error.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ReplyError::TimedOut,
            _ => ReplyError::Io(describe(&error)),
        }),
        Err(FrameError::TooLarge { length }) if length == HTTP_AS_LENGTH => Err(ReplyError::Http),
        Err(other) => Err(ReplyError::Foreign(other.to_string())),
    }
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
        let port: u16 = node.rsplit_once(':').unwrap().1.parse().unwrap();
        let hint = match port.checked_sub(crate::explorer::PORT_OFFSET) {
            Some(node_port) => {
                format!("; the node's own port is usually the explorer's minus 1000 ({node_port})")
            }
            None => String::new(),
        };
        assert_eq!(
            error,
            format!(
                "{node} is an HTTP server, not an ironchain node: most likely the \
                 explorer's port{hint}"
            )
        );
        server.join().unwrap();
    }

    /// A plain TCP server of another protocol, bound to an OS-chosen port, that reads
    /// what it is sent and then does `then` with the socket.
    fn other_server(then: fn(&mut TcpStream)) -> (String, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let node = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = read_frame(&mut stream);
            then(&mut stream);
        });
        (node, server)
    }

    #[test]
    fn every_way_of_not_greeting_back_says_not_an_ironchain_node() {
        // Silent, like an HTTP server waiting for a request line: the short handshake
        // deadline ends the wait, not the much longer reply timeout.
        let (node, server) = other_server(|stream| {
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
        });
        let error = NodeConnection::open(&node, Duration::from_secs(1)).unwrap_err();
        assert_eq!(
            error,
            format!("{node} is not an ironchain node (no answer to our greeting within 1 s)")
        );
        server.join().unwrap();

        // Hangs up without a word.
        let (node, server) = other_server(|_| {});
        let error = NodeConnection::open(&node, Duration::from_secs(5)).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "{node} is not an ironchain node (no answer to our greeting: "
            )),
            "{error}"
        );
        server.join().unwrap();

        // Answers in frames, but not with a welcome.
        let (node, server) = other_server(|stream| {
            let _ = stream.write_all(&encode_frame(Message::GetTip).unwrap());
        });
        let error = NodeConnection::open(&node, Duration::from_secs(5)).unwrap_err();
        assert_eq!(
            error,
            format!("{node} is not an ironchain node (it answered our greeting with GetTip)")
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
