//! Configuration files (the book's Guide › Configuration,
//! `docs/src/guide/configuration.md`): TOML with a `[chain]` table of consensus parameters,
//! a `[node]` table of node settings, and for multi-node launches `[[nodes]]` entries and a
//! `[simulation]` table (described in [`scenario`]).
//!
//! The embedded default (`config/default.toml`) is compiled in. A file given with
//! `--config` is merged over it key by key, so a file only needs the keys it changes.
//! Any error names the file, the key and the reason.

pub mod scenario;

use crate::consensus::address::Address;
use crate::consensus::params::ChainParams;
use crate::net::only_net::{Net, OnlyNet};
use crate::small_file;
use scenario::{NodeEntry, Simulation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The embedded default configuration.
/// Largest config file read: the largest launch lists each of its 100,000 nodes in a
/// few dozen bytes, about 6 MB.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

pub const DEFAULT_CONFIG: &str = include_str!("../../config/default.toml");

/// A whole configuration file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub chain: ChainParams,
    pub node: NodeConfig,
    /// The nodes of a launch (`ironchain launch`); none for a plain node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeEntry>,
    /// A launch's network simulation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<Simulation>,
}

/// The `[node]` table.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub port: u16,
    #[serde(default)]
    pub peers: Vec<String>,
    /// Default: `./data/node-<port>`.
    pub data_dir: Option<PathBuf>,
    pub mine: bool,
    /// Default: a key kept in the data directory.
    pub miner_address: Option<Address>,
    pub miner_threads: usize,
    pub max_inbound: usize,
    pub max_outbound: usize,
    /// A socket that has not said hello by then is closed.
    pub handshake_timeout_ms: u64,
    /// Inbound sockets still waiting for their hello.
    pub max_pending: usize,
    /// Inbound peers (and sockets without hello) from one IP address.
    pub max_inbound_per_ip: usize,
    /// Client connections, served apart from peers.
    pub max_clients: usize,
    /// Client connections from one IP address (127.0.0.1 and ::1 excepted).
    pub max_clients_per_ip: usize,
    /// The networks outbound connections may go to (`loopback`, `ipv4`, `ipv6`); none
    /// named: every network.
    #[serde(default)]
    pub only_net: Vec<Net>,
    /// A client with no request for this long is closed.
    pub client_idle_timeout_ms: u64,
    /// A sync peer that delivers no new block for this long is dropped.
    pub sync_timeout_ms: u64,
    /// The explorer's `ADDR:PORT`. Default: 127.0.0.1, the node's port + 1000.
    #[serde(default)]
    pub http: Option<String>,
    /// Run no explorer.
    #[serde(default)]
    pub no_http: bool,
}

/// Why a configuration could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, followed by `:LINE:COLUMN` for a TOML syntax error (the only kind whose
    /// position is known), the way compilers and editors name a place in a file.
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The error is printed as the one line the book promises (Operating › Failures
        // and exit codes), but the toml crate's messages (and some built elsewhere) span
        // several lines.
        let reason = one_line(&self.reason);
        if self.key.is_empty() {
            write!(f, "{}: {reason}", self.file)
        } else {
            write!(f, "{}: {}: {reason}", self.file, self.key)
        }
    }
}

/// Folds a multi-line message into one line: the first line, then the others in
/// parentheses ("invalid table header (expected `.`, `]`)").
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        first
    } else {
        format!("{first} ({})", rest.join("; "))
    }
}

/// The error for TOML text that does not parse: `file:LINE:COLUMN` (1-based, the column
/// counted in characters) when the parser says where, and its message.
fn syntax_error(file: &str, text: &str, error: &toml::de::Error) -> ConfigError {
    let file = match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("{file}:{line}:{column}")
        }
        None => file.to_string(),
    };
    ConfigError {
        file,
        key: String::new(),
        reason: one_line(error.message()),
    }
}

/// The 1-based line and column of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    // A span may end inside a character or past the text; clamp to a boundary before it.
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The embedded default.
    pub fn embedded() -> Config {
        // The embedded file is checked by a unit test, so this cannot fail at run time.
        Config::parse("config/default.toml (embedded)", DEFAULT_CONFIG, None)
            .expect("the embedded default configuration is valid")
    }

    /// Reads `path` and merges it over the embedded default.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text =
            small_file::read_to_string(path, MAX_CONFIG_BYTES).map_err(|error| ConfigError {
                file: file.clone(),
                key: String::new(),
                reason: error.to_string(),
            })?;
        let default: toml::Table = toml::from_str(DEFAULT_CONFIG).map_err(|error| {
            syntax_error("config/default.toml (embedded)", DEFAULT_CONFIG, &error)
        })?;
        Config::parse(&file, &text, Some(default))
    }

    /// Parses `text` (merged over `base` if given) and checks it.
    pub fn parse(file: &str, text: &str, base: Option<toml::Table>) -> Result<Config, ConfigError> {
        let error = |key: &str, reason: String| ConfigError {
            file: file.to_string(),
            key: key.to_string(),
            reason,
        };
        let overlay: toml::Table =
            toml::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
        let mut merged = base.unwrap_or_default();
        merge(&mut merged, overlay);
        // The path of the value that failed (`chain.allocations[1].amount`) is tracked
        // while deserializing, so the error names the key exactly.
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
                let path = e.path().to_string();
                let key = if path == "." { String::new() } else { path };
                error(&key, e.into_inner().message().to_string())
            })?;
        config
            .chain
            .validate()
            .map_err(|e| error(&format!("chain.{}", e.key), e.reason))?;
        config
            .node
            .validate()
            .map_err(|(key, reason)| error(&format!("node.{key}"), reason))?;
        scenario::validate(&config.nodes, config.simulation.as_ref())
            .map_err(|(key, reason)| error(&key, reason))?;
        Ok(config)
    }
}

