//! The consensus rules of ironchain as plain Rust: types, encodings and validation.
//!
//! Nothing in here knows about actors, sockets or disks, so every rule can be unit-tested
//! and benchmarked on its own. Stateful parts (account state, block tree, mempool,
//! storage) live in [`crate::chain`] and build on these types.

pub mod address;
pub mod amount;
pub mod block;
pub mod bounded;
pub mod bytes;
pub mod difficulty;
pub mod error;
pub mod hash;
pub mod merkle;
pub mod params;
pub mod policy;
pub mod pow;
pub mod signatures;
pub mod target;
pub mod token;
pub mod transaction;
pub mod validation;
