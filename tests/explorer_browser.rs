//! The explorer page in a real browser (headless chromium through WebDriver): what a
//! person would see. One browser session for the whole file, to keep the run short.
//! Outside CI without chromium the test skips with one line saying how to install it.
//! It ends with the page of an `ironchain launch` run as a person would run it.
//! Transactions' pages show token amounts in display units and multisig policies.

mod common;
mod explorer_common;

use common::*;
use explorer_common::*;
use ironchain::consensus::policy::Policy;
use ironchain::consensus::transaction::TxKind;
use ironchain::explorer::serve;
use ironchain::node::peer_manager::AddPeer;
use ironchain::node::tx_admission::admit_transaction;
use ironchain::testkit;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

#[actix_rt::test]
async fn node_page_shows_tip_live_blocks_fork_reorg_and_checked_proof_and_launch_page_every_node() {
    let Some(browser) = browser().await else {
        return;
    };
    // The width the page is laid out for on a desktop screen.
    browser.client.set_window_size(1400, 1000).await.unwrap();
    let alice = testkit::key(1);
    // Alice, Bob and Carol's 2-of-3 policy, funded at genesis.
    let policy = Policy::new(2, (1..=3).map(testkit::address).collect()).unwrap();
    let params = fast_params(&[
        (testkit::address(1), 1_000),
        (policy.address().account(), 1_000),
    ]);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(settings(&params, dir_a.path(), &[], false, 2)).await;
    let b = start(settings(&params, dir_b.path(), &[], false, 3)).await;
    let paid = testkit::transfer(&alice, testkit::address(2), 50, 1, 0, &a.genesis);
    let gold = testkit::issue(&alice, "GOLD", 2, 123_456, 1, 1, &a.genesis);
    let fork = build_fork(&params, 3, 5, Vec::new(), vec![paid.clone(), gold.clone()]);
    let explorer = serve(&a, "127.0.0.1:0".parse().unwrap()).await.unwrap();

    // The tip the page shows is the node's.
    submit(&a, &fork.short[..2]).await;
    browser.client.goto(&explorer.url()).await.unwrap();
    let node_height = summary(&a).await.tip.height;
    assert_eq!(node_height, 2);
    assert!(
        browser
            .wait_for("document.getElementById('live').textContent === 'live' && document.getElementById('tip-height').textContent === '2'", LONG)
            .await,
        "the page never showed height 2: {}",
        browser.eval("document.getElementById('tip-height').textContent").await
    );

    // A new block appears without a reload (a mark left in the page survives).
    browser.eval("window.notReloaded = true").await;
    let third = fork.short[2].hash().to_string();
    submit(&a, &fork.short[2..]).await;
    assert!(
        browser
            .wait_for(&format!("document.getElementById('tip-height').textContent === '3' && document.querySelector('#recent-blocks li[data-hash=\"{third}\"]') && document.querySelector('#tree g.block.best[data-hash=\"{third}\"]')"), LONG)
            .await,
        "block 3 did not appear"
    );
    assert_eq!(browser.eval("window.notReloaded === true").await, true);

    // A forced fork: B mined a heavier branch apart; once linked, A reorganises onto it.
    submit(&b, &fork.long).await;
    a.peers.do_send(AddPeer(b.listen_addr));
    assert!(
        wait_until(LONG, || converged(vec![&a, &b], 5)).await,
        "no convergence"
    );
    assert!(
        browser
            .wait_for("document.getElementById('tip-height').textContent === '5' && document.querySelectorAll('#tree g.block.stale').length === 3 && document.querySelector('#tree g.reorg') && document.querySelector('#reorgs li')", LONG)
            .await,
        "no stale branch or reorg mark: {}",
        browser.eval("document.getElementById('tree').outerHTML.slice(0, 2000)").await
    );
    assert!(browser
        .eval("document.getElementById('reorgs').textContent")
        .await
        .as_str()
        .is_some_and(|text| text.contains("depth 3")));
    assert_eq!(
        browser
            .eval("document.getElementById('stale-count').textContent")
            .await,
        "3"
    );
    assert!(
        browser
            .eval("document.querySelector('#peers li').dataset.addr")
            .await
            == b.listen_addr.to_string().as_str()
    );

    // The fill colours have a key (each miner on screen with its colour), and no miner is
    // drawn in the orange of the stale outline or the red of the reorg mark (hues 325°
    // through 0° to 90°).
    assert_eq!(
        browser
            .eval(&format!("{HUES}('#tree g.block rect, #miner-key .swatch')"))
            .await,
        serde_json::json!([]),
        "miner colours in the stale or reorg hues"
    );
    assert_eq!(
        browser
            .eval(
                "(() => { const fills = new Map([...document.querySelectorAll('#tree g.block')] \
                   .map((g) => [tree.blocks.get(g.dataset.hash).miner, g.querySelector('rect').getAttribute('fill')]) \
                   .filter(([miner]) => miner)); \
                 const rows = [...document.querySelectorAll('#miner-key .miner')]; \
                 return [rows.length, fills.size, rows.every((row) => \
                   row.querySelector('.swatch').getAttribute('style').includes(fills.get(row.dataset.miner)))]; })()"
            )
            .await,
        serde_json::json!([2, 2, true]),
        "the key lists the two miners on screen in their colours"
    );
    // Block times as ISO times, as everywhere else.
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('#recent-blocks li')].filter((li) => !/ \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$/.test(li.textContent)).length")
            .await,
        0,
        "{}",
        browser.eval("document.getElementById('recent-blocks').textContent").await
    );
    // The header stays one line at 1,400 px, even with long values in it.
    assert_eq!(
        browser
            .eval(
                "(() => { document.getElementById('intervals').textContent = Array(8).fill('12.3 s').join(', '); \
                 document.getElementById('tip-hash').textContent = '00000000a1b2c3d4'; \
                 document.getElementById('stale-count').textContent = '1234'; \
                 document.getElementById('reorg-count').textContent = '567'; \
                 const live = document.getElementById('live'); live.textContent = 'reconnecting…'; \
                 const title = document.querySelector('header h1').getBoundingClientRect(); \
                 return [live.getClientRects().length, Math.abs(live.getBoundingClientRect().top - title.top) < 8, \
                         live.getBoundingClientRect().right <= window.innerWidth]; })()"
            )
            .await,
        serde_json::json!([1, true, true]),
        "the live indicator wraps"
    );

    // The reorg is marked where the branches split (after genesis), not at
    // `height - depth + 1`: the branches were 3 and 5 blocks long.
    assert_eq!(
        browser
            .eval("document.querySelector('#tree g.reorg').dataset.height")
            .await,
        "1"
    );

    // The lookup box asks the node to read what was typed, by the command line's rule:
    // a short hash as the logs print it, a transaction prefix, and digits with a leading
    // zero (a hash prefix, not a height), each answered as `ironchain block` and
    // `ironchain tx` answer them.
    let look_up = |text: String, script: String| {
        let browser = &browser;
        async move {
            browser
                .eval(&format!(
                    "(() => {{ document.getElementById('query').value = {text:?}; \
                     document.getElementById('lookup').requestSubmit(); return 1; }})()"
                ))
                .await;
            let shown = browser.wait_for(&script, LONG).await;
            assert!(
                shown,
                "looking up {text}: {script} never held: {} at {}",
                browser
                    .eval("document.getElementById('detail').textContent")
                    .await,
                browser.eval("location.hash").await
            );
        }
    };
    let second = fork.long[1].hash().to_string();
    look_up(
        ironchain::consensus::hash::short_hex(&second).to_string(),
        format!("location.hash === '#/block/{second}' && document.getElementById('detail').textContent.startsWith('block 2')"),
    )
    .await;
    // An active block: its confirmations and a link to the next one.
    assert_eq!(
        browser
            .eval("document.getElementById('block-chain').textContent")
            .await,
        "active"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('block-confirmations').textContent")
            .await,
        "4"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('block-next').textContent")
            .await,
        fork.long[2].hash().to_string().as_str()
    );
    let paid_id = paid.id().to_string();
    look_up(
        paid_id[..9].to_string(),
        format!("location.hash === '#/tx/{paid_id}' && document.getElementById('tx-status')"),
    )
    .await;
    look_up(
        "00000002".to_string(),
        "document.getElementById('lookup-error') && document.getElementById('lookup-error').textContent === 'no block hash or transaction id starting with 00000002 is known to this node'".to_string(),
    )
    .await;
    look_up(
        "3effcb".to_string(),
        "document.getElementById('lookup-error') && document.getElementById('lookup-error').textContent.endsWith('6 hex digits are too few to look up: give at least 8')".to_string(),
    )
    .await;
    // A stale block says so.
    let stale = fork.short[2].hash().to_string();
    look_up(
        stale.clone(),
        format!("location.hash === '#/block/{stale}' && document.getElementById('block-chain') && document.getElementById('block-chain').textContent === 'stale'"),
    )
    .await;
    assert_eq!(
        browser
            .eval("document.getElementById('block-confirmations').textContent")
            .await,
        "0"
    );
    assert_eq!(
        browser.eval("document.getElementById('block-next')").await,
        serde_json::Value::Null
    );

    // A transaction's page checks its merkle proof in the browser.
    let txid = paid.id().to_string();
    browser
        .client
        .goto(&format!("{}#/tx/{txid}", explorer.url()))
        .await
        .unwrap();
    assert!(
        browser
            .wait_for("document.getElementById('proof-status') && document.getElementById('proof-status').dataset.valid === 'true'", LONG)
            .await,
        "the proof was not shown as checked: {}",
        browser.eval("document.getElementById('detail').textContent").await
    );
    // The proof's line wraps between words, whatever the width of its column: only a
    // hash too long for a line may break.
    assert_eq!(
        browser
            .eval(
                "(() => { const detail = document.getElementById('detail'); \
                 const status = document.getElementById('proof-status'); \
                 const broken = new Set(); \
                 for (let width = 300; width <= 900; width += 10) { detail.style.width = width + 'px'; \
                   const walker = document.createTreeWalker(status, NodeFilter.SHOW_TEXT); \
                   for (let text = walker.nextNode(); text; text = walker.nextNode()) { \
                     const words = /\\S+/g; let word; \
                     while ((word = words.exec(text.textContent))) { const range = document.createRange(); \
                       range.setStart(text, word.index); range.setEnd(text, word.index + word[0].length); \
                       if (word[0].length < 40 && range.getClientRects().length > 1) broken.add(word[0]); } } } \
                 detail.style.width = ''; return [...broken]; })()"
            )
            .await,
        serde_json::json!([]),
        "words broken in: {}",
        browser.eval("document.getElementById('proof-status').textContent").await
    );
    // The check is the page's own: a tampered sibling makes it fail.
    let tampered = browser
        .eval(&format!(
            "(async () => {{ const t = await (await fetch('/api/tx/{txid}')).json(); \
             t.proof.siblings[0] = '00'.repeat(32); \
             window.tamperedRoot = await merkleRootFor(t.txid, t.proof); \
             window.realRoot = await merkleRootFor(t.txid, (await (await fetch('/api/tx/{txid}')).json()).proof); }})(), 1"
        ))
        .await;
    assert_eq!(tampered, 1);
    assert!(
        browser
            .wait_for("window.realRoot !== undefined", LONG)
            .await
    );
    let block = a
        .chain
        .send(ironchain::node::chain_actor::GetBlock(
            ironchain::net::message::BlockRef::Height(1),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        browser.eval("window.realRoot").await,
        block.header.merkle_root.to_string().as_str()
    );
    assert_ne!(
        browser.eval("window.tamperedRoot").await,
        browser.eval("window.realRoot").await
    );

    // Token and multisig fields: an issue (confirmed), a token transfer and a policy spend
    // (pending), each with its amount in the token's display units and the policy's signers.
    let token = ironchain::consensus::token::token_id(&testkit::address(1), 1);
    let sent = testkit::token_transfer(&alice, testkit::address(4), token, 1_250, 1, 2, &a.genesis);
    let carol = testkit::key(3);
    let spend = testkit::policy_spend(
        &policy,
        &[&alice, &carol],
        TxKind::Transfer,
        testkit::address(4),
        7,
        1,
        0,
        &a.genesis,
    );
    let mut signers = [testkit::address(1), testkit::address(3)].map(|a| a.to_string());
    signers.sort();
    for tx in [&sent, &spend] {
        let admitted = admit_transaction(&a.chain, &a.verifier, tx.clone(), None).await;
        assert!(admitted.is_ok(), "{admitted:?}");
    }
    let shows = |txid: String, script: String| {
        let browser = &browser;
        let url = format!("{}#/tx/{txid}", explorer.url());
        async move {
            browser.client.goto(&url).await.unwrap();
            let shown = browser.wait_for(&script, LONG).await;
            assert!(
                shown,
                "{script} never held: {}",
                browser
                    .eval("document.getElementById('detail').textContent")
                    .await
            );
        }
    };
    let text = |id: &str| {
        format!("document.getElementById('{id}') && document.getElementById('{id}').textContent")
    };
    shows(
        gold.id().to_string(),
        format!(
            "{} === 'GOLD' && {} === '1234.56 GOLD'",
            text("tx-token"),
            text("tx-amount")
        ),
    )
    .await;
    shows(
        sent.id().to_string(),
        format!(
            "{} === 'GOLD' && {} === '12.50 GOLD'",
            text("tx-token"),
            text("tx-amount")
        ),
    )
    .await;
    shows(
        spend.id().to_string(),
        format!(
            "{} === '2 of 3' && {}.split(', ').sort().join() === '{}' && {} === '7'",
            text("tx-policy"),
            text("tx-signers"),
            signers.join(","),
            text("tx-amount")
        ),
    )
    .await;

    // Alice's address: the issue and the token transfer in GOLD's display units with its
    // symbol (not as coins), and her GOLD balance.
    browser
        .client
        .goto(&format!(
            "{}#/address/{}",
            explorer.url(),
            testkit::address(1)
        ))
        .await
        .unwrap();
    let activity = |kind: &str| {
        format!("[...document.querySelectorAll('.activity[data-kind=\"{kind}\"]')].map((row) => row.textContent).join()")
    };
    assert!(
        browser
            .wait_for(
                &format!(
                    "{}.endsWith('issued 1234.56 GOLD') && {}.endsWith('sent 12.50 GOLD')",
                    activity("issue"),
                    activity("token_transfer")
                ),
                LONG
            )
            .await,
        "token amounts not in display units: {}",
        browser
            .eval("document.getElementById('detail').textContent")
            .await
    );
    assert!(browser
        .eval(&activity("transfer"))
        .await
        .as_str()
        .is_some_and(|text| text.ends_with("sent 50 coins")));
    assert_eq!(
        browser
            .eval(
                "[...document.querySelectorAll('.token-balance')].map((b) => b.textContent).join()"
            )
            .await,
        "1234.56 GOLD"
    );

    // 10,000 blocks: the tree draws only what is on screen.
    let drawn = browser
        .eval(
            "(() => { const blocks = []; let parent = ''; \
             for (let h = 0; h < 10000; h++) { const hash = 'h' + h; \
               blocks.push({hash, parent, height: h, miner: 'm' + (h % 3), on_best_chain: true}); parent = hash; } \
             tree.setBlocks(blocks); tree.render(); \
             return [Number(document.getElementById('tree').dataset.drawn), \
                     document.querySelectorAll('#tree g.block').length, \
                     Number(document.querySelector('#tree g.block:last-of-type').dataset.height)]; })()",
        )
        .await;
    let drawn: Vec<u64> = serde_json::from_value(drawn).unwrap();
    assert!(
        drawn[0] > 0 && drawn[0] < 200,
        "drew {} of 10,000 blocks",
        drawn[0]
    );
    assert_eq!(drawn[0], drawn[1]);
    assert_eq!(drawn[2], 9_999, "the tip is in view");

    explorer.stop().await;
    a.stop().await;
    b.stop().await;

    // `ironchain launch` prints its page's URL; the page lists every node with its tip,
    // the partition while it lasts, and draws each node's tree.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("launch.toml");
    std::fs::write(&config, LAUNCH_CONFIG).unwrap();
    let mut launch = LaunchProcess::start(&config, &dir.path().join("run"));
    let url = launch.page_url();
    browser.client.goto(&url).await.unwrap();
    assert!(
        browser
            .wait_for("document.querySelectorAll('#nodes tr.node').length === 3 && document.querySelectorAll('#views svg.tree').length === 3", LONG)
            .await,
        "the launch page does not list the three nodes"
    );
    let names = browser
        .eval("[...document.querySelectorAll('#nodes tr.node')].map((row) => row.dataset.name)")
        .await;
    assert_eq!(names, serde_json::json!(["ams", "nyc", "tyo"]));
    assert!(
        browser
            .wait_for("document.getElementById('partition-state').textContent.startsWith('cut: {ams, nyc} | {tyo}')", LONG)
            .await,
        "the partition is not shown: {}",
        browser.eval("document.getElementById('partition-state').textContent").await
    );
    assert!(
        browser
            .wait_for("[...document.querySelectorAll('#nodes td.height')].every((cell) => Number(cell.textContent) > 0) && document.querySelectorAll('#views g.block').length > 3", LONG)
            .await,
        "no blocks drawn on the launch page"
    );
    // No node's colour is the stale outline's orange or the reorg's red.
    assert_eq!(
        browser
            .eval(&format!("{HUES}('#views g.block rect, #nodes .swatch')"))
            .await,
        serde_json::json!([]),
        "node colours in the stale or reorg hues"
    );
    // While the partition lasts, the links it cuts are marked.
    assert!(
        browser
            .wait_for("[...document.querySelectorAll('#links li.cut')].map((li) => li.textContent.split(':')[0]).join() === 'ams ✕ tyo,nyc ✕ tyo'", LONG)
            .await,
        "cut links not marked: {}",
        browser.eval("document.getElementById('links').textContent").await
    );

    // The run ends by itself: the summary is printed, then the page goes on showing the
    // final state and says the run is over, until Ctrl-C.
    let printed = launch.lines_until("the run is over");
    assert!(
        printed
            .iter()
            .any(|line| line.starts_with("summary written to")),
        "no summary before the page's last state: {printed:?}"
    );
    assert!(
        browser
            .wait_for(
                "document.getElementById('live').textContent.startsWith('the run is over')",
                LONG
            )
            .await,
        "the page does not say the run is over: {}",
        browser
            .eval("document.getElementById('live').textContent")
            .await
    );
    // Reloaded after the nodes stopped, it still shows every node and tree.
    browser.client.refresh().await.unwrap();
    assert!(
        browser
            .wait_for("document.getElementById('live').textContent.startsWith('the run is over') && document.querySelectorAll('#nodes tr.node').length === 3 && document.querySelectorAll('#views g.block').length > 3", LONG)
            .await,
        "the final state is not served after the run"
    );
    // The stale count is the network's, over the union of the trees, as the summary
    // counts it (each node's own count is in its row).
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("run").join("summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        browser
            .eval("document.getElementById('stale-total').textContent")
            .await,
        summary["stale"].to_string().as_str()
    );
    drop(launch);
    browser.close().await;
}

