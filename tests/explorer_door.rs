//! The explorer's door under hostile HTTP clients (issue 22), each test with its bound:
//! a foreign Host (DNS rebinding), a cross-origin or non-JSON write are refused before
//! any work; forged transactions over HTTP get an address banned after as many as over
//! the client protocol; event streams are capped per address and in total while peers
//! still join; a client past its bytes, or past its share of trees and pages of blocks,
//! is answered 429; a page of blocks stays within its byte budget and names the next; the
//! tree lists at most its limit, whole heights only; idle sockets and header trickles are
//! closed at the request deadline.

mod common;
mod explorer_common;

use common::*;
use explorer_common::*;
use ironchain::consensus::transaction::{Signature, Transaction};
use ironchain::explorer::client_budget::BudgetLimits;
use ironchain::explorer::limits::ExplorerLimits;
use ironchain::explorer::{serve, serve_with, Explorer};
use ironchain::net::frame::encode_frame;
use ironchain::net::message::{Message, PROTOCOL_VERSION};
use ironchain::node::chain_actor::GetTree;
use ironchain::node::peer_manager::{AddPeer, IsBanned, BAN_THRESHOLD};
use ironchain::node::tx_admission::SCORE_INVALID_TX;
use ironchain::node::NodeHandle;
use ironchain::testkit;
use ironchain::view::tx_file;
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

const LONG: Duration = Duration::from_secs(30);

