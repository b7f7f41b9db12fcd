//! Configuration files (SPEC §7): TOML with a `[chain]` table of consensus parameters and
//! a `[node]` table of node settings.
//!
//! The embedded default (`config/default.toml`) is compiled in. A file given with
//! `--config` is merged over it key by key, so a file only needs the keys it changes.
//! Any error names the file, the key and the reason.

use crate::consensus::address::Address;
use crate::consensus::params::ChainParams;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The embedded default configuration.
pub const DEFAULT_CONFIG: &str = include_str!("../config/default.toml");

/// A whole configuration file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub chain: ChainParams,
    pub node: NodeConfig,
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
}

/// Why a configuration could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.reason)
        }
    }
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
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            file: file.clone(),
            key: String::new(),
            reason: format!("cannot read: {error}"),
        })?;
        let default: toml::Table = toml::from_str(DEFAULT_CONFIG).map_err(|error| ConfigError {
            file: "config/default.toml (embedded)".into(),
            key: String::new(),
            reason: error.to_string(),
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
            toml::from_str(text).map_err(|e| error("", e.message().to_string()))?;
        let mut merged = base.unwrap_or_default();
        merge(&mut merged, overlay);
        let config: Config = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| error("", e.message().to_string()))?;
        config
            .chain
            .validate()
            .map_err(|e| error(&format!("chain.{}", e.key), e.reason))?;
        config
            .node
            .validate()
            .map_err(|(key, reason)| error(&format!("node.{key}"), reason))?;
        Ok(config)
    }
}

impl NodeConfig {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.miner_threads == 0 || self.miner_threads > 256 {
            return Err(("miner_threads", "must be between 1 and 256".into()));
        }
        for peer in &self.peers {
            parse_peer(peer).map_err(|reason| ("peers", reason))?;
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
        assert_eq!(config.chain.block_reward, 7);
        assert_eq!(config.chain.min_fee, Config::embedded().chain.min_fee);
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
        let error = Config::load(Path::new("/no/such/file.toml")).unwrap_err();
        assert!(error.reason.contains("cannot read"), "{error}");
    }
}
