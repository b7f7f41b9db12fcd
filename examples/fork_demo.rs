//! Runs `config/fork-demo.toml` (see the comments there) and prints the nodes' addresses,
//! blocks and reorgs as they happen, then the summary: `ironchain launch` called through
//! the library. Run it from the repository root:
//!
//!     cargo run --release --example fork_demo

mod common;

fn main() -> std::process::ExitCode {
    common::launch("config/fork-demo.toml")
}
