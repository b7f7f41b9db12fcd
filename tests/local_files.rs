//! Damaged local files fail loudly and change nothing (issue 22, class 6). The binary
//! starts on a data directory whose `chain.redb` is truncated, has garbage appended,
//! has flipped bytes or is empty, or whose `miner.key` or `mempool.dat` is a huge sparse
//! file. In each case the node exits with code 1 and one `error:` line naming the file
//! and the reason, it never listens (so it never mines on the damage or starts a new
//! chain over it), `ironchain verify` refuses the store the same way without
//! panicking, and the damaged file is byte for byte what it was.

mod common;

use common::spawn_binary;
use ironchain::consensus::address::Address;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ironchain");
const DEADLINE: Duration = Duration::from_secs(60);
/// The huge files are sparse: this size costs no disk.
const HUGE_FILE_BYTES: u64 = 4 << 30;
/// Address space the node may use when it meets a huge file: half the file, so the node
/// can pass only by refusing the file unread (reading it whole cannot even be tried).
/// A node that does not mine on more than one thread needs about a tenth of it.
const ADDRESS_SPACE_KB: u64 = (HUGE_FILE_BYTES / 2) >> 10;

/// A data directory with a cleanly stopped chain of 30 mined blocks, made once and
/// copied by each test, and the config it was made with.
struct Mined {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

fn mined() -> &'static Mined {
    static MINED: OnceLock<Mined> = OnceLock::new();
    MINED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("chain.toml");
        std::fs::write(
            &config,
            "[chain]\npow_limit_bits = 0\ninitial_difficulty_bits = 4\n\
             target_block_time_ms = 2\nretarget_interval = 10\n",
        )
        .unwrap();
        let data = dir.path().join("data");
        let (mut child, lines) = spawn_binary([
            "--port".as_ref(),
            "0".as_ref(),
            "--no-http".as_ref(),
            "--miner-threads".as_ref(),
            "1".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            "--data-dir".as_ref(),
            data.as_os_str(),
        ]);
        let deadline = Instant::now() + DEADLINE;
        let mut mined_30 = false;
        while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if line.contains("block mined: height 30 ") {
                mined_30 = true;
                break;
            }
        }
        assert!(mined_30, "the node did not mine 30 blocks");
        let stopped = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
        // A clean stop: the store closed as a node closes it, with nothing to recover.
        assert!(child.wait().unwrap().success());
        Mined {
            _dir: dir,
            data,
            config,
        }
    })
}

/// A copy of the mined data directory in `dir`, damaged by `damage`.
fn damaged_copy(dir: &Path, damage: impl FnOnce(&Path)) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    for entry in std::fs::read_dir(&mined().data).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), data.join(entry.file_name())).unwrap();
    }
    damage(&data);
    data
}

/// What the node did on `data`: it exited (with its status and last line) or it
/// reached "listening on" (and was killed: it would have served and mined).
enum Start {
    Exited { code: Option<i32>, last: String },
    Listened,
}

/// Starts the node on `data`, under an address-space limit of `address_space_kb` if
/// given (through bash's `ulimit -v`), and waits until it exits or listens.
fn start_node(data: &Path, address_space_kb: Option<u64>) -> Start {
    let config = mined().config.to_str().unwrap().to_string();
    let data = data.to_str().unwrap().to_string();
    let node_args = [
        "--port",
        "0",
        "--no-http",
        "--miner-threads",
        "1",
        "--config",
        &config,
        "--data-dir",
        &data,
    ];
    let (mut child, lines) = match address_space_kb {
        Some(kb) => {
            let mut args = vec![
                "-c".to_string(),
                format!("ulimit -v {kb}; exec \"$0\" \"$@\""),
                BIN.to_string(),
            ];
            args.extend(node_args.iter().map(|arg| arg.to_string()));
            let mut child = Command::new("bash")
                .args(&args)
                .env("RUST_LOG", "info")
                // Each thread's malloc arena reserves address space; two are plenty.
                .env("MALLOC_ARENA_MAX", "2")
                .stderr(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let lines = common::log_lines(child.stderr.take().unwrap());
            (child, lines)
        }
        None => spawn_binary(node_args),
    };
    let deadline = Instant::now() + DEADLINE;
    let mut last = String::new();
    loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) if line.contains("listening on ") => {
                let _ = child.kill();
                let _ = child.wait();
                return Start::Listened;
            }
            Ok(line) => last = line,
            Err(_) => {}
        }
        if let Some(status) = child.try_wait().unwrap() {
            while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
                last = line;
            }
            return Start::Exited {
                code: status.code(),
                last,
            };
        }
        assert!(
            Instant::now() < deadline,
            "the node neither exited nor listened"
        );
    }
}

/// Asserts the node refused `data` with exit code 1 and a last line starting with
/// `error:` and containing each of `reasons`.
fn assert_refused(data: &Path, address_space_kb: Option<u64>, reasons: &[&str]) {
    match start_node(data, address_space_kb) {
        Start::Listened => panic!("the node started on {}", data.display()),
        Start::Exited { code, last } => {
            assert_eq!(code, Some(1), "{last}");
            assert!(last.starts_with("error: "), "{last}");
            for reason in reasons {
                assert!(last.contains(reason), "{reason:?} not in {last}");
            }
        }
    }
}