fn host(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// An HTTP client whose sockets come from `from`.
fn client_from(from: IpAddr) -> awc::Client {
    awc::Client::builder()
        .timeout(LONG)
        .local_address(from)
        .finish()
}

/// A request's status and JSON body (`Null` when the body is not JSON).
async fn answer(request: awc::ClientRequest, body: Option<String>) -> (u16, Value) {
    let mut response = match body {
        Some(body) => request.send_body(body).await,
        None => request.send().await,
    }
    .expect("the explorer answers");
    let bytes = response.body().limit(64 << 20).await.expect("body");
    (
        response.status().as_u16(),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn url(explorer: &Explorer, path: &str) -> String {
    format!("http://{}{path}", explorer.addr)
}

/// A node whose address 1 holds 1,000 coins, and its explorer within `limits`.
async fn node_and_explorer(
    dir: &std::path::Path,
    limits: Option<ExplorerLimits>,
) -> (NodeHandle, Explorer) {
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    let node = start(settings(&params, dir, &[], false, 2)).await;
    let addr = "127.0.0.1:0".parse().unwrap();
    let explorer = match limits {
        Some(limits) => serve_with(&node, addr, limits).await,
        None => serve(&node, addr).await,
    }
    .unwrap();
    (node, explorer)
}

/// Address 1's next transfer of `amount` with its signature replaced: what someone who
/// knows only the public key of a funded address can send.
fn forged(node: &NodeHandle, amount: u64) -> Transaction {
    let mut tx = testkit::transfer(
        &testkit::key(1),
        testkit::address(3),
        amount,
        1,
        0,
        &node.genesis,
    );
    tx.signature = Signature::from_bytes([7; 64]);
    tx
}

async fn mempool_count(explorer: &Explorer) -> u64 {
    let (_, pool) = answer(awc::Client::new().get(url(explorer, "/api/mempool")), None).await;
    pool["count"].as_u64().expect("a count")
}

#[actix_rt::test]
async fn foreign_hosts_and_cross_origin_or_untyped_writes_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), None).await;
    let client = awc::Client::builder().timeout(LONG).finish();
    let port = explorer.addr.port();

    // DNS rebinding: a page of evil.example re-pointed at 127.0.0.1 sends its own name.
    for foreign in [format!("evil.example:{port}"), "evil.example".to_string()] {
        let (status, body) = answer(
            client
                .get(url(&explorer, "/api/tip"))
                .insert_header(("Host", foreign.as_str())),
            None,
        )
        .await;
        assert_eq!(status, 421, "Host {foreign}: {body}");
        assert!(body["error"].as_str().unwrap().contains("does not serve"));
    }
    for own in [format!("localhost:{port}"), format!("[::1]:{port}")] {
        let (status, _) = answer(
            client
                .get(url(&explorer, "/api/tip"))
                .insert_header(("Host", own.as_str())),
            None,
        )
        .await;
        assert_eq!(status, 200, "Host {own}");
    }

    // A valid transaction, sent as another origin's page could send it: refused, and
    // the bound: nothing refused reaches the mempool.
    let tx = testkit::transfer(
        &testkit::key(1),
        testkit::address(3),
        5,
        1,
        0,
        &node.genesis,
    );
    let text = tx_file::to_text(&tx).unwrap();
    let post = || client.post(url(&explorer, "/api/tx"));
    let cases = [
        (
            post()
                .insert_header(("Content-Type", "text/plain"))
                .insert_header(("Origin", "http://evil.example")),
            403,
        ),
        (
            post()
                .insert_header(("Content-Type", "application/json"))
                .insert_header(("Origin", "http://evil.example")),
            403,
        ),
        (
            post()
                .insert_header(("Content-Type", "application/json"))
                .insert_header(("Sec-Fetch-Site", "cross-site")),
            403,
        ),
        (post().insert_header(("Content-Type", "text/plain")), 415),
        (post(), 415),
    ];
    for (i, (request, expected)) in cases.into_iter().enumerate() {
        let (status, body) = answer(request, Some(text.clone())).await;
        assert_eq!(status, expected, "case {i}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert_eq!(mempool_count(&explorer).await, 0, "case {i} was processed");
    }
    // The explorer's own page, and a client that is no browser, still submit.
    let (status, body) = answer(
        post()
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Origin", format!("http://127.0.0.1:{port}"))),
        Some(text),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(mempool_count(&explorer).await, 1);

    explorer.stop().await;
    node.stop().await;
}

async fn is_banned(node: &NodeHandle, ip: IpAddr) -> bool {
    node.peers
        .send(IsBanned(SocketAddr::new(ip, 0)))
        .await
        .unwrap()
}

#[actix_rt::test]
async fn forged_http_submissions_ban_the_address_after_as_many_as_the_client_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), None).await;
    let limit = 20;

    // Over the client protocol, from 127.0.0.3.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(host(3), 0)).unwrap();
    let mut stream = socket.connect(node.listen_addr).await.unwrap();
    let hello = Message::HelloClient {
        version: PROTOCOL_VERSION,
    };
    stream
        .write_all(&encode_frame(hello).unwrap())
        .await
        .unwrap();
    // Forged transactions one at a time until the address is banned; the score is sent
    // before the answer, so it is counted by the time the answer is read.
    let mut over_tcp = 0;
    while !is_banned(&node, host(3)).await {
        assert!(over_tcp < limit, "127.0.0.3 not banned after {limit}");
        over_tcp += 1;
        let frame = encode_frame(Message::SubmitTx(forged(&node, over_tcp))).unwrap();
        stream.write_all(&frame).await.unwrap();
        loop {
            match read_message(&mut stream).await {
                Some(Message::TxRejected { .. } | Message::Reject { .. }) | None => break,
                Some(_) => continue,
            }
        }
    }

    // Over HTTP, from 127.0.0.2.
    let attacker = client_from(host(2));
    let mut over_http = 0;
    while !is_banned(&node, host(2)).await {
        assert!(over_http < limit, "127.0.0.2 not banned after {limit}");
        over_http += 1;
        let request = attacker
            .post(url(&explorer, "/api/tx"))
            .insert_header(("Content-Type", "application/json"));
        let body = tx_file::to_text(&forged(&node, over_http)).unwrap();
        let (status, answer) = answer(request, Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["reason"].as_str().unwrap().contains("signature"));
    }

    // The bound: the same count, the ban threshold's worth of invalid transactions.
    assert_eq!(over_http, over_tcp);
    assert_eq!(
        over_http,
        u64::from(BAN_THRESHOLD.div_ceil(SCORE_INVALID_TX))
    );
    // The banned address is refused every request, before any work; others are not.
    let (status, body) = answer(attacker.get(url(&explorer, "/api/tip")), None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("banned"), "{body}");
    let (status, _) = answer(client_from(host(4)).get(url(&explorer, "/api/tip")), None).await;
    assert_eq!(status, 200);

    // The local host is disconnected, never banned; past its budget of forged
    // transactions its submissions are refused before any signature check (the bound:
    // at most `forged_per_ip` checks per window), while it still reads the explorer.
    let local = client_from(host(1));
    let budget = u64::from(BudgetLimits::default().forged_per_ip);
    for sent in 1..=budget + 3 {
        let request = local
            .post(url(&explorer, "/api/tx"))
            .insert_header(("Content-Type", "application/json"));
        let body = tx_file::to_text(&forged(&node, sent)).unwrap();
        let (status, answer) = answer(request, Some(body)).await;
        if sent <= budget {
            assert_eq!(status, 422, "forged transaction {sent}: {answer}");
        } else {
            assert_eq!(status, 429, "forged transaction {sent}: {answer}");
            assert!(answer["error"].as_str().unwrap().contains("forged"));
        }
    }
    assert!(
        !is_banned(&node, host(1)).await,
        "the local host was banned"
    );
    let (status, _) = answer(local.get(url(&explorer, "/api/tip")), None).await;
    assert_eq!(status, 200);

    explorer.stop().await;
    node.stop().await;
}

