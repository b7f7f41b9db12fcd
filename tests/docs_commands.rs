//! The commands the docs show run as written, against the real binary, and print what the
//! docs say they print: the README's first ten minutes and the lessons. A changed command,
//! option, label or message fails here, so the docs cannot drift from the binary.
//!
//! Every ```` ```console ```` block of a tested page is a session, run in order in a fresh
//! directory: `$ COMMAND` lines run with `bash -c` (`ironchain` is the binary under test),
//! the lines after one are its expected output, and `^C` stops the last node started.
//! Expected lines must appear in that order (other lines may come between). Numbers and
//! hex ids in them stand for whatever the run prints (they differ on every run), and
//! `…` for any text; the words, labels and their order are checked. A hex id that the
//! docs then use in a command (`ironchain tx 5b1e04c2`) is replaced by the id the run
//! printed at that place, and so are documented ports.
//!
//! What the test changes, so that it is fast and never collides with anything: a node
//! started with `--port N` binds port 0 (its real port replaces N, and N + 1000 for its
//! explorer, in later commands) with `--data-dir data/node-N`, and one started without
//! `--config` gets a tiny difficulty (`FAST_CHAIN`); client commands without `--node` are
//! pointed at the first node. Everything talks to 127.0.0.1 only.

mod book_common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ironchain");
/// The longest any one documented step may take (a `send --wait` waits for a block).
const STEP_DEADLINE: Duration = Duration::from_secs(90);

/// The chain a node gets when the docs start it without `--config`: blocks in
/// milliseconds, so the README's session takes seconds, not its real ten minutes.
const FAST_CHAIN: &str = "[chain]\n\
    pow_limit_bits = 8\n\
    initial_difficulty_bits = 12\n\
    target_block_time_ms = 200\n\
    retarget_interval = 10\n";

/// Client subcommands that only read, and may be asked again until the chain has got
/// where the docs are.
const READERS: &[&str] = &["tip", "balance", "tx", "block", "peers"];

/// Client subcommands, which take `--node`.
const CLIENTS: &[&str] = &[
    "tip", "balance", "send", "submit", "tx", "block", "peers", "token",
];

#[test]
fn the_readme_first_ten_minutes_run_as_written() {
    run_page("README.md");
}

#[test]
fn lesson_1_a_block_and_its_hash_runs_as_written() {
    run_page("docs/src/lessons/01-a-block-and-its-hash.md");
}

#[test]
fn lesson_2_proof_of_work_runs_as_written() {
    run_page("docs/src/lessons/02-proof-of-work.md");
}

#[test]
fn lesson_3_a_chain_and_its_validation_runs_as_written() {
    run_page("docs/src/lessons/03-a-chain-and-its-validation.md");
}

#[test]
fn lesson_4_signed_transactions_runs_as_written() {
    run_page("docs/src/lessons/04-signed-transactions.md");
}

#[test]
fn lesson_5_forks_and_most_work_runs_as_written() {
    run_page("docs/src/lessons/05-forks-and-most-work.md");
}

/// The pages whose console blocks the tests above run.
const TESTED: &[&str] = &[
    "README.md",
    "docs/src/lessons/01-a-block-and-its-hash.md",
    "docs/src/lessons/02-proof-of-work.md",
    "docs/src/lessons/03-a-chain-and-its-validation.md",
    "docs/src/lessons/04-signed-transactions.md",
    "docs/src/lessons/05-forks-and-most-work.md",
];