fn verify(data: &Path) -> Output {
    Command::new(BIN)
        .args(["verify", "--data-dir"])
        .arg(data)
        .arg("--config")
        .arg(&mined().config)
        .output()
        .unwrap()
}

/// Asserts `verify` refuses `data` with exit code 1, one `error:` line containing each
/// of `reasons`, and no panic.
fn assert_verify_refuses(data: &Path, reasons: &[&str]) {
    let output = verify(data);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: verify "), "{stderr}");
    for reason in reasons {
        assert!(stderr.contains(reason), "{reason:?} not in {stderr}");
    }
}

/// The node and `verify` both refuse `data` (its chain.redb damaged), name the file
/// and `reason`, give the advice, and leave the file byte for byte as it was.
fn assert_store_refused(data: &Path, reason: &str) {
    let store = data.join("chain.redb");
    let before = std::fs::read(&store).unwrap();
    let named = format!("{} cannot be used: {reason}", store.display());
    assert_refused(
        data,
        None,
        &[
            &named,
            "it was left as it is",
            "run `ironchain verify --data-dir",
        ],
    );
    assert_verify_refuses(data, &[&named, "restore it from a backup"]);
    assert!(
        std::fs::read(&store).unwrap() == before,
        "chain.redb was changed"
    );
}

#[test]
fn a_truncated_store_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = damaged_copy(dir.path(), |data| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(data.join("chain.redb"))
            .unwrap();
        let size = file.metadata().unwrap().len();
        file.set_len(size / 2).unwrap();
    });
    assert_store_refused(&data, "redb cannot read it");
}

#[test]
fn a_store_with_garbage_appended_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = damaged_copy(dir.path(), |data| {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("chain.redb"))
            .unwrap();
        let garbage: Vec<u8> = (0..1 << 20)
            .map(|i: u32| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        file.write_all(&garbage).unwrap();
    });
    assert_store_refused(&data, "redb cannot read it");
}

/// One byte flipped in each copy of the miner's address: its account (read at start)
/// and its blocks (not read at start). Without the check the node mines on them.
#[test]
fn flipped_bytes_are_caught_before_mining_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = damaged_copy(dir.path(), |data| {
        let key: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join("miner.key")).unwrap()).unwrap();
        let address: Address = key["address"].as_str().unwrap().parse().unwrap();
        let needle = address.as_bytes();
        let path = data.join("chain.redb");
        let mut bytes = std::fs::read(&path).unwrap();
        let mut flipped = 0;
        let mut at = 0;
        while let Some(found) = bytes[at..]
            .windows(needle.len())
            .position(|window| window == needle)
        {
            bytes[at + found + 16] ^= 0xff;
            flipped += 1;
            at += found + needle.len();
        }
        assert!(
            flipped >= 2,
            "the miner's address is stored {flipped} times"
        );
        std::fs::write(&path, bytes).unwrap();
    });
    assert_store_refused(&data, "redb finds it damaged");
}

/// Only a missing chain.redb makes a new chain: an empty one is refused.
#[test]
fn an_empty_store_is_refused_not_made_a_new_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = damaged_copy(dir.path(), |data| {
        std::fs::write(data.join("chain.redb"), b"").unwrap();
    });
    assert_store_refused(&data, "it is empty (0 bytes)");
    assert_eq!(std::fs::metadata(data.join("chain.redb")).unwrap().len(), 0);
}

/// Makes `path` a sparse file of [`HUGE_FILE_BYTES`].
fn make_huge(path: &Path) {
    std::fs::File::create(path)
        .unwrap()
        .set_len(HUGE_FILE_BYTES)
        .unwrap();
}

/// Bound: the node runs in [`ADDRESS_SPACE_KB`], half the key file's size, so it must
/// refuse the file by its size without reading it.
#[test]
fn a_huge_miner_key_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let data = damaged_copy(dir.path(), |data| make_huge(&data.join("miner.key")));
    let key = data.join("miner.key");
    assert_refused(
        &data,
        Some(ADDRESS_SPACE_KB),
        &[&format!(
            "key file {}: is {HUGE_FILE_BYTES} bytes, more than the limit of 4096 bytes \
             (not read)",
            key.display()
        )],
    );
    assert_eq!(std::fs::metadata(&key).unwrap().len(), HUGE_FILE_BYTES);
}

/// Bound: as for the key, the node runs in half the journal's size.
#[test]
fn a_huge_mempool_journal_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let data = damaged_copy(dir.path(), |data| make_huge(&data.join("mempool.dat")));
    let journal = data.join("mempool.dat");
    assert_refused(
        &data,
        Some(ADDRESS_SPACE_KB),
        &[
            &format!("{}: is {HUGE_FILE_BYTES} bytes", journal.display()),
            "not one a node wrote; move it away",
        ],
    );
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), HUGE_FILE_BYTES);
}
