//! Counts the peer messages delivered on this thread. A virtual-time launch runs every
//! node on one thread, so there the count is the launch's number of events (messages
//! delivered), from which its speed in events per wall second is measured (the book's
//! Benchmarks chapter); elsewhere nobody reads it. A thread-local counter rather than a
//! message to some actor: it costs one increment per message on the hottest path.

use std::cell::Cell;

thread_local! {
    static DELIVERED: Cell<u64> = const { Cell::new(0) };
}

/// Notes one message delivered to a connection on this thread.
pub fn count_one() {
    DELIVERED.with(|count| count.set(count.get().saturating_add(1)));
}

/// Messages delivered on this thread so far.
pub fn so_far() -> u64 {
    DELIVERED.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_thread() {
        let before = so_far();
        count_one();
        count_one();
        assert_eq!(so_far(), before + 2);
        let other = std::thread::spawn(so_far).join().unwrap();
        assert_eq!(other, 0);
    }
}
