//! The stateful half of the consensus core: account state, the block tree with fork
//! choice, the orphan pool, the mempool, storage, and [`Chain`], which ties them together
//! behind one small API. Plain Rust: the node's `ChainActor` owns one `Chain`.

pub mod blockchain;
pub mod id_prefix;
pub mod index;
pub mod memory_store;
pub mod mempool;
pub mod mempool_file;
pub mod orphans;
pub mod rejected;
mod scratch_backend;
pub mod state;
pub mod store;
mod store_check;
pub mod tx_index;
pub mod verify;
pub mod work_margin;

pub use blockchain::{
    Accepted, BlockOutcome, BlockTemplate, Chain, ChainError, TipChange, TipInfo, TxLookup,
};

/// The local clock in milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_time_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}
