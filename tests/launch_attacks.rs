//! Miner strategies in virtual-time launches (issue 16): a selfish miner with 45 % of
//! the hash power ends with more than 45 % of the best chain, beyond doubt; the same
//! miner relaying honestly ends near 45 %; a double-spender with 45 % beats one
//! confirmation at least once in a batch, and one with 10 % never beats six; bad
//! `strategy` and `confirmations` values are refused naming file, key and reason.

mod common;

use ironchain::launch::double_spend::Trial;
use ironchain::launch::revenue::best_chain_share;
use ironchain::launch::{run_blocking, LaunchPlan, RunOptions, Summary};

/// One miner "s" with 45 % of the hash power beside four honest miners, every pair
/// connected; "s" is 5 ms from everyone and the honest miners 200 ms from each other
/// (the selfish miner is close to everyone), T = 600 s.
fn network(strategy: &str, blocks: u64) -> String {
    let mut text = format!(
        r#"
        [chain]
        target_block_time_ms = 600000
        [simulation]
        mining = "simulated"
        clock = "virtual"
        store = "memory"
        seed = 16
        stop_after_blocks = {blocks}
        topology = "mesh"
        delay_ms = 200
        [[nodes]]
        name = "s"
        hash_power = 45
        strategy = "{strategy}"
        [[simulation.groups]]
        name_prefix = "h"
        count = 4
        total_hash_power = 55
        "#
    );
    for h in 0..4 {
        text.push_str(&format!(
            "[[simulation.links]]\nfrom = \"s\"\nto = \"h{h}\"\ndelay_ms = 5\n"
        ));
    }
    text
}

fn launch(config: &str) -> Summary {
    let dir = tempfile::tempdir().unwrap();
    let plan = LaunchPlan::from_toml("attacks-test.toml", config).expect("a valid config");
    let options = RunOptions {
        run_dir: dir.path().join("run"),
        announce: false,
        progress: false,
        page: None,
    };
    run_blocking(&plan, &options).expect("the launch runs")
}

#[test]
fn a_selfish_miner_with_45_percent_earns_more_than_its_share() {
    let summary = launch(&network("selfish", 400));
    let share = best_chain_share(&summary, "s");
    let ci = share.ci95.expect("enough blocks for an interval");
    // Eyal & Sirer's revenue at α = 0.45 is 0.65 even when no honest miner ever builds on
    // the selfish block of a tie (γ = 0).
    assert!(share.share - ci > 0.45, "{share:?}\n{summary}");
    // The honest miners lost blocks to it: many of theirs went stale.
    assert!(summary.stale > 30, "{summary}");
}

#[test]
fn the_same_miner_relaying_honestly_earns_its_share() {
    let summary = launch(&network("honest", 400));
    let share = best_chain_share(&summary, "s");
    // 400 independent blocks at 45 % spread by 2.5 points (one standard deviation).
    assert!((share.share - 0.45).abs() < 0.075, "{share:?}\n{summary}");
    assert!(summary.stale < 5, "{summary}");
}

#[test]
fn a_bad_strategy_is_refused_naming_file_key_and_reason() {
    let cases = [
        (
            "[[nodes]]\nname = \"a\"\nstrategy = \"greedy\"\n",
            "nodes[0].strategy: unknown variant `greedy`, expected one of `honest`, `selfish`, `double_spend`",
        ),
        (
            "[[nodes]]\nname = \"a\"\nmine = false\nstrategy = \"selfish\"\n",
            "nodes[0].strategy: only a mining node has blocks of its own to withhold",
        ),
        (
            "[[nodes]]\nname = \"a\"\n[[simulation.groups]]\nname_prefix = \"g\"\ncount = 2\n\
             strategy = 7\n",
            "simulation.groups[0].strategy: invalid type",
        ),
        (
            "[[nodes]]\nname = \"a\"\nstrategy = \"double_spend\"\n",
            "nodes[0].confirmations: strategy = \"double_spend\" needs the confirmations",
        ),
        (
            "[[simulation.groups]]\nname_prefix = \"g\"\ncount = 2\nmine = false\n\
             strategy = \"selfish\"\n",
            "simulation.groups[0].strategy: only a mining node has blocks of its own",
        ),
        (
            "[[nodes]]\nname = \"a\"\nstrategy = \"selfish\"\nconfirmations = 3\n",
            "nodes[0].confirmations: only used with strategy = \"double_spend\"",
        ),
        (
            "[[nodes]]\nname = \"a\"\nstrategy = \"double_spend\"\nconfirmations = 5000\n",
            "nodes[0].confirmations: at most 1000 (got 5000)",
        ),
        (
            "[[nodes]]\nname = \"a\"\nstrategy = \"double_spend\"\nconfirmations = -1\n",
            "nodes[0].confirmations: invalid value: integer `-1`",
        ),
    ];
    common::assert_launch_refuses(&cases);
}

/// Trials of the double-spend race at `q` and `z`, seeds 1, 2, …: how many succeeded, as
/// the merchant's node sees it.
fn double_spend_successes(q: f64, confirmations: u64, trials: u64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    (1..=trials)
        .filter(|seed| {
            let trial = Trial {
                q,
                confirmations,
                honest: 3,
                seed: *seed,
            };
            let verdict = trial
                .run(&dir.path().join(format!("trial-{seed}")))
                .expect("the trial runs");
            verdict.succeeded()
        })
        .count() as u64
}

#[test]
fn a_double_spend_with_45_percent_against_one_confirmation_succeeds() {
    // Nakamoto's formula gives 0.84 at q = 0.45, z = 1: six trials all failing would
    // happen about once in 20 000 batches.
    assert!(double_spend_successes(0.45, 1, 6) >= 1);
}

#[test]
fn a_double_spend_with_10_percent_against_six_confirmations_never_succeeds() {
    // Nakamoto's formula gives 0.0002 at q = 0.1, z = 6.
    assert_eq!(double_spend_successes(0.1, 6, 6), 0);
}
