//! A connection's output queue, measured: how many bytes were queued for the socket and
//! how many the socket took. Their difference is the backlog a peer leaves unread, which
//! the `ConnectionActor` bounds (a slow reader is disconnected instead of buffered
//! forever), and the bytes queued feed the connection's send budget.

use crate::net::frame::{FrameCodec, FrameError};
use crate::net::message::Message;
use bytes::BytesMut;
use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use tokio_util::codec::Encoder;

/// Both counts, shared by the writer, the codec and the connection (all on one thread).
#[derive(Debug, Default)]
struct Counts {
    queued: Cell<u64>,
    written: Cell<u64>,
}

/// The connection's view of its output queue.
#[derive(Debug, Clone, Default)]
pub struct OutputMeter(Rc<Counts>);

impl OutputMeter {
    /// Wraps a socket's write half and the frame codec so that both are counted.
    pub fn wrap<W: AsyncWrite + Unpin>(&self, write: W) -> (CountingWrite<W>, CountingCodec) {
        (
            CountingWrite {
                inner: write,
                meter: self.clone(),
            },
            CountingCodec {
                meter: self.clone(),
            },
        )
    }

    /// Bytes encoded for sending since the connection opened.
    pub fn queued(&self) -> u64 {
        self.0.queued.get()
    }

    /// Bytes encoded but not yet taken by the socket.
    pub fn backlog(&self) -> u64 {
        self.0.queued.get().saturating_sub(self.0.written.get())
    }
}

/// A write half that counts what the socket accepts.
pub struct CountingWrite<W> {
    inner: W,
    meter: OutputMeter,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CountingWrite<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = result {
            let counts = &self.meter.0;
            counts.written.set(counts.written.get() + written as u64);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The frame codec, counting the bytes it encodes.
pub struct CountingCodec {
    meter: OutputMeter,
}

impl Encoder<Message> for CountingCodec {
    type Error = FrameError;

    fn encode(&mut self, message: Message, dst: &mut BytesMut) -> Result<(), FrameError> {
        let before = dst.len();
        FrameCodec::default().encode(message, dst)?;
        let counts = &self.meter.0;
        counts
            .queued
            .set(counts.queued.get() + dst.len().saturating_sub(before) as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[actix_rt::test]
    async fn backlog_is_what_was_encoded_and_not_yet_written() {
        let meter = OutputMeter::default();
        let (mut write, mut codec) = meter.wrap(Vec::<u8>::new());
        let mut buffer = BytesMut::new();
        codec
            .encode(Message::Ping { nonce: 1 }, &mut buffer)
            .unwrap();
        let frame_len = buffer.len() as u64;
        assert_eq!(meter.queued(), frame_len);
        assert_eq!(meter.backlog(), frame_len);
        write.write_all(&buffer[..3]).await.unwrap();
        assert_eq!(meter.backlog(), frame_len - 3);
        write.write_all(&buffer[3..]).await.unwrap();
        assert_eq!(meter.backlog(), 0);
    }
}
