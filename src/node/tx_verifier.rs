//! `TxVerifierActor`: verifies the signatures of incoming transactions (from clients and
//! peers) in batches, on the blocking thread pool, so that neither the chain actor's
//! thread nor a connection's does the expensive part of admission.
//!
//! Why batches: under the chain's signature rule (ZIP 215, see
//! [`crate::consensus::signatures`]) a batch accepts exactly what one-by-one verification
//! accepts and costs about half as much per signature. Transactions that arrive together
//! are verified together: everything waiting when the actor's mailbox has been drained
//! goes out as one batch, at once if a core is free. While every core is busy with
//! earlier batches, new transactions gather (that is when batching pays) until a batch
//! finishes, [`MAX_BATCH`] are waiting, or the oldest has waited [`WINDOW`]; so a lone
//! transaction is never held back longer than the window. A batch that fails is verified
//! one by one, so each transaction gets its own answer, the one single verification
//! gives.
//!
//! In a virtual-time launch ([`TxVerifierActor::on_current_thread`]) batches are verified
//! on the actor's own thread instead: the blocking pool runs in real time, so when a
//! batch finished, and what gathered meanwhile, would differ from run to run.

use crate::consensus::error::TxError;
use crate::consensus::hash::BlockHash;
use crate::consensus::signatures::cores;
use crate::consensus::transaction::Transaction;
use crate::consensus::validation::VerifiedTx;
use actix::prelude::*;
use futures::channel::oneshot;
use std::time::Duration;

/// The longest a transaction waits for others to share its batch.
pub const WINDOW: Duration = Duration::from_millis(1);
/// The most transactions in one batch (past a few dozen, a batch gets little cheaper per
/// signature, and each waits for the whole batch).
pub const MAX_BATCH: usize = 64;

/// Verify these transactions' signatures (together, in one batch when they fit one), one
/// answer each, in order. `None` when the node is stopping before they were verified.
#[derive(Message)]
#[rtype(result = "Option<Vec<Result<VerifiedTx, TxError>>>")]
pub struct VerifyTxs(pub Vec<Transaction>);

/// Sent to itself: send out what is waiting if a core is free (or it waited long enough).
#[derive(Message)]
#[rtype(result = "()")]
struct Flush {
    /// The window of the oldest waiting transaction ran out: go even if every core is busy.
    window_over: bool,
}

/// A batch finished on the blocking pool.
#[derive(Message)]
#[rtype(result = "()")]
struct BatchDone;

type Reply = oneshot::Sender<Result<VerifiedTx, TxError>>;

pub struct TxVerifierActor {
    genesis: BlockHash,
    waiting: Vec<(Transaction, Reply)>,
    /// A `Flush` is queued behind the messages already in the mailbox.
    flush_queued: bool,
    /// The timer for the oldest waiting transaction's window.
    window_timer: Option<SpawnHandle>,
    batches_running: usize,
    /// Batches at once: one per core.
    max_running: usize,
    /// Verify on the actor's thread (virtual time), not on the blocking pool.
    on_current_thread: bool,
}

impl TxVerifierActor {
    /// A verifier for transactions of the network `genesis`.
    pub fn new(genesis: BlockHash) -> Self {
        TxVerifierActor {
            genesis,
            waiting: Vec::new(),
            flush_queued: false,
            window_timer: None,
            batches_running: 0,
            max_running: cores(),
            on_current_thread: false,
        }
    }

    /// A verifier that verifies each batch on its own thread, so that the order of events
    /// depends on nothing outside a virtual-time launch (see the module comment).
    pub fn on_current_thread(genesis: BlockHash) -> Self {
        TxVerifierActor {
            on_current_thread: true,
            ..TxVerifierActor::new(genesis)
        }
    }

    /// Sends everything waiting (up to [`MAX_BATCH`] per batch) to the blocking pool.
    fn send_batches(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.window_timer.take() {
            ctx.cancel_future(timer);
        }
        while !self.waiting.is_empty() {
            let rest = self.waiting.split_off(self.waiting.len().min(MAX_BATCH));
            let batch = std::mem::replace(&mut self.waiting, rest);
            if self.on_current_thread {
                verify_batch(batch, &self.genesis);
                continue;
            }
            self.batches_running += 1;
            let genesis = self.genesis;
            let address = ctx.address();
            actix_rt::spawn(async move {
                // If the pool is gone the replies are dropped, which tells each waiting
                // connection that the node is stopping.
                let _ = actix_rt::task::spawn_blocking(move || verify_batch(batch, &genesis)).await;
                address.do_send(BatchDone);
            });
        }
    }
}

/// Verifies `batch` as one batch (one by one if it fails) and answers each transaction.
fn verify_batch(batch: Vec<(Transaction, Reply)>, genesis: &BlockHash) {
    let (txs, replies): (Vec<Transaction>, Vec<Reply>) = batch.into_iter().unzip();
    let verified = VerifiedTx::verify_batch(txs, genesis);
    for (answer, reply) in verified.into_iter().zip(replies) {
        // The connection may have closed meanwhile; nobody is left to tell.
        let _ = reply.send(answer);
    }
}

impl Actor for TxVerifierActor {
    type Context = Context<Self>;
}