/// A ```` ```console ```` block promises a session that runs as shown, so every page that
/// has one must be run above (an illustration that is not run is a ```` ```text ```` block).
#[test]
fn every_console_block_is_run() {
    let root = book_common::root();
    let untested: Vec<_> = book_common::pages()
        .iter()
        .filter(|page| {
            std::fs::read_to_string(page)
                .unwrap()
                .contains("```console")
        })
        .map(|page| {
            page.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|page| !TESTED.contains(&page.as_str()))
        .collect();
    assert!(
        untested.is_empty(),
        "console blocks nobody runs: {untested:?}"
    );
}

/// The steps of a page's console blocks.
#[derive(Debug)]
enum Step {
    Run {
        command: String,
        expected: Vec<String>,
    },
    Interrupt {
        expected: Vec<String>,
    },
}

fn steps(page: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut in_console = false;
    for line in page.lines() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_console = !in_console && fence.trim_start_matches('`').trim() == "console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step::Run {
                command: command.to_string(),
                expected: Vec::new(),
            });
        } else if line.trim() == "^C" {
            steps.push(Step::Interrupt {
                expected: Vec::new(),
            });
        } else if !line.trim().is_empty() {
            match steps.last_mut() {
                Some(Step::Run { expected, .. } | Step::Interrupt { expected }) => {
                    expected.push(line.to_string())
                }
                None => panic!("output before any command: {line}"),
            }
        }
    }
    steps
}

fn run_page(relative: &str) {
    let root = book_common::root();
    let page = std::fs::read_to_string(root.join(relative)).unwrap();
    let steps = steps(&page);
    assert!(
        steps.iter().any(|s| matches!(s, Step::Run { .. })),
        "{relative} has no console block to run"
    );
    let mut session = Session::new(root);
    for step in &steps {
        match step {
            Step::Run { command, expected } => session.run(command, expected, relative),
            Step::Interrupt { expected } => session.interrupt(expected, relative),
        }
    }
}

/// One text fragment of an expected line.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(char),
    /// `…`: any text.
    Any,
    /// A run of digits shown in the docs: matches any run of digits.
    Number(String),
    /// A hex id (8 or more hex digits) shown in the docs: matches any hex run.
    Hex(String),
}

fn pieces(expected: &str) -> Vec<Piece> {
    let chars: Vec<char> = squeeze(expected).chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let hex_run = chars[at..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            .count();
        let digit_run = chars[at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let starts_word = at == 0 || !chars[at - 1].is_ascii_alphanumeric();
        // An address: `ic` (or `icm` for a policy) and its hex digits.
        let prefix = ["icm", "ic"]
            .into_iter()
            .find(|p| chars[at..].iter().take(p.len()).copied().eq(p.chars()))
            .filter(|p| {
                let hex = chars[at + p.len()..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                    .count();
                starts_word && hex >= 8
            });
        if let Some(prefix) = prefix {
            out.extend(prefix.chars().map(Piece::Text));
            at += prefix.len();
            let hex_run = chars[at..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                .count();
            out.push(Piece::Hex(chars[at..at + hex_run].iter().collect()));
            at += hex_run;
            if chars.get(at) == Some(&'…') {
                at += 1;
            }
        } else if starts_word && hex_run >= 8 {
            out.push(Piece::Hex(chars[at..at + hex_run].iter().collect()));
            at += hex_run;
            if chars.get(at) == Some(&'…') {
                at += 1;
            }
        } else if starts_word && digit_run > 0 {
            out.push(Piece::Number(chars[at..at + digit_run].iter().collect()));
            at += digit_run;
        } else if chars[at] == '…' {
            out.push(Piece::Any);
            at += 1;
        } else {
            out.push(Piece::Text(chars[at]));
            at += 1;
        }
    }
    out
}

/// Whitespace runs as one space, trimmed: column alignment is not what the docs promise.
fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Matches `line` against `pieces`, returning what each number and hex piece stood for.
fn matches(pieces: &[Piece], line: &[char]) -> Option<Vec<(String, String)>> {
    let Some((first, rest)) = pieces.split_first() else {
        return line.is_empty().then(Vec::new);
    };
    let run = |accept: fn(&char) -> bool, shown: &String| {
        let longest = line.iter().take_while(|c| accept(c)).count();
        (1..=longest).rev().find_map(|length| {
            let mut found = matches(rest, &line[length..])?;
            found.push((shown.clone(), line[..length].iter().collect()));
            Some(found)
        })
    };
    match first {
        Piece::Text(c) => (line.first() == Some(c))
            .then(|| matches(rest, &line[1..]))
            .flatten(),
        Piece::Any => (0..=line.len()).find_map(|skip| matches(rest, &line[skip..])),
        Piece::Number(shown) => run(|c| c.is_ascii_digit(), shown),
        Piece::Hex(shown) => run(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase(), shown),
    }
}

/// The lines a process printed, read as they come.
type Lines = Arc<Mutex<Vec<String>>>;

fn collect(stream: impl std::io::Read + Send + 'static, into: &Lines) {
    let into = Arc::clone(into);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            into.lock().unwrap().push(line);
        }
    });
}

