//! The signals that ask a node (or a launch) to stop, all handled as the same clean
//! shutdown: Ctrl-C (SIGINT) at a terminal, SIGTERM from every supervisor (systemd,
//! `docker stop`, `kill`) and SIGHUP when the terminal goes away. Left to their default
//! action, SIGTERM and SIGHUP would end the process on the spot, with the mempool journal
//! and the store closed only by the operating system.

use std::fmt;

/// Which signal asked the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    HangUp,
}

impl StopSignal {
    /// The signal's number (what a shell adds to 128 for the exit status of a process it
    /// ended).
    pub fn number(self) -> i32 {
        match self {
            StopSignal::HangUp => 1,
            StopSignal::Interrupt => 2,
            StopSignal::Terminate => 15,
        }
    }
}

impl fmt::Display for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::HangUp => "SIGHUP",
        })
    }
}

/// Installs the handlers at once and returns a future that resolves with the first stop
/// signal that arrives. Installing before awaiting matters: a signal that arrives while
/// the node is still starting must stop it too, not kill it.
#[cfg(unix)]
pub fn stop_requested() -> std::io::Result<impl std::future::Future<Output = StopSignal>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hang_up = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => StopSignal::Interrupt,
            _ = terminate.recv() => StopSignal::Terminate,
            _ = hang_up.recv() => StopSignal::HangUp,
        }
    })
}

/// Elsewhere only Ctrl-C exists.
#[cfg(not(unix))]
pub fn stop_requested() -> std::io::Result<impl std::future::Future<Output = StopSignal>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            futures::future::pending::<()>().await;
        }
        StopSignal::Interrupt
    })
}
