//! Transaction admission throughput (issue 12, target: ≥ 25,000 accepted tx/s with 8
//! clients; issue 6 asked for ≥ 20,000): several concurrent clients, each on its own TCP
//! connection speaking the client protocol (`HelloClient`, then `SubmitTx` requests),
//! push pre-signed transfers to one node (not mining). Each client pipelines: it keeps
//! `--window` submissions in flight (64, the node's `max_txs_in_flight`), sending the next
//! as each `TxAccepted` comes back (in request order), as a wallet or payment service
//! with many transfers to send would;
//! `--window 1` is the one-at-a-time client of before. Every client has its own funded
//! senders, so all transactions are valid and nonces never collide. Timed from the first
//! submission to the last reply; the signing happens before.
//!
//!     cargo run --release --example admission [-- --clients 8 --txs 20000 --window 64]

mod common;

use actix::prelude::*;
use clap::Parser;
use common::BenchNode;
use ironchain::cli::rpc::NodeConnection;
use ironchain::consensus::address::Address;
use ironchain::consensus::signatures::SigningKey;
use ironchain::consensus::transaction::Transaction;
use ironchain::net::message::Message;
use ironchain::testkit;
use serde_json::json;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Senders per client; each sends txs / clients / SENDERS transfers in nonce order.
const SENDERS: usize = 25;

/// Admission throughput of concurrent pipelining clients.
#[derive(Parser)]
struct Args {
    /// Concurrent client connections.
    #[arg(long, default_value_t = 8, value_parser = common::at_least_one::<usize>())]
    clients: usize,
    /// Transfers in all, shared equally by the clients.
    #[arg(long = "txs", default_value_t = 20_000, value_parser = common::at_least_one::<usize>())]
    total: usize,
    /// Submissions each client keeps in flight (1: one at a time).
    #[arg(long, default_value_t = 64, value_parser = common::at_least_one::<usize>())]
    window: usize,
}

fn main() {
    let Args {
        clients,
        total,
        window,
    } = Args::parse();
    let per_client = total / clients;
    let keys: Vec<SigningKey> = (0..clients * SENDERS)
        .map(|n| testkit::key(50_000 + n as u64))
        .collect();
    let allocations: Vec<(Address, u64)> = keys
        .iter()
        .map(|key| (Address::of(key), 1_000_000_000))
        .collect();
    let params = testkit::params(&allocations);
    let genesis = params
        .genesis_block()
        .expect("the benchmark's chain parameters encode")
        .hash();
    let receiver = testkit::address(7);

    // Sign everything first, a client's share per thread.
    let batches: Vec<Vec<Transaction>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let keys = &keys[client * SENDERS..(client + 1) * SENDERS];
                scope.spawn(move || {
                    (0..per_client)
                        .map(|i| {
                            testkit::transfer(
                                &keys[i % SENDERS],
                                receiver,
                                1,
                                1,
                                (i / SENDERS) as u64,
                                &genesis,
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("signing thread"))
            .collect()
    });

    let ceiling = common::SingleVerifyCeiling::measure();

    // The node, in its own actix system on its own thread.
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let node_thread = std::thread::spawn(move || {
        let system = System::new();
        system.block_on(async move {
            let dir = common::scratch_dir("admission");
            let node = common::start(&params, dir.path(), &BenchNode::default()).await;
            addr_tx.send(node.listen_addr).expect("main thread waits");
            let _ = stop_rx.await;
            node.stop().await;
        });
    });
    let addr = addr_rx.recv().expect("node started").to_string();

    let connections: Vec<NodeConnection> = (0..clients)
        .map(|_| NodeConnection::open(&addr, Duration::from_secs(30)).expect("client connects"))
        .collect();
    let started = Instant::now();
    let accepted: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = connections
            .into_iter()
            .zip(batches)
            .map(|(mut connection, batch)| {
                scope.spawn(move || {
                    let mut accepted = 0;
                    let mut expected = std::collections::VecDeque::with_capacity(window);
                    let mut batch = batch.into_iter();
                    loop {
                        while expected.len() < window {
                            let Some(tx) = batch.next() else { break };
                            expected.push_back(tx.id());
                            connection
                                .send(Message::SubmitTx(tx))
                                .expect("request sent");
                        }
                        let Some(txid) = expected.pop_front() else {
                            break;
                        };
                        match connection.reply() {
                            Ok(Message::TxAccepted(id)) if id == txid => accepted += 1,
                            other => panic!("transaction {txid} not accepted: {other:?}"),
                        }
                    }
                    accepted
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("client thread"))
            .sum()
    });
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    node_thread.join().expect("node thread");
    let rate = accepted as f64 / seconds;
    let ratio = rate / ceiling.rate();
    common::report(
        "admission",
        format!(
            "{clients} clients over TCP ({window} in flight each), {accepted} signed transfers \
             accepted in {seconds:.2} s: \
             {rate:.0} tx/s, {ratio:.2}x the {} (target >= 25,000 tx/s with 8 clients)",
            ceiling.describe()
        ),
        json!({
            "clients": clients, "window": window, "accepted": accepted, "seconds": seconds, "txs_per_s": rate,
            "single_verify_ceiling": ceiling.rate(), "cores": ceiling.cores,
            "ratio_to_single_verify_ceiling": ratio,
        }),
    );
}