struct Node {
    child: Child,
    lines: Lines,
    /// Lines already matched: expected lines are looked for after these.
    seen: usize,
}

struct Session {
    dir: tempfile::TempDir,
    /// Values the docs showed, with what this run printed in their place.
    shown: Vec<(String, String)>,
    nodes: Vec<Node>,
    /// The documented port of the first node: where client commands go.
    first_port: Option<String>,
    env: Vec<(String, String)>,
}

impl Session {
    fn new(root: &Path) -> Session {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(root.join("config"), dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join("fast-chain.toml"), FAST_CHAIN).unwrap();
        let bin_dir = Path::new(BIN).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Session {
            dir,
            shown: Vec::new(),
            nodes: Vec::new(),
            first_port: None,
            env: vec![("PATH".into(), path), ("RUST_LOG".into(), "info".into())],
        }
    }

    /// What this run printed where the docs showed `value`, if known yet.
    fn actual(&self, value: &str) -> Option<&str> {
        self.shown
            .iter()
            .find(|(shown, _)| shown == value)
            .map(|(_, actual)| actual.as_str())
    }

    fn learn(&mut self, found: Vec<(String, String)>) {
        for (shown, actual) in found {
            if self.actual(&shown).is_none() {
                self.shown.push((shown, actual));
            }
        }
    }