impl NodeConfig {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.miner_threads == 0 || self.miner_threads > 256 {
            return Err(("miner_threads", "must be between 1 and 256".into()));
        }
        let durations = [
            ("handshake_timeout_ms", self.handshake_timeout_ms),
            ("client_idle_timeout_ms", self.client_idle_timeout_ms),
            ("sync_timeout_ms", self.sync_timeout_ms),
        ];
        for (key, ms) in durations {
            if !(10..=3_600_000).contains(&ms) {
                return Err((key, "must be between 10 and 3600000 (one hour)".into()));
            }
        }
        let counts = [
            ("max_pending", self.max_pending),
            ("max_inbound_per_ip", self.max_inbound_per_ip),
            ("max_clients", self.max_clients),
            ("max_clients_per_ip", self.max_clients_per_ip),
        ];
        for (key, count) in counts {
            if !(1..=100_000).contains(&count) {
                return Err((key, "must be between 1 and 100000".into()));
            }
        }
        let only_net = OnlyNet::of(self.only_net.clone());
        for peer in &self.peers {
            let addr = parse_peer(peer).map_err(|reason| ("peers", reason))?;
            if !only_net.allows(addr.ip()) {
                return Err(("peers", format!("{peer} is outside only_net ({only_net})")));
            }
        }
        if let Some(http) = &self.http {
            http.parse::<std::net::SocketAddr>()
                .map_err(|e| ("http", format!("\"{http}\" is not an IP:PORT address: {e}")))?;
        }
        Ok(())
    }
}

/// Reads a peer address `HOST:PORT` (a name such as `localhost` is resolved).
pub fn parse_peer(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let mut addrs = text
        .to_socket_addrs()
        .map_err(|error| format!("\"{text}\" is not a HOST:PORT address: {error}"))?;
    addrs
        .next()
        .ok_or_else(|| format!("\"{text}\" resolves to no address"))
}

/// Deep-merges `overlay` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => {
                merge(existing, incoming)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::amount::Amount;

    #[test]
    fn embedded_default_is_valid() {
        let config = Config::embedded();
        assert_eq!(config.node.port, 1111);
        assert!(config.chain.validate().is_ok());
    }

    fn parse_over_default(text: &str) -> Result<Config, ConfigError> {
        Config::parse(
            "test.toml",
            text,
            Some(toml::from_str(DEFAULT_CONFIG).unwrap()),
        )
    }

    #[test]
    fn a_file_overrides_only_its_keys() {
        let config = parse_over_default("[chain]\nblock_reward = 7\n").unwrap();
        assert_eq!(config.chain.block_reward, Amount::new(7));
        assert_eq!(config.chain.min_fee, Config::embedded().chain.min_fee);
    }

    #[test]
    fn multi_line_reasons_print_as_one_line() {
        let error = ConfigError {
            file: "f.toml".into(),
            key: "nodes".into(),
            reason: "first\n  second\n\nthird\n".into(),
        };
        assert_eq!(error.to_string(), "f.toml: nodes: first (second; third)");
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    #[test]
    fn only_net_names_networks_and_peers_must_be_on_them() {
        let config = parse_over_default("[node]\nonly_net = [\"loopback\"]\n").unwrap();
        assert_eq!(config.node.only_net, vec![Net::Loopback]);
        let error = parse_over_default("[node]\nonly_net = [\"ipv4\", \"tor\"]\n").unwrap_err();
        assert_eq!(error.key, "node.only_net[1]");
        assert!(
            error
                .reason
                .contains("\"tor\" is not a network: expected loopback, ipv4 or ipv6"),
            "{error}"
        );
        let error =
            parse_over_default("[node]\nonly_net = [\"loopback\"]\npeers = [\"10.1.2.3:1111\"]\n")
                .unwrap_err();
        assert_eq!(error.key, "node.peers");
        assert_eq!(error.reason, "10.1.2.3:1111 is outside only_net (loopback)");
    }

    #[test]
    fn errors_name_file_key_and_reason() {
        let error = parse_over_default("[chain]\nretarget_interval = 1\n").unwrap_err();
        assert_eq!(error.file, "test.toml");
        assert_eq!(error.key, "chain.retarget_interval");
        let error = parse_over_default("[chain]\nno_such_key = 1\n").unwrap_err();
        assert!(error.reason.contains("no_such_key"), "{error}");
        let error = parse_over_default("[node]\npeers = [\"nowhere\"]\n").unwrap_err();
        assert_eq!(error.key, "node.peers");
        let error = parse_over_default("[chain\n").unwrap_err();
        assert!(!error.reason.is_empty());
        let error = parse_over_default("[chain\nx=1\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "test.toml:1:7: invalid table header (expected `.`, `]`)"
        );
        // Columns count characters, not bytes, on the line of the error.
        let error = parse_over_default("# é\n[node]\nport = é\n").unwrap_err();
        assert!(error.file.starts_with("test.toml:3:8"), "{error}");
        assert!(!error.to_string().contains('\n'), "{error}");
        let error = Config::load(Path::new("/no/such/file.toml")).unwrap_err();
        assert!(error.reason.contains("cannot read"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let huge = dir.path().join("huge.toml");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_CONFIG_BYTES + 1)
            .unwrap();
        let error = Config::load(&huge).unwrap_err();
        assert_eq!(
            error.reason,
            format!(
                "is {} bytes, more than the limit of {MAX_CONFIG_BYTES} bytes (not read)",
                MAX_CONFIG_BYTES + 1
            )
        );
    }
}