impl Handler<VerifyTxs> for TxVerifierActor {
    type Result = ResponseFuture<Option<Vec<Result<VerifiedTx, TxError>>>>;

    fn handle(&mut self, message: VerifyTxs, ctx: &mut Context<Self>) -> Self::Result {
        let answers: Vec<_> = message
            .0
            .into_iter()
            .map(|tx| {
                let (reply, answer) = oneshot::channel();
                self.waiting.push((tx, reply));
                answer
            })
            .collect();
        if self.waiting.len() >= MAX_BATCH {
            self.send_batches(ctx);
        } else if !self.flush_queued {
            self.flush_queued = true;
            ctx.notify(Flush { window_over: false });
        }
        if self.window_timer.is_none() && !self.waiting.is_empty() {
            self.window_timer = Some(ctx.notify_later(Flush { window_over: true }, WINDOW));
        }
        Box::pin(async move {
            let mut verified = Vec::with_capacity(answers.len());
            for answer in answers {
                verified.push(answer.await.ok()?);
            }
            Some(verified)
        })
    }
}

impl Handler<Flush> for TxVerifierActor {
    type Result = ();

    fn handle(&mut self, message: Flush, ctx: &mut Context<Self>) {
        if message.window_over {
            self.window_timer = None;
        } else {
            self.flush_queued = false;
        }
        if message.window_over || self.batches_running < self.max_running {
            self.send_batches(ctx);
        }
    }
}

impl Handler<BatchDone> for TxVerifierActor {
    type Result = ();

    fn handle(&mut self, _: BatchDone, ctx: &mut Context<Self>) {
        self.batches_running = self.batches_running.saturating_sub(1);
        self.send_batches(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::amount::Amount;
    use crate::testkit;
    use futures::future::join_all;

    fn genesis() -> BlockHash {
        BlockHash::from_bytes([5; 32])
    }

    fn transfer(n: u64, genesis: &BlockHash) -> Transaction {
        testkit::transfer(&testkit::key(n), testkit::address(n + 1), 3, 1, 0, genesis)
    }

    /// Waits for the answers, failing the test instead of hanging if none come.
    async fn answers(
        verifier: &Addr<TxVerifierActor>,
        txs: Vec<Transaction>,
    ) -> Vec<Result<VerifiedTx, TxError>> {
        let reply = tokio::time::timeout(Duration::from_secs(30), verifier.send(VerifyTxs(txs)));
        reply
            .await
            .expect("answered")
            .expect("verifier running")
            .expect("not stopping")
    }

    async fn answer(
        verifier: &Addr<TxVerifierActor>,
        tx: Transaction,
    ) -> Result<VerifiedTx, TxError> {
        let mut answers = answers(verifier, vec![tx]).await;
        assert_eq!(answers.len(), 1);
        answers.remove(0)
    }

    /// A transaction that arrives alone is answered on its own (it does not wait for
    /// company that never comes). So does one verifying on its own thread (virtual time).
    #[actix_rt::test]
    async fn lone_transaction_is_answered() {
        let genesis = genesis();
        for verifier in [
            TxVerifierActor::new(genesis),
            TxVerifierActor::on_current_thread(genesis),
        ] {
            let verifier = verifier.start();
            let tx = transfer(1, &genesis);
            assert_eq!(answer(&verifier, tx.clone()).await.unwrap().tx(), &tx);
            let mut bad = transfer(2, &genesis);
            bad.amount = Amount::new(bad.amount.get() + 1);
            assert_eq!(
                answer(&verifier, bad).await.unwrap_err(),
                TxError::BadSignature
            );
        }
    }

    /// Many transactions at once, alone and in groups (more than one batch's worth, so
    /// some share batches and a group spans two): each gets its own answer in its
    /// group's order, the bad ones named among the good ones, and a transaction signed
    /// for another network is refused.
    #[actix_rt::test]
    async fn concurrent_transactions_each_get_their_own_answer() {
        let genesis = genesis();
        let verifier = TxVerifierActor::new(genesis).start();
        let mut txs: Vec<Transaction> = (0..150).map(|n| transfer(n, &genesis)).collect();
        txs[7].amount = Amount::new(txs[7].amount.get() + 1);
        txs[100].fee = Amount::new(txs[100].fee.get() + 1);
        txs[120] = transfer(120, &BlockHash::from_bytes([6; 32]));
        let (alone, grouped) = txs.split_at(50);
        let mut all = join_all(alone.iter().map(|tx| answer(&verifier, tx.clone()))).await;
        let groups = join_all(
            grouped
                .chunks(45)
                .map(|group| answers(&verifier, group.to_vec())),
        );
        all.extend(groups.await.into_iter().flatten());
        assert_eq!(all.len(), txs.len());
        for (n, (tx, answer)) in txs.iter().zip(all).enumerate() {
            match answer {
                Ok(verified) => {
                    assert!(![7, 100, 120].contains(&n), "{n} accepted");
                    assert_eq!(verified.tx(), tx);
                    assert_eq!(verified.genesis(), &genesis);
                }
                Err(error) => {
                    assert!([7, 100, 120].contains(&n), "{n} refused: {error}");
                    assert_eq!(error, TxError::BadSignature);
                }
            }
        }
    }
}
