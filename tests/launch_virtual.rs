//! Virtual-time launches (issue 14): every node on one thread under tokio's paused clock,
//! linked by in-memory streams. The same seed gives the same `summary.json`; Bitcoin's
//! 600-second blocks run in seconds with virtual block timestamps; a random topology of
//! hundreds of nodes converges; a link's bandwidth delays a block by exactly its size;
//! a partition heals the same way as in real time; bad configs fail in one line.
//!
//! Virtual timestamps are exact, so these tests assert exact delays without being timing
//! tests: the wall clock never enters them.

mod common;

use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::launch::{run, run_blocking, LaunchPlan, RunOptions, Summary};
use ironchain::net::frame::frame_len;
use ironchain::net::message::Message;
use std::path::Path;

/// Runs `config` to completion in `dir/run` (virtual launches build their own runtime).
fn launch_in(dir: &Path, config: &str) -> (Summary, LaunchPlan) {
    let plan = LaunchPlan::from_toml("virtual-test.toml", config).expect("a valid config");
    let options = RunOptions {
        run_dir: dir.join("run"),
        announce: false,
        progress: false,
        page: None,
    };
    let summary = run_blocking(&plan, &options).expect("the launch runs");
    (summary, plan)
}

fn launch(config: &str) -> Summary {
    let dir = tempfile::tempdir().unwrap();
    launch_in(dir.path(), config).0
}

/// `summary.json` of a run without its wall-clock field and run directory, the only
/// ones two runs of one virtual launch may differ in.
fn summary_without_wall_clock(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("run/summary.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let object = json.as_object_mut().unwrap();
    assert!(object.remove("wall_ms").is_some());
    assert!(object.remove("run_dir").is_some());
    serde_json::to_string_pretty(&json).unwrap()
}

/// 50 nodes in a random topology with jitter and bandwidth limits, so that the order of
/// events matters and any non-determinism would show; with transfers submitted at two
/// nodes, whose signatures every node verifies as they are relayed.
fn fifty_nodes(seed: u64) -> String {
    format!(
        r#"
        [chain]
        target_block_time_ms = 600000
        [simulation]
        mining = "simulated"
        clock = "virtual"
        store = "memory"
        seed = {seed}
        stop_after_blocks = 6
        topology = "random"
        outbound = 3
        delay_ms = 80
        jitter_ms = 60
        upload_mbps = 0.05
        [[simulation.groups]]
        name_prefix = "n"
        count = 50
        [[simulation.accounts]]
        name = "alice"
        balance = 1000000
        [[simulation.accounts]]
        name = "bob"
        balance = 1000000
        [[simulation.transfers]]
        at_ms = 1000
        node = "n3"
        from = "alice"
        to = "bob"
        amount = 10
        fee = 1
        count = 6
        every_ms = 400000
        [[simulation.transfers]]
        at_ms = 1500
        node = "n40"
        from = "bob"
        to = "alice"
        amount = 7
        fee = 2
        count = 6
        every_ms = 300000
        "#
    )
}

#[test]
fn the_same_seed_gives_a_byte_identical_summary() {
    let runs: Vec<(String, Summary)> = [9, 9, 10]
        .iter()
        .map(|seed| {
            let dir = tempfile::tempdir().unwrap();
            let (summary, _) = launch_in(dir.path(), &fifty_nodes(*seed));
            (summary_without_wall_clock(dir.path()), summary)
        })
        .collect();
    assert_eq!(runs[0].0, runs[1].0, "two runs of one seed differ");
    assert_ne!(runs[0].0, runs[2].0, "another seed gave the same run");
    assert!(runs[0].0.contains("\"clock\": \"virtual\""));
    // The transfers were part of the run: accepted, relayed, some confirmed.
    let transfers = &runs[0].1.transactions;
    assert_eq!(transfers.submitted, 12, "{}", runs[0].1);
    assert!(transfers.accepted >= 6, "{}", runs[0].1);
    assert!(transfers.confirmed >= 1, "{}", runs[0].1);
}

#[test]
fn bitcoin_block_times_run_in_virtual_time_with_virtual_block_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, plan) = launch_in(
        dir.path(),
        r#"
        [chain]
        target_block_time_ms = 600000
        [simulation]
        mining = "simulated"
        clock = "virtual"
        seed = 21
        stop_after_blocks = 20
        topology = "mesh"
        delay_ms = 100
        [[nodes]]
        name = "a"
        [[nodes]]
        name = "b"
        hash_power = 2.0
        [[nodes]]
        name = "c"
        "#,
    );
    assert!(summary.converged, "{summary}");
    assert_eq!(summary.clock, "virtual");
    // The run stops the moment the 20th block is found, at its scheduled virtual time.
    let twentieth = plan.first_finds(20).last().unwrap().0;
    // (Within the millisecond tokio's timers round to.)
    assert!(
        summary.elapsed_ms.abs_diff(twentieth.as_millis() as u64) <= 1,
        "{summary}"
    );
    // Twenty exponential waits of mean 600 s: 12,000 s give or take a few thousand.
    assert!(
        (6_000_000..24_000_000).contains(&summary.elapsed_ms),
        "{summary}"
    );
    // Hours of virtual time in (much) less wall time: a guard, not a speed measure.
    assert!(summary.wall_ms < summary.elapsed_ms / 10, "{summary}");
    // Each block's timestamp is the virtual moment it was found: the clock starts one
    // second after genesis when the nodes start, and mining starts once they connect.
    let chain = Chain::open(
        &dir.path().join("run/node-a"),
        plan.params.clone(),
        MempoolLimits::default(),
    )
    .unwrap();
    let start = plan.params.genesis_timestamp_ms + 1_000;
    for find in summary.finds.iter().filter(|find| !find.stale) {
        let block = chain.block_at(find.height).unwrap().unwrap();
        let stamped = block.header.timestamp_ms - start;
        assert!(
            stamped >= find.at_ms && stamped <= find.at_ms + 1_000,
            "block {} stamped {stamped} ms after the clock's start, found at {} ms",
            find.height,
            find.at_ms
        );
    }
}

