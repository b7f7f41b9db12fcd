//! One trial of the whitepaper's double-spend race (§11) on real nodes, as a virtual-time
//! launch, and its verdict read from the merchant's own node.
//!
//! The network: the attacker "x" (hash share q, `strategy = "double_spend"`), the
//! merchant's node "m" (not mining) and `honest` equal honest miners, every pair
//! connected 50 ms apart, T = 600 s. At the start the attacker submits a spend to its own
//! stash to its node (which keeps it to itself and mines it into its private branch),
//! and the payment to the merchant, with the same nonce, to the merchant's node (which
//! relays it; the honest miners mine it). The attacker publishes its branch once the
//! payment has z confirmations and the branch is longer than the public chain, and
//! gives up [`GIVE_UP_DEFICIT`] blocks behind (see `node::policy::double_spend`). A trial
//! also ends after [`Trial::block_cap`] blocks, decided or not.
//!
//! The verdict is the merchant's view, from its node's store after the run: it
//! *delivered* if the payment's block had z blocks on it (the block and its descendants
//! in its tree; with z = 0, if its node accepted the payment), and the payment was
//! *reversed* if the merchant's balance, as `ironchain balance` shows it, no longer holds
//! it. The attack succeeded if both.

use super::plan::LaunchAccount;
use super::{run_blocking, LaunchPlan, RunOptions};
use crate::chain::mempool::MempoolLimits;
use crate::chain::Chain;
use crate::consensus::hash::BlockHash;
use crate::node::policy::double_spend::GIVE_UP_DEFICIT;
use std::fmt::Write as _;
use std::path::Path;

/// The merchant's balance before the payment (a genesis allocation must be positive).
const MERCHANT_START: u64 = 1;
const PAYMENT: u64 = 500;

/// One trial's settings.
#[derive(Clone, Copy, Debug)]
pub struct Trial {
    /// The attacker's share of the hash power.
    pub q: f64,
    /// The merchant's confirmations (z).
    pub confirmations: u64,
    pub honest: usize,
    pub seed: u64,
}

/// What the merchant's node says after a trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub delivered: bool,
    pub reversed: bool,
}

impl Verdict {
    pub fn succeeded(&self) -> bool {
        self.delivered && self.reversed
    }
}

/// Blocks, mined by anyone, after which a trial against a merchant waiting `confirmations`
/// blocks stops: enough for the payment's z confirmations and a race to the give-up
/// deficit and back.
pub fn block_cap(confirmations: u64) -> u64 {
    confirmations
        .saturating_mul(2)
        .saturating_add(4 * GIVE_UP_DEFICIT)
}

impl Trial {
    /// Blocks after which the trial stops ([`block_cap`]).
    pub fn block_cap(&self) -> u64 {
        block_cap(self.confirmations)
    }

    pub fn config(&self) -> String {
        let mut text = format!(
            "[chain]\n\
             genesis_message = \"ironchain double spend\"\n\
             target_block_time_ms = 600000\n\n\
             [simulation]\n\
             mining = \"simulated\"\n\
             clock = \"virtual\"\n\
             store = \"disk\"\n\
             seed = {}\n\
             stop_after_blocks = {}\n\
             topology = \"mesh\"\n\
             delay_ms = 50\n\n\
             [[nodes]]\n\
             name = \"x\"\n\
             hash_power = {}\n\
             strategy = \"double_spend\"\n\
             confirmations = {}\n\n\
             [[nodes]]\n\
             name = \"m\"\n\
             mine = false\n\n\
             [[simulation.groups]]\n\
             name_prefix = \"h\"\n\
             count = {}\n\
             total_hash_power = {}\n",
            self.seed,
            self.block_cap(),
            self.q,
            self.confirmations,
            self.honest,
            1.0 - self.q
        );
        for (name, balance) in [
            ("attacker", 1_000),
            ("merchant", MERCHANT_START),
            ("stash", 1),
        ] {
            let _ = write!(
                text,
                "\n[[simulation.accounts]]\nname = \"{name}\"\nbalance = {balance}\n"
            );
        }
        // The private spend first, so the attacker's node holds it before the payment
        // reaches it.
        for (node, to) in [("x", "stash"), ("m", "merchant")] {
            let _ = write!(
                text,
                "\n[[simulation.transfers]]\nat_ms = 0\nnode = \"{node}\"\nfrom = \"attacker\"\n\
                 to = \"{to}\"\namount = {PAYMENT}\nfee = 1\n"
            );
        }
        text
    }

    /// Runs the trial in `run_dir` (which must not exist or be empty) and reads the verdict.
    pub fn run(&self, run_dir: &Path) -> Result<Verdict, String> {
        let plan = LaunchPlan::from_toml("double-spend-trial.toml", &self.config())
            .map_err(|e| e.to_string())?;
        let options = RunOptions {
            run_dir: run_dir.to_path_buf(),
            announce: false,
            progress: false,
            page: None,
        };
        let summary = run_blocking(&plan, &options).map_err(|e| e.to_string())?;
        let chain = Chain::open(
            &run_dir.join("node-m"),
            plan.params.clone(),
            MempoolLimits::default(),
        )
        .map_err(|e| format!("cannot open the merchant's chain: {e}"))?;
        let merchant = LaunchAccount::new("merchant").address;
        let attacker = LaunchAccount::new("attacker").address;
        let (account, _) = chain.account(&merchant);
        let reversed = account.balance.get() < MERCHANT_START + PAYMENT;
        let delivered = if self.confirmations == 0 {
            summary.transactions.accepted == 2
        } else {
            let index = chain.index();
            let payment_block: Option<(BlockHash, u64)> = index.entries().find_map(|entry| {
                let block = chain.block(&entry.hash).ok()??;
                block
                    .txs
                    .iter()
                    .any(|tx| tx.sender == attacker && tx.receiver == merchant)
                    .then_some((entry.hash, entry.header.height))
            });
            payment_block.is_some_and(|(hash, height)| {
                let deepest = index
                    .entries()
                    .filter(|entry| {
                        index
                            .ancestor(&entry.hash, height)
                            .is_some_and(|ancestor| ancestor.hash == hash)
                    })
                    .map(|entry| entry.header.height)
                    .max()
                    .unwrap_or(height);
                deepest - height + 1 >= self.confirmations
            })
        };
        Ok(Verdict {
            delivered,
            reversed,
        })
    }
}
