//! Helpers for the explorer's tests: a node with its explorer, and a fork built off-line
//! (two branches from genesis, by two miners) to hand to nodes block by block.

#![allow(dead_code)]

use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::consensus::block::Block;
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::transaction::Transaction;
use ironchain::node::chain_actor::{Origin, SubmitBlocks, SubmitOutcome};
use ironchain::node::NodeHandle;
use ironchain::testkit;

/// Two branches from genesis: `short` (its first block carries `txs`) and a longer,
/// heavier `long`, mined by other miners.
pub struct Fork {
    pub short: Vec<Block>,
    pub long: Vec<Block>,
}

/// Builds a fork of `short_len` and `long_len` blocks on a throw-away chain.
pub fn build_fork(
    params: &ChainParams,
    short_len: usize,
    long_len: usize,
    txs: Vec<Transaction>,
) -> Fork {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Chain::open(dir.path(), params.clone(), MempoolLimits::default()).unwrap();
    let genesis = chain.genesis_hash();
    let branch = |chain: &mut Chain, miner: u64, len: usize, mut txs: Vec<Transaction>| {
        let mut parent = genesis;
        let mut time = chain.index().get(&genesis).unwrap().header.timestamp_ms;
        let mut blocks = Vec::new();
        for _ in 0..len {
            time += params.target_block_time_ms;
            let block = testkit::block_on(
                chain,
                &parent,
                testkit::address(miner),
                std::mem::take(&mut txs),
                time,
            );
            parent = block.hash();
            chain.process_block(block.clone(), time).unwrap();
            blocks.push(block);
        }
        blocks
    };
    let short = branch(&mut chain, 30, short_len, txs);
    let long = branch(&mut chain, 31, long_len, Vec::new());
    Fork { short, long }
}

pub async fn submit(node: &NodeHandle, blocks: &[Block]) -> SubmitOutcome {
    node.chain
        .send(SubmitBlocks {
            blocks: blocks.to_vec(),
            origin: Origin::Relay(0),
        })
        .await
        .expect("chain actor answers")
}
