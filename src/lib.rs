//! ironchain: a small proof-of-work blockchain node for learning, teaching and studying
//! blockchains.
//!
//! - [`consensus`]: the rules, as plain Rust types and functions.
//! - [`chain`]: state, block tree, mempool and storage, behind [`chain::Chain`].
//! - [`testkit`]: building valid chains quickly, for tests and benchmarks.

pub mod chain;
pub mod cli;
pub mod config;
pub mod consensus;
pub mod launch;
pub mod net;
pub mod node;
pub mod testkit;
pub mod wallet;