    /// The command with documented ids and ports (`127.0.0.1:PORT`) replaced by this run's.
    fn substitute(&self, command: &str) -> String {
        command
            .split(' ')
            .map(|word| {
                if let Some((before, after)) = word.split_once("127.0.0.1:") {
                    let port: String = after.chars().take_while(char::is_ascii_digit).collect();
                    if let Some(actual) = self.actual(&port) {
                        let rest = &after[port.len()..];
                        return format!("{before}127.0.0.1:{actual}{rest}");
                    }
                }
                let hex = word.len() >= 8 && word.chars().all(|c| c.is_ascii_hexdigit());
                match self.actual(word) {
                    Some(actual) if hex && actual.len() >= word.len() => {
                        actual[..word.len()].to_string()
                    }
                    _ => word.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn run(&mut self, command: &str, expected: &[String], page: &str) {
        let words: Vec<&str> = command.split_whitespace().collect();
        if words.first() == Some(&"ironchain") && words.get(1).is_some_and(|w| w.starts_with('-')) {
            return self.start_node(&words[1..], expected, page);
        }
        let mut command = self.substitute(command);
        if words.first() == Some(&"ironchain")
            && words.get(1).is_some_and(|w| CLIENTS.contains(w))
            && !words.contains(&"--node")
        {
            let port = self
                .first_port
                .clone()
                .expect("a client command before any node");
            let actual = self.actual(&port).unwrap().to_string();
            command = format!("{command} --node 127.0.0.1:{actual}");
        }
        let (variable, command) = match command.split_once("=$(") {
            Some((name, rest)) if name.chars().all(|c| c.is_ascii_uppercase()) => {
                (Some(name.to_string()), format!("printf %s \"$({rest}\""))
            }
            _ => (None, command),
        };
        // What only reads the chain may be asked again until the chain has got there
        // (a reader of the docs waits for the block the docs talk about); nothing else is
        // run twice.
        let reads = words.first() == Some(&"curl")
            || (words.first() == Some(&"ironchain")
                && words.get(1).is_some_and(|w| READERS.contains(w)));
        let deadline = Instant::now() + STEP_DEADLINE;
        let output = loop {
            match self.execute(&command, expected, page) {
                Ok(output) => break output,
                Err(failure) if !reads || Instant::now() > deadline => panic!("{failure}"),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        };
        if let Some(name) = variable {
            self.env.push((name, output.join("\n")));
        }
    }

    /// Runs `command` once; its output if it exited as the docs say and printed what they
    /// show, else why not.
    fn execute(
        &mut self,
        command: &str,
        expected: &[String],
        page: &str,
    ) -> Result<Vec<String>, String> {
        let mut child = Command::new("bash")
            .args(["-c", &format!("{command} 2>&1")])
            .current_dir(self.dir.path())
            .envs(self.env.iter().cloned())
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let lines = Lines::default();
        collect(child.stdout.take().unwrap(), &lines);
        let status = wait(&mut child, STEP_DEADLINE)
            .ok_or_else(|| format!("{page}: `{command}` did not finish"))?;
        // The reader thread ends with the pipe; give it a moment to hand over the lines.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&lines) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let output = lines.lock().unwrap().clone();
        let failure_shown = expected.iter().any(|l| l.starts_with("error:"));
        if status.success() == failure_shown {
            return Err(format!(
                "{page}: `{command}` exited with {status}; it printed:\n{}",
                output.join("\n")
            ));
        }
        let (_, found) = find_in_order(expected, &output, 0, &self.shown).map_err(|missing| {
            format!(
                "{page}: `{command}` did not print `{missing}`; it printed:\n{}",
                output.join("\n")
            )
        })?;
        self.learn(found);
        Ok(output)
    }

    fn start_node(&mut self, args: &[&str], expected: &[String], page: &str) {
        let mut args: Vec<String> = args.iter().map(|a| self.substitute(a)).collect();
        let port_at = args.iter().position(|a| a == "--port").expect("--port");
        let port = args[port_at + 1].clone();
        args[port_at + 1] = "0".into();
        if !args.iter().any(|a| a == "--data-dir") {
            args.extend(["--data-dir".into(), format!("data/node-{port}")]);
        }
        if !args.iter().any(|a| a == "--config") {
            args.extend(["--config".into(), "fast-chain.toml".into()]);
        }
        if expected.iter().any(|l| l.starts_with("error:")) {
            // A node the docs show refusing to start: it ends at once, like a command.
            let command = format!("ironchain {}", args.join(" "));
            if let Err(failure) = self.execute(&command, expected, page) {
                panic!("{failure}");
            }
            return;
        }
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(self.dir.path())
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Lines::default();
        collect(child.stdout.take().unwrap(), &lines);
        collect(child.stderr.take().unwrap(), &lines);
        self.nodes.push(Node {
            child,
            lines,
            seen: 0,
        });
        // Its real ports, whatever the docs show of them.
        let explorer = (port.parse::<u32>().unwrap() + 1000).to_string();
        let listening = self.await_lines(&["… listening on …".into()], page);
        let actual_port = listening.rsplit(':').next().unwrap().to_string();
        self.shown.push((port.clone(), actual_port));
        let at = "explorer at http://127.0.0.1:";
        if let Some(line) = self.find_line(at) {
            let after = &line[line.find(at).unwrap() + at.len()..];
            let actual: String = after.chars().take_while(char::is_ascii_digit).collect();
            self.shown.push((explorer, actual));
        }
        self.first_port.get_or_insert(port);
        self.nodes.last_mut().unwrap().seen = 0;
        self.await_lines(expected, page);
    }

    /// A line of the last node's output so far that contains `text`.
    fn find_line(&self, text: &str) -> Option<String> {
        let node = self.nodes.last().unwrap();
        let lines = node.lines.lock().unwrap();
        lines.iter().find(|l| l.contains(text)).cloned()
    }

    /// Waits until the last node has printed `expected` in order; returns the last line
    /// matched.
    fn await_lines(&mut self, expected: &[String], page: &str) -> String {
        let deadline = Instant::now() + STEP_DEADLINE;
        loop {
            let node = self.nodes.last_mut().unwrap();
            let lines = node.lines.lock().unwrap().clone();
            match find_in_order(expected, &lines, node.seen, &self.shown) {
                Ok((after, found)) => {
                    node.seen = after;
                    self.learn(found);
                    return lines
                        .get(after.saturating_sub(1))
                        .cloned()
                        .unwrap_or_default();
                }
                Err(missing) => {
                    // Once the node has exited and its output is all read, it is too late.
                    let exited = node.child.try_wait().ok().flatten();
                    if let Some(status) = exited.filter(|_| Arc::strong_count(&node.lines) == 1) {
                        panic!(
                            "{page}: the node exited ({status}) before printing `{missing}`:\n{}",
                            lines.join("\n")
                        );
                    }
                    if Instant::now() > deadline {
                        panic!(
                            "{page}: the node did not print `{missing}` within {STEP_DEADLINE:?}:\n{}",
                            lines.join("\n")
                        );
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn interrupt(&mut self, expected: &[String], page: &str) {
        let node = self.nodes.last_mut().expect("^C with no node running");
        let pid = node.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success());
        let status = wait(&mut node.child, STEP_DEADLINE)
            .unwrap_or_else(|| panic!("{page}: the node did not stop on ^C"));
        assert!(
            status.success(),
            "{page}: the node exited with {status} on ^C"
        );
        self.await_lines(expected, page);
        self.nodes.pop();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }
}

fn wait(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the ids `found` stands for agree with those already seen: an id the docs show
/// twice (block 1's hash, then block 2's parent; or whole, then shortened to a prefix)
/// must be one id in the run too, whole or shortened.
fn consistent<'a>(
    found: &[(String, String)],
    known: impl Iterator<Item = &'a (String, String)> + Clone,
) -> bool {
    found.iter().all(|(shown, actual)| {
        let is_id = shown.len() >= 8 && shown.chars().all(|c| c.is_ascii_hexdigit());
        !is_id
            || known.clone().all(|(other, seen)| {
                let other_is_id = other.len() >= 8 && other.chars().all(|c| c.is_ascii_hexdigit());
                let same_id = other_is_id
                    && (other.starts_with(shown.as_str()) || shown.starts_with(other.as_str()));
                !same_id || seen.starts_with(actual.as_str()) || actual.starts_with(seen.as_str())
            })
    })
}

/// Finds `expected` in order among `lines[from..]`: the index after the last match and
/// what the docs' numbers and ids stood for, or the first expected line not found.
fn find_in_order(
    expected: &[String],
    lines: &[String],
    from: usize,
    known: &[(String, String)],
) -> Result<(usize, Vec<(String, String)>), String> {
    let mut at = from;
    let mut found: Vec<(String, String)> = Vec::new();
    for want in expected {
        let pattern = pieces(want);
        let hit = lines[at.min(lines.len())..]
            .iter()
            .enumerate()
            .find_map(|(i, line)| {
                let chars: Vec<char> = squeeze(line).chars().collect();
                matches(&pattern, &chars)
                    .filter(|f| consistent(f, known.iter().chain(&found)))
                    .map(|f| (i, f))
            });
        match hit {
            Some((i, f)) => {
                at += i + 1;
                found.extend(f);
            }
            None => return Err(want.clone()),
        }
    }
    Ok((at, found))
}

#[test]
fn shown_numbers_and_ids_match_any_and_words_must_match() {
    let line = |s: &str| s.chars().collect::<Vec<_>>();
    let pattern = pieces("accepted 5b1e04c2…, waiting for a block…");
    let found = matches(
        &pattern,
        &line("accepted 9f00aa11bb22, waiting for a block…"),
    );
    assert_eq!(
        found,
        Some(vec![("5b1e04c2".to_string(), "9f00aa11bb22".to_string())])
    );
    assert_eq!(
        matches(
            &pattern,
            &line("refused 9f00aa11bb22, waiting for a block…")
        ),
        None
    );
    let pattern = pieces("height 153");
    assert!(matches(&pattern, &line("height 7")).is_some());
    assert!(matches(&pattern, &line("height x")).is_none());
}
