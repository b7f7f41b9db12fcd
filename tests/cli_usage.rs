//! The binary's exit codes for command lines (the book's Operating › Failures and exit
//! codes): one that does not parse exits 2 with one line on stderr naming the offending
//! argument; `--help` and `--version` exit 0. Clap's wording is not asserted, only what a
//! script relies on.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_ironchain");

fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(BINARY)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_command_line_that_does_not_parse_exits_2_naming_the_argument() {
    let cases: [(&[&str], &str); 7] = [
        (&["--port", "99999"], "--port"),
        (&["--port", "not-a-port"], "not-a-port"),
        (
            &[
                "send", "--key", "k", "--to", "x", "--fee", "1", "--amount", "-5",
            ],
            "--amount",
        ),
        // 2^64: out of range before any node is asked (no --node is reachable here).
        (
            &[
                "send",
                "--key",
                "k",
                "--to",
                "x",
                "--fee",
                "1",
                "--amount",
                "18446744073709551616",
                "--node",
                "127.0.0.1:9",
            ],
            "--amount",
        ),
        (&["send", "--key", "k"], "--to"),
        (&["--no-such-flag"], "--no-such-flag"),
        // Decimals are checked before the supply that is read with them (before, this
        // was "--supply 1: amount does not fit in a 64-bit integer").
        (
            &[
                "token",
                "issue",
                "--symbol",
                "GOLD",
                "--supply",
                "1",
                "--decimals",
                "25",
                "--key",
                "k",
                "--fee",
                "2",
            ],
            "--decimals",
        ),
    ];
    for (args, named) in cases {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "{args:?}: {stderr:?} does not name {named}"
        );
        assert!(!stderr.contains("--supply"), "{args:?}: {stderr}");
    }
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["--version"], &["send", "--help"]] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
    }
}
