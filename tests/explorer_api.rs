//! The explorer's JSON API over real HTTP: every endpoint, every error case (unknown
//! hash, bad address checksum, malformed JSON, oversized body, bad query), the live
//! events of a reorg, a transaction and a peer, and no CORS.

mod common;
mod explorer_common;

use common::*;
use explorer_common::*;
use futures::StreamExt;
use ironchain::consensus::token::token_id;
use ironchain::explorer::api::MAX_BODY_BYTES;
use ironchain::explorer::{serve, Explorer};
use ironchain::node::peer_manager::AddPeer;
use ironchain::testkit;
use ironchain::view::tx_file;
use serde_json::Value;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

struct Api {
    client: awc::Client,
    base: String,
}

impl Api {
    fn new(explorer: &Explorer) -> Self {
        Api {
            client: awc::Client::builder().timeout(LONG).finish(),
            base: format!("http://{}", explorer.addr),
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let mut response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let body = response.body().await.expect("body");
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body:?}"));
        (response.status().as_u16(), json)
    }

    async fn post(&self, path: &str, body: impl Into<String>) -> (u16, Value) {
        let mut response = self
            .client
            .post(format!("{}{path}", self.base))
            .insert_header(("Content-Type", "application/json"))
            .send_body(body.into())
            .await
            .expect("request");
        let body = response.body().await.expect("body");
        (
            response.status().as_u16(),
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// Asserts an error answer: the status, a JSON `error` containing `reason`.
    async fn fails(&self, path: &str, status: u16, reason: &str) {
        let (got, body) = self.get(path).await;
        assert_eq!(got, status, "GET {path}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(reason),
            "GET {path}: {error:?} lacks {reason:?}"
        );
    }
}

/// Reads Server-Sent Events until one named `name` whose data satisfies `wanted`.
async fn next_event<S>(
    stream: &mut S,
    buffer: &mut String,
    name: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value
where
    S: futures::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let found = tokio::time::timeout(LONG, async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = None;
                for line in frame.lines() {
                    if let Some(rest) = line.strip_prefix("event: ") {
                        event = Some(rest.to_string());
                    } else if let Some(rest) = line.strip_prefix("data: ") {
                        data = serde_json::from_str::<Value>(rest).ok();
                    }
                }
                if let (Some(event), Some(data)) = (event, data) {
                    assert_eq!(data["type"], event.as_str(), "event name and type agree");
                    if event == name && wanted(&data) {
                        return data;
                    }
                }
            }
            let chunk = stream.next().await.expect("stream open").expect("chunk");
            buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {name} event"))
}

#[actix_rt::test]
async fn every_endpoint_answers_and_every_bad_input_is_a_json_error() {
    let alice = testkit::key(1);
    let params = fast_params(&[(testkit::address(1), 1_000), (testkit::address(5), 100)]);
    let dir = tempfile::tempdir().unwrap();
    let node = start(settings(&params, dir.path(), &[], false, 2)).await;
    let explorer = serve(&node, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = Api::new(&explorer);
    let genesis = node.genesis;
    let paid = testkit::transfer(&alice, testkit::address(2), 50, 1, 0, &genesis);
    // The heavier branch issues a token.
    let gold = testkit::issue(&testkit::key(5), "GOLD", 2, 123_456, 1, 0, &genesis);
    let fork = build_fork(&params, 3, 4, vec![paid.clone()], vec![gold]);

    // Live events from here on.
    let mut events = api
        .client
        .get(format!("{}/api/events", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status().as_u16(), 200);
    assert_eq!(
        events.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut buffer = String::new();

    assert_eq!(submit(&node, &fork.short).await.stored, 3);
    let short_tip = fork.short[2].hash().to_string();
    let connected = next_event(&mut events, &mut buffer, "block_connected", |e| {
        e["hash"] == short_tip.as_str()
    })
    .await;
    assert_eq!(connected["height"], 3);
    assert_eq!(connected["on_best_chain"], true);
    assert_eq!(
        connected["miner"],
        testkit::address(30).to_string().as_str()
    );

    // Tip, as `tip --json` shows it.
    let (status, tip) = api.get("/api/tip").await;
    assert_eq!(status, 200);
    assert_eq!(tip["height"], 3);
    assert_eq!(tip["hash"], short_tip.as_str());
    assert_eq!(tip["genesis"], genesis.to_string().as_str());
    assert!(tip["work"].is_string() && tip["difficulty_bits"].is_u64());

    // Blocks by height, by hash, and a page of them.
    let (status, block) = api.get("/api/blocks/1").await;
    assert_eq!(status, 200);
    assert_eq!(block["hash"], fork.short[0].hash().to_string().as_str());
    assert_eq!(block["txs"][0]["txid"], paid.id().to_string().as_str());
    let (_, same) = api
        .get(&format!("/api/blocks/{}", fork.short[0].hash()))
        .await;
    assert_eq!(same, block);
    let (status, page) = api.get("/api/blocks?from=1&count=5").await;
    assert_eq!(status, 200);
    let heights: Vec<u64> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["height"].as_u64().unwrap())
        .collect();
    assert_eq!(heights, vec![1, 2, 3], "stops at the tip");
    let (_, latest) = api.get("/api/blocks?count=2").await;
    assert_eq!(latest[1]["height"], 3);

    // A confirmed transaction with its checked proof, and its sender's account.
    let (status, tx) = api.get(&format!("/api/tx/{}", paid.id())).await;
    assert_eq!(status, 200);
    assert_eq!(tx["status"], "confirmed");
    assert_eq!(tx["height"], 1);
    assert_eq!(tx["proof_valid"], true);
    assert_eq!(tx["proof"]["header_merkle_root"], block["merkle_root"]);
    let (status, account) = api
        .get(&format!("/api/address/{}", testkit::address(1)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(account["balance"], (1_000 - 51).to_string());
    assert_eq!(account["nonce"], 1);
    assert_eq!(
        account["recent_transactions"][0]["txid"],
        paid.id().to_string().as_str()
    );

    // The heavier branch: stale blocks, a reorg, the tree with both branches.
    assert_eq!(submit(&node, &fork.long).await.stored, 4);
    let reorg = next_event(&mut events, &mut buffer, "reorg", |_| true).await;
    assert_eq!(reorg["depth"], 3);
    assert_eq!(reorg["old_tip"], short_tip.as_str());
    assert_eq!(reorg["new_tip"], fork.long[3].hash().to_string().as_str());
    // The branches split at genesis, though the old one was 3 blocks and the new one 4.
    assert_eq!(reorg["height"], 4);
    assert_eq!(reorg["fork_height"], 0);
    let (status, tree) = api.get("/api/tree?depth=10").await;
    assert_eq!(status, 200);
    let blocks = tree["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 8, "genesis and both branches: {tree}");
    let stale: Vec<&Value> = blocks
        .iter()
        .filter(|b| b["on_best_chain"] == false)
        .collect();
    assert_eq!(stale.len(), 3);
    assert!(stale
        .iter()
        .all(|b| b["miner"] == testkit::address(30).to_string().as_str()));
    let top = blocks.iter().find(|b| b["height"] == 4).unwrap();
    assert_eq!(top["parent"], fork.long[2].hash().to_string().as_str());
    assert!(top["interval_ms"].is_u64() && top["timestamp_ms"].is_u64());
    // Every block view says where the block stands: a stale block is not on the active
    // chain and has no confirmations, nor a next block; an active one has both. The
    // command line says the same, in text and in JSON.
    let stale_hash = fork.short[2].hash().to_string();
    let (status, stale_block) = api.get(&format!("/api/blocks/{stale_hash}")).await;
    assert_eq!(status, 200);
    assert_eq!(stale_block["on_best_chain"], false);
    assert_eq!(stale_block["confirmations"], 0);
    assert_eq!(stale_block["next"], Value::Null);
    let (_, first) = api.get("/api/blocks/1").await;
    assert_eq!(first["hash"], fork.long[0].hash().to_string().as_str());
    assert_eq!(first["on_best_chain"], true);
    assert_eq!(first["confirmations"], 4, "blocks 1 to 4");
    assert_eq!(first["next"], fork.long[1].hash().to_string().as_str());
    let (_, top) = api.get("/api/blocks/4").await;
    assert_eq!(
        (top["confirmations"].clone(), top["next"].clone()),
        (1.into(), Value::Null)
    );
    let at = node.listen_addr.to_string();
    let (ok, stdout, stderr) = cli(vec![
        "block".into(),
        stale_hash.clone(),
        "--node".into(),
        at.clone(),
        "--json".into(),
    ])
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), stale_block);
    let (ok, stdout, stderr) = cli(vec![
        "block".into(),
        stale_hash,
        "--node".into(),
        at.clone(),
    ])
    .await;
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(
            "chain        stale: on a branch beside the node's active chain (0 confirmations)"
        ),
        "{stdout}"
    );
    let (_, stdout, _) = cli(vec!["block".into(), "1".into(), "--node".into(), at]).await;
    assert!(
        stdout.contains("chain        active, 4 confirmations"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("next         {}", fork.long[1].hash())),
        "{stdout}"
    );
    let (_, shallow) = api.get("/api/tree?depth=1").await;
    assert!(shallow["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["height"].as_u64() >= Some(3)));

    // The long branch's token, as `token info --json` shows it; unknown and malformed ids
    // are errors.
    let token = token_id(&testkit::address(5), 0);
    let (status, info) = api.get(&format!("/api/token/{token}")).await;
    assert_eq!(status, 200);
    assert_eq!(info["token_id"], token.to_string().as_str());
    assert_eq!(info["symbol"], "GOLD");
    assert_eq!(info["decimals"], 2);
    assert_eq!(info["supply"], "1234.56");
    assert_eq!(info["supply_base_units"], "123456");
    let unknown = token_id(&testkit::address(5), 9);
    api.fails(&format!("/api/token/{unknown}"), 404, "not known")
        .await;
    api.fails("/api/token/gold", 400, "not a token id").await;
    // The issuer's activity names the issue as one, as the transaction itself does.
    let (_, issuer) = api
        .get(&format!("/api/address/{}", testkit::address(5)))
        .await;
    let issue = &issuer["recent_transactions"][0];
    assert_eq!(issue["kind"], "issue", "{issuer}");
    assert_eq!(issue["transaction"]["kind"], "issue");
    assert_eq!(issuer["tokens"][0]["balance"], "1234.56");

    // The reorg sent the transfer back to the mempool.
    let (_, pool) = api.get("/api/mempool").await;
    assert_eq!(pool["count"], 1);
    assert_eq!(
        pool["transactions"][0]["txid"],
        paid.id().to_string().as_str()
    );
    let (_, pending) = api.get(&format!("/api/tx/{}", paid.id())).await;
    assert_eq!(pending["status"], "pending");

    // A new transaction through POST /api/tx, as `send --save-tx` writes it.
    let next = testkit::transfer(&alice, testkit::address(3), 5, 1, 1, &genesis);
    let (status, answer) = api.post("/api/tx", tx_file::to_text(&next).unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], true);
    assert_eq!(answer["txid"], next.id().to_string().as_str());
    let accepted = next_event(&mut events, &mut buffer, "tx_accepted", |_| true).await;
    assert_eq!(accepted["txid"], next.id().to_string().as_str());
    // The same again is refused by the node's rules: 422 with the reason.
    let (status, refused) = api.post("/api/tx", tx_file::to_text(&next).unwrap()).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["accepted"], false);
    assert!(refused["reason"].as_str().is_some_and(|r| !r.is_empty()));

    // Peers, and their joining and leaving.
    let (_, none) = api.get("/api/peers").await;
    assert_eq!(none, serde_json::json!([]));
    let other_dir = tempfile::tempdir().unwrap();
    let other = start(settings(&params, other_dir.path(), &[], false, 3)).await;
    node.peers.do_send(AddPeer(other.listen_addr));
    let joined = next_event(&mut events, &mut buffer, "peer_joined", |_| true).await;
    assert_eq!(joined["addr"], other.listen_addr.to_string().as_str());
    let (_, peers) = api.get("/api/peers").await;
    assert_eq!(peers[0]["addr"], other.listen_addr.to_string().as_str());
    other.stop().await;
    next_event(&mut events, &mut buffer, "peer_left", |_| true).await;

    // Every bad input: a JSON error with the right status and a reason.
    api.fails(
        &format!("/api/blocks/{}", "ab".repeat(32)),
        404,
        "unknown block",
    )
    .await;
    api.fails("/api/blocks/99", 404, "no block at height 99")
        .await;
    api.fails(
        "/api/blocks/xyz",
        400,
        "neither a block height nor a block hash",
    )
    .await;
    api.fails(&format!("/api/tx/{}", "cd".repeat(32)), 404, "is not known")
        .await;
    api.fails(
        "/api/tx/123",
        400,
        "is neither a transaction id nor a prefix of one",
    )
    .await;
    let address = testkit::address(1).to_string();
    let mut typo = address.clone().into_bytes();
    typo[10] = if typo[10] == b'0' { b'1' } else { b'0' };
    let typo = String::from_utf8(typo).unwrap();
    api.fails(&format!("/api/address/{typo}"), 400, "checksum")
        .await;
    api.fails(
        "/api/blocks?count=0",
        400,
        "count must be between 1 and 100",
    )
    .await;
    api.fails(
        "/api/blocks?count=101",
        400,
        "count must be between 1 and 100",
    )
    .await;
    api.fails("/api/blocks?from=abc", 400, "bad query string")
        .await;
    api.fails("/api/blocks?color=red", 400, "bad query string")
        .await;
    api.fails("/api/tree?depth=10001", 400, "depth must be at most 10000")
        .await;
    api.fails("/api/nothing", 404, "no such endpoint").await;
    let (status, malformed) = api.post("/api/tx", "{\"sender\": ").await;
    assert_eq!(status, 400);
    assert!(malformed["error"]
        .as_str()
        .unwrap()
        .contains("not a transaction file"));
    let (status, oversized) = api.post("/api/tx", "x".repeat(MAX_BODY_BYTES + 1)).await;
    assert_eq!(status, 413);
    assert!(oversized["error"].as_str().unwrap().contains("larger than"));

    // No CORS: another origin's page gets no permission to read the answers.
    let response = api
        .client
        .get(format!("{}/api/tip", api.base))
        .insert_header(("Origin", "http://example.com"))
        .send()
        .await
        .unwrap();
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let preflight = api
        .client
        .request(awc::http::Method::OPTIONS, format!("{}/api/tx", api.base))
        .insert_header(("Origin", "http://example.com"))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_client_error());
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    // The page and its assets are served.
    let mut page = api
        .client
        .get(format!("{}/", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.body().await.unwrap();
    assert!(std::str::from_utf8(&html)
        .unwrap()
        .contains("ironchain explorer"));

    explorer.stop().await;
    node.stop().await;
}

/// Runs `ironchain ARGS` off the actix thread (the node answering it runs on this one);
/// its exit status, stdout and stderr.
async fn cli(args: Vec<String>) -> (bool, String, String) {
    let output = actix_rt::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ironchain"))
            .args(&args)
            .output()
            .expect("ironchain runs")
    })
    .await
    .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

#[actix_rt::test]
async fn lookups_by_prefix_resolve_as_the_command_line_resolves_them() {
    let alice = testkit::key(1);
    let params = fast_params(&[(testkit::address(1), 1_000)]);
    let dir = tempfile::tempdir().unwrap();
    let node = start(settings(&params, dir.path(), &[], false, 2)).await;
    let explorer = serve(&node, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = Api::new(&explorer);
    let at = node.listen_addr.to_string();
    let paid = testkit::transfer(&alice, testkit::address(2), 50, 1, 0, &node.genesis);
    let fork = build_fork(&params, 3, 0, vec![paid.clone()], Vec::new());
    submit(&node, &fork.short).await;
    let block_cli = |text: &str| {
        cli(vec![
            "block".into(),
            text.into(),
            "--node".into(),
            at.clone(),
            "--json".into(),
        ])
    };

    // The short hash the logs print (leading zeros and 8 digits, an odd count or not):
    // the same block from the API, the lookup and the command line.
    let hash = fork.short[0].hash().to_string();
    let short = ironchain::consensus::hash::short_hex(&hash).to_string();
    let (status, block) = api.get(&format!("/api/blocks/{short}")).await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(block["hash"], hash.as_str());
    let (ok, stdout, stderr) = block_cli(&short).await;
    assert!(ok, "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["hash"],
        hash.as_str()
    );
    let (status, found) = api.get(&format!("/api/lookup/{short}")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found, serde_json::json!({"kind": "block", "id": hash}));

    // Digits with a leading zero are a hash prefix everywhere, never height 2 (the one
    // rule of the README); no block hash starts with them.
    let (ok, _, cli_error) = block_cli("00000002").await;
    assert!(!ok);
    assert!(
        cli_error.ends_with(&format!(
            "no block hash starting with 00000002 is known to {at}"
        )),
        "{cli_error}"
    );
    for path in ["/api/blocks/00000002", "/api/lookup/00000002"] {
        api.fails(path, 404, "starting with 00000002 is known to this node")
            .await;
    }
    api.fails(
        "/api/blocks/00000002",
        404,
        "no block hash starting with 00000002 is known to this node",
    )
    .await;
    // Without the leading zero, it is the height.
    let (_, second) = api.get("/api/lookup/2").await;
    assert_eq!(second["id"], fork.short[1].hash().to_string().as_str());

    // A transaction prefix, as the README abbreviates ids.
    let txid = paid.id().to_string();
    // "…" percent-encoded, as a browser sends it.
    let (status, tx) = api.get(&format!("/api/tx/{}%E2%80%A6", &txid[..8])).await;
    assert_eq!(status, 200, "{tx}");
    assert_eq!(tx["txid"], txid.as_str());
    assert_eq!(tx["status"], "confirmed");
    let (_, found) = api.get(&format!("/api/lookup/{}", &txid[..10])).await;
    assert_eq!(found, serde_json::json!({"kind": "tx", "id": txid}));
    let (_, found) = api.get(&format!("/api/lookup/{txid}")).await;
    assert_eq!(found["kind"], "tx");
    let (_, found) = api.get(&format!("/api/lookup/{hash}")).await;
    assert_eq!(found["kind"], "block");
    let address = testkit::address(2).to_string();
    let (_, found) = api.get(&format!("/api/lookup/{address}")).await;
    assert_eq!(found, serde_json::json!({"kind": "address", "id": address}));

    // Too short and unknown prefixes: the command line's reasons.
    let short_error = "6 hex digits are too few to look up: give at least 8";
    let (ok, _, cli_error) = cli(vec![
        "tx".into(),
        "3effcb".into(),
        "--node".into(),
        at.clone(),
    ])
    .await;
    assert!(!ok && cli_error.contains(short_error), "{cli_error}");
    for path in ["/api/tx/3effcb", "/api/blocks/3effcb", "/api/lookup/3effcb"] {
        api.fails(path, 400, short_error).await;
    }
    let unknown: String = txid[..10]
        .chars()
        .map(|c| if c == 'f' { '0' } else { 'f' })
        .collect();
    let (ok, _, cli_error) = cli(vec![
        "tx".into(),
        unknown.clone(),
        "--node".into(),
        at.clone(),
    ])
    .await;
    assert!(!ok);
    assert!(
        cli_error.ends_with(&format!(
            "no transaction id starting with {unknown} is known to {at}"
        )),
        "{cli_error}"
    );
    api.fails(
        &format!("/api/tx/{unknown}"),
        404,
        &format!("no transaction id starting with {unknown} is known to this node"),
    )
    .await;
    api.fails(
        &format!("/api/lookup/{unknown}"),
        404,
        &format!("no block hash or transaction id starting with {unknown} is known to this node"),
    )
    .await;

    explorer.stop().await;
    node.stop().await;
}