#[actix_rt::test]
async fn event_streams_past_the_cap_are_refused_while_peers_still_join() {
    let mut limits = ExplorerLimits::from_open_files(1_024);
    limits.budget.max_streams = 4;
    limits.budget.max_streams_per_ip = 2;
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), Some(limits)).await;

    let open = |from: u8| {
        let client = client_from(host(from));
        let request = client.get(url(&explorer, "/api/events"));
        async move { request.send().await.expect("the explorer answers") }
    };
    let mut held = Vec::new();
    for from in [2, 2] {
        let stream = open(from).await;
        assert_eq!(stream.status().as_u16(), 200);
        held.push(stream);
    }
    // The bound per address: a third stream from 127.0.0.2 is refused.
    let mut third = open(2).await;
    assert_eq!(third.status().as_u16(), 429);
    let reason = String::from_utf8(third.body().await.unwrap().to_vec()).unwrap();
    assert!(reason.contains("event streams"), "{reason}");
    for from in [3, 3] {
        let stream = open(from).await;
        assert_eq!(stream.status().as_u16(), 200);
        held.push(stream);
    }
    // The bound in total: four streams are open, a fifth is refused whoever asks.
    assert_eq!(open(4).await.status().as_u16(), 503);

    // Meanwhile ordinary requests are answered and a peer joins over P2P.
    let (status, _) = answer(client_from(host(4)).get(url(&explorer, "/api/tip")), None).await;
    assert_eq!(status, 200);
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    let other_dir = tempfile::tempdir().unwrap();
    let other = start(settings(&params, other_dir.path(), &[], false, 3)).await;
    node.peers.do_send(AddPeer(other.listen_addr));
    assert!(wait_until(LONG, || async { peer_count(&node).await == 1 }).await);

    // A stream that closes gives its place back.
    held.pop();
    assert!(
        wait_until(LONG, || async { open(4).await.status().as_u16() == 200 }).await,
        "a closed stream's place was not given back"
    );

    other.stop().await;
    explorer.stop().await;
    node.stop().await;
}

#[actix_rt::test]
async fn a_client_past_its_bytes_is_answered_429_and_others_are_not() {
    let mut limits = ExplorerLimits::from_open_files(1_024);
    limits.budget.bytes_per_ip = 4_000;
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), Some(limits)).await;
    let greedy = client_from(host(2));
    let mut served = 0;
    let mut refused = None;
    for _ in 0..100 {
        let mut response = greedy.get(url(&explorer, "/api/tip")).send().await.unwrap();
        let body = response.body().await.unwrap();
        if response.status().as_u16() == 429 {
            refused = Some(String::from_utf8(body.to_vec()).unwrap());
            break;
        }
        assert_eq!(response.status().as_u16(), 200);
        served += body.len();
    }
    // The bound: refused once 4,000 bytes were served, within one answer of it.
    let reason = refused.expect("never refused");
    assert!(reason.contains("served"), "{reason}");
    assert!(
        (4_000..4_000 + 1_000).contains(&served),
        "{served} bytes served"
    );
    let (status, _) = answer(client_from(host(3)).get(url(&explorer, "/api/tip")), None).await;
    assert_eq!(status, 200);
    explorer.stop().await;
    node.stop().await;
}

#[actix_rt::test]
async fn a_page_of_blocks_stays_within_its_byte_budget_and_names_the_next() {
    let budget = 3_000;
    let mut limits = ExplorerLimits::from_open_files(1_024);
    limits.page_bytes = budget;
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), Some(limits)).await;
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    let fork = build_fork(&params, 12, 0, vec![], vec![]);
    assert_eq!(submit(&node, &fork.short).await.stored, 12);
    let client = awc::Client::builder().timeout(LONG).finish();

    // Upward from height 1, page after page, each within the budget.
    let mut path = Some("/api/blocks?from=1&count=100".to_string());
    let mut heights = Vec::new();
    let mut pages = 0;
    while let Some(next) = path.take() {
        let mut response = client.get(url(&explorer, &next)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let body = response.body().await.unwrap();
        assert!(
            body.len() <= budget,
            "{next}: {} bytes over a budget of {budget}",
            body.len()
        );
        let page: Vec<Value> = serde_json::from_slice(&body).unwrap();
        assert!(!page.is_empty());
        heights.extend(page.iter().map(|b| b["height"].as_u64().unwrap()));
        path = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with("rel=\"next\""), "{link}");
            link[link.find('<').unwrap() + 1..link.find('>').unwrap()].to_string()
        });
        pages += 1;
        assert!(pages <= 12, "the pages do not end");
    }
    assert!(pages > 1, "twelve blocks fitted one page of {budget} bytes");
    assert_eq!(heights, (1..=12).collect::<Vec<u64>>());

    // The latest blocks: the page ends at the tip and points down.
    let mut response = client
        .get(url(&explorer, "/api/blocks?count=100"))
        .send()
        .await
        .unwrap();
    let link = response
        .headers()
        .get("link")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let page: Vec<Value> = serde_json::from_slice(&response.body().await.unwrap()).unwrap();
    assert_eq!(page.last().unwrap()["height"], 12);
    assert!(link.ends_with("rel=\"prev\""), "{link}");

    explorer.stop().await;
    node.stop().await;
}

