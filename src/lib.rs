//! ironchain: a small proof-of-work blockchain node for learning, teaching and studying
//! blockchains.
//!
//! The modules are layers; each uses only the ones listed above it (ARCHITECTURE.md):
//!
//! - [`small_file`]: reading a file that is small by design, refusing one over its limit.
//! - [`consensus`]: the rules, as plain Rust types and functions (no state, no I/O).
//! - [`chain`]: state, block tree, mempool and storage, behind [`chain::Chain`].
//! - [`net`]: the wire: every message, and the length-prefixed CBOR frames they travel in.
//! - [`config`]: the TOML configuration file (`[chain]`, `[node]`, and a launch's
//!   `[[nodes]]` and `[simulation]` in [`config::scenario`]).
//! - [`keyfile`]: Ed25519 key files on disk, for wallets and the miner's reward address.
//! - [`output`]: standard output that survives a closed pipe (`outln!`).
//! - [`plural`]: counted nouns for messages ("1 node", "2 nodes").
//! - [`node`]: the actors (chain, miner, peer manager, one per connection) and
//!   [`node::start_node`].
//! - [`launch`]: several nodes in one process over a simulated network (`ironchain launch`).
//! - [`cli`]: the `ironchain` command line: the node, `verify`, `launch` and the clients.
//! - `testkit` (feature `testkit`, on for this crate's tests, benches and examples):
//!   deterministic keys, trivial proof of work and mined test blocks. Its helpers panic
//!   on misuse, so it is not part of the default API.

pub mod chain;
pub mod cli;
pub mod config;
pub mod consensus;
pub mod explorer;
pub mod keyfile;
pub mod launch;
pub mod net;
pub mod node;
pub mod output;
pub mod plural;
pub mod small_file;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod view;
