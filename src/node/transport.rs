//! What a connection's bytes travel over: a TCP socket, or (in a virtual-time launch) an
//! in-memory duplex stream through the launch's [`Switchboard`]. The `ConnectionActor`
//! runs the same framing and protocol over either, so a simulated network runs the real
//! node code; only the transport and the clock differ.

use super::peer_manager::{Inbound, PeerManagerActor};
use actix::prelude::*;
use futures::FutureExt;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Bytes buffered in each direction of an in-memory link before the writer waits: like a
/// socket buffer, it makes a slow reader push back on its writer.
const MEMORY_LINK_BUFFER: usize = 256 * 1024;
/// How long dialing a TCP address may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// The reading half of a connection.
pub type ReadHalf = Box<dyn AsyncRead + Unpin + Send>;
/// The writing half of a connection.
pub type WriteHalf = Box<dyn AsyncWrite + Unpin + Send>;

/// One connection's two halves.
pub struct Transport {
    pub read: ReadHalf,
    pub write: WriteHalf,
}

impl Transport {
    pub fn tcp(stream: TcpStream) -> Self {
        // Small protocol messages must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        Transport {
            read: Box::new(read),
            write: Box::new(write),
        }
    }

    /// Writes what the connection takes of `bytes` at once, without waiting (a refusal's
    /// reason to a host that is not served: nothing else).
    pub fn try_write(mut self, bytes: &[u8]) {
        let _ = self.write.write(bytes).now_or_never();
    }

    /// Two connected in-memory ends.
    pub fn memory_pair() -> (Transport, Transport) {
        let (a, b) = tokio::io::duplex(MEMORY_LINK_BUFFER);
        let half = |stream| {
            let (read, write) = tokio::io::split(stream);
            Transport {
                read: Box::new(read),
                write: Box::new(write),
            }
        };
        (half(a), half(b))
    }
}

/// How a node reaches others.
#[derive(Clone, Default)]
pub enum Network {
    /// TCP sockets.
    #[default]
    Tcp,
    /// In-memory streams through a virtual-time launch's switchboard, on which this
    /// node listens at `local`.
    Virtual {
        switchboard: Addr<Switchboard>,
        local: SocketAddr,
    },
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Network::Tcp => "Tcp",
            Network::Virtual { .. } => "Virtual",
        })
    }
}

impl Network {
    /// Connects to `remote`; over TCP from `bind_ip` if given (the node's own address,
    /// so peers see the connection come from the host they would dial).
    pub async fn dial(
        &self,
        remote: SocketAddr,
        bind_ip: Option<IpAddr>,
    ) -> Result<Transport, String> {
        match self {
            Network::Tcp => {
                let connect = async {
                    let socket = if remote.is_ipv4() {
                        TcpSocket::new_v4()?
                    } else {
                        TcpSocket::new_v6()?
                    };
                    if let Some(ip) = bind_ip.filter(|ip| ip.is_ipv4() == remote.is_ipv4()) {
                        socket.bind(SocketAddr::new(ip, 0))?;
                    }
                    socket.connect(remote).await
                };
                match tokio::time::timeout(DIAL_TIMEOUT, connect).await {
                    Ok(Ok(stream)) => Ok(Transport::tcp(stream)),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(_) => Err("timed out".into()),
                }
            }
            Network::Virtual { switchboard, local } => switchboard
                .send(Connect {
                    from: *local,
                    to: remote,
                })
                .await
                .map_err(|_| "the virtual network is gone".to_string())?,
        }
    }
}

/// A virtual-time launch's network: who listens at which address, and the in-memory
/// links between them. Dialing creates a duplex stream and hands the far end to the
/// listener's peer manager as an inbound connection, as a TCP accept would.
#[derive(Default)]
pub struct Switchboard {
    listeners: BTreeMap<SocketAddr, Addr<PeerManagerActor>>,
    /// Source ports of dialed connections, as an operating system hands them out.
    next_port: u16,
}

impl Actor for Switchboard {
    type Context = Context<Self>;
}

/// Listen at `addr` on the virtual network.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Listen {
    pub addr: SocketAddr,
    pub peers: Addr<PeerManagerActor>,
}

impl Handler<Listen> for Switchboard {
    type Result = Result<(), String>;

    fn handle(&mut self, message: Listen, _: &mut Self::Context) -> Self::Result {
        if self.listeners.contains_key(&message.addr) {
            return Err(format!("address {} is in use", message.addr));
        }
        self.listeners.insert(message.addr, message.peers);
        Ok(())
    }
}

/// Stop listening at an address (its node stopped).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unlisten(pub SocketAddr);

impl Handler<Unlisten> for Switchboard {
    type Result = ();

    fn handle(&mut self, message: Unlisten, _: &mut Self::Context) {
        self.listeners.remove(&message.0);
    }
}

/// Open an in-memory link from the node listening at `from` to the one at `to`.
#[derive(Message)]
#[rtype(result = "Result<Transport, String>")]
pub struct Connect {
    pub from: SocketAddr,
    pub to: SocketAddr,
}

impl Handler<Connect> for Switchboard {
    type Result = Result<Transport, String>;

    fn handle(&mut self, message: Connect, _: &mut Self::Context) -> Self::Result {
        let Some(listener) = self.listeners.get(&message.to) else {
            return Err("connection refused".into());
        };
        let (near, far) = Transport::memory_pair();
        // Ephemeral ports, 49152 and up, wrapping: only their uniqueness among live
        // connections from one address matters, never their value.
        self.next_port = self.next_port.wrapping_add(1);
        let port = 49_152 + self.next_port % 16_384;
        listener.do_send(Inbound {
            stream: far,
            remote: SocketAddr::new(message.from.ip(), port),
        });
        Ok(near)
    }
}