#[test]
fn large_delays_make_stale_blocks_and_the_nodes_still_converge() {
    // Delays longer than the block interval: blocks race. In virtual time the outcome is
    // the seed's alone (issue 11 item 24: in real time it was the scheduler's too).
    let summary = launch(
        r#"
        [chain]
        target_block_time_ms = 100
        [simulation]
        mining = "simulated"
        clock = "virtual"
        store = "memory"
        seed = 5
        stop_after_blocks = 30
        delay_ms = 150
        topology = "mesh"
        [[nodes]]
        name = "a"
        [[nodes]]
        name = "b"
        [[nodes]]
        name = "c"
        "#,
    );
    assert!(summary.stale >= 1, "{summary}");
    assert!(summary.converged, "{summary}");
    assert!(summary.blocks_mined >= 30, "{summary}");
    assert!(
        summary.nodes.iter().any(|node| node.reorgs >= 1),
        "{summary}"
    );
    assert!(
        summary.fork_lengths.values().sum::<u64>() >= 1,
        "stale blocks but no fork: {summary}"
    );
    // Every node hears every block straight from its miner, exactly one delay later.
    assert_eq!(summary.propagation_ms.p50, Some(150.0), "{summary}");
    assert_eq!(summary.propagation_ms.max, Some(150.0), "{summary}");
}

#[test]
fn five_hundred_nodes_in_a_random_topology_converge() {
    let summary = launch(
        r#"
        [chain]
        target_block_time_ms = 600000
        [simulation]
        mining = "simulated"
        clock = "virtual"
        store = "memory"
        seed = 500
        stop_after_blocks = 3
        topology = "random"
        outbound = 4
        delay_ms = 50
        jitter_ms = 50
        [[simulation.groups]]
        name_prefix = "node"
        count = 500
        "#,
    );
    assert_eq!(summary.nodes.len(), 500);
    assert!(summary.converged, "{summary}");
    assert!(summary.blocks_mined >= 3, "{summary}");
    assert_eq!(summary.propagation_ms.unreached, 0, "{summary}");
    let everyone = summary.reach_ms.last().unwrap();
    assert_eq!(everyone.fraction, 1.0);
    assert_eq!(everyone.blocks, summary.blocks_mined, "{summary}");
}

