//! Crash safety with the real binary (the book's Protocol and rules › Storage): a node
//! killed with SIGKILL at random moments — while it mines, and while it clones a chain from
//! a peer — restarts at a tip at least as high as the last block it logged, passes
//! `ironchain verify`, and carries on: it mines again, and it finishes the sync.
//!
//! Where each kill lands is drawn from a seeded generator; the seed is printed, and
//! `CRASH_SEED=N` replays a run. What is asserted holds wherever the kills land.

mod common;

use common::binary::{number_after, BinaryNode};
use ironchain::chain::mempool::MempoolLimits;
use ironchain::config::Config;
use ironchain::testkit;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_ironchain");
/// Blocks come every few tens of milliseconds at 8 bits, so kills land among commits.
const CONFIG: &str = "[chain]\npow_limit_bits = 0\ninitial_difficulty_bits = 8\n\
                      target_block_time_ms = 50\nretarget_interval = 10\n";
/// Length of the chain the syncing node clones: several batches' worth of blocks.
const SOURCE_BLOCKS: usize = 3_000;

/// The generator of kill offsets, its seed printed so that a failure can be replayed.
fn kill_offsets(test: &str) -> StdRng {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("{test}: seed {seed} (CRASH_SEED={seed} replays it)");
    StdRng::seed_from_u64(seed)
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("fast.toml");
    std::fs::write(&config, CONFIG).unwrap();
    config
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temp dirs are UTF-8")
}

/// `ironchain verify` on `data`; returns the verified height.
fn verify(data: &Path, config: &Path, what: &str) -> u64 {
    let output = Command::new(BINARY)
        .args(["verify", "--data-dir", path(data), "--config", path(config)])
        .output()
        .expect("verify runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{what}: verify failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("is valid"), "{what}: {stdout}");
    number_after(&stdout, "height ")
}

/// The highest height in `lines` after `label`, if any.
fn highest(lines: &[String], label: &str) -> Option<u64> {
    lines
        .iter()
        .filter(|line| line.contains(label))
        .map(|line| number_after(line, label))
        .max()
}

#[test]
fn killed_at_random_moments_while_mining_restarts_valid_and_mines_on() {
    let mut offsets = kill_offsets("mining");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data = dir.path().join("data");
    let mut last_logged = 0;
    for round in 0..3 {
        let node = BinaryNode::start([
            "--port",
            "0",
            "--data-dir",
            path(&data),
            "--config",
            path(&config),
        ]);
        let reopened_at = node.opened_height();
        assert!(
            reopened_at >= last_logged,
            "round {round}: reopened at {reopened_at}, but height {last_logged} was logged"
        );
        // It mines on from where it was, then dies somewhere among the next blocks.
        let mined = node.wait_for_mined(reopened_at + 3);
        let offset = Duration::from_millis(offsets.gen_range(0..400));
        println!("mining round {round}: killed {offset:?} after mining height {mined}");
        std::thread::sleep(offset);
        let unread = node.kill();
        last_logged = highest(&unread, "block mined: height ").map_or(mined, |h| h.max(mined));
        let verified = verify(&data, &config, &format!("mining round {round}"));
        assert!(
            verified >= last_logged,
            "round {round}: verified height {verified}, but height {last_logged} was logged"
        );
    }
}

/// Builds a chain of [`SOURCE_BLOCKS`] empty blocks in `data` on `config`'s network.
fn build_source_chain(data: &Path, config: &Path) {
    let params = Config::load(config).unwrap().chain;
    let mut chain = common::chain::open_chain_in(data, params, MempoolLimits::default());
    testkit::extend(&mut chain, testkit::address(9), SOURCE_BLOCKS);
}

/// The tip height `node` reports to a client, if it answers.
fn client_tip(node: &str) -> Option<u64> {
    let output = Command::new(BINARY)
        .args(["tip", "--json", "--node", node])
        .output()
        .ok()?;
    let reply: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    reply["height"].as_u64()
}

#[test]
fn killed_at_random_moments_while_syncing_restarts_valid_and_finishes_the_sync() {
    let mut offsets = kill_offsets("sync");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let source_data = dir.path().join("source");
    build_source_chain(&source_data, &config);
    let source = BinaryNode::start([
        "--port",
        "0",
        "--no-mine",
        "--no-http",
        "--data-dir",
        path(&source_data),
        "--config",
        path(&config),
    ]);
    let source_addr = source.listen_addr();

    let data = dir.path().join("syncing");
    let start_syncing = || {
        BinaryNode::start([
            "--port",
            "0",
            "--no-mine",
            "--no-http",
            "--peer",
            &source_addr,
            "--data-dir",
            path(&data),
            "--config",
            path(&config),
        ])
    };
    let mut last_logged = 0;
    for round in 0..3 {
        let node = start_syncing();
        let reopened_at = node.opened_height();
        assert!(
            reopened_at >= last_logged,
            "round {round}: reopened at {reopened_at}, but sync progress {last_logged} was logged"
        );
        // Killed anywhere from the handshake to the middle of the download and its
        // commits (a debug build clones a few thousand blocks in a few seconds).
        let offset = Duration::from_millis(offsets.gen_range(0..1_500));
        println!("sync round {round}: killed {offset:?} after opening at height {reopened_at}");
        std::thread::sleep(offset);
        let unread = node.kill();
        if let Some(progress) = highest(&unread, "sync: height ") {
            last_logged = last_logged.max(progress);
        }
        verify(&data, &config, &format!("sync round {round}"));
    }
    // Unhindered at last, it finishes the clone.
    let node = start_syncing();
    let addr = node.listen_addr();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut height = None;
    while Instant::now() < deadline && height != Some(SOURCE_BLOCKS as u64) {
        std::thread::sleep(Duration::from_millis(200));
        height = client_tip(&addr);
    }
    assert_eq!(
        height,
        Some(SOURCE_BLOCKS as u64),
        "the sync never finished"
    );
    drop(node);
    assert_eq!(
        verify(&data, &config, "after the sync"),
        SOURCE_BLOCKS as u64
    );
}
