//! `ironchain [--port N] [--peer HOST:PORT]...`: runs a node until Ctrl-C or SIGTERM, and
//! `ironchain verify`.

// The doc comments of the command-line arguments below are clap's `--help` text, written
// for a terminal (`[[nodes]]`, `<port>`), not rustdoc Markdown.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use crate::chain::store::{StoreError, DAMAGED_ADVICE};
use crate::chain::verify::{verify_store, VerifyError};
use crate::config::{parse_peer, Config};
use crate::net::only_net::{Net, OnlyNet};
use crate::node::limits::NetLimits;
use crate::node::stop_signal::stop_requested;
use crate::node::{start_node, NodeSettings};
use crate::plural::count;
use clap::Args;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Options of a node.
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// Port to listen on for peers and clients (default 1111, or the config's).
    #[arg(long)]
    pub port: Option<u16>,
    /// A peer to join through, HOST:PORT (repeatable).
    #[arg(long = "peer", value_name = "HOST:PORT", value_parser = super::client::host_port)]
    pub peers: Vec<String>,
    /// TOML config file, merged over the embedded default.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (default ./data/node-<port>).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Do not mine; only follow the network and serve clients.
    #[arg(long)]
    pub no_mine: bool,
    /// Address to pay block rewards to (default: a key kept in the data directory).
    #[arg(long, value_name = "ADDR")]
    pub miner_address: Option<String>,
    /// Number of mining threads.
    #[arg(long, value_name = "N")]
    pub miner_threads: Option<usize>,
    /// Where the explorer (web page and JSON API) listens (default 127.0.0.1 and the
    /// node's port + 1000).
    #[arg(long, value_name = "ADDR:PORT", conflicts_with = "no_http")]
    pub http: Option<SocketAddr>,
    /// Run no explorer.
    #[arg(long)]
    pub no_http: bool,
    /// Dial only addresses of this network: loopback, ipv4 or ipv6 (repeatable; default
    /// every network, or the config's `only_net`).
    #[arg(long = "only-net", value_name = "NET")]
    pub only_net: Vec<Net>,
}