#[test]
fn a_block_arrives_later_by_exactly_its_size_over_the_links_bandwidth() {
    // 2,000 bits per second: a block of a few hundred bytes takes about a second, as a
    // megabyte takes 8 s at 1 Mbps (the same formula; netsim's unit test uses those).
    // With `block_fill_bytes`, each block counts that many bytes more.
    for fill in [0_u64, 1_000] {
        let dir = tempfile::tempdir().unwrap();
        let (summary, plan) = launch_in(
            dir.path(),
            &format!(
                r#"
                [chain]
                target_block_time_ms = 600000
                [simulation]
                mining = "simulated"
                clock = "virtual"
                seed = 8
                stop_after_blocks = 3
                delay_ms = 100
                block_fill_bytes = {fill}
                [[nodes]]
                name = "a"
                peers = ["b"]
                upload_mbps = 0.002
                [[nodes]]
                name = "b"
                mine = false
                "#
            ),
        );
        let chain = Chain::open(
            &dir.path().join("run/node-b"),
            plan.params.clone(),
            MempoolLimits::default(),
        )
        .unwrap();
        assert_eq!(summary.finds.len(), 3, "{summary}");
        for find in &summary.finds {
            let block = chain.block_at(find.height).unwrap().unwrap();
            let bits = (frame_len(&Message::NewBlock(block)) as u64 + fill) * 8;
            let transmission_ms = bits * 1_000 / 2_000;
            assert!(transmission_ms > 500, "{bits} bits");
            // Reaching both nodes is reaching b.
            let delay = find.reached_90_ms.unwrap() - find.at_ms;
            assert!(
                delay.abs_diff(100 + transmission_ms) <= 1,
                "fill {fill}, block {}: {delay} ms, expected 100 ms + {transmission_ms} ms",
                find.height
            );
        }
    }
}

/// Who found each block scheduled before `before_ms`, and whether it ended stale: what
/// the seed and the partition decide, whatever the clock.
fn finders_and_fates(summary: &Summary, before_ms: u64) -> Vec<(String, bool)> {
    summary
        .finds
        .iter()
        .filter(|find| find.scheduled_ms.is_some_and(|at| at < before_ms))
        .map(|find| (find.node.clone(), find.stale))
        .collect()
}

const PARTITION: &str = r#"
    [chain]
    target_block_time_ms = 200
    [simulation]
    mining = "simulated"
    seed = 3
    stop_after_blocks = 16
    delay_ms = 5
    [[simulation.partitions]]
    groups = [["w1", "w2"], ["e1", "e2"]]
    start_ms = 100
    heal_ms = 1800
    [[nodes]]
    name = "w1"
    hash_power = 3.0
    peers = ["w2", "e1"]
    [[nodes]]
    name = "w2"
    hash_power = 3.0
    peers = ["e2"]
    [[nodes]]
    name = "e1"
    hash_power = 1.0
    peers = ["e2"]
    [[nodes]]
    name = "e2"
    hash_power = 1.0
"#;

#[test]
fn a_partition_heals_the_same_way_in_virtual_and_in_real_time() {
    // Up to the heal, no two finds of the seed come within 25 ms (five link delays) of
    // each other, so real-time scheduling cannot turn one into a race.
    let plan = LaunchPlan::from_toml("real.toml", PARTITION).unwrap();
    let finds = plan.first_finds(16);
    assert!(finds
        .windows(2)
        .filter(|pair| pair[1].0.as_millis() < 1700)
        .all(|pair| pair[1].0 - pair[0].0 >= std::time::Duration::from_millis(25)));
    let virtual_run = launch(&PARTITION.replace(
        "[simulation]",
        "[simulation]\nclock = \"virtual\"\nstore = \"memory\"",
    ));
    let real_run = {
        let dir = tempfile::tempdir().unwrap();
        let options = RunOptions {
            run_dir: dir.path().join("run"),
            announce: false,
            progress: false,
            page: None,
        };
        actix_rt::System::new()
            .block_on(run(&plan, &options, std::future::pending()))
            .unwrap()
    };
    for summary in [&virtual_run, &real_run] {
        assert!(summary.converged, "{summary}");
        let tips = &summary.partitions[0].tips_at_heal;
        assert!(tips[0].height > tips[1].height, "west ahead: {summary}");
        // The west's branch at the heal stays; the east's blocks of the partition go stale.
        for find in &summary.finds {
            if find.hash == tips[0].hash {
                assert!(!find.stale, "{summary}");
            }
            let during = find
                .scheduled_ms
                .is_some_and(|at| (100..1700).contains(&at));
            if during && find.node.starts_with('e') {
                assert!(find.stale, "{summary}");
            }
        }
    }
    // Up to the heal the seed decides who finds each block and which of them go stale,
    // in both clocks (the finds of a partition cannot race across it).
    assert_eq!(
        finders_and_fates(&virtual_run, 1700),
        finders_and_fates(&real_run, 1700),
        "virtual:\n{virtual_run}\nreal:\n{real_run}"
    );
}

