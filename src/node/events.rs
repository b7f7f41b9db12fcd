//! `EventHub`: the node's live news for watchers (the explorer's Server-Sent Events).
//! The chain actor and the peer manager publish what happens — blocks connected or left
//! stale, reorgs, transactions accepted, peers joining and leaving — and every subscriber
//! gets a copy.
//!
//! Each subscriber has a bounded queue. A subscriber that falls that far behind (a slow
//! or stalled browser) is dropped rather than buffered for ever: the node's memory must
//! not depend on how fast strangers read. A dropped page reconnects and reloads its view.

use crate::view::TreeBlock;
use actix::prelude::*;
use futures::channel::mpsc;
use log::debug;
use serde::Serialize;

/// Events a subscriber may fall behind by before it is dropped.
pub const SUBSCRIBER_QUEUE: usize = 256;

/// Something a watcher of the node wants to see. Serialised as JSON with a `type` field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A block joined the active chain.
    BlockConnected(TreeBlock),
    /// A block was stored beside the active chain.
    BlockStale(TreeBlock),
    /// The active chain switched branches, disconnecting `depth` blocks; the branches
    /// split after `fork_height` (the branches need not be as long as each other, so
    /// `height - depth` is not the fork).
    Reorg {
        depth: usize,
        old_tip: String,
        new_tip: String,
        height: u64,
        fork_height: u64,
    },
    TxAccepted {
        txid: String,
        sender: String,
        receiver: String,
        #[serde(serialize_with = "decimal")]
        amount: u64,
        #[serde(serialize_with = "decimal")]
        fee: u64,
    },
    PeerJoined {
        addr: String,
        inbound: bool,
    },
    PeerLeft {
        addr: String,
    },
}

/// Amounts as decimal strings, as in every JSON view (`crate::view`): they can pass
/// 2^53, beyond which JavaScript rounds numbers.
fn decimal<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Tells every subscriber about an event.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish(pub LiveEvent);

/// A new subscriber: events from now on arrive on the returned receiver.
#[derive(Message)]
#[rtype(result = "mpsc::Receiver<LiveEvent>")]
pub struct Subscribe;

/// The broadcaster.
#[derive(Default)]
pub struct EventHub {
    subscribers: Vec<mpsc::Sender<LiveEvent>>,
}

impl Actor for EventHub {
    type Context = Context<Self>;
}

impl Handler<Publish> for EventHub {
    type Result = ();

    fn handle(&mut self, message: Publish, _: &mut Self::Context) {
        let before = self.subscribers.len();
        // A full queue (a reader too slow) or a closed one (the page went away) ends the
        // subscription.
        self.subscribers
            .retain_mut(|subscriber| subscriber.try_send(message.0.clone()).is_ok());
        let dropped = before - self.subscribers.len();
        if dropped > 0 {
            debug!("{dropped} event subscriber(s) dropped: gone or too slow");
        }
    }
}

impl Handler<Subscribe> for EventHub {
    type Result = MessageResult<Subscribe>;

    fn handle(&mut self, _: Subscribe, _: &mut Self::Context) -> Self::Result {
        let (sender, receiver) = mpsc::channel(SUBSCRIBER_QUEUE);
        self.subscribers.push(sender);
        MessageResult(receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn peer_left(n: usize) -> LiveEvent {
        LiveEvent::PeerLeft {
            addr: format!("127.0.0.1:{n}"),
        }
    }

    #[actix_rt::test]
    async fn every_subscriber_gets_each_event_and_a_stalled_one_is_dropped() {
        let hub = EventHub::default().start();
        let mut reader = hub.send(Subscribe).await.unwrap();
        let mut stalled = hub.send(Subscribe).await.unwrap();
        hub.send(Publish(peer_left(0))).await.unwrap();
        assert_eq!(reader.next().await, Some(peer_left(0)));
        assert_eq!(stalled.next().await, Some(peer_left(0)));
        // The reader keeps up; the stalled one reads nothing more. mpsc's capacity is
        // the buffer plus one slot per sender.
        for n in 1..=SUBSCRIBER_QUEUE + 2 {
            hub.send(Publish(peer_left(n))).await.unwrap();
            assert_eq!(reader.next().await, Some(peer_left(n)));
        }
        let mut queued = 0;
        while let Some(event) = stalled.next().await {
            assert_eq!(event, peer_left(queued + 1));
            queued += 1;
        }
        assert!(
            queued <= SUBSCRIBER_QUEUE + 1,
            "a stalled subscriber was buffered beyond its bound ({queued} events)"
        );
        // The stream ended: the hub let go of the stalled subscriber.
        hub.send(Publish(peer_left(0))).await.unwrap();
        assert_eq!(reader.next().await, Some(peer_left(0)));
    }
}
