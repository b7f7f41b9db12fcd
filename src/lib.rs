//! ironchain: a small proof-of-work blockchain node for learning, teaching and studying
//! blockchains. Nodes mine, clone and validate a chain, gossip blocks and transactions,
//! resolve forks by most cumulative work, answer wallets, and serve a block explorer;
//! several nodes can run in one process over a simulated network, in real or virtual
//! time, to measure forks and attacks.
//!
//! This crate is the node and its library. How to use it, the protocol it implements and
//! how it is built are in the book, `docs/` in the repository (`mdbook build docs`, then
//! open `docs/book/index.html`): start with its Lessons or Guide; the rules are in
//! Protocol and rules (`docs/src/protocol/`), the layers below in Internals ›
//! Architecture (`docs/src/internals/architecture.md`).
//!
//! The modules are layers; each uses only the ones listed above it:
//!
//! - [`small_file`]: reading a file that is small by design, refusing one over its limit.
//! - [`consensus`]: the rules, as plain Rust types and functions (no state, no I/O).
//! - [`chain`]: state, block tree, mempool and storage, behind [`chain::Chain`].
//! - [`net`]: the wire: every message, and the length-prefixed CBOR frames they travel in.
//! - [`view`]: the JSON shapes of chain data, one definition each, shared by the command
//!   line's `--json` output and the explorer's API.
//! - [`config`]: the TOML configuration file (`[chain]`, `[node]`, and a launch's
//!   `[[nodes]]` and `[simulation]` in [`config::scenario`]).
//! - [`keyfile`]: Ed25519 key files on disk, for wallets and the miner's reward address.
//! - [`output`]: standard output that survives a closed pipe (`outln!`).
//! - [`plural`]: counted nouns for messages ("1 node", "2 nodes").
//! - [`node`]: the actors (chain, miner, peer manager, one per connection) and
//!   [`node::start_node`].
//! - [`explorer`]: the node's web page and JSON API (actix-web), asking the actors with
//!   typed messages. Its launch page reads a launch's plan, and [`launch`] starts it: the
//!   one pair of layers that use each other.
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
