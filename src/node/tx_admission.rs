//! How a transaction gets into the mempool from a client, a peer or the explorer: the
//! chain actor's cheap checks, the signature by the [`TxVerifierActor`] (in a batch, on
//! the blocking pool, not on the chain actor's one thread), then admission, all in the
//! order the transactions came.
//!
//! A connection may have several transactions in flight (a client pipelines, a peer
//! relays a burst): its [`TxPipeline`] queues them (a bounded queue: when it is full the
//! connection stops reading its socket) and admits everything queued as one group: one
//! check, one batch verification, one submission in order, so that a sender's run keeps
//! its nonce order and the group's signatures share a batch. The next group goes once
//! this one is admitted. A lone transaction goes at once.

use super::chain_actor::{ChainActor, CheckTxs, SubmitTxs};
use super::reply_order::Ticket;
use super::tx_verifier::{TxVerifierActor, VerifyTxs, MAX_BATCH};
use super::PeerId;
use crate::consensus::error::TxError;
use crate::consensus::hash::TxId;
use crate::consensus::transaction::Transaction;
use actix::prelude::*;
use std::future::Future;
use tokio::sync::mpsc;

/// Misbehaviour score of an invalid transaction (the ban threshold is 100): a peer's
/// relay that no honest node would send, or a submission with a forged signature from a
/// client or the explorer's API alike.
pub const SCORE_INVALID_TX: u32 = 20;

/// A transaction error that only a broken or forged signature causes: each one cost the
/// node a signature check, and an honest wallet never sends one. A fee or a message a user
/// mistyped is not one, and must not get the user's host (with every node on it) banned.
pub fn is_forged(error: &TxError) -> bool {
    matches!(error, TxError::BadSignature | TxError::InvalidSenderKey)
}

/// Why a transaction did not get into the mempool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAdmitted {
    Refused(TxError),
    /// The chain actor or the blocking pool is gone: the node is shutting down.
    NodeStopping,
}

impl From<TxError> for NotAdmitted {
    fn from(error: TxError) -> Self {
        NotAdmitted::Refused(error)
    }
}

/// One transaction's answer so far: `None` while it is still going through the steps.
type Slot = Option<Result<TxId, NotAdmitted>>;

