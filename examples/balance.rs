//! Balance query latency with 1,000,000 funded accounts (issue 6, target: p99 < 1 ms):
//! a chain whose genesis allocates 1,000,000 addresses is created once (cached in
//! target/bench-fixtures/), then queried for random funded addresses two ways:
//! in-process with `Chain::account` (state hash map + mempool nonce), and by a client over
//! TCP (`GetAccount` on a greeted client connection to a running node: framing, CBOR,
//! the connection actor and the chain actor's mailbox), one request at a time.
//!
//!     cargo run --release --example balance [-- --accounts 1000000 --queries 20000]

mod common;

use actix::prelude::*;
use clap::Parser;
use common::BenchNode;
use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::cli::rpc::NodeConnection;
use ironchain::consensus::address::Address;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::hash::sha256;
use ironchain::consensus::params::ChainParams;
use ironchain::net::message::Message;
use ironchain::testkit;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn account_address(n: usize) -> Address {
    Address::from_bytes(sha256(format!("balance bench account {n}").as_bytes()))
}

/// Balance query latency, in-process and over TCP.
#[derive(Parser)]
struct Args {
    /// Funded accounts in the genesis block (each count is its own cached fixture).
    #[arg(long, default_value_t = 1_000_000, value_parser = common::at_least_one::<usize>())]
    accounts: usize,
    /// Random balance queries each way.
    #[arg(long, default_value_t = 20_000, value_parser = common::at_least_one::<usize>())]
    queries: usize,
}

fn main() {
    let Args { accounts, queries } = Args::parse();
    let allocations: Vec<(Address, u64)> = (0..accounts)
        .map(|n| (account_address(n), 1_000 + n as u64))
        .collect();
    let params = ChainParams {
        genesis_message: format!("ironchain balance bench {accounts}"),
        ..testkit::params(&allocations)
    };
    let dir = common::fixture_root().join(format!("balance-{accounts}"));
    let started = Instant::now();
    let chain = Chain::open(&dir, params.clone(), MempoolLimits::default()).expect("open chain");
    eprintln!(
        "chain with {} accounts open in {:.1} s",
        chain.state().len(),
        started.elapsed().as_secs_f64()
    );
    assert!(chain.state().len() >= accounts, "every allocation funded");

    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let picks: Vec<usize> = (0..queries).map(|_| rng.gen_range(0..accounts)).collect();
    let addresses: Vec<Address> = picks.iter().map(|&n| account_address(n)).collect();

    // In-process.
    let mut local = Vec::with_capacity(queries);
    for (address, &n) in addresses.iter().zip(&picks) {
        let t = Instant::now();
        let (account, _) = black_box(chain.account(black_box(address)));
        local.push(common::ms(t.elapsed()));
        assert_eq!(account.balance, Amount::new(1_000 + n as u64));
    }
    drop(chain);

    // Over TCP, against a node on the same data directory.
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let node_params = params.clone();
    let node_dir = dir.clone();
    let node_thread = std::thread::spawn(move || {
        System::new().block_on(async move {
            let node = common::start(&node_params, &node_dir, &BenchNode::default()).await;
            addr_tx.send(node.listen_addr).expect("main thread waits");
            let _ = stop_rx.await;
            node.stop().await;
        });
    });
    let addr = addr_rx.recv().expect("node started").to_string();
    let mut connection =
        NodeConnection::open(&addr, Duration::from_secs(30)).expect("client connects");
    let mut remote = Vec::with_capacity(queries);
    for (address, &n) in addresses.iter().zip(&picks) {
        let t = Instant::now();
        let reply = connection
            .request(Message::GetAccount(*address))
            .expect("account reply");
        remote.push(common::ms(t.elapsed()));
        match reply {
            Message::Account { account, .. } => {
                assert_eq!(account.balance, Amount::new(1_000 + n as u64))
            }
            other => panic!("unexpected reply {other:?}"),
        }
    }
    let _ = stop_tx.send(());
    node_thread.join().expect("node thread");

    for (how, samples) in [("Chain::account", &local), ("GetAccount over TCP", &remote)] {
        let p50 = common::percentile(samples, 50.0);
        let p99 = common::percentile(samples, 99.0);
        let max = common::percentile(samples, 100.0);
        common::report(
            "balance",
            format!(
                "{how}, {accounts} funded accounts, {queries} random queries: \
                 p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs (target p99 < 1 ms)",
                p50 * 1e3,
                p99 * 1e3,
                max * 1e3
            ),
            json!({
                "path": how, "accounts": accounts, "queries": queries,
                "p50_ms": p50, "p99_ms": p99, "max_ms": max,
            }),
        );
    }
}
