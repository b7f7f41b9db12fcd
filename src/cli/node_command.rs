//! `ironchain [--port N] [--peer HOST:PORT]...`: runs a node until Ctrl-C, and
//! `ironchain verify`.

use crate::chain::verify::verify_store;
use crate::config::{parse_peer, Config};
use crate::consensus::address::Address;
use crate::node::limits::NetLimits;
use crate::node::{start_node, NodeSettings};
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
    #[arg(long = "peer", value_name = "HOST:PORT")]
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
    let limits = NetLimits::from_config(&node);
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
    let miner_address = match &args.miner_address {
        Some(text) => Some(
            text.parse::<Address>()
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

/// Runs a node until Ctrl-C.
pub fn run_node(args: NodeArgs) -> Result<(), String> {
    let settings = settings(&args)?;
    let system = actix_rt::System::new();
    system.block_on(async move {
        let mut node = start_node(settings).await.map_err(|e| e.to_string())?;
        let outcome = tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                log::info!("shutting down");
                Ok(())
            }
            reason = node.store_failure() => Err(format!("store failure, node stopped: {reason}")),
        };
        node.stop().await;
        outcome
    })
}

/// `ironchain verify`.
pub fn run_verify(data_dir: Option<PathBuf>, config: Option<PathBuf>) -> Result<(), String> {
    let config = load_config(config.as_ref())?;
    let dir = data_dir.unwrap_or_else(|| PathBuf::from(format!("data/node-{}", config.node.port)));
    let report =
        verify_store(&dir, &config.chain).map_err(|e| format!("verify {}: {e}", dir.display()))?;
    crate::outln!(
        "chain in {} is valid: height {}, {} transactions, {} accounts",
        dir.display(),
        report.height,
        report.transactions,
        report.accounts
    );
    Ok(())
}