/// Admits `txs` in order, as one group; one answer each, in the same order.
pub async fn admit_transactions(
    chain: &Addr<ChainActor>,
    verifier: &Addr<TxVerifierActor>,
    txs: Vec<Transaction>,
    origin: Option<PeerId>,
) -> Vec<Result<TxId, NotAdmitted>> {
    let mut slots: Vec<Slot> = vec![None; txs.len()];
    let checked = chain.send(CheckTxs(txs)).await.unwrap_or_default();
    let to_verify = settle(&mut slots, checked);
    let verified = if to_verify.is_empty() {
        Vec::new()
    } else {
        verifier
            .send(VerifyTxs(to_verify))
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let to_submit = settle(&mut slots, verified);
    let submitted = if to_submit.is_empty() {
        Vec::new()
    } else {
        chain
            .send(SubmitTxs {
                txs: to_submit,
                origin,
            })
            .await
            .unwrap_or_default()
    };
    let admitted = settle(&mut slots, submitted);
    let mut admitted = admitted.into_iter();
    slots
        .into_iter()
        .map(|slot| match slot {
            Some(answer) => answer,
            // `settle` left exactly one open slot per admitted transaction.
            None => admitted.next().ok_or(NotAdmitted::NodeStopping),
        })
        .collect()
}

/// [`admit_transactions`] for one transaction.
pub async fn admit_transaction(
    chain: &Addr<ChainActor>,
    verifier: &Addr<TxVerifierActor>,
    tx: Transaction,
    origin: Option<PeerId>,
) -> Result<TxId, NotAdmitted> {
    admit_transactions(chain, verifier, vec![tx], origin)
        .await
        .pop()
        .unwrap_or(Err(NotAdmitted::NodeStopping))
}

/// Walks the open slots in order beside one step's `results` (one per open slot): a
/// refusal closes its slot; a success leaves it open and its value goes on to the next
/// step. Slots without a result (the step's actor is gone) close as
/// [`NotAdmitted::NodeStopping`].
fn settle<T>(slots: &mut [Slot], results: Vec<Result<T, TxError>>) -> Vec<T> {
    let mut results = results.into_iter();
    let mut passed = Vec::new();
    for slot in slots.iter_mut().filter(|slot| slot.is_none()) {
        match results.next() {
            Some(Ok(value)) => passed.push(value),
            Some(Err(error)) => *slot = Some(Err(NotAdmitted::Refused(error))),
            None => *slot = Some(Err(NotAdmitted::NodeStopping)),
        }
    }
    passed
}

/// A group's answers, for the connection that queued it: each transaction's reply ticket
/// (a client's; a peer's relays get no reply) and answer, in queue order.
#[derive(Message)]
#[rtype(result = "()")]
pub struct TxsAdmitted(pub Vec<(Option<Ticket>, Result<TxId, NotAdmitted>)>);

type Queued = (Transaction, Option<Ticket>);

/// One connection's transactions in flight. Dropping it (the connection closed) lets
/// what is already queued be admitted, then the admission task ends.
pub struct TxPipeline {
    queue: mpsc::Sender<Queued>,
}

impl TxPipeline {
    /// Starts admitting, for `connection`, the transactions pushed (at most `capacity`
    /// queued behind the group being admitted).
    pub fn start(
        chain: Addr<ChainActor>,
        verifier: Addr<TxVerifierActor>,
        origin: Option<PeerId>,
        capacity: usize,
        connection: Recipient<TxsAdmitted>,
    ) -> Self {
        let (queue, mut queued) = mpsc::channel::<Queued>(capacity.max(1));
        actix_rt::spawn(async move {
            let mut group = Vec::with_capacity(MAX_BATCH);
            while queued.recv_many(&mut group, MAX_BATCH).await > 0 {
                let (txs, tickets): (Vec<_>, Vec<_>) = group.drain(..).unzip();
                let answers = admit_transactions(&chain, &verifier, txs, origin).await;
                connection.do_send(TxsAdmitted(tickets.into_iter().zip(answers).collect()));
            }
        });
        TxPipeline { queue }
    }

    /// Queues `tx`. If the queue is full, returns what to wait for (the connection reads
    /// nothing more until it is queued).
    pub fn push(
        &self,
        tx: Transaction,
        ticket: Option<Ticket>,
    ) -> Option<impl Future<Output = ()> + 'static> {
        match self.queue.try_send((tx, ticket)) {
            Err(mpsc::error::TrySendError::Full(queued)) => {
                let queue = self.queue.clone();
                // An error means the admission task is gone, so is the node.
                Some(async move {
                    let _ = queue.send(queued).await;
                })
            }
            // Closed: the admission task is gone, so is the node.
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_settles_the_slots_still_open_in_order() {
        let mut slots: Vec<Slot> = vec![None; 4];
        let passed = settle(
            &mut slots,
            vec![Ok('a'), Err(TxError::BadSignature), Ok('c'), Ok('d')],
        );
        assert_eq!(passed, vec!['a', 'c', 'd']);
        // The next step answers only for the three still open; it refuses the second.
        let passed = settle(
            &mut slots,
            vec![Ok(1), Err(TxError::AlreadyInMempool), Ok(3)],
        );
        assert_eq!(passed, vec![1, 3]);
        assert_eq!(
            slots,
            vec![
                None,
                Some(Err(NotAdmitted::Refused(TxError::BadSignature))),
                Some(Err(NotAdmitted::Refused(TxError::AlreadyInMempool))),
                None,
            ]
        );
        // A step whose actor is gone answers nothing: the open slots close as stopping.
        assert!(settle::<()>(&mut slots, Vec::new()).is_empty());
        assert_eq!(slots[0], Some(Err(NotAdmitted::NodeStopping)));
        assert_eq!(slots[3], Some(Err(NotAdmitted::NodeStopping)));
    }
}
