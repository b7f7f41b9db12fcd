//! Launches of real nodes on loopback (issue 5), with simulated mining and short block
//! times so each run takes a few seconds: a partition heals onto the heavier branch,
//! `summary.json` has its documented fields and agrees with the nodes' own stores, the
//! same seed gives the same block finders, and the command line reports bad configs in
//! one line. (That large delays make stale blocks is tested in virtual time, in
//! `launch_virtual.rs`: in real time it depended on the machine's scheduling.)

use ironchain::chain::mempool::MempoolLimits;
use ironchain::chain::Chain;
use ironchain::consensus::hash::BlockHash;
use ironchain::launch::{run, LaunchPlan, RunOptions, Summary};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Runs `config` to completion in a fresh directory.
async fn launch(config: &str) -> (Summary, LaunchPlan, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let plan = LaunchPlan::from_toml("launch-test.toml", config).expect("a valid config");
    let options = RunOptions {
        run_dir: dir.path().join("run"),
        announce: false,
        progress: false,
        page: None,
    };
    let summary = run(&plan, &options, std::future::pending())
        .await
        .expect("the launch runs");
    (summary, plan, dir)
}

fn node_dir(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join("run").join(format!("node-{name}"))
}

/// A node's chain, read back from its store after the run.
fn open_chain(path: &Path, plan: &LaunchPlan) -> Chain {
    Chain::open(path, plan.params.clone(), MempoolLimits::default()).expect("store opens")
}

#[actix_rt::test]
async fn partition_heals_onto_the_heavier_branch_and_orphaned_transfers_return() {
    // West has three times the east's hash power; 2 s apart at 100 ms blocks leaves it
    // about ten blocks ahead when the links come back.
    let (summary, plan, dir) = launch(
        r#"
        [chain]
        target_block_time_ms = 100
        [simulation]
        mining = "simulated"
        seed = 3
        duration_ms = 4000
        delay_ms = 5
        [[simulation.partitions]]
        groups = [["w1", "w2"], ["e1", "e2"]]
        start_ms = 300
        heal_ms = 2300
        [[simulation.accounts]]
        name = "carol"
        balance = 1000
        [[simulation.accounts]]
        name = "bob"
        balance = 1
        [[simulation.transfers]]
        at_ms = 600
        node = "e1"
        from = "carol"
        to = "bob"
        amount = 5
        fee = 1
        count = 4
        every_ms = 300
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
        "#,
    )
    .await;
    assert!(summary.converged, "{summary}");
    let tips = &summary.partitions[0].tips_at_heal;
    assert_eq!(tips.len(), 2, "{summary}");
    let (heavier, lighter) = if tips[0].height > tips[1].height {
        (&tips[0], &tips[1])
    } else {
        (&tips[1], &tips[0])
    };
    assert!(heavier.height > lighter.height, "{summary}");
    // Every block has the same work here, so more work is a greater height.
    let heavier_hash: BlockHash = heavier.hash.parse().unwrap();
    let lighter_hash: BlockHash = lighter.hash.parse().unwrap();
    for node in &summary.nodes {
        let chain = open_chain(&node_dir(&dir, &node.name), &plan);
        let on_chain = |height, hash| {
            chain
                .block_at(height)
                .unwrap()
                .is_some_and(|block| block.hash() == hash)
        };
        assert!(
            on_chain(heavier.height, heavier_hash),
            "{} left the heavier branch",
            node.name
        );
        assert!(!on_chain(lighter.height, lighter_hash), "{}", node.name);
    }
    for east in summary
        .nodes
        .iter()
        .filter(|node| node.name.starts_with('e'))
    {
        assert!(east.max_reorg_depth >= 1, "{} never reorged", east.name);
    }
    let transfers = &summary.transactions;
    assert_eq!(transfers.accepted, 4, "{summary}");
    assert!(
        transfers.in_stale_blocks >= 1,
        "no transfer was orphaned: {summary}"
    );
}

#[actix_rt::test]
async fn a_run_that_ends_during_a_partition_stops_mining_at_its_end() {
    // The halves can never agree, so mining on "until they agree" would only add stale
    // blocks until the settle limit (5 s here).
    let (summary, _, _dir) = launch(
        r#"
        [chain]
        target_block_time_ms = 50
        [simulation]
        mining = "simulated"
        seed = 4
        duration_ms = 1500
        delay_ms = 5
        [[simulation.partitions]]
        groups = [["a"], ["b"]]
        start_ms = 0
        [[nodes]]
        name = "a"
        peers = ["b"]
        [[nodes]]
        name = "b"
        "#,
    )
    .await;
    assert!(!summary.finds.is_empty(), "{summary}");
    // Slack for the stop to reach the miners; settling would add seconds of finds.
    let last_allowed = summary.elapsed_ms + 1_000;
    for find in &summary.finds {
        let scheduled = find.scheduled_ms.expect("simulated finds are scheduled");
        assert!(
            scheduled <= last_allowed,
            "a find scheduled at {scheduled} ms, after the run's end at {} ms: {summary}",
            summary.elapsed_ms
        );
    }
}

