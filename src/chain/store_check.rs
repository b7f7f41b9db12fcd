//! The check of an existing `chain.redb` before it is opened: a damaged, truncated or
//! empty database is refused with a reason, the file left exactly as it was, instead of
//! redb panicking on it, "repairing" it, or a node mining on flipped bytes.
//!
//! redb verifies its pages' checksums only when it recovers from a crash, so a file
//! damaged after a clean shutdown would be read as if it were sound. At every open the
//! check therefore runs redb's own `check_integrity` (every page's checksum, the
//! allocator state) on a [`ScratchBackend`], which reads the file and keeps whatever
//! redb writes in memory. redb 2 still asserts on some malformed files (a truncated one,
//! garbage appended) instead of returning an error; those panics happen inside the check,
//! against the scratch copy, and are caught there and reported as the reason. Nothing
//! else of the store's code catches panics: once the check passed, the database opened
//! for real is one redb reads without trouble.

use super::scratch_backend::ScratchBackend;
use super::store::{in_use_error, StoreError, CACHE_BYTES};
use redb::backends::FileBackend;
use redb::{Builder, DatabaseError};
use std::any::Any;
use std::cell::Cell;
use std::fs::File;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;
use std::time::{Duration, Instant};

/// Most bytes redb may write (into memory) while checking: its recovery flag, a repair's
/// allocator state. A database of tens of gigabytes writes a few megabytes.
const MAX_SCRATCH_BYTES: u64 = 64 << 20;

/// A check that takes at least this long is logged at info: the start of a node with a
/// store of gigabytes pauses for it (about 1 ms per MB).
const NOTICEABLE_CHECK: Duration = Duration::from_secs(1);

/// Checks the database at `path`, which exists, without changing it.
pub fn check_existing(path: &Path) -> Result<(), StoreError> {
    let damaged = |reason: String| StoreError::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|error| damaged(format!("it cannot be read: {error}")))?;
    let metadata = file
        .metadata()
        .map_err(|error| damaged(format!("it cannot be read: {error}")))?;
    if metadata.is_dir() {
        return Err(damaged("it is a directory".into()));
    }
    if metadata.len() == 0 {
        return Err(damaged(
            "it is empty (0 bytes), and a node starts a new chain only where there is no \
             chain.redb"
                .into(),
        ));
    }
    let file = FileBackend::new(file).map_err(|error| match error {
        DatabaseError::DatabaseAlreadyOpen => in_use_error(path),
        error => damaged(format!("it cannot be read: {error}")),
    })?;
    let scratch = ScratchBackend::new(file, MAX_SCRATCH_BYTES)
        .map_err(|error| damaged(format!("it cannot be read: {error}")))?;
    let started = Instant::now();
    let checked = catching_panics(move || {
        let mut db = Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(scratch)?;
        db.check_integrity()
    });
    match checked {
        Ok(Ok(true)) => {
            // A check a person waits for is worth a line at info; a quick one is a detail,
            // and must not stand before a refusal's one-line error (a node started with
            // the wrong parameters on sound data prints only that error).
            let elapsed = started.elapsed();
            let level = if elapsed >= NOTICEABLE_CHECK {
                log::Level::Info
            } else {
                log::Level::Debug
            };
            log::log!(
                level,
                "{}: integrity checked ({} MB in {} ms)",
                path.display(),
                metadata.len() >> 20,
                elapsed.as_millis()
            );
            Ok(())
        }
        Ok(Ok(false)) => Err(damaged(
            "redb's integrity check finds damage it would have to repair".into(),
        )),
        Ok(Err(error)) => Err(damaged(format!("redb finds it damaged: {error}"))),
        Err(panic) => Err(damaged(format!("redb cannot read it: {panic}"))),
    }
}

thread_local! {
    /// Whether this thread is inside [`catching_panics`], whose panics are reported as
    /// errors rather than printed.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, turning a panic into its message. The panic hook stays quiet for panics
/// caught here (the message becomes part of an error line instead) and prints every
/// other panic as before.
fn catching_panics<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    CATCHING.with(|catching| catching.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|catching| catching.set(false));
    result.map_err(|payload| panic_message(payload.as_ref()))
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let message = if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "it panicked".to_string()
    };
    // One line, as every error line is.
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_becomes_its_message_on_one_line() {
        let caught = catching_panics(|| -> u8 { panic!("assertion failed:\n  left: 1") });
        assert_eq!(caught, Err("assertion failed: left: 1".to_string()));
        assert_eq!(catching_panics(|| 5), Ok(5));
        assert!(!CATCHING.with(Cell::get));
    }
}
