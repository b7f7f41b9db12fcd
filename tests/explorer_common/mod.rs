//! Helpers for the explorer's tests: a node with its explorer, and a fork built off-line
//! (two branches from genesis, by two miners) to hand to nodes block by block.

#![allow(dead_code)]

use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::consensus::block::Block;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Transaction;
use ironchain::node::chain_actor::{Origin, SubmitBlocks, SubmitOutcome};
use ironchain::node::NodeHandle;
use ironchain::testkit;

/// Two branches from genesis: `short` (its first block carries `short_txs`) and a
/// longer, heavier `long` (its first block carries `long_txs`), by two other miners.
pub struct Fork {
    pub short: Vec<Block>,
    pub long: Vec<Block>,
}

/// Builds a fork of `short_len` and `long_len` blocks on a throw-away chain.
pub fn build_fork(
    params: &ChainParams,
    short_len: usize,
    long_len: usize,
    short_txs: Vec<Transaction>,
    long_txs: Vec<Transaction>,
) -> Fork {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Chain::open(dir.path(), params.clone(), MempoolLimits::default()).unwrap();
    let genesis = chain.genesis_hash();
    let branch = |chain: &mut Chain, miner: u64, len: usize, mut txs: Vec<Transaction>| {
        let mut parent = genesis;
        let mut time = chain.index().get(&genesis).unwrap().header.timestamp_ms;
        let mut blocks = Vec::new();
        for _ in 0..len {
            time += params.target_block_time_ms;
            let block = testkit::block_on(
                chain,
                &parent,
                testkit::address(miner),
                std::mem::take(&mut txs),
                time,
            );
            parent = block.hash();
            chain.process_block(block.clone(), time).unwrap();
            blocks.push(block);
        }
        blocks
    };
    let short = branch(&mut chain, 30, short_len, short_txs);
    let long = branch(&mut chain, 31, long_len, long_txs);
    Fork { short, long }
}

pub async fn submit(node: &NodeHandle, blocks: &[Block]) -> SubmitOutcome {
    node.chain
        .send(SubmitBlocks {
            blocks: blocks.to_vec(),
            origin: Origin::Relay(0),
        })
        .await
        .expect("chain actor answers")
}

/// A headless chromium driven through chromedriver, with the flags a shared CI machine
/// needs and a fresh profile; both processes end when this is dropped.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: std::process::Child,
    _profile: tempfile::TempDir,
}

/// The browser, or `None` (after one line saying how to install it) when chromium or
/// its driver is missing outside CI. In CI (`CI=true`) a missing browser fails the test.
pub async fn browser() -> Option<Browser> {
    let found = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    if !found("chromium") || !found("chromedriver") {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but chromium or chromedriver is missing (.ci/run installs them)");
        }
        eprintln!(
            "skipped: browser tests need chromium; install it with \
             `apt-get install -y chromium chromium-driver`"
        );
        return None;
    }
    // Port 0: the driver binds a port the OS picks and prints it, so no other process
    // can take it between our choosing it and the driver binding it.
    let mut driver = std::process::Command::new("chromedriver")
        .arg("--port=0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let port = driver_port(driver.stdout.take().expect("stdout is piped"));
    let profile = tempfile::tempdir().unwrap();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match fantoccini::ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(error) if std::time::Instant::now() > deadline => {
                panic!("cannot start a chromium session: {error}")
            }
            // The driver is still starting.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    Some(Browser {
        client,
        driver,
        _profile: profile,
    })
}

/// The port in chromedriver's "ChromeDriver was started successfully on port N." line;
/// the rest of its output is drained on a thread so it never blocks on a full pipe.
fn driver_port(stdout: std::process::ChildStdout) -> u16 {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(stdout).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.split("started successfully on port ").nth(1)?;
            rest.trim_end_matches('.').trim().parse::<u16>().ok()
        })
        .expect("chromedriver says which port it listens on");
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    port
}

impl Browser {
    /// Waits until `script` (a JavaScript expression) is truthy in the page; returns
    /// whether it became so within `timeout`.
    pub async fn wait_for(&self, script: &str, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let value = self
                .client
                .execute(&format!("return !!({script});"), vec![])
                .await;
            if matches!(value, Ok(serde_json::Value::Bool(true))) {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The value of a JavaScript expression in the page.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(&format!("return ({script});"), vec![])
            .await
            .expect("script runs")
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