/// Where the explorer listens, or `None` for no explorer: the command line first, then
/// the config, then 127.0.0.1 at the node's port + 1000 (port 0 when the node's port is
/// 0, so that OS-chosen ports never collide).
pub fn explorer_addr(args: &NodeArgs) -> Result<Option<SocketAddr>, String> {
    let node = load_config(args.config.as_ref())?.node;
    if args.no_http || (node.no_http && args.http.is_none()) {
        return Ok(None);
    }
    if let Some(addr) = args.http {
        return Ok(Some(addr));
    }
    if let Some(text) = &node.http {
        return text
            .parse()
            .map(Some)
            .map_err(|e| format!("[node] http: \"{text}\" is not an IP:PORT address: {e}"));
    }
    let port = args.port.unwrap_or(node.port);
    let http_port = match port {
        0 => 0,
        port => port
            .checked_add(crate::explorer::PORT_OFFSET)
            .ok_or_else(|| {
                format!(
                    "the explorer's default port would be {port} + {}, past 65535: \
                 choose one with --http ADDR:PORT, or --no-http",
                    crate::explorer::PORT_OFFSET
                )
            })?,
    };
    Ok(Some(SocketAddr::from((Ipv4Addr::LOCALHOST, http_port))))
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, String> {
    match path {
        Some(path) => Config::load(path).map_err(|e| e.to_string()),
        None => Ok(Config::embedded()),
    }
}

/// Turns command-line options and config into node settings.
pub fn settings(args: &NodeArgs) -> Result<NodeSettings, String> {
    let config = load_config(args.config.as_ref())?;
    let node = config.node;
    let mut limits = NetLimits::from_config(&node);
    if !args.only_net.is_empty() {
        limits.only_net = OnlyNet::of(args.only_net.clone());
    }
    let port = args.port.unwrap_or(node.port);
    let peer_texts = if args.peers.is_empty() {
        node.peers
    } else {
        args.peers.clone()
    };
    let peers = peer_texts
        .iter()
        .map(|text| parse_peer(text).map_err(|e| format!("--peer: {e}")))
        .collect::<Result<Vec<SocketAddr>, String>>()?;
    if let Some(outside) = peers.iter().find(|addr| !limits.only_net.allows(addr.ip())) {
        return Err(format!(
            "--peer: {outside} is outside --only-net ({})",
            limits.only_net
        ));
    }
    let miner_address = match &args.miner_address {
        // A policy address (icm…) too: its rewards are spent as any policy spend is.
        Some(text) => Some(
            crate::consensus::policy::parse_account(text)
                .map_err(|e| format!("--miner-address: {e}"))?,
        ),
        None => node.miner_address,
    };
    let miner_threads = args.miner_threads.unwrap_or(node.miner_threads);
    if miner_threads == 0 || miner_threads > 256 {
        return Err("--miner-threads: must be between 1 and 256".into());
    }
    Ok(NodeSettings {
        params: config.chain,
        data_dir: args
            .data_dir
            .clone()
            .or(node.data_dir)
            .unwrap_or_else(|| PathBuf::from(format!("data/node-{port}"))),
        listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
        peers,
        mine: node.mine && !args.no_mine,
        miner_address,
        miner_threads,
        max_inbound: node.max_inbound,
        max_outbound: node.max_outbound,
        send_delay: Duration::ZERO,
        limits,
    })
}

/// Runs a node until Ctrl-C, SIGTERM or SIGHUP (the same clean shutdown).
pub fn run_node(args: NodeArgs) -> Result<(), String> {
    let settings = settings(&args)?;
    let http = explorer_addr(&args)?;
    // Every socket is a descriptor: take all the system allows before opening any.
    crate::node::open_files::raise_soft_limit();
    let system = actix_rt::System::new();
    system.block_on(async move {
        let stop = stop_requested().map_err(|e| format!("cannot handle stop signals: {e}"))?;
        let mut node = start_node(settings).await.map_err(|e| e.to_string())?;
        let explorer = match http {
            Some(addr) => match crate::explorer::serve(&node, addr).await {
                Ok(explorer) => Some(explorer),
                Err(error) => {
                    node.stop().await;
                    return Err(error);
                }
            },
            None => None,
        };
        let outcome = tokio::select! {
            signal = stop => {
                log::info!("shutting down ({signal})");
                Ok(())
            }
            reason = node.store_failure() => Err(format!("store failure, node stopped: {reason}")),
        };
        if let Some(explorer) = explorer {
            explorer.stop().await;
        }
        node.stop().await;
        outcome
    })
}

/// The `chain.toml` of the launch run directory that `data_dir` is a node of
/// (`RUN/node-NAME`), if it is one: a simulated launch rewrites `[chain]` (difficulty 0,
/// no retargeting), so the launch's config file does not describe the chain its nodes
/// stored; this file does.
fn launch_chain_file(data_dir: &std::path::Path) -> Option<PathBuf> {
    let name = data_dir.file_name()?.to_str()?;
    if !name.starts_with("node-") {
        return None;
    }
    let file = data_dir.parent()?.join("chain.toml");
    file.is_file().then_some(file)
}

/// `ironchain verify`. A node of a launch run directory is checked with the run's
/// `chain.toml` unless `--config` says otherwise, and a `--config` for another chain is
/// answered with that file's name.
pub fn run_verify(data_dir: Option<PathBuf>, config: Option<PathBuf>) -> Result<(), String> {
    let run_chain = data_dir.as_deref().and_then(launch_chain_file);
    let config_path = match (config, &run_chain) {
        (Some(path), _) => Some(path),
        (None, Some(run_chain)) => {
            crate::outln!(
                "using {}: the chain parameters of the launch this data directory belongs to",
                run_chain.display()
            );
            Some(run_chain.clone())
        }
        (None, None) => None,
    };
    let config = load_config(config_path.as_ref())?;
    let dir = data_dir.unwrap_or_else(|| PathBuf::from(format!("data/node-{}", config.node.port)));
    let report = verify_store(&dir, &config.chain).map_err(|error| {
        let hint = match (&error, &run_chain) {
            (VerifyError::Store(StoreError::WrongChain { .. }), Some(run_chain))
                if config_path.as_ref() != Some(run_chain) =>
            {
                format!(
                    " (this is a node of a launch: its chain parameters are in {0}, \
                     --config {0})",
                    run_chain.display()
                )
            }
            (VerifyError::Store(StoreError::Damaged { .. }), _) => format!(": {DAMAGED_ADVICE}"),
            _ => String::new(),
        };
        format!("verify {}: {error}{hint}", dir.display())
    })?;
    crate::outln!(
        "chain in {} is valid: height {}, {}, {}",
        dir.display(),
        report.height,
        count(report.transactions, "transaction", "transactions"),
        count(report.accounts as u64, "account", "accounts")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        node: NodeArgs,
    }

    fn explorer(args: &[&str]) -> Result<Option<SocketAddr>, String> {
        let line = Line::try_parse_from(std::iter::once("ironchain").chain(args.iter().copied()))
            .map_err(|e| e.kind().to_string())?;
        explorer_addr(&line.node)
    }

    #[test]
    fn verify_finds_the_chain_of_a_launch_run_directory() {
        let run = tempfile::tempdir().unwrap();
        let chain_file = run.path().join("chain.toml");
        // What a simulated launch writes: easier than the embedded default's chain.
        std::fs::write(
            &chain_file,
            "[chain]\npow_limit_bits = 0\ninitial_difficulty_bits = 0\n",
        )
        .unwrap();
        let params = Config::load(&chain_file).unwrap().chain;
        let node_dir = run.path().join("node-a");
        drop(crate::chain::Chain::open(&node_dir, params, Default::default()).unwrap());

        // No --config: the run's chain.toml is used.
        assert_eq!(run_verify(Some(node_dir.clone()), None), Ok(()));
        // The launch's own config (here the embedded default's chain): the error names
        // the file that would work.
        let launch_config = run.path().join("launch.toml");
        std::fs::write(&launch_config, "[chain]\n").unwrap();
        let error = run_verify(Some(node_dir.clone()), Some(launch_config)).unwrap_err();
        assert!(
            error.ends_with(&format!(
                "(this is a node of a launch: its chain parameters are in {0}, --config {0})",
                chain_file.display()
            )),
            "{error}"
        );
        // Outside a run directory nothing is guessed.
        let alone = tempfile::tempdir().unwrap();
        let other = alone.path().join("node-b");
        drop(
            crate::chain::Chain::open(
                &other,
                Config::load(&chain_file).unwrap().chain,
                Default::default(),
            )
            .unwrap(),
        );
        let error = run_verify(Some(other), None).unwrap_err();
        assert!(error.contains("pass the --config"), "{error}");
        assert!(!error.contains("node of a launch"), "{error}");
    }

    #[test]
    fn the_explorer_listens_on_loopback_at_the_node_port_plus_1000_unless_told_otherwise() {
        let at = |text: &str| Ok(Some(text.parse().unwrap()));
        assert_eq!(explorer(&[]), at("127.0.0.1:2111"));
        assert_eq!(explorer(&["--port", "1500"]), at("127.0.0.1:2500"));
        assert_eq!(explorer(&["--port", "0"]), at("127.0.0.1:0"));
        assert_eq!(explorer(&["--http", "0.0.0.0:8080"]), at("0.0.0.0:8080"));
        assert_eq!(explorer(&["--no-http"]), Ok(None));
        assert!(explorer(&["--port", "65000"])
            .unwrap_err()
            .contains("past 65535"));
        assert!(explorer(&["--http", "1.2.3.4:1", "--no-http"]).is_err());

        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("node.toml");
        let config_text = config.to_str().unwrap();
        std::fs::write(&config, "[node]\nhttp = \"127.0.0.5:3000\"\n").unwrap();
        assert_eq!(explorer(&["--config", config_text]), at("127.0.0.5:3000"));
        std::fs::write(&config, "[node]\nno_http = true\n").unwrap();
        assert_eq!(explorer(&["--config", config_text]), Ok(None));
        // The command line wins over the config.
        assert_eq!(
            explorer(&["--config", config_text, "--http", "127.0.0.1:4000"]),
            at("127.0.0.1:4000")
        );
        std::fs::write(&config, "[node]\nhttp = \"localhost\"\n").unwrap();
        let error = explorer(&["--config", config_text]).unwrap_err();
        assert!(
            error.contains("http") && error.contains("IP:PORT"),
            "{error}"
        );
    }
}