#[actix_rt::test]
async fn summary_json_has_its_fields_and_agrees_with_the_nodes_stores() {
    let (summary, plan, dir) = launch(
        r#"
        [chain]
        target_block_time_ms = 100
        [simulation]
        mining = "simulated"
        seed = 9
        stop_after_blocks = 25
        delay_ms = 60
        jitter_ms = 40
        [[simulation.links]]
        from = "a"
        to = "c"
        delay_ms = 120
        [[nodes]]
        name = "a"
        peers = ["b", "c"]
        [[nodes]]
        name = "b"
        peers = ["c"]
        [[nodes]]
        name = "c"
        hash_power = 2.0
        "#,
    )
    .await;
    let text = std::fs::read_to_string(dir.path().join("run").join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).expect("summary.json is JSON");
    let nodes = json["nodes"].as_array().expect("a nodes list");
    assert_eq!(nodes.len(), 3);
    for node in nodes {
        for field in ["name", "tip_hash"] {
            assert!(node[field].is_string(), "nodes[].{field} in {node}");
        }
        for field in ["height", "mined", "stale", "reorgs", "max_reorg_depth"] {
            assert!(node[field].is_u64(), "nodes[].{field} in {node}");
        }
    }
    assert!(json["stale_rate"].is_f64());
    assert!(json["converged"].is_boolean());
    for field in ["p50", "p90", "p99", "max"] {
        assert!(
            json["propagation_ms"][field].is_f64(),
            "propagation_ms.{field}"
        );
    }
    let parsed: Summary = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, summary);

    // Each node's stale count and tip are its own store's; the network's stale blocks are
    // the union of the stores off the best chain.
    let mut union: HashMap<BlockHash, (BlockHash, u64)> = HashMap::new();
    let mut best_tip = None;
    for node in &summary.nodes {
        let chain = open_chain(&node_dir(&dir, &node.name), &plan);
        let index = chain.index();
        let off_active = index
            .entries()
            .filter(|entry| !index.is_active(&entry.hash))
            .count() as u64;
        assert_eq!(node.stale, off_active, "node {}", node.name);
        assert_eq!(node.tip_hash, chain.tip().hash.to_string());
        assert_eq!(node.height, chain.tip().height);
        for entry in index.entries() {
            union.insert(entry.hash, (entry.header.prev, entry.header.height));
        }
        if node.tip_hash == summary.best_tip.hash {
            best_tip = Some(chain.tip().hash);
        }
    }
    let mut best_chain = HashSet::new();
    let mut cursor = best_tip.expect("some node is on the best tip");
    loop {
        best_chain.insert(cursor);
        match union.get(&cursor) {
            Some((prev, height)) if *height > 0 => cursor = *prev,
            _ => break,
        }
    }
    assert_eq!(summary.blocks_mined, union.len() as u64 - 1);
    assert_eq!(summary.stale, (union.len() - best_chain.len()) as u64);
    let mined: u64 = summary.nodes.iter().map(|node| node.mined).sum();
    assert_eq!(mined, summary.blocks_mined);
    let expected_rate = summary.stale as f64 / summary.blocks_mined as f64;
    assert!((summary.stale_rate - expected_rate).abs() < 1e-12);
}