/// A JavaScript function of a CSS selector: the hues of the elements' fills (an `hsl`
/// `fill` attribute or `background` in the style) that fall where the stale outline's
/// orange and the reorg mark's red are, from 325° round to 90°.
const HUES: &str = "((selector) => [...document.querySelectorAll(selector)] \
    .map((e) => e.getAttribute('fill') || e.getAttribute('style') || '') \
    .map((colour) => /hsl\\((\\d+)/.exec(colour)).filter(Boolean).map((m) => Number(m[1])) \
    .filter((hue) => hue < 90 || hue >= 325))";

const LAUNCH_CONFIG: &str = r#"
[chain]
genesis_message = "explorer launch page test"
target_block_time_ms = 300

[simulation]
mining = "simulated"
seed = 3
duration_ms = 6000
delay_ms = 50
jitter_ms = 10

[[simulation.partitions]]
groups = [["ams", "nyc"], ["tyo"]]
start_ms = 0
heal_ms = 60000

[[nodes]]
name = "ams"
peers = ["nyc", "tyo"]

[[nodes]]
name = "nyc"
peers = ["tyo"]

[[nodes]]
name = "tyo"
"#;

/// `ironchain launch` as a person runs it; killed when dropped.
struct LaunchProcess {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl LaunchProcess {
    fn start(config: &std::path::Path, run_dir: &std::path::Path) -> Self {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ironchain"))
            .arg("launch")
            .arg(config)
            .arg("--run-dir")
            .arg(run_dir)
            .arg("--quiet")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("ironchain launch starts");
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        LaunchProcess { child, stdout }
    }

    /// The lines printed up to the first one that starts with `start` (included).
    fn lines_until(&mut self, start: &str) -> Vec<String> {
        use std::io::BufRead;
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read = self.stdout.read_line(&mut line).expect("stdout readable");
            assert!(
                read > 0,
                "the launch ended without a line starting {start:?}: {lines:?}"
            );
            lines.push(line.trim().to_string());
            if line.starts_with(start) {
                return lines;
            }
        }
    }

    /// The URL from the "launch page at URL" line.
    fn page_url(&mut self) -> String {
        let lines = self.lines_until("launch page at ");
        let last = lines.last().map(String::as_str).unwrap_or_default();
        last.trim_start_matches("launch page at ").to_string()
    }
}

impl Drop for LaunchProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