#[actix_rt::test]
async fn the_tree_lists_at_most_its_limit_in_whole_heights_and_names_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), None).await;
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    // Two branches: two blocks at each height 1..=4, one at 5.
    let fork = build_fork(&params, 4, 5, vec![], vec![]);
    submit(&node, &fork.short).await;
    submit(&node, &fork.long).await;
    let slice = node
        .chain
        .send(GetTree {
            depth: 100,
            top: None,
            limit: 4,
        })
        .await
        .unwrap();
    // The bound: at most `limit` blocks, whole heights only, the highest kept.
    let heights: Vec<u64> = slice.blocks.iter().map(|b| b.height).collect();
    assert_eq!(heights, vec![4, 4, 5]);
    assert_eq!(slice.cut_at, Some(3));
    assert!(
        slice.blocks.iter().all(|b| b.miner.is_some()),
        "every block names its miner"
    );
    // Over HTTP, the rest of a tree starts below its top.
    let client = awc::Client::builder().timeout(LONG).finish();
    let (status, tree) = answer(client.get(url(&explorer, "/api/tree?depth=2&top=3")), None).await;
    assert_eq!(status, 200);
    let listed: Vec<u64> = tree["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["height"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, vec![1, 1, 2, 2, 3, 3]);
    assert_eq!(tree["next"], Value::Null);
    explorer.stop().await;
    node.stop().await;
}

#[actix_rt::test]
async fn trees_and_pages_of_blocks_are_refused_past_their_own_cap() {
    // The bound at its tightest: no tree or page of blocks in flight for any address,
    // while every other request is served.
    let mut limits = ExplorerLimits::from_open_files(1_024);
    limits.budget.max_heavy_per_ip = 0;
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), Some(limits)).await;
    let client = awc::Client::builder().timeout(LONG).finish();
    for path in ["/api/tree?depth=10", "/api/blocks?count=5"] {
        let (status, body) = answer(client.get(url(&explorer, path)), None).await;
        assert_eq!(status, 429, "{path}: {body}");
        assert!(body["error"].as_str().unwrap().contains("trees or pages"));
    }
    let (status, _) = answer(client.get(url(&explorer, "/api/tip")), None).await;
    assert_eq!(status, 200);
    explorer.stop().await;
    node.stop().await;
}

#[actix_rt::test]
async fn idle_sockets_and_header_trickles_are_closed_at_the_request_deadline() {
    use tokio::io::AsyncReadExt;
    let mut limits = ExplorerLimits::from_open_files(1_024);
    let deadline = Duration::from_millis(300);
    limits.request_timeout = deadline;
    let dir = tempfile::tempdir().unwrap();
    let (node, explorer) = node_and_explorer(dir.path(), Some(limits)).await;
    let mut idle = tokio::net::TcpStream::connect(explorer.addr).await.unwrap();
    let mut trickle = tokio::net::TcpStream::connect(explorer.addr).await.unwrap();
    trickle
        .write_all(b"GET /api/tip HTTP/1.1\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    // One header byte every 100 ms, each well within the deadline, never the end.
    let trickling = async {
        loop {
            if trickle.write_all(b"X").await.is_err() {
                return;
            }
            let mut byte = [0u8; 1];
            match tokio::time::timeout(Duration::from_millis(100), trickle.read(&mut byte)).await {
                Ok(Ok(0) | Err(_)) => return,
                // The 408 answer; the close follows.
                Ok(Ok(_)) => continue,
                Err(_) => continue,
            }
        }
    };
    let idling = async {
        let mut rest = Vec::new();
        let _ = idle.read_to_end(&mut rest).await;
    };
    // The bound: both sockets are closed by the node within five deadlines, not held
    // for as long as their sender likes.
    let closed = tokio::time::timeout(LONG, futures::future::join(trickling, idling)).await;
    assert!(closed.is_ok(), "a socket was held for {LONG:?}");
    assert!(
        started.elapsed() < deadline * 5,
        "closed only after {:?} (deadline {deadline:?})",
        started.elapsed()
    );
    explorer.stop().await;
    node.stop().await;
}