#[actix_rt::test]
async fn the_same_seed_gives_the_same_block_finders() {
    const FINDS: usize = 10;
    let config = |seed: u64| {
        format!(
            r#"
            [chain]
            target_block_time_ms = 300
            [simulation]
            mining = "simulated"
            seed = {seed}
            stop_after_blocks = {FINDS}
            topology = "mesh"
            [[nodes]]
            name = "a"
            [[nodes]]
            name = "b"
            hash_power = 2.0
            [[nodes]]
            name = "c"
            "#
        )
    };
    // Which node finds each block depends only on the draws. Which height it finds is
    // the network's doing: with no two finds closer than a propagation time, every find
    // extends the one before. So take a seed whose first finds are 150 ms apart or more.
    let draws = |seed: u64| {
        LaunchPlan::from_toml("t.toml", &config(seed))
            .unwrap()
            .first_finds(FINDS + 1)
    };
    let seed = (0..10_000u64)
        .find(|&seed| {
            draws(seed)
                .windows(2)
                .all(|pair| pair[1].0 - pair[0].0 >= Duration::from_millis(150))
        })
        .expect("some seed spaces its finds");
    let names = ["a", "b", "c"];
    let expected: Vec<(String, u64)> = draws(seed)[..FINDS]
        .iter()
        .enumerate()
        .map(|(k, (_, node))| (names[*node].to_string(), k as u64 + 1))
        .collect();

    let text = config(seed);
    let ((first, _, _d1), (second, _, _d2)) = futures::join!(launch(&text), launch(&text));
    let finders = |summary: &Summary| -> Vec<(String, u64)> {
        summary
            .finds
            .iter()
            .take(FINDS)
            .map(|find| (find.node.clone(), find.height))
            .collect()
    };
    assert_eq!(finders(&first), expected);
    assert_eq!(finders(&second), expected);
    let other: Vec<usize> = draws(seed + 1).iter().map(|(_, node)| *node).collect();
    let ours: Vec<usize> = draws(seed).iter().map(|(_, node)| *node).collect();
    assert_ne!(ours, other, "another seed draws other finders");
}

#[test]
fn the_command_line_reports_a_bad_config_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[nodes]]\nname = \"a\"\n[[simulation.links]]\nfrom = \"a\"\nto = \"zz\"\ndelay_ms = 5\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.toml");
    for (file, expected) in [
        (&bad, "simulation.links[0].to: unknown node \"zz\""),
        (&missing, "cannot read"),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ironchain"))
            .arg("launch")
            .arg(file)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// A launch stopped by SIGTERM (what `docker stop` and supervisors send) ends as Ctrl-C
/// does: the nodes stop, the summary is printed and written, and the status is
/// 128 + the signal (143), which says the run was cut short. Before, SIGTERM killed the
/// process outright: no summary, no exit code.
#[test]
fn sigterm_stops_a_launch_as_ctrl_c_does_and_writes_its_summary() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("long.toml");
    std::fs::write(
        &config,
        "[chain]\ntarget_block_time_ms = 200\n\n\
         [simulation]\nmining = \"simulated\"\nduration_ms = 600000\n\n\
         [[nodes]]\nname = \"a\"\nport = 0\n\n\
         [[nodes]]\nname = \"b\"\nport = 0\npeers = [\"a\"]\n",
    )
    .unwrap();
    let run_dir = dir.path().join("run");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ironchain"))
        .arg("launch")
        .arg(&config)
        .arg("--run-dir")
        .arg(&run_dir)
        .args(["--quiet", "--no-http"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = stdout
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("mining starts now"));
    assert!(started, "the launch ended before its mining started");
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // The rest of its output; the pipe ends when the process does.
    let rest: Vec<String> = stdout.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{status}; output {rest:?}");
    assert!(
        rest.iter().any(|line| line.contains("summary written to")),
        "{rest:?}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stopped_by"], "interrupt");
}

/// A launch whose chains live in memory says so instead of naming a data directory that
/// is never written, and its mining nodes need no miner key file there (before, such a
/// run in real time failed at start: "directory …/node-a does not exist"). The address
/// in the banner has nothing glued to it, so a double-click copies only the address.
#[test]
fn a_memory_launch_names_no_data_directory_and_its_addresses_stand_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("memory.toml");
    std::fs::write(
        &config,
        "[chain]\ntarget_block_time_ms = 50\n\n\
         [simulation]\nmining = \"simulated\"\nstop_after_blocks = 3\nstore = \"memory\"\n\n\
         [[nodes]]\nname = \"a\"\nport = 0\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ironchain"))
        .arg("launch")
        .arg(&config)
        .arg("--run-dir")
        .arg(dir.path().join("run"))
        .args(["--quiet", "--no-http"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let banner = stdout
        .lines()
        .find(|line| line.starts_with("node a"))
        .unwrap_or_else(|| panic!("no banner line in {stdout}"));
    assert!(banner.ends_with(" (chain in memory)"), "{banner}");
    assert!(!stdout.contains("data in"), "{stdout}");
    let addr = banner
        .split_whitespace()
        .nth(4)
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    assert!(
        addr.parse::<std::net::SocketAddr>().is_ok(),
        "{addr:?} in {banner:?} is not an address by itself"
    );
}