#[test]
fn bad_virtual_network_configs_fail_in_one_line_naming_file_key_and_reason() {
    let one = "[[nodes]]\nname = \"a\"\n[[nodes]]\nname = \"b\"\n";
    let cases = [
        (
            "[[simulation.groups]]\nname_prefix = \"g\"\ncount = 0\n".to_string(),
            "simulation.groups[0].count: must be positive",
        ),
        (
            format!(
                "{one}[simulation.regions.eu]\nlatency_ms = {{ eu = 10 }}\n\
                 [simulation.regions.us]\nlatency_ms = {{ us = 10, eu = 80 }}\n"
            ),
            "simulation.regions.eu.latency_ms: region \"us\" is missing from the latency matrix",
        ),
        (
            format!("{one}[simulation]\ntopology = \"random\"\noutbound = 2\n"),
            "simulation.outbound: 2 outbound peers need more than 2 nodes",
        ),
        (
            format!("{one}[simulation]\nupload_mbps = -5\n"),
            "simulation.upload_mbps: must not be negative",
        ),
        (
            format!("{one}[simulation]\nupload_mbps = nan\n"),
            "simulation.upload_mbps: must be a finite number of megabits per second (got NaN)",
        ),
        (
            format!("{one}[simulation]\ndownload_mbps = inf\n"),
            "simulation.download_mbps: must be a finite number of megabits per second (got inf)",
        ),
        (
            format!("{one}[simulation]\nclock = \"virtual\"\n"),
            "simulation.clock: \"virtual\" needs mining = \"simulated\"",
        ),
    ];
    let cases: Vec<(&str, &str)> = cases
        .iter()
        .map(|(text, expected)| (text.as_str(), *expected))
        .collect();
    common::assert_launch_refuses(&cases);
}

#[test]
fn an_eclipsed_node_follows_the_attackers_until_an_honest_node_dials_it() {
    // Six honest miners, two attackers with a seventh of the hash power, and a victim
    // whose every link goes to the attackers; an honest node dials it at 3,000 s.
    let until_ms = 3_000_000;
    let summary = launch(&format!(
        r#"
        [chain]
        target_block_time_ms = 600000
        [simulation]
        mining = "simulated"
        clock = "virtual"
        store = "memory"
        seed = 1
        stop_after_blocks = 12
        topology = "mesh"
        delay_ms = 100
        [simulation.eclipse]
        victim = "v"
        attackers = ["x0", "x1"]
        until_ms = {until_ms}
        [[nodes]]
        name = "v"
        mine = false
        [[simulation.groups]]
        name_prefix = "h"
        count = 6
        [[simulation.groups]]
        name_prefix = "x"
        count = 2
        hash_power = 0.5
        "#
    ));
    let eclipse = summary.eclipse.as_ref().expect("an eclipse summary");
    let before = |prefix: &str| {
        summary
            .finds
            .iter()
            .filter(|find| find.node.starts_with(prefix) && find.at_ms < until_ms)
            .count() as u64
    };
    // The seed must give both sides blocks while the eclipse lasts, or nothing is shown.
    assert!(before("h") > 0 && before("x") > 0, "{summary}");
    // The seed must put the honest chain ahead by then, so that the rescue shows at once.
    let best_before = |prefix: &str| {
        summary
            .finds
            .iter()
            .filter(|find| find.node.starts_with(prefix) && find.at_ms < until_ms)
            .map(|find| find.height)
            .max()
            .unwrap_or(0)
    };
    assert!(best_before("h") > best_before("x"), "{summary}");
    // No honest block reached the victim before the honest node dialed it; then the
    // victim synced the heavier honest chain within a few link delays.
    assert!(eclipse.escaped, "{summary}");
    assert!(eclipse.eclipsed_ms >= until_ms, "{summary}");
    assert!(eclipse.eclipsed_ms < until_ms + 5_000, "{summary}");
    assert!(eclipse.honest_blocks_missed >= before("h"), "{summary}");
    // It was fed every block the attackers found meanwhile, then left their branch.
    assert!(eclipse.attacker_blocks_fed >= before("x"), "{summary}");
    let victim = summary.nodes.iter().find(|node| node.name == "v").unwrap();
    assert!(victim.reorgs >= 1, "{summary}");
    assert_eq!(victim.tip_hash, summary.best_tip.hash, "{summary}");
    assert!(summary
        .to_string()
        .contains("eclipse: v fed by 2 attackers"));
}
