//! Explorer latency (issue 13, target: `GET /api/tip` p99 < 2 ms with 64 concurrent
//! keep-alive clients while the node mines): a node mining on one thread (blocks about
//! every second) serves its explorer on 127.0.0.1; 64 HTTP/1.1 clients, each on its own
//! kept-alive connection, ask `GET /api/tip` every `--interval-ms` (each at its own phase,
//! as 64 open pages polling would), for `--seconds`. Latency is from sending the request
//! to having read the whole body, measured by the client, after one warm-up request per
//! client. `--interval-ms 0` makes every client ask again as soon as it has its answer
//! (a closed loop: the rate the server sustains, where latency is mostly queueing).
//!
//!     cargo run --release --example tip_latency [-- --clients 64 --interval-ms 10 --seconds 10]

mod common;

use actix::prelude::*;
use clap::Parser;
use common::BenchNode;
use ironchain::consensus::params::ChainParams;
use ironchain::testkit;
use serde_json::json;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `GET /api/tip` latency with many kept-alive clients while the node mines.
#[derive(Parser)]
struct Args {
    /// Concurrent HTTP clients, each on its own connection.
    #[arg(long, default_value_t = 64, value_parser = common::at_least_one::<usize>())]
    clients: usize,
    /// Pause between a client's requests (0: ask again as soon as answered).
    #[arg(long, default_value_t = 10)]
    interval_ms: u64,
    /// How long the clients ask.
    #[arg(long, default_value_t = 10, value_parser = common::at_least_one::<u64>())]
    seconds: u64,
}

fn main() {
    let Args {
        clients,
        interval_ms,
        seconds,
    } = Args::parse();
    let interval = Duration::from_millis(interval_ms);
    let run_for = Duration::from_secs(seconds);
    let params = ChainParams {
        genesis_message: "ironchain tip latency bench".into(),
        // About a block a second on one thread here: the chain actor connects blocks and
        // sends templates while the clients ask.
        initial_difficulty_bits: 24,
        target_block_time_ms: 1_000,
        retarget_interval: 10,
        ..testkit::params(&[])
    };

    // The node and its explorer, in their own actix system on their own thread.
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let node_thread = std::thread::spawn(move || {
        let system = System::new();
        system.block_on(async move {
            let dir = common::scratch_dir("tip-latency");
            let bench = BenchNode {
                mine: true,
                ..BenchNode::default()
            };
            let node = common::start(&params, dir.path(), &bench).await;
            let explorer = ironchain::explorer::serve(&node, "127.0.0.1:0".parse().unwrap())
                .await
                .expect("explorer starts");
            addr_tx.send(explorer.addr).expect("main thread waits");
            let _ = stop_rx.await;
            let height = common::height(&node).await;
            explorer.stop().await;
            node.stop().await;
            height
        })
    });
    let addr = addr_rx.recv().expect("node started");
    let url = format!("http://{addr}/api/tip");

    // The clients: one actix system (one thread), one connection each.
    let (samples, answered, elapsed) = System::new().block_on(async move {
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|n| {
                let url = url.clone();
                // Spread the clients' phases over the interval.
                let phase = interval.mul_f64(n as f64 / clients as f64);
                actix_rt::spawn(async move { client(url, phase, interval, run_for).await })
            })
            .collect();
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await.expect("client task"));
        }
        let answered = samples.len();
        (samples, answered, started.elapsed())
    });
    let _ = stop_tx.send(());
    let height = node_thread.join().expect("node thread");

    let p50 = common::percentile(&samples, 50.0);
    let p99 = common::percentile(&samples, 99.0);
    let max = common::percentile(&samples, 100.0);
    let rate = answered as f64 / elapsed.as_secs_f64();
    common::report(
        "tip_latency",
        format!(
            "{clients} keep-alive clients, one GET /api/tip each every {interval_ms} ms, \
             {answered} answers in {:.1} s ({rate:.0}/s) while mining (height {height}): \
             p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms (target p99 < 2 ms)",
            elapsed.as_secs_f64()
        ),
        json!({
            "clients": clients, "interval_ms": interval_ms, "answers": answered,
            "requests_per_s": rate, "height": height,
            "p50_ms": p50, "p99_ms": p99, "max_ms": max,
        }),
    );
}

/// One client: a warm-up request, then one request per `interval` (or back to back) until
/// `run_for` has passed. Returns each request's latency in milliseconds.
async fn client(url: String, phase: Duration, interval: Duration, run_for: Duration) -> Vec<f64> {
    let http = awc::Client::builder()
        .connector(awc::Connector::new().limit(1))
        .timeout(Duration::from_secs(10))
        .finish();
    let get = |http: &awc::Client| {
        let request = http.get(url.as_str());
        async move {
            let mut response = request.send().await.expect("the explorer answers");
            assert!(response.status().is_success(), "{}", response.status());
            response.body().await.expect("a whole body");
        }
    };
    get(&http).await;
    tokio::time::sleep(phase).await;
    let started = tokio::time::Instant::now();
    let mut samples = Vec::new();
    let mut next = started;
    while started.elapsed() < run_for {
        if !interval.is_zero() {
            tokio::time::sleep_until(next).await;
            next += interval;
        }
        let sent = Instant::now();
        get(&http).await;
        samples.push(common::ms(sent.elapsed()));
    }
    samples
}
